"""Two uncoupled undamped Duffing oscillators: a reversible system with a neutral family.

dx_k/dt = v_k, dv_k/dt = -x_k - beta_k x_k^3, k = 1, 2, with state (x1, v1, x2, v2). The flow
conserves both energies E_k = v_k^2 / 2 + x_k^2 / 2 + beta_k x_k^4 / 4 and is reversible under
(x, v, t) -> (x, -v, -t); every orbit lies on an invariant torus of a neutral (non-attracting)
family. The frequency of each oscillator depends on its amplitude (for beta_k != 0), so a
tangent vector across the tori shears along them and grows linearly in time: the finite-time
exponents come in pairs (l_1, l_2, -l_2, -l_1) with l_k ~ ln(c_k T) / T -> 0, and their sum is
exactly 0 (the flow preserves volume).
"""
from __future__ import annotations

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model

__all__ = ["DUFFING2"]


@njit
def rhs(y, p, out):
    for k in range(2):
        x, v = y[2 * k], y[2 * k + 1]
        out[2 * k] = v
        out[2 * k + 1] = -x - p[k] * x * x * x
    return 0


@njit
def jac(y, p, out):
    for i in range(4):
        for j in range(4):
            out[i, j] = 0.0
    for k in range(2):
        x = y[2 * k]
        out[2 * k, 2 * k + 1] = 1.0
        out[2 * k + 1, 2 * k] = -1.0 - 3.0 * p[k] * x * x
    return 0


DUFFING2 = Model(
    name="duffing2",
    state_names=("x1", "v1", "x2", "v2"),
    param_names=("beta1", "beta2"),
    defaults={"beta1": 1.0, "beta2": 0.5},
    rhs=rhs,
    jac=jac,
    geometry=Euclidean(4),
    module=__name__,
    attr="DUFFING2",
    description="two uncoupled undamped Duffing oscillators (reversible, neutral family of tori)",
)
