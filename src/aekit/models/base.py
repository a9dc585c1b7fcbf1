"""What every aekit model shares: numpy-in, numpy-out batched evaluation and saving.

Models are plain ``nn.Module``s working on tensors. The trainer asks only for
``model.loss(x) -> (loss, metrics)`` and ``model.evaluate_batch(x) -> metrics``;
everything else here is convenience for arrays that may not fit on the device at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from aekit.rows import MemmapRows
from aekit.saving import load_model, save_model


def as_float_tensor(x, device: torch.device | str | None = None) -> torch.Tensor:
    """A float32 tensor view of ``x`` (numpy array or tensor), on ``device``."""
    if isinstance(x, torch.Tensor):
        t = x
    elif sp.issparse(x):
        # Only ever a batch (apply_batched slices first): sparse corpora stay sparse whole.
        t = torch.from_numpy(x.toarray().astype(np.float32, copy=False))
    else:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if t.dtype != torch.float32:
        t = t.float()
    return t.to(device) if device is not None else t


@torch.no_grad()
def apply_batched(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x,
    batch_size: int = 1024,
    device: torch.device | str | None = None,
    out: np.ndarray | str | Path | None = None,
) -> np.ndarray:
    """Apply ``fn`` to ``x`` in batches and return a numpy array.

    Batches are converted one at a time, so a memory-mapped ``x`` is never loaded whole (an
    ``np.memmap`` is read through :class:`~aekit.rows.MemmapRows`, which keeps its pages out
    of the resident set). With ``out`` a ``.npy`` path, the result is written there batch by
    batch (a float32 ``.npy`` opened with ``np.lib.format.open_memmap``) and returned as that
    memmap; with ``out`` an array of the result's shape, it is filled and returned.
    """
    if isinstance(x, np.memmap) and x.ndim == 2:
        x = MemmapRows(x)  # reads rows without keeping the file's pages resident
    n = x.shape[0] if sp.issparse(x) else len(x)  # len() of a scipy matrix raises
    if n == 0:
        raise ValueError("got an empty array (0 samples); pass at least one sample")
    outs = []
    result = out if isinstance(out, np.ndarray) else None
    for start in range(0, n, batch_size):
        xb = as_float_tensor(x[start : start + batch_size], device)
        yb = fn(xb).float().cpu().numpy()  # (batch, ...)
        if out is None:
            outs.append(yb)
            continue
        if result is None:
            assert not isinstance(out, np.ndarray)  # an array out is the result from the start
            result = np.lib.format.open_memmap(
                Path(out), mode="w+", dtype=np.float32, shape=(n, *yb.shape[1:])
            )
        elif start == 0 and result.shape != (n, *yb.shape[1:]):
            raise ValueError(f"out has shape {result.shape} but the result is {(n, *yb.shape[1:])}")
        result[start : start + len(yb)] = yb
    if out is None:
        return np.concatenate(outs, axis=0)
    assert result is not None  # made at the first batch, and there is one (n >= 1)
    if isinstance(result, np.memmap):
        result.flush()
    return result


def check_input_width(x: torch.Tensor, n_in: int, name: str = "data") -> None:
    """Raise ``ValueError`` unless ``x`` is ``(n_samples, n_in)``."""
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(
            f"{name} has shape {tuple(x.shape)} but the model's input layer has {n_in} "
            "units; match the layer spec's first width to the data"
        )


def check_documents(x, name: str = "data") -> None:
    """Raise ``ValueError`` unless ``x`` (a tensor or :class:`~aekit.sparse.SparseRows`) holds
    word counts: non-negative, and no empty document, which would have no word distribution."""
    if float(x.min()) < 0:
        raise ValueError(f"{name} has negative values; pass word counts")
    lengths = x.row_sums() if hasattr(x, "row_sums") else x.sum(-1)
    empty = torch.nonzero(lengths <= 0).flatten()
    if len(empty):
        raise ValueError(
            f"{name} has {len(empty)} empty documents (no word of the vocabulary), the first "
            f"at row {int(empty[0])}; drop them (aekit.data.text.check_nonempty names them)"
        )


def check_labels(y: torch.Tensor, n_classes: int, name: str) -> None:
    """Raise unless ``y`` holds integer class labels in ``[0, n_classes)``."""
    if y.ndim != 1 or y.is_floating_point():
        raise ValueError(
            f"{name} must be integer class labels of shape (n_samples,), got dtype {y.dtype} "
            f"and shape {tuple(y.shape)}"
        )
    if len(y) == 0:
        raise ValueError(f"{name} is empty; pass one label per sample")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"{name} has labels in [{lo}, {hi}] but the model has n_classes={n_classes}; "
            f"encode labels as 0..{n_classes - 1} or raise n_classes"
        )


def seeded_rng(seed: int | None, device: torch.device | str = "cpu"):
    """A context in which torch's global RNG is seeded and restored on exit (the caller's
    stream is untouched); a no-op for ``seed=None``."""
    if seed is None:
        return contextlib.nullcontext()
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []

    @contextlib.contextmanager
    def ctx():
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    return ctx()


class Model(nn.Module):
    """Base class of registered aekit models: the one place the trainer's contract is declared.

    A model computes ``loss(x[, y]) -> (loss, metrics)`` on a training batch and
    ``evaluate_batch(x[, y]) -> metrics`` on held-out data. Everything else the trainer, the run
    specification or the command line needs to know of a model is declared here with its
    default, and a model overrides only what differs; nothing asks a model whether it has an
    attribute.
    """

    config_class: type[Any]  # its config dataclass
    registered_name: str

    #: The held-out metric early stopping and best-weight restoring watch (``val_<monitor>``).
    monitor: str = "recon"

    # Properties, so a model may decide by its config (the conditional VAE); most override
    # them with a class attribute.
    @property
    def takes_targets(self) -> bool:
        """Whether ``fit`` takes targets (labels) beside the inputs."""
        return False

    @property
    def supports_lbfgs(self) -> bool:
        """Whether the loss is the objective itself, so L-BFGS's line search may evaluate it."""
        return True

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def save(self, path: str | Path) -> Path:
        """Save to directory ``path`` as ``model.safetensors`` + ``config.json``."""
        return save_model(self, path)

    def _apply_numpy(self, fn, x, batch_size: int, out=None) -> np.ndarray:
        """``apply_batched`` in eval mode on the model's device; the mode is restored."""
        was_training = self.training
        self.eval()
        try:
            return apply_batched(fn, x, batch_size, self.device, out=out)
        finally:
            self.train(was_training)

    # The trainer's contract ---------------------------------------------------------------------

    # Each model spells its own arguments, (x), (x, y) or (x, y=None); *args here lets it.
    def loss(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training objective on a batch, ``loss(x)`` (``loss(x, y)`` for a model that
        :attr:`takes_targets`): the scalar to minimise and its terms, scalar tensors to log."""
        raise NotImplementedError(f"{type(self).__name__} defines no training objective, loss()")

    def evaluate_batch(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Held-out metrics on a batch, ``evaluate_batch(x)`` (or ``(x, y)``), scalar tensors."""
        raise NotImplementedError(f"{type(self).__name__} defines no held-out metrics")

    def training_phases(self) -> dict[str, tuple[list[nn.Parameter], float]] | None:
        """For a model trained as a game (several optimizers in one loop, e.g. the adversarial
        autoencoder): each phase's parameters and learning-rate multiplier, in the order they
        run, with :meth:`phase_loss` giving each phase's loss. ``None``: one objective."""
        return None

    def phase_loss(self, phase: str, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The loss of one of :meth:`training_phases` on a batch."""
        raise NotImplementedError(f"{type(self).__name__} trains with one objective, loss()")

    def check_data(self, x, name: str = "data") -> None:
        """Raise ValueError naming ``name`` when ``x`` is not data this model can learn from
        (e.g. outside [0, 1] for a Bernoulli likelihood). Every input passes by default."""

    def check_targets(self, y: torch.Tensor, name: str = "y") -> None:
        """Raise ValueError when ``y`` is not targets this model learns from."""

    @classmethod
    def label_field(cls) -> str | None:
        """The config field that holds the number of classes when the model learns from
        labels (``n_classes``), or None when it never does. A run specification fills it in
        from the data's labels."""
        return None

    @classmethod
    def needs_labels(cls, config, conditional: bool = False) -> bool:
        """Whether a model of ``config`` learns from labels; ``conditional`` asks for the
        label-conditioned variant where the family has one (the conditional VAE)."""
        return False

    @classmethod
    def suggested_train_settings(cls, config) -> dict:
        """TrainConfig fields this model trains best with, for a run specification to use
        where the user set nothing; the trainer itself stays model-agnostic. None by default."""
        return {}

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> Self:
        """Load a model saved with :meth:`save`; raises if it is another model type."""
        model = load_model(path, map_location)
        if not isinstance(model, cls):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def save_pretrained(self, save_directory: str | Path, card: str | None = None) -> Path:
        """Save as a hub-style folder: config.json, model.safetensors and README.md (the model
        card; see :mod:`aekit.hub`)."""
        from aekit.hub import save_pretrained

        return save_pretrained(self, save_directory, card)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, **kwargs):
        """Load from a hub-style folder or a Hugging Face hub repo id (:mod:`aekit.hub`);
        raises if it holds another model type."""
        from aekit.hub import from_pretrained

        return from_pretrained(name_or_path, expected=cls, **kwargs)


class EncoderDecoder(Model):
    """A model with ``encode(x) -> z``, ``decode(z) -> x_hat`` and ``forward(x) -> x_hat``:
    the numpy surface every autoencoder shares (scikit-learn's names)."""

    @torch.no_grad()
    def _decode_prior_draws(
        self,
        n: int,
        seed: int | None,
        generator: torch.Generator | None,
        draw: Callable[[int, torch.Generator | None], torch.Tensor],
        decode: Callable[[torch.Tensor], torch.Tensor],
    ) -> np.ndarray:
        """What every generative model's ``sample`` does: check ``n`` and the seed, draw codes
        on the CPU (so a seed gives the same samples on any device), decode in eval mode."""
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer (samples to draw), got {n!r}")
        if generator is not None and seed is not None:
            raise ValueError("pass either seed or generator, not both")
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(int(seed))
        z = draw(int(n), generator)  # (n, decoder input width)
        was_training = self.training
        self.eval()
        try:
            return decode(z.to(self.device)).float().cpu().numpy()
        finally:
            self.train(was_training)

    def transform(self, x, batch_size: int = 1024, out=None) -> np.ndarray:
        """Codes of an array, computed in batches in eval mode (written batch by batch to
        ``out``, a ``.npy`` path or an array, when given: see :func:`apply_batched`)."""
        return self._apply_numpy(self.encode, x, batch_size, out=out)

    def reconstruct(self, x, batch_size: int = 1024, out=None) -> np.ndarray:
        """Reconstructions of an array, computed in batches in eval mode (``out`` as for
        :meth:`transform`)."""
        return self._apply_numpy(self.forward, x, batch_size, out=out)

    def inverse_transform(self, z, batch_size: int = 1024) -> np.ndarray:
        """Reconstructions from codes."""
        return self._apply_numpy(self.decode, z, batch_size)

    def reconstruction_error(self, x, batch_size: int = 1024) -> np.ndarray:
        """Per-sample squared error ``sum_i (x_i - x_hat_i)^2``: an anomaly score."""

        def err(xb: torch.Tensor) -> torch.Tensor:
            return (self.forward(xb) - xb).pow(2).sum(-1)

        return self._apply_numpy(err, x, batch_size)
