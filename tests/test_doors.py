"""One run specification behind every door: Python's config dataclasses, a TOML file's tables
(the run specification), the command line's flags and the scikit-learn estimators accept and
refuse the same values of every field each of them exposes, and refuse them in their own
words."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

import aekit.spec
from aekit.cli import main
from aekit.cli.train import MODEL_FIELDS, TRAIN_FIELDS
from aekit.config import ConfigError, field_specs
from aekit.data import Dataset
from aekit.registry import model_class
from aekit.spec import TRAINABLE, RunSpec
from aekit.train import TrainConfig

N_FEATURES = 4
# Values that probe every kind of field: not numbers, non-finite, negative, zero, inside the
# usual ranges, at and past their ends, large, and of the wrong type.
PROBES = [math.nan, math.inf, -math.inf, -1, -0.5, 0, 0.5, 1, 2, 10**6, 1e-3, "x", True, False]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.random((24, N_FEATURES), dtype=np.float32)
    y = np.arange(24) % 3
    path = tmp_path_factory.mktemp("doors") / "xy.npz"
    np.savez(path, x=x, y=y)
    return path, Dataset("xy", x[:20], y[:20], x[20:], y[20:])


class _Accepted(Exception):
    """Raised in place of training: the command line got as far as fitting."""


def _python(model: str, field: str, value) -> bool:
    """The Python door: the config dataclass itself (on the data's width, as a run builds it)."""
    cls = model_class(model).config_class
    if cls is None or field not in field_specs(cls):
        config_kwargs = {}
        train_kwargs = {field: value}
    else:
        config_kwargs, train_kwargs = {field: value}, {}
    default = cls().layers
    try:
        cls(**{"layers": [N_FEATURES, *default[1:]], **config_kwargs})
        TrainConfig(**train_kwargs)
    except (ValueError, TypeError):
        return False
    return True


def _toml(model: str, field: str, value, dataset) -> bool:
    table = "train" if field in TRAIN_FIELDS and field not in MODEL_FIELDS else "model"
    tables = {"model": {"name": model}, "train": {}}
    tables[table][field] = value
    try:
        RunSpec.from_dict(tables).configs(dataset)
    except (ValueError, TypeError):
        return False
    return True


def _cli_value(value) -> str | None:
    if isinstance(value, bool):
        return None  # a flag's value is its name: --tied / --no-tied
    return str(value)


def _cli(model: str, field: str, value, path, monkeypatch) -> tuple[bool, str]:
    flag = "--" + field.replace("_", "-")
    spec = field_specs(TrainConfig).get(field)
    for name in (model, *TRAINABLE):  # a field of another model is still a flag
        spec = spec or field_specs(model_class(name).config_class).get(field)
    if spec.kind is bool:
        if not isinstance(value, bool):
            return None, ""  # not expressible on the command line
        args = [flag if value else "--no-" + field.replace("_", "-")]
    else:
        text = _cli_value(value)
        if text is None:
            return None, ""
        args = [flag, text]

    def build_no_model(self, data, *a, **k):
        self.configs(data)  # every check a run makes, without allocating the model
        raise _Accepted

    monkeypatch.setattr(aekit.spec.RunSpec, "build", build_no_model)
    args = [
        "train",
        "--data",
        str(path),
        "--model",
        model,
        *args,
        "--out",
        "unused",
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args)
    if isinstance(result.exception, _Accepted):
        return True, result.output
    assert result.exit_code in (1, 2), (args, result.output, result.exception)
    assert "Traceback" not in result.output
    return False, result.output


def _doors_agree(model: str, field: str, data, monkeypatch) -> list[str]:
    path, dataset = data
    wrong = []
    for value in PROBES:
        py = _python(model, field, value)
        toml = _toml(model, field, value, dataset)
        cli, output = _cli(model, field, value, path, monkeypatch)
        if py != toml or (cli is not None and cli != py):
            wrong.append(f"{field}={value!r}: python {py}, toml {toml}, cli {cli}")
        if cli is False and py is False and field not in ("layers",):
            # The command line speaks of its flags, never of Python's keyword arguments.
            assert f"{field}=" not in output, output
    return wrong


@pytest.mark.parametrize("model", TRAINABLE)
def test_model_fields_are_accepted_and_refused_alike_at_every_door(model, data, monkeypatch):
    specs = field_specs(model_class(model).config_class)
    wrong = []
    for field, spec in specs.items():
        if spec.kind is None or field == "n_classes":  # lists; the class count is the data's
            continue
        wrong += _doors_agree(model, field, data, monkeypatch)
    assert not wrong, "\n".join(wrong)


def test_train_fields_are_accepted_and_refused_alike_at_every_door(data, monkeypatch):
    wrong = []
    for field, spec in field_specs(TrainConfig).items():
        if spec.kind is None or field in ("device", "progress", "augment_shift"):
            continue  # structured; a device may be absent; shifting needs an image shape
        wrong += _doors_agree("autoencoder", field, data, monkeypatch)
    assert not wrong, "\n".join(wrong)


def test_the_command_line_names_the_flag_and_python_the_field(data, monkeypatch):
    path, _ = data
    _, output = _cli("autoencoder", "weight_decay", math.nan, path, monkeypatch)
    assert "--weight-decay must be a number >= 0, got nan" in output
    with pytest.raises(ConfigError, match=r"AutoencoderConfig\.weight_decay must be a number"):
        model_class("autoencoder").config_class(layers=[4, 2], weight_decay=math.nan)
    _, output = _cli("vae", "sparsity_weight", 0.1, path, monkeypatch)
    assert "--sparsity-weight does not apply to --model vae" in output
    with pytest.raises(ConfigError, match="sparsity_weight does not apply to model='vae'"):
        RunSpec(model="vae", model_config={"sparsity_weight": 0.1})


def test_every_field_has_its_help_text_written_once():
    for name in TRAINABLE:
        for field, spec in field_specs(model_class(name).config_class).items():
            assert spec.help, f"{name}: {field} has no help text in the config's docstring"
    for field, spec in field_specs(TrainConfig).items():
        assert spec.help, f"TrainConfig.{field} has no help text"
    result = CliRunner().invoke(main, ["train", "--help"])
    assert "Seeds initialisation-independent randomness" in " ".join(result.output.split())


def test_the_estimators_accept_and_refuse_what_the_configs_do():
    from aekit.config import check_value
    from aekit.sklearn import AutoencoderTransformer

    est = AutoencoderTransformer()
    assert set(est._config_params) <= set(est.get_params())
    wrong = []
    for param, (cls, field) in est._config_params.items():
        spec = field_specs(cls)[field]
        for value in [*PROBES, "sigmoid", "gaussian", "mask", "adam"]:
            try:
                check_value(cls, spec, value)
                python = True
            except (ValueError, TypeError):
                python = False
            try:
                AutoencoderTransformer(**{param: value})._validate_params()
                sklearn = True
            except (ValueError, TypeError):
                sklearn = False
            if python != sklearn:
                wrong.append(f"{param}={value!r}: python {python}, sklearn {sklearn}")
    assert not wrong, "\n".join(wrong)
    # scikit-learn's words, the estimator's names.
    with pytest.raises(ValueError, match=r"'max_epochs' parameter of AutoencoderTransformer must"):
        AutoencoderTransformer(max_epochs=0)._validate_params()
    with pytest.raises(ValueError, match=r"'weight_decay' parameter .* got nan"):
        AutoencoderTransformer(weight_decay=math.nan)._validate_params()
    AutoencoderTransformer(activation="sigmoid")._validate_params()  # every activation aekit has
