"""Periodic normal forms of cycle bifurcations (bifurcate.cycles.normal_forms) against closed forms.

Three systems whose cycle is the unit circle x0(tau) = (cos w tau, sin w tau, ...), period
T = 2 pi / w, and whose transverse dynamics is known in closed form:

* ``MOBIUS`` (3-D): a real transverse variable ``a`` on a Moebius band (the normal plane of the
  circle rotated by half the phase), ``a' = (mu + c a^2 + e a^4) a``, ``b' = -lam b``; in Cartesian
  coordinates. Multiplier ``-exp(mu T)``: PD at mu = 0; on the centre manifold ``a = xi / sqrt(T)``
  for the normalised eigenfunction, so the PD coefficient is exactly ``c / T`` (GPD at c = 0).
* ``SHEARED_TORUS`` (4-D): a complex transverse ``Z' = (mu + i (nu + beta x1)) Z + c |Z|^2 Z + e |Z|^4 Z``
  (a rotation rate that varies along the cycle), observed through the near-identity shear
  ``p = Re Z + gamma (1 + x1) (Im Z)^2``, ``q = Im Z`` (quadratic terms that the normalisation must
  cancel). Multipliers ``exp((mu +- i nu) T)``: NS at mu = 0; ``Z = sqrt(2 / T) xi`` up to a unitary
  phase, so ``Re d = 2 Re(c) / T`` exactly (Chenciner at Re c = 0).
* ``FOLD`` (3-D): ``theta' = w + kappa y + sigma y^2``, ``y' = mu + a1 y + b0 y^2 + e3 y^3 + g (r^2 - 1) y``:
  with a1 = e3 = 0 folds of cycles at mu = 0, generalised eigenfunction ``v = -(w / kappa) e_y``,
  fold coefficient ``b = -b0 w / kappa``; with b0 = 0, e3 = 1 folds at ``y_f^2 = -a1 / 3`` (an LPC
  curve ``(mu, a1) = (2 y_f^3, -3 y_f^2)``) with ``b = -3 y_f w_f / (kappa + 2 sigma y_f)``, ``w_f`` the
  fold cycle's angular frequency, and a cusp of cycles at
  (mu, a1) = (0, 0).

Jacobians are complex-step derivatives of the fields (exact to rounding); the second and third
derivatives inside the normal forms are then the module's finite differences of the Jacobian.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from bifurcate._numba import njit
from bifurcate.cycles.normal_forms import cycle_normal_form
from bifurcate.model import Euclidean, Model

H_CS = 1e-30  # complex step


@njit
def _mobius(x1, x2, x3, p):
    mu, c, e, lam, om = p[0], p[1], p[2], p[3], p[4]
    r = (x1 * x1 + x2 * x2) ** 0.5
    co = x1 / r
    si = x2 / r
    rho = r - 1.0
    z = x3
    cha = 0.5 * (1.0 + co) * rho + 0.5 * si * z
    sha = 0.5 * si * rho + 0.5 * (1.0 - co) * z
    chb = -0.5 * si * rho + 0.5 * (1.0 + co) * z
    shb = -0.5 * (1.0 - co) * rho + 0.5 * si * z
    a2 = 0.5 * (1.0 + co) * rho * rho + si * rho * z + 0.5 * (1.0 - co) * z * z
    g = mu + c * a2 + e * a2 * a2
    drho = g * cha + lam * shb - 0.5 * om * (sha + chb)
    dz = g * sha - lam * chb + 0.5 * om * (cha - shb)
    return drho * co - om * x2, drho * si + om * x1, dz


@njit
def mobius_rhs(y, p, out):
    a, b, c = _mobius(y[0], y[1], y[2], p)
    out[0], out[1], out[2] = a, b, c
    return 0


@njit
def mobius_jac(y, p, out):
    for j in range(3):
        z = [complex(y[0]), complex(y[1]), complex(y[2])]
        z[j] += 1j * H_CS
        a, b, c = _mobius(z[0], z[1], z[2], p)
        out[0, j], out[1, j], out[2, j] = a.imag / H_CS, b.imag / H_CS, c.imag / H_CS
    return 0


MOBIUS = Model(name="mobius_pd", state_names=("x1", "x2", "x3"), param_names=("mu", "c", "e", "lam", "omega"),
               defaults={"mu": 0.0, "c": -1.0, "e": 1.0, "lam": 1.0, "omega": 1.0}, rhs=mobius_rhs, jac=mobius_jac,
               geometry=Euclidean(3), module=__name__, attr="MOBIUS")


@njit
def _torus(x1, x2, p3, q, p):
    mu, nu, cr, ci, er, ei, be, ga, om = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
    r2 = x1 * x1 + x2 * x2
    dx1 = x1 * (1.0 - r2) - om * x2
    dx2 = x2 * (1.0 - r2) + om * x1
    Z2 = q
    Z1 = p3 - ga * (1.0 + x1) * q * q
    ZZ = Z1 * Z1 + Z2 * Z2
    gr = mu + cr * ZZ + er * ZZ * ZZ
    gi = nu + be * x1 + ci * ZZ + ei * ZZ * ZZ
    dZ1 = gr * Z1 - gi * Z2
    dZ2 = gi * Z1 + gr * Z2
    return dx1, dx2, dZ1 + ga * dx1 * Z2 * Z2 + 2.0 * ga * (1.0 + x1) * Z2 * dZ2, dZ2


@njit
def torus_rhs(y, p, out):
    a, b, c, d = _torus(y[0], y[1], y[2], y[3], p)
    out[0], out[1], out[2], out[3] = a, b, c, d
    return 0


@njit
def torus_jac(y, p, out):
    for j in range(4):
        z = [complex(y[0]), complex(y[1]), complex(y[2]), complex(y[3])]
        z[j] += 1j * H_CS
        a, b, c, d = _torus(z[0], z[1], z[2], z[3], p)
        out[0, j], out[1, j], out[2, j], out[3, j] = a.imag / H_CS, b.imag / H_CS, c.imag / H_CS, d.imag / H_CS
    return 0


SHEARED_TORUS = Model(name="torus_ns", state_names=("x1", "x2", "p", "q"),
              param_names=("mu", "nu", "cr", "ci", "er", "ei", "beta", "gamma", "omega"),
              defaults={"mu": 0.0, "nu": 0.37, "cr": -1.0, "ci": 0.3, "er": 1.0, "ei": 0.0, "beta": 0.4,
                        "gamma": 0.8, "omega": 1.0},
              rhs=torus_rhs, jac=torus_jac, geometry=Euclidean(4), module=__name__, attr="SHEARED_TORUS")


@njit
def _fold(x1, x2, y, p):
    mu, b0, ka, om, sg, g, a1, e3 = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    r2 = x1 * x1 + x2 * x2
    w = om + ka * y + sg * y * y
    return (x1 * (1.0 - r2) - w * x2, x2 * (1.0 - r2) + w * x1,
            mu + a1 * y + b0 * y * y + e3 * y * y * y + g * (r2 - 1.0) * y)


@njit
def fold_rhs(y, p, out):
    a, b, c = _fold(y[0], y[1], y[2], p)
    out[0], out[1], out[2] = a, b, c
    return 0


@njit
def fold_jac(y, p, out):
    for j in range(3):
        z = [complex(y[0]), complex(y[1]), complex(y[2])]
        z[j] += 1j * H_CS
        a, b, c = _fold(z[0], z[1], z[2], p)
        out[0, j], out[1, j], out[2, j] = a.imag / H_CS, b.imag / H_CS, c.imag / H_CS
    return 0


FOLD = Model(name="fold_lpc", state_names=("x1", "x2", "y"),
             param_names=("mu", "b0", "kappa", "omega", "sigma", "g", "a1", "e3"),
             defaults={"mu": 0.0, "b0": 1.0, "kappa": 0.5, "omega": 1.0, "sigma": 0.3, "g": 0.7, "a1": 0.0,
                       "e3": 0.0},
             rhs=fold_rhs, jac=fold_jac, geometry=Euclidean(3), module=__name__, attr="FOLD")


def circle_orbit(model, ntst=40, ncol=4, omega=1.0):
    """The unit circle on a uniform mesh (node values), its mesh and period."""
    mesh = np.linspace(0.0, 1.0, ntst + 1)
    xi = np.linspace(0.0, 1.0, ncol + 1)[:-1]
    s = (mesh[:-1, None] + np.diff(mesh)[:, None] * xi[None, :]).ravel()
    U = np.zeros((s.size, model.n))
    U[:, 0], U[:, 1] = np.cos(2 * np.pi * s), np.sin(2 * np.pi * s)
    return U, mesh, 2 * np.pi / omega


# ------------------------------------------------------------------------------------------
# the coefficients on the exact cycles
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [-1.3, 0.7])
def test_pd_coefficient_closed_form(c):
    prm = MOBIUS.params(c=c, e=0.4, lam=1.5, omega=1.0)
    U, mesh, T = circle_orbit(MOBIUS)
    nf = cycle_normal_form(MOBIUS, "PD", U, T, prm, mesh, 4)
    assert nf.success, nf.message
    assert nf.method == "finite differences"
    assert nf.coefficient == pytest.approx(c / T, rel=1e-6)
    assert nf.criticality == ("supercritical" if c < 0 else "subcritical")
    assert abs(nf.alpha) < 1e-6  # theta' = omega exactly: no period correction


@pytest.mark.parametrize("cr", [-0.8, 0.45])
def test_ns_coefficient_closed_form(cr):
    prm = SHEARED_TORUS.params(cr=cr)
    U, mesh, T = circle_orbit(SHEARED_TORUS)
    theta = (prm["nu"] * T) % (2 * np.pi)
    theta = theta if theta < np.pi else 2 * np.pi - theta
    nf = cycle_normal_form(SHEARED_TORUS, "NS", U, T, prm, mesh, 4, theta=theta)
    assert nf.success, nf.message
    assert nf.coefficient == pytest.approx(2 * cr / T, rel=1e-6)
    assert nf.criticality == ("supercritical" if cr < 0 else "subcritical")


def test_lpc_coefficient_closed_form():
    prm = FOLD.params(b0=1.3, kappa=0.5, omega=1.0)
    U, mesh, T = circle_orbit(FOLD)
    nf = cycle_normal_form(FOLD, "LPC", U, T, prm, mesh, 4)
    assert nf.success, nf.message
    assert nf.coefficient == pytest.approx(-1.3 * 1.0 / 0.5, rel=1e-6)
    assert nf.criticality == "nondegenerate"


# ------------------------------------------------------------------------------------------
# on branches and curves: the coefficient on located points, GPD, CH and the touching R2
# ------------------------------------------------------------------------------------------
def _branch(model, **prm):
    from bifurcate.cycles import continue_cycles

    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.zeros((t.size, model.n))
    y[:, 0], y[:, 1] = np.cos(t), np.sin(t)
    return continue_cycles(model, (t, y), param="mu", params=model.params(mu=-0.3, **prm), ntst=30,
                           max_points=60, p_max=0.3)


def _branch_opts(model, options, **prm):
    from bifurcate.cycles import continue_cycles

    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.zeros((t.size, model.n))
    y[:, 0], y[:, 1] = np.cos(t), np.sin(t)
    return continue_cycles(model, (t, y), param="mu", params=model.params(mu=-0.3, **prm), options=options)


def test_normal_forms_can_be_left_out_and_the_option_is_checked():
    from bifurcate.cycles import CycleOptions

    opts = CycleOptions(ntst=30, max_points=60, p_max=0.3, normal_forms=False)
    (pd,) = _branch_opts(MOBIUS, opts, c=-1.3, e=0.4, lam=1.5).special("PD")
    assert abs(pd.param) < 1e-8  # still located
    assert "nf_coefficient" not in pd.data and "criticality" not in pd.data
    with pytest.raises(ValueError, match="normal_forms"):
        CycleOptions(normal_forms="yes")


@pytest.mark.parametrize("c", [-1.3, 0.7])
def test_pd_point_of_a_branch_carries_its_coefficient(c):
    br = _branch(MOBIUS, c=c, e=0.4, lam=1.5)
    (pd,) = br.special("PD")
    assert abs(pd.param) < 1e-8
    assert pd.data["nf_status"] == 0 and pd.data["nf_method"] == "finite differences"
    assert pd.data["nf_coefficient"] == pytest.approx(c / (2 * np.pi), rel=1e-6)
    assert pd.data["c"] == pd.data["nf_coefficient"]
    assert pd.data["criticality"] == ("supercritical" if c < 0 else "subcritical")


def test_gpd_on_the_pd_curve_at_the_closed_form():
    from bifurcate.cycles import continue_cycle_codim2

    pd = _branch(MOBIUS, c=-1.3, e=0.4, lam=1.5).special("PD")[0]
    cur = continue_cycle_codim2(MOBIUS, pd, "c", bounds={"c": (-1.5, 1.0)}, ds=0.05, ds_max=0.1, max_steps=80)
    assert cur.success, cur.message
    assert np.max(np.abs(cur.param_values)) < 1e-8  # the PD curve is mu = 0
    # the coefficient along the curve is c / T
    assert np.allclose(cur.columns["nf_coefficient"], cur.columns["c"] / (2 * np.pi), rtol=1e-6, atol=1e-9)
    found = [(q.kind, q.params["c"]) for q in cur.points]
    assert [k for k, _ in found] == ["GPD"], found
    assert abs(found[0][1]) < 1e-6 and cur.points[0].located


def test_ns_point_and_chenciner_on_the_ns_curve_at_the_closed_form():
    from bifurcate.cycles import continue_cycle_codim2

    br = _branch(SHEARED_TORUS, cr=-0.8)
    (ns,) = br.special("NS")
    assert ns.data["nf_coefficient"] == pytest.approx(2 * -0.8 / (2 * np.pi), rel=1e-6)
    assert ns.data["criticality"] == "supercritical"
    cur = continue_cycle_codim2(SHEARED_TORUS, ns, "cr", bounds={"cr": (-1.0, 0.5)}, ds=0.05, ds_max=0.1,
                                max_steps=80)
    assert cur.success, cur.message
    assert np.allclose(cur.columns["nf_coefficient"], 2 * cur.columns["cr"] / (2 * np.pi), rtol=1e-6, atol=1e-9)
    found = [(q.kind, q.params["cr"]) for q in cur.points]
    assert [k for k, _ in found] == ["CH"], found
    assert abs(found[0][1]) < 1e-6 and cur.points[0].located


def test_ns_curve_resonances_and_the_touching_r2():
    """theta = 2 pi nu (omega = 1): R3 at nu = 1/3 and, at nu = 1/2, the pair reaches -1 as a
    rotation by pi (semisimple) and returns along the circle: kappa = cos(2 pi nu) touches -1."""
    from bifurcate.cycles import continue_cycle_codim2

    ns = _branch(SHEARED_TORUS, cr=-0.8).special("NS")[0]
    cur = continue_cycle_codim2(SHEARED_TORUS, ns, "nu", bounds={"nu": (0.3, 0.56)}, ds=0.02, ds_max=0.05,
                                max_steps=60)
    assert cur.success, cur.message
    assert np.min(cur.columns["kappa"]) >= -1.0 - 1e-9 and np.max(cur.columns["nu"]) > 0.55
    found = [(q.kind, q.params["nu"], q.data.get("case")) for q in cur.points]
    assert [k for k, _, _ in found] == ["R3", "R2"], found
    assert abs(found[0][1] - 1 / 3) < 1e-6
    assert abs(found[1][1] - 0.5) < 1e-6 and found[1][2] == "touching"


@njit
def _flipns(x1, x2, x3, p):
    m, k, om = p[0], p[1], p[2]
    r = (x1 * x1 + x2 * x2) ** 0.5
    co = x1 / r
    si = x2 / r
    rho = r - 1.0
    z = x3
    cha = 0.5 * (1.0 + co) * rho + 0.5 * si * z
    sha = 0.5 * si * rho + 0.5 * (1.0 - co) * z
    chb = -0.5 * si * rho + 0.5 * (1.0 + co) * z
    shb = -0.5 * (1.0 - co) * rho + 0.5 * si * z
    g = m - (rho * rho + z * z)
    drho = g * rho - chb - k * sha - 0.5 * om * (sha + chb)
    dz = g * z - shb + k * cha + 0.5 * om * (cha - shb)
    return drho * co - om * x2, drho * si + om * x1, dz


@njit
def flipns_rhs(y, p, out):
    a, b, c = _flipns(y[0], y[1], y[2], p)
    out[0], out[1], out[2] = a, b, c
    return 0


@njit
def flipns_jac(y, p, out):
    for j in range(3):
        z = [complex(y[0]), complex(y[1]), complex(y[2])]
        z[j] += 1j * H_CS
        a, b, c = _flipns(z[0], z[1], z[2], p)
        out[0, j], out[1, j], out[2, j] = a.imag / H_CS, b.imag / H_CS, c.imag / H_CS
    return 0


#: the Moebius-band frame with the linear part [[m, -1], [k, m]] (and a cubic damping): multipliers
#: -exp((m +- sqrt(-k)) T): a torus bifurcation at m = 0 for k > 0 whose pair meets at -1 at k = 0
#: (a Jordan block: the generic 1:2 resonance) and leaves the circle as a real pair of product 1.
FLIP_NS = Model(name="flip_ns", state_names=("x1", "x2", "x3"), param_names=("m", "k", "omega"),
                defaults={"m": 0.0, "k": 0.1, "omega": 1.0}, rhs=flipns_rhs, jac=flipns_jac,
                geometry=Euclidean(3), module=__name__, attr="FLIP_NS")


@pytest.mark.slow
def test_ns_curve_generic_r2_where_the_pair_leaves_the_circle():
    from bifurcate.cycles import continue_cycle_codim2, continue_cycles

    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.c_[np.cos(t), np.sin(t), 0 * t]
    br = continue_cycles(FLIP_NS, (t, y), param="m", params=FLIP_NS.params(m=-0.3, k=0.05), ntst=20, max_points=60,
                         p_max=0.3)
    (ns,) = br.special("NS")
    assert abs(ns.param) < 1e-8
    cur = continue_cycle_codim2(FLIP_NS, ns, "k", bounds={"k": (-0.01, 0.07)}, ds=0.02, ds_max=0.03, max_steps=60)
    assert cur.success, cur.message
    # theta = pi - 2 pi sqrt(k): R4 at k = 1/16, R3 at k = 1/36, R2 at k = 0
    found = sorted((q.kind, q.params["k"]) for q in cur.points)
    assert [k for k, _ in found] == ["R2", "R3", "R4"], found
    assert abs(found[0][1]) < 1e-6 and abs(found[1][1] - 1 / 36) < 1e-6 and abs(found[2][1] - 1 / 16) < 1e-6
    r2 = cur.special("R2")
    assert r2[0].data["case"] == "crossing" and abs(r2[0].data["pair_product"] - 1.0) < 1e-6
    # beyond it the curve is a neutral saddle: kappa = -cosh(sqrt(-k) T) < -1, real pair of product 1
    beyond = cur.columns["k"] < -1e-3
    assert np.any(beyond)
    assert np.allclose(cur.columns["kappa"][beyond], -np.cosh(np.sqrt(-cur.columns["k"][beyond]) * 2 * np.pi),
                       rtol=1e-7)


def test_cusp_of_cycles_on_the_lpc_curve_carries_a_vanishing_fold_coefficient():
    from bifurcate.cycles import continue_cycle_codim2, continue_cycles

    t = np.linspace(0.0, 2 * np.pi, 201)
    y = np.c_[np.cos(t), np.sin(t), 0 * t]
    prm = FOLD.params(mu=0.0, b0=0.0, e3=1.0, a1=-0.3)
    br = continue_cycles(FOLD, (t, y), param="mu", params=prm, ntst=20, max_points=40, p_max=0.2)
    lpc = br.special("LPC")[0]
    yf = math.sqrt(0.1)
    assert abs(lpc.param - 2 * yf ** 3) < 1e-6
    # the fold's cycle turns at w_f = w + kappa y_f + sigma y_f^2, and d theta'/dy = kappa + 2 sigma y_f there
    w_f, k_f = 1.0 + 0.5 * yf + 0.3 * yf ** 2, 0.5 + 2 * 0.3 * yf
    assert lpc.data["nf_coefficient"] == pytest.approx(-3 * yf * w_f / k_f, rel=1e-6)
    cur = continue_cycle_codim2(FOLD, lpc, "a1", bounds={"a1": (-0.35, 0.1), "mu": (-0.1, 0.1)}, ds=0.02,
                                ds_max=0.05, max_steps=60)
    cpc = cur.special("CPC")
    assert len(cpc) == 1, [(q.kind, q.params) for q in cur.points]
    assert abs(cpc[0].params["a1"]) < 1e-6 and abs(cpc[0].param) < 1e-6
    assert abs(cpc[0].data["nf_coefficient"]) < 1e-6 * abs(cpc[0].data["nf_coefficient_start"])
    assert abs(cpc[0].data["velocity"]) < 1e-3  # the curve turns back in the parameter plane
    # b along the curve is -3 y_f w_f / (kappa + 2 sigma y_f) with y_f = sign(mu) sqrt(-a1 / 3)
    yfs = np.sign(cur.param_values) * np.sqrt(np.maximum(-cur.columns["a1"], 0) / 3)
    b_ref = -3 * yfs * (1.0 + 0.5 * yfs + 0.3 * yfs ** 2) / (0.5 + 0.6 * yfs)
    assert np.allclose(cur.columns["nf_coefficient"], b_ref, rtol=1e-5, atol=1e-6)


def test_bad_input_and_undecided_results():
    U, mesh, T = circle_orbit(MOBIUS)
    prm = MOBIUS.params()
    with pytest.raises(ValueError, match="kind"):
        cycle_normal_form(MOBIUS, "HB", U, T, prm, mesh, 4)
    with pytest.raises(ValueError, match="orbit"):
        cycle_normal_form(MOBIUS, "PD", U[:-1], T, prm, mesh, 4)
    with pytest.raises(ValueError, match="period"):
        cycle_normal_form(MOBIUS, "PD", U, -1.0, prm, mesh, 4)
    with pytest.raises(ValueError, match="derivatives"):
        cycle_normal_form(MOBIUS, "PD", U, T, prm, mesh, 4, derivatives="exact")
    with pytest.raises(TypeError, match="Model"):
        cycle_normal_form("mobius", "PD", U, T, prm, mesh, 4)
    # NS without a complex critical multiplier: undecided, with a status, never a guess
    nf = cycle_normal_form(MOBIUS, "NS", U, T, prm, mesh, 4, multipliers=[1.0, -1.0, 0.1])
    assert nf.status == -2 and nf.criticality == "undecided" and math.isnan(nf.coefficient)


def test_finite_difference_forms_match_the_symbolic_ones_on_the_flagship():
    """The second and third derivative forms by differences of the Jacobian against the
    specification's symbolic d2 / d3 kernels, at random points of S^2 x S^2 (complex arguments)."""
    from bifurcate.cycles.normal_forms import _Forms
    from bifurcate.models import LMG_DIMER

    rng = np.random.default_rng(7)
    p = LMG_DIMER.pack_params({"J": 1.0, "lam": 0.6})
    sym, fd = _Forms(LMG_DIMER, p, True), _Forms(LMG_DIMER, p, False)
    assert sym.method == "symbolic" and fd.method == "finite differences"
    for x in LMG_DIMER.random_states(5, seed=rng):
        u = rng.standard_normal(6) + 1j * rng.standard_normal(6)
        w = rng.standard_normal(6) + 1j * rng.standard_normal(6)
        J0 = sym.jac(x)
        # stated accuracy: ~1e-10 relative for B (central differences), ~1e-8 for C (second differences)
        for a, b, tol in ((fd.B(x, u, w), sym.B(x, u, w), 1e-10), (fd.Bmat(x, u) @ w, sym.Bmat(x, u) @ w, 1e-10),
                          (fd.C(x, J0, u, u, w), sym.C(x, J0, u, u, w), 5e-8),
                          (fd.C(x, J0, u, w, np.conj(u)), sym.C(x, J0, u, w, np.conj(u)), 5e-8)):
            assert np.max(np.abs(a - b)) < tol * np.max(np.abs(b)), (np.max(np.abs(a - b)), np.max(np.abs(b)))
