"""Stuart-Landau oscillator (Hopf normal form): dz/dt = (mu + i omega) z - (1 + i beta) |z|^2 z.

Closed forms (used as references in the tests): for mu > 0 a stable cycle of radius sqrt(mu) and
period 2 pi / (omega - beta mu); Floquet multipliers 1 and exp(-2 mu T); Lyapunov exponents 0 and
-2 mu. The origin has eigenvalues mu +- i omega: a supercritical Hopf point at mu = 0 with first
Lyapunov coefficient l1 = -1 / omega (normalised as in Kuznetsov, Elements of Applied Bifurcation
Theory, Eq. (3.20)).
"""
from __future__ import annotations

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model

__all__ = ["STUART_LANDAU"]


@njit
def rhs(y, p, out):
    mu, om, be = p[0], p[1], p[2]
    x, v = y[0], y[1]
    r2 = x * x + v * v
    out[0] = mu * x - om * v - r2 * (x - be * v)
    out[1] = om * x + mu * v - r2 * (be * x + v)
    return 0


@njit
def jac(y, p, out):
    mu, om, be = p[0], p[1], p[2]
    x, v = y[0], y[1]
    r2 = x * x + v * v
    out[0, 0] = mu - r2 - 2 * x * (x - be * v)
    out[0, 1] = -om - r2 * (-be) - 2 * v * (x - be * v)
    out[1, 0] = om - r2 * be - 2 * x * (be * x + v)
    out[1, 1] = mu - r2 - 2 * v * (be * x + v)
    return 0


STUART_LANDAU = Model(
    name="stuart_landau",
    state_names=("x", "y"),
    param_names=("mu", "omega", "beta"),
    defaults={"mu": 0.5, "omega": 1.0, "beta": 0.0},
    rhs=rhs,
    jac=jac,
    geometry=Euclidean(2),
    module=__name__,
    attr="STUART_LANDAU",
    description="Hopf normal form",
)
