"""Continuation of equilibria and of their codimension-one bifurcations.

* :func:`continue_equilibria`: pseudo-arclength continuation in one parameter with detection and
  localisation of LP, BP and HB (neutral saddles filtered, first Lyapunov coefficients).
* :func:`switch_branch`: branch switching at a BP, with the mirror image under the model's
  symmetries.
* :func:`continue_codim2`: BP/LP and Hopf curves in two parameters (minimally augmented / A^2 + kappa
  systems), with BT, GH, ZH and HH detected on them.
"""
from bifurcate.continuation.options import ContinuationOptions
from bifurcate.continuation.pseudo_arclength import continue_curve, continue_equilibria
from bifurcate.equilibria import EquilibriumSet, find_equilibria, newton_equilibrium
from bifurcate.continuation.hopf import first_lyapunov_coefficient
from bifurcate.continuation.switching import mirror_branch, switch_branch
from bifurcate.continuation.codim2 import continue_codim2
from bifurcate.continuation import reference

__all__ = ["ContinuationOptions", "continue_equilibria", "continue_curve", "continue_codim2", "switch_branch",
           "mirror_branch", "find_equilibria", "newton_equilibrium", "EquilibriumSet",
           "first_lyapunov_coefficient", "reference"]
