"""Normal forms with closed-form bifurcations, for tests.

* ``SADDLE_NODE``: dx = mu - x^2, dy = -y. Equilibria x = +-sqrt(mu); fold (LP) at mu = 0.
* ``PITCHFORK``: dx = mu x - x^3, dy = -y. Symmetric pitchfork (BP) at mu = 0, Z2: x -> -x.
* ``LINEAR3``: dy = A y with A = [[a11, a12, a13], ...]; its Lyapunov exponents are the real parts
  of the eigenvalues of A (counted with multiplicity), exactly.
"""
from __future__ import annotations

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model, Symmetry

__all__ = ["SADDLE_NODE", "PITCHFORK", "LINEAR3"]


@njit
def sn_rhs(y, p, out):
    out[0] = p[0] - y[0] * y[0]
    out[1] = -y[1]
    return 0


@njit
def sn_jac(y, p, out):
    out[0, 0] = -2 * y[0]
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = -1.0
    return 0


@njit
def pf_rhs(y, p, out):
    out[0] = p[0] * y[0] - y[0] ** 3
    out[1] = -y[1]
    return 0


@njit
def pf_jac(y, p, out):
    out[0, 0] = p[0] - 3 * y[0] * y[0]
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = -1.0
    return 0


@njit
def lin_rhs(y, p, out):
    for i in range(3):
        s = 0.0
        for j in range(3):
            s += p[3 * i + j] * y[j]
        out[i] = s
    return 0


@njit
def lin_jac(y, p, out):
    for i in range(3):
        for j in range(3):
            out[i, j] = p[3 * i + j]
    return 0


SADDLE_NODE = Model(name="saddle_node", state_names=("x", "y"), param_names=("mu",), defaults={"mu": 1.0},
                    rhs=sn_rhs, jac=sn_jac, geometry=Euclidean(2), module=__name__, attr="SADDLE_NODE",
                    description="fold normal form")
PITCHFORK = Model(name="pitchfork", state_names=("x", "y"), param_names=("mu",), defaults={"mu": -1.0},
                  rhs=pf_rhs, jac=pf_jac, geometry=Euclidean(2), module=__name__, attr="PITCHFORK",
                  symmetries=(Symmetry("Z2", np.diag([-1.0, 1.0])),), description="pitchfork normal form")
_names = tuple(f"a{i}{j}" for i in range(1, 4) for j in range(1, 4))
LINEAR3 = Model(name="linear3", state_names=("x", "y", "z"), param_names=_names,
                defaults=dict(zip(_names, [-1.0, 0, 0, 0, -2.0, 0, 0, 0, -3.0])),
                rhs=lin_rhs, jac=lin_jac, geometry=Euclidean(3), module=__name__, attr="LINEAR3",
                description="linear system dy/dt = A y")
