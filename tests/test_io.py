"""The deprecated ``aekit.io``: every old name still resolves to the new module's object and
warns with its new place; anything else is an AttributeError."""

import importlib

import pytest

import aekit.io

# Every name aekit.io used to hold, with the module that holds it now.
MOVED = {
    "atomic_write_text": "aekit.atomic",
    "atomic_write_json": "aekit.atomic",
    "atomic_save_tensors": "aekit.atomic",
    "load_tensors": "aekit.atomic",
    "read_json": "aekit.atomic",
    "check_fields": "aekit.config",
    "config_from_dict": "aekit.config",
    "config_to_dict": "aekit.config",
    "MODELS": "aekit.registry",
    "register_model": "aekit.registry",
    "FORMAT": "aekit.saving",
    "FORMAT_VERSION": "aekit.saving",
    "save_model": "aekit.saving",
    "load_model": "aekit.saving",
    "read_model_config": "aekit.saving",
}


@pytest.mark.parametrize("name", sorted(MOVED))
def test_old_names_resolve_to_the_new_objects_and_warn(name):
    new = getattr(importlib.import_module(MOVED[name]), name)
    with pytest.warns(DeprecationWarning, match=rf"aekit\.io\.{name} moved to {MOVED[name]}\."):
        old = getattr(aekit.io, name)
    assert old is new


def test_old_import_statement_works(tmp_path):
    from aekit import Autoencoder, AutoencoderConfig
    from aekit.saving import save_model

    save_model(Autoencoder(AutoencoderConfig(layers=[4, 2])), tmp_path / "m")
    with pytest.warns(DeprecationWarning, match=r"aekit\.saving\.load_model"):
        from aekit.io import load_model
    assert load_model(tmp_path / "m").config.layers == [4, 2]


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match=r"'aekit\.io' has no attribute 'save'"):
        aekit.io.save  # noqa: B018
