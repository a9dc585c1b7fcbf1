"""Energy-based models: RBMs (binary, Gaussian visible, linear hidden units) DBNs and DBMs."""

from aekit.rbm.dbm import DBM, DBMConfig
from aekit.rbm.dbn import DBN, DBNConfig
from aekit.rbm.rbm import RBM, RBMConfig, free_energy

__all__ = ["DBM", "DBN", "RBM", "DBMConfig", "DBNConfig", "RBMConfig", "free_energy"]
