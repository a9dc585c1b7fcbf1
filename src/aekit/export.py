"""Export of trained models to ONNX, so they run where aekit (and PyTorch) are not installed.

ONNX (the Open Neural Network Exchange format, https://onnx.ai) stores a computation graph
with its weights; onnxruntime and most deployment stacks run it. :func:`export_onnx` writes,
into one folder, a graph per deterministic part of a model:

    encoder.onnx    data -> code (the posterior mean of a stochastic encoder; an RBM's or a
                    DBN's up pass: hidden means layer by layer)
    decoder.onnx    code -> data-space means (or class probabilities, for the VIB)
    model.onnx      data -> reconstruction, where the model has one deterministic forward path
    export.json     what each file takes and returns, and why a part was left out

Every graph takes float32 rows with a dynamic batch dimension (``batch``). What is random in a
model (a VAE's posterior draws, Gibbs sampling in a DBN) has no deterministic graph: such a
part is not written and ``export.json`` says why.

The exporter is ``torch.onnx.export(..., dynamo=True)``, the torch.export-based one (torch's
default since 2.9; it needs onnxscript). The TorchScript-based exporter (``dynamo=False``)
also produces working graphs under torch 2.13, but it warns on every call that it is
deprecated and will be removed, so a feature built on it would break with a torch upgrade.
Each graph is run once in onnxruntime against PyTorch before it takes its file name.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from aekit import __version__
from aekit.atomic import atomic_write, atomic_write_json
from aekit.extras import require

FORMATS = ("onnx",)
OPSET = 18
# The check of a fresh export against PyTorch, on the example batch: errors relative to the
# output's scale. fp32 kernels differ by rounding only (1e-7 on unit-scale outputs), so a
# graph beyond this has a wrong operator, not rounding.
VERIFY_TOLERANCE = 1e-4
EXAMPLE_BATCH = 5  # torch.export specialises sizes 0 and 1, so trace with a larger batch


@dataclass(frozen=True)
class Part:
    """One graph to export: ``fn`` of named float32 inputs ``(name, width)``, one output.

    ``counts`` marks inputs holding word counts (non-negative integers, no empty row), which
    the example batch must respect.
    """

    fn: Callable[..., torch.Tensor]
    inputs: tuple[tuple[str, int], ...]
    output: str
    doc: str
    counts: bool = False


# A recipe maps a part's name to a Part, or to the reason the part has no graph.
Recipe = dict[str, "Part | str"]
RECIPES: dict[str, Callable[[Any], Recipe]] = {}


def onnx_recipe(*names: str):
    """Decorator: ``fn(model) -> Recipe`` is how models registered as ``names`` export."""

    def deco(fn):
        for name in names:
            RECIPES[name] = fn
        return fn

    return deco


# Recipes ---------------------------------------------------------------------------------------


def _encoder_decoder(model, n_in: int, code: int, doc: str, counts: bool = False) -> Recipe:
    return {
        "encoder": Part(model.encode, (("x", n_in),), "code", doc, counts),
        "decoder": Part(model.decode, (("code", code),), "reconstruction", "data-space means"),
        "model": Part(
            model.forward, (("x", n_in),), "reconstruction", "x -> decoder(encoder(x))", counts
        ),
    }


@onnx_recipe("autoencoder")
def _autoencoder(model) -> Recipe:
    # Corruption and the sparse / contractive terms act in training only: eval is deterministic.
    layers = model.config.layers
    return _encoder_decoder(model, layers[0], layers[-1], "the code layer's activations")


@onnx_recipe("aae")
def _aae(model) -> Recipe:
    cfg = model.config
    doc = "the code" if not cfg.n_clusters else "[softmax over clusters, style]"
    return _encoder_decoder(model, cfg.layers[0], cfg.n_clusters + cfg.code_dim, doc)


@onnx_recipe("ib-autoencoder")
def _ib_autoencoder(model) -> Recipe:
    cfg = model.config
    recipe = _encoder_decoder(model, cfg.layers[0], cfg.code_dim, "the posterior mean")
    recipe["classifier"] = Part(
        lambda z: torch.softmax(model.classifier(z), -1),
        (("code", cfg.code_dim),),
        "probabilities",
        "q(y | z): class probabilities from a code",
    )
    return recipe


@onnx_recipe("document-autoencoder")
def _document(model) -> Recipe:
    layers = model.config.layers
    doc = "real codes, or the code units' probabilities for binary codes"
    recipe = _encoder_decoder(model, layers[0], layers[-1], doc, counts=True)
    recipe["decoder"] = Part(
        model.decode, (("code", layers[-1]),), "words", "the word distribution of a code"
    )
    return recipe


@onnx_recipe("vae")
def _vae(model) -> Recipe:
    cfg = model.config
    n_in, k, c = cfg.n_features, cfg.code_dim, cfg.n_classes
    # Through the model's parts rather than encode(): encode() takes len(x), an int, which
    # would fix the batch size in the graph. A conditional VAE takes the label as a one-hot
    # row beside the data (or the code).

    def mean(x, y=None):
        return model.code(model.encoder(model._join(x, y)))[0]  # (batch, code_dim)

    def decode(z, y=None):
        return model.likelihood.mean(model.decoder_output(z, y))  # (batch, n_features)

    def forward(x, y=None):
        return decode(mean(x, y), y)

    label = (("y", c),) if c else ()
    given = "; y one-hot" if c else ""
    return {
        "encoder": Part(mean, (("x", n_in), *label), "code", f"the posterior mean{given}"),
        "decoder": Part(
            decode, (("code", k), *label), "reconstruction", f"data-space means{given}"
        ),
        "model": Part(
            forward,
            (("x", n_in), *label),
            "reconstruction",
            f"x -> decoder(posterior mean){given}",
        ),
    }


@onnx_recipe("vib")
def _vib(model) -> Recipe:
    cfg = model.config
    return {
        "encoder": Part(model.encode, (("x", cfg.layers[0]),), "code", "the posterior mean"),
        "decoder": Part(
            lambda z: torch.softmax(model.classifier(z), -1),
            (("code", cfg.code_dim),),
            "probabilities",
            "q(y | z): class probabilities from a code",
        ),
        "model": "VIBClassifier's forward averages q(y|z) over random posterior draws, which "
        "a deterministic graph cannot reproduce; decoder(encoder(x)) is the prediction at the "
        "posterior mean",
    }


@onnx_recipe("rbm")
def _rbm(model) -> Recipe:
    cfg = model.config
    v, h = cfg.n_visible, cfg.n_hidden
    counts = cfg.visible == "softmax"
    recipe: Recipe = {
        "encoder": Part(model.hidden_mean, (("x", v),), "code", "E[h | v]", counts),
    }
    if counts:
        # Softmax visible units need each document's length D: E[v | h] = D softmax(...).
        recipe["decoder"] = Part(
            model.visible_mean,
            (("code", h), ("length", 1)),
            "reconstruction",
            "E[v | h] for documents of the given lengths",
        )
        recipe["model"] = Part(
            lambda x: model.visible_mean(model.hidden_mean(x), x.sum(-1, keepdim=True)),
            (("x", v),),
            "reconstruction",
            "mean-field reconstruction E[v | E[h | v]]",
            counts,
        )
    else:
        recipe["decoder"] = Part(model.visible_mean, (("code", h),), "reconstruction", "E[v | h]")
        recipe["model"] = Part(
            lambda x: model.visible_mean(model.hidden_mean(x)),
            (("x", v),),
            "reconstruction",
            "mean-field reconstruction E[v | E[h | v]]",
        )
    return recipe


_GIBBS = "it generates by Gibbs sampling, which a deterministic graph cannot reproduce"


@onnx_recipe("dbn")
def _dbn(model) -> Recipe:
    layers = model.config.layers
    return {
        "encoder": Part(
            model.up_pass,
            (("x", layers[0]),),
            "code",
            "the up pass: hidden means, layer by layer",
            model.config.visible == "softmax",
        ),
        "decoder": f"a DBN has no deterministic decoder: {_GIBBS} in its top RBM",
        "model": f"a DBN has no deterministic forward path: {_GIBBS} in its top RBM",
    }


@onnx_recipe("dbm")
def _dbm(model) -> Recipe:
    cfg = model.config
    return {
        "encoder": Part(
            lambda x: model.mean_field(x)[1],
            (("x", cfg.n_visible),),
            "code",
            f"mean-field top-layer means after {cfg.mean_field_steps} fixed-point steps",
        ),
        "decoder": f"a DBM has no deterministic decoder: {_GIBBS}",
        "model": f"a DBM has no deterministic forward path: {_GIBBS}",
    }


# Export ----------------------------------------------------------------------------------------


class _Graph(nn.Module):
    """Functions of a model as one module that owns it, so torch.export sees its parameters.

    ``forward`` takes every function's inputs, one after another, and returns one output per
    function; ``fns`` pairs each function with the positions of its inputs.
    """

    def __init__(self, model: nn.Module, fns: list[tuple[Callable, list[int]]]) -> None:
        super().__init__()
        self.model = model
        self.fns = fns

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(fn(*(inputs[i] for i in which)) for fn, which in self.fns)


def example_inputs(part: Part, n: int = EXAMPLE_BATCH, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A seeded float32 batch for each input of ``part``: values in [0, 1], or word counts
    (at least one word per row) where ``part.counts``, or one-hot rows for a label input."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for name, width in part.inputs:
        if name == "y":
            t = torch.eye(width)[torch.randint(width, (n,), generator=gen)]
        elif name == "length":
            t = torch.randint(1, 200, (n, 1), generator=gen).float()
        elif part.counts and name == "x":
            t = torch.poisson(torch.full((n, width), 2.0), generator=gen)
            t[:, 0] += 1  # no empty document
        else:
            t = torch.rand(n, width, generator=gen)
        out.append(t)
    return tuple(out)


@contextmanager
def _quiet_exporter():
    """torch.onnx's exporter logs every step and warns about absent torchvision operators,
    none of which concerns a user's export; errors still raise."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _export_graph(model: nn.Module, parts: dict[str, Part], opset: int):
    """One ONNX graph computing every part, to be cut apart by :func:`_cut`.

    Exporting builds the exporter's operator table anew each time (a second or two), so the
    parts go through it together. Each part has inputs of its own, ``{part}.{input}``, with a
    batch size of its own: were they shared, the graph could take one part's batch size from
    another part's input, and that part's graph would not stand alone.
    """
    names: list[str] = []
    example: list[torch.Tensor] = []
    dims: list[dict[int, Any]] = []
    fns = []
    for k, (name, part) in enumerate(parts.items()):
        batch = torch.export.Dim(f"batch_{k}")
        fns.append((part.fn, list(range(len(names), len(names) + len(part.inputs)))))
        names += [f"{name}.{n}" for n, _ in part.inputs]
        # Another traced size per part, so no two batch sizes look alike to torch.export.
        example += example_inputs(part, n=EXAMPLE_BATCH + k)
        dims += [{0: batch}] * len(part.inputs)
    try:
        with _quiet_exporter():
            # torch.export first, on its own: torch.onnx.export would quietly fall back to a
            # fixed batch size where the code pins it (a len(x), say); here that raises.
            exported = torch.export.export(
                _Graph(model, fns).eval(),
                tuple(example),
                dynamic_shapes=(tuple(dims),),  # forward(*inputs): one parameter, a tuple
                strict=False,
            )
            program = torch.onnx.export(
                exported,
                dynamo=True,
                opset_version=opset,
                input_names=names,
                output_names=[f"{name}.{part.output}" for name, part in parts.items()],
                verbose=False,
            )
    except Exception as err:  # torch.export's errors run to pages; the first line says it
        first = next((line for line in str(err).splitlines() if line.strip()), repr(err))
        raise RuntimeError(
            f"torch could not export the {type(model).__name__} to ONNX: {first.strip()}"
        ) from err
    assert program is not None  # None only for dynamo=False, which returns nothing
    return program.model_proto


def _cut(onnx, whole, name: str, part: Part, meta: dict[str, str]):
    """The graph of one part, cut from the graph of all, with the part's own names: inputs
    and output as in ``part``, the batch dimension ``batch``."""
    rename = {f"{name}.{n}": n for n, _ in part.inputs} | {f"{name}.{part.output}": part.output}
    proto = onnx.utils.Extractor(whole).extract_model(list(rename)[:-1], list(rename)[-1:])
    for node in proto.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = rename[value.name]
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del proto.graph.value_info[:]  # shape hints in the whole graph's names; optional
    proto.ir_version = whole.ir_version
    proto.doc_string = part.doc
    for key, value in {**meta, "aekit_part": name}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    return proto


def run_onnx(path: str | Path, *inputs: np.ndarray) -> np.ndarray:
    """Run an exported graph in onnxruntime on float32 arrays (in the order of its inputs)."""
    ort = require("onnxruntime", "onnx", "Running an ONNX graph")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = {n: np.ascontiguousarray(a, dtype=np.float32) for n, a in zip(names, inputs)}
    return session.run(None, feed)[0]


def _verify(path: Path, name: str, model: nn.Module, part: Part) -> float:
    """Largest error of the graph against PyTorch on a fresh batch, relative to the output's
    scale; raises when beyond :data:`VERIFY_TOLERANCE`."""
    inputs = example_inputs(part, n=3, seed=1)  # a batch size no trace used
    with torch.no_grad():
        want = part.fn(*inputs).numpy()
    got = run_onnx(path, *(t.numpy() for t in inputs))
    scale = max(1.0, float(np.abs(want).max()))
    error = float(np.abs(got - want).max()) / scale if got.shape == want.shape else np.inf
    if not error <= VERIFY_TOLERANCE:
        raise RuntimeError(
            f"the exported {name} of the {type(model).__name__} does not reproduce "
            f"PyTorch (shape {got.shape} against {want.shape}, error {error:.3g}); please "
            "report this with the model's config"
        )
    return error


def _write_checked(onnx, proto, path: Path, model: nn.Module, part: Part) -> float:
    """Write the graph to ``path`` once it has passed :func:`_verify` (whose error it
    returns): a graph that fails leaves no file behind."""
    checked: dict[str, float] = {}

    def write(tmp: str) -> None:
        onnx.save_model(proto, tmp)
        checked["error"] = _verify(Path(tmp), path.name, model, part)

    atomic_write(path, write)
    return checked["error"]


def export_onnx(model: nn.Module, out_dir: str | Path, opset: int = OPSET) -> dict[str, Path]:
    """Write a model's encoder, decoder and (where it has one) whole forward path as ONNX.

    Parameters
    ----------
    model : aekit model
        Any registered model with an ONNX recipe (every built-in one).
    out_dir : path
        Folder for ``encoder.onnx``, ``decoder.onnx``, ``model.onnx`` and ``export.json``
        (created; files of an earlier export are replaced).
    opset : int
        ONNX operator set version.

    Returns
    -------
    dict
        Part name -> path of its ``.onnx`` file, for the parts that have a graph.
    """
    name = getattr(model, "registered_name", None)
    if name is None or not isinstance(model, nn.Module):
        raise TypeError(
            f"export_onnx takes a registered aekit model, got {type(model).__name__}; load "
            "one with aekit.load_model(path)"
        )
    if name not in RECIPES:
        raise ValueError(
            f"{type(model).__name__} models ({name!r}) have no ONNX export recipe; the ones "
            f"that do: {sorted(RECIPES)}"
        )
    onnx = require("onnx", "onnx", "ONNX export")
    require("onnx.utils", "onnx", "ONNX export")
    require("onnxscript", "onnx", "ONNX export")
    require("onnxruntime", "onnx", "ONNX export")
    out = _writable_dir(out_dir)
    # A CPU fp32 copy in eval mode: the caller's model keeps its device, dtype and mode.
    twin = copy.deepcopy(model).float().cpu().eval()
    meta = {"aekit_version": __version__, "aekit_model": name}
    written: dict[str, Path] = {}
    manifest: dict[str, Any] = {
        "format": "onnx",
        "aekit_version": __version__,
        "model": name,
        "config": _jsonable(model.config),
        "opset": opset,
        "parts": {},
        "not_exported": {},
    }
    recipe = RECIPES[name](twin)
    parts = {k: p for k, p in recipe.items() if isinstance(p, Part)}
    manifest["not_exported"] = {k: why for k, why in recipe.items() if isinstance(why, str)}
    whole = _export_graph(twin, parts, opset)
    for part_name, part in parts.items():
        path = out / f"{part_name}.onnx"
        proto = _cut(onnx, whole, part_name, part, meta)
        error = _write_checked(onnx, proto, path, twin, part)
        written[part_name] = path
        manifest["parts"][part_name] = {
            "file": path.name,
            "inputs": [{"name": n, "shape": ["batch", w]} for n, w in part.inputs],
            "output": part.output,
            "doc": part.doc,
            "verified_error": error,
        }
    atomic_write_json(out / "export.json", manifest)
    return written


def export_model(model_or_path, out_dir: str | Path, format: str = "onnx") -> dict[str, Path]:
    """Export a model, a saved model folder or a training run's folder in ``format``."""
    if format not in FORMATS:
        raise ValueError(f"unsupported export format {format!r}; supported: {list(FORMATS)}")
    model = model_or_path
    if isinstance(model_or_path, str | Path):
        from aekit.saving import load_model

        model = load_model(resolve_model_dir(model_or_path))
    return export_onnx(model, out_dir)


def resolve_model_dir(path: str | Path) -> Path:
    """A saved model folder, or a run folder whose ``model/`` holds the final model."""
    p = Path(path)
    if (p / "config.json").is_file():
        return p
    if (p / "model" / "config.json").is_file():
        return p / "model"
    if (p / "run.json").is_file():
        raise ValueError(
            f"the run in {p} has no final model yet (was it interrupted?); finish it with "
            f"`aekit resume {p}`"
        )
    if not p.exists():
        raise FileNotFoundError(f"no such folder: {p}")
    raise ValueError(
        f"{p} is neither a saved model (config.json + model.safetensors) nor a run folder of "
        "`aekit train`"
    )


def _writable_dir(path: str | Path) -> Path:
    """Create ``path`` and check that files can be written into it, in one line if not."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".aekit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(
            f"cannot write into {p} ({err.strerror or err}); choose a folder you can write to"
        ) from None
    return p


def _jsonable(config) -> Any:
    return json.loads(json.dumps(asdict(config), default=str))
