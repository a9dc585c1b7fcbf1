"""Deterministic autoencoders: basic, deep, sparse, denoising and contractive, composable.

References
----------
- G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
  Networks", Science 313:504-507, 2006 (deep autoencoders, linear code layer, unrolling).
- A. Ng, "Sparse autoencoder", CS294A lecture notes, 2011 (KL sparsity penalty).
- P. Vincent et al., "Stacked Denoising Autoencoders", JMLR 11:3371-3408, 2010.
- S. Rifai et al., "Contractive Auto-Encoders", ICML 2011.

The objective on a batch is

    mean_n NLL(x_n | decoder(encoder(corrupt(x_n))))          (likelihoods.py)
    + weight_decay / 2 * sum ||W||^2
    + sparsity_weight * sum_j KL(rho || rho_hat_j)             (per logistic encoder layer)
    + contractive_weight * mean_n ||J_encoder(x_n)||_F^2

Each term is off when its weight is 0, and any combination may be on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from aekit.config import ConfigError, check_fields, param
from aekit.likelihoods import LIKELIHOODS, get_likelihood
from aekit.models.base import EncoderDecoder, check_input_width
from aekit.nn import (
    ACTIVATIONS,
    Stack,
    TiedStack,
    build_stack,
    check_activation,
    load_unrolled,
    mirror,
    parse_layers,
)
from aekit.registry import register_model
from aekit.regularizers import (
    CORRUPTIONS,
    check_corruption,
    contractive_closed_form,
    contractive_exact,
    contractive_projection,
    corrupt,
    kl_sparsity,
    weight_decay_penalty,
)

CONTRACTIVE_METHODS = ("auto", "closed", "exact", "projection")


@dataclass
class AutoencoderConfig:
    """Architecture and regularization of an :class:`Autoencoder`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from input to code, e.g. ``"784-1000-500-250-30"``; the decoder mirrors it.
    activation : str
        Hidden-layer activation (``logistic``, ``relu``, ``elu``, ``tanh``).
    code_activation : str
        Code-layer activation; ``linear`` as in Hinton & Salakhutdinov (2006).
    likelihood : str
        Reconstruction term: ``bernoulli`` (cross-entropy, data in [0, 1]), ``gaussian``
        (squared error), ``poisson`` or ``softmax`` (counts).
    tied : bool
        Decoder weights are the encoder's transposes (biases stay separate).
    weight_decay : float
        ``lambda`` of ``lambda / 2 * sum ||W||^2``.
    sparsity_weight, sparsity_target : float
        ``beta`` and ``rho`` of the KL sparsity penalty, applied to every logistic encoder layer.
    contractive_weight : float
        ``lambda`` of the contractive penalty on the whole encoder's Jacobian.
    contractive_method : {"auto", "closed", "exact", "projection"}
        ``closed`` needs a one-layer logistic encoder; ``exact`` costs one backward pass per
        code unit; ``projection`` is the unbiased random-projection estimate with
        ``contractive_projections`` passes. ``auto`` picks closed, else exact for codes of at
        most 32 units, else projection.
    contractive_projections : int
        Random projections per step of ``contractive_method="projection"``.
    corruption : {"none", "mask", "gaussian", "salt_and_pepper"}
        Denoising: corrupt the input during training only; the target stays clean.
    corruption_level : float
        Masking / salt-and-pepper probability, or the Gaussian noise's standard deviation.
    """

    layers: list[int] = field(default_factory=lambda: [784, 256, 32])
    activation: str = param("logistic", choices=lambda: list(ACTIVATIONS))
    code_activation: str = param("linear", choices=lambda: list(ACTIVATIONS))
    likelihood: str = param("bernoulli", choices=lambda: list(LIKELIHOODS))
    tied: bool = False
    weight_decay: float = param(0.0, ge=0)
    sparsity_weight: float = param(0.0, ge=0)
    sparsity_target: float = param(0.05, gt=0, lt=1)
    contractive_weight: float = param(0.0, ge=0)
    contractive_method: str = param("auto", choices=CONTRACTIVE_METHODS)
    contractive_projections: int = param(1, ge=1)
    corruption: str = param("none", choices=lambda: ["none", *CORRUPTIONS])
    corruption_level: float = param(0.0, ge=0)

    def __post_init__(self) -> None:
        check_fields(self)
        self.layers = parse_layers(self.layers)
        check_activation(self.activation)
        check_activation(self.code_activation)
        get_likelihood(self.likelihood)
        check_corruption(self.corruption, self.corruption_level)
        for name in ("weight_decay", "sparsity_weight", "contractive_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.sparsity_target < 1.0:
            raise ValueError(
                f"sparsity_target is a mean activation in (0, 1), got {self.sparsity_target}"
            )
        if self.sparsity_weight > 0 and not {"logistic", "sigmoid"} & set(
            self.encoder_activations()
        ):
            raise ConfigError(
                "sparsity_weight",
                "(the KL sparsity penalty) needs logistic encoder units (activations in (0, 1)); "
                "set {activation} or {code_activation}",
                "AutoencoderConfig",
                mentions={
                    "activation": ("activation", "logistic"),
                    "code_activation": ("code_activation", "logistic"),
                },
            )
        if self.contractive_method not in CONTRACTIVE_METHODS:
            raise ValueError(
                f"unknown contractive_method {self.contractive_method!r}; "
                f"choose one of {list(CONTRACTIVE_METHODS)}"
            )
        if self.contractive_method == "closed" and not self._closed_form_ok():
            raise ConfigError(
                "",
                "{closed} needs a one-layer encoder with a logistic code (layers like '784-100', "
                "{logistic}); use {exact} or {projection}",
                mentions={
                    "closed": ("contractive_method", "closed"),
                    "logistic": ("code_activation", "logistic"),
                    "exact": ("contractive_method", "exact"),
                    "projection": ("contractive_method", "projection"),
                },
            )
        if self.contractive_projections < 1:
            raise ValueError("contractive_projections must be >= 1")

    def encoder_activations(self) -> list[str]:
        n = len(self.layers) - 1
        return [self.activation] * (n - 1) + [self.code_activation]

    def _closed_form_ok(self) -> bool:
        return len(self.layers) == 2 and self.code_activation in ("logistic", "sigmoid")

    @property
    def code_dim(self) -> int:
        return self.layers[-1]


@register_model("autoencoder")
class Autoencoder(EncoderDecoder):
    """A (deep) autoencoder with optional sparse, denoising, contractive and decay terms.

    Examples
    --------
    >>> from aekit.models import Autoencoder, AutoencoderConfig
    >>> ae = Autoencoder(AutoencoderConfig(layers="784-500-30", corruption="mask",
    ...                                    corruption_level=0.25))
    >>> ae.encode(torch.rand(8, 784)).shape
    torch.Size([8, 30])
    """

    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = AutoencoderConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        self.likelihood = get_likelihood(config.likelihood)
        self.encoder = build_stack(config.layers, config.activation, config.code_activation)
        # The decoder's last layer is linear: it outputs the likelihood's natural parameter.
        dec_acts = [config.activation] * (len(config.layers) - 2) + ["linear"]
        if config.tied:
            self.decoder: Stack | TiedStack = TiedStack(self.encoder, dec_acts)
        else:
            self.decoder = Stack(mirror(config.layers), dec_acts)

    # Forward paths ---------------------------------------------------------------------------

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes, shape ``(batch, code_dim)``."""
        return self.encoder(x)

    def decode_output(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's raw output: the likelihood's natural parameter (e.g. logits)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructions in data space from codes."""
        return self.likelihood.mean(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x`` (no corruption), shape ``(batch, n_features)``."""
        return self.decode(self.encode(x))

    # Training objective ----------------------------------------------------------------------

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training objective on a batch and its terms (all scalar tensors)."""
        cfg = self.config
        x_in = corrupt(x, cfg.corruption, cfg.corruption_level) if self.training else x
        need_jacobian = cfg.contractive_weight > 0 and not self._use_closed_form()
        if need_jacobian:
            x_in = x_in.detach().requires_grad_(True)
        hs = self.encoder.forward_all(x_in)  # [(batch, n_1), ..., (batch, code_dim)]
        output = self.decoder(hs[-1])
        recon = self.likelihood.nll(output, x).mean()
        terms = {"recon": recon}
        loss = recon
        if cfg.weight_decay > 0:
            wd = weight_decay_penalty(self.encoder.weights() + self.decoder.weights(), 1.0)
            terms["weight_decay"] = wd
            loss = loss + cfg.weight_decay * wd
        if cfg.sparsity_weight > 0:
            acts = self.encoder.activation_names
            sp = sum(
                kl_sparsity(h, cfg.sparsity_target)
                for h, a in zip(hs, acts)
                if a in ("logistic", "sigmoid")
            )
            # Never the empty sum's 0: the config refuses sparsity without a logistic layer.
            assert isinstance(sp, torch.Tensor)
            terms["sparsity"] = sp
            loss = loss + cfg.sparsity_weight * sp
        if cfg.contractive_weight > 0:
            ct = self.contractive_penalty(x_in, hs)
            terms["contractive"] = ct
            loss = loss + cfg.contractive_weight * ct
        return loss, terms

    def _use_closed_form(self) -> bool:
        method = self.config.contractive_method
        return method == "closed" or (method == "auto" and self.config._closed_form_ok())

    def contractive_penalty(self, x_in: torch.Tensor, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Mean ``||J_f(x)||_F^2`` by the configured method (see the module docstring)."""
        cfg = self.config
        if self._use_closed_form():
            return contractive_closed_form(hs[-1], self.encoder.linear_layers()[0].weight)
        method = cfg.contractive_method
        if method == "exact" or (method == "auto" and cfg.code_dim <= 32):
            return contractive_exact(x_in, hs[-1])
        return contractive_projection(x_in, hs[-1], cfg.contractive_projections)

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        """Raise ``ValueError`` unless ``x`` has the input width and the likelihood's range."""
        check_input_width(x, self.config.layers[0], name)
        self.likelihood.check_data(x)

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Held-out metrics on a clean batch: the reconstruction NLL and squared error."""
        output = self.decoder(self.encoder(x))
        return {
            "recon": self.likelihood.nll(output, x).mean(),
            "squared_error": (self.likelihood.mean(output) - x).pow(2).sum(-1).mean(),
        }

    # Pretrained initialisation ---------------------------------------------------------------

    @torch.no_grad()
    def load_pretrained_layers(self, layers: Sequence) -> Autoencoder:
        """Initialise from greedily pretrained layers (see :mod:`aekit.train.pretrain`).

        Layer ``k`` supplies ``encoder_weight`` ``(n_out, n_in)``, ``encoder_bias``,
        ``decoder_weight`` ``(n_in, n_out)`` and ``decoder_bias``: encoder layer ``k`` takes
        the first two and the mirrored decoder layer the last two (unrolling).
        """
        load_unrolled(self.encoder, self.decoder, layers)
        return self
