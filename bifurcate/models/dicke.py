"""The open Dicke model: a cavity mode coupled to a collective spin, with cavity loss.

Specification (Dimer et al., PRA 75, 013804 (2007); Kirton et al., Adv. Quantum Technol. 2019)::

    H = omega a^+ a + omega0 S_z + 2 lam / sqrt(2S) (a + a^+) S_x,    jump 2 kappa D[a].

Mean field (derived; alpha = <a>/sqrt(S) = a_re + i a_im, spin on the unit sphere)::

    d alpha/dt = -(kappa + i omega) alpha - i sqrt(2) lam X,
    dX/dt = -omega0 Y,   dY/dt = omega0 X - 2 sqrt(2) lam a_re Z,   dZ/dt = 2 sqrt(2) lam a_re Y.

The normal state (alpha = 0, Z = -1) loses stability at the superradiant threshold
lam_c = sqrt(omega0 (omega^2 + kappa^2) / omega) / 2; above it two stable superradiant states
(related by the Z2 symmetry (a, X, Y) -> -(a, X, Y)) appear.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from bifurcate.model import Symmetry
from bifurcate.spec import OpenSystem, S, boson, parameters, spin

__all__ = ["DICKE", "DICKE_SYSTEM", "NORMAL_STATE", "lam_critical", "rhs", "jac"]

omega, omega0, lam, kappa = parameters(omega=1.0, omega0=1.0, lam=0.3, kappa=1.0)
a, A = boson("a"), spin("A")

#: The specification.
DICKE_SYSTEM = OpenSystem(
    omega * a.dag * a.a + omega0 * A.z + 2 * lam / sp.sqrt(2 * S) * (a.a + a.dag) * A.x,
    jumps=[(2 * kappa, a.a)],
    name="dicke",
)

#: Normal state (a_re, a_im, XA, YA, ZA): empty cavity, spin down.
NORMAL_STATE = np.array([0.0, 0.0, 0.0, 0.0, -1.0])

DICKE = DICKE_SYSTEM.mean_field(
    "dicke", module=__name__, attr="DICKE",
    symmetries=(Symmetry("Z2", np.diag([-1.0, -1.0, -1.0, -1.0, 1.0]), False),),
    description="open Dicke model: cavity (loss 2 kappa) coupled to a collective spin",
    references="F. Dimer et al., PRA 75, 013804 (2007); P. Kirton et al., Adv. Quantum Technol. 2, 1800043 (2019)",
)
rhs, jac = DICKE.rhs, DICKE.jac


def lam_critical(omega: float, omega0: float, kappa: float) -> float:
    """Superradiant threshold lam_c = sqrt(omega0 (omega^2 + kappa^2) / omega) / 2."""
    return float(np.sqrt(omega0 * (omega ** 2 + kappa ** 2) / omega) / 2)
