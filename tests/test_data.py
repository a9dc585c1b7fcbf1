"""Tests for aekit.data: IDX files, the curves generator, file loaders and the registry.

Everything runs on small fixtures generated under tmp_path; the tests marked ``realdata`` read
the reference copies (MNIST from AEKIT_DATA_DIR, Fashion-MNIST from Debian's package) and skip
when those are absent.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import aekit.data
import aekit.data.registry as registry
from aekit.data import (
    DATA_DIR_ENV,
    Dataset,
    data_dir,
    list_datasets,
    load_array,
    load_dataset,
    load_labeled,
    make_curves,
    read_idx,
    register_dataset,
    write_idx,
)
from aekit.data.curves import _control_points, _spline


def names(path: Path) -> str:
    """A regex matching the file's path in an error message."""
    return re.escape(str(path))


def test_data_layer_imports_no_torch_and_no_higher_layer():
    # data sits at the bottom (data -> model -> train -> evaluate -> viz): NumPy, the standard
    # library and scikit-learn only, and nothing from the rest of aekit.
    for module in Path(aekit.data.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported = [node.module or ""]
            else:
                continue
            for name in imported:
                assert name.split(".")[0] != "torch", f"{module.name} imports {name}"
                assert not name.startswith("aekit"), f"{module.name} imports {name}"


# ---------------------------------------------------------------------------------------------
# IDX


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else np.finfo(dtype)
    array = rng.uniform(-100, 100, size=(5, 3, 4)).astype(dtype)
    array.flat[0], array.flat[1] = info.min, info.max  # byte order shows up at the extremes
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    assert back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 0  # the result must be writable, not a view of the file's bytes


def test_idx_reads_hand_made_bytes(tmp_path):
    # Bytes written out by hand from the format description: magic, big-endian dims, values.
    ubyte = tmp_path / "ubyte"
    ubyte.write_bytes(b"\x00\x00\x08\x02" + b"\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(ubyte), [[0, 1, 2], [3, 4, 5]])
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x0b\x01\x00\x00\x00\x02" + b"\x01\x02\xff\xfe")
    np.testing.assert_array_equal(read_idx(short), [258, -2])
    assert read_idx(short).dtype == np.int16


def test_idx_gzip_detected_by_magic_bytes_not_suffix(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "packed.gz", array)
    (tmp_path / "packed.gz").rename(tmp_path / "no-suffix")
    np.testing.assert_array_equal(read_idx(tmp_path / "no-suffix"), array)
    write_idx(tmp_path / "raw", array)
    (tmp_path / "raw").rename(tmp_path / "raw-despite-suffix.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "raw-despite-suffix.gz"), array)


def test_write_idx_gz_is_reproducible(tmp_path):
    array = np.arange(10, dtype=np.int32)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated_payload_names_file(tmp_path, gz):
    full = tmp_path / "full"
    write_idx(full, np.zeros((4, 5, 5), dtype=np.uint8))
    data = full.read_bytes()[:-7]
    path = tmp_path / ("cut.gz" if gz else "cut")
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match=names(path)) as err:
        read_idx(path)
    assert "truncated" in str(err.value)
    assert "(4, 5, 5)" in str(err.value)


def test_idx_truncated_gzip_stream_names_file(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match=names(path)):
        read_idx(path)


def test_idx_bad_magic_names_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ValueError, match=names(path)) as err:
        read_idx(path)
    assert "magic" in str(err.value)


def test_idx_unknown_type_code_names_file(tmp_path):
    path = tmp_path / "odd"
    path.write_bytes(b"\x00\x00\x0a\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match=names(path)) as err:
        read_idx(path)
    assert "0x0A" in str(err.value)


def test_idx_trailing_garbage_names_file(tmp_path):
    path = tmp_path / "long"
    write_idx(path, np.arange(6, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"junk")
    with pytest.raises(ValueError, match=names(path)) as err:
        read_idx(path)
    assert "4 bytes of trailing" in str(err.value)


def test_idx_header_cut_short_and_missing_file(tmp_path):
    path = tmp_path / "head"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match=names(path)):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match=names(tmp_path / "absent")):
        read_idx(tmp_path / "absent")


def test_write_idx_rejects_types_without_code(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))


# ---------------------------------------------------------------------------------------------
# curves


def train_control_points(seed: int, n: int) -> np.ndarray:
    """The control points behind make_curves(n_train=n, seed=seed)'s training images."""
    train_stream = np.random.SeedSequence(seed).spawn(2)[0]
    return _control_points(np.random.default_rng(train_stream), n, 28)


@pytest.fixture(scope="module")
def curves():
    return make_curves(n_train=600, n_test=200, seed=0)


def test_curves_shape_dtype_range(curves):
    x_train, x_test = curves
    assert x_train.shape == (600, 784) and x_test.shape == (200, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert x_train.min() >= 0.0 and x_train.max() <= 1.0
    assert np.isfinite(x_train).all()


def test_curves_seeded(curves):
    again = make_curves(n_train=600, n_test=200, seed=0)
    assert again[0].tobytes() == curves[0].tobytes()
    assert again[1].tobytes() == curves[1].tobytes()
    other = make_curves(n_train=600, n_test=200, seed=1)
    assert not np.array_equal(other[0], curves[0])
    # Train and test are different images, not the same stream twice.
    assert not np.array_equal(curves[0][:200], curves[1])


def test_curves_train_set_does_not_depend_on_n_test(curves):
    x_train, _ = make_curves(n_train=600, n_test=7, seed=0)
    np.testing.assert_array_equal(x_train, curves[0])
    # A smaller set is the start of a larger one with the same seed.
    x_small, x_test_small = make_curves(n_train=50, n_test=20, seed=0)
    np.testing.assert_array_equal(x_small, curves[0][:50])
    np.testing.assert_array_equal(x_test_small, curves[1][:20])


def test_curves_every_image_has_a_solid_stroke(curves):
    x = curves[0]
    # The pen's core is clipped at 1, so every curve reaches full ink somewhere.
    assert x.max(axis=1).min() >= 0.99
    inked = (x > 0.5).sum(axis=1)
    # Polyline length >= 4 px with a ~1.5 px stroke gives at least a handful of pixels;
    # nothing longer than ~3 chords of the 22 px square fits in 784 * 0.15.
    assert inked.min() >= 5
    assert inked.max() <= 0.15 * 784
    mean_fraction = (x > 0.5).mean()
    assert 0.02 < mean_fraction < 0.08, mean_fraction


def test_curves_are_anti_aliased_thin_strokes(curves):
    x = curves[0]
    ink = x[x > 0.02]
    # Edges are grey, not a binary raster: many inked pixels sit strictly between 0 and 1.
    grey = np.mean((ink > 0.05) & (ink < 0.95))
    assert 0.2 < grey < 0.8, grey
    # Ink per pixel of curve length is the stroke's width: the integral across the stroke of
    # clip(1.5 exp(-2 d^2)), 1.59 px for a straight stroke, a little less with the faded ends.
    q = _spline(train_control_points(seed=0, n=len(x)), 200)
    length = np.linalg.norm(np.diff(q, axis=1), axis=-1).sum(axis=1)
    width = x.sum(axis=1) / length
    assert 1.35 < np.median(width) < 1.65, np.median(width)
    assert np.mean((width > 1.0) & (width < 2.0)) > 0.95


def test_curves_ink_forms_one_connected_stroke(curves):
    images = curves[0].reshape(-1, 28, 28)
    eight = np.ones((3, 3), dtype=bool)
    counts = np.array([ndimage.label(im > 0.25, structure=eight)[1] for im in images])
    assert (counts == 1).mean() >= 0.98, np.bincount(counts)


@pytest.mark.parametrize("layout", ["paper", "free"])
def test_curve_spline_interpolates_its_control_points(layout):
    points = _control_points(np.random.default_rng(3), 20, 28, layout)
    q = _spline(points, 33)
    np.testing.assert_allclose(q[:, 0], points[:, 0], atol=1e-12)
    np.testing.assert_allclose(q[:, 32], points[:, 1], atol=1e-12)
    np.testing.assert_allclose(q[:, -1], points[:, 2], atol=1e-12)
    # Control points stay inside the margin: [2, 25] for the paper's, 2.8 px for the free one.
    margin = 2.0 if layout == "paper" else 2.8
    assert points.min() >= margin and points.max() <= 27 - margin


def test_paper_layout_is_uniform_over_the_papers_region():
    # The paper's constraint (x steps >= 2, all coordinates in [2, 25]) by a second method:
    # rejection sampling of uniform triples. The sorted-and-shifted draw must give the same
    # distribution, checked by two-sample KS tests on each x and on both steps.
    from scipy.stats import ks_2samp

    n = 20000
    points = _control_points(np.random.default_rng(0), n, 28, "paper")
    x, y = points[..., 0], points[..., 1]
    steps = np.diff(x, axis=1)
    assert steps.min() >= 2.0 - 1e-12
    assert x.min() >= 2.0 and x.max() <= 25.0 and y.min() >= 2.0 and y.max() <= 25.0
    rng = np.random.default_rng(1)
    cand = rng.uniform(2.0, 25.0, size=(20 * n, 3))
    ref = cand[(np.diff(cand, axis=1) >= 2.0).all(axis=1)]
    assert len(ref) > 5000
    ref_steps = np.diff(ref, axis=1)
    for ours, theirs in [*zip(x.T, ref.T, strict=True), *zip(steps.T, ref_steps.T, strict=True)]:
        assert ks_2samp(ours, theirs).pvalue > 1e-3
    # y is independent of x and uniform on [2, 25].
    assert abs(np.corrcoef(x[:, 0], y[:, 0])[0, 1]) < 0.03
    assert ks_2samp(y.ravel(), rng.uniform(2.0, 25.0, size=3 * n)).pvalue > 1e-3


def test_paper_curves_run_left_to_right(curves):
    # Every curve of the paper's layout spans at least 4 columns (its x steps are >= 2), and
    # its ink stays inside the [2, 25] box plus the pen's reach.
    images = curves[0].reshape(-1, 28, 28) > 0.5
    cols = images.any(axis=1)
    first, last = cols.argmax(axis=1), 27 - cols[:, ::-1].argmax(axis=1)
    assert (last - first >= 3).all()
    assert not images[:, :, 0].any() and not images[:, :, 27].any()


def test_free_layout_differs_and_is_seeded():
    paper, _ = make_curves(n_train=50, n_test=0, seed=0)
    free, _ = make_curves(n_train=50, n_test=0, seed=0, layout="free")
    again, _ = make_curves(n_train=50, n_test=0, seed=0, layout="free")
    assert free.tobytes() == again.tobytes()
    assert not np.array_equal(paper, free)
    assert free.max(axis=1).min() >= 0.99


def test_curves_ink_is_the_documented_function_of_distance():
    # Away from the two ends, a pixel's ink is clip(1.5 * exp(-d^2 / 0.5)) with d its distance
    # to the curve (exact for straight stretches; bends change it a little).
    n = 30
    x, _ = make_curves(n_train=n, n_test=0, seed=5)
    # (n, 599, 2): points ~0.1 px apart, so the distances are good to ~0.01 px.
    q = _spline(train_control_points(seed=5, n=n), 300)
    rows, cols = np.mgrid[0:28, 0:28]
    centres = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(float)  # (784, 2) as (x, y)
    errors = []
    for i in range(n):
        d2 = ((centres[:, None, :] - q[i][None, :, :]) ** 2).sum(-1)  # (784, K)
        nearest = d2.argmin(axis=1)
        d = np.sqrt(d2[np.arange(784), nearest])
        arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(q[i], axis=0), axis=1))])
        away = (arc[nearest] > 2.0) & (arc[nearest] < arc[-1] - 2.0) & (d < 2.0)
        expected = np.clip(1.5 * np.exp(-(d**2) / 0.5), 0, 1)
        errors.append(np.abs(x[i] - expected)[away])
    errors = np.concatenate(errors)
    assert np.median(errors) < 0.01
    assert np.mean(errors < 0.1) > 0.9


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_train": -1}, ValueError),
        ({"size": 4}, ValueError),
        ({"seed": -3}, ValueError),
        ({"n_train": 10.0}, TypeError),
        ({"seed": True}, TypeError),
        ({"layout": "loops"}, ValueError),
    ],
)
def test_make_curves_checks_arguments(kwargs, error):
    with pytest.raises(error, match="make_curves"):
        make_curves(**{"n_train": 2, "n_test": 2, **kwargs})


def test_curves_other_sizes():
    x_train, x_test = make_curves(n_train=5, n_test=0, size=40)
    assert x_train.shape == (5, 1600) and x_test.shape == (0, 1600)
    assert x_train.max(axis=1).min() >= 0.99


# ---------------------------------------------------------------------------------------------
# digits


def test_digits_loader():
    ds = load_dataset("digits")
    assert ds.x_train.shape == (1347, 64) and ds.x_test.shape == (450, 64)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.image_shape == (8, 8) and ds.value_range == "unit" and ds.n_features == 64
    # Stratified: each class keeps its share of the test set to within one image.
    total = np.bincount(ds.y_train, minlength=10) + np.bincount(ds.y_test, minlength=10)
    assert np.all(np.abs(np.bincount(ds.y_test, minlength=10) - 0.25 * total) <= 1)
    again = load_dataset("digits")
    np.testing.assert_array_equal(again.y_test, ds.y_test)
    with pytest.raises(ValueError, match="test_size must lie strictly between 0 and 1, got 'abc'"):
        load_dataset("digits", test_size="abc")
    other = load_dataset("digits", seed=1, test_size=0.5)
    assert len(other.y_test) == 899
    assert not np.array_equal(load_dataset("digits", seed=1).y_test, ds.y_test)


# ---------------------------------------------------------------------------------------------
# file loaders


def test_npy_loader_and_mmap(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(load_array(tmp_path / "x.npy"), x)
    mapped = load_array(tmp_path / "x.npy", mmap=True)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, x)


def test_npy_image_stack_is_flattened_and_shape_kept(tmp_path):
    stack = np.random.default_rng(0).integers(0, 256, size=(20, 3, 5), dtype=np.uint8)
    np.save(tmp_path / "stack.npy", stack)
    x = load_array(tmp_path / "stack.npy")
    assert x.shape == (20, 15)
    np.testing.assert_array_equal(x[1], stack[1].ravel())
    ds = load_dataset(tmp_path / "stack.npy")
    assert ds.image_shape == (3, 5) and ds.name == "stack"
    # uint8 pixels are scaled to [0, 1].
    assert ds.value_range == "unit"
    assert set(np.round(np.concatenate([ds.x_train, ds.x_test]).ravel() * 255).tolist()) <= set(
        range(256)
    )


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4, 5)])
def test_npy_wrong_ndim_names_file(tmp_path, shape):
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(ValueError, match=names(path)) as err:
        load_array(path)
    assert "2-D" in str(err.value)


def test_nan_and_inf_are_counted(tmp_path):
    x = np.ones((6, 3))
    x[1, 2], x[4, 0], x[5, 1] = np.nan, np.inf, -np.inf
    path = tmp_path / "holes.npy"
    np.save(path, x)
    with pytest.raises(ValueError, match=names(path)) as err:
        load_array(path)
    assert "3 NaN or infinite" in str(err.value) and "row 1, column 2" in str(err.value)


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=names(path)):
        load_array(path)


def test_files_that_are_not_what_their_suffix_says_are_named_not_unpickled(tmp_path):
    for suffix in (".npy", ".npz"):
        path = tmp_path / f"page{suffix}"
        path.write_text("<html>404 Not Found</html>")  # a failed download saved as data
        with pytest.raises(ValueError, match=f"is not a \\{suffix} file") as err:
            load_array(path)
        assert "allow_pickle" not in str(err.value)


def test_a_damaged_npz_is_one_clear_error(tmp_path):
    good = tmp_path / "xy.npz"
    np.savez(good, x=np.arange(4000.0).reshape(1000, 4), y=np.zeros(1000))
    data = good.read_bytes()
    (tmp_path / "half.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="npz"):
        load_array(tmp_path / "half.npz")
    flipped = bytearray(data)
    flipped[200] ^= 0xFF  # inside x's data: the CRC no longer matches
    (tmp_path / "crc.npz").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"damaged \.npz"):
        load_array(tmp_path / "crc.npz")


def test_a_byte_order_mark_does_not_eat_the_first_row(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("1,2\n3,4\n5,6\n", encoding="utf-8-sig")
    np.testing.assert_array_equal(load_array(path), [[1, 2], [3, 4], [5, 6]])


def test_npz_keys(tmp_path):
    x = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    np.savez(tmp_path / "xy.npz", x=x, y=y)
    np.testing.assert_array_equal(load_array(tmp_path / "xy.npz"), x)
    xl, yl = load_labeled(tmp_path / "xy.npz")
    np.testing.assert_array_equal(xl, x)
    assert yl.dtype == np.int64 and yl.tolist() == [0, 1, 0, 1]
    np.savez(tmp_path / "data.npz", data=x, other=np.zeros(2))
    np.testing.assert_array_equal(load_array(tmp_path / "data.npz"), x)
    np.savez(tmp_path / "one.npz", pixels=x)
    np.testing.assert_array_equal(load_array(tmp_path / "one.npz"), x)
    np.savez(tmp_path / "named.npz", images=x, classes=y)
    xl, yl = load_labeled(tmp_path / "named.npz", label_column="classes")
    np.testing.assert_array_equal(xl, x)
    assert yl.tolist() == [0, 1, 0, 1]


def test_npz_ambiguous_keys_listed(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.zeros((2, 2)), b=np.ones((2, 2)))
    with pytest.raises(ValueError, match=names(path)) as err:
        load_array(path)
    assert "['a', 'b']" in str(err.value)
    with pytest.raises(ValueError, match="'nope'"):
        load_labeled(path, label_column="nope")


def test_csv_without_and_with_header(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("1,2,3\n4,5,6.5\n\n# a comment\n-1,0,1e-3\n")
    expected = np.array([[1, 2, 3], [4, 5, 6.5], [-1, 0, 1e-3]])
    np.testing.assert_array_equal(load_array(plain), expected)
    headed = tmp_path / "headed.csv"
    headed.write_text('"a","b","c"\n1,2,3\n4,5,6.5\n-1,0,1e-3\n')
    np.testing.assert_array_equal(load_array(headed), expected)
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\tc\n1\t2\t3\n")
    np.testing.assert_array_equal(load_array(tsv), [[1, 2, 3]])
    txt = tmp_path / "w.txt"
    txt.write_text("1 2  3\n4 5 6\n")
    np.testing.assert_array_equal(load_array(txt), [[1, 2, 3], [4, 5, 6]])


def test_csv_label_column(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("f1,label,f2\n0.5,3,1\n0.25,7,2\n")
    x, y = load_labeled(path)  # found by its header name
    np.testing.assert_array_equal(x, [[0.5, 1], [0.25, 2]])
    assert y.tolist() == [3, 7] and y.dtype == np.int64
    x, y = load_labeled(path, label_column=-1)
    np.testing.assert_array_equal(x, [[0.5, 3], [0.25, 7]])
    assert y.tolist() == [1, 2]
    x, y = load_labeled(path, label_column="f2")
    np.testing.assert_array_equal(x, [[0.5, 3], [0.25, 7]])
    assert y.tolist() == [1, 2]
    with pytest.raises(ValueError, match="whole numbers"):
        load_labeled(path, label_column=0)
    with pytest.raises(ValueError, match="out of range"):
        load_labeled(path, label_column=3)
    with pytest.raises(ValueError, match="'missing'"):
        load_labeled(path, label_column="missing")
    with pytest.raises(TypeError, match="label_column"):
        load_labeled(path, label_column=1.0)
    # load_array leaves every column in place.
    assert load_array(path).shape == (2, 3)
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text("1,2\n3,4\n")
    assert load_labeled(unlabelled)[1] is None


def test_csv_non_numeric_names_file_and_line(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("a,b\n1,2\n3,cat\n")
    with pytest.raises(ValueError, match=names(path)) as err:
        load_array(path)
    assert "line 3" in str(err.value) and "'cat'" in str(err.value)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2\n3,4,5\n")
    with pytest.raises(ValueError, match=names(ragged)) as err:
        load_array(ragged)
    assert "line 2 has 3 fields" in str(err.value)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n# nothing\n")
    with pytest.raises(ValueError, match=names(empty)):
        load_array(empty)
    nan = tmp_path / "nan.csv"
    nan.write_text("1,nan\n2,3\n")
    with pytest.raises(ValueError, match="1 NaN"):
        load_array(nan)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=names(tmp_path / "gone.npy")):
        load_array(tmp_path / "gone.npy")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(ValueError, match=r"\.json"):
        load_array(tmp_path / "x.json")
    with pytest.raises(FileNotFoundError, match=names(tmp_path / "gone.csv")):
        load_dataset(tmp_path / "gone.csv")


def test_user_file_becomes_seeded_split(tmp_path):
    n = 50
    y = np.arange(n) % 5
    x = np.column_stack([np.arange(n), y * 10.0, -np.ones(n)])  # column 0 is the row's id
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=y)
    ds = load_dataset(path)
    assert ds.name == "mine" and ds.x_train.shape == (40, 3) and ds.x_test.shape == (10, 3)
    assert ds.value_range == "real" and ds.image_shape is None
    # Rows and labels stay paired, and every row lands in exactly one part.
    np.testing.assert_array_equal(ds.x_train[:, 1], ds.y_train * 10.0)
    ids = np.concatenate([ds.x_train[:, 0], ds.x_test[:, 0]])
    assert sorted(ids.tolist()) == list(range(n))
    assert ds.x_test[:, 0].tolist() != list(range(40, 50))  # random, not the last rows
    same = load_dataset(path)
    np.testing.assert_array_equal(same.x_test, ds.x_test)
    other = load_dataset(path, seed=1, test_fraction=0.5)
    assert len(other.x_test) == 25
    assert not np.array_equal(load_dataset(path, seed=1).x_test, ds.x_test)
    with pytest.raises(ValueError, match="test_fraction"):
        load_dataset(path, test_fraction=1.0)
    unit = tmp_path / "unit.csv"
    unit.write_text("0,0.5\n1,0.25\n0.5,0.75\n")
    assert load_dataset(unit).value_range == "unit"


# ---------------------------------------------------------------------------------------------
# registry, data_dir, Dataset


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert data_dir() is None
    assert data_dir(tmp_path) == tmp_path
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
    monkeypatch.setenv(DATA_DIR_ENV, "")
    assert data_dir() is None


def write_fake_mnist(folder: Path, n_train: int = 30, n_test: int = 10, gz: bool = True) -> dict:
    """Four tiny IDX files with MNIST's names; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 4, 5), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.sort(rng.integers(0, 10, n_train).astype(np.uint8)),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 4, 5), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for stem, array in arrays.items():
        write_idx(folder / (stem + (".gz" if gz else "")), array)
    return arrays


@pytest.mark.parametrize("layout", ["subfolder", "flat", "raw"])
def test_mnist_from_data_dir(monkeypatch, tmp_path, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "mnist"
    arrays = write_fake_mnist(folder, gz=layout != "raw")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    ds = load_dataset("mnist")
    assert ds.x_train.shape == (30, 20) and ds.x_test.shape == (10, 20)
    assert ds.image_shape == (4, 5) and ds.value_range == "unit"
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    raw = arrays["train-images-idx3-ubyte"].reshape(30, -1)
    np.testing.assert_array_equal(ds.x_train, raw.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])


def test_mnist_explicit_dir_beats_environment(monkeypatch, tmp_path):
    write_fake_mnist(tmp_path / "a" / "mnist", n_train=12)
    write_fake_mnist(tmp_path / "b" / "mnist", n_train=17)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "b"))
    assert len(load_dataset("mnist").x_train) == 17
    assert len(load_dataset("mnist", data_dir=tmp_path / "a").x_train) == 12
    # A directory path loads the IDX files inside it, whatever its name.
    direct = load_dataset(tmp_path / "a" / "mnist")
    assert len(direct.x_train) == 12 and direct.name == "mnist"


def test_missing_mnist_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match="AEKIT_DATA_DIR") as err:
        load_dataset("mnist")
    assert "--data-dir" in str(err.value)
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="AEKIT_DATA_DIR") as err:
        load_dataset("mnist", data_dir=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "mnist") in message and "lacks train-labels-idx1-ubyte" in message
    assert "--data-dir" in message


def test_mnist_mismatched_counts_name_both_files(tmp_path):
    folder = tmp_path / "mnist"
    write_fake_mnist(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(9, dtype=np.uint8))
    with pytest.raises(ValueError) as err:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(folder / "t10k-images-idx3-ubyte.gz") in str(err.value)
    assert str(folder / "t10k-labels-idx1-ubyte.gz") in str(err.value)


def test_mnist_swapped_files_are_caught(tmp_path):
    folder = tmp_path / "mnist"
    arrays = write_fake_mnist(folder)
    write_idx(folder / "train-images-idx3-ubyte.gz", arrays["train-labels-idx1-ubyte"])
    with pytest.raises(ValueError, match=names(folder / "train-images-idx3-ubyte.gz")) as err:
        load_dataset("mnist", data_dir=tmp_path)
    assert "3-D" in str(err.value)


def test_fashion_mnist_prefers_data_dir(tmp_path):
    write_fake_mnist(tmp_path / "fashion-mnist", n_train=11)
    write_fake_mnist(tmp_path, n_train=13)  # MNIST's files in data_dir itself are not Fashion
    ds = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert ds.name == "fashion-mnist" and len(ds.x_train) == 11
    assert len(load_dataset("Fashion_MNIST", data_dir=tmp_path).x_train) == 11


def test_unknown_name_lists_registered_names():
    with pytest.raises(ValueError, match="unknown data set 'mnits'") as err:
        load_dataset("mnits")
    for name in ("mnist", "fashion-mnist", "digits", "curves"):
        assert name in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(Path("no") / "such" / "folder")


def test_curves_by_name():
    ds = load_dataset("curves", n_train=20, n_test=5, seed=2)
    assert ds.x_train.shape == (20, 784) and ds.y_train is None and ds.image_shape == (28, 28)
    assert ds.value_range == "unit"
    np.testing.assert_array_equal(ds.x_train, make_curves(20, 5, seed=2)[0])


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_register_dataset(scratch_registry, monkeypatch, tmp_path):
    seen = {}

    def toy(data_dir=None, n=4):
        seen["data_dir"] = data_dir
        x = np.full((n, 2), 0.5)
        return Dataset("toy", x, None, x[:1], None, image_shape=None)

    register_dataset("toy", toy)
    assert "toy" in list_datasets()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    ds = load_dataset("TOY", n=6)
    assert ds.x_train.shape == (6, 2) and seen["data_dir"] == tmp_path
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("toy", toy)
    register_dataset("toy", lambda data_dir=None: "not a dataset", overwrite=True)
    with pytest.raises(TypeError, match="not a Dataset"):
        load_dataset("toy")
    with pytest.raises(TypeError, match="callable"):
        register_dataset("other", 3)


def sorted_dataset() -> Dataset:
    """100 rows per class, sorted by class like the MNIST copy; column 0 is the row id."""
    y = np.repeat(np.arange(10), 100)
    x = np.column_stack([np.arange(1000), y]).astype(np.float32)
    return Dataset("sorted", x, y, x[:50] + 1000, y[:50], value_range="real")


def test_subset_is_random_not_first_n():
    ds = sorted_dataset()
    small = ds.subset(n_train=100, n_test=20, seed=0)
    assert small.x_train.shape == (100, 2) and small.x_test.shape == (20, 2)
    # The first 100 rows would all be class 0; a random draw sees (nearly) every class.
    assert len(np.unique(small.y_train)) >= 8
    np.testing.assert_array_equal(small.x_train[:, 1], small.y_train)  # rows and labels paired
    assert len(np.unique(small.x_train[:, 0])) == 100  # without replacement
    np.testing.assert_array_equal(ds.subset(100, seed=0).x_train, small.x_train)
    assert not np.array_equal(ds.subset(100, seed=1).x_train, small.x_train)
    kept = ds.subset(n_test=10)
    assert kept.x_train is ds.x_train and len(kept.x_test) == 10
    with pytest.raises(ValueError, match="n_train"):
        ds.subset(n_train=1001)


def test_dataset_checks_its_fields():
    x = np.zeros((4, 6))
    ds = Dataset("ok", x, [0, 1, 0, 1], x, None, image_shape=(2, 3))
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.n_features == 6 and ds.value_range == "unit"
    assert "(4, 6)" in repr(ds) and len(repr(ds)) < 300
    with pytest.raises(ValueError, match="features"):
        Dataset("bad", x, None, np.zeros((2, 5)), None)
    with pytest.raises(ValueError, match="image_shape"):
        Dataset("bad", x, None, x, None, image_shape=(2, 2))
    with pytest.raises(ValueError, match="one label per row"):
        Dataset("bad", x, [0, 1], x, None)
    with pytest.raises(ValueError, match="outside"):
        Dataset("bad", x + 2, None, x, None, value_range="unit")
    with pytest.raises(ValueError, match="value_range"):
        Dataset("bad", x, None, x, None, value_range="binary")
    assert Dataset("real", x - 1, None, x, None).value_range == "real"


# ---------------------------------------------------------------------------------------------
# real data

# The data README's checksum lines for MNIST (sha256 of the gzipped IDX files), verbatim.
MNIST_CHECKSUMS = """
d29e6c09df03daf64a19a2a47a433937649597824170f2737152475749a7a251  mnist/t10k-images-idx3-ubyte.gz
819da457064a474e2f7cb5b33832014f1d8f832c93795db237dc97f965265d99  mnist/t10k-labels-idx1-ubyte.gz
e070505f2d78b7b9a7bc07bcb1bd3d44cc3a2c314c36b140a3538a08617ed3df  mnist/train-images-idx3-ubyte.gz
802213983972e3a1284c603720a31c1c739f51e0140ec6605470bc0154e2d5e5  mnist/train-labels-idx1-ubyte.gz
"""
MNIST_SHA256 = {
    line.split()[1].removeprefix("mnist/"): line.split()[0]
    for line in MNIST_CHECKSUMS.strip().splitlines()
}
# Class counts of the standard MNIST split (LeCun et al.).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def mnist_folder() -> Path:
    root = data_dir()
    if root is None:
        pytest.skip(f"MNIST needs the reference data: set {DATA_DIR_ENV} to the data folder")
    for folder in (root / "mnist", root):
        if all((folder / name).is_file() for name in MNIST_SHA256):
            return folder
    pytest.skip(f"no MNIST .gz files in {root}/mnist or {root} ({DATA_DIR_ENV}={root})")


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    mnist_folder()
    return load_dataset("mnist")


@pytest.mark.realdata
def test_real_mnist_checksums():
    folder = mnist_folder()
    for name, digest in MNIST_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    readme = folder.parent / "README.md" if folder.name == "mnist" else folder / "README.md"
    if readme.is_file():  # the README's table and this test must agree
        for line in MNIST_CHECKSUMS.strip().splitlines():
            assert line in readme.read_text()


@pytest.mark.realdata
def test_real_mnist(mnist):
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert mnist.image_shape == (28, 28) and mnist.value_range == "unit"
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST_COUNTS
    # The usual normalisation constants of MNIST, (0.1307, 0.3081), follow from the pixels.
    assert mnist.x_train.mean() == pytest.approx(0.1307, abs=1e-4)
    assert mnist.x_train.std() == pytest.approx(0.3081, abs=1e-4)
    small = mnist.subset(n_train=1000, seed=0)
    assert len(np.unique(small.y_train)) == 10


@pytest.mark.realdata
def test_real_fashion_mnist():
    places = [Path("/usr/share/datasets/fashion-mnist")]
    if data_dir() is not None:
        places.insert(0, data_dir() / "fashion-mnist")
    if not any((p / "t10k-labels-idx1-ubyte.gz").is_file() for p in places):
        pytest.skip(
            "Fashion-MNIST not installed: apt-get install dataset-fashion-mnist, or put its "
            f"IDX files in ${DATA_DIR_ENV}/fashion-mnist/"
        )
    ds = load_dataset("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.image_shape == (28, 28) and ds.value_range == "unit"
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    # Fashion-MNIST's published normalisation constants.
    assert ds.x_train.mean() == pytest.approx(0.2860, abs=1e-4)
    assert ds.x_train.std() == pytest.approx(0.3530, abs=1e-4)
