"""`aekit ib example`: the information bottleneck on the lecture's two synthetic problems.

- **users**: people with discrete demographics (age band, region) and past behaviour (which of
  six product categories they bought before) drawn from a few planted communities; Y is the
  category of their next purchase, which depends only on the community. The deterministic IB
  (Strouse & Schwab, Neural Computation 2017) of p(past, future) at a moderate beta clusters
  the values of X into about as many groups as there are communities; the adjusted Rand index
  between each person's cluster and community is reported beside the best any function of X
  can reach (the most probable community of each value of X, counted from the samples).
- **sequence**: a three-state hidden Markov chain emitting four symbols; X is the window of
  past symbols, Y the next symbol. The predictive IB curve (the past-future bottleneck of
  Creutzig, Globerson & Tishby, Physical Review E 79:041925, 2009) is traced
  by a beta sweep, and with as many clusters as hidden states the clusters of past windows at
  high beta recover the hidden state at the window's end (adjusted Rand index against the
  state, beside the best any function of the window can reach).

Each run writes ``results.json``, ``information_plane.png`` and ``clusters.png`` into its
output folder. Everything is generated from the random seed; nothing is downloaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from aekit.atomic import atomic_write_json
from aekit.ib import (
    EstimatedJoint,
    IBCurve,
    InformationBottleneck,
    beta_sweep,
    joint_from_samples,
)
from aekit.viz.figures import save_figure
from aekit.viz.ib import cluster_assignments, information_plane

__all__ = [
    "EXAMPLES",
    "SequenceData",
    "UsersData",
    "format_summary",
    "make_hmm_sequence",
    "make_users",
    "run_example",
]

EXAMPLES = ("users", "sequence")
DEFAULTS: dict[str, dict[str, Any]] = {
    "users": {"beta": 5.0, "alpha": 0.0, "n_samples": 20_000},
    "sequence": {"beta": 100.0, "alpha": 1.0, "n_samples": 50_000},
}


# Data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsersData:
    """People as rows: ``x`` (n, 8) = age band, region, 6 past-purchase flags; ``y`` (n,)
    the next purchase's category; ``community`` (n,) the planted community."""

    x: np.ndarray
    y: np.ndarray
    community: np.ndarray
    feature_names: tuple[str, ...]


def make_users(n_people: int = 20_000, n_communities: int = 4, seed: int = 0) -> UsersData:
    """Synthetic people from planted communities (see the module docstring).

    Each community has its own distribution of age band (4) and region (3), a signature of
    six past-purchase flags (each flag matches the signature with probability 0.9; signatures
    differ in at least 3 flags), and a favourite next-purchase category among 6 (probability
    0.6, the rest shared evenly).
    """
    if n_communities > 6:
        raise ValueError(f"make_users plants at most 6 communities; got {n_communities}")
    rng = np.random.default_rng(seed)
    n_age, n_region, n_flags, n_future = 4, 3, 6, 6
    community = rng.choice(
        n_communities, size=n_people, p=rng.dirichlet(np.full(n_communities, 5.0))
    )
    age_p = rng.dirichlet(np.full(n_age, 0.3), size=n_communities)
    region_p = rng.dirichlet(np.full(n_region, 0.3), size=n_communities)
    while True:  # signatures far enough apart that the communities are identifiable
        signature = rng.random((n_communities, n_flags)) < 0.5
        distance = (signature[:, None] != signature[None]).sum(-1)
        if (distance + n_flags * np.eye(n_communities)).min() >= 3:
            break
    future_p = np.full((n_communities, n_future), 0.4 / (n_future - 1))
    future_p[np.arange(n_communities), rng.permutation(n_future)[:n_communities]] = 0.6

    def draw(p: np.ndarray) -> np.ndarray:  # one categorical draw per person from rows of p
        return (rng.random(n_people)[:, None] > p[community].cumsum(1)).sum(1)

    flags = rng.random((n_people, n_flags)) < np.where(signature, 0.9, 0.1)[community]
    x = np.column_stack([draw(age_p), draw(region_p), flags.astype(np.int64)])
    names = ("age band", "region", *(f"bought category {k}" for k in range(n_flags)))
    return UsersData(x=x, y=draw(future_p), community=community, feature_names=names)


@dataclass(frozen=True)
class SequenceData:
    """A hidden Markov chain: ``states`` and emitted ``symbols`` (n_steps,), and its matrices."""

    states: np.ndarray
    symbols: np.ndarray
    transition: np.ndarray
    emission: np.ndarray


def make_hmm_sequence(n_steps: int = 50_000, stay: float = 0.9, seed: int = 0) -> SequenceData:
    """Three hidden states that each stay with probability ``stay``; state 0 mostly emits
    symbol 0, state 1 symbol 1, state 2 symbols 2 and 3 alike (four symbols in all)."""
    rng = np.random.default_rng(seed)
    transition = np.full((3, 3), (1 - stay) / 2)
    np.fill_diagonal(transition, stay)
    emission = np.array(
        [[0.85, 0.05, 0.05, 0.05], [0.05, 0.85, 0.05, 0.05], [0.05, 0.05, 0.45, 0.45]]
    )
    states = np.empty(n_steps, dtype=np.int64)
    states[0] = rng.integers(3)
    u, cum = rng.random(n_steps), transition.cumsum(1)
    for t in range(1, n_steps):  # a Markov chain is sequential; 50k steps take ~0.1 s
        states[t] = np.searchsorted(cum[states[t - 1]], u[t])
    symbols = (rng.random(n_steps)[:, None] > emission.cumsum(1)[states]).sum(1)
    return SequenceData(states, symbols, transition, emission)


def past_and_next(seq: SequenceData, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples (past window (n, window), next symbol (n,), hidden state at the window's end)."""
    end = np.arange(window - 1, len(seq.symbols) - 1)
    past = np.stack([seq.symbols[end - window + 1 + j] for j in range(window)], axis=1)
    return past, seq.symbols[end + 1], seq.states[end]


# Shared pieces ---------------------------------------------------------------------------------


def _best_possible(joint: EstimatedJoint, truth: np.ndarray) -> np.ndarray:
    """Per value of X, its most frequent true label: the best labelling any function of X
    can give, per sample."""
    counts = np.zeros((len(joint.x_values), int(truth.max()) + 1))
    np.add.at(counts, (joint.x_index, truth), 1.0)
    return counts.argmax(1)


def _kind(alpha: float) -> str:
    return {0.0: "DIB", 1.0: "IB"}.get(alpha, f"generalized IB (alpha {alpha:g})")


def _report(
    example: str,
    joint: EstimatedJoint,
    truth: np.ndarray,
    truth_name: str,
    model: InformationBottleneck,
    curves: dict[str, IBCurve],
    plane_title: str,
) -> dict[str, Any]:
    """The headline fit against the truth, the best any function of X can do, and the figures."""
    best_x = _best_possible(joint, truth)
    ari = float(adjusted_rand_score(truth, model.labels_[joint.x_index]))
    s = model.solution_
    axis = "h_t" if s.alpha == 0 else "i_xt"
    point = (s.h_t if axis == "h_t" else s.i_xt, s.i_ty)
    figures = {
        "information_plane.png": information_plane(
            curves,
            x=axis,
            marks={f"beta = {s.beta:g}: {s.n_clusters} clusters": point},
            title=f"{example}: {plane_title}",
        ),
        "clusters.png": cluster_assignments(
            s.encoder,
            groups=best_x,
            group_name=f"most likely {truth_name}",
            weights=joint.pxy.sum(1),
            title=f"{example}: {_kind(s.alpha)} clusters at beta = {s.beta:g} "
            f"(ARI {ari:.3f} vs {truth_name})",
        ),
    }
    return {
        "n_x_values": int(joint.pxy.shape[0]),
        "n_y_values": int(joint.pxy.shape[1]),
        "fit": {
            "beta": s.beta,
            "alpha": s.alpha,
            "n_clusters": s.n_clusters,
            "i_xt_bits": s.i_xt,
            "h_t_bits": s.h_t,
            "i_ty_bits": s.i_ty,
            "objective_bits": s.objective,
            "adjusted_rand_index": ari,
        },
        "best_possible_adjusted_rand_index": float(
            adjusted_rand_score(truth, best_x[joint.x_index])
        ),
        "figures": figures,
    }


# The two examples ------------------------------------------------------------------------------


def _run_users(beta, alpha, n_samples, n_restarts, seed) -> dict[str, Any]:
    data = make_users(n_people=n_samples, seed=seed)
    joint = joint_from_samples(data.x, data.y)
    model = InformationBottleneck(
        beta=beta, alpha=alpha, n_restarts=n_restarts, random_state=seed
    ).fit(joint.pxy)
    betas = np.geomspace(0.5, 50.0, 25)
    curve = beta_sweep(joint.pxy, betas, alpha=alpha, n_restarts=n_restarts, random_state=seed)
    report = _report(
        "users",
        joint,
        data.community,
        "community",
        model,
        {_kind(alpha): curve},
        f"{_kind(alpha)} of p(past, next purchase)",
    )
    return {
        "data": {
            "n_people": n_samples,
            "n_communities": int(data.community.max()) + 1,
            "features": list(data.feature_names),
            "n_x_values": report.pop("n_x_values"),
            "n_y_values": report.pop("n_y_values"),
            "i_xy_bits": curve.i_xy,
        },
        **report,
        "curve": curve.to_dict(),
    }


def _run_sequence(beta, alpha, n_samples, n_restarts, seed, window: int = 4) -> dict[str, Any]:
    seq = make_hmm_sequence(n_steps=n_samples, seed=seed)
    past, nxt, state = past_and_next(seq, window)
    joint = joint_from_samples(past, nxt)
    n_states = len(seq.transition)
    betas = np.geomspace(1.0, 1000.0, 20)
    # The free curve (one cluster per window at most) for the plane; the capped one, with as
    # many clusters as hidden states, for reading the clusters as states.
    free = beta_sweep(joint.pxy, betas, alpha=alpha, n_restarts=n_restarts, random_state=seed)
    capped = beta_sweep(
        joint.pxy, betas, alpha=alpha, n_clusters=n_states, n_restarts=n_restarts, random_state=seed
    )
    model = InformationBottleneck(
        beta=beta, alpha=alpha, n_clusters=n_states, n_restarts=n_restarts, random_state=seed
    ).fit(joint.pxy)
    report = _report(
        "sequence",
        joint,
        state,
        "hidden state",
        model,
        {"clusters free": free, f"at most {n_states} clusters": capped},
        f"predictive {_kind(alpha)} of p(past {window} symbols, next symbol)",
    )
    ari_along = [
        float(adjusted_rand_score(state, s.labels[joint.x_index])) for s in capped.solutions
    ]
    return {
        "data": {
            "n_steps": n_samples,
            "window": window,
            "n_hidden_states": n_states,
            "transition": seq.transition.tolist(),
            "emission": seq.emission.tolist(),
            "n_x_values": report.pop("n_x_values"),
            "n_y_values": report.pop("n_y_values"),
            "i_xy_bits": free.i_xy,
        },
        **report,
        "curve": free.to_dict(),
        "capped_curve": {**capped.to_dict(), "adjusted_rand_index": ari_along},
    }


def run_example(
    name: str,
    out_dir: str | Path,
    beta: float | None = None,
    alpha: float | None = None,
    n_samples: int | None = None,
    n_restarts: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Run one example, write its figures and ``results.json`` into ``out_dir``.

    Parameters
    ----------
    name : {"users", "sequence"}
        Which example.
    out_dir : str or Path
        Output folder (created).
    beta, alpha : float, optional
        The trade-off and H(T|X) weight of the headline fit (the sweep uses the same alpha);
        defaults: users beta 5, alpha 0 (DIB); sequence beta 100, alpha 1 (IB).
    n_samples : int, optional
        People (users, default 20,000) or steps of the chain (sequence, default 50,000).
    n_restarts : int, default 3
        Starts per beta.
    seed : int, default 0
        Seed of the data and of the starts.

    Returns
    -------
    dict
        What ``results.json`` holds.
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    settings = {**DEFAULTS[name]}
    for key, value in (("beta", beta), ("alpha", alpha), ("n_samples", n_samples)):
        if value is not None:
            settings[key] = value
    if int(settings["n_samples"]) < 100:
        raise ValueError(f"n_samples must be at least 100; got {settings['n_samples']}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    run = _run_users if name == "users" else _run_sequence
    results = run(
        float(settings["beta"]),
        float(settings["alpha"]),
        int(settings["n_samples"]),
        n_restarts,
        seed,
    )
    for filename, fig in results.pop("figures").items():
        save_figure(fig, out / filename)
    results = {
        "example": name,
        "settings": {**settings, "n_restarts": n_restarts, "seed": seed},
        **results,
        "figures": ["information_plane.png", "clusters.png"],
        "seconds": time.perf_counter() - start,
    }
    atomic_write_json(out / "results.json", results)
    return results


def format_summary(results: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    fit, data = results["fit"], results["data"]
    truth = "communities" if results["example"] == "users" else "hidden states"
    kind = _kind(fit["alpha"])
    return "\n".join(
        [
            f"{results['example']}: |X| = {data['n_x_values']}, |Y| = {data['n_y_values']}, "
            f"I(X;Y) = {data['i_xy_bits']:.3f} bits",
            f"{kind} at beta = {fit['beta']:g}: {fit['n_clusters']} clusters, "
            f"I(X;T) = {fit['i_xt_bits']:.3f}, H(T) = {fit['h_t_bits']:.3f}, "
            f"I(T;Y) = {fit['i_ty_bits']:.3f} bits",
            f"adjusted Rand index vs {truth}: {fit['adjusted_rand_index']:.3f} "
            f"(best any function of X reaches: {results['best_possible_adjusted_rand_index']:.3f})",
        ]
    )
