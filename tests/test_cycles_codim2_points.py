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
  passes -1 at m = 0 exactly: a fold-flip point (LPPD); seen from the PD curve (m = 0, beta1
  free) the same point is where the fold's multiplier reaches +1 and the curve turns.
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


H_CS = 1e-30  # complex step


@njit
def _bautin_flip(x1, x2, p, q, par):
    b1, b2, m = par[0], par[1], par[2]
    r2 = x1 * x1 + x2 * x2
    g = b1 + b2 * r2 - r2 * r2
    r = r2 ** 0.5
    co = x1 / r
    si = x2 / r
    # half-angle products (single-valued): cos^2(phi/2), sin^2(phi/2), sin(phi/2) cos(phi/2)
    c2 = 0.5 * (1.0 + co)
    s2 = 0.5 * (1.0 - co)
    cs = 0.5 * si
    ca = c2 * p + cs * q  # cos(phi/2) a, with a = cos(phi/2) p + sin(phi/2) q
    sa = cs * p + s2 * q
    cb = -cs * p + c2 * q  # cos(phi/2) b, with b = -sin(phi/2) p + cos(phi/2) q
    sb = -s2 * p + cs * q
    a2 = c2 * p * p + 2.0 * cs * p * q + s2 * q * q
    # the frame turns at phi' = 1 / 2 (Bautin: phi' = 1 exactly); a' = m a - a^3, b' = -b
    dp = 0.5 * (-sa - cb) + m * ca - ca * a2 + sb
    dq = 0.5 * (ca - sb) + m * sa - sa * a2 - cb
    return g * x1 - x2, x1 + g * x2, dp, dq


@njit
def bautin_flip_rhs(y, p, out):
    a, b, c, d = _bautin_flip(y[0], y[1], y[2], y[3], p)
    out[0], out[1], out[2], out[3] = a, b, c, d
    return 0


@njit
def bautin_flip_jac(y, p, out):
    for j in range(4):
        z = [complex(y[0]), complex(y[1]), complex(y[2]), complex(y[3])]
        z[j] += 1j * H_CS
        a, b, c, d = _bautin_flip(z[0], z[1], z[2], z[3], p)
        out[0, j], out[1, j], out[2, j], out[3, j] = a.imag / H_CS, b.imag / H_CS, c.imag / H_CS, d.imag / H_CS
    return 0


BAUTIN_FLIP = Model(name="bautin_flip", state_names=("x1", "x2", "p", "q"), param_names=("beta1", "beta2", "m"),
                    defaults={"beta1": -0.2, "beta2": 1.0, "m": -0.3}, rhs=bautin_flip_rhs, jac=bautin_flip_jac,
                    geometry=Euclidean(4), module=__name__, attr="BAUTIN_FLIP")


def test_fold_flip_on_the_lpc_curve_at_the_closed_form():
    r = math.sqrt((1.0 + math.sqrt(1.0 - 0.8)) / 2.0)  # the outer cycle at beta1 = -0.2, beta2 = 1
    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.c_[r * np.cos(t), r * np.sin(t), 0 * t, 0 * t]
    br = continue_cycles(BAUTIN_FLIP, (t, y), param="beta1", params={"beta1": -0.2, "beta2": 1.0, "m": -0.3},
                         ntst=10, max_points=40, direction=-1)
    (lpc,) = br.special("LPC")
    assert abs(lpc.param + 0.25) < 1e-9
    mu = np.sort_complex(lpc.eigenvalues)
    np.testing.assert_allclose(mu.real, np.sort([-math.exp(-2 * np.pi), -math.exp(-0.6 * np.pi), 1.0, 1.0]),
                               atol=1e-6)
    cur = continue_cycle_codim2(BAUTIN_FLIP, lpc, "m", param="beta1", bounds={"m": (-0.31, 0.2)}, ds=0.02,
                                ds_max=0.05, max_steps=40)
    assert cur.success or "maximum" in cur.message, cur.message
    assert np.max(np.abs(cur.param_values + 0.25)) < 1e-9  # the LPC curve is beta1 = -beta2^2 / 4
    assert cur.columns["m"].max() > 0.1
    found = [(q.kind, q.params["m"]) for q in cur.points]
    assert [k for k, _ in found] == ["LPPD"], found
    assert abs(found[0][1]) < 1e-6 and cur.points[0].located
    assert np.min(np.abs(cur.points[0].eigenvalues + 1.0)) < 1e-6


def test_fold_flip_on_the_pd_curve_at_the_closed_form():
    """The same point from the other curve: the PD curve (m = 0) continued in beta1 turns at the fold
    of cycles beta1 = -1/4, where the fold's multiplier reaches +1 on it."""
    r = math.sqrt((1.0 + math.sqrt(1.0 - 0.8)) / 2.0)
    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.c_[r * np.cos(t), r * np.sin(t), 0 * t, 0 * t]
    br = continue_cycles(BAUTIN_FLIP, (t, y), param="m", params={"beta1": -0.2, "beta2": 1.0, "m": -0.3},
                         ntst=10, max_points=30, p_max=0.2)
    (pd,) = br.special("PD")
    assert abs(pd.param) < 1e-9
    cur = continue_cycle_codim2(BAUTIN_FLIP, pd, "beta1", param="m", bounds={"beta1": (-0.3, -0.15)}, ds=0.02,
                                ds_max=0.05, max_steps=40)
    assert np.max(np.abs(cur.param_values)) < 1e-9  # the PD curve is m = 0
    found = [(q.kind, q.params["beta1"]) for q in cur.points]
    assert [k for k, _ in found] == ["LPPD"], found
    assert abs(found[0][1] + 0.25) < 1e-6 and cur.points[0].located
    # it turned there: the curve joins the outer cycles (radius^2 > 1/2) to the inner ones, both at
    # beta1 > -1/4, through the fold cycle of radius^2 = 1/2
    radius2 = np.array([np.mean(np.sum(o[1][:, :2] ** 2, axis=1)) for o in cur.orbits])
    assert radius2.max() > 0.7 and radius2.min() < 0.3 and cur.columns["beta1"].min() > -0.25 - 1e-9
    i = cur.points[0].index
    assert abs(np.mean(np.sum(cur.points[0].data["orbit"][:, :2] ** 2, axis=1)) - 0.5) < 1e-5, i
