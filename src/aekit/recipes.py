"""Default recipes: how an autoencoder trains when the user names only the data.

The lecture's settings (logistic units, a constant Adam step, 20 epochs) are the model configs'
own defaults and stay so for the reproductions; they lose to PCA out of the box (digits: test
error 2.98 against PCA-32's 0.17). A *recipe* fills in what a run specification leaves open
(:meth:`aekit.spec.RunSpec.build`; the command line and TOML files go through it), per kind of
data:

- ``"unit"``: every value in [0, 1] (images): a Bernoulli likelihood (cross-entropy on the
  logits);
- ``"real"``: anything else, e.g. standardized features or faces: a Gaussian likelihood
  (squared error).

Both train ELU hidden units (Clevert et al., ICLR 2016) and a linear code with Adam under a
one-cycle schedule (Smith & Topin 2019) laid over the run (its epochs, or its time budget), in
bfloat16 where the CPU multiplies it natively (AVX512-BF16 or AMX; :func:`fast_bf16`). The
training length grows as the data set shrinks, so small data sets get enough updates; the code
size follows the data's width (:func:`default_code_size`). Every value was chosen by
measurement: ``benchmarks/defaults.py`` (against PCA at the same code size) and
``benchmarks/time_to_quality.py`` (the MNIST autoencoder against a time budget); the numbers
are in benchmarks/README.md.

What a recipe filled in is written into the run's saved specification, so a resume (or a later
aekit with other defaults) rebuilds exactly the same run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

#: Recipe names by kind of data.
KINDS = ("unit", "real")
#: Updates a default run makes at least (small data sets get more epochs to reach them).
MIN_UPDATES = 6000
#: Epochs a default run makes at least, and at most (a time budget lifts the cap).
MIN_EPOCHS, MAX_DEFAULT_EPOCHS = 20, 2000
#: Rows held out for validation: 10% of the data, at most this many. The held-out error only
#: picks the best epoch (its standard error on 2,000 MNIST rows is about 1.5% of the error);
#: every row beyond that is one the network does not train on, and validating it costs time
#: a budget would rather train with.
MAX_VALIDATION_ROWS = 2000
#: Time budgets (seconds) from which images train on copies moved by up to a pixel. Long runs
#: overfit: the MNIST autoencoder's held-out error bottomed out at epoch 146 of 196 in 1800 s
#: (one thread) and ended at 3.22 while its training error was 1.50 (benchmarks/budgets.py);
#: within 300 s (59 epochs on two threads) it had not begun to.
AUGMENT_MIN_BUDGET = 900.0
#: Weights (encoder and decoder) from which bfloat16 pays: measured on an AMX CPU at batch 128,
#: one thread, fp32 time / bf16 time per step: 0.75 at 64-256-8 (33k weights), 1.0-1.05 at
#: 784-400-200-100-50-25-6 (0.7M) and 784-256-16 (0.4M), 1.3 at 784-1000-500-250-30 (2.8M) and
#: 625-2000-1000-500-30 (4.6M): below a million the casts cost what the matmuls save.
BF16_MIN_WEIGHTS = 1_000_000
#: The one-cycle peak: 3e-3 for one hidden layer (benchmarks/defaults.py's sweep: best or tied
#: on every data set against 1e-3 and 1e-2), 2e-3 for deeper stacks (the MNIST time-to-quality
#: recipe; a deep ELU stack at 3e-3 is less stable early in the cycle).
PEAK_LR_SHALLOW, PEAK_LR_DEEP = 3e-3, 2e-3


def describe_recipe(filled: dict[str, Any]) -> str:
    """One line naming the settings a recipe filled in, for the command line to show."""
    parts = ", ".join(f"{k} {_short(v)}" for k, v in filled.items())
    return f"aekit's default recipe for this data (--recipe none for the configs' own): {parts}"


@dataclass(frozen=True)
class Recipe:
    """The settings a recipe fills in where the user set nothing.

    Parameters
    ----------
    kind : {"unit", "real"}
        The kind of data it is for.
    model : dict
        :class:`~aekit.models.AutoencoderConfig` fields.
    train : dict
        :class:`~aekit.train.TrainConfig` fields.
    """

    kind: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)


def data_kind(x: np.ndarray) -> str:
    """``"unit"`` when every value of ``x`` lies in [0, 1], else ``"real"``."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return "unit" if lo >= 0.0 and hi <= 1.0 else "real"


def default_code_size(n_features: int) -> int:
    """The default code width for data of ``n_features`` columns: about the square root of
    the width, between 2 and 30 (64 pixels of digits: 8; 784 of MNIST: 28; 30 breast-cancer
    features: 5). A code as wide as half the input leaves an autoencoder nothing to add over
    PCA, which at that size already keeps almost everything (digits: PCA-32's error is 0.17)."""
    return int(min(30, max(2, round(math.sqrt(n_features)))))


def default_layers(n_features: int) -> list[int]:
    """The default architecture: one hidden layer of 256 units (never narrower than the
    input's quarter) and the default code."""
    hidden = max(256, n_features // 4)
    return [n_features, hidden, default_code_size(n_features)]


def fast_bf16(device: str = "auto") -> bool:
    """Whether bfloat16 autocast speeds training up here: a CUDA device that supports it, or
    a CPU with AVX512-BF16 or AMX (without them the CPU emulates bfloat16, slower than
    float32)."""
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def default_epochs(n_train: int, batch_size: int) -> int:
    """Epochs for at least :data:`MIN_UPDATES` updates, between the bounds."""
    per_epoch = max(1, math.ceil(n_train / batch_size))
    return int(min(MAX_DEFAULT_EPOCHS, max(MIN_EPOCHS, math.ceil(MIN_UPDATES / per_epoch))))


def n_weights(layers: list[int]) -> int:
    """Weight-matrix entries of an autoencoder with encoder ``layers`` and a mirrored decoder."""
    return 2 * sum(a * b for a, b in zip(layers[:-1], layers[1:]))


def default_recipe(
    x_train: np.ndarray,
    train: dict[str, Any] | None = None,
    device: str = "auto",
    layers: list[int] | None = None,
    image_shape: tuple[int, int] | None = None,
) -> Recipe:
    """The autoencoder recipe for training rows ``x_train``.

    Parameters
    ----------
    x_train : ndarray of shape (n_samples, n_features)
        The training rows (their range decides the kind, their count the length).
    train : dict, optional
        The TrainConfig fields the user set (a time budget replaces the epoch rule, a batch
        size the recipe's in the epoch rule).
    device : str
        Where the run trains (for :func:`fast_bf16`).
    layers : list of int, optional
        The encoder widths the user chose; None: the recipe's (:func:`default_layers`). Their
        depth sets the peak learning rate, their size whether bfloat16 pays.
    image_shape : (int, int), optional
        The rows' image shape, if they are images: a long time budget then trains images in
        [0, 1] on translated copies (:data:`AUGMENT_MIN_BUDGET`).
    """
    train = train or {}
    kind = data_kind(x_train)
    n, width = x_train.shape
    widths = layers if layers is not None else default_layers(width)
    model: dict[str, Any] = {
        "layers": default_layers(width),
        "activation": "elu",
        "code_activation": "linear",
        "likelihood": "bernoulli" if kind == "unit" else "gaussian",
    }
    settings: dict[str, Any] = {
        "optimizer": "adam",
        "lr_schedule": "onecycle",
        "lr": PEAK_LR_SHALLOW if len(widths) <= 3 else PEAK_LR_DEEP,
        "batch_size": 128,
        "bf16": n_weights(widths) >= BF16_MIN_WEIGHTS
        and fast_bf16(str(train.get("device", device))),
        # Small data sets run thousands of epochs of milliseconds each: a checkpoint every
        # few seconds keeps an interrupt cheap without writing one per epoch.
        "checkpoint_seconds": 10.0,
        "val_fraction": round(min(0.1, MAX_VALIDATION_ROWS / max(n, 1)), 6),
    }
    budget = train.get("time_budget")
    # Images in [0, 1] only: the faces set (real-valued) is made of moved, turned and scaled
    # copies already (aekit.data.make_faces25).
    long_run = budget is not None and budget >= AUGMENT_MIN_BUDGET
    if kind == "unit" and image_shape is not None and long_run:
        settings["augment_shift"] = 1
    if budget is None:
        batch = int(train.get("batch_size", settings["batch_size"]))
        n_fit = round(n * (1 - float(train.get("val_fraction", settings["val_fraction"]))))
        settings["epochs"] = default_epochs(max(n_fit, 1), batch)
    return Recipe(kind, model, settings)
