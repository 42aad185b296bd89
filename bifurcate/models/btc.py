"""The boundary time crystal: one collective spin, a coherent drive and collective decay.

Specification (Iemini et al., PRL 121, 035301 (2018))::

    H = omega S_x,    jump (kappa / S) D[S^-].

Mean field on the unit sphere (derived)::

    dX/dt = kappa X Z,   dY/dt = -omega Z + kappa Y Z,   dZ/dt = omega Y - kappa (1 - Z^2).

Below omega = kappa the stable fixed point is X = 0, Y = omega/kappa, Z = -sqrt(1 - (omega/kappa)^2)
(its mirror Z > 0 is unstable); at omega = kappa they merge; above it the fixed points
(+-sqrt(1 - (kappa/omega)^2), kappa/omega, 0) are centres surrounded by neutral periodic orbits
(the time-crystal phase). Symmetries, checked when built: X -> -X, and the time-reversing
Z -> -Z (t -> -t), which makes the orbits above omega = kappa neutral.
"""
from __future__ import annotations

import numpy as np

from bifurcate.model import Symmetry
from bifurcate.spec import OpenSystem, S, parameters, spin

__all__ = ["BTC", "BTC_SYSTEM", "rhs", "jac"]

omega, kappa = parameters(omega=0.5, kappa=1.0)
A = spin("A")

#: The specification: five lines of physics.
BTC_SYSTEM = OpenSystem(omega * A.x, jumps=[(kappa / S, A.m)], name="btc")

BTC = BTC_SYSTEM.mean_field(
    "btc", module=__name__, attr="BTC",
    symmetries=(Symmetry("Z2", np.diag([-1.0, 1.0, 1.0]), False),
                Symmetry("Z-reversal", np.diag([1.0, 1.0, -1.0]), True)),
    description="boundary time crystal: H = omega Sx, collective decay kappa/S D[S-]",
    references="F. Iemini et al., Boundary time crystals, PRL 121, 035301 (2018)",
)
rhs, jac = BTC.rhs, BTC.jac
