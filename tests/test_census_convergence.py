"""The converged census (issue 11): decision rules, attracting vs not, grouping, mirrors, phases,
bookkeeping, adversarial inputs and the reference ladder."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.attractors import CensusOptions, census, phase_label
from analysis.attractors.census import InvariantSet
from analysis.attractors.convergence import decide
from analysis.attractors.grouping import group_by_support, occupied_cells, support_overlap
from bifurcate.models import LINEAR3, LMG_DIMER, LORENZ, NORMAL_STATE, PT_DIMER, STUART_LANDAU, TORUS

OPTS = CensusOptions()


def _blocks(lam, B=80, noise=1e-3, seed=0, n=3, means=None):
    rng = np.random.default_rng(seed)
    bl = np.asarray(lam)[None, :] + noise * rng.standard_normal((B, len(lam)))
    bm = (np.zeros(n) if means is None else np.asarray(means))[None, :] + 1e-3 * rng.standard_normal((B, n))
    return bl, bm


# -- decision rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("lam, kind, flavour", [
    ([0.0, -0.3, -0.6], "LC", ""),
    ([0.0, 0.0, -0.6], "QP", ""),                       # two zeros, clearly negative sum: attracting torus
    ([0.0, 0.0, 0.0], "NEUTRAL", "conservative"),      # all zero: neutral family
    ([0.4, 0.0, -1.0], "CH", "dissipative"),
    ([0.4, 0.0, -0.4], "CH", "conservative"),          # (l, 0, -l): volume conserved, not QP, not attracting
])
def test_decide_kinds(lam, kind, flavour):
    bl, bm = _blocks(lam)
    d = decide(bl, bm, np.full(3, 0.1), 800.0, OPTS, periodic=False)
    assert (d.state, d.kind, d.flavour) == ("decided", kind, flavour), d.reason


def test_a_zero_needs_length_and_an_unresolved_exponent_is_not_decided():
    bl, bm = _blocks([0.0, -0.3, -0.6], B=20)
    # T = 200 < t_zero_min: the zero exponent is not called zero yet
    assert decide(bl, bm, np.full(3, 0.1), 200.0, OPTS).state == "continue"
    # an exponent at the edge of the band whose interval straddles it: continue
    # (band at T = 800 is 0.0125; 0.016 +- 3 x 0.0022 straddles it)
    bl, bm = _blocks([0.016, -0.3, -0.6], noise=0.02)
    d = decide(bl, bm, np.full(3, 0.1), 800.0, OPTS)
    assert d.state == "continue" and "exponent 0 not decided" in d.reason


def test_zero_band_shrinks_like_log_t_over_t():
    T = np.array([100.0, 400.0, 1600.0, 1e5])
    b = OPTS.zero_band(T)
    np.testing.assert_allclose(b[:2], 1.5 * np.log(T[:2]) / T[:2])
    assert b[-1] == OPTS.zero_floor and np.all(np.diff(b) <= 0)


def test_transients_are_not_stationary():
    bl, bm = _blocks([0.0, -0.3, -0.6])
    drift = bm + np.linspace(0, 0.05, bm.shape[0])[:, None]       # slow drift of the means
    assert decide(bl, drift, np.full(3, 0.1), 800.0, OPTS).state == "drop"
    # stationary means but a decaying amplitude (spiral into a weak focus): not a torus
    d = decide(*_blocks([0.0, 0.0, -0.6]), np.full(3, 0.1), 800.0, OPTS, amp_ratio=0.5)
    assert d.state == "drop" and "amplitude" in d.reason
    assert decide(bl, bm, np.full(3, 1e-9), 800.0, OPTS).state == "rest"


def test_a_periodic_return_makes_two_near_zeros_a_cycle():
    bl, bm = _blocks([0.0, -0.004, -0.6])
    assert decide(bl, bm, np.full(3, 0.1), 1600.0, OPTS, periodic=False).kind == "QP"
    d = decide(bl, bm, np.full(3, 0.1), 1600.0, OPTS, periodic=True)
    assert (d.kind, d.flavour) == ("LC", "family")


def test_a_family_of_cycles_is_one_set():
    # J = 0, lam = g/2 (the exceptional point): every orbit is a cycle of a one-parameter family
    # (exponents 0, 0, -a, -a): one attracting family, not one "LC" per initial condition
    res = census(LMG_DIMER, {"J": 0.0, "lam": 0.5}, n_initial=16, seed=1)
    assert res.phase == "LC", res.phase
    assert res.attractors[0].flavour == "family" and res.attractors[0].attracting


def test_options_validate_and_translate_legacy_keywords():
    with pytest.raises(ValueError, match="t_cap must be >= t_min"):
        CensusOptions(t_min=200.0, t_cap=100.0)
    with pytest.raises(ValueError, match="overlap_min"):
        CensusOptions(overlap_min=0.0)
    with pytest.raises(TypeError, match="unknown census option"):
        CensusOptions().with_overrides(t_totl=3.0)
    o = CensusOptions().with_overrides(t_total=300.0, n_blocks=10, dt=0.02)
    assert (o.t_min, o.block_time, o.lyapunov.dt) == (300.0, 30.0, 0.02) and o.t_cap >= 300.0


# -- grouping and phases -----------------------------------------------------------------------
def test_support_grouping_joins_one_chaotic_attractor_and_separates_disjoint_sets(rng):
    # two long samples of one "attractor" (the same uniform cloud) share support whatever their
    # means; a cloud shifted away shares none
    a = rng.uniform(-1, 1, size=(3000, 3))
    b = rng.uniform(-1, 1, size=(3000, 3)) * 0.9
    c = rng.uniform(-1, 1, size=(3000, 3)) * 0.3 + 3.0
    cells, _ = occupied_cells([a, b, c], 0.2)
    assert support_overlap(cells[0], cells[1]) > 0.8 and support_overlap(cells[0], cells[2]) == 0.0
    np.testing.assert_array_equal(group_by_support(cells, 0.3), [0, 0, 1])


def _set(label, kind, attracting, frac, zb, mirror=(), flavour=""):
    z = np.zeros(4)
    return InvariantSet(label=label, kind=kind, flavour=flavour, attracting=attracting, n_members=int(frac * 16),
                        basin_fraction=frac, basin_fraction_err=0.01, exponents=z, exponents_err=z,
                        exponents_spread=z, benettin=z, period=np.nan, observables={"ZB": zb},
                        observables_err={"ZB": 0.01}, confidence=1.0, members=np.arange(int(frac * 16)),
                        state=np.zeros(6), mirror_of=tuple(mirror))


def test_phase_label_counts_mirror_pairs():
    fp = [_set(0, "FP", True, 0.5, 0.3, [(1, "Z2")]), _set(1, "FP", True, 0.5, 0.3, [(0, "Z2")])]
    assert phase_label(fp) == "2FP"
    lc = [_set(2, "LC", True, 0.2, 0.5, [(3, "Z2")]), _set(3, "LC", True, 0.2, 0.5, [(2, "Z2")])]
    assert phase_label([_set(0, "FP", True, 0.6, 1.0, [(0, "Z2")])] + lc) == "FP+2LC"
    neutral = _set(4, "NEUTRAL", False, 0.3, -0.5, flavour="conservative")
    assert phase_label([_set(0, "CH", True, 0.7, 0.0, flavour="dissipative"), neutral]) == "CH"
    assert phase_label([neutral]) == "none"
    # two cycles that are not mirrors of each other are listed apart
    assert phase_label([_set(2, "LC", True, 0.5, 0.5), _set(3, "LC", True, 0.5, 0.1)]) == "LC+LC"


def test_attractor_average_is_over_attracting_sets_only():
    res = census(LMG_DIMER, {"J": 0.0, "lam": 0.3}, n_initial=4, seed=0)
    sets = (_set(0, "CH", True, 0.75, 0.1, flavour="dissipative"),
            _set(1, "NEUTRAL", False, 0.25, -0.7, flavour="conservative"))
    r = replace(res, attractors=sets, basin_weighted={"ZB": 0.75 * 0.1 + 0.25 * -0.7})
    v, e = r.attractor_average("ZB")
    assert v == pytest.approx(0.1) and e > 0
    assert r.summary_row()["att_ZB"] == pytest.approx(0.1) and r.summary_row()["frac_neutral"] == 0.25
    with pytest.raises(KeyError, match="unknown observable"):
        r.attractor_average("nope")


# -- the LMG dimer -----------------------------------------------------------------------------
def test_mirror_fixed_points_and_exact_exponents():
    res = census(LMG_DIMER, {"J": 1.5, "lam": 0.0}, n_initial=12, seed=2)
    assert res.phase == "2FP" and res.status == 0 and res.message == "success"
    a, b = res.attractors
    assert a.attracting and b.attracting and (b.label, "Z2") in a.mirror_of
    np.testing.assert_allclose(a.exponents, np.sort(a.equilibrium["eigenvalues"].real)[::-1])
    row = res.summary_row()
    assert row["n_stable_fp"] == 2 and row["n_fp_attractors"] == 2 and row["frac_attracting"] == 1.0


def test_unreached_stable_equilibrium_is_flagged_not_hidden():
    # one initial condition can reach only one of the two mirror fixed points
    res = census(LMG_DIMER, {"J": 1.5, "lam": 0.0}, n_initial=1, seed=2)
    assert res.phase == "2FP" and res.missed_stable == 1
    assert "flag: 1 stable equilibrium" in res.message
    unreached = [a for a in res.attractors if not a.reached]
    assert len(unreached) == 1 and unreached[0].basin_fraction == 0.0 and unreached[0].n_members == 0


def test_initial_condition_on_the_unstable_normal_state_is_a_saddle():
    # (J, lam) = (1.5, 1.0): the normal state is unstable (lambda_1 = +1.43): at rest there, not chaos
    for kw in ({}, {"t_transient": 0.0}):
        res = census(LMG_DIMER, {"J": 1.5, "lam": 1.0}, y0=np.array([NORMAL_STATE] * 2), **kw)
        assert set(res.trajectories["kind"]) == {"SADDLE"}, res.trajectories["reason"].tolist()
        s = res.attractors[0]
        assert not s.attracting and s.equilibrium["max_eig_re"] > 1.0
        assert res.phase == "none" and res.count("CH") == 0


@pytest.mark.parametrize("kw", [dict(method="rk4", dt=0.5, dt_ortho=0.5), dict(rtol=1e-17, atol=1e-20)])
def test_an_accuracy_that_cannot_be_met_gives_a_status_not_chaos(kw):
    # RK4 at dt = 0.5 fails the step-doubling check; rtol below rounding cannot be met by DOP853
    res = census(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=3, seed=1, t_transient=20.0, t_cap=400.0, **kw)
    assert res.count("CH") == 0 and res.fraction_not_trusted == 1.0 and res.status == -1
    assert all("accuracy not met" in r for r in res.trajectories["reason"]), res.trajectories["reason"].tolist()


@pytest.mark.parametrize("J", [10.0, pytest.param(1000.0, marks=pytest.mark.slow)])  # 1e3: ~50 s of DOP853
def test_decoupled_spins_never_give_chaos(J):
    # lam = 0: two planar flows on S^2, chaos is impossible (Poincare-Bendixson on each sphere)
    res = census(LMG_DIMER, {"J": J, "lam": 0.0}, n_initial=4, seed=1, t_cap=400.0)
    assert res.count("CH") == 0, res.trajectories["reason"].tolist()


def test_neutral_family_on_the_pt_line_is_one_non_attracting_family():
    # J = 0, lam = 0.8 (reversible PT dimer): a family of neutral orbits, no attractor
    res = census(PT_DIMER, {"lam": 0.8}, n_initial=8, seed=3)
    assert res.phase == "none" and res.n_attractors == 0
    fam = [a for a in res.attractors if a.kind == "NEUTRAL"]
    assert len(fam) == 1 and not fam[0].attracting and fam[0].basin_fraction >= 0.75
    assert np.isnan(res.attractor_average("ZB")[0])
    assert abs(res.basin_weighted["ZB"]) < 3 * res.basin_weighted_err["ZB"] + 0.05


# -- reference ladder --------------------------------------------------------------------------
@pytest.mark.parametrize("model, params, phase", [
    (LINEAR3, {}, "FP"),
    (STUART_LANDAU, {"mu": 0.5}, "LC"),
    (TORUS, {}, "QP"),
])
def test_reference_ladder(model, params, phase):
    res = census(model, params, n_initial=4, seed=0)
    assert res.phase == phase and res.status == 0, (res.message, res.trajectories["reason"].tolist())
    assert all(a.attracting for a in res.attractors) and res.n_attractors == 1


def test_torus_exponents_are_exact():
    # TORUS: exponents (0, 0, -2 mu_1, -2 mu_2) = (0, 0, -1, -0.5)
    res = census(TORUS, {}, n_initial=2, seed=0)
    np.testing.assert_allclose(res.attractors[0].exponents, [0.0, 0.0, -0.5, -1.0], atol=0.01)


@pytest.mark.slow
def test_lorenz_is_one_dissipative_chaotic_attractor():
    # classic parameters: l1 ~ 0.906, sum = -(sigma + 1 + beta) = -13.67 (exact)
    res = census(LORENZ, {}, n_initial=6, seed=0)
    assert res.phase == "CH" and res.count("CH") == 1
    a = res.attractors[0]
    assert a.flavour == "dissipative" and a.attracting and a.n_members == 6
    assert 0.8 < a.exponents[0] < 1.0 and a.exponents.sum() == pytest.approx(-13.667, abs=0.05)


def test_not_decided_by_the_cap_is_undecided_with_evidence():
    # a cap below the length a zero exponent needs (t_zero_min = 400): neutral orbits cannot be decided
    res = census(PT_DIMER, {"lam": 0.8}, n_initial=3, seed=3, t_cap=200.0)
    t = res.trajectories
    assert (t["status"] == "undecided").all() and (t["label"] == -1).all() and (t["kind"] == "-1").all()
    assert all(r.startswith("undecided at the cap t_cap=200") and len(r) > 60 for r in t["reason"])  # + evidence
    assert res.fraction_undecided == 1.0 and res.status == -1 and res.phase == "none"
    # how much integration each label cost
    assert list(res.cost["kind"]) == ["-1"] and res.cost["t_mean"].iat[0] >= 200.0


def test_in_sorted_is_isin_on_occupations():
    # the binary-search membership of sorted unique cell codes gives np.isin's mask, empty sides too
    from analysis.attractors.grouping import in_sorted, shared_both_ways

    rng = np.random.default_rng(2)
    for na, nb in [(0, 5), (5, 0), (1, 1), (40, 70), (300, 200)]:
        ca = np.unique(rng.integers(0, 500, na))
        cb = np.unique(rng.integers(0, 500, nb))
        np.testing.assert_array_equal(in_sorted(ca, cb), np.isin(ca, cb))
    cells, _ = occupied_cells([rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + 0.5], 0.2)
    (ca, wa), (cb, wb) = cells
    assert shared_both_ways(cells[0], cells[1]) == min(wa[np.isin(ca, cb)].sum(), wb[np.isin(cb, ca)].sum())


@pytest.mark.parametrize("n", [16, 64, 256])
def test_pooled_sums_do_not_turn_a_conservative_sea_into_an_attractor(n):
    # n undecided chaotic orbits on one support, sums scattered around zero with their own errors
    # (a conservative sea): no pooled group, whatever n (the pool once kept only the orbits whose
    # sum was negative by two errors and, with enough of them, called the sea dissipative); sums
    # around -0.03 (a weakly dissipative attractor) pool into one dissipative group
    from analysis.attractors.census import pool_undecided_sums
    from analysis.attractors.options import CensusOptions

    opts = CensusOptions()
    rng = np.random.default_rng(n)
    cells, _ = occupied_cells([rng.normal(size=(600, 3)) for _ in range(n)], opts.family_cell_frac)
    lam = np.tile([0.1, 0.0, -0.02, -0.08], (n, 1))
    lam_err = np.full((n, 4), 0.01)
    err = np.full(n, 0.007)
    idx = list(range(n))
    assert pool_undecided_sums(idx, lam, lam_err, rng.normal(0.0, 0.007, n), err, cells, opts) == []
    # symmetric around zero, half of them negative by ~3 errors: the selected half alone would pool to
    # -0.02 +- 0.007 / sqrt(n / 2), "dissipative"
    assert pool_undecided_sums(idx, lam, lam_err, np.resize([0.02, -0.02], n), err, cells, opts) == []
    got = pool_undecided_sums(idx, lam, lam_err, rng.normal(-0.03, 0.007, n), err, cells, opts)
    assert len(got) == 1 and sorted(got[0][0]) == idx and got[0][1] + 3 * got[0][2] < -opts.zero_band(opts.t_cap)
    # a dissipative attractor beside a conservative sea on the same coarse support: only the orbits
    # whose spectra agree pool (the sea's members, largest exponent 0.12 against 0.25, stay apart)
    lam2 = lam.copy()
    lam2[: n // 2, 0] = 0.25
    sums = np.where(np.arange(n) < n // 2, -0.03, np.resize([0.01, -0.01], n))
    got = pool_undecided_sums(idx, lam2, lam_err, sums, err, cells, opts)
    assert len(got) == 1 and sorted(got[0][0]) == list(range(n // 2))
    # without chaotic evidence (largest exponent inside the band) nothing is pooled
    assert pool_undecided_sums(idx, lam * [0.0, 1, 1, 1], lam_err, np.full(n, -0.03), err, cells, opts) == []


def test_no_trajectory_ends_waiting_on_a_leader():
    # at this Fig. 2 point (sample of bench_fig2_converged, 15 pairs, seed 3) a trajectory followed a
    # leader that was itself a follower, resolved after it in the last round: it ended with decision
    # 'continue', outside every count (1/16 undecided reported, 2/16 unlabelled). Every trajectory now
    # ends with a final decision, and the shares add up to one.
    from analysis.attractors import census_points
    from studies.benchmarks.bench_fig2_converged import _sample

    pts, Y0, _ = _sample(15, 3)
    i = next(k for k, p in enumerate(pts) if abs(p["J"] - 1.04) < 1e-9 and abs(p["lam"] - 1.41) < 1e-9)
    r = census_points(LMG_DIMER, [pts[i]], Y0[i:i + 1])[0]
    final = {"settled", "decided", "certified", "joined", "inherited", "undecided", "not_trusted", "diverged",
             "not_measured"}
    assert set(r.trajectories["decision"]) <= final
    total = sum(a.basin_fraction for a in r.attractors) + r.fraction_unclassified + r.fraction_diverged
    assert abs(total - 1.0) < 1e-12
