"""Experiment tracking: a run's settings, per-epoch metrics, final metrics and figures sent to
TensorBoard or MLflow, as :class:`~aekit.train.Trainer` callbacks.

    Trainer(model, config, run_dir="runs/a", callbacks=[TensorBoardLogger()]).fit(x)
    Trainer(model, config, callbacks=[MLflowLogger(experiment="mnist")]).fit(x)

Each epoch's record (the line metrics.jsonl gets: ``train_loss``, ``val_recon``, ``lr``,
``seconds``, ...) is logged with the epoch as its step. On the first epoch the loggers record
the hyperparameters: the model's name and config, the training config, and the caller's run
metadata (the command line puts its data arguments there), flattened to ``model.layers``,
``train.lr``, ``data.name``. After the last epoch they record the final metrics, those of the
model the run ends with (the best epoch's when early stopping restored it), as ``final/KEY``
(TensorBoard, also in its hyperparameter table) or ``final_KEY`` (MLflow), and every PNG figure
the run drew into its run folder. A run that another callback stops early is finished with
:meth:`TrackingLogger.finish`.

Under torchrun every rank calls the callbacks; only rank 0 writes.

Each tool is an optional extra: ``pip install 'aekit[tensorboard]'`` or ``'aekit[mlflow]'``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aekit.extras import require

if TYPE_CHECKING:  # optional extras, imported when a logger opens
    from mlflow.tracking import MlflowClient
    from torch.utils.tensorboard import SummaryWriter

    from aekit.train.trainer import Trainer

LOGGERS = ("tensorboard", "mlflow")
# Folders the loggers write into a run folder, which hold no figure of the run's own.
_OWN_FOLDERS = ("tensorboard", "mlruns")


def hyperparameters(trainer) -> dict[str, Any]:
    """The run's settings as one flat dict of scalars (lists and None as JSON text)."""
    model = trainer.model
    params: dict[str, Any] = {"model": getattr(model, "registered_name", type(model).__name__)}
    tables = {
        "model": getattr(model, "config", None),
        "train": trainer.config,
        "run": trainer.run_metadata,
    }
    for prefix, table in tables.items():
        if table is None:
            continue
        is_instance = is_dataclass(table) and not isinstance(table, type)
        items = asdict(table) if is_instance else dict(table)
        params.update(_flatten(items, prefix))
    return params


def _flatten(items: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name))
        elif isinstance(value, bool | int | float | str):
            out[name] = value
        else:  # lists, tuples, None: as the JSON a config file would hold
            out[name] = json.dumps(value, default=str)
    return out


def epoch_metrics(record: dict[str, Any]) -> dict[str, float]:
    """The numbers of a metrics.jsonl record, without its step (``epoch``)."""
    return {
        k: float(v)
        for k, v in record.items()
        if k != "epoch" and isinstance(v, int | float) and not isinstance(v, bool)
    }


def final_record(trainer) -> dict[str, Any]:
    """The record of the model the run ends with: the best epoch's when the trainer restores
    the best weights (validation data and ``restore_best``), else the last epoch's."""
    history = trainer.history
    records = history.records
    validated = any(k.startswith("val_") for k in records[-1])
    if trainer.config.restore_best and validated and history.best_epoch is not None:
        return next(r for r in records if r["epoch"] == history.best_epoch)
    return records[-1]


class TrackingLogger:
    """A Trainer callback sending a run to a tracking tool; subclasses say how.

    The tool is opened on rank 0's first epoch (so building the logger writes nothing, and
    other ranks never open it), and closed after the last epoch or by :meth:`finish`.
    """

    def __init__(self) -> None:
        self._trainer: Trainer | None = None
        self._figures: set[Path] = set()
        self._finished = False

    def __call__(self, trainer, record: dict[str, Any]) -> None:
        if not trainer.context.is_main:
            return None
        if self._trainer is None:
            self._trainer = trainer
            self._finished = False
            # A first call after epoch 1: this session resumed the run from a checkpoint.
            self._open(trainer, resumed=record["epoch"] > 1)
            self._log_params(hyperparameters(trainer))
        self._log_metrics(epoch_metrics(record), int(record["epoch"]))
        cfg = trainer.config
        history = trainer.history
        if history.stopped_early or history.out_of_time or record["epoch"] >= cfg.epochs:
            self.finish()
        return None  # never asks the trainer to stop

    def finish(self) -> None:
        """Log the final metrics and the run's figures, and close the tool (once)."""
        trainer = self._trainer
        if trainer is None or self._finished:
            return
        self._finished = True
        final = final_record(trainer)
        self._log_final(epoch_metrics(final), int(trainer.history.records[-1]["epoch"]))
        if trainer.run_dir is not None:
            for path in sorted(Path(trainer.run_dir).rglob("*.png")):
                inside = path.relative_to(trainer.run_dir).parts
                if inside[0] not in _OWN_FOLDERS:
                    self.log_figure(path, "/".join(inside))
        self._close()
        self._trainer = None

    def log_figure(self, figure, name: str | None = None) -> None:
        """Log a figure: a PNG file, or a matplotlib figure (saved as PNG first)."""
        if self._trainer is None:
            raise ValueError("log_figure needs an open run: call it while training runs")
        if not isinstance(figure, str | Path):
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / (name or "figure.png")
                path.parent.mkdir(parents=True, exist_ok=True)
                figure.savefig(path)
                self._log_figure(path, name or path.name)
            return
        path = Path(figure)
        if path.suffix.lower() != ".png":
            raise ValueError(f"{path} is not a PNG file; figures are logged as PNG images")
        self._log_figure(path, name or path.name)

    # What each tool implements.
    def _open(self, trainer, resumed: bool) -> None:
        raise NotImplementedError

    def _log_params(self, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        raise NotImplementedError

    def _log_final(self, metrics: dict[str, float], step: int) -> None:
        raise NotImplementedError

    def _log_figure(self, path: Path, name: str) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class TensorBoardLogger(TrackingLogger):
    """Log to TensorBoard event files (``tensorboard --logdir DIR`` shows them).

    Parameters
    ----------
    log_dir : path, optional
        Where the event files go; by default ``RUN_DIR/tensorboard`` of the Trainer's run.

    Scalars are TensorBoard's float32; the hyperparameters and final metrics appear in its
    HPARAMS tab, figures in IMAGES (tagged by their path in the run folder).
    """

    def __init__(self, log_dir: str | Path | None = None) -> None:
        super().__init__()
        require("tensorboard", "tensorboard", "TensorBoard logging")
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._writer: SummaryWriter | None = None
        self._params: dict[str, Any] = {}

    def _open_writer(self) -> SummaryWriter:
        """The writer made by ``_open``: every other step runs between it and ``_close``."""
        assert self._writer is not None, "the TensorBoard logger is not open"
        return self._writer

    def _open(self, trainer, resumed: bool) -> None:
        # A resumed run adds an event file beside the first session's; TensorBoard reads
        # both as one run.
        from torch.utils.tensorboard import SummaryWriter

        log_dir = self.log_dir
        if log_dir is None:
            if trainer.run_dir is None:
                raise ValueError(
                    "TensorBoardLogger has nowhere to write: pass log_dir, or give the Trainer "
                    "a run_dir (the logs then go to RUN_DIR/tensorboard)"
                )
            log_dir = Path(trainer.run_dir) / "tensorboard"
        self._writer = SummaryWriter(log_dir=str(log_dir))

    def _log_params(self, params: dict[str, Any]) -> None:
        self._params = params  # written with the final metrics: TensorBoard pairs the two

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        writer = self._open_writer()
        for key, value in metrics.items():
            writer.add_scalar(key, value, step)
        writer.flush()  # an epoch is seconds to hours: never leave one in a buffer

    def _log_final(self, metrics: dict[str, float], step: int) -> None:
        from torch.utils.tensorboard.summary import hparams

        final = {f"final/{k}": v for k, v in metrics.items()}
        writer = self._open_writer()
        for key, value in final.items():
            writer.add_scalar(key, value, step)
        # What SummaryWriter.add_hparams writes, but into this run rather than a new one.
        file_writer = writer._get_file_writer()
        for summary in hparams(self._params, final):
            file_writer.add_summary(summary)

    def _log_figure(self, path: Path, name: str) -> None:
        import matplotlib.image

        image = matplotlib.image.imread(path)  # (height, width, channels), floats in [0, 1]
        if image.ndim == 2:
            image = image[:, :, None]
        self._open_writer().add_image(name, image[:, :, :3], dataformats="HWC")

    def _close(self) -> None:
        self._open_writer().close()
        self._writer = None


class MLflowLogger(TrackingLogger):
    """Log to an MLflow tracking store: a server, or a local SQLite file (no server needed).

    Parameters
    ----------
    tracking_uri : str, optional
        E.g. ``"sqlite:///mlflow.db"`` or ``"http://host:5000"``; by default MLflow's own
        choice (``$MLFLOW_TRACKING_URI``, else ``mlflow.db`` in the working folder), which is
        where ``mlflow ui`` looks.
    experiment : str
        The MLflow experiment the run joins (created if new).
    run_name : str, optional
        By default the run folder's name.
    tags : dict, optional
        Extra tags of the run.
    artifact_location : str, optional
        Where a new experiment keeps its runs' figures; by default MLflow's choice (for a
        SQLite store, ``mlruns/`` in the working folder).

    After the run, :attr:`run_id` names it (also in ``RUN_DIR/mlflow.json``, so that a resumed
    training run goes on logging into the same MLflow run).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "aekit",
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
        artifact_location: str | None = None,
    ) -> None:
        super().__init__()
        require("mlflow", "mlflow", "MLflow logging")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.artifact_location = artifact_location
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.run_id: str | None = None
        self._client: MlflowClient | None = None

    def _open_run(self) -> tuple[MlflowClient, str]:
        """The client and run id set by ``_open``: every other step runs between it and
        ``_close``."""
        assert self._client is not None and self.run_id is not None, "the MLflow logger is not open"
        return self._client, self.run_id

    def _open(self, trainer, resumed: bool) -> None:
        from mlflow.tracking import MlflowClient

        from aekit import __version__

        self._client = client = MlflowClient(tracking_uri=self.tracking_uri)
        found = client.get_experiment_by_name(self.experiment)
        experiment_id = (
            found.experiment_id
            if found
            else client.create_experiment(self.experiment, self.artifact_location)
        )
        pointer = Path(trainer.run_dir) / "mlflow.json" if trainer.run_dir else None
        earlier = _read_pointer(pointer, client.tracking_uri)
        if earlier and resumed:  # goes on in the MLflow run of its first session
            self.run_id = earlier
            client.update_run(self.run_id, status="RUNNING")
            return
        name = self.run_name or (Path(trainer.run_dir).name if trainer.run_dir else None)
        tags = {"aekit.version": __version__, **self.tags}
        if trainer.run_dir is not None:
            tags["aekit.run_dir"] = str(Path(trainer.run_dir).resolve())
        run = client.create_run(experiment_id, run_name=name, tags=tags)
        self.run_id = run.info.run_id
        if pointer is not None:
            from aekit.atomic import atomic_write_json

            atomic_write_json(pointer, {"tracking_uri": client.tracking_uri, "run_id": self.run_id})

    def _log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        # MLflow keeps a parameter once; a resumed run has them already.
        client, run_id = self._open_run()
        logged = client.get_run(run_id).data.params
        new = [Param(k, _param_text(v)) for k, v in params.items() if k not in logged]
        for start in range(0, len(new), 100):  # MLflow takes at most 100 per batch
            client.log_batch(run_id, params=new[start : start + 100])

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(k, v, now, step) for k, v in metrics.items() if math.isfinite(v)]
        client, run_id = self._open_run()
        client.log_batch(run_id, metrics=batch)

    def _log_final(self, metrics: dict[str, float], step: int) -> None:
        self._log_metrics({f"final_{k}": v for k, v in metrics.items()}, step)
        assert self._trainer is not None  # finish() logs the final metrics of an open run
        best = self._trainer.history.best_epoch
        if best is not None:
            client, run_id = self._open_run()
            client.set_tag(run_id, "aekit.best_epoch", str(best))

    def _log_figure(self, path: Path, name: str) -> None:
        # The artifact sits where the figure sits in the run folder.
        folder = str(Path(name).parent)
        client, run_id = self._open_run()
        client.log_artifact(run_id, str(path), artifact_path=None if folder == "." else folder)

    def _close(self) -> None:
        client, run_id = self._open_run()
        client.set_terminated(run_id)


def _param_text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 6000 else text[:5997] + "..."  # MLflow's limit on a value


def _read_pointer(path: Path | None, tracking_uri: str) -> str | None:
    """The MLflow run id an earlier session of this run folder logged to, same store only."""
    if path is None or not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(saved, dict) or saved.get("tracking_uri") != tracking_uri:
        return None
    return saved.get("run_id")


def make_logger(name: str, run_dir: str | Path | None = None) -> TrackingLogger:
    """The tracking callback ``aekit train --log NAME`` adds: ``tensorboard`` (event files in
    ``RUN_DIR/tensorboard``) or ``mlflow`` (MLflow's default store, the run named after the
    run folder)."""
    if name == "tensorboard":
        return TensorBoardLogger(Path(run_dir) / "tensorboard" if run_dir is not None else None)
    if name == "mlflow":
        return MLflowLogger(run_name=Path(run_dir).name if run_dir is not None else None)
    raise ValueError(f"unknown tracking tool {name!r}; choose one of {list(LOGGERS)}")
