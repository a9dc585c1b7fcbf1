"""Does the information bottleneck make a better autoencoder? Measured on MNIST.

Trains, on the 60,000 MNIST training images with their labels, autoencoders of one
architecture (784-512-256-16, ReLU, Bernoulli likelihood, Adam lr 1e-3, batch 128, 20 epochs)
that differ only in the objective (:mod:`aekit.experiments.ib_autoencoder`): a plain AE, a
beta-VAE, an AE with a label head, and the IB autoencoder at two betas. Each is scored on the
10,000 test images: 5-NN and linear-probe accuracy of the 16-d codes (probes fitted on 10,000
training codes), the same 5-NN on codes of test images with Gaussian noise (std 0.3, clipped
to [0, 1]), the codes' displacement under that noise relative to their spread, and the squared
reconstruction error per image.

There is no external target: the question is what the IB terms buy over a plain AE and what
they cost, and the script reports both with a verdict per measure. Run:
``python benchmarks/ib_autoencoder.py [--epochs 20] [--quick]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from _common import load_mnist, write_result
from aekit.experiments.ib_autoencoder import IBStudySettings, run_study

HIGHER_IS_BETTER = {
    "knn_accuracy": True,
    "linear_probe_accuracy": True,
    "knn_accuracy_noisy_input": True,
    "code_sensitivity_to_noise": False,
    "test_squared_error": False,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="5 epochs on 10,000 images")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/ib_autoencoder.json"))
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args()
    ds = load_mnist(args.quick)
    if ds is None:
        return 0
    if args.quick:
        args.epochs = min(args.epochs, 5)
        args.out = args.out.with_name(args.out.stem + "_quick.json")
    settings = IBStudySettings(epochs=args.epochs)
    out = run_study(ds, settings, progress=not args.no_progress)
    res = out["results"]
    plain = res["plain AE"]
    cols = list(HIGHER_IS_BETTER)
    print(f"{'model':22s} " + " ".join(f"{c[:22]:>22s}" for c in cols) + "  train s")
    for name, m in res.items():
        print(
            f"{name:22s} " + " ".join(f"{m[c]:22.4f}" for c in cols) + f"  {m['train_seconds']:.0f}"
        )
    verdicts = {}
    for name, m in res.items():
        if name == "plain AE":
            continue
        verdicts[name] = {
            c: ("better" if (m[c] > plain[c]) == HIGHER_IS_BETTER[c] else "worse")
            + f" ({m[c]:.4g} vs plain {plain[c]:.4g})"
            for c in cols
        }
    result = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **out,
        "against_plain_ae": verdicts,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
