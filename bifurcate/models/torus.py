"""Two uncoupled Stuart-Landau oscillators: an attracting 2-torus with known Lyapunov exponents.

dz_k/dt = (mu_k + i omega_k) z_k - |z_k|^2 z_k, k = 1, 2, with state (x1, y1, x2, y2). For
mu_k > 0 the torus |z_1|^2 = mu_1, |z_2|^2 = mu_2 attracts; its Lyapunov exponents are exactly
(0, 0, -2 mu_1, -2 mu_2) (each oscillator contributes its cycle's pair 0, -2 mu_k), and the motion
is quasi-periodic when omega_1 / omega_2 is irrational (the default uses the golden mean).
"""
from __future__ import annotations

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model

__all__ = ["TORUS"]


@njit
def rhs(y, p, out):
    for k in range(2):
        mu, om = p[2 * k], p[2 * k + 1]
        x, v = y[2 * k], y[2 * k + 1]
        r2 = x * x + v * v
        out[2 * k] = mu * x - om * v - r2 * x
        out[2 * k + 1] = om * x + mu * v - r2 * v
    return 0


@njit
def jac(y, p, out):
    for i in range(4):
        for j in range(4):
            out[i, j] = 0.0
    for k in range(2):
        mu, om = p[2 * k], p[2 * k + 1]
        x, v = y[2 * k], y[2 * k + 1]
        r2 = x * x + v * v
        a, b = 2 * k, 2 * k + 1
        out[a, a] = mu - r2 - 2 * x * x
        out[a, b] = -om - 2 * x * v
        out[b, a] = om - 2 * v * x
        out[b, b] = mu - r2 - 2 * v * v
    return 0


TORUS = Model(
    name="torus",
    state_names=("x1", "y1", "x2", "y2"),
    param_names=("mu1", "omega1", "mu2", "omega2"),
    defaults={"mu1": 0.5, "omega1": 1.0, "mu2": 0.25, "omega2": 1.6180339887498949},
    rhs=rhs,
    jac=jac,
    geometry=Euclidean(4),
    module=__name__,
    attr="TORUS",
    description="two uncoupled Stuart-Landau oscillators (attracting 2-torus)",
)
