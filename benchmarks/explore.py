"""The explorer page (``aekit.viz.explore``) for 10,000 MNIST points: its size and the time
headless Chromium takes to show it, against the issue's targets, beside the same scatter drawn
by Bokeh and by Plotly with their scripts inline (what the choice of plotting layer rests on).

Targets (issue 25): a page for 10,000 MNIST points under 15 MB, ready in under 3 s.

Pages, all of the 10,000 MNIST test images (coloured by digit):

- ``aekit-30``: the deep autoencoder of Hinton & Salakhutdinov (2006), 784-1000-500-250-30,
  PCA of its codes; the decoder's 1.4M float32 weights inlined (reconstructions and paths are
  decoded in the page).
- ``aekit-2``: the same with a 2-D code (784-1000-500-250-2): the code is the map, with the
  20 x 20 decoded-manifold layer.
- ``aekit-30-precomputed``: ``aekit-30`` with reconstructions and the paths between 24 anchor
  points precomputed instead of the decoder.
- ``aekit-map-only``: the map of ``aekit-30`` alone (positions, labels), no images or decoder.
- ``bokeh-scatter`` / ``plotly-scatter``: the same positions and colours, a label tooltip, the
  library's script inline (``bokeh.resources.INLINE``; ``include_plotlyjs=True``, scattergl).
- ``bokeh-hover-images``: Bokeh's own way to show each point's image on hover: a tooltip
  ``<img src=@image>`` with one PNG data URI per point.

The networks are trained briefly (ReLU units, Adam, ``--epochs`` on 20,000 training images) so
the map has structure; a page's size and load time do not depend on how well it is trained.
``--run DIR`` uses a saved model instead (then only the ``aekit-*`` pages of its code size).

Ready time: from the navigation's start to the first frame after the page has drawn (aekit: all
images decoded and the map drawn; Plotly: ``newPlot`` resolved; Bokeh: ``embed_items``
resolved), by ``performance.now()`` in the page; the median of ``--repeats`` loads in one
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, with Selenium). Bokeh and
Plotly live in ``benchmarks/.venv-explore``, made here when missing.

    .venv/bin/python benchmarks/explore.py                 # -> results/explore.json
    .venv/bin/python benchmarks/explore.py --no-libraries  # aekit pages only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import load_mnist, write_result
from aekit.models import Autoencoder
from aekit.saving import load_model
from aekit.train import TrainConfig, Trainer
from aekit.viz.explore import ExplorerConfig, write_explorer

HERE = Path(__file__).resolve().parent
LIB_VENV = HERE / ".venv-explore"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TARGET_MB = 15.0
TARGET_S = 3.0
READY = "window.__readyMs = performance.now();"

# Run in the side environment: writes the Bokeh and Plotly pages from the saved arrays.
LIBRARY_PAGES = r"""
import base64, io, sys
import numpy as np
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
a = np.load(src)
pos, y, images, colours = a["positions"], a["labels"], a["images"], list(a["colours"])
READY = "requestAnimationFrame(function () { %s });" % sys.argv[3]

import plotly.graph_objects as go
fig = go.Figure()
for c in range(10):
    m = y == c
    fig.add_trace(go.Scattergl(x=pos[m, 0], y=pos[m, 1], mode="markers", name=str(c),
                               marker=dict(size=4, color=colours[c]),
                               hovertext=[str(c)] * int(m.sum())))
fig.update_layout(width=700, height=700)
fig.write_html(out + "/plotly-scatter.html", include_plotlyjs=True, post_script=READY)

from bokeh.embed import file_html
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure
from bokeh.resources import INLINE

def uri(img):
    buf = io.BytesIO()
    Image.fromarray(img, "L").save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()

def bokeh_page(name, with_images):
    data = dict(x=pos[:, 0], y=pos[:, 1], label=[str(v) for v in y],
                colour=[colours[v] for v in y])
    tips = [("label", "@label")]
    if with_images:
        data["image"] = [uri(img.reshape(28, 28)) for img in images]
        tips = '<div>@label<br><img src="@image" width="84" height="84"></div>'
    p = figure(width=700, height=700, output_backend="webgl")
    p.scatter("x", "y", source=ColumnDataSource(data), color="colour", size=4)
    p.add_tools(HoverTool(tooltips=tips))
    html = file_html(p, INLINE, name)
    call = "Bokeh.embed.embed_items(docs_json, render_items);"
    assert call in html, "Bokeh's embed call changed: update the ready hook"
    html = html.replace(call, call[:-1] + ".then(function () { %s });" % READY)
    open(out + "/" + name + ".html", "w").write(html)

bokeh_page("bokeh-scatter", False)
bokeh_page("bokeh-hover-images", True)
"""


def _library_venv(install: bool) -> Path | None:
    python = LIB_VENV / "bin" / "python"
    if not python.exists() and install:
        subprocess.run([sys.executable, "-m", "venv", str(LIB_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "bokeh", "plotly", "numpy", "pillow"],
            check=True,
        )
    return python if python.exists() else None


def _train(layers: str, x: np.ndarray, epochs: int, seed: int) -> Autoencoder:
    torch.manual_seed(seed)
    model = Autoencoder(layers=layers, activation="relu")
    if epochs:
        cfg = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=seed, progress=False)
        Trainer(model, cfg).fit(x)
    return model.eval()


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="aekit-bench-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options), profile


READY_JS = (
    "return (window.aekitExplorer && window.aekitExplorer.ready) ? window.aekitExplorer.readyMs"
    " : (window.__readyMs || null)"
)


def _time_page(driver, path: Path, repeats: int, timeout_s: float = 60.0) -> dict:
    runs, load_events = [], []
    for _ in range(repeats):
        driver.get("about:blank")
        driver.get(path.resolve().as_uri())
        t0 = time.perf_counter()
        ready = None
        while ready is None and time.perf_counter() - t0 < timeout_s:
            ready = driver.execute_script(READY_JS)
            if ready is None:
                time.sleep(0.02)
        if ready is None:
            raise RuntimeError(f"{path.name} never became ready")
        runs.append(float(ready))
        load_events.append(
            driver.execute_script(
                "return performance.getEntriesByType('navigation')[0].loadEventEnd"
            )
        )
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return {
        "ready_ms_median": statistics.median(runs),
        "ready_ms_max": max(runs),
        "ready_ms_runs": runs,
        "load_event_ms_median": statistics.median(load_events),
        "console_errors": severe,
    }


def _pages(args, out: Path) -> tuple[dict[str, str], dict]:
    """Write the pages; return their descriptions and what the library pages need."""
    ds = load_mnist()
    if ds is None:
        sys.exit(1)
    described: dict[str, str] = {}
    x_fit = ds.x_train[np.random.default_rng(args.seed).choice(len(ds.x_train), 20_000, False)]
    config = ExplorerConfig(max_points=args.points, seed=args.seed)
    if args.run:
        model = load_model(args.run).eval()
        models = {f"aekit-{model.config.code_dim}": model}
    else:
        models = {
            "aekit-30": _train("784-1000-500-250-30", x_fit, args.epochs, args.seed),
            "aekit-2": _train("784-1000-500-250-2", x_fit, args.epochs, args.seed),
        }
    for name, model in models.items():
        t = time.perf_counter()
        write_explorer(model, ds, out / f"{name}.html", config)
        described[name] = f"{'-'.join(map(str, model.config.layers))}, decoder inlined"
        print(f"{name}: written in {time.perf_counter() - t:.1f} s")
        if model.config.code_dim != 2:
            pre = ExplorerConfig(max_points=args.points, seed=args.seed, decoder="precomputed")
            write_explorer(model, ds, out / f"{name}-precomputed.html", pre)
            described[f"{name}-precomputed"] = described[name].replace("inlined", "precomputed")
    # The map alone (no images, no decoder): what the libraries' scatters compare with.
    first = next(iter(models))
    bare = ExplorerConfig(max_points=args.points, seed=args.seed, decoder="precomputed")
    write_explorer(models[first], ds.x_test, out / "aekit-map-only.html", bare, labels=ds.y_test)
    described["aekit-map-only"] = "the map alone: positions, labels, label tooltip"
    # The library pages show the 2-D map of the first model, with the same sample and colours.
    page = (out / f"{first}.html").read_text()
    payload = json.loads(page.split('id="aekit-data">', 1)[1].split("</script>", 1)[0])
    rows = [int(s.split()[-1]) for s in payload["ids"]]
    library = {
        "positions": np.frombuffer(
            __import__("base64").b64decode(payload["positions"]), "<f4"
        ).reshape(-1, 2),
        "labels": ds.y_test[rows],
        "images": np.round(255 * (1 - ds.x_test[rows])).astype(np.uint8),
        "colours": np.array(payload["colours"]),
    }
    return described, library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "explore.json")
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run", type=Path, default=None, help="a saved model to use instead")
    parser.add_argument("--pages", type=Path, default=None, help="keep the pages in this folder")
    parser.add_argument("--no-libraries", action="store_true", help="skip Bokeh and Plotly")
    parser.add_argument("--no-install", action="store_true", help="do not make .venv-explore")
    args = parser.parse_args()
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            sys.exit(f"{path} not found: apt-get install -y chromium chromium-driver")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = args.pages or Path(tempfile.mkdtemp(prefix="aekit-explore-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    described, library = _pages(args, out)
    if not args.no_libraries:
        python = _library_venv(install=not args.no_install)
        if python is None:
            print("skipped Bokeh and Plotly: no benchmarks/.venv-explore (--no-install)")
        else:
            np.savez(out / "library.npz", **library)
            subprocess.run(
                [str(python), "-c", LIBRARY_PAGES, str(out / "library.npz"), str(out), READY],
                check=True,
            )
            versions = subprocess.run(
                [
                    str(python),
                    "-c",
                    "import bokeh, plotly; print(bokeh.__version__, plotly.__version__)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            described["bokeh-scatter"] = f"Bokeh {versions[0]}, label tooltip, webgl"
            described["bokeh-hover-images"] = f"Bokeh {versions[0]}, image tooltip per point"
            described["plotly-scatter"] = f"Plotly {versions[1]} (plotly.js inline), scattergl"
    driver, profile = _driver()
    try:
        chromium = driver.capabilities.get("browserVersion")
        pages = {}
        for name, what in described.items():
            path = out / f"{name}.html"
            size = path.stat().st_size
            timing = _time_page(driver, path, args.repeats)
            pages[name] = {"what": what, "bytes": size, "mb": size / 1e6, **timing}
            pages[name]["meets_targets"] = (
                size / 1e6 < TARGET_MB and timing["ready_ms_max"] / 1000 < TARGET_S
            )
            print(
                f"{name:<22} {size / 1e6:7.2f} MB  ready {timing['ready_ms_median']:7.0f} ms "
                f"(max {timing['ready_ms_max']:.0f})  {what}"
            )
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next(
        (ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if "Model name" in ln), ""
    )
    result = {
        "benchmark": "explorer page for MNIST points: size and load time in headless Chromium",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()}-core CPU, {model_name}",
        "chromium": chromium,
        "python": platform.python_version(),
        "n_points": args.points,
        "epochs": args.epochs if not args.run else None,
        "run": str(args.run) if args.run else None,
        "repeats": args.repeats,
        "load_average_1_5_15_min_at_end": os.getloadavg(),
        "targets": {"page_mb_below": TARGET_MB, "ready_s_below": TARGET_S},
        "pages": pages,
        "aekit_pages_meet_targets": all(
            p["meets_targets"] for n, p in pages.items() if n.startswith("aekit")
        ),
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
