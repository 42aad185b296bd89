"""Independent twin: the hand-written kernels of the single dissipative LMG spin (Eq. (3)).

State ``(X, Y, Z)`` on the unit sphere, parameters ``g, gamma, J``. These are Eqs. (6)-(8) of the
paper at lam = 0 (spin A, with loss). The same radial damping as :mod:`bifurcate.models.lmg_dimer`
is added (kappa = 1 + 2|gamma|); it vanishes on the sphere.

The normal state Z = -1 loses stability in a pitchfork at J = -(g^2 + gamma^2) / (2 g).
"""
from __future__ import annotations

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import Model, SphereProduct, Symmetry

__all__ = ["LMG_TWIN"]


@njit
def rhs(y, p, out):
    g, gam, J = p[0], p[1], p[2]
    x, yy, z = y[0], y[1], y[2]
    k = 1.0 + 2.0 * abs(gam)
    c = k * (x * x + yy * yy + z * z - 1.0)
    out[0] = g * yy + gam * x * z - c * x
    out[1] = -g * x + 2.0 * J * z * x + gam * yy * z - c * yy
    out[2] = -2.0 * J * yy * x - gam * (1.0 - z * z) - c * z
    return 0


@njit
def jac(y, p, out):
    g, gam, J = p[0], p[1], p[2]
    x, yy, z = y[0], y[1], y[2]
    k = 1.0 + 2.0 * abs(gam)
    c = k * (x * x + yy * yy + z * z - 1.0)
    out[0, 0] = gam * z - c - 2 * k * x * x
    out[0, 1] = g - 2 * k * x * yy
    out[0, 2] = gam * x - 2 * k * x * z
    out[1, 0] = -g + 2 * J * z - 2 * k * yy * x
    out[1, 1] = gam * z - c - 2 * k * yy * yy
    out[1, 2] = 2 * J * x + gam * yy - 2 * k * yy * z
    out[2, 0] = -2 * J * yy - 2 * k * z * x
    out[2, 1] = -2 * J * x - 2 * k * z * yy
    out[2, 2] = 2 * gam * z - c - 2 * k * z * z
    return 0


LMG_TWIN = Model(
    name="lmg_twin",
    state_names=("X", "Y", "Z"),
    param_names=("g", "gamma", "J"),
    defaults={"g": 1.0, "gamma": 0.5, "J": 0.0},
    rhs=rhs,
    jac=jac,
    geometry=SphereProduct(((0, 1, 2),)),
    module=__name__,
    attr="LMG_TWIN",
    symmetries=(Symmetry("Z2", np.diag([-1.0, -1.0, 1.0]), False),),
    description="single dissipative LMG spin, mean field of Eq. (3), radially damped",
    references="Kothe & Kirton, Eq. (3); Morrison & Parkins, PRL 100, 040403 (2008)",
)
