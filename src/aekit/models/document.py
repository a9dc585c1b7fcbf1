"""Deep autoencoders of documents: real codes for maps and retrieval, binary codes for hashing.

References
----------
- G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
  Networks", Science 313:504-507, 2006, Fig. 4 and its supporting material: a
  2000-500-250-125-10 (or -2) autoencoder of word-count vectors, pretrained with a softmax
  ("constrained Poisson") RBM at the bottom, fine-tuned with the cross-entropy
  ``-sum_i p_i log p_hat_i`` between the document's word distribution and the softmax output.
- R. Salakhutdinov and G. E. Hinton, "Semantic Hashing", International Journal of Approximate
  Reasoning 50:969-978, 2009: logistic code units with Gaussian noise added to their total
  input during fine-tuning, so their activities become bimodal and can be thresholded at 0.5
  into binary codes, compared by Hamming distance.

The input is a document's word counts ``v`` (length ``D = sum_i v_i``), by default rescaled
to ``input_length`` words (``v' = input_length * v / D``; ``None`` keeps the raw counts). The
first layer sees ``W v' + D' c``, exactly the hidden input of the replicated-softmax RBM that
pretrains it (its bottom-up input grows with the document, see :mod:`aekit.rbm.rbm`), so the
unrolled network starts where pretraining ended. The output is a distribution over the
vocabulary and the reconstruction term is the cross-entropy with ``p = v / D`` in nats per
word. Why rescale: on 20 Newsgroups (median 54 words of the vocabulary, longest 12,434) raw
counts made CD on the softmax RBM diverge and its features retrieve at chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from torch.nn import functional as F

from aekit.models.base import EncoderDecoder, check_documents, check_input_width
from aekit.nn import Stack, build_stack, check_activation, load_unrolled, mirror, parse_layers
from aekit.registry import register_model
from aekit.regularizers import weight_decay_penalty

CODE_TYPES = ("real", "binary")


@dataclass
class DocumentAutoencoderConfig:
    """Architecture of a :class:`DocumentAutoencoder`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from the vocabulary to the code, e.g. ``"2000-500-250-125-10"``.
    activation : str
        Hidden-layer activation (logistic, as in the paper and as RBM pretraining needs).
    code : {"real", "binary"}
        ``real``: linear code units (maps, cosine retrieval). ``binary``: logistic code units
        trained with noise and thresholded at 0.5 (semantic hashing).
    code_noise : float
        Standard deviation of the Gaussian noise added to the binary code units' total input
        while training (Salakhutdinov & Hinton fix one noise vector per training case for
        conjugate gradients; with minibatch Adam a fresh draw per batch serves the same
        purpose). Ignored for real codes.
    weight_decay : float
        ``lambda`` of ``lambda / 2 * sum ||W||^2``.
    input_length : float or None
        Rescale every document to this many words before the first layer (its word
        distribution times ``input_length``); ``None`` feeds the raw counts. With raw counts
        the few very long posts of 20 Newsgroups made CD on the softmax RBM diverge and its
        features retrieve at chance; at 100 words it trains stably (docs/measurements.md).
    vocabulary : dict or None
        The fitted text pipeline (``BagOfWords.to_dict()``), saved with the model so that
        ``aekit retrieve`` codes new text exactly as the training corpus was coded.
    """

    layers: list[int] = field(default_factory=lambda: [2000, 500, 250, 125, 10])
    activation: str = "logistic"
    code: str = "real"
    code_noise: float = 4.0
    weight_decay: float = 0.0
    input_length: float | None = 100.0
    vocabulary: dict | None = None

    def __post_init__(self) -> None:
        self.layers = parse_layers(self.layers)
        check_activation(self.activation)
        if self.code not in CODE_TYPES:
            raise ValueError(f"unknown code {self.code!r}; choose one of {list(CODE_TYPES)}")
        if self.code_noise < 0 or self.weight_decay < 0:
            raise ValueError("code_noise and weight_decay must be >= 0")
        if self.vocabulary is not None:
            words = self.vocabulary.get("vocabulary", [])
            if len(words) != self.layers[0]:
                raise ValueError(
                    f"the vocabulary has {len(words)} words but the input layer has "
                    f"{self.layers[0]} units; build layers from the fitted BagOfWords"
                )

    @property
    def code_dim(self) -> int:
        return self.layers[-1]

    @property
    def code_activation(self) -> str:
        return "linear" if self.code == "real" else "logistic"


def rescale_documents(counts, length: float | None):
    """Each document's counts scaled to ``length`` words (its word distribution times
    ``length``); ``None`` returns ``counts`` unchanged. Sparse input stays sparse; empty
    documents stay empty."""
    if length is None:
        return counts
    totals = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    scale = np.divide(length, totals, out=np.zeros_like(totals), where=totals > 0)
    if sp.issparse(counts):
        return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ counts)
    return (np.asarray(counts) * scale[:, None]).astype(np.float32)


@register_model("document-autoencoder")
class DocumentAutoencoder(EncoderDecoder):
    """A deep autoencoder of word-count vectors (rows of a bag-of-words matrix).

    ``transform`` gives real codes (or code-unit probabilities for binary codes) and
    :meth:`binary_codes` the thresholded bits. Inputs may be dense arrays or scipy sparse
    matrices; sparse ones are densified one batch at a time.

    Examples
    --------
    >>> model = DocumentAutoencoder(layers="50-20-2")
    >>> model.encode(torch.poisson(torch.ones(4, 50))).shape
    torch.Size([4, 2])
    """

    config_class = DocumentAutoencoderConfig

    def __init__(self, config: DocumentAutoencoderConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = DocumentAutoencoderConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        self.encoder = build_stack(config.layers, config.activation, config.code_activation)
        n = len(config.layers) - 1
        # The last decoder layer outputs logits over the vocabulary (softmax likelihood).
        self.decoder = Stack(mirror(config.layers), [config.activation] * (n - 1) + ["linear"])

    # Forward paths ---------------------------------------------------------------------------

    def code_input(self, x: torch.Tensor) -> torch.Tensor:
        """Total input of the code units, ``(batch, code_dim)``; the first layer scales its
        bias by the document length as the replicated-softmax RBM does."""
        if self.config.input_length is not None:
            x = x * (self.config.input_length / x.sum(-1, keepdim=True))
        h = x
        linears = self.encoder.linear_layers()
        last = len(linears) - 1
        for k, (linear, act) in enumerate(zip(linears, self.encoder.activations)):
            if k == 0:
                pre = torch.addcmul(
                    F.linear(h, linear.weight), x.sum(-1, keepdim=True), linear.bias
                )
            else:
                pre = linear(h)
            if k == last:
                return pre
            h = act(pre)
        raise AssertionError("unreachable")

    def _code(self, pre: torch.Tensor, noise: bool) -> torch.Tensor:
        if self.config.code == "real":
            return pre
        if noise and self.config.code_noise > 0:
            pre = pre + self.config.code_noise * torch.randn_like(pre)
        return torch.sigmoid(pre)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes ``(batch, code_dim)``: real values, or code-unit probabilities (no noise)."""
        return self._code(self.code_input(x), noise=False)

    def decode_output(self, z: torch.Tensor) -> torch.Tensor:
        """Logits over the vocabulary, ``(batch, n_words)``."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Word distributions ``(batch, n_words)`` from codes."""
        return torch.softmax(self.decoder(z), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstructed word distribution of each document."""
        return self.decode(self.encode(x))

    # Training objective ----------------------------------------------------------------------

    def _cross_entropy(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``-sum_i p_i log p_hat_i`` per document, ``p = x / D``: nats per word."""
        p = x / x.sum(-1, keepdim=True)
        return -(p * F.log_softmax(logits, dim=-1)).sum(-1)

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z = self._code(self.code_input(x), noise=self.training)
        recon = self._cross_entropy(self.decoder(z), x).mean()
        terms = {"recon": recon}
        loss = recon
        if self.config.weight_decay > 0:
            wd = weight_decay_penalty(self.encoder.weights() + self.decoder.weights(), 1.0)
            terms["weight_decay"] = wd
            loss = loss + self.config.weight_decay * wd
        return loss, terms

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Held-out cross-entropy (nats per word) of the clean codes; for binary codes also
        that of the thresholded bits, which is what retrieval uses."""
        pre = self.code_input(x)
        out = {"recon": self._cross_entropy(self.decoder(self._code(pre, noise=False)), x).mean()}
        if self.config.code == "binary":
            bits = (pre > 0).float()  # sigmoid(pre) > 0.5
            out["recon_binary"] = self._cross_entropy(self.decoder(bits), x).mean()
        return out

    def check_data(self, x, name: str = "data") -> None:
        """Raise ``ValueError`` unless ``x`` holds non-empty word-count rows of the right width."""
        check_input_width(x, self.config.layers[0], name)
        check_documents(x, name)

    # numpy conveniences ------------------------------------------------------------------------

    def binary_codes(self, x, batch_size: int = 1024) -> np.ndarray:
        """Thresholded codes, ``(n_docs, code_dim)`` uint8 in {0, 1} (binary codes only)."""
        if self.config.code != "binary":
            raise ValueError(
                "binary_codes needs a model built with code='binary' (semantic hashing); "
                "this one has real codes: use transform"
            )
        return self._apply_numpy(lambda v: self.code_input(v) > 0, x, batch_size).astype(np.uint8)

    def transform(self, x, batch_size: int = 1024, out=None) -> np.ndarray:
        """Codes of documents (real, or code-unit probabilities for binary codes; ``out`` as
        for :meth:`EncoderDecoder.transform`)."""
        self._check_numpy_input(x)
        return super().transform(x, batch_size, out=out)

    def _check_numpy_input(self, x) -> None:
        lengths = np.asarray(x.sum(axis=1)).ravel()
        if len(lengths) == 0:
            raise ValueError("got no documents; pass at least one row of word counts")
        empty = np.flatnonzero(lengths <= 0)
        if len(empty):
            raise ValueError(
                f"document {int(empty[0])} has no words in the model's vocabulary, so it has no "
                "code; drop empty documents first"
            )

    def reconstruction_error(self, x, batch_size: int = 1024) -> np.ndarray:
        """Per-document cross-entropy in nats per word: an anomaly score for documents."""
        self._check_numpy_input(x)
        return self._apply_numpy(
            lambda v: self._cross_entropy(self.decoder(self.encode(v)), v), x, batch_size
        )

    @torch.no_grad()
    def load_pretrained_layers(self, layers) -> DocumentAutoencoder:
        """Unroll greedily pretrained layers (the bottom one a replicated-softmax RBM)."""
        load_unrolled(self.encoder, self.decoder, layers)
        return self
