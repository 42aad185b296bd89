"""Lorenz system. At (sigma, rho, beta) = (10, 28, 8/3) the largest Lyapunov exponent is about
0.9056 and the spectrum sums to -(sigma + 1 + beta) = -13.667 (Sprott, Chaos and Time-Series
Analysis, 2003, Table A.1)."""
from __future__ import annotations

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model, Symmetry

__all__ = ["LORENZ"]


@njit
def rhs(y, p, out):
    s, r, b = p[0], p[1], p[2]
    out[0] = s * (y[1] - y[0])
    out[1] = y[0] * (r - y[2]) - y[1]
    out[2] = y[0] * y[1] - b * y[2]
    return 0


@njit
def jac(y, p, out):
    s, r, b = p[0], p[1], p[2]
    out[0, 0] = -s
    out[0, 1] = s
    out[0, 2] = 0.0
    out[1, 0] = r - y[2]
    out[1, 1] = -1.0
    out[1, 2] = -y[0]
    out[2, 0] = y[1]
    out[2, 1] = y[0]
    out[2, 2] = -b
    return 0


LORENZ = Model(
    name="lorenz",
    state_names=("x", "y", "z"),
    param_names=("sigma", "rho", "beta"),
    defaults={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0},
    rhs=rhs,
    jac=jac,
    geometry=Euclidean(3),
    module=__name__,
    attr="LORENZ",
    symmetries=(Symmetry("Z2", np.diag([-1.0, -1.0, 1.0]), False),),
    description="Lorenz 1963",
)
