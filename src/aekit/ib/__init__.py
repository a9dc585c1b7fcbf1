"""Information bottleneck on discrete distributions (NumPy and SciPy only; no torch).

- :mod:`aekit.ib.information`: entropy, mutual information and KL divergence in bits, safe at
  zero probabilities; checking a joint ``p(x, y)`` and estimating one from samples.
- :mod:`aekit.ib.bottleneck`: the generalized IB of Strouse & Schwab (2017), which is IB
  (Tishby, Pereira & Bialek 1999) at ``alpha = 1`` and the deterministic IB at ``alpha = 0``;
  beta sweeps with annealing and restarts.
"""

from aekit.ib.bottleneck import (
    IBCurve,
    IBSolution,
    InformationBottleneck,
    beta_sweep,
    upper_envelope,
)
from aekit.ib.information import (
    EstimatedJoint,
    check_joint,
    conditional_entropy,
    entropy,
    joint_from_samples,
    kl_divergence,
    mutual_information,
)

__all__ = [
    "EstimatedJoint",
    "IBCurve",
    "IBSolution",
    "InformationBottleneck",
    "beta_sweep",
    "check_joint",
    "conditional_entropy",
    "entropy",
    "joint_from_samples",
    "kl_divergence",
    "mutual_information",
    "upper_envelope",
]
