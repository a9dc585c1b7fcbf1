"""Olivetti faces and the paper's 25x25 face set, on a generated .mat fixture."""

import numpy as np
import pytest
from scipy.io import savemat

from aekit.data import DATA_DIR_ENV, data_dir, load_dataset, make_faces25, read_olivetti
from aekit.data.faces import transform_faces


@pytest.fixture
def fake_olivetti(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (400, 64, 64), dtype=np.uint8)
    images[:, :8, :] = 255  # a bright band at the top: orientation must survive loading
    # The file's layout: one column per face, pixels column-major (Fortran order).
    faces = np.stack([im.reshape(-1, order="F") for im in images], axis=1)
    folder = tmp_path / "olivetti"
    folder.mkdir()
    savemat(folder / "olivettifaces.mat", {"faces": faces})
    return tmp_path, images


def test_read_olivetti_orientation_and_scale(fake_olivetti):
    root, images = fake_olivetti
    faces = read_olivetti(root / "olivetti" / "olivettifaces.mat")
    assert faces.shape == (400, 64, 64) and faces.dtype == np.float32
    np.testing.assert_allclose(faces, images / 255.0, atol=1e-7)


def test_faces_stored_as_floats_in_unit_range_are_not_scaled_again(fake_olivetti, tmp_path):
    _, images = fake_olivetti
    unit = np.stack([(im / 255.0).reshape(-1, order="F") for im in images], axis=1)
    savemat(tmp_path / "float.mat", {"faces": unit})
    np.testing.assert_allclose(read_olivetti(tmp_path / "float.mat"), images / 255.0, atol=1e-7)
    savemat(tmp_path / "neg.mat", {"faces": unit - 0.5})
    with pytest.raises(ValueError, match="negative"):
        read_olivetti(tmp_path / "neg.mat")


def test_faces25_split_by_person_and_standardized(fake_olivetti):
    root, _ = fake_olivetti
    parts = make_faces25(root / "olivetti" / "olivettifaces.mat", n_per_image=3, seed=1)
    assert parts["x_train"].shape == (30 * 10 * 3, 625)
    assert parts["x_test"].shape == (10 * 10 * 3, 625)
    assert set(parts["y_train"]) == set(range(30)) and set(parts["y_test"]) == set(range(30, 40))
    np.testing.assert_allclose(parts["x_train"].mean(0), 0, atol=1e-4)
    assert parts["x_train"].var(0).mean() == pytest.approx(1.0, rel=1e-4)
    again = make_faces25(root / "olivetti" / "olivettifaces.mat", n_per_image=3, seed=1)
    np.testing.assert_array_equal(parts["x_train"], again["x_train"])


def test_transform_of_a_constant_image_is_constant_and_of_a_ramp_varies():
    flat = np.full((1, 64, 64), 0.3, dtype=np.float32)
    np.testing.assert_allclose(transform_faces(flat, 5), 0.3, atol=1e-6)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))[None]
    out = transform_faces(ramp, 50, seed=0)
    # A 25-pixel window at scale s and angle t covers 24 s (|cos t| + |sin t|) source pixels
    # along the ramp, at least 24 * 1.4 / 63 = 0.533 of its range (the smallest scale).
    spans = out.max(1) - out.min(1)
    assert spans.min() > 0.53 and spans.max() <= 1.0 + 1e-6


def test_faces_errors(tmp_path):
    with pytest.raises(ValueError, match=r"olivettifaces\.mat"):
        load_dataset("faces", data_dir=tmp_path)
    bad = tmp_path / "olivetti"
    bad.mkdir()
    savemat(bad / "olivettifaces.mat", {"faces": np.zeros((10, 10), dtype=np.uint8)})
    with pytest.raises(ValueError, match="expected"):
        load_dataset("olivetti", data_dir=tmp_path)
    with pytest.raises(ValueError, match="n_train_people"):
        make_faces25(bad / "olivettifaces.mat", n_train_people=40)


@pytest.mark.realdata
def test_real_faces25_has_the_papers_size():
    if data_dir() is None or not (data_dir() / "olivetti" / "olivettifaces.mat").is_file():
        pytest.skip(f"Olivetti faces not found: set {DATA_DIR_ENV} to the reference data folder")
    faces = load_dataset("faces")
    assert faces.x_train.shape == (124_200, 625) and faces.x_test.shape == (41_400, 625)
    assert faces.value_range == "real" and faces.image_shape == (25, 25)
