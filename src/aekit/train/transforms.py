"""Batch transforms: data augmentation as an object given to ``Trainer.fit``.

A transform draws its random parameters for the whole (global) batch from a generator of its
own, so turning it on leaves the shuffling as it was, a checkpoint saves its state (a resumed
run draws what an uninterrupted one would), and under DDP every rank slices the same draw to
its own rows. It moves training batches only; validation data is never transformed.

    Trainer(model, config).fit(x, transform=RandomShift(1, image_shape=(28, 28)))
"""

from __future__ import annotations

from typing import Any

import torch

from aekit.regularizers import draw_translations, translate_images

# Offset of a transform's seed from the run's, so its stream differs from the shuffling's.
SEED_OFFSET = 0x5EED


class BatchTransform:
    """A random change applied to every training batch (inputs and, for a reconstruction
    model, its targets alike, since the model reconstructs what it was given)."""

    def __init__(self) -> None:
        self.generator = torch.Generator()

    def setup(self, n_features: int, seed: int) -> None:
        """Check the transform fits rows of ``n_features`` and seed its generator from the
        run's ``seed`` (called by ``fit`` before the first batch)."""
        self.generator.manual_seed(seed + SEED_OFFSET)

    def draw(self, n: int) -> Any:
        """Random parameters for a batch of ``n`` rows."""
        raise NotImplementedError

    def rows(self, params: Any, part: slice) -> Any:
        """The parameters of rows ``part`` of the batch (a DDP rank's share)."""
        raise NotImplementedError

    def apply(self, xb: torch.Tensor, params: Any) -> torch.Tensor:
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"rng": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["rng"])


class RandomShift(BatchTransform):
    """Move images by up to ``max_shift`` pixels in each direction, zero-filled, each with
    probability ``prob`` (:func:`aekit.regularizers.translate_images`).

    Parameters
    ----------
    max_shift : int
        Largest move in pixels, each way (>= 1).
    prob : float
        Share of each batch's images that move, in (0, 1].
    image_shape : (int, int), optional
        ``(height, width)`` each row unflattens to; the data set's ``image_shape`` when the run
        specification builds the transform.
    """

    def __init__(
        self, max_shift: int, prob: float = 0.5, image_shape: tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 1:
            raise ValueError(f"max_shift must be a positive number of pixels, got {max_shift!r}")
        if isinstance(prob, bool) or not 0.0 < float(prob) <= 1.0:
            raise ValueError(f"prob must be in (0, 1], got {prob!r}")
        self.max_shift, self.prob, self.image_shape = max_shift, float(prob), image_shape

    def setup(self, n_features: int, seed: int) -> None:
        if self.image_shape is None:
            raise ValueError(
                "RandomShift moves images and needs their shape: pass image_shape=(height, "
                "width), the shape each row of the data unflattens to"
            )
        h, w = self.image_shape
        if n_features != h * w:
            raise ValueError(
                f"image_shape {self.image_shape} holds {h * w} pixels but x_train rows have "
                f"{n_features} features; give the shape the rows unflatten to"
            )
        if self.max_shift >= min(h, w):
            raise ValueError(
                f"a shift of {self.max_shift} would move images of shape {self.image_shape} "
                "out of the frame; use a few pixels"
            )
        super().setup(n_features, seed)

    def draw(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return draw_translations(n, self.max_shift, self.prob, self.generator)

    def rows(self, params, part: slice):
        return params[0][part], params[1][part]

    def apply(self, xb: torch.Tensor, params) -> torch.Tensor:
        assert self.image_shape is not None
        return translate_images(xb, self.image_shape, *params)
