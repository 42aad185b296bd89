"""Brusselator: dx/dt = a - (b + 1) x + x^2 y, dy/dt = b x - x^2 y.

The equilibrium (a, b / a) has a supercritical Hopf bifurcation at b = 1 + a^2 with frequency a
(period 2 pi / a at onset).
"""
from __future__ import annotations

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model

__all__ = ["BRUSSELATOR"]


@njit
def rhs(y, p, out):
    a, b = p[0], p[1]
    x, v = y[0], y[1]
    out[0] = a - (b + 1.0) * x + x * x * v
    out[1] = b * x - x * x * v
    return 0


@njit
def jac(y, p, out):
    a, b = p[0], p[1]
    x, v = y[0], y[1]
    out[0, 0] = -(b + 1.0) + 2 * x * v
    out[0, 1] = x * x
    out[1, 0] = b - 2 * x * v
    out[1, 1] = -x * x
    return 0


BRUSSELATOR = Model(
    name="brusselator",
    state_names=("x", "y"),
    param_names=("a", "b"),
    defaults={"a": 1.0, "b": 1.5},
    rhs=rhs,
    jac=jac,
    geometry=Euclidean(2),
    module=__name__,
    attr="BRUSSELATOR",
    description="Brusselator; Hopf at b = 1 + a^2",
)
