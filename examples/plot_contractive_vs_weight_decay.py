"""
The contractive penalty beside weight decay
===========================================

A contractive autoencoder (Rifai et al., ICML 2011) penalises the squared Frobenius norm of
the encoder's Jacobian, ``||J(x)||_F^2 = sum_ij (dh_j / dx_i)^2``, at the training points:
codes should move little when the input moves. The lecture links it to weight decay:

- for a linear encoder ``h = W x + b`` the Jacobian is ``W`` at every x, so the contractive
  penalty *is* weight decay, ``||W||_F^2``;
- for logistic units ``h = sigmoid(W x + b)`` it is ``sum_j (h_j (1 - h_j))^2 ||W_j||^2``: weight
  decay with each unit's row weighted by its slope at x. As ``h (1 - h) <= 1/4``, it never
  exceeds ``||W||_F^2 / 16``, and the encoder can lower it without shrinking its weights by
  saturating its units (h near 0 or 1) at the data. Weight decay contracts everywhere; the
  contractive penalty only where the data are.

We train 64-32 logistic autoencoders on the 8x8 digits with weight decay or the contractive
penalty at several strengths. Left: mean ``||J||_F^2`` on test images against the weight-decay
bound ``||W||_F^2 / 16`` (the dashed line: every unit at its steepest; the title checks the
linear case, where the two are equal): at the same ``||J||_F^2`` the contractive encoder keeps
larger weights. Middle: the test error (squared error per image) against ``||J||_F^2``: at the
same contraction the contractive encoder reconstructs far better. Right: the units' slopes
``4 h (1 - h)`` at test images for the strongest setting of each penalty: weight decay
contracts by shrinking W, and its units stay on their slopes; the contractive encoder
saturates more of its units (slopes near 0).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.evaluate import mean_squared_error_per_sample
from aekit.regularizers import contractive_closed_form, contractive_exact


def jacobian_and_weight_norms(ae: Autoencoder, x: np.ndarray) -> tuple[float, float]:
    """Mean ``||J(x)||_F^2`` over ``x`` (closed form) and ``||W||_F^2`` of the encoder."""
    w = ae.encoder.weights()[0].detach()  # (n_hidden, n_visible)
    h = torch.from_numpy(ae.transform(x))  # (n, n_hidden), logistic codes
    return float(contractive_closed_form(h, w)), float(w.pow(2).sum())


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    # The link in its exact form: a linear encoder's Jacobian norm is its weights' norm.
    torch.manual_seed(0)
    linear = Autoencoder(layers="64-32", activation="linear", code_activation="linear")
    x_probe = torch.rand(4, 64, requires_grad=True)
    linear_jac = contractive_exact(x_probe, linear.encode(x_probe)).item()
    linear_w = linear.encoder.weights()[0].pow(2).sum().item()
    print(f"linear encoder: ||J||_F^2 = {linear_jac:.6f}, ||W||_F^2 = {linear_w:.6f}")

    data = load_dataset("digits")
    train = TrainConfig(
        epochs=3 if args.quick else 100, batch_size=64, lr=3e-3, val_fraction=0.0,
        progress=False,
    )  # fmt: skip
    strengths = {
        "weight decay": [1e-3, 1e-2] if args.quick else [1e-4, 1e-3, 1e-2, 3e-2],
        "contractive": [1e-2, 1e-1] if args.quick else [1e-3, 1e-2, 1e-1, 3e-1],
    }
    results = {name: [] for name in strengths}  # (lambda, ||J||^2, ||W||^2, error, model)
    for name, lambdas in strengths.items():
        for lam in lambdas:
            torch.manual_seed(0)
            penalty = (
                {"weight_decay": lam} if name == "weight decay" else {"contractive_weight": lam}
            )
            ae = Autoencoder(
                AutoencoderConfig(layers="64-32", code_activation="logistic", **penalty)
            )
            Trainer(ae, train).fit(data.x_train)
            jac, wnorm = jacobian_and_weight_norms(ae, data.x_test)
            err = mean_squared_error_per_sample(data.x_test, ae.reconstruct(data.x_test))
            results[name].append((lam, jac, wnorm, err, ae))
            print(
                f"{name} {lam:g}: ||J||^2 {jac:.3f}, ||W||^2/16 {wnorm / 16:.3f}, error {err:.3f}"
            )

    fig = Figure(figsize=(11.0, 3.8), dpi=75)
    bound_ax, trade_ax, slope_ax = fig.subplots(1, 3)
    colours = {"weight decay": "tab:orange", "contractive": "tab:blue"}
    for name, rows in results.items():
        lam, jac, wnorm, err = (np.array([r[i] for r in rows]) for i in range(4))
        bound_ax.plot(wnorm / 16, jac, "o-", color=colours[name], label=name)
        trade_ax.plot(jac, err, "o-", color=colours[name], label=name)
        for lam_k, j_k, e_k in zip(lam, jac, err):
            trade_ax.annotate(f"{lam_k:g}", (j_k, e_k), fontsize=7, xytext=(3, 3),
                              textcoords="offset points")  # fmt: skip
    top = max(r[2] for rows in results.values() for r in rows) / 16
    bound_ax.plot([0, top], [0, top], "k--", linewidth=1, label="||J||^2 = ||W||^2 / 16")
    bound_ax.set_xlabel("||W||_F^2 / 16")
    bound_ax.set_ylabel("mean ||J(x)||_F^2 (test)")
    bound_ax.set_title(f"a linear encoder: ||J||^2 = {linear_jac:.3f} = ||W||^2", fontsize=9)
    bound_ax.legend(fontsize=8)
    trade_ax.set_xlabel("mean ||J(x)||_F^2 (test)")
    trade_ax.set_ylabel("test error (squared error per image)")
    trade_ax.set_title("labels: penalty weight", fontsize=9)
    trade_ax.legend(fontsize=8)

    # The strongest setting of each penalty: the two most contracted encoders.
    wd, cae = results["weight decay"][-1], results["contractive"][-1]
    bins = np.linspace(0, 1, 26)
    for name, row in (("weight decay", wd), ("contractive", cae)):
        h = row[4].transform(data.x_test)
        label = f"{name} {row[0]:g}: ||J||^2 {row[1]:.2f}"
        slope_ax.hist((4 * h * (1 - h)).ravel(), bins=bins, density=True, alpha=0.6,
                      color=colours[name], label=label)  # fmt: skip
    slope_ax.set_xlabel("slope 4 h (1 - h) of a unit at a test image")
    slope_ax.set_ylabel("density")
    slope_ax.legend(fontsize=8)
    fig.suptitle("Contractive penalty and weight decay on a 64-32 logistic encoder (8x8 digits)")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "contractive_vs_weight_decay.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
