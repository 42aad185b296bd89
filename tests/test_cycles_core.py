"""The cycle problem behind the continuation core: interface checks against numpy/finite-difference
twins, and the core's conventions as a cycle branch sees them."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bifurcate.continuation.pseudo_arclength import tangent_at
from bifurcate.cycles import CycleOptions, continue_cycles, hopf_start
from bifurcate.cycles.continuation import CycleProblem, _with_dense_row, bordered_lu
from bifurcate.models import BRUSSELATOR, STUART_LANDAU


def test_dense_row_append_matches_numpy():
    rng = np.random.default_rng(1)
    for k in range(10):
        A = sp.random(25, 26, density=0.15, random_state=k, format="csc")
        r = rng.standard_normal(26)
        B = _with_dense_row(A, r)
        B.check_format()
        assert np.array_equal(B.toarray(), np.vstack([A.toarray(), r]))


@pytest.fixture(scope="module")
def brusselator_problem():
    """A converged Brusselator cycle (a = 1, b = 2.2) as a CycleProblem."""
    br = continue_cycles(BRUSSELATOR, ([1.0, 2.0], {"a": 1.0, "b": 2.0}, "b", 1.0), max_points=8, ntst=12,
                         adapt_every=0)
    assert br.success, br.message
    opts = CycleOptions(ntst=12)
    cs = hopf_start(BRUSSELATOR, [1.0, 2.0], {"a": 1.0, "b": 2.0}, "b", 1.0, options=opts)
    assert np.array_equal(br.meshes[-1], cs.coll.mesh)  # uniform: no adaptation asked
    prob = CycleProblem(BRUSSELATOR, "b", {"a": 1.0, "b": 2.0}, cs.coll, opts)
    X = cs.coll.pack(br.orbits[-1][1], br.columns["period"][-1], br.param_values[-1])
    prob.set_reference(X)
    assert np.max(np.abs(prob.residual(X)[:-1])) < 1e-8  # the branch's cycle solves the collocation equations
    return prob, X


def test_cycle_problem_jacobian_is_the_derivative_of_its_residual(brusselator_problem):
    prob, X = brusselator_problem
    J = prob.jacobian(X).toarray()
    assert J.shape == (X.size - 1, X.size)
    rng = np.random.default_rng(2)
    d = rng.standard_normal(X.size)
    d /= np.linalg.norm(d)
    h = 1e-6
    fd = (prob.residual(X + h * d) - prob.residual(X - h * d)) / (2 * h)
    assert np.max(np.abs(fd - J @ d)) < 1e-6 * max(1.0, np.max(np.abs(J)))


def test_cycle_problem_bordered_solve_matches_dense(brusselator_problem):
    prob, X = brusselator_problem
    J = prob.jacobian(X)
    rng = np.random.default_rng(3)
    border = prob.weights * rng.standard_normal(X.size)
    rhs = rng.standard_normal(X.size)
    z = prob.bordered_solve(J, border, rhs)
    ref = np.linalg.solve(np.vstack([J.toarray(), border]), rhs)
    assert np.allclose(z, ref, rtol=1e-9, atol=1e-9 * np.max(np.abs(ref)))
    z2 = prob.bordered_solve(J, border, 2 * rhs)
    assert np.allclose(z2, 2 * z)
    if prob.coll.solver == "condensed":
        # the default: condensation of the collocation blocks behind J, no sparse factorisation
        assert prob._lu is None
    else:
        # the factorisation is reused for the same matrix and border (the LPC test after the tangent)
        lu = prob._lu[2]
        prob.bordered_solve(J, border, 3 * rhs)
        assert prob._lu[2] is lu
    assert np.allclose(bordered_lu(J, border).solve(rhs), ref, rtol=1e-9, atol=1e-9 * np.max(np.abs(ref)))
    # the tangent is a unit null vector of G_x in the problem's norm
    t = tangent_at(prob, X, np.eye(X.size)[-1])
    assert abs(float(np.sum(prob.weights * t * t)) - 1.0) < 1e-12
    assert np.max(np.abs(prob.jacobian(X) @ t)) < 1e-9


def test_cycle_branch_ends_exactly_on_the_parameter_bound():
    """The core puts the last point on p_max (as for equilibria): r = sqrt(mu) there."""
    br = continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0}, "mu", 1.0), max_points=200, p_max=0.5)
    assert br.status == 0 and "mu reached the end" in br.message
    assert br.param_values[-1] == 0.5
    assert abs(br.columns["amplitude"][-1] - np.sqrt(0.5)) < 1e-9
    assert np.all(br.param_values <= 0.5)


def test_cycle_branch_runs_on_the_core(monkeypatch):
    """continue_cycles has no loop of its own: every accepted step comes from continue_curve."""
    import bifurcate.cycles.continuation as cc

    calls = []
    real = cc.continue_curve

    def spy(problem, *a, **kw):
        calls.append(type(problem).__name__)
        return real(problem, *a, **kw)

    monkeypatch.setattr(cc, "continue_curve", spy)
    br = continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0}, "mu", 1.0), max_points=12)
    assert calls == ["CycleProblem"] and len(br) == 12


def test_dense_row_append_reuses_the_pattern_correctly():
    """Same pattern, new values (as on a branch), then a new pattern: every matrix exact."""
    rng = np.random.default_rng(4)
    A = sp.random(20, 21, density=0.2, random_state=5, format="csc")
    for _ in range(3):
        A2 = A.copy()
        A2.data = rng.standard_normal(A.nnz)
        r = rng.standard_normal(21)
        assert np.array_equal(_with_dense_row(A2, r).toarray(), np.vstack([A2.toarray(), r]))
    B = sp.random(20, 21, density=0.2, random_state=6, format="csc")
    r = rng.standard_normal(21)
    assert np.array_equal(_with_dense_row(B, r).toarray(), np.vstack([B.toarray(), r]))


def test_log_period_fit_recovers_the_law():
    """T = c - ln|p - p_hom| / lambda exactly: the fit returns p_hom and b = 1 / lambda, and no
    limit at all from points whose period does not grow."""
    from bifurcate.cycles.limits import log_period_fit

    for p_hom, lam, side in ((0.81711686, 0.7914, -1), (-0.79752, 0.35, 1), (13.9265574, 3.0, 1)):
        d = np.array([3e-2, 1e-2, 4e-3, 1e-3, 3e-4, 1e-4])
        p = p_hom + side * d
        T = 2.5 - np.log(d) / lam
        q, b, rms = log_period_fit(p, T)
        assert abs(q - p_hom) < 1e-9 * max(1.0, abs(p_hom)) and abs(b - 1.0 / lam) < 1e-6 / lam and rms < 1e-9
    q, b, rms = log_period_fit(np.linspace(0.0, 0.5, 6), np.linspace(10.0, 5.0, 6))
    assert np.isnan(q) and np.isnan(b) and np.isnan(rms)


def test_core_options_carry_the_shared_cycle_options():
    """One set of shared settings: a cycle branch runs the core with CycleOptions' own values."""
    from bifurcate.cycles.continuation import core_options

    o = CycleOptions(ds=0.03, ds_min=1e-6, ds_max=0.3, max_points=77, newton_tol=1e-10, newton_maxiter=12,
                     max_angle=0.4, locate_tol=1e-11)
    c = core_options(o, 0.015)
    assert (c.ds, c.ds_min, c.ds_max, c.max_steps) == (0.015, 1e-6, 0.3, 76)
    assert (c.newton_tol, c.newton_maxiter, c.max_angle, c.locate_tol) == (1e-10, 12, 0.4, 1e-11)
    assert (c.growth, c.shrink, c.slow_newton) == (1.5, 0.6, 6)  # the step control cycles always had


def test_step_control_options_are_validated():
    from bifurcate.continuation import ContinuationOptions

    c = ContinuationOptions()
    assert (c.shrink, c.slow_newton) == (0.7, None)  # equilibria and codim-2 curves: as before
    with pytest.raises(ValueError, match="shrink"):
        ContinuationOptions(shrink=1.5)
    with pytest.raises(ValueError, match="slow_newton"):
        ContinuationOptions(slow_newton=0)
    with pytest.raises(TypeError, match="slow_newton"):
        ContinuationOptions(slow_newton=2.5)


# ------------------------------------------------------------------------------------------
# the arclength norm of a cycle branch (issue 14: AUTO's, the period with no weight)
# ------------------------------------------------------------------------------------------
def test_arclength_norm_of_a_cycle_branch_in_closed_form():
    """Stuart-Landau with beta = 0.5: u(t) = sqrt(mu) (cos 2 pi t, sin 2 pi t), T = 2 pi / (1 - mu / 2).
    The norm of a step is sqrt(|d sqrt(mu)|^2 + d mu^2 + w dT^2) (the orbit's L2 norm over the unit
    interval, the period with weight w = ``period_weight``); at a fixed ds = ds_max every chord
    between rows measures ds (pseudo-arclength: the projection on the tangent is ds, the curvature
    adds O(ds^3)), and the number of steps is the curve's length over ds."""
    ds = 0.02
    n_rows = {}
    for w in (0.0, 1.0):
        br = continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0, "omega": 1.0, "beta": 0.5}, "mu", 1.0), ds=ds,
                             ds_max=ds, max_points=2000, p_max=1.5, period_weight=w, floquet=False, detect=False)
        assert br.success, br.message
        mu, T = br.param_values, br.columns["period"]
        assert np.allclose(T, 2 * np.pi / (1 - 0.5 * mu), atol=1e-9)
        chord = np.sqrt(np.diff(np.sqrt(mu)) ** 2 + np.diff(mu) ** 2 + w * np.diff(T) ** 2)
        inner = chord[:-1]  # the last step is cut to put the last point on p_max
        assert np.all(np.abs(inner - ds) < 3e-3 * ds), (w, inner.min(), inner.max())
        m = np.linspace(mu[0], 1.5, 200001)
        length = np.sum(np.sqrt(np.diff(np.sqrt(m)) ** 2 + np.diff(m) ** 2 + w * np.diff(2 * np.pi / (1 - 0.5 * m)) ** 2))
        assert abs((len(br) - 1) - length / ds) <= 1.5, (w, len(br), length / ds)
        n_rows[w] = len(br)
    # counting the period (weight 1, the old norm) takes about twice as many steps here
    assert n_rows[1.0] > 1.8 * n_rows[0.0]


def test_period_step_is_capped_near_a_saddle_focus():
    """Near the homoclinic orbit of the flagship's J = 1 branch (the normal state, a saddle-focus
    with eigenvalues 0.79, -0.5 +- 1.527 i, -1.79) the period changes by at most pi / (10 omega)
    per step, so the folds and period doublings that alternate every pi / omega = 2.06 in the period
    each get their own step."""
    from tests.test_cycles import broken_state_hopf
    from bifurcate.models import LMG_DIMER

    yh, lh, om = broken_state_hopf(1.0)
    br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om))
    assert br.status == -3, br.message
    T = br.columns["period"]
    late = np.flatnonzero(T > 12.0)
    assert late.size > 20
    # (the cap bounds the predicted change; the corrected one is within a few per cent of it)
    assert np.max(np.abs(np.diff(T[late[0] - 1:]))) <= 1.05 * np.pi / (10 * 1.5272)
    kinds = [p.kind for p in br.points if p.data["period"] > 12.0]
    # LPC and PD in pairs, one pair per half-turn of the saddle-focus
    assert len(kinds) >= 10 and kinds.count("LPC") == kinds.count("PD")
    lpc_T = np.sort([p.data["period"] for p in br.special("LPC") if p.data["period"] > 12.0])
    assert np.allclose(np.diff(lpc_T), np.pi / 1.5272, atol=0.05)


def test_period_weight_is_validated():
    for bad in (-1.0, float("nan"), "1", True):
        with pytest.raises(ValueError, match="period_weight"):
            CycleOptions(period_weight=bad)
