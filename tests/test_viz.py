"""Figures render to PNG with the expected panels; the report embeds them and escapes text."""

from __future__ import annotations

import base64
import io
import re

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from aekit.viz import (
    ReportImage,
    Section,
    code_scatter,
    error_bars,
    figure_to_base64,
    figure_to_png,
    learning_curves,
    reconstruction_grid,
    render_report,
    save_figure,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_shape(data: bytes) -> tuple[int, ...]:
    return mpimg.imread(io.BytesIO(data), format="png").shape


def _records(n: int) -> list[dict]:
    return [
        {"epoch": i + 1, "train_recon": 10.0 / (i + 1), "val_recon": 11.0 / (i + 1)}
        for i in range(n)
    ]


def test_reconstruction_grid_has_one_axes_per_image_and_renders():
    rng = np.random.default_rng(0)
    rows = {name: rng.random((12, 28 * 28)) for name in ("data", "autoencoder", "PCA")}
    fig = reconstruction_grid(rows, (28, 28), n=10, title="t", errors={"PCA": 1.5})
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 * 10
    assert [fig.axes[r * 10].get_ylabel() for r in range(3)] == [
        "data",
        "autoencoder",
        "PCA\n(1.50)",
    ]
    # Each cell shows its own image: the first data cell holds image 0 reshaped.
    shown = fig.axes[1].images[0].get_array()
    np.testing.assert_allclose(shown, rows["data"][1].reshape(28, 28))
    png = figure_to_png(fig)
    assert png.startswith(PNG_MAGIC)
    height, width = _png_shape(png)[:2]
    assert width > height > 100  # three rows of ten cells: wide, not tall


def test_reconstruction_grid_takes_fewer_images_when_rows_are_short():
    rows = {"data": np.zeros((4, 64)), "recon": np.ones((4, 64))}
    assert len(reconstruction_grid(rows, (8, 8), n=10).axes) == 2 * 4


@pytest.mark.parametrize(
    ("rows", "shape"),
    [({}, (8, 8)), ({"data": np.zeros((3, 63))}, (8, 8)), ({"data": np.zeros(64)}, (8, 8))],
)
def test_reconstruction_grid_rejects_bad_rows(rows, shape):
    with pytest.raises(ValueError, match=r"row|at least one"):
        reconstruction_grid(rows, shape)


def test_code_scatter_one_panel_per_method_with_accuracy_in_title():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 300)
    codes = {"autoencoder": rng.normal(size=(300, 2)), "PCA": rng.normal(size=(300, 2))}
    fig = code_scatter(codes, labels, accuracies={"autoencoder": 0.875, "PCA": 0.5})
    assert len(fig.axes) == 2
    assert "87.5%" in fig.axes[0].get_title()
    assert fig.axes[0].get_xlabel() == "code unit 1"
    # One scatter collection per class, and one legend entry per class.
    assert len(fig.axes[0].collections) == 10
    assert len(fig.legends[0].get_texts()) == 10
    assert figure_to_png(fig).startswith(PNG_MAGIC)


def test_code_scatter_subsamples_the_same_points_in_every_panel():
    labels = np.arange(100) % 3
    z = np.arange(200, dtype=float).reshape(100, 2)
    fig = code_scatter({"a": z, "b": z}, labels, max_points=30)
    drawn = [sum(len(c.get_offsets()) for c in ax.collections) for ax in fig.axes]
    assert drawn == [30, 30]
    offsets_a = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    offsets_b = np.concatenate([c.get_offsets() for c in fig.axes[1].collections])
    np.testing.assert_array_equal(np.sort(offsets_a, 0), np.sort(offsets_b, 0))


def test_code_scatter_rejects_codes_that_are_not_2d():
    with pytest.raises(ValueError, match="expected"):
        code_scatter({"a": np.zeros((5, 3))}, np.zeros(5))


def test_learning_curves_one_panel_per_run_with_train_and_validation_lines():
    fig = learning_curves({"curves": _records(5), "digits": _records(3)})
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["train", "validation"]
    np.testing.assert_allclose(lines[0].get_ydata(), [10.0 / (i + 1) for i in range(5)])
    assert fig.axes[1].get_xlabel() == "epoch"
    assert figure_to_png(fig).startswith(PNG_MAGIC)


def test_learning_curves_fall_back_to_train_loss_without_recon_term():
    records = [{"epoch": 1, "train_loss": 3.0}, {"epoch": 2, "train_loss": 2.0}]
    fig = learning_curves({"run": records})
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["train"]


def test_error_bars_one_panel_per_dataset():
    fig = error_bars({"curves": {"autoencoder": 3.0, "PCA": 20.0}, "digits": {"a": 1, "b": 2}})
    assert len(fig.axes) == 2
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [3.0, 20.0]


def test_save_figure_writes_png_and_base64_round_trips(tmp_path):
    fig = error_bars({"d": {"m": 1.0}})
    path = save_figure(fig, tmp_path / "sub" / "errors.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert base64.b64decode(figure_to_base64(fig)).startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match=r"\.png"):
        save_figure(fig, tmp_path / "errors.jpg")


def test_report_embeds_images_and_tables_and_escapes_text(tmp_path):
    fig = error_bars({"d": {"m": 1.0}})
    png_path = save_figure(fig, tmp_path / "e.png")
    sections = [
        Section(
            "Results <b>bold</b> & more",
            ["first <script>alert(1)</script>", "second"],
            table=[{"method": "<i>AE</i>", "error": 1.23456}, {"method": "PCA", "knn": 0.5}],
            images=[ReportImage(fig, 'caption "quoted" <x>'), (png_path, "from file")],
        ),
        {"title": "Plain dict section", "text": "hello"},
    ]
    path = write_report(tmp_path / "report.html", "Title & <stuff>", sections, subtitle="s<1>")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('src="data:image/png;base64,') == 2
    # Nothing from the inputs comes through as markup.
    assert "<script>" not in page and "<b>bold" not in page and "<i>AE" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Title &amp; &lt;stuff&gt;</title>" in page
    assert "caption &quot;quoted&quot; &lt;x&gt;" in page
    # Table: union of columns, numbers formatted, a missing cell empty.
    assert "<th>method</th><th>error</th><th>knn</th>" in page
    assert "<td>1.235</td>" in page and "<td></td>" in page
    # Self-contained: no external resources.
    assert "http://" not in page and "https://" not in page
    # The file image is embedded byte for byte.
    payloads = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(payloads[1]) == png_path.read_bytes()
    assert "Plain dict section" in page


def test_report_rejects_unknown_section_keys_and_non_png(tmp_path):
    with pytest.raises(ValueError, match="unknown report section keys"):
        render_report("t", [{"title": "a", "figures": []}])
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="PNG"):
        render_report("t", [Section("a", images=[bad])])
    with pytest.raises(FileNotFoundError):
        render_report("t", [Section("a", images=[tmp_path / "missing.png"])])


def test_retrieval_figures_draw_one_line_per_method():
    from aekit.evaluate import retrieval_curve
    from aekit.viz.retrieval import precision_recall_figure, retrieval_curves_figure

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    curves = {
        "good": retrieval_curve(np.eye(3)[labels] + 0.1 * rng.normal(size=(60, 3)), labels),
        "random": retrieval_curve(rng.normal(size=(60, 3)), labels),
    }
    fig = retrieval_curves_figure(curves, chance=0.3)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 3  # two methods + chance
    assert len(precision_recall_figure(curves).axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match="no curves"):
        retrieval_curves_figure({})
