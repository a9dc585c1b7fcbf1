"""Olivetti faces and the 25x25 face set of Hinton & Salakhutdinov (Science 2006).

The Olivetti (AT&T) faces are 400 grey-level 64x64 images of 40 people, 10 each, stored in
``olivettifaces.mat`` as a ``(4096, 400)`` uint8 matrix ``faces``, one column per face in
column-major pixel order, people in order.

The paper's set (supporting material): "165,600 25x25 images by rotating (-90 to 90 degrees),
scaling (1.4 to 2), cropping, and subsampling the original 400 images. The intensities in the
cropped images were shifted so that every pixel had zero mean and the entire dataset was then
scaled by a single number to make the average pixel variance be 1", the first 30 people for
training (124,200 images) and the other 10 for testing (41,400).

Here each output pixel ``p`` (centred on the 25x25 grid) samples the source at
``centre + scale * R(angle) p`` by bilinear interpolation, ``scale`` in [1.4, 2] source pixels
per output pixel, ``angle`` uniform in [-90, 90] degrees, and ``centre`` shifted uniformly
within the margin the window leaves (the crop); pixels falling outside the source take the
nearest edge value. The mean image and the variance scale come from the training people only,
so no statistic of the test people leaks into training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.io import loadmat

N_PEOPLE, PER_PERSON, SIDE = 40, 10, 64


def read_olivetti(path: str | Path) -> np.ndarray:
    """The 400 faces as float32 in [0, 1], shape ``(400, 64, 64)``, people in order."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"no Olivetti faces file at {path}; it is olivettifaces.mat (MATLAB v5, variable "
            "'faces'); pass --data-dir or set AEKIT_DATA_DIR to the folder holding olivetti/"
        )
    try:
        faces = loadmat(str(path))["faces"]
    except KeyError:
        raise ValueError(f"{path} has no variable 'faces'") from None
    except Exception as exc:  # scipy raises several types for a damaged file
        raise ValueError(f"{path} is not a readable MATLAB file: {exc}") from None
    if faces.shape != (SIDE * SIDE, N_PEOPLE * PER_PERSON):
        raise ValueError(f"{path}: 'faces' has shape {faces.shape}, expected (4096, 400)")
    # Column-major pixels: each column reshapes to 64x64 in Fortran order.
    images = faces.T.reshape(-1, SIDE, SIDE, order="C").transpose(0, 2, 1)
    # The file holds uint8 grey levels; a float copy already in [0, 1] is taken as it is.
    if np.issubdtype(images.dtype, np.integer) or images.max() > 1:
        if images.min() < 0 or images.max() > 255:
            raise ValueError(
                f"{path}: 'faces' holds values in [{images.min()}, {images.max()}]; expected "
                "grey levels 0-255 (uint8) or intensities in [0, 1]"
            )
        return (images / 255.0).astype(np.float32)
    if images.min() < 0:
        raise ValueError(f"{path}: 'faces' holds negative values; expected intensities in [0, 1]")
    return images.astype(np.float32)


def transform_faces(
    images: np.ndarray, n_per_image: int, seed: int = 0, size: int = 25
) -> np.ndarray:
    """Random rotations, scalings and crops of each image, subsampled to ``size x size``.

    Returns float32 of shape ``(len(images) * n_per_image, size * size)``, the copies of
    image ``i`` in rows ``i * n_per_image`` onwards.
    """
    rng = np.random.default_rng(seed)
    n, h, w = images.shape
    grid = np.arange(size) - (size - 1) / 2
    gy, gx = np.meshgrid(grid, grid, indexing="ij")
    pts = np.stack([gy.ravel(), gx.ravel()])  # (2, size*size)
    out = np.empty((n * n_per_image, size * size), dtype=np.float32)
    for i in range(n):
        angle = np.deg2rad(rng.uniform(-90, 90, n_per_image))
        scale = rng.uniform(1.4, 2.0, n_per_image)
        cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
        # (n_per_image, 2, 2) @ (2, size*size): each copy's sampling positions around 0.
        rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
        offsets = rot @ pts  # (n_per_image, 2, size*size)
        half = (size - 1) / 2 * scale
        margin_y = np.maximum((h - 1) / 2 - half, 0)
        margin_x = np.maximum((w - 1) / 2 - half, 0)
        cy = (h - 1) / 2 + rng.uniform(-1, 1, n_per_image) * margin_y
        cx = (w - 1) / 2 + rng.uniform(-1, 1, n_per_image) * margin_x
        coords = offsets + np.stack([cy, cx], 1)[:, :, None]
        coords = coords.transpose(1, 0, 2).reshape(2, -1)
        sampled = ndimage.map_coordinates(images[i], coords, order=1, mode="nearest")
        out[i * n_per_image : (i + 1) * n_per_image] = sampled.reshape(n_per_image, -1)
    return out


def make_faces25(
    path: str | Path, n_per_image: int = 414, seed: int = 0, n_train_people: int = 30
) -> dict[str, np.ndarray]:
    """The paper's 25x25 faces: train on the first ``n_train_people``, test on the rest.

    Returns a dict with ``x_train``, ``y_train`` (person ids), ``x_test``, ``y_test``,
    standardized as described in the module docstring.
    """
    if not 1 <= n_train_people < N_PEOPLE:
        raise ValueError(f"n_train_people must be in [1, {N_PEOPLE - 1}], got {n_train_people}")
    if n_per_image < 1:
        raise ValueError(f"n_per_image must be >= 1, got {n_per_image}")
    images = read_olivetti(path)
    x = transform_faces(images, n_per_image, seed)
    people = np.repeat(np.arange(N_PEOPLE), PER_PERSON * n_per_image)
    train = people < n_train_people
    mean = x[train].mean(0)
    scale = np.sqrt(x[train].var(0).mean())
    x = (x - mean) / scale
    return {
        "x_train": x[train],
        "y_train": people[train],
        "x_test": x[~train],
        "y_test": people[~train],
    }
