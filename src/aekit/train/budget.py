"""A run's time budget: the seconds it has used and whether the next batch still fits.

``TrainConfig.time_budget`` promises that training ends within the budget with its last
checkpoint and final model saved. So the clock keeps back what must still happen after the
last batch (validation, the checkpoint, the final save), timed on the run's own earlier
epochs and estimated from the model's size before the first one, and training stops at the
first batch after which the next batch and that reserve would no longer fit.

The schedules that follow the budget (one-cycle, cosine) see the run's progress as the part of
the training time spent: from the first batch (data loading and setup come before it) to the
end of the usable time (the budget less the reserve), so the learning rate reaches its floor
when training stops, however fast the machine is.
"""

from __future__ import annotations

import time

#: Bytes per second assumed for writing a checkpoint before one has been timed: a slow disk,
#: so the first estimate errs on the side of stopping early.
ASSUMED_WRITE_SPEED = 100e6
#: Margin on the timed end-of-run work (validation, saves): they vary from epoch to epoch.
END_MARGIN = 1.5


class BudgetClock:
    """Seconds used by a run against its budget (None: no budget, never spent).

    Parameters
    ----------
    budget : float or None
        The run's budget in seconds.
    start : float
        ``time.perf_counter()`` when this session's part of the run began.
    before : float
        Seconds earlier sessions of the run used (a resume continues the same budget).
    """

    def __init__(self, budget: float | None, start: float, before: float = 0.0) -> None:
        self.budget = budget
        self.start = start
        self.before = before
        #: Seconds of one batch, as last timed (a batch is never started that cannot finish).
        self.batch_seconds = 0.0
        #: Seconds of the end of an epoch (validation and checkpoint), as last timed.
        self.end_seconds: float | None = None
        #: Estimate of the final save's seconds (its bytes at a checkpoint's write speed).
        self.save_seconds = 0.0
        self._synced: float | None = None
        #: Seconds used when the run's first batch began: where the schedule starts.
        self.origin: float | None = None
        self._synced_reserve: float | None = None

    def used(self) -> float:
        """Seconds used so far (this session's and earlier ones')."""
        return self.before + time.perf_counter() - self.start

    def reserve(self) -> float:
        """Seconds kept back for the end of the run (the synced value under torchrun)."""
        if self._synced_reserve is not None:
            return self._synced_reserve
        return END_MARGIN * ((self.end_seconds or 0.0) + self.save_seconds)

    def estimate(self, n_bytes: int, validation_seconds: float) -> None:
        """A first guess of the end of the run, before any epoch has been timed: a checkpoint
        and a final save of ``n_bytes`` each, and ``validation_seconds`` of validation."""
        self.save_seconds = n_bytes / ASSUMED_WRITE_SPEED
        if self.end_seconds is None:
            self.end_seconds = validation_seconds + self.save_seconds

    def timed_end(self, seconds: float, save_seconds: float | None) -> None:
        """The end of an epoch took ``seconds``, of which ``save_seconds`` writing the
        checkpoint (None: nothing was written)."""
        self.end_seconds = seconds
        if save_seconds is not None:
            self.save_seconds = save_seconds

    def sync(self, used: float, reserve: float) -> None:
        """Use ``used`` and ``reserve`` (the largest over the ranks, under torchrun) until the
        next sync, so every rank sees the same progress (the same learning rate) and stops
        at the same batch."""
        self._synced, self._synced_reserve = used, reserve

    def now(self) -> float:
        """Seconds used as the schedule and the stop see them: the last synced value under
        torchrun, else the clock."""
        return self._synced if self._synced is not None else self.used()

    @property
    def usable(self) -> float:
        """The budget less the reserve: the seconds training may take."""
        assert self.budget is not None
        return max(self.budget - self.reserve(), 1e-9)

    def progress(self) -> float:
        """The part of the usable time spent, in [0, 1]; 0 without a budget."""
        if self.budget is None:
            return 0.0
        now = self.now()
        origin = self.origin if self.origin is not None else now
        return min(max(now - origin, 0.0) / max(self.usable - origin, 1e-9), 1.0)

    def spent(self) -> bool:
        """Whether another batch and the end of the run would overrun the budget."""
        if self.budget is None:
            return False
        return self.now() + self.batch_seconds >= self.usable
