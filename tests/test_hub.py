"""Hub-style folders: save_pretrained / from_pretrained on local folders, and the hub path with
the network out of reach (HF_HUB_OFFLINE=1, or a stand-in for the download).
"""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pytest
import torch

from aekit.extras import MissingExtraError
from aekit.hub import HUB_FILES, from_pretrained, save_pretrained
from aekit.models import VAE, Autoencoder


def model_and_rows():
    torch.manual_seed(0)
    return Autoencoder(layers=[12, 6, 3]).eval(), np.random.default_rng(0).random((9, 12))


def test_a_saved_folder_has_the_hubs_three_files_and_loads_back_the_same_model(tmp_path):
    model, x = model_and_rows()
    folder = model.save_pretrained(tmp_path / "ae")
    assert sorted(p.name for p in folder.iterdir()) == sorted(HUB_FILES)
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "aekit" and config["model"] == "autoencoder"
    assert (folder / "README.md").read_text().startswith("---\nlibrary_name: aekit\n")
    same = Autoencoder.from_pretrained(folder)
    assert same.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(same.state_dict()[key], value)
    np.testing.assert_array_equal(same.transform(x), model.transform(x))


def test_from_pretrained_checks_the_class_and_reads_run_folders(tmp_path):
    from aekit import TrainConfig, Trainer

    model, x = model_and_rows()
    save_pretrained(model, tmp_path / "ae", card="# my card\n")
    assert (tmp_path / "ae" / "README.md").read_text() == "# my card\n"
    with pytest.raises(TypeError, match="holds a Autoencoder, not a VAE"):
        VAE.from_pretrained(tmp_path / "ae")
    Trainer(model, TrainConfig(epochs=1, progress=False), run_dir=tmp_path / "run").fit(x)
    loaded = from_pretrained(tmp_path / "run")  # the run's model/ folder
    np.testing.assert_array_equal(loaded.transform(x), model.transform(x))


def test_nothing_is_unpickled(tmp_path, monkeypatch):
    model, _ = model_and_rows()
    folder = model.save_pretrained(tmp_path / "ae")
    # A pickled checkpoint beside the safetensors, as PyTorch repos often have: never read.
    with open(folder / "pytorch_model.bin", "wb") as f:
        pickle.dump({"weights": "would run code on load"}, f)

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert from_pretrained(folder).config == model.config


def test_a_repo_id_downloads_the_three_files_only(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub", reason="needs aekit[hub]")
    model, x = model_and_rows()
    snapshot = model.save_pretrained(tmp_path / "snapshot")
    asked = {}

    def fake_download(repo_id, **kwargs):  # the hub itself is out of reach
        asked.update(kwargs, repo_id=repo_id)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    loaded = Autoencoder.from_pretrained("someone/digits-ae", revision="v1")
    np.testing.assert_array_equal(loaded.transform(x), model.transform(x))
    assert asked["repo_id"] == "someone/digits-ae" and asked["revision"] == "v1"
    assert sorted(asked["allow_patterns"]) == sorted(HUB_FILES)
    assert asked["library_name"] == "aekit"


def test_offline_a_repo_id_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub", reason="needs aekit[hub]")
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read once, at import
    with pytest.raises(ValueError) as err:
        from_pretrained("someone/no-such-model", cache_dir=tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("cannot fetch 'someone/no-such-model' from the Hugging Face hub: ")
    assert "outgoing traffic has been disabled" in message
    assert message.endswith("Pass a local folder, or check the repo id and the connection.")
    assert not any(tmp_path.rglob("*.safetensors"))


def test_bad_names_and_a_missing_extra_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        from_pretrained(tmp_path / "absent")
    pytest.importorskip("huggingface_hub")
    with pytest.raises(ValueError, match="neither an existing folder nor a hub repo id"):
        from_pretrained("not a repo id!")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(MissingExtraError) as err:
        from_pretrained("someone/model")
    assert str(err.value) == (
        "Loading from the Hugging Face hub needs the huggingface_hub package, which is not "
        "installed: pip install 'aekit[hub]'"
    )


def test_an_unwritable_destination_is_one_line(tmp_path):
    model, _ = model_and_rows()
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError) as err:
        model.save_pretrained(tmp_path / "file" / "ae")
    assert "\n" not in str(err.value) and str(tmp_path / "file") in str(err.value)
