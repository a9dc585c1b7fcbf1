"""
Information bottleneck and deterministic IB curves on the lecture's two examples
================================================================================

The information bottleneck (Tishby, Pereira & Bialek, 1999) compresses X into a code T that
keeps what X says about Y: it minimises ``I(X;T) - beta I(T;Y)`` over encoders ``q(t|x)``.
Sweeping beta traces a curve in the information plane; no encoder lies above it. The
deterministic IB (Strouse & Schwab, Neural Computation 2017) replaces ``I(X;T)`` by the code's
entropy ``H(T)``, which makes the best encoder a hard clustering of the values of X.

The two examples of ``aekit ib example`` (generated, nothing downloaded):

- **users**: people described by age band, region and six past-purchase flags, drawn from four
  planted communities; Y is the category of their next purchase.
- **sequence**: a three-state hidden Markov chain emitting four symbols; X is the window of the
  last four symbols, Y the next one (the predictive bottleneck of Creutzig, Globerson &
  Tishby, 2009).

Left: both curves in the IB plane, ``I(T;Y)`` against ``I(X;T)``; right: the same solutions in
the DIB plane, against ``H(T)`` (each curve is a line in its own plane, points in the other).
Each method is the better one in its own plane. The dotted line is ``I(X;Y)``, the most any
code can keep. DIB points are labelled with their number of clusters (up to 6): on the
sequence, three clusters, as many as the chain has hidden states, hold over a wide range of
beta.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from aekit.experiments.ib_examples import make_hmm_sequence, make_users, past_and_next
from aekit.ib import beta_sweep, joint_from_samples


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    users = make_users(n_people=2000 if args.quick else 20_000, seed=0)
    past, following, _ = past_and_next(
        make_hmm_sequence(n_steps=5000 if args.quick else 50_000, seed=0), window=4
    )
    # (joint p(x, y), betas): each example's interesting range of beta, from one cluster to
    # about as many as the data support.
    examples = {
        "users: p(age, region, past purchases; next purchase)": (
            joint_from_samples(users.x, users.y).pxy,
            np.geomspace(1.5, 20.0, 8 if args.quick else 25),
        ),
        "sequence: p(last 4 symbols; next symbol)": (
            joint_from_samples(past, following).pxy,
            np.geomspace(2.0, 100.0, 8 if args.quick else 25),
        ),
    }
    restarts = 1 if args.quick else 3

    fig = Figure(figsize=(10.0, 7.6), dpi=75)
    axes = fig.subplots(2, 2)
    for row, (title, (pxy, betas)) in zip(axes, examples.items()):
        curves = {
            "IB": beta_sweep(pxy, betas, alpha=1.0, n_restarts=restarts, random_state=0),
            "DIB": beta_sweep(pxy, betas, alpha=0.0, n_restarts=restarts, random_state=0),
        }
        for ax, x_name, own in zip(row, ("i_xt", "h_t"), ("IB", "DIB")):
            for (name, curve), marker in zip(curves.items(), ("o", "s")):
                # A curve is drawn as a line in its own plane; in the other, as points only
                # (IB's soft encoders are not ordered by H(T)).
                style = f"{marker}-" if name == own else marker
                ax.plot(getattr(curve, x_name), curve.i_ty, style, markersize=4, label=name)
            dib, seen = curves["DIB"], set()
            for x_value, i_ty, k in zip(getattr(dib, x_name), dib.i_ty, dib.n_clusters):
                if k <= 6 and k not in seen:  # label each small cluster count once
                    seen.add(k)
                    ax.annotate(str(k), (x_value, i_ty), fontsize=7, xytext=(3, -9),
                                textcoords="offset points")  # fmt: skip
            ax.axhline(dib.i_xy, color="k", linestyle=":", linewidth=1, label="I(X;Y)")
            ax.set_xlabel("I(X;T) [bits]" if x_name == "i_xt" else "H(T) [bits]")
            ax.set_ylabel("I(T;Y) [bits]")
            ax.legend(fontsize=8, loc="lower right")
        row[0].set_title(title, fontsize=9, loc="left")
        print(f"{title}: I(X;Y) = {dib.i_xy:.3f} bits; DIB clusters {dib.n_clusters.tolist()}")
    fig.suptitle("IB and DIB curves (left: IB plane, right: DIB plane)")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "ib_curves.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
