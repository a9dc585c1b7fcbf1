"""Run every gallery example in full and write ``docs/gallery.md`` (what ``make gallery`` does).

Each ``examples/plot_*.py`` runs in its own process on one thread, two at a time (the 2-core
machine's two cores), writing its figure into ``docs/gallery/``. The CPU time of each run is
kept in ``docs/gallery/timings.json``. An example that needs a data set which is absent is
reported as skipped and keeps its previous figure, if any.

The page shows, for each example, its docstring (title and text), its figure and its code.
``--md-only`` rewrites the page from the scripts and the figures already there, without
running anything (after editing a script's text). ``tests/test_examples.py`` checks that the
page is what this script would write.

Usage::

    python examples/build_gallery.py [--jobs 2] [--md-only] [plot_vae plot_rbm_cd ...]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
FIGURES = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
TIMINGS = FIGURES / "timings.json"

INTRO = """\
# Gallery

One short script per idea of the lecture, each drawing one figure from the public API of
aekit, in the spirit of scikit-learn's example gallery. The scripts live in `examples/` of
the source tree; run one from its root with

```bash
python examples/plot_vae.py --out gallery-output          # the full figure
python examples/plot_vae.py --quick --out gallery-output  # a rough one in seconds
```

`make gallery` runs them all in full and rewrites this page; `tests/test_examples.py` runs
each in its quick mode. The two examples on real data (MNIST, 20 Newsgroups) look for it in
`$AEKIT_DATA_DIR` and say so, drawing nothing, when it is absent. Times are the CPU seconds
of each full run on one thread of a 2-core Intel Xeon (`make gallery` runs two at a time).
"""


# The order of the lecture; a script not listed comes after these, by name.
ORDER = (
    "plot_pca_vs_linear_autoencoder",
    "plot_deep_vs_shallow",
    "plot_sparse_autoencoder",
    "plot_denoising_manifold",
    "plot_contractive_vs_weight_decay",
    "plot_rbm_cd",
    "plot_dbn_dbm_samples",
    "plot_mnist_2d_map",
    "plot_document_map",
    "plot_ib_curves",
    "plot_vae",
    "plot_aae_prior",
)


def example_scripts() -> list[Path]:
    """The gallery's scripts, ``examples/plot_*.py``, in the lecture's order."""
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(EXAMPLES.glob("plot_*.py"), key=lambda p: (rank.get(p.stem, len(ORDER)), p.name))


def figure_name(script: Path) -> str:
    """The figure a script writes: ``plot_vae.py`` -> ``vae.png``."""
    return script.stem.removeprefix("plot_") + ".png"


def parse_example(script: Path) -> tuple[str, str, str]:
    """``(title, text, code)``: the docstring's underlined title, the paragraphs below it,
    and the source after the docstring."""
    source = script.read_text()
    module = ast.parse(source)
    docstring = ast.get_docstring(module, clean=True)
    if not docstring:
        raise ValueError(f"{script.name} has no module docstring; start it with a titled one")
    lines = docstring.splitlines()
    if len(lines) < 3 or set(lines[1]) != {"="} or len(lines[1]) < len(lines[0]):
        raise ValueError(
            f"{script.name}: the docstring must open with a title underlined by '=' "
            "(sphinx-gallery style)"
        )
    end = module.body[0].end_lineno  # the docstring's last line
    code = "\n".join(source.splitlines()[end:]).strip() + "\n"
    return lines[0].strip(), "\n".join(lines[2:]).strip(), code


def slug(title: str) -> str:
    """A heading's anchor as GitHub makes it (and the site, whose toc is set to match):
    lower case, punctuation dropped, each space a hyphen."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def render_page(timings: dict[str, float]) -> str:
    """The whole of ``docs/gallery.md``."""
    parts = [INTRO]
    scripts = example_scripts()
    parts.append("| example | script |\n| --- | --- |")
    for script in scripts:
        title, _, _ = parse_example(script)
        parts.append(f"| [{title}](#{slug(title)}) | `examples/{script.name}` |")
    parts.append("")
    for script in scripts:
        title, text, code = parse_example(script)
        figure = figure_name(script)
        seconds = timings.get(script.stem)
        clock = f"; {seconds:.0f} s of CPU time" if seconds is not None else ""
        parts += [
            f"## {title}",
            "",
            text,
            "",
            f"![{title}](gallery/{figure})",
            "",
            f"`python examples/{script.name}`{clock}",
            "",
            '<details markdown="1">',
            f"<summary>The script: examples/{script.name}</summary>",
            "",
            "```python",
            code.rstrip("\n"),
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(parts)


def run_example(script: Path, out: Path) -> tuple[str, float, str]:
    """Run one script in full on one thread: ``(status, cpu_seconds, output)``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, str(script), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = proc.stdout.read().decode(errors="replace")
    # wait4 gives this child's own CPU time, however many examples run beside it.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        return "failed", cpu, output
    skipped = any(line.startswith("skipped:") for line in output.splitlines())
    return ("skipped" if skipped else "written"), cpu, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="examples to run (default: all), e.g. plot_vae")
    parser.add_argument(
        "--jobs", type=int, default=2, help="examples run at once (one thread each)"
    )
    parser.add_argument("--md-only", action="store_true", help="rewrite the page, run nothing")
    args = parser.parse_args(argv)

    scripts = example_scripts()
    if args.names:
        known = {s.stem: s for s in scripts}
        unknown = sorted(set(args.names) - set(known))
        if unknown:
            parser.error(f"unknown examples {unknown}; choose from {sorted(known)}")
        scripts = [known[name] for name in args.names]
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.is_file() else {}
    failed = []
    if not args.md_only:
        FIGURES.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            runs = pool.map(lambda s: (s, *run_example(s, FIGURES)), scripts)
            for script, status, cpu, output in runs:
                print(f"{script.name}: {status} ({cpu:.1f} s CPU)", flush=True)
                if status == "written":
                    timings[script.stem] = round(cpu, 1)
                elif status == "failed":
                    failed.append(script.name)
                    print(output, file=sys.stderr)
                else:
                    print("  " + output.strip().splitlines()[-1])
        print(f"all examples: {time.perf_counter() - start:.0f} s wall")
        TIMINGS.write_text(json.dumps(dict(sorted(timings.items())), indent=2) + "\n")
    PAGE.write_text(render_page(timings))
    print(f"wrote {PAGE.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
