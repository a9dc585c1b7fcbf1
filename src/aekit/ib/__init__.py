"""Information bottleneck on discrete distributions (NumPy and SciPy only; no torch).

- :mod:`aekit.ib.information`: entropy, mutual information and KL divergence in bits, safe at
  zero probabilities; checking a joint ``p(x, y)`` and estimating one from samples.
- :mod:`aekit.ib.bottleneck`: the generalized IB of Strouse & Schwab (2017), which is IB
  (Tishby, Pereira & Bialek 1999) at ``alpha = 1`` and the deterministic IB at ``alpha = 0``,
  at one beta.
- :mod:`aekit.ib.curve`: beta sweeps in which every beta gets the best solution found at any
  beta, and :func:`ib_curve`, the whole information plane with betas it chooses itself.
"""

from aekit.ib.bottleneck import IBSolution, InformationBottleneck
from aekit.ib.curve import IBCurve, beta_sweep, ib_curve, upper_envelope
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
    "ib_curve",
    "joint_from_samples",
    "kl_divergence",
    "mutual_information",
    "upper_envelope",
]
