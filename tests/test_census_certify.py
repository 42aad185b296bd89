"""The certified fast path of the census (analysis.attractors.certify, CensusOptions.certify).

* the basin ellipsoid of a stable equilibrium is a certificate: from its boundary the P-distance to
  the equilibrium never grows (integrated orbits, on the Hopf normal form and the LMG dimer); an
  unstable equilibrium and a field of degree > 3 get none;
* a certified cycle has the closed-form period and Floquet exponent of the Stuart-Landau
  oscillator; a cycle too weakly attracting for the margin, a chaotic orbit and a trajectory far
  from its cycle are not certified;
* the census with ``certify=True`` gives the answers of the census without it on the same initial
  conditions (phase, number of attractors, basin fractions), with certified FP exponents equal to
  the tangent eigenvalues.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.attractors.certify import certify_cycle, certify_fixed_points, fp_basin_ball, orbit_distance
from bifurcate.integrate import integrate
from bifurcate.models.stuart_landau import STUART_LANDAU as SL


def _boundary_points(ball, k, rng, frac=0.999):
    Linv = np.linalg.inv(ball.L.T)
    U = rng.standard_normal((k, ball.state.size))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return ball.state + (U * ball.rho * frac) @ Linv.T


def _p_distance_never_grows(model, params, ball, Y0, t_end=30.0):
    t = np.arange(0.0, t_end + 1e-9, 0.05)
    for y0 in Y0:
        tr = integrate(model, y0, (0.0, t_end), params, t_eval=t, rtol=1e-11, atol=1e-13)
        d = ball.p_distance(tr.y)
        assert np.all(np.diff(d) <= 1e-9 * ball.rho), f"P-distance grows from the ellipsoid's boundary: {d[:5]}"
        assert d[-1] < 0.5 * d[0]


def test_basin_ellipsoid_of_the_hopf_normal_form_contracts():
    rng = np.random.default_rng(0)
    prm = {"mu": -0.3, "omega": 1.0, "beta": 0.5}
    ball = fp_basin_ball(SL, np.zeros(2), SL.pack_params(prm))
    assert ball.certified, ball.message
    assert ball.mu < 0
    _p_distance_never_grows(SL, prm, ball, _boundary_points(ball, 6, rng))
    # unstable origin: no certificate
    bad = fp_basin_ball(SL, np.zeros(2), SL.pack_params({"mu": 0.3}))
    assert bad.status == 1 and not bad.certified and not bad.contains(np.zeros((1, 2)))[0]
    # a stable focus weaker than the margin: no certificate either
    weak = fp_basin_ball(SL, np.zeros(2), SL.pack_params({"mu": -1e-4}), margin=1e-3)
    assert weak.status == 1


def test_basin_ellipsoid_of_the_lmg_dimer_contracts(lmg_dimer):
    from bifurcate.equilibria import find_equilibria

    rng = np.random.default_rng(1)
    prm = {"J": 1.5, "lam": 0.2}
    es = find_equilibria(lmg_dimer, prm)
    p = lmg_dimer.pack_params(prm)
    k = int(np.nonzero(es.stable)[0][0])
    ball = fp_basin_ball(lmg_dimer, es.states[k], p)
    assert ball.certified, ball.message
    np.testing.assert_allclose(ball.eigenvalues, es.eigenvalues[k], atol=1e-9)
    # start on the phase space (the integrator keeps orbits on the spheres), just inside the ellipsoid
    Y0 = []
    for y in _boundary_points(ball, 4, rng):
        v = y - ball.state
        s = 1.0
        while True:
            z = lmg_dimer.geometry.project(ball.state + s * v)
            if ball.p_distance(z)[0] < 0.999 * ball.rho:
                break
            s *= 0.98
        assert s > 0.1
        Y0.append(z)
    _p_distance_never_grows(lmg_dimer, prm, ball, np.array(Y0))
    # the end points on the sphere: certified when inside, with the equilibrium found by Newton
    y_in = lmg_dimer.geometry.project(es.states[k] + 1e-5 * rng.standard_normal(6))
    y_out = lmg_dimer.geometry.project(es.states[k] + 0.2 * rng.standard_normal(6))
    ok, info = certify_fixed_points(lmg_dimer, p, np.stack([y_in, y_out]))
    assert ok[0] and not ok[1]
    np.testing.assert_allclose(info[0][0].state, es.states[k], atol=1e-9)


def test_no_certificate_for_a_field_of_higher_degree():
    from bifurcate.equilibria import newton_equilibrium
    from bifurcate.models.classic import AB_REACTOR

    prm = {"D": 0.05, "B": 8.0, "beta": 3.0}
    x = newton_equilibrium(AB_REACTOR, [0.05, 0.1], prm)
    ball = fp_basin_ball(AB_REACTOR, x, AB_REACTOR.pack_params(prm))
    assert ball.eigenvalues[0].real < -0.5     # stable by far, yet the exponential field is not bounded here
    assert ball.status == 2 and not ball.certified


def _sl_samples(prm, y0=(1.2, 0.1), t_skip=200.0, t_len=60.0):
    t = np.arange(0.0, t_len + 1e-9, 0.1)
    tr = integrate(SL, list(y0), (0.0, t_skip + t_len), prm, t_eval=t_skip + t, rtol=1e-10, atol=1e-12)
    return t, tr.y


@pytest.mark.parametrize("mu, beta", [(0.2, 0.0), (0.5, 0.3)])
def test_certified_cycle_has_the_closed_form(mu, beta):
    prm = {"mu": mu, "omega": 1.0, "beta": beta}
    t, Y = _sl_samples(prm)
    c = certify_cycle(SL, prm, t, Y, margin=0.0225)
    assert c.certified, c.message
    assert abs(c.period - 2 * np.pi / (1.0 - beta * mu)) < 1e-6
    np.testing.assert_allclose(c.exponents, [0.0, -2 * mu], atol=1e-5)
    r = np.linalg.norm(c.orbit, axis=1)
    np.testing.assert_allclose(r, np.sqrt(mu), rtol=1e-6)
    assert c.distance < 1e-4


def test_cycle_not_certified_without_the_evidence():
    # attracting, but more weakly than the margin (exponent -2 mu = -0.01 above -0.0225)
    prm = {"mu": 0.005, "omega": 1.0, "beta": 0.0}
    t, Y = _sl_samples(prm, y0=(np.sqrt(0.005) * 1.0001, 0.0), t_skip=0.0)
    c = certify_cycle(SL, prm, t, Y, margin=0.0225)
    assert c.status == 5 and not c.certified and np.all(np.isnan(c.exponents))
    # still far from the cycle (the tube is 1e-3 of its extent)
    prm = {"mu": 0.05, "omega": 1.0, "beta": 0.0}
    t, Y = _sl_samples(prm, y0=(0.4, 0.0), t_skip=0.0, t_len=60.0)
    c = certify_cycle(SL, prm, t, Y, margin=0.0225)
    assert not c.certified and c.status in (1, 3), c.message
    # chaos: no periodic return
    from bifurcate.models.lorenz import LORENZ

    tt = np.arange(0.0, 60.0 + 1e-9, 0.02)
    tr = integrate(LORENZ, [1.0, 1.0, 20.0], (0.0, 80.0), t_eval=20.0 + tt)
    c = certify_cycle(LORENZ, LORENZ.params(), tt, tr.y, margin=0.0225)
    assert c.status == 1 and not c.certified


def test_orbit_distance_closed_form():
    th = np.linspace(0, 2 * np.pi, 600, endpoint=False)
    orbit = np.c_[np.cos(th), np.sin(th)]
    Y = np.array([[2.0, 0.0], [0.0, 0.5], [0.3, -0.4], [np.cos(0.1), np.sin(0.1)]])
    np.testing.assert_allclose(orbit_distance(Y, orbit), [1.0, 0.5, 0.5, 0.0], atol=2e-5)


def test_options_of_the_certified_path():
    from analysis.attractors.options import CensusOptions

    assert CensusOptions().certify is True         # the default once it agreed with the census without it
    with pytest.raises(TypeError, match="certify"):
        CensusOptions(certify=1)
    with pytest.raises(ValueError, match="certify_probe"):
        CensusOptions(certify_probe=0.0)
    with pytest.raises(ValueError, match="certify_tube"):
        CensusOptions(certify_tube=-1.0)


# ------------------------------------------------------------------------------------------------
# the census with and without certification agree
# ------------------------------------------------------------------------------------------------
_POINTS = [{"J": -1.36, "lam": 0.36}, {"J": 1.5, "lam": 0.2}, {"J": -0.64, "lam": 0.66}, {"J": 1.5, "lam": 0.45}]


def test_census_with_certification_agrees(lmg_dimer):
    from analysis.attractors import census_points
    from analysis.attractors.options import CensusOptions
    from studies.benchmarks.fig2_compare import compare_points

    rng = np.random.default_rng(5)
    Y0 = np.stack([lmg_dimer.random_states(12, rng) for _ in _POINTS])
    old = census_points(lmg_dimer, _POINTS, Y0, options=CensusOptions(certify=False))
    new = census_points(lmg_dimer, _POINTS, Y0, options=CensusOptions(certify=True))
    tab = compare_points(old, new)
    assert tab.same_phase.all() and tab.same_n_att.all() and tab.basin_ok.all(), tab
    n_cert = sum(int((r.trajectories["decision"] == "certified").sum()) for r in new)
    assert n_cert > 0
    # the cycles at (1.5, 0.45): certified, period and exponents agree with the variational census
    lc_new = [s for s in new[3].attractors if s.kind == "LC"]
    lc_old = [s for s in old[3].attractors if s.kind == "LC"]
    assert lc_new and len(lc_new) == len(lc_old)
    t3 = new[3].trajectories
    assert (t3.loc[t3.kind == "LC", "decision"] == "certified").all()
    for s in lc_new:
        o = min(lc_old, key=lambda o: max(abs(o.observables[k] - s.observables[k]) for k in ("XA", "YA", "XB")))
        assert abs(s.period - o.period) < 1e-2 * o.period
        assert s.exponents[0] == 0.0 and np.all(s.exponents[1:] < -0.0225)
        band = o.exponents_err * 3 + float(old[3].options.zero_band(old[3].options.t_cap))
        assert np.all(np.abs(s.exponents - o.exponents) <= band + 0.02), (s.exponents, o.exponents, o.exponents_err)
    for r in new:
        t = r.trajectories
        cert = t[t.decision == "certified"]
        assert (cert.t_measured == 0).all()          # no variational integration
        for s in r.attractors:
            if s.kind == "FP" and s.n_members:
                ev = r.equilibria.eigenvalues[s.equilibrium["index"]]
                np.testing.assert_allclose(s.exponents, np.sort(ev.real)[::-1])
        assert "certify" in r.timings


def test_certified_path_does_not_depend_on_the_probe_batches(lmg_dimer, monkeypatch):
    import importlib

    from analysis.attractors import census_points

    cm = importlib.import_module("analysis.attractors.census")   # the module (the package exports a function of that name)

    pts = [{"J": 1.5, "lam": 0.45}, {"J": -1.36, "lam": 0.36}]
    rng = np.random.default_rng(8)
    Y0 = np.stack([lmg_dimer.random_states(6, rng) for _ in pts])
    a = census_points(lmg_dimer, pts, Y0)
    monkeypatch.setattr(cm, "_PROBE_FLOATS", 3 * 601 * 6)     # batches of 3 trajectories
    b = census_points(lmg_dimer, pts, Y0)
    for ra, rb in zip(a, b):
        assert ra.phase == rb.phase
        assert list(ra.trajectories["decision"]) == list(rb.trajectories["decision"])
        np.testing.assert_allclose(ra.trajectories["t_integrated"], rb.trajectories["t_integrated"])
        for sa, sb in zip(ra.attractors, rb.attractors):
            assert sa.kind == sb.kind and sa.n_members == sb.n_members
            np.testing.assert_allclose(sa.exponents, sb.exponents, rtol=1e-9, atol=1e-12)


def test_orbit_distance_matches_the_dense_twin():
    # the k-d tree's nearest sample against the dense distance matrix (the first implementation):
    # the same chords, so the same distances, near the curve and far from it, and a second call
    # (served from the tree cache) the same again
    rng = np.random.default_rng(3)
    th = np.linspace(0.0, 2 * np.pi, 900, endpoint=False)
    orbit = np.stack([np.cos(th), np.sin(th), 0.3 * np.cos(2 * th), 0.1 * np.sin(3 * th), 0 * th, 0.2 * np.cos(th)], 1)

    def dense(Y, A):
        q = A.shape[0]
        d2 = np.sum(Y * Y, axis=1)[:, None] + np.sum(A * A, axis=1)[None, :] - 2.0 * Y @ A.T
        near = np.argmin(d2, axis=1)
        best = np.full(Y.shape[0], np.inf)
        for s in (-1, 0):
            a = A[(near + s) % q]
            D = A[(near + s + 1) % q] - a
            t = np.clip(np.sum((Y - a) * D, axis=1) / np.maximum(np.sum(D * D, axis=1), 1e-300), 0.0, 1.0)
            best = np.minimum(best, np.linalg.norm(Y - a - t[:, None] * D, axis=1))
        return best

    for Y in (orbit[rng.integers(0, 900, 300)] + 1e-3 * rng.normal(size=(300, 6)), rng.normal(size=(300, 6))):
        ref = dense(Y, orbit)
        np.testing.assert_allclose(orbit_distance(Y, orbit), ref, rtol=0, atol=1e-14)
        np.testing.assert_allclose(orbit_distance(Y, orbit), ref, rtol=0, atol=1e-14)
    assert orbit_distance(orbit[:5], orbit).max() < 1e-14
