"""An interactive explorer of what a model learned: one self-contained HTML page.

The page shows the data's codes on a 2-D map coloured by label, as the maps of Hinton &
Salakhutdinov ("Reducing the Dimensionality of Data with Neural Networks", Science 2006,
Figs. 3 and 4): the code itself when it has two numbers, else its first two principal
components (t-SNE, from scikit-learn, or UMAP, from ``umap-learn``, on request). Hovering a point
shows its input and its reconstruction (images), or its first words, group and nearest
documents (document models). For 2-D codes a toggled layer tiles the map with decoded images
on a grid, the layout of Kingma & Welling ("Auto-Encoding Variational Bayes", ICLR 2014,
Fig. 4: for a VAE the grid is the prior's quantiles, as there). Clicking two points shows the
decoded path between their codes. VAE and AAE pages add draws from the prior (on the map and
decoded); RBM and DBN pages, the first layer's filters.

The decoder's weights are inlined, when they fit ``max_decoder_bytes``, and run in the page
(``explore.js``, float64 sums over the float32 weights: within 1e-4 of PyTorch, tested), so
reconstructions and paths are computed for any point. A larger decoder is replaced by
precomputed reconstructions and the paths between pairs of a sample of "anchor" points.

Why plain JavaScript on one canvas and no plotting library: measured on 10,000 MNIST points
(``benchmarks/explore.py``, headless Chromium, 2 busy CPU cores), the map alone is a page of
0.3 MB ready in 59 ms, against 1.7 MB and 0.6 s for the same scatter in Bokeh and 5.0 MB and
0.8 s in Plotly (their scripts inline), and the parts that make the page useful (images on
hover, decoding, paths, the manifold layer) would be custom script in either library. The page
has no dependency to install and nothing to fetch.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import norm

from aekit.atomic import atomic_write_text
from aekit.config import check_fields, param
from aekit.data import BagOfWords, Corpus, Dataset
from aekit.extras import require
from aekit.models import VAE, AdversarialAutoencoder, Autoencoder, DocumentAutoencoder
from aekit.models.base import EncoderDecoder
from aekit.nn import TiedStack
from aekit.rbm import DBN, RBM
from aekit.viz.report import Section

__all__ = [
    "PROJECTIONS",
    "DecoderLayer",
    "ExplorerConfig",
    "build_explorer",
    "decode_numpy",
    "decoder_layers",
    "explore_saved",
    "explorer_section",
    "find_saved_model",
    "write_explorer",
]

PROJECTIONS = ("auto", "code", "pca", "tsne", "umap")
DECODER_MODES = ("auto", "inline", "precomputed")
# The likelihood's mean, applied to the decoder's last (linear) layer.
_LIKELIHOOD_MEAN = {"bernoulli": "logistic", "gaussian": "linear", "poisson": "exp"}
_RBM_VISIBLE_MEAN = {"bernoulli": "logistic", "gaussian": "linear", "softmax": "softmax"}
_TEXT_CHARS = 240  # of each document, shown on hover


@dataclass
class ExplorerConfig:
    """What an explorer page shows and how much of it.

    Parameters
    ----------
    max_points : int
        Points on the map: a seeded random sample of the rows when there are more (never the
        first rows: some data sets are sorted by class).
    projection : {"auto", "code", "pca", "tsne", "umap"}
        ``auto``: the code itself when it has 2 numbers, else PCA of the codes. ``tsne`` is
        scikit-learn's; ``umap`` needs the ``umap-learn`` package (``aekit[explore]``).
    decoder : {"auto", "inline", "precomputed"}
        ``inline``: the decoder's weights go into the page and run there; ``precomputed``:
        reconstructions and the paths between ``n_anchors`` sampled points are computed
        here; ``auto``: inline when the weights fit ``max_decoder_bytes``.
    max_decoder_bytes : int
        Size budget of the inlined float32 weights (base64 adds a third).
    n_steps : int
        Decoded codes along a path, both ends included.
    manifold_size : int
        Grid points per axis of the decoded-manifold layer (2-D codes).
    n_prior : int
        Prior draws shown on the map (VAE, AAE); the first 64 are also shown decoded.
    n_filters : int
        First-layer filters shown for RBMs and DBNs.
    n_anchors : int
        Points between which paths are precomputed when the decoder is not inlined.
    n_neighbours : int
        Nearest documents (cosine of the codes) listed on hover for document models.
    seed : int
        Seeds the sample of points, the anchors, t-SNE/UMAP and the prior draws.
    """

    max_points: int = param(10_000, ge=2)
    projection: str = param("auto", choices=PROJECTIONS)
    decoder: str = param("auto", choices=DECODER_MODES)
    max_decoder_bytes: int = param(8 * 2**20, ge=0)
    n_steps: int = param(10, ge=2)
    manifold_size: int = param(20, ge=2)
    n_prior: int = param(500, ge=0)
    n_filters: int = param(100, ge=0)
    n_anchors: int = param(24, ge=2)
    n_neighbours: int = param(5, ge=1)
    seed: int = param(0, ge=0)

    def __post_init__(self) -> None:
        check_fields(self)


# The decoder as plain layers ------------------------------------------------------------------


@dataclass
class DecoderLayer:
    """``activation(weight @ h + bias)``; ``weight`` is ``(n_out, n_in)`` float32."""

    weight: np.ndarray
    bias: np.ndarray
    activation: str


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy().astype(np.float32)


def _stack_layers(decoder, likelihood: str) -> list[DecoderLayer]:
    """A :class:`~aekit.nn.Stack` or :class:`~aekit.nn.TiedStack` ending in the likelihood's
    mean (its last layer is linear: the natural parameter)."""
    if isinstance(decoder, TiedStack):
        linears = decoder._encoder[0].linear_layers()[::-1]
        weights = [lin.weight.t() for lin in linears]
        biases = list(decoder.biases)
    else:
        weights = [lin.weight for lin in decoder.linear_layers()]
        biases = [lin.bias for lin in decoder.linear_layers()]
    acts = list(decoder.activation_names)
    assert acts[-1] == "linear", "a decoder's last layer outputs the natural parameter"
    acts[-1] = "softmax" if likelihood == "softmax" else _LIKELIHOOD_MEAN[likelihood]
    return [DecoderLayer(_numpy(w), _numpy(b), a) for w, b, a in zip(weights, biases, acts)]


def _rbm_down(rbm: RBM) -> DecoderLayer:
    """``E[v | h]`` of one RBM (softmax units as a word distribution, without the length)."""
    w = rbm.weight * rbm.config.down_scale  # (n_hidden, n_visible)
    return DecoderLayer(
        _numpy(w.t()), _numpy(rbm.visible_bias), _RBM_VISIBLE_MEAN[rbm.config.visible]
    )


def _vae_layers(model: VAE) -> list[DecoderLayer]:
    return _stack_layers(model.decoder, model.config.likelihood)


_DECODERS = {
    Autoencoder: lambda m: _stack_layers(m.decoder, m.config.likelihood),
    VAE: _vae_layers,
    AdversarialAutoencoder: lambda m: _stack_layers(m.decoder, m.config.likelihood),
    DocumentAutoencoder: lambda m: _stack_layers(m.decoder, "softmax"),
    RBM: lambda m: [_rbm_down(m)],
    # The mean-field down pass: the top RBM's E[v | h], then each directed layer's.
    DBN: lambda m: [_rbm_down(r) for r in reversed(m.rbms)],
}


def decoder_layers(model) -> list[DecoderLayer] | None:
    """The model's map from codes to the data's space as plain layers, or None for a model
    of another kind. Autoencoders, VAEs, AAEs and document autoencoders: the decoder and the
    likelihood's mean; RBMs and DBNs: the mean-field down pass ``E[v | h]``."""
    for cls, layers in _DECODERS.items():
        if type(model) is cls:
            return layers(model)
    return None


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda h: h,
    "logistic": lambda h: 1.0 / (1.0 + np.exp(-h)),
    "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h)),
    "relu": lambda h: np.maximum(h, 0.0),
    "elu": lambda h: np.where(h > 0, h, np.expm1(np.minimum(h, 0.0))),
    "tanh": np.tanh,
    "exp": np.exp,
    "softmax": lambda h: (
        np.exp(h - h.max(-1, keepdims=True))
        / np.exp(h - h.max(-1, keepdims=True)).sum(-1, keepdims=True)
    ),
}


def decode_numpy(layers: list[DecoderLayer], codes: np.ndarray) -> np.ndarray:
    """The layers applied to ``codes`` ``(n, code_dim)`` in float64, as the page does."""
    h = np.asarray(codes, dtype=np.float64)
    for layer in layers:
        h = _ACTIVATIONS[layer.activation](h @ layer.weight.T.astype(np.float64) + layer.bias)
    return h


# Rows to show ------------------------------------------------------------------------------------


@dataclass
class _Rows:
    x: Any  # (n, n_features) array, or scipy CSR word counts
    y: np.ndarray | None
    label_names: list[str] | None
    image_shape: tuple[int, int] | None
    texts: list[str] | None
    ids: list[str]
    name: str  # what the rows are, for the page's title: "mnist (test rows)", "documents"


def _vocabulary(model) -> list[str] | None:
    vocab = getattr(model.config, "vocabulary", None)
    return None if vocab is None else list(vocab["vocabulary"])


def _first_words(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= _TEXT_CHARS else words[:_TEXT_CHARS].rsplit(" ", 1)[0] + " ..."


def _dataset_rows(data: Dataset, label_names, image_shape, split: str) -> _Rows:
    parts = {"train": [(data.x_train, data.y_train)], "test": [(data.x_test, data.y_test)]}
    parts["all"] = parts["train"] + parts["test"]
    if split not in parts:
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    x = np.concatenate([p[0] for p in parts[split]])
    ys = [p[1] for p in parts[split]]
    labelled = [v for v in ys if v is not None]
    y = np.concatenate(labelled) if len(labelled) == len(ys) else None
    ids = [f"{split} row {i}" for i in range(len(x))]
    shape = image_shape or data.image_shape
    return _Rows(x, y, label_names, shape, None, ids, f"{data.name} ({split} rows)")


def _corpus_rows(model, corpus: Corpus, label_names) -> _Rows:
    """A corpus as the word counts of the model's vocabulary; documents without one of its
    words have no code and are left out."""
    if not isinstance(model, DocumentAutoencoder) or model.config.vocabulary is None:
        raise ValueError(
            "a text corpus needs a document model saved with its vocabulary (as `aekit "
            "reproduce hinton2006 docs` trains); pass word counts for other models"
        )
    counts = BagOfWords.from_dict(model.config.vocabulary).transform(corpus.texts)
    keep = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel() > 0)
    return _Rows(
        counts[keep],
        corpus.labels[keep],
        label_names or list(corpus.label_names),
        None,
        [_first_words(corpus.texts[i]) for i in keep],
        [corpus.doc_ids[i] for i in keep],
        "documents",
    )


def _array_rows(data, labels, label_names, image_shape) -> _Rows:
    x = data.tocsr() if sp.issparse(data) else np.asarray(data, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"data must be (n_samples, n_features), got shape {x.shape}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(
                f"labels has shape {labels.shape} but data has {x.shape[0]} rows; pass one label "
                "per row"
            )
    ids = [f"row {i}" for i in range(x.shape[0])]
    return _Rows(x, labels, label_names, image_shape, None, ids, "data")


def _rows(model, data, labels, label_names, image_shape, split: str) -> _Rows:
    """The rows the page shows, from a Dataset, a Corpus (document models) or an array."""
    if isinstance(data, Dataset):
        return _dataset_rows(data, label_names, image_shape, split)
    if isinstance(data, Corpus):
        return _corpus_rows(model, data, label_names)
    return _array_rows(data, labels, label_names, image_shape)


def _top_count_words(row, vocab: list[str], k: int = 12) -> str:
    counts = np.asarray(row.todense() if sp.issparse(row) else row).ravel()
    top = np.argsort(-counts, kind="stable")[:k]
    return " ".join(vocab[i] for i in top if counts[i] > 0)


def _sample(rows: _Rows, n: int, seed: int) -> _Rows:
    total = rows.x.shape[0]
    if total <= n:
        return rows
    idx = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
    return _Rows(
        rows.x[idx],
        None if rows.y is None else rows.y[idx],
        rows.label_names,
        rows.image_shape,
        None if rows.texts is None else [rows.texts[i] for i in idx],
        [rows.ids[i] for i in idx],
        rows.name,
    )


# Projection to 2-D ------------------------------------------------------------------------------


def _project(codes: np.ndarray, projection: str, seed: int):
    """2-D positions, axis names, and a function placing other codes (or None)."""
    d = codes.shape[1]
    if projection == "auto":
        projection = "code" if d == 2 else "pca"
    if projection == "code":
        if d != 2:
            raise ValueError(
                f"projection='code' needs 2-D codes but this model's codes have {d} numbers; "
                "use 'pca', 'tsne' or 'umap'"
            )
        return codes.astype(np.float32), ["code 1", "code 2"], (lambda z: z), projection
    if d < 2:
        raise ValueError("the map needs codes of at least 2 numbers; this model's have 1")
    if projection == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(2, random_state=seed).fit(codes)
        share = pca.explained_variance_ratio_
        axes = [f"PC {k + 1} of the codes ({share[k]:.0%} of their variance)" for k in range(2)]
        return pca.transform(codes).astype(np.float32), axes, pca.transform, projection
    if projection == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(codes) - 1) / 3))
        tsne = TSNE(2, init="pca", perplexity=perplexity, random_state=seed)
        return tsne.fit_transform(codes).astype(np.float32), ["t-SNE 1", "t-SNE 2"], None, "tsne"
    umap = require("umap", "explore", "The UMAP projection (or pick 'pca' or 'tsne')")
    reducer = umap.UMAP(n_components=2, random_state=seed)
    with warnings.catch_warnings():  # a seed makes UMAP single-threaded, and it says so
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        positions = reducer.fit_transform(codes).astype(np.float32)
    return positions, ["UMAP 1", "UMAP 2"], None, "umap"


# Images -----------------------------------------------------------------------------------------


def _b64(a: np.ndarray | bytes) -> str:
    data = a if isinstance(a, bytes) else np.ascontiguousarray(a).tobytes()
    return base64.b64encode(data).decode("ascii")


def _f32(a: np.ndarray) -> str:
    return _b64(np.asarray(a, dtype="<f4"))


def _i32(a: np.ndarray) -> str:
    return _b64(np.asarray(a, dtype="<i4"))


def _grey(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Grey levels with ink dark, the report's ``gray_r`` between ``lo`` and ``hi``."""
    g = np.clip((np.asarray(x, dtype=np.float64) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    return np.round(255.0 * (1.0 - g)).astype(np.uint8)


def _sprite(pixels: np.ndarray, image_shape: tuple[int, int]) -> dict[str, Any]:
    """Images ``(n, h * w)`` uint8 as one PNG mosaic, row-major, ``cols`` images a row."""
    from PIL import Image  # Pillow comes with matplotlib

    h, w = image_shape
    n = len(pixels)
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    sheet = np.full((rows * h, cols * w), 255, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = pixels[k].reshape(h, w)
    buf = io.BytesIO()
    Image.fromarray(sheet, "L").save(buf, "PNG", optimize=True)
    return {"png": _b64(buf.getvalue()), "cols": cols, "h": h, "w": w, "count": n}


def _filters(model, image_shape, n: int) -> np.ndarray | None:
    """First-layer filters of an RBM or DBN ``(n, n_visible)`` in [0, 255], each on its own
    grey scale (dark negative, light positive), when the visible layer is an image."""
    rbm = model.rbm_layers()[0] if isinstance(model, DBN) else model
    if not isinstance(rbm, RBM) or image_shape is None or n == 0:
        return None
    w = _numpy(rbm.weight)[:n].astype(np.float64)  # (n, n_visible)
    lo, hi = w.min(1, keepdims=True), w.max(1, keepdims=True)
    return np.round(255 * (w - lo) / np.maximum(hi - lo, 1e-12)).astype(np.uint8)


def _prior_codes(model, n: int, seed: int) -> np.ndarray | None:
    """Draws of the decoder's input from the model's prior (VAE, AAE), ``(n, code_dim)``."""
    if n == 0:
        return None
    g = torch.Generator().manual_seed(seed)
    if isinstance(model, AdversarialAutoencoder):
        return _numpy(model.sample_prior(n, g))
    if isinstance(model, VAE):
        return torch.randn(n, model.config.code_dim, generator=g).numpy()
    return None


def _edges(values: np.ndarray) -> list[float]:
    """Cell edges around increasing grid values: midpoints, the ends extended by half a step."""
    mid = (values[1:] + values[:-1]) / 2
    first, last = values[0] - (mid[0] - values[0]), values[-1] + (values[-1] - mid[-1])
    return [float(v) for v in (first, *mid, last)]


def _manifold_grid(model, codes: np.ndarray, n: int) -> tuple[np.ndarray, dict[str, list]]:
    """Codes of the manifold layer in image order (rows from the largest ``z2``) and the cell
    edges per axis. A VAE's grid is its prior's quantiles (Kingma & Welling, Fig. 4); other
    models' span the middle 98% of their codes evenly."""
    if isinstance(model, VAE):
        xs = ys = norm.ppf((np.arange(n) + 0.5) / n)
    else:
        lo, hi = np.percentile(codes, [1, 99], axis=0)
        xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    z1, z2 = np.meshgrid(xs, ys[::-1])
    grid = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    return grid, {"x": _edges(xs), "y": _edges(ys)}


def _colours(n: int) -> list[str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    if n <= 10:
        return [to_hex(colormaps["tab10"](k)) for k in range(10)]
    if n <= 20:
        return [to_hex(colormaps["tab20"](k)) for k in range(20)]
    return [to_hex(colormaps["hsv"](k / n)) for k in range(n)]


def _neighbours(codes: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Each row's ``k`` nearest other rows by cosine of the codes, ``(n, k)``, nearest first."""
    z = codes / np.maximum(np.linalg.norm(codes, axis=1, keepdims=True), 1e-12)
    n = len(z)
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        sims = z[start : start + chunk] @ z.T  # (chunk, n)
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -np.inf  # never a document's own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1, kind="stable")
        out[start : start + chunk] = np.take_along_axis(top, order, 1)
    return out


# The page ----------------------------------------------------------------------------------------


def _decode_fn(model, layers):
    """Codes -> data space, by the model's own ``inverse_transform`` when it has one."""
    if isinstance(model, EncoderDecoder):
        return lambda z: model.inverse_transform(np.asarray(z, dtype=np.float32))
    if layers is not None:
        return lambda z: decode_numpy(layers, z).astype(np.float32)
    return None


def _top_words(dist: np.ndarray, vocab: list[str], k: int = 6) -> list[list[str]]:
    top = np.argsort(-dist, axis=1, kind="stable")[:, :k]
    return [[vocab[i] for i in row] for row in top]


def _paths_payload(rows, codes, decode, vocab, grey, cfg, payload) -> bool:
    """Precomputed paths between pairs of anchors, when the decoder is not in the page: as
    images, or as each step's top words (documents). False when the rows are neither."""
    if rows.image_shape is None and vocab is None:
        return False
    k = min(cfg.n_anchors, len(codes))
    anchors = np.sort(np.random.default_rng(cfg.seed + 1).choice(len(codes), k, replace=False))
    t = np.linspace(0.0, 1.0, cfg.n_steps)[:, None]  # (n_steps, 1)
    segments = [
        (1 - t) * codes[a] + t * codes[b] for i, a in enumerate(anchors) for b in anchors[i + 1 :]
    ]
    decoded = decode(np.concatenate(segments))  # (pairs * n_steps, n_features)
    payload["anchors"] = _i32(anchors)
    if rows.image_shape is not None:
        payload["sprites"]["paths"] = _sprite(_grey(decoded, *grey), rows.image_shape)
    else:
        payload["path_words"] = _top_words(decoded, vocab)
    return True


def _scales(image_shape) -> dict[str, int]:
    """Screen pixels per image pixel: the hovered images about 112 px wide, a path's 56."""
    side = max(image_shape) if image_shape else 28
    return {
        "image_scale": max(1, round(112 / side)),
        "path_scale": max(1, round(56 / side)),
        "tile_scale": max(1, round(40 / side)),
    }


def _base_payload(rows: _Rows, codes, positions, axes, grey, cfg) -> dict[str, Any]:
    labels = None if rows.y is None else np.asarray(rows.y).astype(np.int64)
    n_classes = 1 if labels is None else int(labels.max()) + 1
    n_classes = max(n_classes, len(rows.label_names or []))
    return {
        "n": int(codes.shape[0]),
        "code_dim": int(codes.shape[1]),
        "n_features": int(rows.x.shape[1]),
        "positions": _f32(positions),
        "axes": axes,
        "labels": None if labels is None else _i32(labels),
        "label_names": rows.label_names,
        "colours": _colours(n_classes),
        "ids": rows.ids,
        "image_shape": list(rows.image_shape) if rows.image_shape else None,
        "grey": {"lo": grey[0], "hi": grey[1]},
        "n_steps": cfg.n_steps,
        **_scales(rows.image_shape),
        "sprites": {},
    }


def _inline_decoder(layers, cfg: ExplorerConfig, model) -> bool:
    """Whether the decoder's weights go into the page (``cfg.decoder``, the size budget)."""
    if cfg.decoder == "inline" and layers is None:
        raise ValueError(
            f"a {type(model).__name__}'s decoder cannot be inlined; use decoder='precomputed'"
        )
    if layers is None or cfg.decoder == "precomputed":
        return False
    weight_bytes = sum(L.weight.nbytes + L.bias.nbytes for L in layers)
    return cfg.decoder == "inline" or weight_bytes <= cfg.max_decoder_bytes


def _decoder_payload(layers: list[DecoderLayer]) -> dict[str, Any]:
    return {
        "layers": [
            {
                "weight": _f32(L.weight),
                "bias": _f32(L.bias),
                "n_in": int(L.weight.shape[1]),
                "n_out": int(L.weight.shape[0]),
                "activation": L.activation,
            }
            for L in layers
        ]
    }


def _rows_payload(payload, rows: _Rows, codes, x_dense, decode, inline, grey, cfg) -> None:
    """What hovering a point shows: images, documents, or the vector as a line chart."""
    if rows.image_shape is not None:
        payload["sprites"]["inputs"] = _sprite(_grey(x_dense, *grey), rows.image_shape)
        if not inline and decode is not None:
            recon = decode(codes)
            payload["sprites"]["recons"] = _sprite(_grey(recon, *grey), rows.image_shape)
    elif rows.texts is not None:
        payload["texts"] = rows.texts
        payload["neighbours"] = _i32(_neighbours(codes, cfg.n_neighbours))
        payload["n_neighbours"] = min(cfg.n_neighbours, len(codes) - 1)
    elif x_dense is not None and x_dense.nbytes <= 4 * 2**20:
        payload["vectors"] = _f32(x_dense)


def _extras_payload(payload, model, rows, codes, decode, place, projection, grey, cfg) -> None:
    """The manifold layer (2-D codes), prior draws (VAE, AAE) and filters (RBM, DBN)."""
    images = rows.image_shape is not None and decode is not None
    if projection == "code" and images:
        grid, edges = _manifold_grid(model, codes, cfg.manifold_size)
        payload["manifold"] = {"edges": edges}
        payload["sprites"]["manifold"] = _sprite(_grey(decode(grid), *grey), rows.image_shape)
    prior = _prior_codes(model, cfg.n_prior, cfg.seed)
    if prior is not None:
        if place is not None:
            payload["prior_positions"] = _f32(place(prior))
        if images:
            samples = decode(prior[:64])
            payload["sprites"]["prior"] = _sprite(_grey(samples, *grey), rows.image_shape)
    filters = _filters(model, rows.image_shape, cfg.n_filters)
    if filters is not None:
        payload["sprites"]["filters"] = _sprite(filters, rows.image_shape)


def _check_model(model) -> None:
    if isinstance(model, VAE) and model.config.n_classes:
        raise ValueError(
            "a conditional VAE decodes a code together with a label, which the explorer's map "
            "does not choose; explore an unconditional VAE (n_classes=0)"
        )
    if not callable(getattr(model, "transform", None)):
        raise TypeError(f"a {type(model).__name__} has no transform (codes) to map")


def build_explorer(
    model,
    data,
    config: ExplorerConfig | None = None,
    *,
    labels=None,
    label_names: list[str] | None = None,
    image_shape: tuple[int, int] | None = None,
    split: str = "test",
    title: str | None = None,
) -> str:
    """The explorer page as one HTML string (see :func:`write_explorer`)."""
    cfg = config or ExplorerConfig()
    _check_model(model)
    rows = _rows(model, data, labels, label_names, image_shape, split)
    rows = _sample(rows, cfg.max_points, cfg.seed)
    vocab = _vocabulary(model) if isinstance(model, DocumentAutoencoder) else None
    if vocab is not None and rows.texts is None:  # counts without their text: the top words
        rows.texts = [_top_count_words(rows.x[i], vocab) for i in range(rows.x.shape[0])]
    n, n_features = rows.x.shape
    if n < 2:
        raise ValueError(f"the explorer needs at least 2 rows to map, got {n}")
    if rows.image_shape is not None and rows.image_shape[0] * rows.image_shape[1] != n_features:
        raise ValueError(f"image_shape {rows.image_shape} does not hold {n_features} features")
    codes = np.asarray(model.transform(rows.x), dtype=np.float32)  # (n, code_dim)
    positions, axes, place, projection = _project(codes, cfg.projection, cfg.seed)
    layers = decoder_layers(model)
    decode = _decode_fn(model, layers)
    inline = _inline_decoder(layers, cfg, model)
    x_dense = None if sp.issparse(rows.x) else np.asarray(rows.x, dtype=np.float32)
    grey = (0.0, 1.0)  # the report's grey scale: from min(data, 0) to max(data)
    if x_dense is not None:
        grey = (float(min(x_dense.min(), 0.0)), float(max(x_dense.max(), 1e-12)))

    payload = _base_payload(rows, codes, positions, axes, grey, cfg)
    payload["vocabulary"] = vocab
    paths = inline
    if inline:
        assert layers is not None  # only a decoder with layers is inlined
        payload["codes"] = _f32(codes)
        payload["decoder"] = _decoder_payload(layers)
    elif decode is not None:
        paths = _paths_payload(rows, codes, decode, vocab, grey, cfg, payload)
    _rows_payload(payload, rows, codes, x_dense, decode, inline, grey, cfg)
    _extras_payload(payload, model, rows, codes, decode, place, projection, grey, cfg)
    payload["path_hint"] = (
        "Click two points to decode the path between their codes"
        + ("." if inline else " (precomputed between the ringed points).")
        if paths
        else "No decoded paths for this model and data."
    )
    title = title or f"aekit explorer: {_describe(model)} on {rows.name}"
    where = "in the page" if inline else "precomputed" if decode is not None else "none"
    subtitle = f"{n} points, {codes.shape[1]}-number codes shown by {projection}; decoder {where}"
    return _page(title, subtitle, payload)


def _describe(model) -> str:
    layers = getattr(model.config, "layers", None)
    spec = "-".join(map(str, layers)) if layers else ""
    return f"{type(model).__name__} {spec}".strip()


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       margin: 1em 1.5em; line-height: 1.4; }
h1 { font-size: 1.35em; margin: 0 0 .2em; }
h2 { font-size: 1.05em; margin: .8em 0 .3em; border-bottom: 1px solid #eee; }
p.meta { color: #666; font-size: .9em; margin: 0 0 .8em; }
#main { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
#map { border: 1px solid #ddd; cursor: crosshair; width: 640px; height: 640px; }
#controls { margin: .4em 0; font-size: .9em; }
#controls label, #controls button { margin-right: 1em; }
#legend { font-size: .85em; max-width: 640px; }
#legend .key { display: inline-block; margin: 0 .8em .2em 0; }
#legend .dot { display: inline-block; width: .8em; height: .8em; border-radius: 50%;
               margin-right: .3em; vertical-align: middle; }
#side { flex: 1; min-width: 320px; max-width: 720px; }
figure { display: inline-block; margin: 0 1em .5em 0; }
figcaption { font-size: .85em; color: #555; text-align: center; }
canvas.hover-input, canvas.hover-recon, canvas.step, canvas.tile { border: 1px solid #e4e4e4;
       image-rendering: pixelated; }
#path-strip { display: flex; flex-wrap: wrap; gap: 3px; }
#path-strip .step { font-size: .8em; border: 1px solid #e4e4e4; padding: .2em .4em; }
div.tiles canvas { margin: 0 2px 2px 0; }
.doc .group { font-weight: bold; margin: .2em 0; }
.doc .words { font-size: .9em; }
.doc .sub { font-size: .85em; color: #555; margin: .3em 0 0; }
ol.neighbours { font-size: .85em; margin: .2em 0; padding-left: 1.4em; }
"""


def _page(title: str, subtitle: str, payload: dict[str, Any]) -> str:
    script = resources.files("aekit.viz").joinpath("explore.js").read_text(encoding="utf-8")
    # "</" would end the script element early; "<\/" is the same JSON string.
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">{html.escape(subtitle)}. Hover a point to see it; drag to pan, '
            "wheel to zoom.</p>",
            '<div id="main">',
            "<div>",
            '<canvas id="map" width="640" height="640"></canvas>',
            '<div id="controls">',
            '<label id="manifold-control"><input type="checkbox" id="show-manifold"> decoded '
            "manifold</label>",
            '<label id="prior-control"><input type="checkbox" id="show-prior"> prior draws '
            "(+)</label>",
            '<button id="clear-path">clear path</button>',
            '<button id="reset-view">reset view</button>',
            "</div>",
            '<div id="legend"></div>',
            "</div>",
            '<div id="side">',
            '<section id="hover"><h2>Point</h2><p id="hover-info">Hover a point on the map.</p>'
            '<div id="hover-body"></div></section>',
            '<section id="path"><h2>Decoded path</h2><p id="path-info"></p>'
            '<div id="path-strip"></div></section>',
            '<section id="prior" style="display:none"><h2>Decoded draws from the prior</h2>'
            '<div id="prior-grid" class="tiles"></div></section>',
            '<section id="filters" style="display:none"><h2>First-layer filters</h2>'
            '<div id="filters-grid" class="tiles"></div></section>',
            "</div>",
            "</div>",
            f'<script type="application/json" id="aekit-data">{data}</script>',
            f"<script>\n{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_explorer(
    model,
    data,
    path: str | Path,
    config: ExplorerConfig | None = None,
    **kwargs,
) -> Path:
    """Write the explorer page of ``model`` on ``data`` to ``path``: one HTML file that works
    opened from disk, offline.

    Parameters
    ----------
    model : aekit model
        Anything with ``transform`` (codes): autoencoders, VAEs, AAEs, document
        autoencoders, RBMs, DBNs. Its decoder is inlined or precomputed (module docstring).
    data : Dataset, Corpus, ndarray or scipy sparse matrix
        A :class:`~aekit.data.Dataset` (its ``split`` rows, labels and image shape), a text
        :class:`~aekit.data.Corpus` (document models with a vocabulary), or rows
        ``(n_samples, n_features)``.
    path : path
        The ``.html`` file (written atomically; folders are created).
    config : ExplorerConfig, optional
    **kwargs
        ``labels`` and ``label_names`` (for arrays), ``image_shape`` ``(height, width)``,
        ``split`` (``"test"``, ``"train"`` or ``"all"`` of a Dataset) and ``title``.

    Returns
    -------
    Path
    """
    path = Path(path)
    atomic_write_text(path, build_explorer(model, data, config, **kwargs))
    return path


# Saved runs (what `aekit explore` calls) ---------------------------------------------------------

# Where a saved model sits in a folder: itself, an `aekit train` run, a reproduction's fine-tuning.
_MODEL_PLACES = (".", "model", "finetune/model")


def find_saved_model(path: str | Path) -> Path:
    """The saved-model folder in ``path``: ``path`` itself, ``path/model`` (an ``aekit train``
    run) or ``path/finetune/model`` (an ``aekit reproduce hinton2006`` run)."""
    path = Path(path)
    for place in _MODEL_PLACES:
        if (path / place / "config.json").is_file():
            return (path / place).resolve()
    raise ValueError(
        f"{path} holds no saved model (config.json + model.safetensors), nor a run of `aekit "
        "train` (model/) or of `aekit reproduce hinton2006` (finetune/model/); pass one of those"
    )


def explore_saved(
    run: str | Path,
    data: str | Path,
    out: str | Path,
    config: ExplorerConfig | None = None,
    *,
    data_dir: str | Path | None = None,
    data_options: dict[str, Any] | None = None,
    split: str = "test",
) -> Path:
    """Write the explorer page of a saved model or run on a data set: ``aekit explore``.

    Parameters
    ----------
    run : path
        A saved model, or a run folder holding one (:func:`find_saved_model`).
    data : str or path
        A data set's name or file (:func:`aekit.data.load_dataset`); for a document model, a
        text corpus (:func:`aekit.data.load_corpus`: the 20news-bydate archive, a folder of
        class folders, or a CSV).
    out : path
        The ``.html`` file to write.
    config : ExplorerConfig, optional
    data_dir : path, optional
        Where named data sets are found (else ``$AEKIT_DATA_DIR``).
    data_options : dict, optional
        Keyword arguments of the data set's loader (e.g. ``{"layout": "paper"}`` for curves).
    split : {"test", "train", "all"}
        Which rows of the data set to map (20 Newsgroups: its test or train half).

    Returns
    -------
    Path
    """
    from aekit.data import load_corpus, load_dataset
    from aekit.saving import load_model

    model = load_model(find_saved_model(run))
    if isinstance(model, DocumentAutoencoder):
        path = Path(data).expanduser()
        if not path.exists():
            raise ValueError(
                f"a document model explores a text corpus, and {data} does not exist; pass "
                "the 20news-bydate archive, a folder of class folders or a CSV"
            )
        if split not in ("train", "test"):
            raise ValueError(
                f"a corpus is explored by halves: split 'train' or 'test', not {split!r}"
            )
        subset: Literal["train", "test"] = "train" if split == "train" else "test"
        rows: Corpus | Dataset
        try:
            rows = load_corpus(path, subset=subset)
        except ValueError:
            if split != "test":
                raise
            rows = load_corpus(path)  # one corpus (CSV, class folders): load_corpus's "train"
    else:
        rows = load_dataset(data, data_dir=data_dir, **(data_options or {}))
        # The width and range the model was trained for, as training checks them.
        for part in (rows.x_train, rows.x_test):
            if len(part):
                model.check_data(torch.from_numpy(part), "the data")
    return write_explorer(model, rows, out, config, split=split)


def explorer_section(pages: Mapping[str, Path], folder: str | Path) -> Section:
    """A report section linking explorer pages (label -> page), relative to the report's
    ``folder``, so the links hold when the folder is moved or mailed whole."""
    return Section(
        "Explore the models",
        "Interactive pages, one self-contained HTML file each (open from disk, offline): the "
        "codes on a 2-D map coloured by label; hover a point to see its input and "
        "reconstruction, click two points to see the decoded path between their codes.",
        links=[(label, os.path.relpath(page, folder)) for label, page in pages.items()],
    )
