"""Classic test problems of continuation software, ported from their equations.

These are the textbook problems AUTO-07p's demo collection is built on (written here from the
equations, with the demos' parameter values), plus normal forms with closed-form cycle
bifurcations. They are test systems nobody tuned the engine for.

* ``CUSP``: dx = a + b x - x^3 (AUTO demo ``cusp``). Folds on 27 a^2 = 4 b^3; cusp point (CP)
  at a = b = 0.
* ``BAUTIN``: the generalised-Hopf normal form in Cartesian form,
  dz = (beta1 + i) z + beta2 z |z|^2 - z |z|^4, z = x + i y. Cycles r^2 = (beta2 +- sqrt(beta2^2
  + 4 beta1)) / 2 of period exactly 2 pi; for beta2 > 0 the subcritical Hopf at beta1 = 0 turns
  at a fold of cycles (LPC) at beta1 = -beta2^2 / 4, r^2 = beta2 / 2.
* ``AB_REACTOR``: the A -> B reaction in a CSTR (AUTO demo ``ab``; Uppal, Ray and Poore 1974):
  du1 = -u1 + D (1 - u1) e^{u2}, du2 = -u2 + D B (1 - u1) e^{u2} - beta u2 (D = Damkoehler).
* ``PREDATOR_PREY``: AUTO demo ``pp2``: du1 = p2 u1 (1 - u1) - u1 u2 - p1 (1 - e^{-p3 u1}),
  du2 = -u2 + p4 u1 u2.
* ``ENZYME``: two-cell, one-substrate enzyme model (AUTO demo ``enz``): ds1 = (s0 - s1) + (s2 - s1)
  - rh R(s1), ds2 = (s0 + rm - s2) + (s1 - s2) - rh R(s2), R(s) = s / (1 + s + rk s^2). Z2-symmetric
  (s1 <-> s2) at rm = 0: pitchforks; rm != 0 breaks the symmetry.
* ``Z2_CYCLES``: dz = (1 + i) z - z |z|^2, dw = (mu - |z|^2) w - w^3 (z = x + i y), Z2: w -> -w.
  The cycle |z| = 1, w = 0 (period 2 pi, for every mu) has the multiplier exp(2 pi (mu - 1)): a
  pitchfork of cycles (branch point of cycles, BPC) at mu = 1, where the cycles
  w = +-sqrt(mu - 1) branch off.
* ``TORUS_OSCILLATOR``: an electronic oscillator (AUTO demo ``tor``): dx = (-(be + rn) x + be y
  - a3 x^3 + b3 (y - x)^3) / r, dy = be x - (be + ga) y - z - b3 (y - x)^3, dz = y; its cycles
  have a torus bifurcation, folds and period doublings at long periods.
"""
from __future__ import annotations

import math

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model, Symmetry

__all__ = ["CUSP", "BAUTIN", "AB_REACTOR", "PREDATOR_PREY", "ENZYME", "Z2_CYCLES", "TORUS_OSCILLATOR"]


# ----------------------------------------------------------------------------- cusp
@njit
def cusp_rhs(y, p, out):
    out[0] = p[0] + p[1] * y[0] - y[0] ** 3
    return 0


@njit
def cusp_jac(y, p, out):
    out[0, 0] = p[1] - 3.0 * y[0] * y[0]
    return 0


CUSP = Model(name="cusp", state_names=("x",), param_names=("a", "b"), defaults={"a": 0.0, "b": 1.0},
             rhs=cusp_rhs, jac=cusp_jac, geometry=Euclidean(1), module=__name__, attr="CUSP",
             description="cusp normal form dx = a + b x - x^3")


# ----------------------------------------------------------------------------- Bautin
@njit
def bautin_rhs(y, p, out):
    b1, b2 = p[0], p[1]
    r2 = y[0] * y[0] + y[1] * y[1]
    g = b1 + b2 * r2 - r2 * r2
    out[0] = g * y[0] - y[1]
    out[1] = y[0] + g * y[1]
    return 0


@njit
def bautin_jac(y, p, out):
    b1, b2 = p[0], p[1]
    r2 = y[0] * y[0] + y[1] * y[1]
    g = b1 + b2 * r2 - r2 * r2
    dg = b2 - 2.0 * r2  # d g / d r2
    out[0, 0] = g + 2.0 * y[0] * y[0] * dg
    out[0, 1] = 2.0 * y[0] * y[1] * dg - 1.0
    out[1, 0] = 1.0 + 2.0 * y[0] * y[1] * dg
    out[1, 1] = g + 2.0 * y[1] * y[1] * dg
    return 0


BAUTIN = Model(name="bautin", state_names=("x", "y"), param_names=("beta1", "beta2"),
               defaults={"beta1": 0.0, "beta2": 1.0}, rhs=bautin_rhs, jac=bautin_jac, geometry=Euclidean(2),
               module=__name__, attr="BAUTIN", description="generalised Hopf (Bautin) normal form")


# ----------------------------------------------------------------------------- A -> B reactor
@njit
def ab_rhs(y, p, out):
    D, B, beta = p[0], p[1], p[2]
    e = math.exp(y[1])
    out[0] = -y[0] + D * (1.0 - y[0]) * e
    out[1] = -y[1] + D * B * (1.0 - y[0]) * e - beta * y[1]
    return 0


@njit
def ab_jac(y, p, out):
    D, B, beta = p[0], p[1], p[2]
    e = math.exp(y[1])
    out[0, 0] = -1.0 - D * e
    out[0, 1] = D * (1.0 - y[0]) * e
    out[1, 0] = -D * B * e
    out[1, 1] = -1.0 + D * B * (1.0 - y[0]) * e - beta
    return 0


AB_REACTOR = Model(name="ab_reactor", state_names=("u1", "u2"), param_names=("D", "B", "beta"),
                   defaults={"D": 0.0, "B": 8.0, "beta": 3.0}, rhs=ab_rhs, jac=ab_jac, geometry=Euclidean(2),
                   module=__name__, attr="AB_REACTOR", description="A -> B reaction in a CSTR (AUTO demo ab)")


# ----------------------------------------------------------------------------- predator-prey
@njit
def pp_rhs(y, p, out):
    e = math.exp(-p[2] * y[0])
    out[0] = p[1] * y[0] * (1.0 - y[0]) - y[0] * y[1] - p[0] * (1.0 - e)
    out[1] = -y[1] + p[3] * y[0] * y[1]
    return 0


@njit
def pp_jac(y, p, out):
    e = math.exp(-p[2] * y[0])
    out[0, 0] = p[1] * (1.0 - 2.0 * y[0]) - y[1] - p[0] * p[2] * e
    out[0, 1] = -y[0]
    out[1, 0] = p[3] * y[1]
    out[1, 1] = -1.0 + p[3] * y[0]
    return 0


PREDATOR_PREY = Model(name="predator_prey", state_names=("u1", "u2"), param_names=("p1", "p2", "p3", "p4"),
                      defaults={"p1": 0.0, "p2": 3.0, "p3": 5.0, "p4": 3.0}, rhs=pp_rhs, jac=pp_jac,
                      geometry=Euclidean(2), module=__name__, attr="PREDATOR_PREY",
                      description="predator-prey with harvesting (AUTO demo pp2)")


# ----------------------------------------------------------------------------- enzyme
@njit
def enz_rhs(y, p, out):
    s0, rm, rh, rk = p[0], p[1], p[2], p[3]
    r1 = y[0] / (1.0 + y[0] + rk * y[0] * y[0])
    r2 = y[1] / (1.0 + y[1] + rk * y[1] * y[1])
    out[0] = (s0 - y[0]) + (y[1] - y[0]) - rh * r1
    out[1] = (s0 + rm - y[1]) + (y[0] - y[1]) - rh * r2
    return 0


@njit
def enz_jac(y, p, out):
    rh, rk = p[2], p[3]
    d1 = 1.0 + y[0] + rk * y[0] * y[0]
    d2 = 1.0 + y[1] + rk * y[1] * y[1]
    dr1 = (1.0 - rk * y[0] * y[0]) / (d1 * d1)
    dr2 = (1.0 - rk * y[1] * y[1]) / (d2 * d2)
    out[0, 0] = -2.0 - rh * dr1
    out[0, 1] = 1.0
    out[1, 0] = 1.0
    out[1, 1] = -2.0 - rh * dr2
    return 0


ENZYME = Model(name="enzyme", state_names=("s1", "s2"), param_names=("s0", "rm", "rh", "rk"),
               defaults={"s0": 0.0, "rm": 0.0, "rh": 100.0, "rk": 1.0}, rhs=enz_rhs, jac=enz_jac,
               geometry=Euclidean(2), module=__name__, attr="ENZYME",
               symmetries=(Symmetry("Z2", np.array([[0.0, 1.0], [1.0, 0.0]])),),
               description="two-cell one-substrate enzyme model (AUTO demo enz); Z2 (s1 <-> s2) at rm = 0")


# ----------------------------------------------------------------------------- Z2 cycles
@njit
def z2c_rhs(y, p, out):
    mu = p[0]
    r2 = y[0] * y[0] + y[1] * y[1]
    out[0] = (1.0 - r2) * y[0] - y[1]
    out[1] = y[0] + (1.0 - r2) * y[1]
    out[2] = (mu - r2) * y[2] - y[2] ** 3
    return 0


@njit
def z2c_jac(y, p, out):
    mu = p[0]
    r2 = y[0] * y[0] + y[1] * y[1]
    out[0, 0] = 1.0 - r2 - 2.0 * y[0] * y[0]
    out[0, 1] = -2.0 * y[0] * y[1] - 1.0
    out[0, 2] = 0.0
    out[1, 0] = 1.0 - 2.0 * y[0] * y[1]
    out[1, 1] = 1.0 - r2 - 2.0 * y[1] * y[1]
    out[1, 2] = 0.0
    out[2, 0] = -2.0 * y[0] * y[2]
    out[2, 1] = -2.0 * y[1] * y[2]
    out[2, 2] = mu - r2 - 3.0 * y[2] * y[2]
    return 0


Z2_CYCLES = Model(name="z2_cycles", state_names=("x", "y", "w"), param_names=("mu",), defaults={"mu": 0.0},
                  rhs=z2c_rhs, jac=z2c_jac, geometry=Euclidean(3), module=__name__, attr="Z2_CYCLES",
                  symmetries=(Symmetry("Z2", np.diag([1.0, 1.0, -1.0])),),
                  description="the cycle |z| = 1, w = 0 (period 2 pi) has a pitchfork of cycles (BPC) at mu = 1: "
                              "for mu > 1 the cycles w = +-sqrt(mu - 1) branch off (multiplier exp(2 pi (mu - 1)))")


# ----------------------------------------------------------------------------- electronic oscillator
@njit
def tor_rhs(y, p, out):
    rn, be, ga, r, a3, b3 = p[0], p[1], p[2], p[3], p[4], p[5]
    d = y[1] - y[0]
    out[0] = (-(be + rn) * y[0] + be * y[1] - a3 * y[0] ** 3 + b3 * d ** 3) / r
    out[1] = be * y[0] - (be + ga) * y[1] - y[2] - b3 * d ** 3
    out[2] = y[1]
    return 0


@njit
def tor_jac(y, p, out):
    rn, be, ga, r, a3, b3 = p[0], p[1], p[2], p[3], p[4], p[5]
    d2 = 3.0 * b3 * (y[1] - y[0]) ** 2
    out[0, 0] = (-(be + rn) - 3.0 * a3 * y[0] ** 2 - d2) / r
    out[0, 1] = (be + d2) / r
    out[0, 2] = 0.0
    out[1, 0] = be + d2
    out[1, 1] = -(be + ga) - d2
    out[1, 2] = -1.0
    out[2, 0] = 0.0
    out[2, 1] = 1.0
    out[2, 2] = 0.0
    return 0


TORUS_OSCILLATOR = Model(name="torus_oscillator", state_names=("x", "y", "z"),
                         param_names=("rn", "be", "ga", "r", "a3", "b3"),
                         defaults={"rn": -0.9, "be": 0.5, "ga": -0.6, "r": 0.6, "a3": 0.328578, "b3": 0.933578},
                         rhs=tor_rhs, jac=tor_jac, geometry=Euclidean(3), module=__name__, attr="TORUS_OSCILLATOR",
                         description="electronic oscillator with a torus bifurcation (AUTO demo tor; Freire, "
                                     "Rodriguez-Luis, Gamero and Ponce 1993)")
