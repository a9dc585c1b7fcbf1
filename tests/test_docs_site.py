"""The documentation site's hooks (docs/hooks.py): README.md and benchmarks/README.md become
pages, and every relative link is rewritten to the site's layout. `make docs` builds the site
itself with --strict (CI runs it); these tests need only MkDocs."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]
HOOKS = runpy.run_path(str(ROOT / "docs" / "hooks.py"))
CONFIG = SimpleNamespace(config_file_path=str(ROOT / "mkdocs.yml"), docs_dir=str(ROOT / "docs"))


def rewrite(markdown: str, page: str) -> str:
    page_obj = SimpleNamespace(file=SimpleNamespace(src_uri=page))
    return HOOKS["on_page_markdown"](markdown, page_obj, CONFIG, None)


def test_readme_links_point_to_the_site_pages():
    md = (
        "See [the gallery](docs/gallery.md#pca-and-a-linear-autoencoder-span-the-same-subspace),"
        " [benchmarks](benchmarks/README.md) and [home](README.md)."
    )
    assert rewrite(md, "index.md") == (
        "See [the gallery](gallery.md#pca-and-a-linear-autoencoder-span-the-same-subspace),"
        " [benchmarks](benchmarks.md) and [home](index.md)."
    )


def test_links_from_pages_in_subfolders_and_from_benchmarks_readme():
    assert rewrite("[models](../api/models.md)", "api/aekit.md") == "[models](models.md)"
    assert (
        rewrite("[bench](../../benchmarks/README.md)", "api/aekit.md")
        == "[bench](../benchmarks.md)"
    )
    # benchmarks/README.md links to ../docs/x.md; as the page benchmarks.md that is x.md.
    assert rewrite("[m](../docs/measurements.md)", "benchmarks.md") == "[m](measurements.md)"


def test_a_source_file_outside_the_site_becomes_its_path_and_a_missing_file_stays_broken():
    assert rewrite("[the Makefile](Makefile)", "index.md") == "the Makefile (`Makefile`)"
    assert rewrite("[`examples/`](examples/)", "index.md") == "`examples`"
    # Left as written, so that `mkdocs build --strict` reports it.
    assert rewrite("[gone](docs/no-such-page.md)", "index.md") == "[gone](no-such-page.md)"


def test_urls_anchors_and_code_blocks_are_left_alone():
    md = "[a](https://example.org/x.md) [b](#here)\n```\n[c](Makefile)\n```\n"
    assert rewrite(md, "index.md") == md


def test_sphinx_roles_are_dropped_from_rendered_docstrings():
    html = "a :class:<code>~aekit.train.Trainer</code> and :func:<code>f</code>"
    assert HOOKS["on_page_content"](html, None, CONFIG, None) == (
        "a <code>aekit.train.Trainer</code> and <code>f</code>"
    )


def test_a_link_whose_text_wraps_onto_the_next_line_is_rewritten():
    md = "see [Using aekit from\nPython](docs/usage.md) and\n```\n[x](docs/usage.md)\n```\n"
    assert rewrite(md, "index.md") == md.replace("](docs/usage.md) and", "](usage.md) and")
