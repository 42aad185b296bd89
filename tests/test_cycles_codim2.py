"""Curves of cycle bifurcations (LPC, PD) in two parameters by minimally augmented collocation.

Checks that can fail:
* the gradient of the test function G (from the bordered solves, with second derivatives along
  the null vector) against central differences of G itself;
* the flagship: the first PD curve of the broken state's cycles, continued from J = 1, passes
  through the PD points that independent one-parameter runs locate at J = 1.2 and J = 1.5
  (to 1e-6 in lam; both discretisations are superconvergent, ntst = 40);
* the generic LPC curve from the fold at J = 1.5, lam = 0.4130 passes through the one-parameter
  folds at J = 1.4 and J = 1.6, and ends on the Hopf curve (generalised Hopf) near J = 1.195;
* the normal state's fold of cycles (a time-reversal-symmetric family) is refused with a status,
  also on coarse meshes (NTST 10-20) that split its cluster of multipliers at +1 by more than
  generic_tol; a generic fold with a second multiplier near +1 (0.969) is still continued.
"""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate._numba import njit
from bifurcate.cycles import continue_cycle_codim2, continue_cycles
from bifurcate.cycles.codim2_problems import LPCProblem, PDProblem
from bifurcate.cycles.normal_forms import normal_form_of_point
from bifurcate.model import Euclidean, Model
from bifurcate.models import LMG_DIMER, NORMAL_STATE
from tests.test_cycles import broken_state_hopf, normal_state_hopf

NTST = 40


def cycles_at(J: float, max_points: int = 40):
    yh, lh, om = broken_state_hopf(J)
    return continue_cycles(LMG_DIMER, (yh, {"J": J, "lam": lh}, "lam", om), ntst=NTST, max_points=max_points)


@pytest.fixture(scope="module")
def j1_pd():
    return cycles_at(1.0).special("PD")[0]


@pytest.mark.parametrize("cls", [PDProblem, LPCProblem])
def test_gradient_of_the_test_function_matches_finite_differences(j1_pd, cls):
    pt = j1_pd
    p = LMG_DIMER.pack_params(pt.params)
    i1, i2 = LMG_DIMER.param_index("lam"), LMG_DIMER.param_index("J")
    pr = cls(LMG_DIMER, p, i1, i2, pt.data["mesh"], pt.data["ncol"], pt.data["orbit"])
    x = pr.pack(pt.data["orbit"], pt.data["period"], p[i1], p[i2])
    pr.init_borders(x)
    row = pr.jacobian(x).toarray()[-1]
    rng = np.random.default_rng(3)
    e = 1e-6
    for d in [rng.standard_normal(x.size) for _ in range(3)] + [np.eye(x.size)[k] for k in (-1, -2, pr.Nn)]:
        d = d / np.linalg.norm(d)
        fd = (pr.test_residual(x + e * d)[0] - pr.test_residual(x - e * d)[0]) / (2 * e)
        assert abs(fd - row @ d) < 1e-6 * max(1.0, abs(fd)), (fd, row @ d)
    if cls is PDProblem:  # G vanishes at the located PD point (to the localisation tolerance)
        assert abs(pr.test_residual(x)[0]) < 1e-7


def test_flagship_pd_curve_passes_through_one_parameter_pd_points(j1_pd):
    cur = continue_cycle_codim2(LMG_DIMER, j1_pd, "J", param="lam", stops={"J": [1.2, 1.5]},
                                bounds={"J": (0.95, 1.55)}, bidirectional=False)
    assert cur.success, cur.message
    assert cur.kind == "PD" and abs(cur.param_values[0] - j1_pd.param) < 1e-9
    uz = {round(p.params["J"], 9): p for p in cur.special("UZ")}
    assert set(uz) == {1.2, 1.5}
    for J in (1.2, 1.5):
        ref = cycles_at(J).special("PD")[0]
        assert uz[J].located
        assert abs(uz[J].param - ref.param) < 1e-6, (J, uz[J].param, ref.param)
        assert abs(uz[J].data["period"] - ref.data["period"]) < 1e-5
        assert np.min(np.abs(uz[J].eigenvalues + 1.0)) < 1e-6  # a multiplier at -1 on the curve
        # the PD coefficient on the curve equals the one-parameter point's (supercritical all along)
        assert ref.data["criticality"] == "supercritical"
        assert normal_form_of_point(LMG_DIMER, uz[J]).coefficient == pytest.approx(ref.data["c"], rel=1e-6)
    assert np.all(cur.columns["nf_coefficient"] < 0) and not cur.special("GPD")
    # every row is a PD cycle: a multiplier at -1 along the whole curve
    assert np.all(np.min(np.abs(cur.eigenvalues[:, 1:] + 1.0), axis=1) < 1e-5)
    df = cur.to_frame()
    assert {"lam", "J", "period", "label"} <= set(df.columns)


@pytest.mark.slow
def test_generic_lpc_curve_from_j15_and_its_hopf_end():
    br = cycles_at(1.5, max_points=30)
    lpc = br.special("LPC")[0]
    assert abs(lpc.param - 0.4130) < 1e-4
    # the fold coefficient b (tau' = 1 - xi, xi' = b xi^2 on the centre manifold): nonzero, and the
    # branch's own cycles agree: a cycle at xi has period T_f (1 + xi) and multiplier exp(2 b xi T_f),
    # so ln(mu) / (2 (T - T_f)) -> b from both sides of the fold (first order in xi)
    b = lpc.data["nf_coefficient"]
    assert lpc.data["criticality"] == "nondegenerate" and lpc.data["nf_method"] == "symbolic"
    Tf, i = lpc.data["period"], lpc.index
    est = []
    for row in (i, i + 1):
        mu = br.eigenvalues[row, 1:]
        mu1 = mu[np.argmin(np.abs(mu - 1.0))].real
        est.append((np.log(mu1) / (2 * (br.columns["period"][row] - Tf)), br.columns["period"][row] - Tf))
    (e0, d0), (e1, d1) = est
    assert d0 * d1 < 0 and min(e0, e1) < b < max(e0, e1), (b, est)
    # the estimate is first order in xi and the branch's rows straddle the fold at T - T_f = -0.04
    # and +0.12 (linear interpolation: -1.01): rows 1e-2 .. 3e-4 from it, on a short branch with
    # small steps from the row before the fold, interpolate to b within 1e-3
    t, y = br.orbit(i, 400)
    near = [continue_cycles(LMG_DIMER, (t, y), param="lam", params={"J": 1.5, "lam": br.param_values[i]}, ntst=NTST,
                            ds=0.002, ds_max=0.004, max_points=40, direction=d) for d in (1, -1)]
    fine = next(f for f in near if f.special("LPC"))
    j = fine.special("LPC")[0].index
    est = []
    for row in (j, j + 1):
        mu = fine.eigenvalues[row, 1:]
        mu1 = mu[np.argmin(np.abs(mu - 1.0))].real
        est.append((np.log(mu1) / (2 * (fine.columns["period"][row] - Tf)), fine.columns["period"][row] - Tf))
    (e0, d0), (e1, d1) = est
    assert d0 * d1 < 0 and max(abs(d0), abs(d1)) < 0.02, est
    assert b == pytest.approx(e0 + (e1 - e0) * (0 - d0) / (d1 - d0), rel=1e-3)
    cur = continue_cycle_codim2(LMG_DIMER, lpc, "J", param="lam", stops={"J": [1.4, 1.6]},
                                bounds={"J": (1.0, 1.65)})
    uz = {round(p.params["J"], 9): p for p in cur.special("UZ")}
    assert set(uz) == {1.4, 1.6}
    for J in (1.4, 1.6):
        ref = cycles_at(J, max_points=30).special("LPC")[0]
        assert abs(uz[J].param - ref.param) < 1e-6, (J, uz[J].param, ref.param)
    # towards smaller J the fold of cycles meets the Hopf curve (the cycles shrink to zero size at
    # a generalised Hopf point): the curve ends there, not at a false cusp
    gh = cur.special("GH")
    assert len(gh) == 1 and 1.18 < gh[0].params["J"] < 1.21, [(p.kind, p.params["J"]) for p in cur.points]
    assert gh[0].data["amplitude"] < 0.05
    assert not cur.special("CPC")
    assert np.all(np.min(np.abs(cur.eigenvalues[:, 1:] - 1.0), axis=1) < 1e-4)


def test_nongeneric_fold_of_normal_state_cycles_is_refused_with_a_status():
    J = 0.3
    lam, om = normal_state_hopf(J)
    br = continue_cycles(LMG_DIMER, (NORMAL_STATE, {"J": J, "lam": lam}, "lam", om), ntst=NTST)
    lpc = br.special("LPC")[0]
    cur = continue_cycle_codim2(LMG_DIMER, lpc, "J", param="lam")
    assert cur.status == -6
    assert "not a generic point" in cur.message and "time-reversal" in cur.message
    assert len(cur) == 1  # the corrected start only


def test_bad_input_raises(j1_pd):
    from bifurcate.results import BifurcationPoint

    with pytest.raises(ValueError, match="expected an LPC, PD or NS point"):
        continue_cycle_codim2(LMG_DIMER, BifurcationPoint("HB", 0.5, NORMAL_STATE, {"J": 1.0, "lam": 0.5}, 0, True,
                                                          0.0, (0.5, 0.5)), "J", param="lam")
    from dataclasses import replace

    anonymous = replace(j1_pd, data={k: v for k, v in j1_pd.data.items() if k != "param_name"})
    with pytest.raises(ValueError, match="expected the first parameter"):
        continue_cycle_codim2(LMG_DIMER, anonymous, "J")
    with pytest.raises(ValueError, match="two different parameters"):
        continue_cycle_codim2(LMG_DIMER, j1_pd, "lam", param="lam")
    with pytest.raises(KeyError, match="stops"):
        continue_cycle_codim2(LMG_DIMER, j1_pd, "J", param="lam", stops={"g": [1.0]})


def test_continue_codim2_accepts_a_cycle_point(j1_pd):
    """The two-parameter entry point of the package dispatches LPC / PD points of cycle branches."""
    from bifurcate.continuation.codim2 import continue_codim2

    assert j1_pd.data["param_name"] == "lam"
    cur = continue_codim2(LMG_DIMER, j1_pd, "J", bounds={"J": (0.98, 1.05)}, bidirectional=False)
    assert cur.kind == "PD" and cur.success, cur.message
    assert abs(cur.columns["J"][-1] - 1.05) < 1e-12 and cur.param_values[-1] < j1_pd.param


def test_ns_curve_of_uncoupled_oscillators_and_its_resonances():
    """Two uncoupled Stuart-Landau oscillators (bifurcate.models.TORUS): the cycle of oscillator 1
    (z2 = 0, period 2 pi / omega1) has the multipliers exp(2 pi (mu2 +- i omega2) / omega1), so
    the NS curve in (mu2, omega2) is exactly mu2 = 0 with kappa = cos(2 pi omega2 / omega1), and
    the strong resonances sit at omega2 = 1/3, 2/3 (R3) and 3/4 (R4) for omega1 = 1."""
    from bifurcate.cycles.codim2_problems import NSProblem
    from bifurcate.models import TORUS

    t = np.linspace(0, 2 * np.pi, 201)
    r = np.sqrt(0.5)
    y = np.c_[r * np.cos(t), r * np.sin(t), 0 * t, 0 * t]
    prm = {"mu1": 0.5, "omega1": 1.0, "mu2": -0.3, "omega2": 0.7}
    br = continue_cycles(TORUS, (t, y), param="mu2", params=prm, ntst=20, max_points=40, p_max=0.3)
    ns = br.special("NS")[0]
    assert abs(ns.param) < 1e-8
    # exact gradient of the two entries of G
    p = TORUS.pack_params(ns.params)
    pr = NSProblem(TORUS, p, TORUS.param_index("mu2"), TORUS.param_index("omega2"), ns.data["mesh"],
                   ns.data["ncol"], ns.data["orbit"])
    x = pr.pack(ns.data["orbit"], ns.data["period"], p[2], p[3], (np.cos(2 * np.pi * 0.7),))
    pr.init_borders(x)
    assert np.max(np.abs(pr.test_residual(x))) < 1e-8
    rows = pr.jacobian(x).toarray()[-2:]
    for k in (-1, -2, pr.Nn, pr.Nn + 1, 5):
        d = np.eye(x.size)[k]
        fd = (np.array(pr.test_residual(x + 1e-6 * d)) - np.array(pr.test_residual(x - 1e-6 * d))) / 2e-6
        assert np.allclose(fd, rows @ d, atol=1e-7), (k, fd, rows @ d)
    cur = continue_cycle_codim2(TORUS, ns, "omega2", stops={"omega2": [0.6]}, bounds={"omega2": (0.3, 0.76)},
                                ds_max=0.05)
    assert cur.success and cur.kind == "NS", cur.message
    assert np.max(np.abs(cur.param_values)) < 1e-10  # mu2 = 0 along the curve
    assert np.allclose(cur.columns["kappa"], np.cos(2 * np.pi * cur.columns["omega2"]), atol=1e-9)
    found = sorted((q.kind, round(q.params["omega2"], 8)) for q in cur.points)
    assert found == [("R2", 0.5), ("R3", round(1 / 3, 8)), ("R3", round(2 / 3, 8)), ("R4", 0.75), ("UZ", 0.6)], found
    # at omega2 = 1/2 the pair reaches -1 as a rotation by pi and returns along the circle (kappa
    # touches -1 without crossing): the R2 is found by kappa's turning, and says so
    (r2,) = cur.special("R2")
    assert r2.data["case"] == "touching" and abs(r2.data["kappa"] + 1.0) < 1e-9
    # the transverse oscillator's cubic term is -(1 + i beta) |z2|^2 z2: the torus is supercritical
    # all along (Re d = -2 / T_1 in this normalisation, no Chenciner point)
    nf = cur.columns["nf_coefficient"]
    assert np.all(np.isfinite(nf[np.abs(cur.columns["kappa"]) < 1 - 1e-6]))
    assert np.allclose(nf[np.isfinite(nf)], 2 * -1.0 / (2 * np.pi), rtol=1e-5), nf


def test_flagship_first_pd_is_supercritical_and_its_coefficient_is_the_doubled_cycles_size(j1_pd):
    """The PD coefficient at J = 1 (lam = 0.67387): negative (supercritical) with the symbolic
    derivatives, equal to the finite-difference one, and checked against the period-doubled branch
    itself: on the centre manifold xi' = beta xi + c xi^3, so the doubled cycle has xi^2 = -beta / c,
    its two halves differ by 2 xi v (int_0^T |x(t + T) - x(t)|^2 dt = 4 xi^2) and its multiplier
    near 1 is exp(-4 beta T): c = -4 beta / D^2 with both measured on the doubled cycle."""
    from bifurcate.cycles import switch_at_pd
    from bifurcate.cycles.normal_forms import normal_form_of_point

    assert abs(j1_pd.param - 0.6738699962) < 1e-8
    d = j1_pd.data
    assert d["nf_status"] == 0 and d["nf_method"] == "symbolic"
    assert d["criticality"] == "supercritical" and d["nf_coefficient"] < 0
    fd = normal_form_of_point(LMG_DIMER, j1_pd, derivatives="finite differences")
    assert fd.method == "finite differences"
    assert fd.coefficient == pytest.approx(d["nf_coefficient"], rel=1e-6)
    # the doubled branch goes forward (where the primary cycle has become unstable) and is stable
    dbl = switch_at_pd(LMG_DIMER, j1_pd, param="lam", ntst=NTST, max_points=3, ds=0.002)
    assert np.all(dbl.param_values[1:] > j1_pd.param) and np.all(dbl.n_unstable[:3] == 0)
    t, y = dbl.orbit(0, 2001)
    half = (y.shape[0] - 1) // 2
    Td = dbl.columns["period"][0]
    D2 = Td / 2 * np.mean(np.sum((y[half:-1] - y[:half]) ** 2, axis=1))
    mu = dbl.eigenvalues[0, 1:]
    mu1 = mu[np.argmin(np.abs(mu - 1.0))].real
    beta = -np.log(mu1) / (2 * Td)
    assert -4 * beta / D2 == pytest.approx(d["nf_coefficient"], rel=2e-3), (-4 * beta / D2, d["nf_coefficient"])


# ------------------------------------------------------------------------------------------
# genericity of the start, decided on a mesh that resolves it
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ntst", [10, 15, 20])
def test_nongeneric_fold_is_refused_on_coarse_meshes_too(ntst, monkeypatch):
    """The normal state's symmetric fold at J = 0.3: in exact arithmetic three nontrivial
    multipliers sit at +1 (a Jordan cluster); a coarse mesh splits them by ~1e-2 (NTST 10) to
    2e-3 (NTST 20), more than generic_tol = 1e-3. The doubled mesh shows the split is the mesh's."""
    import bifurcate.cycles.codim2 as C

    J = 0.3
    lam, om = normal_state_hopf(J)
    br = continue_cycles(LMG_DIMER, (NORMAL_STATE, {"J": J, "lam": lam}, "lam", om), ntst=ntst)
    lpc = br.special("LPC")[0]
    mu = np.sort(np.abs(lpc.eigenvalues[1:] - 1.0))
    assert mu[1] > 1e-3  # the coarse mesh alone would call this fold generic
    cur = continue_cycle_codim2(LMG_DIMER, lpc, "J", param="lam")
    assert cur.status == -6, cur.message
    assert "time-reversal" in cur.message and f"doubled mesh, NTST {2 * ntst}" in cur.message
    assert len(cur) == 1
    # without the refined decision the same start is (wrongly) continued as a generic fold
    monkeypatch.setattr(C, "GENERIC_SUSPECT", 0.0)
    cur0 = continue_cycle_codim2(LMG_DIMER, lpc, "J", param="lam", max_steps=1, bidirectional=False)
    assert cur0.status != -6


@njit
def _bautin_w_rhs(y, p, out):
    b1, b2, a = p[0], p[1], p[2]
    r2 = y[0] * y[0] + y[1] * y[1]
    g = b1 + b2 * r2 - r2 * r2
    out[0] = g * y[0] - y[1]
    out[1] = y[0] + g * y[1]
    out[2] = a * y[2]
    return 0


@njit
def _bautin_w_jac(y, p, out):
    b1, b2, a = p[0], p[1], p[2]
    r2 = y[0] * y[0] + y[1] * y[1]
    g = b1 + b2 * r2 - r2 * r2
    dg = b2 - 2.0 * r2
    out[0, 0] = g + 2.0 * y[0] * y[0] * dg
    out[0, 1] = 2.0 * y[0] * y[1] * dg - 1.0
    out[1, 0] = 1.0 + 2.0 * y[0] * y[1] * dg
    out[1, 1] = g + 2.0 * y[1] * y[1] * dg
    out[0, 2] = out[1, 2] = out[2, 0] = out[2, 1] = 0.0
    out[2, 2] = a
    return 0


#: the Bautin normal form with a decoupled slow direction w' = a w: its fold of cycles (beta1 =
#: -beta2^2 / 4, r^2 = beta2 / 2, period 2 pi) is generic, with the extra multiplier exp(2 pi a)
BAUTIN_W = Model(name="bautin_w", state_names=("x", "y", "w"), param_names=("beta1", "beta2", "a"),
                 defaults={"beta1": 0.0, "beta2": 1.0, "a": -0.005}, rhs=_bautin_w_rhs, jac=_bautin_w_jac,
                 geometry=Euclidean(3), module=__name__, attr="BAUTIN_W")


def test_generic_fold_with_a_close_second_multiplier_is_continued(monkeypatch):
    """A second multiplier exp(2 pi a) = 0.969 (a = -0.005) is within GENERIC_SUSPECT of +1: the
    doubled mesh is consulted and finds its distance resolved, so the curve is continued, and it
    is the exact fold curve beta1 = -beta2^2 / 4."""
    import bifurcate.cycles.codim2 as C

    calls = []
    orig = C._mesh_resolved_near
    monkeypatch.setattr(C, "_mesh_resolved_near", lambda *a, **k: calls.append(orig(*a, **k)) or calls[-1])
    br = continue_cycles(BAUTIN_W, ([0.0, 0.0, 0.0], {"beta1": 0.0, "beta2": 1.0, "a": -0.005}, "beta1", 1.0),
                         ntst=10, max_points=60)
    lpc = br.special("LPC")[0]
    assert abs(lpc.param + 0.25) < 1e-9
    assert np.min(np.abs(lpc.eigenvalues - np.exp(2 * np.pi * -0.005))) < 1e-6
    cur = continue_cycle_codim2(BAUTIN_W, lpc, "beta2", param="beta1", max_steps=8, bidirectional=False)
    assert calls and calls[0][0] == 1, calls
    assert cur.status == 0 or "maximum number of steps" in cur.message, cur.message
    assert len(cur) > 5
    np.testing.assert_allclose(cur.param_values, -cur.columns["beta2"] ** 2 / 4, atol=1e-8)
