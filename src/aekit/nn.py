"""Stacks of fully connected layers built from a layer spec such as ``"784-1000-500-250-30"``.

One stack builder serves every model: an encoder is ``build_stack(sizes)``, its decoder is
``build_stack(mirror(sizes))`` or a :class:`TiedStack` that reuses the encoder's weights
transposed (as in the unrolled networks of Hinton & Salakhutdinov, Science 2006).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    # Exponential linear units (Clevert et al., ICLR 2016): ReLU's speed without dead units;
    # the default recipes' hidden units (aekit.recipes).
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "linear": nn.Identity,
}


def parse_layers(
    spec: str | int | Sequence[int],
    n_features: int | None = None,
    *,
    min_widths: int = 2,
    what: str = "layer spec",
) -> list[int]:
    """Parse a layer spec into a list of layer widths: the one parser of layer specs.

    Parameters
    ----------
    spec : str or sequence of int
        ``"784-1000-500-250-30"`` (dashes or commas) or ``[784, 1000, 500, 250, 30]``, each
        width a positive integer. The first may be ``auto`` (``"auto-500-30"``) to take the
        data's width ``n_features``.
    n_features : int, optional
        The data's width: fills ``auto``, and a first width that differs is an error.
    min_widths : int
        How many widths the spec needs (2 for an encoder: input and code; 1 for a list of
        hidden widths such as a discriminator's, which may also be a single int).
    what : str
        What the spec is called in error messages.

    Returns
    -------
    list of int
    """
    if isinstance(spec, str):
        sizes = _widths_from_text(spec, n_features, what)
    else:
        # A single width (a discriminator's "8" from a config file) is a list of one.
        values: Sequence[Any] = [spec] if isinstance(spec, int) else spec
        try:
            sizes = [int(s) for s in values]
            ok = all(float(s) == int(s) and not isinstance(s, bool) for s in values)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise TypeError(
                f"{what} must be a string like '784-500-30' or a list of ints, got {spec!r}"
            ) from None
    if len(sizes) < min_widths:
        raise ValueError(
            f"{what} {spec!r} needs at least an input and a code width, e.g. '784-30'"
            if min_widths == 2
            else f"{what} {spec!r} needs at least {min_widths} width(s)"
        )
    if any(s <= 0 for s in sizes):
        raise ValueError(f"{what} {spec!r} has a non-positive width; all must be >= 1")
    if n_features is not None and min_widths >= 2 and sizes[0] != n_features:
        rest = "-".join(str(w) for w in sizes[1:])
        raise ValueError(
            f"the {what} starts at width {sizes[0]} but the data has {n_features} features; "
            f"write {n_features}-{rest} or auto-{rest}"
        )
    check_stack_size(sizes, what)
    return sizes


def _widths_from_text(spec: str, n_features: int | None, what: str) -> list[int]:
    """``"784-500-30"`` or ``"auto-500-30"`` (dashes or commas) as widths."""
    parts = [p.strip() for p in spec.strip().replace(",", "-").split("-")]
    auto = parts[0].lower() == "auto"
    if auto:
        parts = parts[1:]
        if n_features is None:
            raise ValueError(
                f"{what} {spec!r} starts with 'auto', the data's width, and no data is "
                "known here; write the input width instead of 'auto'"
            )
        if not parts or parts == [""]:
            raise ValueError(f"{what} 'auto' needs at least a code width, e.g. 'auto-30'")
    if "" in parts:  # '64,-3' or '64--3': a minus sign, or a separator twice
        raise ValueError(
            f"{what} {spec!r} has an empty width; widths are positive integers "
            "separated by single dashes or commas, like '784-1000-500-250-30'"
        )
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ValueError(
            f"{what} {spec!r} is not a dash-separated list of integers; "
            "write it like '784-1000-500-250-30'"
        ) from None
    return [int(n_features), *sizes] if auto else sizes  # type: ignore[arg-type]


#: Bytes one parameter costs in training: the weight, its gradient and Adam's two moments.
TRAIN_BYTES_PER_PARAMETER = 16


def physical_memory() -> int:
    """This machine's memory in bytes (0 where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_stack_size(sizes: Sequence[int], what: str = "layer spec") -> None:
    """Refuse widths whose stack (and its mirror, for an autoencoder) could not be trained in
    this machine's memory, before a single weight is allocated."""
    n_params = 2 * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    need, have = n_params * TRAIN_BYTES_PER_PARAMETER, physical_memory()
    if have and need > have:
        raise ValueError(
            f"the {what} {'-'.join(map(str, sizes))} has about {n_params:.3g} parameters, "
            f"which need about {need / 2**30:.3g} GiB to train, and this machine has "
            f"{have / 2**30:.3g} GiB; use narrower layers"
        )


def check_activation(name: str) -> str:
    """Return ``name`` if it names a known activation, else raise a ``ValueError``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return name


def mirror(sizes: Sequence[int]) -> list[int]:
    """The decoder's widths for an encoder of widths ``sizes``: the same list reversed."""
    return list(reversed(sizes))


class Stack(nn.Module):
    """Fully connected layers, each followed by its activation.

    ``forward`` returns the last layer's output; ``forward_all`` returns every layer's
    activation, which the sparse and contractive penalties need.
    """

    def __init__(self, sizes: Sequence[int], activations: Sequence[str]) -> None:
        super().__init__()
        assert len(activations) == len(sizes) - 1
        self.sizes = list(sizes)
        self.activation_names = [check_activation(a) for a in activations]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activations = nn.ModuleList(ACTIVATIONS[a]() for a in self.activation_names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear, act in zip(self.linears, self.activations):
            x = act(linear(x))
        return x

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's activation, bottom to top."""
        out = []
        for linear, act in zip(self.linears, self.activations):
            x = act(linear(x))
            out.append(x)
        return out

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers, bottom to top (``self.linears`` as ``nn.Linear``: iterating an
        ``nn.ModuleList`` yields plain ``nn.Module``)."""
        return [cast(nn.Linear, lin) for lin in self.linears]

    def weights(self) -> list[torch.Tensor]:
        """Weight matrices (not biases): the tensors weight decay applies to."""
        return [lin.weight for lin in self.linear_layers()]


class TiedStack(nn.Module):
    """A decoder whose weights are the transposes of an encoder's, with biases of its own.

    The encoder is held by reference (not registered as a submodule) so its parameters are
    owned, saved and counted once.
    """

    def __init__(self, encoder: Stack, activations: Sequence[str]) -> None:
        super().__init__()
        self.sizes = mirror(encoder.sizes)
        assert len(activations) == len(self.sizes) - 1
        self.activation_names = [check_activation(a) for a in activations]
        self._encoder = [encoder]  # a list hides it from nn.Module registration
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(n)) for n in self.sizes[1:])
        self.activations = nn.ModuleList(ACTIVATIONS[a]() for a in self.activation_names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoder_linears = self._encoder[0].linear_layers()[::-1]
        for lin, bias, act in zip(encoder_linears, self.biases, self.activations):
            x = act(nn.functional.linear(x, lin.weight.t(), bias))
        return x

    def weights(self) -> list[torch.Tensor]:
        return []  # shared with the encoder; decayed there once


def build_stack(
    sizes: Sequence[int], activation: str = "logistic", out_activation: str = "linear"
) -> Stack:
    """Build a :class:`Stack` with ``activation`` on hidden layers and ``out_activation`` last.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[784, 1000, 500, 250, 30]``.
    activation : {"logistic", "relu", "tanh", "linear"}
        Activation of every layer but the last.
    out_activation : {"logistic", "relu", "tanh", "linear"}
        Activation of the last layer (the code layer of an encoder; linear by default, as
        in Hinton & Salakhutdinov 2006).
    """
    n = len(sizes) - 1
    check_activation(activation)  # validated even when a one-layer stack never uses it
    return Stack(sizes, [activation] * (n - 1) + [out_activation])


@torch.no_grad()
def glorot_uniform_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-initialise every ``nn.Linear`` in ``module`` as TensorFlow/Keras do by default.

    Weights ~ U(-a, a) with ``a = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010), biases
    zero. PyTorch's default draws smaller weights (``a = 1 / sqrt(fan_in)``); papers whose
    reference code is TensorFlow (e.g. Alemi et al.'s VIB) were tuned with this one.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            fan_out, fan_in = m.weight.shape
            a = (6.0 / (fan_in + fan_out)) ** 0.5
            m.weight.uniform_(-a, a, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
    return module


@torch.no_grad()
def load_unrolled(encoder: Stack, decoder: Stack | TiedStack, layers: Sequence) -> None:
    """Copy greedily pretrained layers into an encoder and its mirrored decoder (unrolling).

    Layer ``k`` supplies ``encoder_weight`` ``(n_out, n_in)``, ``encoder_bias``,
    ``decoder_weight`` ``(n_in, n_out)`` and ``decoder_bias`` (numpy arrays or tensors):
    encoder layer ``k`` takes the first two and the mirrored decoder layer the last two, so
    the decoder starts as the transposes of the encoder (Hinton & Salakhutdinov 2006).
    """
    if len(layers) != len(encoder.linears):
        raise ValueError(
            f"got {len(layers)} pretrained layers for {len(encoder.linears)} encoder layers"
        )

    def tensor(a) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32)

    n = len(layers)
    for k, layer in enumerate(layers):
        enc = encoder.linear_layers()[k]
        enc.weight.copy_(tensor(layer.encoder_weight))
        enc.bias.copy_(tensor(layer.encoder_bias))
        if isinstance(decoder, TiedStack):
            decoder.biases[n - 1 - k].copy_(tensor(layer.decoder_bias))
        else:
            dec = decoder.linear_layers()[n - 1 - k]
            dec.weight.copy_(tensor(layer.decoder_weight))
            dec.bias.copy_(tensor(layer.decoder_bias))
