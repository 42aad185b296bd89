"""Product-free Floquet multipliers (periodic pencil, as AUTO's FLOWKM) against closed forms, a stiff
cycle where the monodromy product loses the small multiplier, and the product method on the
flagship where that one is accurate.

Closed forms: Stuart-Landau (Hopf normal form) r' = r (a - r^2), theta' = 1: cycle r = sqrt(a),
T = 2 pi, nontrivial multiplier exp(-2 a T). Linear block u' = G u (constant G): the collocation
transfer over an interval of length h is the (m, m) diagonal Pade approximant R_m(h G) of
exp(h G) (Gauss collocation is the m-stage Gauss Runge-Kutta method), so its discrete
multipliers are R_m(h lambda)^K exactly.
"""
from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from bifurcate.cycles import continue_cycles
from bifurcate.cycles.collocation import Collocation
from bifurcate.cycles.floquet import (FLOQUET_STATUS, cycle_floquet, floquet_condensed, floquet_multipliers,
                                      transfer_blocks)
from bifurcate.model import Euclidean, Model
from bifurcate.models import LMG_DIMER, STUART_LANDAU

T_SL = 2.0 * np.pi


def pade(x: float, m: int) -> float:
    """Diagonal (m, m) Pade approximant of exp(x): the stability function of m-point Gauss collocation."""
    P = lambda s: sum(factorial(2 * m - k) * factorial(m) / (factorial(2 * m) * factorial(k) * factorial(m - k))  # noqa: E731
                      * s ** k for k in range(m + 1))
    return P(x) / P(-x)


def stiff_model(theta: float = 0.7, k: float = 3.0) -> Model:
    """Stuart-Landau in (x, y) (omega = 1) plus a decoupled non-normal linear block in (z, w) with
    eigenvalues b and -c, rotated by theta (so the block is not triangular in the coordinates)."""
    Rm = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])

    def G(p):
        return Rm @ np.array([[p[1], k], [0.0, -p[2]]]) @ Rm.T

    def rhs(y, p, out):
        a, x, v = p[0], y[0], y[1]
        r2 = x * x + v * v
        out[0] = a * x - v - r2 * x
        out[1] = x + a * v - r2 * v
        out[2:] = G(p) @ y[2:]
        return 0

    def jac(y, p, out):
        a, x, v = p[0], y[0], y[1]
        r2 = x * x + v * v
        out[:] = 0.0
        out[0, 0], out[0, 1] = a - r2 - 2 * x * x, -1.0 - 2 * x * v
        out[1, 0], out[1, 1] = 1.0 - 2 * x * v, a - r2 - 2 * v * v
        out[2:, 2:] = G(p)
        return 0

    return Model(name="test_floquet_stiff4", state_names=("x", "y", "z", "w"), param_names=("a", "b", "c"),
                 defaults={"a": 0.5, "b": 1.0, "c": 1.0}, rhs=rhs, jac=jac, geometry=Euclidean(4),
                 module=__name__, attr="stiff_model")


def converged_circle(model, p, ntst, m, a):
    """The cycle r = sqrt(a), T = 2 pi corrected by Newton at fixed parameter (numpy kernels)."""
    coll = Collocation(model, p, 0, np.linspace(0.0, 1.0, ntst + 1), m, use_numba=False)
    t = coll.times()
    U = np.zeros((coll.N, model.n))
    U[:, 0], U[:, 1] = np.sqrt(a) * np.cos(2 * np.pi * t), np.sqrt(a) * np.sin(2 * np.pi * t)
    X0 = coll.pack(U, T_SL, a)
    X, ok, _, B = coll.newton(X0, coll.phase_row(U), None, X0, 0.0, 1e-13, 20, fixed_param=True)
    assert ok
    return coll, X, B


def test_stuart_landau_closed_form():
    a = 0.5
    p = STUART_LANDAU.pack_params({"mu": a, "omega": 1.0, "beta": 0.0})
    coll, X, B = converged_circle(STUART_LANDAU, p, 40, 4, a)
    fl = cycle_floquet(coll, X, B)
    assert fl.method == "pencil" and fl.success and fl.status == 0 and fl.message == FLOQUET_STATUS[0]
    assert abs(fl.trivial - 1.0) < 1e-12 and fl.trivial_error < 1e-12
    exact = np.exp(-2 * a * X[-2])
    assert fl.multipliers.shape == (1,)
    assert abs(fl.multipliers[0] - exact) < 1e-10 and abs(fl.multipliers[0] / exact - 1) < 1e-8
    assert fl.n_unstable == 0 and fl.radial.size == 0 and fl.M is None


def test_stiff_cycle_keeps_the_small_multiplier():
    """Multipliers 1e6, exp(-2 a T), 1e-12 of a non-normal block: the monodromy product's rounding
    (eps * 1e6 * |k|) swamps 1e-12; the pencil keeps it to a few 1e-5."""
    model = stiff_model()
    a, b, c = 0.5, np.log(1e6) / T_SL, np.log(1e12) / T_SL
    p = np.array([a, b, c])
    ntst, m = 40, 4
    coll, X, B = converged_circle(model, p, ntst, m, a)
    h = X[-2] / ntst
    ref = np.array([pade(b * h, m) ** ntst, np.exp(-2 * a * X[-2]), pade(-c * h, m) ** ntst])
    fl = cycle_floquet(coll, X, B)
    assert fl.success and fl.trivial_error < 1e-12
    mu = fl.multipliers
    assert np.all(np.abs(mu.imag) < 1e-12 * np.abs(mu))
    rel = np.abs(mu.real / ref - 1.0)
    assert rel[0] < 1e-8 and rel[1] < 1e-9
    assert rel[2] < 1e-3, rel  # 1e-12 next to 1e6 and a non-normal coupling
    assert fl.n_unstable == 1 and abs(fl.log_moduli[2] - np.log(ref[2])) < 1e-3
    # the product method (the reference of the old code) has lost it completely
    f0 = np.empty(4)
    model.rhs(coll.split(X)[0][0], p, f0)
    prod = floquet_multipliers(transfer_blocks(B), np.stack([np.eye(4)] * ntst), f0)
    assert abs(prod.multipliers[2].real / ref[2] - 1.0) > 0.5
    np.testing.assert_allclose(prod.multipliers[:2].real, ref[:2], rtol=1e-8)  # the large ones agree


@pytest.mark.parametrize("bT", [30.0, 300.0, 800.0])
def test_huge_multipliers_resolved(bT):
    """Strongly unstable cycles (mu = e^30 .. e^800, the last one beyond double precision): log
    moduli to rounding, no floating-point error; the small multipliers still from the pencil."""
    model = stiff_model(k=1.0)
    a, b, c = 0.5, bT / T_SL, np.log(1e10) / T_SL
    p = np.array([a, b, c])
    ntst, m = 80, 4
    coll, X, B = converged_circle(model, p, ntst, m, a)
    with np.errstate(over="ignore"):
        fl = cycle_floquet(coll, X, B)
    h = X[-2] / ntst
    assert abs(fl.log_moduli[0] - ntst * np.log(pade(b * h, m))) < 1e-10 * bT
    assert abs(fl.multipliers[1] / np.exp(-2 * a * X[-2]) - 1) < 1e-8
    assert abs(fl.multipliers[2] / pade(-c * h, m) ** ntst - 1) < 1e-4
    assert fl.n_unstable == 1 and fl.trivial_error < 1e-10


def sphere_model(kappa: float, alpha: float = 0.3, omega: float = 1.0) -> Model:
    """On S^2 in R^3: rotation about e_z, attraction alpha to the equator (tangent), and a radial
    term kappa (|y|^2 - 1) y that vanishes on the sphere. The equator (T = 2 pi / omega) has the
    tangent multipliers 1, exp(-alpha T) and the radial one exp(2 kappa T)."""
    from bifurcate.model import SphereProduct

    def rhs(y, p, out):
        s = y[0] ** 2 + y[1] ** 2 + y[2] ** 2
        z = y[2]
        out[0] = -omega * y[1] + alpha * z * z * y[0] + kappa * (s - 1) * y[0]
        out[1] = omega * y[0] + alpha * z * z * y[1] + kappa * (s - 1) * y[1]
        out[2] = -alpha * z + alpha * z * z * z + kappa * (s - 1) * z
        return 0

    def jac(y, p, out):
        s = y[0] ** 2 + y[1] ** 2 + y[2] ** 2
        z = y[2]
        for i in range(3):
            for j in range(3):
                out[i, j] = 2 * kappa * y[i] * y[j] + (alpha * z * z + kappa * (s - 1)) * (i == j)
            out[i, 2] += 2 * alpha * z * y[i]
        out[0, 1] -= omega
        out[1, 0] += omega
        out[2, 2] -= alpha
        return 0

    return Model(name=f"test_floquet_sphere_{kappa}", state_names=("X", "Y", "Z"), param_names=("k",),
                 defaults={"k": kappa}, rhs=rhs, jac=jac, geometry=SphereProduct([[0, 1, 2]]), module=__name__,
                 attr="sphere_model")


@pytest.mark.parametrize("kappa", [-0.5, 0.2])
def test_radial_multiplier_closed_form_and_check(kappa):
    model = sphere_model(kappa)
    p = np.array([kappa])
    coll = Collocation(model, p, 0, np.linspace(0.0, 1.0, 41), 4, use_numba=False)
    t = coll.times()
    U = np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t), np.zeros_like(t)], axis=1)
    X0 = coll.pack(U, T_SL, kappa)
    X, ok, _, B = coll.newton(X0, coll.phase_row(U), None, X0, 0.0, 1e-13, 20, fixed_param=True)
    assert ok and abs(X[-2] - T_SL) < 1e-10
    fl = cycle_floquet(coll, X, B)
    assert fl.trivial_error < 1e-10 and fl.multipliers.shape == (1,) and fl.radial.shape == (1,)
    assert abs(fl.multipliers[0] / np.exp(-0.3 * T_SL) - 1) < 1e-9
    assert abs(fl.radial[0] / np.exp(2 * kappa * T_SL) - 1) < 1e-8
    if kappa < 0:  # attracting sphere: the exclusion of the radial multiplier is justified
        assert fl.status == 0 and fl.radial_mismatch < 1e-10
    else:  # repelling sphere: said so
        assert fl.status == -2 and "radial" in fl.message


def product_floquet(coll, X, B):
    """The monodromy-product method on the tangent spaces (the reference where it is accurate)."""
    U = coll.split(X)[0]
    bases = np.stack([coll.model.geometry.tangent_basis(x) for x in U[::coll.m]])
    f0 = np.empty(coll.n)
    coll.model.rhs(np.ascontiguousarray(U[0]), coll.params_of(X), f0)
    return floquet_multipliers(transfer_blocks(B), bases, f0)


@pytest.fixture(scope="module")
def flagship_branch():
    from studies.benchmarks.bench_cycles import broken_hopf

    yh, lh, om = broken_hopf(1.0)
    # period_weight=1: the stretch this comparison was written for (Hopf point to period ~ 6, where
    # the product method, the reference, is accurate to 1e-10); with the default norm (no weight on
    # the period, as AUTO) 40 steps of 0.04 go on to longer periods where it is not
    br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om), ntst=60, ncol=4, max_points=40,
                         ds=0.04, ds_max=0.04, period_weight=1.0)
    assert br.success and len(br) == 40
    return br


def test_agrees_with_product_method_on_the_flagship(flagship_branch):
    br = flagship_branch
    ip = LMG_DIMER.param_index("lam")
    checked = 0
    for i in range(0, len(br), 6):
        p = LMG_DIMER.pack_params({**br.params, "lam": br.param_values[i]})
        coll = Collocation(LMG_DIMER, p, ip, br.meshes[i], 4)
        X = coll.pack(br.orbits[i][1], br.columns["period"][i], br.param_values[i])
        B = coll.evaluate(X)[1]
        old, new = product_floquet(coll, X, B), cycle_floquet(coll, X, B)
        assert new.success, new.message
        assert old.trivial_error < 1e-10  # the product method is accurate here: the reference
        assert abs(new.trivial - old.trivial) < 1e-10
        # same multipliers (complex pairs in either order): match by nearest
        for mu in old.multipliers:
            assert np.min(np.abs(new.multipliers - mu)) < 1e-9 * max(1.0, abs(mu))
        assert new.n_unstable == old.n_unstable
        # S^2 x S^2 in R^6: two radial multipliers, excluded, inside the unit circle, checked
        assert new.radial.size == 2 and np.all(np.abs(new.radial) < 1e-3)
        assert new.radial_mismatch < 1e-8
        v_old, v_new = old.eigenvector(old.multipliers[0]), new.eigenvector(new.multipliers[0])
        if abs(old.multipliers[0].imag) == 0:
            assert abs(abs(np.vdot(v_old, v_new)) - 1.0) < 1e-8
        checked += 1
    assert checked >= 6


def test_status_when_accuracy_is_lost():
    """An orbit that is not a solution: the trivial multiplier drifts off 1 -> status -1."""
    a = 0.5
    p = STUART_LANDAU.pack_params({"mu": a, "omega": 1.0, "beta": 0.0})
    coll, X, _ = converged_circle(STUART_LANDAU, p, 20, 3, a)
    Y = X.copy()
    Y[-2] *= 1.3  # wrong period: the discrete flow no longer closes up
    fl = cycle_floquet(coll, Y)
    assert fl.status == -1 and not fl.success and "trivial" in fl.message
    assert fl.trivial_error > 1e-4
    strict = cycle_floquet(coll, X, tol=1e-20)
    assert strict.status == -1 and "1e-20" in strict.message


def test_bad_input():
    with pytest.raises(ValueError, match="bases"):
        floquet_condensed(np.zeros((3, 2, 2, 3, 2)), np.zeros((2, 2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="equilibrium"):
        rng = np.random.default_rng(0)
        floquet_condensed(rng.normal(size=(3, 2, 2, 3, 2)), np.stack([np.eye(2)] * 3), np.zeros(2))
