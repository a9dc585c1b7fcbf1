"""Data-parallel training over several processes, as launched by ``torchrun``.

``torchrun --nproc_per_node N -m aekit train ...`` starts N copies of the program and tells
each its place through environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``). :func:`init_distributed` reads them, joins the process
group once (NCCL between GPUs, gloo between CPU processes) and returns the
:class:`DistributedContext` the trainer works with; without them it returns a one-process
context and touches nothing.

The trainer keeps one training loop: every rank draws the same seeded permutation, takes its
contiguous slice of each global batch, and :func:`data_parallel` wraps the model's
``loss`` in :class:`~torch.nn.parallel.DistributedDataParallel` so the gradients are averaged
while the backward pass runs (Li et al., "PyTorch Distributed: Experiences on Accelerating Data
Parallel Training", VLDB 2020).

Every collective has a finite timeout (``AEKIT_DIST_TIMEOUT`` seconds, default 600): a rank
that dies or stops answering makes the others raise :class:`PeerFailedError` instead of
waiting forever.
"""

from __future__ import annotations

import datetime
import gc
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from aekit.models.base import Model

DEFAULT_TIMEOUT_S = 600.0
TIMEOUT_ENV = "AEKIT_DIST_TIMEOUT"
_MESSAGE_BYTES = 1024  # of a failing rank's error, passed to the others

T = TypeVar("T")


class PeerFailedError(RuntimeError):
    """Another process of a multi-process run failed or stopped answering."""


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly one-process) run.

    Parameters
    ----------
    rank : int
        This process's index among all processes, ``0 .. world_size - 1``.
    world_size : int
        Number of processes training the model together.
    local_rank : int
        Index among the processes on this machine (its GPU, on GPUs).
    device : torch.device
        This process's training device.
    timeout_s : float
        How long a collective waits for the other ranks before it raises.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that prints and writes files."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Several processes share the work (a process group exists)."""
        return self.world_size > 1

    # Collectives: each is the identity in a one-process run. -------------------------------

    def all_reduce(self, tensor: torch.Tensor, op: str = "sum") -> torch.Tensor:
        """``op`` ("sum", "mean", "min" or "max") of ``tensor`` over all ranks, a new tensor
        on ``tensor``'s device; every rank gets the same bits."""
        if not self.enabled:
            return tensor
        ops = {"sum": dist.ReduceOp.SUM, "mean": dist.ReduceOp.SUM}
        ops |= {"min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}
        if op not in ops:
            raise ValueError(f"unknown reduction {op!r}; choose one of {sorted(ops)}")
        out = tensor.detach().to(self.device, copy=True)
        dist.all_reduce(out, op=ops[op])
        if op == "mean":
            out = out / self.world_size
        return out.to(tensor.device)

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return self.all_reduce(tensor, "sum")

    def all_reduce_mean(self, tensor: torch.Tensor) -> torch.Tensor:
        return self.all_reduce(tensor, "mean")

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on at least one rank (the same answer on every rank)."""
        if not self.enabled:
            return bool(flag)
        return bool(self.all_reduce(torch.tensor(int(bool(flag))), "max"))

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if not self.enabled:
            return
        if self.device.type == "cuda":
            dist.barrier(device_ids=[self.device.index])
        else:
            dist.barrier()

    def run_together(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` on every rank; if it raised on any, raise on all.

        The rank that failed raises its own error; the others raise :class:`PeerFailedError`
        carrying its message. Without this a rank-local failure (a checkpoint only one
        machine can read) would leave the others waiting in their next collective.
        """
        error: BaseException | None = None
        result: Any = None
        try:
            result = fn()
        except Exception as err:  # handed to every rank below
            error = err
        if not self.enabled:
            if error is not None:
                raise error
            return result
        text = "" if error is None else f"{type(error).__name__}: {error}"
        raw = text.encode()[:_MESSAGE_BYTES]
        table = torch.zeros(self.world_size, _MESSAGE_BYTES + 1, dtype=torch.int32)
        table[self.rank, 0] = int(error is not None)
        table[self.rank, 1 : 1 + len(raw)] = torch.tensor(list(raw), dtype=torch.int32)
        table = self.all_reduce(table, "sum")
        failed = [r for r in range(self.world_size) if table[r, 0]]
        if not failed:
            return result
        if error is not None:
            raise error
        first = failed[0]
        message = bytes(table[first, 1:].tolist()).rstrip(b"\0").decode(errors="replace")
        raise PeerFailedError(f"rank {first} of {self.world_size} failed: {message}")


# Setup -------------------------------------------------------------------------------------


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"environment variable {name}={value!r} is not an integer; launch with torchrun, "
            "which sets RANK, WORLD_SIZE and LOCAL_RANK"
        ) from None


def _timeout_from_env(env: Mapping[str, str]) -> float:
    value = env.get(TIMEOUT_ENV)
    if value is None or value.strip() == "":
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"{TIMEOUT_ENV}={value!r} must be a positive number of seconds")
    return seconds


def _base_device(device: str | torch.device) -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def world_from_env(env: Mapping[str, str] | None = None) -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's variables; ``(0, 1, 0)`` without
    them. Raises ``ValueError`` on an inconsistent set (e.g. WORLD_SIZE without RANK)."""
    env = os.environ if env is None else env
    world_size = _env_int(env, "WORLD_SIZE")
    rank = _env_int(env, "RANK")
    local_rank = _env_int(env, "LOCAL_RANK")
    if world_size is None:
        if rank not in (None, 0):
            raise ValueError(
                f"RANK={rank} is set but WORLD_SIZE is not; launch with torchrun, or set both"
            )
        return 0, 1, 0
    if world_size < 1:
        raise ValueError(f"WORLD_SIZE must be at least 1, got {world_size}")
    if world_size == 1:
        return 0, 1, local_rank or 0
    if rank is None:
        raise ValueError(
            f"WORLD_SIZE={world_size} is set but RANK is not: launch with torchrun (it sets "
            "RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT) or unset WORLD_SIZE"
        )
    if not 0 <= rank < world_size:
        raise ValueError(f"RANK={rank} is outside 0..{world_size - 1} (WORLD_SIZE={world_size})")
    return rank, world_size, rank if local_rank is None else local_rank


def rank_device(device: str | torch.device, env: Mapping[str, str] | None = None) -> torch.device:
    """This process's device: ``cuda:LOCAL_RANK`` for CUDA under a multi-process launch (one
    GPU per process), ``device`` itself otherwise."""
    base = _base_device(device)
    _, world_size, local_rank = world_from_env(env)
    if world_size == 1 or base.type != "cuda":
        return base
    n_gpus = torch.cuda.device_count()
    if local_rank >= n_gpus:
        raise ValueError(
            f"LOCAL_RANK={local_rank} needs GPU {local_rank} but this machine has {n_gpus}; "
            "start at most one process per GPU (--nproc_per_node) or train on the CPU"
        )
    return torch.device("cuda", local_rank)


def is_main_process(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process is rank 0 (or the only one); reads the environment only, so it
    may be asked before the process group exists."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return world_from_env(env)[0] == 0


def init_distributed(
    device: str | torch.device = "auto", timeout_s: float | None = None
) -> DistributedContext:
    """The context of this process; joins the process group the first time it is needed.

    Under a multi-process launch (``WORLD_SIZE > 1``), initialises ``torch.distributed`` from
    the environment (``env://``) with the NCCL backend when ``device`` is CUDA and gloo
    otherwise, and a finite collective timeout (``timeout_s``, else ``AEKIT_DIST_TIMEOUT``,
    else 600 s). A process group that already exists (this function's or the caller's own) is
    reused. Otherwise returns a one-process context and creates nothing.
    """
    rank, world_size, local_rank = world_from_env()
    if world_size == 1 and not (dist.is_available() and dist.is_initialized()):
        return DistributedContext(device=_base_device(device))
    timeout = float(timeout_s) if timeout_s is not None else _timeout_from_env(os.environ)
    if not dist.is_available():
        raise RuntimeError(
            f"WORLD_SIZE={world_size} asks for {world_size} processes but this PyTorch build "
            "has no torch.distributed; train in one process"
        )
    device = rank_device(device)
    if not dist.is_initialized():
        missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(k)]
        if missing:
            raise ValueError(
                f"WORLD_SIZE={world_size} is set but {' and '.join(missing)} not: launch with "
                "torchrun, which sets them"
            )
        if device.type == "cuda":
            torch.cuda.set_device(device)
            backend = "nccl"
        else:
            backend = "gloo"
        dist.init_process_group(
            backend,
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout),
        )
    else:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        backend = str(dist.get_backend())
        if device.type != "cuda" and backend == "nccl":
            raise ValueError(
                "the process group uses NCCL, which only connects GPUs, but this run trains on "
                f"{device}; train on CUDA or initialise the group with gloo"
            )
    return DistributedContext(rank, world_size, local_rank, device, timeout)


def shutdown_distributed() -> None:
    """Leave the process group, if this process is in one (at the end of a program)."""
    if dist.is_available() and dist.is_initialized():
        # A DistributedDataParallel wrapper left in a reference cycle would keep gloo's
        # worker threads until interpreter finalization, where tearing them down can abort
        # the process ("terminate called without an active exception"): free it first.
        gc.collect()
        dist.destroy_process_group()
        gc.collect()


def is_communication_error(err: BaseException) -> bool:
    """Whether ``err`` comes from the process group (a peer that died or timed out) rather
    than from this rank's own computation."""
    if isinstance(err, PeerFailedError):
        return False
    if isinstance(err, getattr(dist, "DistError", ())):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and any(
        key in text for key in ("gloo", "NCCL", "Connection reset", "Connection closed")
    )


# The model under DistributedDataParallel ---------------------------------------------------


class _LossModule(nn.Module):
    """Makes a model's objective its ``forward``, which is what DDP wraps: ``forward(None,
    *args)`` is ``model.loss(*args)``, ``forward(phase, *args)`` ``model.phase_loss(phase,
    *args)``."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, phase: str | None, *args: torch.Tensor):
        if phase is None:
            return self.model.loss(*args)
        return self.model.phase_loss(phase, *args)


def data_parallel(
    model: Model, context: DistributedContext, find_unused_parameters: bool = False
) -> nn.Module:
    """``model``'s objective under DistributedDataParallel: calling the result with
    ``(phase_or_None, *batch)`` gives ``(loss, terms)`` whose backward pass averages the
    gradients over all ranks. The parameters and buffers are broadcast from rank 0 here, so
    every rank starts from the same model.

    Buffers are not re-broadcast before every forward pass: an RBM's persistent chains are
    each rank's own Markov chains, not a copy of rank 0's.
    ``find_unused_parameters`` is needed when a loss leaves some parameters out (the phases
    of an adversarial autoencoder each train a different player).
    """
    from torch.nn.parallel import DistributedDataParallel

    assert context.enabled, "data_parallel needs a multi-process context"
    # torch 2.13 renamed the per-forward buffer sync (broadcast_buffers is deprecated there).
    takes_new_name = "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
    sync_name = "forward_sync_buffers" if takes_new_name else "broadcast_buffers"
    no_buffer_sync: dict[str, Any] = {sync_name: False}
    return DistributedDataParallel(
        _LossModule(model),
        device_ids=[context.device.index] if context.device.type == "cuda" else None,
        find_unused_parameters=find_unused_parameters,
        **no_buffer_sync,
    )


def shard_bounds(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, stop)`` of rank ``rank``'s contiguous share of ``n`` rows: sizes differ by
    at most one, and ranks past the rows get an empty share when ``n < world_size``."""
    return n * rank // world_size, n * (rank + 1) // world_size
