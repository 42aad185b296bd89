"""Independent twin: the hand-written kernels of the LMG dimer (Eqs. (6)-(11) of Kothe & Kirton).

The shipped model (:mod:`bifurcate.models.lmg_dimer`) is now generated from its specification;
these kernels, typed by hand before that, stay here only to check the generated ones.

State ``(XA, YA, ZA, XB, YB, ZB)``: normalised magnetisations of spin A (loss) and spin B (gain).
Parameters ``g`` (field), ``gamma`` (loss/gain rate), ``J`` (LMG nonlinearity), ``lam`` (hopping).

Radial damping
--------------
The raw field keeps each spin on its unit sphere, but ``d|r_A|^2/dt = 2 gamma Z_A (|r_A|^2 - 1)``
and ``d|r_B|^2/dt = -2 gamma Z_B (|r_B|^2 - 1)``: off-sphere errors grow where Z_A > 0 or
Z_B < 0, and the 6-D Jacobian carries the radial eigenvalues 2 gamma Z_A and -2 gamma Z_B. The
kernels here integrate instead ::

    f_s(r) - kappa (|r_s|^2 - 1) r_s,      kappa = 1 + 2 |gamma|      (s = A, B)

which is identical on S^2 x S^2 (the added term vanishes there) and makes the spheres attracting
in the normal direction at rate at least ``2 (kappa - |gamma|) > 2`` (the radial eigenvalue at an
equilibrium becomes ``2 gamma Z_A - 2 kappa`` and ``-2 gamma Z_B - 2 kappa``). Stability is read
on the tangent space (:meth:`bifurcate.model.Model.tangent_jacobian`), where kappa drops out.

Symmetries
----------
* Z2: (XA, YA, XB, YB) -> -(XA, YA, XB, YB) maps solutions to solutions.
* PT (time-reversing): (XA, YA, ZA, XB, YB, ZB) -> (XB, -YB, ZB, XA, -YA, ZA) with t -> -t
  swaps the spins and turns loss into gain; with Z2 it generates the reversing group (checked in ``tests/test_model.py``).

References
----------
S. Kothe and P. Kirton, "PT-symmetry breaking phase transitions in an LMG dimer", Eqs. (6)-(11).
"""
from __future__ import annotations

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import Model, SphereProduct, Symmetry

__all__ = ["LMG_DIMER_TWIN", "rhs", "jac", "kappa_of"]


@njit
def kappa_of(gamma):
    """Radial damping rate used by the kernels (must exceed |gamma|)."""
    return 1.0 + 2.0 * abs(gamma)


@njit
def rhs(y, p, out):
    g, gam, J, lam = p[0], p[1], p[2], p[3]
    xa, ya, za, xb, yb, zb = y[0], y[1], y[2], y[3], y[4], y[5]
    k = kappa_of(gam)
    ca = k * (xa * xa + ya * ya + za * za - 1.0)
    cb = k * (xb * xb + yb * yb + zb * zb - 1.0)
    cross = xa * yb - ya * xb
    out[0] = g * ya + lam * za * yb + gam * xa * za - ca * xa
    out[1] = -g * xa + 2.0 * J * za * xa - lam * za * xb + gam * ya * za - ca * ya
    out[2] = -2.0 * J * ya * xa - lam * cross - gam * (1.0 - za * za) - ca * za
    out[3] = g * yb + lam * zb * ya - gam * xb * zb - cb * xb
    out[4] = -g * xb + 2.0 * J * zb * xb - lam * zb * xa - gam * yb * zb - cb * yb
    out[5] = -2.0 * J * yb * xb + lam * cross + gam * (1.0 - zb * zb) - cb * zb
    return 0


@njit
def jac(y, p, out):
    g, gam, J, lam = p[0], p[1], p[2], p[3]
    xa, ya, za, xb, yb, zb = y[0], y[1], y[2], y[3], y[4], y[5]
    k = kappa_of(gam)
    ca = k * (xa * xa + ya * ya + za * za - 1.0)
    cb = k * (xb * xb + yb * yb + zb * zb - 1.0)
    # spin A rows
    out[0, 0] = gam * za - ca - 2 * k * xa * xa
    out[0, 1] = g - 2 * k * xa * ya
    out[0, 2] = lam * yb + gam * xa - 2 * k * xa * za
    out[0, 3] = 0.0
    out[0, 4] = lam * za
    out[0, 5] = 0.0
    out[1, 0] = -g + 2 * J * za - 2 * k * ya * xa
    out[1, 1] = gam * za - ca - 2 * k * ya * ya
    out[1, 2] = 2 * J * xa - lam * xb + gam * ya - 2 * k * ya * za
    out[1, 3] = -lam * za
    out[1, 4] = 0.0
    out[1, 5] = 0.0
    out[2, 0] = -2 * J * ya - lam * yb - 2 * k * za * xa
    out[2, 1] = -2 * J * xa + lam * xb - 2 * k * za * ya
    out[2, 2] = 2 * gam * za - ca - 2 * k * za * za
    out[2, 3] = lam * ya
    out[2, 4] = -lam * xa
    out[2, 5] = 0.0
    # spin B rows
    out[3, 0] = 0.0
    out[3, 1] = lam * zb
    out[3, 2] = 0.0
    out[3, 3] = -gam * zb - cb - 2 * k * xb * xb
    out[3, 4] = g - 2 * k * xb * yb
    out[3, 5] = lam * ya - gam * xb - 2 * k * xb * zb
    out[4, 0] = -lam * zb
    out[4, 1] = 0.0
    out[4, 2] = 0.0
    out[4, 3] = -g + 2 * J * zb - 2 * k * yb * xb
    out[4, 4] = -gam * zb - cb - 2 * k * yb * yb
    out[4, 5] = 2 * J * xb - lam * xa - gam * yb - 2 * k * yb * zb
    out[5, 0] = lam * yb
    out[5, 1] = -lam * xb
    out[5, 2] = 0.0
    out[5, 3] = -2 * J * yb - lam * ya - 2 * k * zb * xb
    out[5, 4] = -2 * J * xb + lam * xa - 2 * k * zb * yb
    out[5, 5] = -2 * gam * zb - cb - 2 * k * zb * zb
    return 0


_Z2 = np.diag([-1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
_PT = np.zeros((6, 6))
for _i, (_j, _s) in enumerate([(3, 1), (4, -1), (5, 1), (0, 1), (1, -1), (2, 1)]):
    _PT[_i, _j] = _s

LMG_DIMER_TWIN = Model(
    name="lmg_dimer_twin",
    state_names=("XA", "YA", "ZA", "XB", "YB", "ZB"),
    param_names=("g", "gamma", "J", "lam"),
    defaults={"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0},
    rhs=rhs,
    jac=jac,
    geometry=SphereProduct(((0, 1, 2), (3, 4, 5))),
    module=__name__,
    attr="LMG_DIMER_TWIN",
    symmetries=(Symmetry("Z2", _Z2, False), Symmetry("PT", _PT, True)),
    description="PT-symmetric dimer of dissipative LMG spins, mean-field Eqs. (6)-(11), radially damped",
    references="Kothe & Kirton, PT-symmetry breaking phase transitions in an LMG dimer, Eqs. (6)-(11)",
)
