"""Adversarial autoencoders on MNIST: codes matched to the prior, and unsupervised clustering.

Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644).

1. Prior matching. An AAE with a Gaussian prior and a VAE (:class:`aekit.models.VAE`) of the
   same architecture and code size (784-512-512-8, ReLU, Bernoulli likelihood; ``--hidden``
   changes the width), each trained
   ``--epochs`` epochs on the 60,000 training images (Adam, batch 100). Their test-set codes
   (the AAE's deterministic codes; the VAE's posterior samples, the codes its decoder is
   trained on) are compared with as many N(0, I) draws by the unbiased MMD^2
   (:func:`aekit.evaluate.mmd2`, multi-bandwidth Gaussian kernel), on 5 random subsets of
   2,000 points; the median is reported. Target: AAE MMD^2 <= VAE MMD^2. Both models keep a
   Polyak average of their weights (``--ema``, 0.999): without it the adversarial game left
   the AAE's codes oscillating (on 20,000 images, MMD^2 between 0.05 and 0.75 from one epoch
   to the next; with it, falling steadily to 0.025 after 12 epochs).
2. Unsupervised clustering (their Sec. 6): 16 clusters, a categorical head and a 2-d style code
   (``--cluster-style-dim``); test error after mapping each cluster to the majority label of
   its training images. Paper: 9.55% (16 clusters). Target: <= 12%. Settings from short trials
   on 10,000 images (20 epochs): the adversarial phases at 0.1x the reconstruction learning
   rate (at 1x every image fell into one cluster) and ``cluster_balance=1`` (12 clusters in use
   instead of 7; the error was about the same, 0.67 against 0.68). Later trials (10,000 images,
   15 epochs; ``benchmarks/README.md``) put the adversarial phases at 0.3x
   (``--cluster-adversarial-scale``; 45% error against 70% at 0.1x). With Adam's beta1 at 0.5
   for every phase (the usual GAN setting, ``--cluster-adam-beta1``) the phases can run at the
   full rate: 36.1% on 10,000 images for 30 epochs, 30.5% on all 60,000 for 40 epochs (0.3x
   with beta1 0.9: 43.3%). A 2-d style instead of the 5-d one leaves the cluster head more of
   the digit's identity to carry: 30.8% mean over 3 seeds against 41.3% on 10,000 images for 30
   epochs, and 24.5% on all 60,000 for 40 epochs. These are the defaults now. The networks
   are 784-512-512 as above (``--hidden``); layers of 1000 gave 29.2% against 23.7% at 40
   epochs. ``--cluster-eval-every`` records the test error during training.

3. ``--map``: a 784-512-512-2 AAE with the ring-of-10-Gaussians prior, trained ``--map-epochs``
   epochs; its test codes, coloured by digit, are drawn over the prior's density (Makhzani et
   al.'s Fig. 2 layout), with the 5-NN accuracy of the 2-D map.

Run: ``python benchmarks/aae.py [--epochs 40] [--cluster-epochs 40] [--map] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _common import load_mnist, write_result
from aekit.evaluate import cluster_error, knn_accuracy, mmd2
from aekit.models import VAE, AAEConfig, AdversarialAutoencoder, VAEConfig
from aekit.train import TrainConfig, Trainer
from aekit.viz.figures import save_figure
from aekit.viz.generative import codes_over_prior, sample_figure

TARGET_CLUSTER_ERROR = 0.12
PAPER_CLUSTER_ERROR = 0.0955


def fit(
    model,
    x,
    epochs: int,
    lr: float,
    run_dir: Path,
    progress: bool,
    seed: int = 0,
    ema_decay: float | None = None,
    adam_beta1: float = 0.9,
    callbacks=(),
) -> float:
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=100,
        lr=lr,
        val_fraction=0.0,
        seed=seed,
        ema_decay=ema_decay,
        progress=progress,
        adam_betas=(adam_beta1, 0.999),
    )
    resume = (run_dir / "latest.json").is_file()
    t0 = time.perf_counter()
    Trainer(model, cfg, run_dir=run_dir, callbacks=callbacks).fit(x, resume=resume)
    return time.perf_counter() - t0


def median_mmd(z: np.ndarray, prior: np.ndarray, n: int = 2000, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    values = []
    for _ in range(repeats):
        i = rng.choice(len(z), min(n, len(z)), replace=False)
        j = rng.choice(len(prior), min(n, len(prior)), replace=False)
        values.append(mmd2(z[i], prior[j]))
    return float(np.median(values))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--cluster-epochs", type=int, default=40)
    p.add_argument(
        "--cluster-adversarial-scale",
        type=float,
        default=1.0,
        help="clustering AAE: adversarial phases' learning rate / the reconstruction's",
    )
    p.add_argument(
        "--cluster-adam-beta1",
        type=float,
        default=0.5,
        help="clustering AAE: Adam's beta1 for every phase (0.5 is the usual GAN setting)",
    )
    p.add_argument(
        "--cluster-style-dim",
        type=int,
        default=2,
        help="clustering AAE: size of the continuous style code beside the 16-way head",
    )
    p.add_argument(
        "--cluster-eval-every",
        type=int,
        default=10,
        help="clustering AAE: record the test error every this many epochs (0: only at the end)",
    )
    p.add_argument("--code-dim", type=int, default=8)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument(
        "--ema",
        type=float,
        default=0.999,
        help="Polyak weight averaging for both models of the prior comparison (0: off)",
    )
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--skip", choices=["prior", "clusters"], action="append", default=[], help="repeatable"
    )
    p.add_argument("--map", action="store_true", help="also the 2-D ring-prior map")
    p.add_argument("--map-epochs", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="10,000 images, 3 epochs")
    p.add_argument("--run-dir", type=Path, default=Path("runs/bench-aae"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/aae.json"))
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args()
    if args.cluster_eval_every < 0:
        p.error("--cluster-eval-every must be >= 0 (0: only the final test error)")
    ds = load_mnist(args.quick)
    if ds is None:
        return 0
    if args.quick:
        args.epochs = args.cluster_epochs = 3
        args.out = args.out.with_name(args.out.stem + "_quick.json")
        args.run_dir = args.run_dir.with_name(args.run_dir.name + "-quick")
    progress = not args.no_progress
    d, h = args.code_dim, args.hidden
    result: dict = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "n_train": len(ds.x_train),
        "n_test": len(ds.x_test),
    }
    if "prior" not in args.skip:
        torch.manual_seed(0)
        aae = AdversarialAutoencoder(AAEConfig(layers=[784, h, h, d], discriminator_layers=[h, h]))
        ema = args.ema or None
        t_aae = fit(aae, ds.x_train, args.epochs, args.lr, args.run_dir / "aae", progress, 0, ema)
        torch.manual_seed(0)
        vae = VAE(VAEConfig(layers=[784, h, h, d], activation="relu"))
        t_vae = fit(vae, ds.x_train, args.epochs, args.lr, args.run_dir / "vae", progress, 0, ema)
        prior = torch.randn(len(ds.x_test), d, generator=torch.Generator().manual_seed(1)).numpy()
        z_aae = aae.transform(ds.x_test)
        torch.manual_seed(2)
        mu = vae.transform(ds.x_test)
        with torch.no_grad():
            _, log_var = vae.posterior(torch.from_numpy(ds.x_test))
        z_vae = mu + np.exp(0.5 * log_var.numpy()) * np.random.default_rng(2).normal(size=mu.shape)
        m_aae, m_vae = median_mmd(z_aae, prior), median_mmd(z_vae, prior)
        m_vae_mean = median_mmd(mu, prior)
        result["prior_matching"] = {
            "code_dim": d,
            "epochs": args.epochs,
            "ema_decay": ema,
            "aae_mmd2": m_aae,
            "vae_mmd2_posterior_samples": m_vae,
            "vae_mmd2_posterior_means": m_vae_mean,
            "aae_test_squared_error": float(
                ((aae.reconstruct(ds.x_test) - ds.x_test) ** 2).sum(1).mean()
            ),
            "vae_test_squared_error": float(
                ((vae.reconstruct(ds.x_test) - ds.x_test) ** 2).sum(1).mean()
            ),
            "aae_train_seconds": t_aae,
            "vae_train_seconds": t_vae,
            "target": "aae_mmd2 <= vae_mmd2_posterior_samples",
            "target_met": m_aae <= m_vae,
        }
        print(
            f"MMD^2 to N(0, I): AAE {m_aae:.4f}, VAE samples {m_vae:.4f} (means {m_vae_mean:.4f})"
        )
        save_figure(
            sample_figure(aae.sample(100, seed=0), (28, 28), "AAE samples (Gaussian prior)"),
            args.out.with_name(args.out.stem + "_samples.png"),
        )
    if "clusters" not in args.skip:
        torch.manual_seed(0)
        clus = AdversarialAutoencoder(
            AAEConfig(
                layers=[784, h, h, args.cluster_style_dim],
                discriminator_layers=[h, h],
                n_clusters=16,
                adversarial_lr_scale=args.cluster_adversarial_scale,
                cluster_balance=1.0,
            )
        )
        curve: list[dict] = []

        def error_curve(trainer, record) -> None:
            # The learning curve costs one encoding pass per point and no randomness, so the
            # training run is the same with or without it.
            every = args.cluster_eval_every
            if every and record["epoch"] % every == 0:
                t0 = time.perf_counter()
                c_tr, c_te = clus.cluster(ds.x_train), clus.cluster(ds.x_test)
                e = cluster_error(c_tr, ds.y_train, c_te, ds.y_test)
                curve.append(
                    {"epoch": record["epoch"], "test_error": e, "seconds": time.perf_counter() - t0}
                )
                print(f"epoch {record['epoch']}: 16-cluster test error {100 * e:.2f}%")

        t = fit(
            clus,
            ds.x_train,
            args.cluster_epochs,
            args.lr,
            args.run_dir
            / (
                f"clusters-h{h}-adv{args.cluster_adversarial_scale:g}-b{args.cluster_adam_beta1:g}"
                f"-s{args.cluster_style_dim}-e{args.cluster_epochs}"
            ),
            progress,
            adam_beta1=args.cluster_adam_beta1,
            callbacks=[error_curve],
        )
        c_train, c_test = clus.cluster(ds.x_train), clus.cluster(ds.x_test)
        err = cluster_error(c_train, ds.y_train, c_test, ds.y_test)
        result["clustering"] = {
            "n_clusters": 16,
            "hidden": h,
            "style_dim": args.cluster_style_dim,
            "epochs": args.cluster_epochs,
            "adversarial_lr_scale": args.cluster_adversarial_scale,
            "adam_beta1": args.cluster_adam_beta1,
            "cluster_balance": 1.0,
            "test_error": err,
            "paper_test_error": PAPER_CLUSTER_ERROR,
            "target_test_error": TARGET_CLUSTER_ERROR,
            "target_met": err <= TARGET_CLUSTER_ERROR,
            "clusters_used": int(len(np.unique(c_test))),
            "cluster_sizes_test": np.bincount(c_test, minlength=16).tolist(),
            "test_error_by_epoch": curve,
            "train_seconds": t - sum(point["seconds"] for point in curve),
        }
        print(f"16-cluster test error {100 * err:.2f}% (paper 9.55%, target <= 12%)")
    if args.map:
        torch.manual_seed(0)
        ring = AdversarialAutoencoder(
            AAEConfig(layers=[784, h, h, 2], discriminator_layers=[h, h], prior="gaussian_ring")
        )
        t = fit(ring, ds.x_train, args.map_epochs, args.lr, args.run_dir / "ring", progress)
        z_train, z_test = ring.transform(ds.x_train), ring.transform(ds.x_test)
        acc = knn_accuracy(z_train, ds.y_train, codes_test=z_test, labels_test=ds.y_test)
        prior = ring.prior_sampler(20_000, torch.Generator().manual_seed(1)).numpy()
        title = f"AAE codes over a ring prior\n(MNIST test set; 5-NN accuracy {acc:.3f})"
        save_figure(
            codes_over_prior(z_test, ds.y_test, prior, title=title),
            args.out.with_name(args.out.stem + "_ring_map.png"),
        )
        result["ring_map"] = {
            "epochs": args.map_epochs,
            "knn_accuracy_2d": acc,
            "mmd2_to_prior": median_mmd(z_test, prior),
            "train_seconds": t,
        }
        print(f"ring-prior 2-D map: 5-NN accuracy {acc:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.is_file():  # a partial rerun (--skip) keeps the other parts' numbers
        result = {**json.loads(args.out.read_text()), **result}
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
