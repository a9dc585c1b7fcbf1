"""Hub-style model folders: ``save_pretrained`` and ``from_pretrained``, with the Hugging Face
hub's conventions for PyTorch models.

A folder holds ``config.json`` (which model, and its config), ``model.safetensors`` (the
weights) and ``README.md`` (the model card, :mod:`aekit.card`, whose YAML header is the hub's
metadata): the folder :func:`aekit.saving.save_model` writes, so a training run's ``model/``
folder is already one. Upload a folder with the hub's own tools (``hf upload USER/NAME
FOLDER``); :func:`from_pretrained` reads a local folder, or a repo id through the
``huggingface_hub`` package (the ``aekit[hub]`` extra), which downloads the snapshot's three
files and nothing else: no pickle file is fetched, and nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aekit import __version__

HUB_FILES = ("config.json", "model.safetensors", "README.md")


def save_pretrained(model, save_directory: str | Path, card: str | None = None) -> Path:
    """Write ``model`` to ``save_directory`` as config.json, model.safetensors and README.md.

    Parameters
    ----------
    model : aekit model
    save_directory : path
        Created if needed; its earlier files of these names are replaced, each atomically.
    card : str, optional
        The model card; by default one made from the model alone (its name and config: an
        in-memory model does not know how it was trained, which a run's own card records).
    """
    from aekit.card import render_card
    from aekit.saving import save_model

    return save_model(model, save_directory, card=render_card(model) if card is None else card)


def from_pretrained(
    name_or_path: str | Path,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    map_location: str | torch.device = "cpu",
    expected: type | None = None,
):
    """Load a model from a folder (a saved model, or a run folder holding ``model/``) or from
    a Hugging Face hub repo id such as ``"user/mnist-autoencoder"``.

    Parameters
    ----------
    name_or_path : str or path
        An existing local folder is read as it is; anything else is taken for a repo id.
    revision : str, optional
        The repo's branch, tag or commit (hub only).
    cache_dir : path, optional
        Where the hub's snapshots are cached (hub only; the hub's default otherwise).
    map_location : str or torch.device
        Device for the weights.
    expected : type, optional
        Raise ``TypeError`` unless the model is an instance of this class.
    """
    from aekit.export import resolve_model_dir
    from aekit.saving import load_model

    path = Path(name_or_path).expanduser()
    if path.exists():
        folder = resolve_model_dir(path)
    elif str(name_or_path).startswith((".", "/", "~")) or str(name_or_path).count("/") > 1:
        raise FileNotFoundError(f"no such folder: {path}")
    else:
        folder = _snapshot(str(name_or_path), revision, cache_dir)
    model = load_model(folder, map_location)
    if expected is not None and not isinstance(model, expected):
        raise TypeError(f"{name_or_path} holds a {type(model).__name__}, not a {expected.__name__}")
    return model


def _snapshot(repo_id: str, revision: str | None, cache_dir: str | Path | None) -> Path:
    """The local folder of a hub repo's snapshot (only :data:`HUB_FILES` fetched)."""
    from aekit.extras import require

    hub = require("huggingface_hub", "hub", "Loading from the Hugging Face hub")
    errors = require("huggingface_hub.errors", "hub", "Loading from the Hugging Face hub")
    try:
        folder = hub.snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            allow_patterns=list(HUB_FILES),
            library_name="aekit",
            library_version=__version__,
        )
    except errors.HFValidationError:
        raise ValueError(
            f"{repo_id!r} is neither an existing folder nor a hub repo id like 'user/name'"
        ) from None
    except (OSError, errors.HfHubHTTPError) as err:  # offline, unknown repo, no connection
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ValueError(
            f"cannot fetch {repo_id!r} from the Hugging Face hub: {reason} Pass a local "
            "folder, or check the repo id and the connection."
        ) from None
    return Path(folder)
