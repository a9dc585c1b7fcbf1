"""RBM training speed against scikit-learn's BernoulliRBM, and the share of matmul peak.

A 784-1000 binary RBM, minibatch 100, learning rate 0.1, on MNIST (or random [0, 1] data of
the same shape when AEKIT_DATA_DIR does not lead to MNIST): seconds per epoch of aekit's RBM
trained by aekit's Trainer (CD-1, plain SGD) and of ``sklearn.neural_network.BernoulliRBM``
(PCD-1, its only algorithm) given float32 input, interleaved in one process. Then the
pseudo-log-likelihood of held-out binarized images under each model after the same epochs,
computed exactly by one formula (aekit's) for both.

Targets: aekit >= 1.5x faster than scikit-learn; aekit's achieved FLOP/s >= 70% of the
measured fp32 matmul peak; held-out pseudo-likelihood no worse than scikit-learn's.

Run: ``python benchmarks/rbm.py [--quick] [--out benchmarks/results/rbm.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM

from aekit.rbm import RBM, RBMConfig
from aekit.train import TrainConfig, Trainer

N_VISIBLE, N_HIDDEN, BATCH = 784, 1000, 100


def load_data(n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from aekit.data import load_dataset

        d = load_dataset("mnist").subset(n_train=n_train, n_test=n_test, seed=0)
        return d.x_train, d.x_test, "MNIST"
    except (ValueError, OSError):
        rng = np.random.default_rng(0)
        x = rng.random((n_train + n_test, N_VISIBLE), dtype=np.float32)
        return x[:n_train], x[n_train:], "random [0,1] (MNIST not found)"


def matmul_peak(sizes=(512, 1024, 2048), seconds: float = 1.0) -> float:
    """GFLOP/s of fp32 square matmuls: the best single product over ``sizes``, each repeated
    for about ``seconds`` (a short best-of underestimates the peak: the first session measured
    164 GFLOP/s at 2048 with 5 repeats where longer runs reach more)."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best


def train_aekit(x: np.ndarray, epochs: int, seed: int) -> tuple[float, RBM]:
    """Seconds to train aekit's RBM (CD-1, plain SGD) for ``epochs``, and the model."""
    torch.manual_seed(seed)
    rbm = RBM(RBMConfig(n_visible=N_VISIBLE, n_hidden=N_HIDDEN, init_std=0.01))
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=BATCH,
        optimizer="sgd",
        lr=0.1,
        momentum=0.0,
        val_fraction=0,
        progress=False,
        seed=seed,
    )
    t = time.perf_counter()
    Trainer(rbm, cfg).fit(x)
    return time.perf_counter() - t, rbm


def train_plain(x: np.ndarray, epochs: int, seed: int) -> float:
    """Seconds for a minimal hand-written PyTorch CD-1 loop (plain SGD, same arithmetic):
    the ceiling of what a training step of this size reaches on this machine."""
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x)
    w = torch.randn(N_HIDDEN, N_VISIBLE, generator=g) * 0.01
    b, c = torch.zeros(N_VISIBLE), torch.zeros(N_HIDDEN)
    d_w = torch.empty_like(w)
    lr = 0.1 / BATCH
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), BATCH):
            v0 = xt[perm[i : i + BATCH]]
            ph0 = torch.sigmoid(torch.addmm(c, v0, w.t()))
            h0 = torch.lt(torch.rand(ph0.shape, generator=g), ph0).to(ph0.dtype)
            v1 = torch.sigmoid(torch.addmm(b, h0, w))
            ph1 = torch.sigmoid(torch.addmm(c, v1, w.t()))
            torch.mm(ph0.t(), v0, out=d_w)
            d_w.addmm_(ph1.t(), v1, alpha=-1.0)
            w.add_(d_w, alpha=lr)
            b.add_(v0.sum(0) - v1.sum(0), alpha=lr)
            c.add_(ph0.sum(0) - ph1.sum(0), alpha=lr)
    return time.perf_counter() - t


def train_lean(x: np.ndarray, epochs: int, seed: int, products_only: bool = False) -> float:
    """Seconds for the leanest CD-1 loop we could write: every buffer preallocated, the batch
    gathered by ``index_select(out=)``, sigmoids and the Bernoulli draw in place, and the weight
    update folded into the two gradient products (``addmm_`` straight into W, no pass over W of
    its own). ``products_only`` keeps just the five matrix products: the ceiling of any loop."""
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x)
    w = torch.randn(N_HIDDEN, N_VISIBLE, generator=g) * 0.01
    b, c = torch.zeros(N_VISIBLE), torch.zeros(N_HIDDEN)
    v0, v1 = torch.empty(BATCH, N_VISIBLE), torch.empty(BATCH, N_VISIBLE)
    ph0, ph1, h0 = (torch.empty(BATCH, N_HIDDEN) for _ in range(3))
    noise = torch.empty(BATCH, N_HIDDEN)
    lr = 0.1 / BATCH
    if products_only:
        # Real operands (uninitialised memory could hold denormals, which slow the products),
        # and W left as it is: unsquashed products fed back into W would grow without bound.
        v0.copy_(xt[:BATCH])
        h0.copy_(torch.rand(h0.shape, generator=g) < 0.5)
        d_w = torch.empty_like(w)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt) - BATCH + 1, BATCH):
            if not products_only:
                torch.index_select(xt, 0, perm[i : i + BATCH], out=v0)
            torch.addmm(c, v0, w.t(), out=ph0)
            if not products_only:
                ph0.sigmoid_()
                noise.uniform_(generator=g)
                torch.lt(noise, ph0, out=h0)  # bool written into float: 0 or 1
            torch.addmm(b, h0, w, out=v1)
            if not products_only:
                v1.sigmoid_()
            torch.addmm(c, v1, w.t(), out=ph1)
            if not products_only:
                ph1.sigmoid_()
                b.add_(v0.sum(0) - v1.sum(0), alpha=lr)
                c.add_(ph0.sum(0) - ph1.sum(0), alpha=lr)
            if products_only:
                torch.addmm(w, ph0.t(), v0, alpha=lr, out=d_w)
                d_w.addmm_(ph1.t(), v1, alpha=-lr)
            else:
                w.addmm_(ph0.t(), v0, alpha=lr)
                w.addmm_(ph1.t(), v1, alpha=-lr)
    return time.perf_counter() - t


def train_sklearn(x: np.ndarray, epochs: int, seed: int) -> tuple[float, BernoulliRBM]:
    """Seconds to train scikit-learn's BernoulliRBM (PCD-1) for ``epochs``, and the model."""
    model = BernoulliRBM(
        n_components=N_HIDDEN,
        learning_rate=0.1,
        batch_size=BATCH,
        n_iter=epochs,
        random_state=seed,
    )
    t = time.perf_counter()
    model.fit(x)
    return time.perf_counter() - t, model


def as_aekit_rbm(sk: BernoulliRBM) -> RBM:
    """scikit-learn's fitted RBM as an aekit RBM, so one formula scores both."""
    rbm = RBM(RBMConfig(n_visible=N_VISIBLE, n_hidden=N_HIDDEN))
    with torch.no_grad():
        rbm.weight.copy_(torch.from_numpy(sk.components_.astype(np.float32)))
        rbm.hidden_bias.copy_(torch.from_numpy(sk.intercept_hidden_.astype(np.float32)))
        rbm.visible_bias.copy_(torch.from_numpy(sk.intercept_visible_.astype(np.float32)))
    return rbm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, one repeat")
    parser.add_argument("--out", default="benchmarks/results/rbm.json")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    n_train = 6000 if args.quick else 60000
    repeats = 1 if args.quick else 3
    x_train, x_test, source = load_data(n_train, 2000)

    peak = matmul_peak()
    ours_t, sk_t, plain_t, lean_t, prod_t = [], [], [], [], []
    train_aekit(x_train[:1000], 1, 0)  # warm-up
    train_plain(x_train[:1000], 1, 0)
    train_lean(x_train[:1000], 1, 0)
    for r in range(repeats):
        ours_t.append(train_aekit(x_train, 1, r)[0])
        sk_t.append(train_sklearn(x_train, 1, r)[0])
        plain_t.append(train_plain(x_train, 1, r))
        lean_t.append(train_lean(x_train, 1, r))
        prod_t.append(train_lean(x_train, 1, r, products_only=True))
    ours_s, sk_s = statistics.median(ours_t), statistics.median(sk_t)
    plain_s, lean_s = statistics.median(plain_t), statistics.median(lean_t)
    prod_s = statistics.median(prod_t)
    # CD-1 with the shared positive phase: 5 matmuls of 2 * B * 784 * 1000 FLOPs per batch.
    flops_per_epoch = 5 * 2 * n_train * N_VISIBLE * N_HIDDEN
    achieved = flops_per_epoch / ours_s / 1e9

    pl_epochs = 1 if args.quick else 3
    ours = train_aekit(x_train, pl_epochs, 0)[1]
    theirs = as_aekit_rbm(train_sklearn(x_train, pl_epochs, 0)[1])
    v = torch.from_numpy((x_test > 0.5).astype(np.float32))
    pl_ours = float(ours.pseudo_log_likelihood(v).mean())
    pl_sk = float(theirs.pseudo_log_likelihood(v).mean())

    results = {
        "benchmark": "rbm",
        "data": source,
        "n_train": n_train,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "seconds_per_epoch": {
            "aekit": ours_s,
            "sklearn": sk_s,
            "plain_pytorch_loop": plain_s,
            "lean_pytorch_loop": lean_s,
            "five_products_only": prod_s,
            "repeats": repeats,
        },
        "aekit_vs_plain_loop": plain_s / ours_s,
        "plain_loop_fraction_of_peak": flops_per_epoch / plain_s / 1e9 / peak,
        "lean_loop_fraction_of_peak": flops_per_epoch / lean_s / 1e9 / peak,
        "five_products_only_fraction_of_peak": flops_per_epoch / prod_s / 1e9 / peak,
        "speedup_vs_sklearn": {"measured": sk_s / ours_s, "target": 1.5},
        "fp32_matmul_peak_gflops": peak,
        "aekit_gflops": achieved,
        "fraction_of_peak": {"measured": achieved / peak, "target": 0.70},
        "heldout_pseudo_log_likelihood": {
            "epochs": pl_epochs,
            "aekit": pl_ours,
            "sklearn": pl_sk,
            "target": "aekit >= sklearn",
        },
    }
    results["passed"] = {
        "speedup": results["speedup_vs_sklearn"]["measured"] >= 1.5,
        "fraction_of_peak": results["fraction_of_peak"]["measured"] >= 0.70,
        "pseudo_likelihood": pl_ours >= pl_sk,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"data: {source}, {n_train} samples, batch {BATCH}, 784-1000 binary RBM")
    print(
        f"seconds/epoch   aekit {ours_s:7.2f}   sklearn {sk_s:7.2f}   "
        f"speedup {sk_s / ours_s:5.2f}x (target 1.5x)"
    )
    print(
        f"fp32 peak {peak:6.1f} GFLOP/s; aekit {achieved:6.1f} GFLOP/s = "
        f"{achieved / peak:5.1%} (target 70%)"
    )
    print(
        f"plain PyTorch CD-1 loop {plain_s:7.2f} s/epoch = "
        f"{flops_per_epoch / plain_s / 1e9 / peak:5.1%} of peak; aekit at "
        f"{plain_s / ours_s:4.2f}x its speed"
    )
    print(
        f"leanest CD-1 loop {lean_s:7.2f} s/epoch = "
        f"{flops_per_epoch / lean_s / 1e9 / peak:5.1%} of peak; the five products alone "
        f"{prod_s:5.2f} s = {flops_per_epoch / prod_s / 1e9 / peak:5.1%}"
    )
    print(f"held-out PL after {pl_epochs} epochs: aekit {pl_ours:.2f}  sklearn {pl_sk:.2f}")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
