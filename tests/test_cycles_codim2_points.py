"""Codimension-two points on curves of cycle bifurcations that no other test reaches, on systems
whose multipliers are known in closed form (issue 14, item 3):

* ``SL_JORDAN`` (4-D): a Stuart-Landau cycle (the unit circle, period 2 pi) times an uncoupled
  oscillator ``(u, v)`` with linear part [[m, -1], [k, m]] and cubic damping. Transverse
  multipliers ``exp(2 pi (m +- sqrt(-k)))``: a torus bifurcation (NS) at m = 0 for k > 0 with
  kappa = cos(2 pi sqrt(k)); at k = 0 the pair meets at +1 as a Jordan block (the generic 1:1
  resonance R1, "crossing") and for k < 0 it is a real pair of product 1 (a neutral saddle,
  kappa = cosh(2 pi sqrt(-k))); R4, R3 and the touching R2 at sqrt(k) = 1/4, 1/3, 1/2.
* ``BAUTIN_FLIP`` (4-D): the Bautin normal form (folds of cycles at beta1 = -beta2^2 / 4, period
  2 pi, angular speed 1) with a transverse plane (p, q) on a Moebius band (rotated by half the
  phase): ``a' = m a - a^3``, ``b' = -b`` in the band's frame. Multipliers: the fold's +1 and
  ``-exp(2 pi m)``, ``-exp(-2 pi)``: along the LPC curve (beta1 = -beta2^2 / 4, m free) a multiplier
  passes -1 at m = 0 exactly: a fold-flip point (LPPD).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from bifurcate._numba import njit
from bifurcate.cycles import continue_cycle_codim2, continue_cycles
from bifurcate.model import Euclidean, Model


@njit
def sl_jordan_rhs(y, p, out):
    m, k = p[0], p[1]
    r2 = y[0] * y[0] + y[1] * y[1]
    out[0] = (1.0 - r2) * y[0] - y[1]
    out[1] = y[0] + (1.0 - r2) * y[1]
    s2 = y[2] * y[2] + y[3] * y[3]
    out[2] = m * y[2] - y[3] - s2 * y[2]
    out[3] = k * y[2] + m * y[3] - s2 * y[3]
    return 0


@njit
def sl_jordan_jac(y, p, out):
    m, k = p[0], p[1]
    r2 = y[0] * y[0] + y[1] * y[1]
    s2 = y[2] * y[2] + y[3] * y[3]
    for i in range(4):
        for j in range(4):
            out[i, j] = 0.0
    out[0, 0] = 1.0 - r2 - 2.0 * y[0] * y[0]
    out[0, 1] = -2.0 * y[0] * y[1] - 1.0
    out[1, 0] = 1.0 - 2.0 * y[0] * y[1]
    out[1, 1] = 1.0 - r2 - 2.0 * y[1] * y[1]
    out[2, 2] = m - s2 - 2.0 * y[2] * y[2]
    out[2, 3] = -1.0 - 2.0 * y[2] * y[3]
    out[3, 2] = k - 2.0 * y[2] * y[3]
    out[3, 3] = m - s2 - 2.0 * y[3] * y[3]
    return 0


SL_JORDAN = Model(name="sl_jordan", state_names=("x1", "x2", "u", "v"), param_names=("m", "k"),
                  defaults={"m": 0.0, "k": 0.05}, rhs=sl_jordan_rhs, jac=sl_jordan_jac, geometry=Euclidean(4),
                  module=__name__, attr="SL_JORDAN")


def _circle():
    t = np.linspace(0.0, 2 * np.pi, 201)
    return t, np.c_[np.cos(t), np.sin(t), 0 * t, 0 * t]


def test_ns_curve_generic_r1_where_the_pair_leaves_the_circle_at_plus_one():
    t, y = _circle()
    br = continue_cycles(SL_JORDAN, (t, y), param="m", params={"m": -0.2, "k": 0.05}, ntst=10, max_points=40,
                         p_max=0.2)
    (ns,) = br.special("NS")
    assert abs(ns.param) < 1e-8
    cur = continue_cycle_codim2(SL_JORDAN, ns, "k", bounds={"k": (-0.01, 0.27)}, ds=0.03, ds_max=0.05,
                                max_steps=80)
    assert cur.success or "maximum" in cur.message, cur.message
    assert np.max(np.abs(cur.param_values)) < 1e-8  # the NS curve is m = 0
    k = cur.columns["k"]
    assert k.min() < -5e-3 and k.max() > 0.26
    found = sorted((q.kind, q.params["k"], q.data.get("case")) for q in cur.points)
    assert [f[0] for f in found] == ["R1", "R2", "R3", "R4"], found
    r1, r2, r3, r4 = found
    assert abs(r1[1]) < 1e-6 and r1[2] == "crossing"
    assert abs(r2[1] - 0.25) < 1e-6 and r2[2] == "touching"
    assert abs(r3[1] - 1 / 9) < 1e-6 and abs(r4[1] - 1 / 16) < 1e-6
    (p1,) = cur.special("R1")
    assert abs(p1.data["pair_product"] - 1.0) < 1e-6
    # kappa in closed form on both sides of R1: cos(2 pi sqrt k) on the torus curve, cosh(2 pi sqrt(-k))
    # on the neutral saddle
    pos, neg = k > 1e-3, k < -1e-3
    assert np.any(neg)
    np.testing.assert_allclose(cur.columns["kappa"][pos], np.cos(2 * np.pi * np.sqrt(k[pos])), atol=1e-7)
    np.testing.assert_allclose(cur.columns["kappa"][neg], np.cosh(2 * np.pi * np.sqrt(-k[neg])), rtol=1e-7)
