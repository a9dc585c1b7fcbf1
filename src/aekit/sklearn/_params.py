"""Estimator parameters that are config fields, constrained and checked by the configs.

Most parameters of aekit's estimators are fields of a model config or of
:class:`~aekit.train.TrainConfig`, some under scikit-learn's names (``max_epochs`` for
``epochs``, ``learning_rate`` for ``lr``). :class:`ConfigParams` declares each such parameter's
source field once: ``_parameter_constraints`` is generated from the field's spec (for
scikit-learn's tooling), and ``_validate_params`` checks the value with the config's own
:func:`~aekit.config.check_value`, so an estimator accepts and refuses exactly what the command
line, a TOML file and the config dataclass do, with scikit-learn's wording.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from aekit.config import ConfigError, FieldSpec, check_value, field_specs, python_spelling
from aekit.train.trainer import TrainConfig

#: The training parameters every network estimator takes, by their TrainConfig field.
TRAINING_FIELDS: dict[str, tuple[type, str]] = {
    "max_epochs": (TrainConfig, "epochs"),
    "batch_size": (TrainConfig, "batch_size"),
    "learning_rate": (TrainConfig, "lr"),
    "optimizer": (TrainConfig, "optimizer"),
    "validation_fraction": (TrainConfig, "val_fraction"),
    "n_iter_no_change": (TrainConfig, "patience"),
    "device": (TrainConfig, "device"),
}


def fields_of(config_cls: type, names: list[str] | tuple[str, ...]) -> dict[str, tuple[type, str]]:
    """``{name: (config_cls, name)}``: parameters named as the config's fields."""
    return {name: (config_cls, name) for name in names}


def sklearn_constraint(spec: FieldSpec) -> list:
    """A config field's spec as scikit-learn parameter constraints."""
    out: list[Any]
    if spec.kind is bool:
        out = ["boolean"]
    elif spec.kind is str:
        choices = spec.bounds.choice_list()
        out = [StrOptions(set(choices))] if choices is not None else [str]
    elif spec.kind in (int, float):
        b = spec.bounds
        left = b.ge if b.ge is not None else b.gt
        right = b.le if b.le is not None else b.lt
        # sklearn's Interval closes only an end that exists.
        closed = {
            (True, True): "both",
            (True, False): "left",
            (False, True): "right",
            (False, False): "neither",
        }[(b.ge is not None, b.le is not None)]
        out = [Interval(Integral if spec.kind is int else Real, left, right, closed=closed)]
    else:
        out = ["array-like"]
    return [*out, None] if spec.optional else out


def constraints_from(fields: dict[str, tuple[type, str]]) -> dict[str, list]:
    """scikit-learn constraints of every parameter in ``fields``, from its config field."""
    return {name: sklearn_constraint(field_specs(cls)[f]) for name, (cls, f) in fields.items()}


class ConfigParams:
    """Mixin: ``_config_params`` names each parameter's config field; the rest of
    ``_parameter_constraints`` (the estimator's own parameters) stays scikit-learn's."""

    _config_params: ClassVar[dict[str, tuple[type, str]]] = {}
    _parameter_constraints: ClassVar[dict]

    def _validate_params(self) -> None:
        own = {k: v for k, v in self._parameter_constraints.items() if k not in self._config_params}
        validate_parameter_constraints(
            own, {k: getattr(self, k) for k in own}, caller_name=type(self).__name__
        )
        for name, (cls, field) in self._config_params.items():
            try:
                check_value(cls, field_specs(cls)[field], getattr(self, name))
            except ConfigError as err:
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} "
                    f"{err.problem_text(python_spelling)}"
                ) from None
