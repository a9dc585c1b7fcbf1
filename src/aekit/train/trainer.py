"""The one training loop every aekit model goes through.

A model only has to provide ``loss(x) -> (loss, terms)`` (a scalar to minimise and a dict of
scalar tensors to log) and ``evaluate_batch(x) -> metrics`` for held-out data. Supervised
models (the VIB classifier, the IB autoencoder) take targets too: given ``y_train``, the
trainer calls ``loss(x, y)`` and ``evaluate_batch(x, y)`` on rows sliced together. A model
names the held-out metric early stopping watches in ``monitor`` (default ``"recon"``).

A model with several players (the adversarial autoencoder: autoencoder, discriminator,
encoder-as-generator) declares them in ``training_phases() -> {name: (parameters, lr_scale)}``
and gives each a loss in ``phase_loss(name, x[, y])``; the trainer keeps one optimizer per
phase and runs the phases in order on every batch.

The trainer owns shuffling, the optimizers and their learning-rate schedule, validation and
early stopping, checkpoints, progress and metrics.

Run directory layout (when ``run_dir`` is given)::

    run.json              model name + config, train config, and caller metadata
    metrics.jsonl         one JSON record per finished epoch
    latest.json           {"checkpoint": "ckpt-0007"}: replaced atomically after each save
    ckpt-0007/            model.safetensors, optimizer.safetensors, best.safetensors, state.json
    model/                the final model (best weights if early stopping restored them)

A checkpoint directory is written under a temporary name and renamed into place, and only then
does ``latest.json`` point at it, so an interrupted save never replaces the last good one.

Under ``torchrun`` (``WORLD_SIZE > 1``; :mod:`aekit.train.distributed`) the same loop trains on
several processes: ``batch_size`` stays the global batch, each rank computes the loss of its
contiguous slice of every global batch, and DistributedDataParallel averages the gradients,
weighted by slice size, so one update equals the one-process update on the whole batch. The
logged losses and the validation metrics are sample-weighted sums over all ranks, so every rank
takes the same early-stopping decisions. Only rank 0 writes to ``run_dir``; checkpoints hold
the unwrapped model and optimizer, so a run may resume on any number of processes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from aekit.atomic import read_json
from aekit.card import run_card
from aekit.config import ConfigError, check_fields, config_from_dict, config_to_dict, param
from aekit.models.base import Model, as_float_tensor
from aekit.registry import is_registered
from aekit.rows import MemmapRows, SparseRows, as_row_source, is_row_source
from aekit.saving import save_model
from aekit.train.budget import BudgetClock
from aekit.train.distributed import (
    DistributedContext,
    PeerFailedError,
    data_parallel,
    init_distributed,
    is_communication_error,
    rank_device,
    shard_bounds,
)
from aekit.train.run_folder import RunFolder, RunState, check_same_data, data_fingerprint
from aekit.train.transforms import BatchTransform, RandomShift

OPTIMIZERS = ("adam", "sgd", "lbfgs")
SCHEDULES = ("constant", "cosine", "step", "exponential", "onecycle")
#: The one-cycle schedule starts (and the time it warms up ends) at lr / ONECYCLE_DIV, and ends at
#: lr / ONECYCLE_FINAL_DIV (Smith & Topin 2019; torch.optim.lr_scheduler.OneCycleLR's defaults).
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is left untouched."""


@dataclass
class TrainConfig:
    """Settings of :class:`Trainer`.

    Parameters
    ----------
    epochs : int
        Passes over the training set; with ``time_budget``, the most passes (the CLI and
        :class:`~aekit.spec.RunSpec` lift it to 1,000,000 when only a budget is given).
    time_budget : float or None
        Seconds the run may take: training stops at the first batch after which the rest
        (validation, the checkpoint and the final save, timed on earlier epochs) would not fit,
        and the best weights are kept. The clock counts from the start of :meth:`Trainer.fit`,
        or from ``budget_start`` (the CLI and :meth:`aekit.spec.Run.fit` start it before loading
        the data), so data loading, checkpoints and the final save are included; evaluating
        the final model afterwards is not. A resumed run continues the seconds its
        checkpoint had used. The one-cycle and cosine schedules are laid over this time.
    batch_size : int
        Minibatch size (the last batch of an epoch may be smaller).
    optimizer : {"adam", "sgd", "lbfgs"}
        ``sgd`` uses ``momentum`` (Nesterov off); ``lbfgs`` runs ``lbfgs_iters`` iterations
        with a strong-Wolfe line search on each minibatch (lr 1.0 is its natural step).
    momentum : float
        SGD momentum (after ``momentum_warmup_epochs``), in [0, 1).
    initial_momentum, momentum_warmup_epochs : float or None, int
        SGD momentum for the first ``momentum_warmup_epochs`` epochs before ``momentum``
        (Hinton & Salakhutdinov's RBMs: 0.5 for 5 epochs, then 0.9).
    lr : float
        Base learning rate.
    lr_schedule : {"constant", "cosine", "step", "exponential", "onecycle"}
        Factor on ``lr``: cosine decays to 0 over ``epochs`` (or the time budget); step
        multiplies by ``lr_gamma`` every ``lr_step_epochs``; exponential by ``lr_gamma`` every
        epoch; onecycle (Smith & Topin 2019), set every batch, rises from ``lr / 25`` to
        ``lr`` over the first ``warmup_fraction`` of the run and falls along a cosine to
        ``lr / 1e4`` at its end, the end being ``epochs`` or, sooner, the time budget.
    warmup_fraction : float
        The part of the run over which the one-cycle schedule rises, in [0, 1).
    lr_step_epochs : int
        Epochs between the step schedule's decays.
    lr_gamma : float
        Decay factor of the step and exponential schedules.
    lbfgs_iters : int
        L-BFGS iterations on each minibatch.
    val_fraction : float
        Fraction of the training data held out for validation when no validation set is
        given (a seeded random split).
    patience : int or None
        Early stopping: stop after this many epochs without a validation improvement larger
        than ``min_delta``; ``None`` trains all epochs. With validation data (a split or
        ``x_val``), the best epoch's weights are restored at the end when ``restore_best`` is
        true (with or without patience); without it, the monitor is the training loss and the
        last weights are kept.
    min_delta : float
        The smallest change of the monitored validation loss that counts as an improvement.
    restore_best : bool
        Restore the weights of the best validation epoch at the end of training.
    seed : int
        Seeds initialisation-independent randomness: the split, the shuffling, corruption.
    device : {"auto", "cpu", "cuda", ...}
        ``auto`` picks CUDA when available.
    adam_betas : (float, float)
        Adam's ``(beta1, beta2)``; Alemi et al.'s VIB used ``(0.5, 0.999)``.
    ema_decay : float or None
        Keep an exponential moving average of the weights (Polyak averaging, as in Alemi et
        al.'s VIB) with this decay, warmed up as ``min(decay, (1 + n) / (10 + n))`` after ``n``
        updates (TensorFlow's ``num_updates`` rule, so the first iterates are not
        over-weighted). Validation, early stopping and the final model use the average.
    bf16 : bool
        bfloat16 autocast for the forward pass (weights and optimizer stay fp32).
    compile : bool
        Compile the model's objective with ``torch.compile`` (inductor; on a CPU it needs a
        C++ compiler): the forward's and backward's elementwise work and autocast's casts
        fuse into a few kernels. The first batches pay for the compilation (5-30 s, about 1 s
        from inductor's cache; inside ``time_budget``), and a short last batch compiles once
        more. On the MNIST autoencoder in bf16 on an AMX CPU: 1.09x the speed at batch 256,
        1.14x at batch 1024 (``benchmarks/throughput.py --share``). Random draws inside a
        compiled loss (corruption) come from inductor's generator, so a compiled run does not
        match an eager one bit for bit. Models trained in phases are not compiled.
    flush_denormal : bool
        Flush denormal floats to zero on the CPU during training. Saturating logistic units
        produce denormal gradients, which the CPU handles in slow microcode: on the MNIST
        autoencoder benchmark this made training about 10% faster. Turned off again after
        :meth:`Trainer.fit` (torch's default).
    augment_shift, augment_prob, image_shape : int, float, (int, int) or None
        Data augmentation by random translation: each training batch's images (rows of
        ``image_shape``, flattened) move by up to ``augment_shift`` pixels in each direction
        with probability ``augment_prob``, zero-filled; a reconstruction model's target is the
        moved image, a supervised model's labels stay as they are
        (``aekit.regularizers.translate_images``). 0 turns it off. Validation data is never
        moved. The shifts come from a generator of their own, seeded by ``seed`` and saved in
        checkpoints, and are drawn for the whole batch before DDP splits it.
    checkpoint_seconds : float
        0 writes a checkpoint after every epoch; otherwise after the first and the last, and
        after any epoch that ends this many seconds or more after the previous checkpoint (an
        interrupted run then loses at most that much; epochs of a small data set last a few
        milliseconds, and a checkpoint can cost more than the epoch).
    progress : bool
        Show a progress bar (on a terminal) with loss and throughput.
    log_every : int
        Batches between progress updates; also how often the device is synchronised to look
        for a non-finite loss (its first batch is recorded on the device, so the report is
        exact whatever this value).
    """

    epochs: int = param(20, ge=1)
    batch_size: int = param(128, ge=1)
    optimizer: str = param("adam", choices=OPTIMIZERS)
    lr: float = param(1e-3, gt=0)
    momentum: float = param(0.9, ge=0, lt=1)
    lr_schedule: str = param("constant", choices=SCHEDULES)
    warmup_fraction: float = param(0.3, ge=0, lt=1)
    time_budget: float | None = param(None, gt=0)
    lr_step_epochs: int = param(10, ge=1)
    lr_gamma: float = param(0.5, gt=0)
    initial_momentum: float | None = param(None, ge=0, lt=1)
    momentum_warmup_epochs: int = param(0, ge=0)
    lbfgs_iters: int = param(3, ge=1)
    val_fraction: float = param(0.1, ge=0, lt=1)
    patience: int | None = param(None, ge=1)
    min_delta: float = param(0.0, ge=0)
    restore_best: bool = True
    seed: int = param(0, ge=0, lt=2**63)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    ema_decay: float | None = param(None, gt=0, lt=1)
    device: str = "auto"
    bf16: bool = False
    compile: bool = False
    flush_denormal: bool = True
    augment_shift: int = param(0, ge=0)
    augment_prob: float = param(0.5, gt=0, le=1)
    image_shape: tuple[int, int] | None = None
    checkpoint_seconds: float = param(0.0, ge=0)
    progress: bool = True
    log_every: int = param(50, ge=1)

    def __post_init__(self) -> None:
        check_fields(self)

        def positive(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")

        for name in ("epochs", "batch_size", "lbfgs_iters", "lr_step_epochs", "log_every"):
            positive(name)
        # numpy's and torch's generators take 0 .. 2**63 - 1; say so here, by name.
        if (
            not isinstance(self.seed, numbers.Integral)
            or isinstance(self.seed, bool)
            or not 0 <= self.seed < 2**63
        ):
            raise ValueError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose one of {SCHEDULES}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.initial_momentum is not None and not 0.0 <= self.initial_momentum < 1.0:
            raise ValueError(f"initial_momentum must be in [0, 1), got {self.initial_momentum}")
        try:
            b1, b2 = (float(b) for b in self.adam_betas)
        except (TypeError, ValueError):
            raise ValueError(
                f"adam_betas must be two numbers (beta1, beta2), got {self.adam_betas!r}"
            ) from None
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"adam_betas must each lie in [0, 1), got {self.adam_betas!r}")
        self.adam_betas = (b1, b2)
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {self.ema_decay}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")
        shift = self.augment_shift
        if not isinstance(shift, numbers.Integral) or isinstance(shift, bool) or shift < 0:
            raise ValueError(f"augment_shift must be an integer >= 0 (pixels), got {shift!r}")
        prob = self.augment_prob
        if isinstance(prob, bool) or not isinstance(prob, numbers.Real) or not 0.0 < prob <= 1.0:
            raise ValueError(f"augment_prob must be a number in (0, 1], got {prob!r}")
        shape = self.image_shape
        if shape is not None:
            if (
                not isinstance(shape, list | tuple)
                or len(shape) != 2
                or not all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                    for v in shape
                )
            ):
                raise ValueError(
                    "image_shape must be (height, width), two positive integers, the shape "
                    f"each row of the data unflattens to; got {shape!r}"
                )
            self.image_shape = (int(shape[0]), int(shape[1]))
        if shift:
            if self.image_shape is None:
                raise ValueError(
                    "augment_shift needs image_shape=(height, width), the shape each row of "
                    "the data unflattens to"
                )
            if shift >= min(self.image_shape):
                raise ValueError(
                    f"augment_shift {shift} would move images of shape {self.image_shape} "
                    "out of the frame; use a few pixels"
                )

    def lr_at(self, epoch: int, progress: float | None = None) -> float:
        """Learning rate for 0-based ``epoch``; ``progress`` in [0, 1] is the part of the run
        done (by batches or by the time budget, whichever is further), which the one-cycle and
        cosine schedules follow when given."""
        if progress is None:
            progress = epoch / self.epochs
        progress = min(max(progress, 0.0), 1.0)
        if self.lr_schedule == "onecycle":
            return self.lr * onecycle_factor(progress, self.warmup_fraction)
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * progress))
        if self.lr_schedule == "step":
            return self.lr * self.lr_gamma ** (epoch // self.lr_step_epochs)
        if self.lr_schedule == "exponential":
            return self.lr * self.lr_gamma**epoch
        return self.lr

    def momentum_at(self, epoch: int) -> float:
        """SGD momentum for 0-based ``epoch``."""
        if self.initial_momentum is not None and epoch < self.momentum_warmup_epochs:
            return self.initial_momentum
        return self.momentum


def onecycle_factor(progress: float, warmup_fraction: float = 0.3) -> float:
    """The one-cycle schedule's factor on the peak learning rate at ``progress`` in [0, 1]:
    a half-cosine rise from ``1 / ONECYCLE_DIV`` to 1 over ``warmup_fraction``, then a
    half-cosine fall to ``1 / ONECYCLE_FINAL_DIV`` (OneCycleLR's shape, with its defaults)."""
    start, end = 1.0 / ONECYCLE_DIV, 1.0 / ONECYCLE_FINAL_DIV
    if progress < warmup_fraction:
        t = progress / warmup_fraction
        return start + (1.0 - start) * 0.5 * (1 - math.cos(math.pi * t))
    t = (progress - warmup_fraction) / (1.0 - warmup_fraction)
    return end + (1.0 - end) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            "device", f"must be 'auto', 'cpu' or 'cuda[:N]', got {name!r}", "TrainConfig"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device",
            f"{name!r} was asked for but CUDA is not available; use {{auto}}",
            "TrainConfig",
            mentions={"auto": ("device", "auto")},
        )
    return device


def can_fuse(params: Sequence[torch.Tensor]) -> bool:
    """Whether torch's fused Adam/SGD kernels apply (CPU kernels arrived in torch 2.4)."""
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params
    )


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random (train, validation) index split of ``n`` samples."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = int(round(n * fraction))
    if fraction > 0 and n_val == 0:
        n_val = 1
    if n - n_val < 1:
        raise ValueError(f"{n} samples leave none for training after a {fraction} validation split")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


@dataclass
class _Data:
    """A fit's data on the device: training rows and targets, held-out rows and targets (None
    without validation), and the fingerprint of the data as given."""

    x: Any
    y: torch.Tensor | None
    xv: Any
    yv: torch.Tensor | None
    fingerprint: dict[str, Any]


@dataclass
class History:
    """Per-epoch records and the outcome of a run."""

    records: list[dict[str, Any]]
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    #: Training ended because the time budget was spent.
    out_of_time: bool = False

    def values(self, key: str) -> list[float]:
        return [r[key] for r in self.records if key in r]


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state_dict into safetensors-ready tensors and a JSON-ready rest.

    Lists of tensors (L-BFGS's history) become ``state.{pid}.{key}.{i}`` entries.
    """
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    lists: dict[str, dict[str, list[bool]]] = {}
    for pid, pstate in state["state"].items():
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{key}"] = value
            elif isinstance(value, list) and all(
                v is None or isinstance(v, torch.Tensor) for v in value
            ):
                # Positions holding None (L-BFGS's unused history slots) are listed as such.
                lists.setdefault(str(pid), {})[key] = [v is not None for v in value]
                for i, v in enumerate(value):
                    if v is not None:
                        tensors[f"state.{pid}.{key}.{i}"] = v
            else:
                scalars.setdefault(str(pid), {})[key] = value
    meta = {"param_groups": state["param_groups"], "scalars": scalars, "lists": lists}
    return tensors, meta


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    lists = meta.get("lists", {})
    for name, value in tensors.items():
        if not name.startswith("state."):
            continue
        _, pid, key = name.split(".", 2)
        base = key.rsplit(".", 1)[0]
        if base in lists.get(pid, {}):
            continue  # gathered below, in order
        state.setdefault(int(pid), {})[key] = value
    for pid, keys in lists.items():
        for key, present in keys.items():
            state.setdefault(int(pid), {})[key] = [
                tensors[f"state.{pid}.{key}.{i}"] if there else None
                for i, there in enumerate(present)
            ]
    for pid, scal in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(scal)
    return {"state": state, "param_groups": meta["param_groups"]}


class Trainer:
    """Minibatch training of any aekit model.

    Parameters
    ----------
    model : nn.Module
        Provides ``loss(x)`` and ``evaluate_batch(x)`` (``loss(x, y)`` and
        ``evaluate_batch(x, y)`` when trained with targets).
    config : TrainConfig, optional
    run_dir : path, optional
        Where checkpoints, metrics and the final model go; needed for :meth:`fit` with
        ``resume=True``.
    callbacks : sequence of callables
        Each called as ``callback(trainer, record)`` after every epoch (after its
        checkpoint); returning ``True`` stops training. Under torchrun they run on every rank
        (``trainer.context.is_main`` tells rank 0) and a stop on any rank stops them all.
    run_metadata : dict, optional
        Saved in ``run.json`` (the CLI stores its data arguments there to resume).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        config: TrainConfig | None = None,
        run_dir: str | Path | None = None,
        callbacks: Sequence[Callable[[Trainer, dict], bool | None]] = (),
        run_metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(model, Model):
            raise TypeError(
                f"Trainer trains aekit models; {type(model).__name__} is not one: subclass "
                "aekit.models.Model (it declares what the trainer asks of a model: loss, "
                "evaluate_batch, monitor, takes_targets, ...)"
            )
        self.model = model
        self.config = config or TrainConfig()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.callbacks = list(callbacks)
        self.run_metadata = run_metadata or {}
        # One GPU per process under torchrun (cuda:LOCAL_RANK); unchanged in one process.
        self.device = rank_device(resolve_device(self.config.device))
        self.context = DistributedContext(device=self.device)
        self.history = History(records=[])
        self._folder: RunFolder | None = None
        self._transform: BatchTransform | None = None
        self._phased = model.training_phases() is not None
        # Set by _setup for one fit: the objective (the model's, or DDP's wrapper of it).
        self._ddp: torch.nn.Module | None = None
        self._loss: Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]] | None = None
        self._phase_loss: Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]] | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self._clock = BudgetClock(self.config.time_budget, time.perf_counter())
        self._out_of_time = False
        self._save_seconds: float | None = None
        self._last_save: float | None = None
        if self.config.optimizer == "lbfgs" and self._phased:
            raise ConfigError(
                "",
                f"{type(model).__name__} trains in alternating phases (a minimax game), which "
                "has no single objective for L-BFGS's line search; use {adam} or {sgd}",
                mentions={"adam": ("optimizer", "adam"), "sgd": ("optimizer", "sgd")},
            )
        if self.config.optimizer == "lbfgs" and not model.supports_lbfgs:
            # The model's own reason when it gives one (the docstring of supports_lbfgs).
            prop = type(model).supports_lbfgs
            why = (
                " ".join(prop.__doc__.split())
                if isinstance(prop, property) and prop.__doc__
                else "it trains on a surrogate gradient whose loss value is not the objective"
            )
            raise ConfigError(
                "",
                f"{type(model).__name__} cannot train with L-BFGS: {why}. Use {{sgd}} or {{adam}}",
                mentions={"adam": ("optimizer", "adam"), "sgd": ("optimizer", "sgd")},
            )

    # Setup -------------------------------------------------------------------------------------

    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per training phase; ``{"main": ...}`` for a one-objective model."""
        if not self._phased:
            params = [p for p in self.model.parameters() if p.requires_grad]
            return {"main": self._make_optimizer(params, 1.0)}
        phases = self.model.training_phases()
        assert phases is not None
        return {
            name: self._make_optimizer([p for p in params if p.requires_grad], scale)
            for name, (params, scale) in phases.items()
        }

    def _make_optimizer(
        self, params: Sequence[torch.Tensor], lr_scale: float
    ) -> torch.optim.Optimizer:
        cfg = self.config
        # The fused kernels update all parameters in one pass; default Adam's per-tensor loop
        # is slower (docs/measurements.md).
        fused = can_fuse(params) or None
        if cfg.optimizer == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(
                params, lr=cfg.lr, betas=cfg.adam_betas, fused=fused
            )
        elif cfg.optimizer == "sgd":
            opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, fused=fused)
        else:
            opt = torch.optim.LBFGS(
                params, lr=cfg.lr, max_iter=cfg.lbfgs_iters, line_search_fn="strong_wolfe"
            )
        for group in opt.param_groups:
            group["lr_scale"] = lr_scale  # kept in the state dict, so a resume keeps it too
        return opt

    def _prepare(self, x, name: str) -> torch.Tensor | SparseRows | MemmapRows:
        if is_row_source(x):
            return self._prepare_rows(x, name)
        t = as_float_tensor(x)
        if t.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features), got shape {tuple(t.shape)}"
            )
        if t.shape[0] == 0:
            raise ValueError(f"{name} is empty; pass at least one sample")
        # min and max propagate NaN, so both finite means every value is: one read pass, where
        # isfinite(t).all() writes a mask first (timings in docs/measurements.md).
        if not all(math.isfinite(float(v)) for v in torch.aminmax(t)):
            n_bad = int((~torch.isfinite(t)).sum())
            raise ValueError(f"{name} has {n_bad} NaN or infinite values; clean or impute them")
        self.model.check_data(t, name)
        return t.to(self.device)

    def _prepare_rows(self, x, name: str) -> SparseRows | MemmapRows:
        """A row source is read a batch at a time: a scipy sparse matrix stays sparse on the
        device, a memory-mapped array stays on disk; the checks stream over it."""
        t = as_row_source(x)
        if len(t) == 0:
            raise ValueError(f"{name} is empty; pass at least one sample")
        n_bad, first_row = t.nonfinite()
        if n_bad:
            raise ValueError(
                f"{name} has {n_bad} NaN or infinite values (the first in row {first_row}); "
                "clean or impute them"
            )
        self.model.check_data(t, name)
        return t.to(self.device)

    def _check_targets_given(self, given: bool) -> None:
        """Targets exactly when the model learns from them (``model.takes_targets``)."""
        takes = bool(self.model.takes_targets)
        name = type(self.model).__name__
        if takes and not given:
            raise ValueError(
                f"{name} learns from targets: pass y_train (and y_val with x_val) to fit, "
                "e.g. fit(x, y_train=labels)"
            )
        if given and not takes:
            raise ValueError(
                f"{name} does not learn from targets; drop y_train/y_val (a VAE takes labels "
                "only when built with n_classes > 0)"
            )

    def _prepare_targets(self, y, n: int, name: str) -> torch.Tensor:
        """Class labels ``(n,)`` become int64; anything else float32 ``(n, ...)``."""
        t = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
        if t.ndim == 0 or t.shape[0] != n:
            raise ValueError(
                f"{name} has {t.shape[0] if t.ndim else 0} rows but the inputs have {n}; "
                "pass one target per sample"
            )
        if t.is_floating_point():
            if not torch.isfinite(t).all():
                raise ValueError(f"{name} has NaN or infinite values; clean them")
            if t.ndim == 1 and torch.equal(t, t.round()):
                t = t.long()  # labels that arrived as floats (e.g. from a CSV)
            else:
                t = t.float()
        elif t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"{name} must hold integer class labels or real targets, got {t.dtype}")
        else:
            t = t.long()
        self.model.check_targets(t, name)
        return t.to(self.device)

    # The run folder --------------------------------------------------------------------------

    def _run_json(self) -> dict[str, Any]:
        model_cfg = self.model.config if is_registered(self.model) else None
        return {
            "model": self.model.registered_name
            if is_registered(self.model)
            else type(self.model).__name__,
            "model_config": config_to_dict(model_cfg) if model_cfg is not None else None,
            "train_config": asdict(self.config),
            "metadata": self.run_metadata,
        }

    def _checkpoint_tensors(self) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
        """Everything a resume needs beside the :class:`RunState`: the weights, the optimizers
        and every random stream (file name -> tensors), and the optimizers' JSON part."""
        opt_tensors, opt_meta = self._flatten_optimizers()
        opt_tensors["rng.torch"] = torch.get_rng_state()
        opt_tensors["rng.shuffle"] = self._shuffle_gen.get_state()
        if self._transform is not None:
            opt_tensors["rng.augment"] = self._transform.state_dict()["rng"]
        if self.device.type == "cuda":
            opt_tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        files = {"model": self.model.state_dict(), "optimizer": opt_tensors}
        if self._best_state is not None:
            files["best"] = self._best_state
        if self._ema is not None:
            files["ema"] = {str(i): e for i, e in enumerate(self._ema)} | {
                "updates": torch.tensor(self._ema_updates)
            }
        return files, {"optimizer": opt_meta}

    def _restore(self, raw: dict[str, Any], files: dict[str, dict[str, torch.Tensor]]) -> None:
        """Load a checkpoint's tensors into the model, the optimizers and the random streams."""
        try:
            self.model.load_state_dict(files["model"])
            opt_tensors = files["optimizer"]
            self._load_optimizers(opt_tensors, raw["optimizer"])
        except (KeyError, RuntimeError, TypeError) as exc:
            # A checkpoint of another model or a hand-edited state: name the run, not a key.
            raise ValueError(
                f"the checkpoint of {self.run_dir} does not fit this run ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:300]}); start afresh with --overwrite"
            ) from None
        torch.set_rng_state(opt_tensors["rng.torch"])
        self._shuffle_gen.set_state(opt_tensors["rng.shuffle"])
        if "rng.augment" in opt_tensors and self._transform is not None:
            self._transform.load_state_dict({"rng": opt_tensors["rng.augment"]})
        if "rng.cuda" in opt_tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(opt_tensors["rng.cuda"], self.device)
        self._best_state = files.get("best")
        if self._ema is not None:
            ema = files["ema"]
            for i, e in enumerate(self._ema):
                e.copy_(ema[str(i)])
            self._ema_updates = int(ema["updates"])

    def _check_same_config(self, folder: RunFolder) -> None:
        """Refuse to resume with another training config."""
        run = folder.read_run()
        if run is None:
            return
        ours = json.loads(json.dumps(asdict(self.config)))  # tuples as JSON lists
        # A field added to TrainConfig after the run was saved had its default then.
        defaults = json.loads(json.dumps(asdict(TrainConfig())))
        saved = {**defaults, **run["train_config"]}
        # Display and speed settings may change between sessions; the rest may not.
        free = {"progress", "log_every", "device", "flush_denormal", "checkpoint_seconds"}
        diff = sorted(k for k in ours if k not in free and saved.get(k) != ours[k])
        if diff:
            raise ValueError(
                f"cannot resume {self.run_dir} with a different training config "
                f"({', '.join(f'{k}: {saved.get(k)!r} -> {ours[k]!r}' for k in diff)}); "
                "use the run's own settings or start a new run directory"
            )

    def _open_run(self, resume: bool, data: _Data, force_data: bool) -> RunState:
        """Start or reopen the run folder: a fresh run is staged beside an old one (which stays
        whole until the new run's first epoch is saved); a resume loads the last checkpoint.
        Only rank 0 writes (and holds the lock); every rank reads the checkpoint it resumes."""
        folder = self._folder
        assert folder is not None
        main = self.context.is_main
        if main:
            folder.lock()
            folder.recover()
        if not resume:
            if main:
                folder.start_fresh()
                folder.write_run(self._run_json())
                folder.write_metrics([])
            return RunState(n_train=len(data.x), fingerprint=data.fingerprint)
        self._check_same_config(folder)
        if folder.latest() is None:
            where = (
                ""
                if main
                else f" as seen by rank {self.context.rank} (on several machines the run "
                "directory must be on a filesystem they all share)"
            )
            raise ValueError(
                f"nothing to resume in {self.run_dir}: no latest.json checkpoint{where}"
            )
        state, raw, files = folder.load_checkpoint()
        check_same_data(state, len(data.x), data.fingerprint, folder.root, force_data)
        self._restore(raw, files)
        state.fingerprint = data.fingerprint
        if main:
            folder.write_metrics(state.records)
        return state

    def _save(self, state: RunState, record: dict[str, Any], append: bool = True) -> None:
        """The epoch's checkpoint and metrics line; a staged run takes the old one's place as
        soon as its first checkpoint is safe."""
        assert self._folder is not None
        start = time.perf_counter()
        files, extra = self._checkpoint_tensors()
        self._folder.save_checkpoint(state, files, extra)
        if append:
            self._folder.append_metrics(record)
        self._folder.promote()
        self._last_save = time.perf_counter()
        self._save_seconds = self._last_save - start

    # Training ----------------------------------------------------------------------------------

    def fit(
        self,
        x_train,
        x_val=None,
        resume: bool = False,
        y_train=None,
        y_val=None,
        transform: BatchTransform | None = None,
        force_data: bool = False,
        budget_start: float | None = None,
    ) -> History:
        """Train on ``x_train`` (array or tensor, ``(n_samples, n_features)``).

        The run's randomness (shuffling, corruption, sampling) is seeded from
        ``config.seed`` inside a forked RNG, so the caller's global torch RNG is left as it was.

        Parameters
        ----------
        x_train : array-like
        x_val : array-like, optional
            Held-out data for validation and early stopping; if omitted, ``val_fraction`` of
            ``x_train`` is split off (seeded).
        resume : bool
            Continue from the last checkpoint in ``run_dir`` (same data, same config); the
            run ends exactly where an uninterrupted one would. An interrupt (Ctrl-C) or a
            crash leaves the last finished epoch's checkpoint, so nothing before it is lost.
        y_train, y_val : array-like, optional
            Targets of supervised models: integer class labels ``(n_samples,)`` or real
            targets ``(n_samples, ...)``, one row per row of ``x_train`` / ``x_val``.
        transform : BatchTransform, optional
            Data augmentation of every training batch (e.g. ``RandomShift(1, image_shape=(28,
            28))``); by default the one ``config.augment_shift`` describes, if any.
        force_data : bool
            Resume even though the data's fingerprint differs from the run's.
        budget_start : float, optional
            ``time.perf_counter()`` at which ``config.time_budget`` started counting (before
            the data was loaded, say); default: now.

        Returns
        -------
        History
        """
        start = budget_start if budget_start is not None else time.perf_counter()
        self._clock = BudgetClock(self.config.time_budget, start)
        self.context = init_distributed(self.device)
        self.device = self.context.device
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        flushing = self.config.flush_denormal and torch.set_flush_denormal(True)
        self._folder = RunFolder(self.run_dir) if self.run_dir is not None else None
        try:
            with torch.random.fork_rng(devices=devices):
                data = self._prepare_data(x_train, x_val, y_train, y_val, resume)
                self._setup(data, transform)
                return self._fit(data, resume, force_data)
        finally:
            if flushing:
                torch.set_flush_denormal(False)
            if self._folder is not None:
                self._folder.close()
            # Drop the DDP wrapper: its gradient hooks must not outlive this run (a later fit
            # of the same model wraps it afresh).
            self._ddp = self._loss = self._phase_loss = None

    def _prepare_data(self, x_train, x_val, y_train, y_val, resume: bool) -> _Data:
        """Inputs and targets checked and on the device, the validation split made."""
        cfg = self.config
        if resume and self.run_dir is None:
            raise ValueError("resume=True needs a run_dir with a checkpoint")
        if y_train is None and y_val is not None:
            raise ValueError("y_val was given without y_train; pass both or neither")
        if y_train is not None and x_val is not None and y_val is None:
            raise ValueError("x_val needs its targets: pass y_val with x_val")
        self._check_targets_given(y_train is not None)
        x = self._prepare(x_train, "x_train")
        fingerprint = data_fingerprint(x)
        y = self._prepare_targets(y_train, len(x), "y_train") if y_train is not None else None
        xv = yv = None
        if x_val is not None:
            xv = self._prepare(x_val, "x_val")
            if y is not None:
                yv = self._prepare_targets(y_val, len(xv), "y_val")
        elif cfg.val_fraction > 0:
            tr_idx, va_idx = split_validation(len(x), cfg.val_fraction, cfg.seed)
            tr, va = torch.from_numpy(tr_idx).to(x.device), torch.from_numpy(va_idx).to(x.device)
            if isinstance(x, SparseRows | MemmapRows):
                x, xv = x.select(tr), x.select(va)
            else:
                x, xv = x[tr], x[va]
            if y is not None:
                y, yv = y[tr], y[va]
        return _Data(x, y, xv, yv, fingerprint)

    def _setup(self, data: _Data, transform: BatchTransform | None) -> None:
        """The model on its device, DDP, the random streams, the optimizers and the average."""
        cfg = self.config
        if transform is None and cfg.augment_shift:
            transform = RandomShift(cfg.augment_shift, cfg.augment_prob, cfg.image_shape)
        if transform is not None:
            if isinstance(data.x, SparseRows):
                raise ValueError("a batch transform moves dense rows; x_train is sparse")
            transform.setup(data.x.shape[1], cfg.seed)
        self._transform = transform
        self.model.to(self.device)
        self.model.train()
        sharded = self.context.enabled
        # Under DDP the objective is the wrapper's forward; its backward averages gradients.
        self._ddp = data_parallel(self.model, self.context, self._phased) if sharded else None
        self._loss = self.model.loss if self._ddp is None else functools.partial(self._ddp, None)
        if cfg.compile:
            # Static shapes give the fastest kernels; the short last batch is one more graph.
            self._loss = torch.compile(self._loss, dynamic=False)
        self._phase_loss = self.model.phase_loss if self._ddp is None else self._ddp
        self._loss_scale = 1.0  # of a rank's loss, so DDP's mean is the global batch's gradient
        torch.manual_seed(cfg.seed)
        self._shuffle_gen = torch.Generator().manual_seed(cfg.seed)
        self.optimizers = self._make_optimizers()
        self.optimizer = next(iter(self.optimizers.values()))
        self._best_state = None
        self._last_save = None
        self._ema: list[torch.Tensor] | None = None
        self._ema_updates = 0
        if cfg.ema_decay is not None:
            self._ema = [p.detach().clone() for p in self._trained_params()]

    def _fit(self, data: _Data, resume: bool, force_data: bool) -> History:
        cfg, ctx = self.config, self.context
        state = RunState(n_train=len(data.x), fingerprint=data.fingerprint)
        if self._folder is not None:
            # A rank that cannot open the run (say, no shared filesystem) stops them all.
            state = ctx.run_together(lambda: self._open_run(resume, data, force_data))
        start_epoch = cfg.epochs if state.finished else state.epoch + 1
        self._clock.before = state.seconds
        if cfg.time_budget is not None:
            if ctx.enabled:  # the ranks agree on the clock before the first learning rate
                self._sync_clock()
            if state.budget_origin is None:  # a new run: its schedule starts now
                state.budget_origin = self._clock.now()
            self._clock.origin = state.budget_origin
        if ctx.enabled and not ctx.is_main:
            # Rank 0 continues the run's own random stream (the checkpoint's); the others draw
            # their own noise (corruption, Gibbs samples), seeded from the run and the epoch.
            torch.manual_seed(_rank_seed(cfg.seed, ctx.rank, start_epoch))
        n_batches = self._n_batches = math.ceil(len(data.x) / min(cfg.batch_size, len(data.x)))
        self._batch_rows = min(cfg.batch_size, len(data.x))
        self._n_val = len(data.xv) if data.xv is not None else 0
        # With a budget the bar counts its seconds: the number of batches is not known.
        budget = cfg.time_budget
        bar = tqdm(
            total=round(budget) if budget is not None else cfg.epochs * n_batches,
            initial=round(state.seconds) if budget is not None else start_epoch * n_batches,
            unit="s" if budget is not None else "batch",
            desc=type(self.model).__name__,
            disable=None if cfg.progress and ctx.is_main else True,
            dynamic_ncols=True,
        )
        stopped_early = False
        try:
            for epoch in range(start_epoch, cfg.epochs):
                record = self._train_epoch(epoch, data, bar)
                end_start, self._save_seconds = time.perf_counter(), None
                self._validate(record, data, state, epoch)
                stopped_early = self._end_epoch(epoch, record, state)
                self._clock.timed_end(time.perf_counter() - end_start, self._save_seconds)
                if stopped_early or state.out_of_time:
                    break
        except RuntimeError as err:
            if ctx.enabled and is_communication_error(err):
                raise self._peer_failed(err) from err
            raise
        finally:
            bar.close()
        return self._finish(state, stopped_early, data)

    def _train_epoch(self, epoch: int, data: _Data, bar) -> dict[str, Any]:
        """One pass over the shuffled training rows; the epoch's record of losses and speed."""
        cfg, ctx = self.config, self.context
        x, y, n = data.x, data.y, len(data.x)
        bs, n_batches = min(cfg.batch_size, n), self._n_batches
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.bf16)
        lr = self._set_lr(epoch, 0.0)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                if "momentum" in group:
                    group["momentum"] = cfg.momentum_at(epoch)
        clock, per_batch = self._clock, self._lr_per_batch()
        self._out_of_time = False
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=self._shuffle_gen).to(x.device)
        loss_sum = torch.zeros((), device=x.device)
        term_sums: torch.Tensor | None = None
        term_names: list[str] = []
        first_bad = torch.full((), -1, dtype=torch.long, device=x.device)
        b = -1
        for b in range(n_batches):
            if per_batch and b:
                self._set_lr(epoch, b / n_batches)
            t_batch = time.perf_counter()
            xb, yb, rows = self._batch(perm[b * bs : (b + 1) * bs], x, y)
            loss, terms = self._step(xb, yb, autocast)
            loss = loss.detach().float()
            # Recorded on the device: no host sync per batch, exact batch index.
            bad = ~torch.isfinite(loss) & (first_bad < 0)
            first_bad = torch.where(bad, torch.full_like(first_bad, b), first_bad)
            loss_sum += loss * rows
            if terms:  # a model may log no terms beside its loss
                stacked = torch.stack([t.detach().float() for t in terms.values()]) * rows
                term_sums = stacked if term_sums is None else term_sums + stacked
                term_names = list(terms)
            log = (b + 1) % cfg.log_every == 0 or b == n_batches - 1
            if log:
                self._check_finite(first_bad, epoch, n_batches)
                done = min((b + 1) * bs, n)
                mine = done if not ctx.enabled else _rows_done(b + 1, bs, n, ctx)
                self._update_bar(bar, epoch, b)
                bar.set_postfix(
                    epoch=epoch + 1,
                    loss=f"{float(loss_sum) / max(mine, 1):.4g}",
                    samples_s=f"{done / (time.perf_counter() - t0):.0f}",
                    refresh=False,
                )
            if clock.budget is not None:
                if self._budget_spent(b, log, time.perf_counter() - t_batch):
                    self._out_of_time = True
                    break
        if ctx.enabled:
            loss_sum, term_sums = _sum_over_ranks(ctx, loss_sum, term_sums)
        elapsed = time.perf_counter() - t0
        done = min((b + 1) * bs, n)  # rows trained on: all but when the budget cut the epoch
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "train_loss": float(loss_sum) / done,
            "samples_per_s": done / elapsed,
            "seconds": elapsed,
        }
        if done < n:
            record["batches"] = b + 1
        if term_sums is not None:
            for name, value in zip(term_names, (term_sums / done).tolist()):
                record[f"train_{name}"] = value
        return record

    def _lr_per_batch(self) -> bool:
        """Whether the learning rate changes within an epoch: the one-cycle schedule always,
        the cosine one when it follows a time budget."""
        cfg = self.config
        return cfg.lr_schedule == "onecycle" or (
            cfg.lr_schedule == "cosine" and cfg.time_budget is not None
        )

    def _set_lr(self, epoch: int, within: float) -> float:
        """Set every optimizer's learning rate for ``within`` (a fraction) of 0-based
        ``epoch``; the schedule follows the batches done or the time budget spent, whichever
        is further. Returns the rate."""
        cfg = self.config
        progress = None
        if self._lr_per_batch():
            progress = max((epoch + within) / cfg.epochs, self._clock.progress())
        lr = cfg.lr_at(epoch, progress)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
        return lr

    def _budget_spent(self, b: int, log: bool, batch_seconds: float) -> bool:
        """Whether the time budget ends the run after batch ``b``. Under torchrun the ranks
        agree at each progress update (the slowest rank's clock), so they stop together."""
        clock, ctx = self._clock, self.context
        clock.batch_seconds = batch_seconds
        if clock.end_seconds is None:  # before any epoch's end has been timed
            n_val = self._n_val
            clock.estimate(self._checkpoint_bytes(), batch_seconds / 3 * n_val / self._batch_rows)
        if not ctx.enabled:
            return clock.spent()
        if not log:
            return False
        self._sync_clock()
        return ctx.any(clock.spent())

    def _sync_clock(self) -> None:
        """Under torchrun, give every rank's clock the slowest rank's seconds and the largest
        reserve (rank 0 writes the checkpoints), so their schedules and stops agree."""
        clock = self._clock
        mine = torch.tensor([clock.used(), clock.reserve()], dtype=torch.float64)
        used, reserve = self.context.all_reduce(mine, "max").tolist()
        clock.sync(used, reserve)

    def _checkpoint_bytes(self) -> int:
        """Bytes of a checkpoint: the weights, twice more for Adam's moments, once more for
        the best weights."""
        if self._folder is None or not self.context.is_main:
            return 0
        weights = sum(t.numel() * t.element_size() for t in self.model.state_dict().values())
        return 4 * weights

    def _update_bar(self, bar, epoch: int, b: int) -> None:
        if self.config.time_budget is not None:
            bar.update(min(round(self._clock.used()), bar.total) - bar.n)
        else:
            bar.update(b + 1 - (bar.n - epoch * self._n_batches))

    def _batch(self, idx: torch.Tensor, x, y) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """This process's rows of the global batch ``idx``, transformed: (inputs, targets,
        row count). The transform draws for the whole batch before DDP splits it, so the
        draw does not depend on the number of processes."""
        transform = self._transform
        params = transform.draw(len(idx)) if transform is not None else None
        rows = len(idx)
        if self.context.enabled:
            full = len(idx)
            idx, rows = self._shard(idx)
            if transform is not None and params is not None:
                lo, hi = shard_bounds(full, self.context.rank, self.context.world_size)
                params = transform.rows(params, slice(lo, hi) if hi > lo else slice(-1, None))
        xb = x[idx]  # (batch, n_features)
        if transform is not None and params is not None:
            xb = transform.apply(xb, params)
        return xb, (y[idx] if y is not None else None), rows

    def _validate(self, record: dict[str, Any], data: _Data, state: RunState, epoch: int) -> None:
        """Held-out metrics into ``record``; the best epoch, its weights and the patience
        count in ``state``. Validation sees the averaged weights when there are any."""
        cfg = self.config
        with self._averaged_weights():
            if data.xv is not None:
                scores = (
                    self._evaluate_sharded(data.xv, data.yv)
                    if self.context.enabled
                    else self.evaluate(data.xv, y=data.yv)
                )
                for key, value in scores.items():
                    record[f"val_{key}"] = value
            monitor_key = f"val_{self.model.monitor}"
            if data.xv is not None and monitor_key not in record:
                raise ValueError(
                    f"{type(self.model).__name__}.monitor names {monitor_key[4:]!r}, which its "
                    "evaluate_batch does not return; early stopping needs one of its metrics"
                )
            monitor = record.get(monitor_key, record["train_loss"])
            if monitor < state.best - cfg.min_delta:
                state.best_value, state.best_epoch, state.wait = monitor, epoch + 1, 0
                # Best-weights snapshots only mean something against held-out data; without
                # it they would cost a full weight copy per epoch for nothing.
                if cfg.restore_best and data.xv is not None:
                    self._best_state = {
                        k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
                    }
            else:
                state.wait += 1
        bad = [k for k, v in self.model.state_dict().items() if not torch.isfinite(v).all()]
        if self.context.enabled and self.context.any(bool(bad)) and not bad:
            bad = ["on another rank"]  # per-rank buffers, e.g. an RBM's chains
        if bad:
            raise NonFiniteLossError(
                f"non-finite weights ({', '.join(bad)}) after epoch {epoch + 1}: the last update "
                "overflowed. The previous checkpoint is kept; lower the learning rate or check "
                "the data's scale."
            )

    def _end_epoch(self, epoch: int, record: dict[str, Any], state: RunState) -> bool:
        """Record the epoch, save its checkpoint, run the callbacks; whether to stop."""
        cfg, ctx = self.config, self.context
        state.records.append(record)
        state.epoch = epoch
        stop = cfg.patience is not None and state.wait >= cfg.patience
        state.out_of_time = self._out_of_time
        state.finished = stop or state.out_of_time or epoch + 1 == cfg.epochs
        state.seconds = self._clock.used()
        self.history = History(
            state.records, state.best_epoch, state.best_value, stop, state.out_of_time
        )
        saved = self._folder is not None and ctx.is_main and self._checkpoint_due(state)
        if saved:
            self._save(state, record)
        elif self._folder is not None and ctx.is_main:
            self._folder.append_metrics(record)  # a resume rewrites it from its checkpoint
        # Callbacks see the epoch after its checkpoint (an exception in one leaves it intact); a
        # stop they ask for is written into it so a resume ends here too.
        callback_stop = any(cb(self, record) for cb in self.callbacks)
        if ctx.enabled:  # every rank stops, or none
            callback_stop = ctx.any(callback_stop)
        if callback_stop and self._folder is not None and ctx.is_main and not state.finished:
            if saved:
                self._folder.mark_finished()
            else:  # this epoch had no checkpoint yet: the stop gets one of its own
                state.finished = True
                self._save(state, record, append=False)
        return callback_stop or stop

    def _checkpoint_due(self, state: RunState) -> bool:
        """Every epoch by default; with ``checkpoint_seconds``, the first, the last and then
        one whenever that many seconds have passed since the previous one."""
        every = self.config.checkpoint_seconds
        last = self._last_save
        return not every or state.finished or last is None or time.perf_counter() - last >= every

    def _finish(self, state: RunState, stopped_early: bool, data: _Data) -> History:
        """The best (or averaged) weights into the model, the history, the final model saved."""
        if self.config.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        elif self._ema is not None:
            self._swap_ema()  # the average is the model; the raw weights are dropped
        self.model.eval()
        self.history = History(
            state.records, state.best_epoch, state.best_value, stopped_early, state.out_of_time
        )
        ctx = self.context
        if self._folder is not None and ctx.is_main and is_registered(self.model):
            card = run_card(self, data.x, data.xv, data.fingerprint)
            save_model(self.model, self._folder.path / "model", card=card)
        if ctx.enabled:
            ctx.barrier()  # fit returns on every rank once the final model is written
        return self.history

    def _peer_failed(self, err: RuntimeError) -> PeerFailedError:
        ctx = self.context
        kept = (
            f" The last finished epoch's checkpoint in {self.run_dir} is kept."
            if self.run_dir is not None
            else ""
        )
        return PeerFailedError(
            f"rank {ctx.rank} of {ctx.world_size} lost contact with the other processes of this "
            "run: one of them failed, was killed, or did not answer within "
            f"{ctx.timeout_s:g} s (look for its own error; torchrun names the rank that failed "
            f"first; AEKIT_DIST_TIMEOUT sets the wait).{kept} [{_first_line(err)}]"
        )

    def _flatten_optimizers(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        if not self._phased:  # one optimizer: the original flat layout
            return _flatten_optimizer(self.optimizer.state_dict())
        tensors: dict[str, torch.Tensor] = {}
        metas: dict[str, Any] = {}
        for name, opt in self.optimizers.items():
            t, metas[name] = _flatten_optimizer(opt.state_dict())
            tensors.update({f"phase.{name}.{k}": v for k, v in t.items()})
        return tensors, {"phases": metas}

    def _load_optimizers(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        if not self._phased:
            self.optimizer.load_state_dict(_unflatten_optimizer(tensors, meta))
            return
        for name, opt in self.optimizers.items():
            prefix = f"phase.{name}."
            own = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            opt.load_state_dict(_unflatten_optimizer(own, meta["phases"][name]))

    def _step(
        self, xb: torch.Tensor, yb: torch.Tensor | None, autocast
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        args = (xb,) if yb is None else (xb, yb)
        if self._phased:
            return self._phased_step(args, autocast)
        loss_fn = self._loss
        assert loss_fn is not None, "_setup sets the objective before any step"
        if self.config.optimizer == "lbfgs":
            out: dict[str, Any] = {}
            # Each minibatch is its own problem (Hinton's minimize.m restarted per batch):
            # curvature pairs from another batch's gradients would be wrong. Full-batch runs
            # see one problem throughout and keep their history.
            if self._n_batches > 1:
                self.optimizer.state.clear()
            # The line search needs one objective: every evaluation sees the same noise.
            rng = torch.get_rng_state()

            def closure() -> torch.Tensor:
                torch.set_rng_state(rng)
                self.optimizer.zero_grad(set_to_none=True)
                with autocast:
                    loss, terms = loss_fn(*args)
                self._backward(loss)
                out["loss"], out["terms"] = loss, terms
                if self._ddp is None:
                    return loss
                # The line search must see one objective on every rank: the global batch's.
                return self.context.all_reduce_mean(loss.detach() * self._loss_scale)

            # torch types a closure as returning a float; L-BFGS's returns the loss tensor, as
            # its documentation shows.
            self.optimizer.step(closure)  # type: ignore[arg-type]
            if self._ema is not None:
                self._update_ema()
            return out["loss"], out["terms"]
        with autocast:
            loss, terms = loss_fn(*args)
        self.optimizer.zero_grad(set_to_none=True)
        self._backward(loss)
        self.optimizer.step()
        if self._ema is not None:
            self._update_ema()
        return loss, terms

    def _phased_step(self, args, autocast) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Each phase in turn: its loss, its gradients, its optimizer's step. The first
        phase's loss is the one reported as the training loss."""
        first: torch.Tensor | None = None
        all_terms: dict[str, torch.Tensor] = {}
        phase_loss = self._phase_loss
        assert phase_loss is not None, "_setup sets the objective before any step"
        for name, opt in self.optimizers.items():
            with autocast:
                loss, terms = phase_loss(name, *args)
            opt.zero_grad(set_to_none=True)
            self._backward(loss)
            opt.step()
            first = loss if first is None else first
            all_terms.update(terms)
        if self._ema is not None:
            self._update_ema()
        assert first is not None
        return first, all_terms

    def _backward(self, loss: torch.Tensor) -> None:
        if self._loss_scale == 1.0:
            loss.backward()
        else:
            (loss * self._loss_scale).backward()

    def _shard(self, idx: torch.Tensor) -> tuple[torch.Tensor, int]:
        """This rank's contiguous part of the global batch ``idx`` and its number of rows.

        Sets the loss scale ``world_size * rows / len(idx)``: DDP averages the ranks'
        gradients, so the scaled mean-over-rows losses average to the whole batch's gradient
        even when the last, short batch splits unevenly.
        """
        ctx = self.context
        m = len(idx)
        lo, hi = shard_bounds(m, ctx.rank, ctx.world_size)
        if hi == lo:
            # Fewer rows than ranks: this rank still takes part in the step (DDP's collectives
            # need every rank), on a stand-in row whose gradient is scaled to zero.
            self._loss_scale = 0.0
            return idx[-1:], 0
        self._loss_scale = ctx.world_size * (hi - lo) / m
        return idx[lo:hi], hi - lo

    def _trained_params(self) -> list[torch.Tensor]:
        return [p for p in self.model.parameters() if p.requires_grad]

    @torch.no_grad()
    def _update_ema(self) -> None:
        assert self._ema is not None and self.config.ema_decay is not None
        n = self._ema_updates
        decay = min(self.config.ema_decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(self._ema, self._trained_params(), 1.0 - decay)
        self._ema_updates = n + 1

    @contextlib.contextmanager
    def _averaged_weights(self):
        """The model holds the averaged weights inside the block (no-op without EMA); they
        go back even when the block raises, so the in-memory model is never left swapped."""
        if self._ema is None:
            yield
            return
        self._swap_ema()
        try:
            yield
        finally:
            self._swap_ema()

    @torch.no_grad()
    def _swap_ema(self) -> None:
        """Exchange the model's weights with the averaged ones (an involution)."""
        assert self._ema is not None
        for p, e in zip(self._trained_params(), self._ema):
            tmp = p.detach().clone()
            p.copy_(e)
            e.copy_(tmp)

    def _check_finite(self, first_bad: torch.Tensor, epoch: int, n_batches: int) -> None:
        if self.context.enabled:  # the first bad batch on any rank, so all ranks stop together
            flagged = torch.where(first_bad < 0, torch.full_like(first_bad, n_batches), first_bad)
            first_bad = self.context.all_reduce(flagged, "min")
            first_bad = torch.where(
                first_bad == n_batches, torch.full_like(first_bad, -1), first_bad
            )
        b = int(first_bad)
        if b >= 0:
            kept = (
                f"; the last good checkpoint (epoch {epoch}) in {self.run_dir} is kept"
                if self.run_dir is not None and epoch > 0
                else ""
            )
            raise NonFiniteLossError(
                f"non-finite loss at epoch {epoch + 1}, batch {b + 1} of {n_batches}{kept}. "
                "Lower the learning rate, check the data's scale against the likelihood, or "
                "enable gradient-friendly settings (e.g. a smaller corruption level)."
            )

    def _evaluate_sharded(self, x, y) -> dict[str, float]:
        """:meth:`evaluate` over all ranks: each scores its contiguous share of ``x`` and the
        sample-weighted sums are added up, so every rank gets the same numbers."""
        ctx = self.context
        n = len(x)
        if n < ctx.world_size:
            return self.evaluate(x, y=y)  # too few rows to share out: every rank scores all
        lo, hi = shard_bounds(n, ctx.rank, ctx.world_size)
        part = x.select(slice(lo, hi)) if isinstance(x, SparseRows | MemmapRows) else x[lo:hi]
        local = self.evaluate(part, y=y[lo:hi] if y is not None else None)
        sums = torch.tensor([v * (hi - lo) for v in local.values()], dtype=torch.float64)
        return dict(zip(local, (ctx.all_reduce_sum(sums) / n).tolist()))

    @torch.no_grad()
    def evaluate(self, x, batch_size: int = 4096, y=None) -> dict[str, float]:
        """Sample-weighted means of ``model.evaluate_batch`` over ``x`` (and ``y``), eval mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            t: torch.Tensor | SparseRows | MemmapRows
            if is_row_source(x):
                t = as_row_source(x, self.device)
            else:
                t = x if isinstance(x, torch.Tensor) else as_float_tensor(x, self.device)
            self._check_targets_given(y is not None)
            if y is not None and not isinstance(y, torch.Tensor):
                y = self._prepare_targets(y, len(t), "y")
            sums: dict[str, float] = {}
            for start in range(0, len(t), batch_size):
                xb = t[start : start + batch_size].to(self.device)
                args = (xb,) if y is None else (xb, y[start : start + batch_size].to(self.device))
                for key, value in self.model.evaluate_batch(*args).items():
                    sums[key] = sums.get(key, 0.0) + float(value) * len(xb)
            return {k: v / len(t) for k, v in sums.items()}
        finally:
            self.model.train(was_training)


def _rank_seed(seed: int, rank: int, epoch: int) -> int:
    """A seed for a non-zero rank's own random stream, from the run's seed, the rank and the
    epoch it starts at (so a resumed run draws afresh, whatever the world size before)."""
    return int(np.random.SeedSequence([seed, rank, epoch]).generate_state(1)[0])


def _rows_done(n_batches_done: int, batch_size: int, n: int, ctx: DistributedContext) -> int:
    """Rows of this rank in the first ``n_batches_done`` global batches of ``n`` rows."""
    full = min(n_batches_done, n // batch_size)
    lo, hi = shard_bounds(batch_size, ctx.rank, ctx.world_size)
    rows = full * (hi - lo)
    if n_batches_done > full:  # the short last batch
        lo, hi = shard_bounds(n - full * batch_size, ctx.rank, ctx.world_size)
        rows += hi - lo
    return rows


def _sum_over_ranks(
    ctx: DistributedContext, loss_sum: torch.Tensor, term_sums: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The epoch's sample-weighted loss and term sums added over all ranks, in one call."""
    packed = (
        loss_sum.reshape(1) if term_sums is None else torch.cat([loss_sum.reshape(1), term_sums])
    )
    packed = ctx.all_reduce_sum(packed)
    return packed[0], None if term_sums is None else packed[1:]


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """Read ``run.json`` of a run directory (model name and configs, caller metadata)."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} is not an aekit run directory (no run.json); pass the --out directory "
            "of an `aekit train` run"
        )
    return read_json(path)


def train_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Rebuild a :class:`TrainConfig` from ``run.json``'s ``train_config``."""
    return config_from_dict(TrainConfig, data)
