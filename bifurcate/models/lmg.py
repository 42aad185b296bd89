"""The single dissipative LMG spin: mean field of the master equation (3) (the paper's Fig. 1(d)).

Specification: H = -J S_x^2 / S - g S_z with the jump (gamma / S) D[S^-]. The derived mean field is
Eqs. (6)-(8) of the paper at lam = 0 (spin A, with loss), on the unit sphere; state ``(X, Y, Z)``
(the spin is anonymous: its state names are X, Y, Z), parameters ``g, gamma, J``. The radial damping
is the one of :mod:`bifurcate.models.lmg_dimer` (kappa = 1 + 2|gamma|); it vanishes on the sphere.

The normal state Z = -1 loses stability in a pitchfork at J = -(g^2 + gamma^2) / (2 g).
"""
from __future__ import annotations

import numpy as np

from bifurcate.model import Symmetry
from bifurcate.spec import OpenSystem, S, parameters, spin

__all__ = ["LMG", "LMG_SYSTEM", "rhs", "jac"]

g, gamma, J = parameters(g=1.0, gamma=0.5, J=0.0)
A = spin("A")

#: The specification: the master equation (3) of the paper.
LMG_SYSTEM = OpenSystem(-J * A.x ** 2 / S - g * A.z, jumps=[(gamma / S, A.m)], name="lmg")

LMG = LMG_SYSTEM.mean_field(
    "lmg", module=__name__, attr="LMG", state_names=("X", "Y", "Z"),
    symmetries=(Symmetry("Z2", np.diag([-1.0, -1.0, 1.0]), False),),
    description="single dissipative LMG spin, mean field of Eq. (3), radially damped",
    references="Kothe & Kirton, Eq. (3); Morrison & Parkins, PRL 100, 040403 (2008)",
)
#: the generated kernels, exported by name (per-model integrators import them from here)
rhs, jac = LMG.rhs, LMG.jac
