"""Energy-based models: RBMs (binary, Gaussian visible, linear hidden units)."""

from aekit.rbm.rbm import RBM, RBMConfig, free_energy

__all__ = ["RBM", "RBMConfig", "free_energy"]
