"""Energy-based models: RBMs (binary, Gaussian visible, linear hidden units) and DBNs."""

from aekit.rbm.dbn import DBN, DBNConfig
from aekit.rbm.rbm import RBM, RBMConfig, free_energy

__all__ = ["DBN", "RBM", "DBNConfig", "RBMConfig", "free_energy"]
