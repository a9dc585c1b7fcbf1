"""The gallery (examples/): every script runs in its quick mode and writes its figure, uses the
public API only, and docs/gallery.md is the page that `make gallery` would write."""

from __future__ import annotations

import ast
import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
# Examples on the reference data sets: skipped, with the script's reason, without them.
REAL_DATA = {"plot_mnist_2d_map", "plot_document_map"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FIGURE_BYTES = 150_000


def gallery():
    """The builder script's functions (examples/ is not a package)."""
    return runpy.run_path(str(EXAMPLES / "build_gallery.py"))


def test_there_is_one_example_per_idea_of_the_lecture():
    names = {s.stem for s in SCRIPTS}
    assert len(names) >= 12, names
    assert REAL_DATA <= names


@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=pytest.mark.realdata) if s.stem in REAL_DATA else s for s in SCRIPTS],
    ids=lambda s: s.stem,
)
def test_example_quick_mode_writes_its_figure(script, tmp_path, capsys, one_thread):
    main = runpy.run_path(str(script))["main"]
    path = main(["--quick", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    if path is None:
        assert script.stem in REAL_DATA, f"{script.name} drew nothing:\n{printed}"
        reason = next(line for line in printed.splitlines() if line.startswith("skipped:"))
        pytest.skip(reason)
    expected = tmp_path / "out" / gallery()["figure_name"](script)
    assert Path(path) == expected
    data = expected.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 10_000 < len(data) < MAX_FIGURE_BYTES  # a drawn figure, and a small one


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.stem)
def test_example_uses_the_public_api_and_has_a_gallery_docstring(script):
    title, text, code = gallery()["parse_example"](script)
    assert title and len(text) > 200, "a title and a paragraph that explains the idea"
    assert "--quick" in code and "--out" in code
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aekit"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private and "._" not in node.module, (
                f"{script.name} imports private names {node.module} {private}"
            )


def test_committed_figures_are_small_pngs_one_per_example():
    figures = EXAMPLES.parent / "docs" / "gallery"
    build = gallery()
    for script in SCRIPTS:
        figure = figures / build["figure_name"](script)
        assert figure.is_file(), f"{figure} missing: run `make gallery`"
        assert figure.read_bytes().startswith(PNG_SIGNATURE)
        assert figure.stat().st_size < MAX_FIGURE_BYTES, f"{figure.name} is too large"


def test_gallery_page_is_current():
    """docs/gallery.md is what `make gallery` writes from today's scripts (after editing an
    example's text, `python examples/build_gallery.py --md-only` rewrites it)."""
    build = gallery()
    timings_file = ROOT / "docs" / "gallery" / "timings.json"
    timings = json.loads(timings_file.read_text())
    assert set(timings) == {s.stem for s in SCRIPTS}, "every example's full run is timed"
    assert max(timings.values()) < 60, "each example runs in under a minute"
    assert (ROOT / "docs" / "gallery.md").read_text() == build["render_page"](timings)
