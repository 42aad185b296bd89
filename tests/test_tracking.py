"""analysis.track_attractors: IDs along a path, events located and classified, cycles tied to branches.

CI tier: the matching rules on hand-made sets (mirrors, mergers, deaths, cycles of other periods),
the least-period refinement against the Stuart-Landau closed form, bad input, and a short path
through the supercritical Hopf point of the Stuart-Landau oscillator (FP death and LC birth at
mu = 0, local, named HB; the cycle's period 2 pi / omega matched to the continued branch).
Slow tier: the issue's checks on the PT dimer at J = 1.5, J = 0.2 and J = 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import analysis
from analysis.attractors.tracking import _assign, _link, minimal_period
from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model
from bifurcate.models import LMG_DIMER, STUART_LANDAU


# --------------------------------------------------------------------------------------------
# matching rules on hand-made sets
# --------------------------------------------------------------------------------------------
@dataclass
class _S:
    label: int
    kind: str
    mean: tuple
    members: tuple = ()
    attracting: bool = True
    period: float = float("nan")
    mirror_of: tuple = ()
    observables: dict = field(default_factory=dict)

    def __post_init__(self):
        self.observables = {n: v for n, v in zip(STUART_LANDAU.state_names, self.mean)}
        self.members = np.asarray(self.members, dtype=int)


@dataclass
class _R:
    attractors: tuple


def _ids():
    c = iter(range(100, 1000))
    return lambda: next(c)


def _step(prev, cur_sets, owner, match_tol=0.15):
    res = _R(tuple(cur_sets))
    preds = _link(STUART_LANDAU, prev, res, len(owner), owner, match_tol)
    return _assign(STUART_LANDAU, prev, res, preds, _ids())


def test_mirror_pair_keeps_ids_by_lineage_even_when_means_swap_roles():
    # previous: mirror LCs 7 (+x) and 8 (-x); the seeds (0 from 7, 1 from 8) land in sets 1 and 0:
    # the census's labels are swapped, the IDs follow the seeds, never the partner
    prev = {7: _S(0, "LC", (0.5, 0.0), period=3.0), 8: _S(1, "LC", (-0.5, 0.0), period=3.0)}
    cur = [_S(0, "LC", (-0.52, 0.0), members=(1, 3), period=3.1), _S(1, "LC", (0.52, 0.0), members=(0, 2), period=3.1)]
    ids, events = _step(prev, cur, [7, 8])
    assert ids == {0: 8, 1: 7}
    assert events == []


def test_two_chaotic_sets_whose_seeds_share_one_set_merge_with_a_new_id():
    prev = {3: _S(0, "CH", (0.4, 0.0)), 4: _S(1, "CH", (-0.4, 0.0))}
    cur = [_S(0, "CH", (0.0, 0.0), members=(0, 1, 2))]
    ids, events = _step(prev, cur, [3, 4])
    assert ids[0] not in (3, 4)
    assert [e["event"] for e in events] == ["merger"]
    assert events[0]["ids"] == (3, 4) and events[0]["new_id"] == ids[0]


def test_small_cycle_whose_seed_falls_into_the_chaotic_set_beside_it_dies_not_merges():
    # the dimer at J = 1.5, lam = 0.59: beside the merged chaotic set 7 a weakly stable cycle 8 (one
    # trajectory, period 27.6, means within 0.012 of the chaotic set's); at the next value its seed
    # falls into the chaotic set: the cycle dies into 7, which keeps its ID (no merger, no new ID)
    prev = {7: _S(0, "CH", (0.0, 0.0)), 8: _S(1, "LC", (0.012, 0.0), period=27.6)}
    cur = [_S(0, "CH", (0.003, 0.0), members=(0, 1, 2))]
    ids, events = _step(prev, cur, [7, 8])
    assert ids == {0: 7}
    assert [(e["event"], e["ids"], e["new_id"], e["kind_before"]) for e in events] == [("death", (8,), 7, "LC")]
    # two cycles that merge as they turn chaotic (no predecessor of the new kind) still merge
    prev2 = {3: _S(0, "LC", (0.4, 0.0), period=5.0), 4: _S(1, "LC", (-0.4, 0.0), period=5.0)}
    ids, events = _step(prev2, [_S(0, "CH", (0.0, 0.0), members=(0, 1, 2))], [3, 4])
    assert [(e["event"], e["ids"], e["kind_after"]) for e in events] == [("merger", (3, 4), "CH")]
    assert ids[0] not in (3, 4)
    # two chaotic sets and a cycle beside them: the chaotic pair merges, the cycle dies into the merged set
    prev3 = {**prev2, 3: _S(0, "CH", (0.4, 0.0)), 4: _S(1, "CH", (-0.4, 0.0)), 5: _S(2, "LC", (0.1, 0.0), period=9.0)}
    ids, events = _step(prev3, [_S(0, "CH", (0.0, 0.0), members=(0, 1, 2))], [3, 4, 5])
    assert sorted((e["event"], e["ids"]) for e in events) == [("death", (5,)), ("merger", (3, 4))]
    assert [e["new_id"] for e in events if e["event"] == "death"] == [ids[0]]


def test_fixed_point_whose_seed_joins_a_cycle_dies_and_the_cycle_keeps_its_id():
    prev = {0: _S(0, "FP", (0.0, 0.0)), 1: _S(1, "LC", (0.0, 0.1), period=6.0)}
    cur = [_S(0, "LC", (0.0, 0.1), members=(0, 1, 2), period=6.1)]
    ids, events = _step(prev, cur, [0, 1])
    assert ids == {0: 1}
    assert [(e["event"], e["ids"], e["new_id"]) for e in events] == [("death", (0,), 1)]


def test_a_cycle_of_another_period_is_not_a_continuation():
    # seed of a period-3 cycle lands in a period-4.5 cycle (ratio 1.5: neither the same cycle nor a
    # period doubling): the old one dies and the new one is born
    prev = {5: _S(0, "LC", (0.1, 0.0), period=3.0)}
    cur = [_S(0, "LC", (0.1, 0.0), members=(0,), period=4.5)]
    ids, events = _step(prev, cur, [5])
    assert ids[0] != 5
    assert sorted(e["event"] for e in events) == ["birth", "death"]
    # ... while a period doubling keeps the ID without an event
    cur2 = [_S(0, "LC", (0.1, 0.0), members=(0,), period=6.05)]
    ids2, events2 = _step(prev, cur2, [5])
    assert ids2 == {0: 5} and events2 == []


def test_cycle_turning_chaotic_is_a_kind_change_and_fp_losing_stability_a_death():
    prev = {2: _S(0, "LC", (0.3, 0.0), period=3.0), 9: _S(1, "FP", (0.0, 0.0))}
    cur = [_S(0, "CH", (0.3, 0.0), members=(0,)), _S(1, "SADDLE", (0.0, 0.0), members=(1,), attracting=False)]
    ids, events = _step(prev, cur, [2, 9])
    assert ids == {0: 2, 1: 9}
    ev = {e["event"]: e for e in events}
    assert set(ev) == {"kind_change", "death"}
    assert (ev["kind_change"]["kind_before"], ev["kind_change"]["kind_after"]) == ("LC", "CH")
    assert ev["death"]["ids"] == (9,)


def test_unseeded_non_attracting_set_matched_by_distance_and_kind_only():
    prev = {4: _S(0, "NEUTRAL", (0.2, 0.2), attracting=False)}
    near = [_S(0, "NEUTRAL", (0.25, 0.2), members=(0,), attracting=False)]
    far = [_S(0, "NEUTRAL", (0.9, 0.2), members=(0,), attracting=False)]
    assert _step(prev, near, [])[0] == {0: 4}
    ids, events = _step(prev, far, [])
    assert ids[0] != 4 and events == []  # non-attracting sets make no events


# --------------------------------------------------------------------------------------------
# least period, bad input
# --------------------------------------------------------------------------------------------
def test_minimal_period_is_the_first_return_of_the_stuart_landau_cycle():
    mu, om = 0.5, 1.3
    y = np.array([np.sqrt(mu), 0.0])
    T, gap = minimal_period(STUART_LANDAU, {"mu": mu, "omega": om}, y, 2 * (2 * np.pi / om))
    assert abs(T - 2 * np.pi / om) < 1e-6
    assert gap < 1e-6
    # at rest on the equilibrium there is no close return after 0.05 T that is a minimum: nan or tiny
    T0, _ = minimal_period(STUART_LANDAU, {"mu": mu, "omega": om}, y, float("nan"))
    assert np.isnan(T0)


@njit
def _two_tone_rhs(y, p, out):
    # two Stuart-Landau oscillators, frequencies 1 and 1/2, radii 1 and eps = p[0]: a cycle of period
    # 4 pi that nearly returns (gap ~ eps) after 2 pi, as a cycle just past a period doubling does
    eps = p[0]
    r1 = y[0] * y[0] + y[1] * y[1]
    r2 = y[2] * y[2] + y[3] * y[3]
    out[0] = (1.0 - r1) * y[0] - y[1]
    out[1] = (1.0 - r1) * y[1] + y[0]
    out[2] = (eps * eps - r2) * y[2] - 0.5 * y[3]
    out[3] = (eps * eps - r2) * y[3] + 0.5 * y[2]
    return 0


@njit
def _two_tone_jac(y, p, out):
    eps = p[0]
    r1 = y[0] * y[0] + y[1] * y[1]
    r2 = y[2] * y[2] + y[3] * y[3]
    out[:, :] = 0.0
    out[0, 0] = 1.0 - r1 - 2.0 * y[0] * y[0]
    out[0, 1] = -2.0 * y[0] * y[1] - 1.0
    out[1, 0] = -2.0 * y[0] * y[1] + 1.0
    out[1, 1] = 1.0 - r1 - 2.0 * y[1] * y[1]
    out[2, 2] = eps * eps - r2 - 2.0 * y[2] * y[2]
    out[2, 3] = -2.0 * y[2] * y[3] - 0.5
    out[3, 2] = -2.0 * y[2] * y[3] + 0.5
    out[3, 3] = eps * eps - r2 - 2.0 * y[3] * y[3]
    return 0


_TWO_TONE = Model(name="two_tone", state_names=("x1", "y1", "x2", "y2"), param_names=("eps",),
                  defaults={"eps": 0.01}, rhs=_two_tone_rhs, jac=_two_tone_jac, geometry=Euclidean(4),
                  module=__name__, attr="_TWO_TONE")


def test_minimal_period_past_a_period_doubling_is_two_turns():
    y = np.array([1.0, 0.0, 0.01, 0.0])
    # the census's estimate may be either; the near return at 2 pi (relative gap ~ 0.005) is not taken
    for T_est in (4 * np.pi, 4 * np.pi * 1.01):
        T, gap = minimal_period(_TWO_TONE, {"eps": 0.01}, y, T_est)
        assert abs(T - 4 * np.pi) < 1e-5 and gap < 1e-5
    # a true cycle counted twice by the estimate still gives its least period
    T, _ = minimal_period(_TWO_TONE, {"eps": 0.01}, np.array([1.0, 0.0, 0.0, 0.0]), 4 * np.pi)
    assert abs(T - 2 * np.pi) < 1e-5


@pytest.mark.parametrize("kw, exc, words", [
    (dict(param="nope"), KeyError, "nope"),
    (dict(values=[0.1, 0.3, 0.2]), ValueError, "monotone"),
    (dict(values=[0.1]), ValueError, "at least 2"),
    (dict(n_initial=0), ValueError, "n_initial"),
    (dict(bisect_tol=-1.0), ValueError, "bisect_tol"),
])
def test_bad_input_names_the_argument(kw, exc, words):
    args = dict(model=STUART_LANDAU, param="mu", values=[-0.2, 0.2], n_initial=2)
    args.update(kw)
    with pytest.raises(exc, match=words):
        analysis.track_attractors(**args)


# --------------------------------------------------------------------------------------------
# a short path through a Hopf point with a closed form
# --------------------------------------------------------------------------------------------
def test_stuart_landau_hopf_fp_death_and_lc_birth_are_local_at_mu_0():
    tr = analysis.track_attractors(STUART_LANDAU, "mu", [-0.4, -0.1, 0.2, 0.5], n_initial=4, seed=1, bisect_tol=0.08)
    df = tr.to_frame()
    fp = df[df["kind"] == "FP"]
    lc = df[df["kind"] == "LC"]
    assert set(fp["mu"]) == {-0.4, -0.1} and fp["attractor_id"].nunique() == 1
    assert set(lc["mu"]) == {0.2, 0.5} and lc["attractor_id"].nunique() == 1
    # the unstable equilibrium keeps the fixed point's ID, not attracting
    sad = df[df["kind"] == "SADDLE"]
    assert (~sad["attracting"]).all() and set(sad["attractor_id"]) <= set(fp["attractor_id"])
    # cycles: least period 2 pi / omega, matched to the branch continued from the Hopf point
    assert np.allclose(lc["period"], 2 * np.pi, atol=1e-6)
    assert lc["cycle_match"].all() and (lc["period_mismatch"] < 1e-6).all()
    # time averages over the circle vanish (within their errors), the model's own state names
    assert (np.abs(lc["x"]) < 5 * lc["x_err"] + 1e-3).all() and (np.abs(lc["y"]) < 5 * lc["y_err"] + 1e-3).all()
    ev = tr.events()
    assert sorted(ev["event"]) == ["birth", "death"]
    for _, e in ev.iterrows():
        assert e["classification"] == "local" and e["special_point"] == "HB"
        assert abs(e["special_value"]) < 1e-8
        assert e["lo"] <= 0.0 <= e["hi"] and e["hi"] - e["lo"] <= 0.08
    # the basin fraction comes from the fresh initial conditions with a binomial error
    assert np.allclose(df.loc[df["attracting"], "basin_fraction"], 1.0)
    assert (df["basin_fraction_err"] > 0).all()
    # the mean field from the tracked sets: at the first value (no seeds) the census's own
    # attracting-only average; the fixed point at the origin exactly, the cycle's average ~ 0
    av = tr.averages(["x", "y"])
    assert list(av["mu"]) == [-0.4, -0.1, 0.2, 0.5] and list(av["phase"]) == ["FP", "FP", "LC", "LC"]
    m0, e0 = tr.censuses[0].attractor_average("x")
    assert av["att_x"].iloc[0] == pytest.approx(m0, abs=1e-15) and av["att_x_err"].iloc[0] == pytest.approx(e0)
    assert np.allclose(av["att_x"].iloc[:2], 0.0, atol=1e-9) and (av["att_x_err"] >= 0).all()
    assert (np.abs(av["att_x"].iloc[2:]) < 5 * av["att_x_err"].iloc[2:] + 1e-3).all()
    assert (av["attracting_share"] == 1.0).all() and (av["n_fresh"] == 4).all()
    assert list(av["n_seeded"]) == list(tr.n_seed)


# --------------------------------------------------------------------------------------------
# the issue's checks on the PT dimer (slow)
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dimer_J15_mirror_cycles_fp_death_at_hopf_and_chaotic_merger_global():
    vals = np.r_[0.38:0.54:0.04, 0.55:0.63:0.02]
    tr = analysis.track_attractors(LMG_DIMER, "lam", vals, {"J": 1.5}, n_initial=6, seed=3, bisect_tol=4e-3,
                                   max_bisect=5)
    df, ev, sp = tr.to_frame(), tr.events(), tr.special
    lpc = sp[sp["kind"] == "LPC"]["value"].to_numpy()
    pd_ = sp[sp["kind"] == "PD"]["value"].to_numpy()
    hb = sp[sp["kind"] == "HB"]["value"].to_numpy()
    lam_lpc = float(np.min(lpc))
    lam_pd = float(np.min(pd_))
    assert 0.40 < lam_lpc < 0.43 and 0.49 < lam_pd < 0.52
    # two LC births at the fold of cycles, local, named LPC
    births = ev[(ev["event"] == "birth") & (ev["kind_after"] == "LC") & (ev["lam"] < lam_pd)]
    assert len(births) == 2
    assert (births["classification"] == "local").all() and (births["special_point"] == "LPC").all()
    ids = [int(i) for i in births["attractor_ids"]]
    # the pair is tracked with the same IDs at every path value between the fold and the first PD,
    # each the other's Z2 mirror, its least period on the continued branch to 1e-3
    inside = [v for v in vals if lam_lpc < v < lam_pd]
    assert len(inside) >= 3
    for v in inside:
        rows = df[(df["lam"] == v) & df["attractor_id"].isin(ids)]
        assert sorted(rows["attractor_id"]) == sorted(ids), v
        assert (rows["kind"] == "LC").all() and rows["attracting"].all()
        assert set(rows["mirror_of"]) == {f"{ids[1]}:Z2", f"{ids[0]}:Z2"}
        assert (rows["period_mismatch"] < 1e-3).all() and rows["cycle_match"].all()
    # the fixed points die at the broken state's subcritical Hopf point: local, named HB
    deaths = ev[(ev["event"] == "death") & (ev["kind_before"] == "FP")]
    assert len(deaths) == 2
    assert (deaths["classification"] == "local").all() and (deaths["special_point"] == "HB").all()
    assert np.allclose(deaths["special_value"], hb.min(), atol=1e-9)
    assert (np.abs(deaths["lam"] - deaths["special_value"]) < 5e-3).all()
    # seeded from the Newton-continued equilibrium, the bracket holds the Hopf point itself
    assert ((deaths["lo"] <= hb.min()) & (hb.min() <= deaths["hi"])).all()
    # the two chaotic attractors merge: a global event between 0.55 and 0.60
    mergers = ev[ev["event"] == "merger"]
    assert len(mergers) == 1
    m = mergers.iloc[0]
    assert m["kind_after"] == "CH" and m["classification"] == "global" and m["special_point"] == ""
    assert 0.55 < m["lam"] < 0.60 and m["located"]
    print(ev.to_string())


@pytest.mark.slow
def test_dimer_J02_fold_of_cycles_and_subcritical_hopf_of_the_normal_state_are_local():
    from bifurcate.continuation.reference import hopf_lam_exact

    lam_h = float(hopf_lam_exact(0.2))
    tr = analysis.track_attractors(LMG_DIMER, "lam", [0.52, 0.535, 0.5385, 0.545, 0.56], {"J": 0.2}, n_initial=8,
                                   seed=3, bisect_tol=1e-3, max_bisect=5)
    ev, sp = tr.events(), tr.special
    hb = sp[sp["kind"] == "HB"]
    assert len(hb) >= 1 and abs(hb["value"].iloc[0] - lam_h) < 1e-6
    assert (hb["criticality"] == "subcritical").all()
    lpc = sp[sp["kind"] == "LPC"]["value"].to_numpy()
    assert lpc.size >= 1 and lam_h - 0.01 < lpc.min() < lam_h
    death = ev[(ev["event"] == "death") & (ev["kind_before"] == "FP")]
    assert len(death) == 1
    d = death.iloc[0]
    assert d["classification"] == "local" and d["special_point"] == "HB"
    assert abs(d["special_value"] - lam_h) < 1e-6 and d["lo"] <= lam_h <= d["hi"]
    birth = ev[(ev["event"] == "birth") & (ev["kind_after"] == "LC")]
    assert len(birth) >= 1
    b = birth.iloc[0]
    assert b["classification"] == "local" and b["special_point"] == "LPC"
    assert abs(b["special_value"] - lpc.min()) < 1e-9
    print(ev.to_string())


@pytest.mark.slow
def test_dimer_J0_neutral_family_is_not_an_attractor():
    tr = analysis.track_attractors(LMG_DIMER, "lam", [0.3, 0.45, 0.6, 0.7], {"J": 0.0}, n_initial=6, seed=3,
                                   bisect_tol=4e-3, max_bisect=5)
    df, ev = tr.to_frame(), tr.events()
    neutral = df[df["kind"] == "NEUTRAL"]
    assert len(neutral) >= 2 and set(neutral["lam"]) >= {0.6, 0.7}
    assert not neutral["attracting"].any()
    # above the Hopf point lam = g/2 nothing attracts: no attracting row, no birth
    assert not df[df["lam"] > 0.5]["attracting"].any()
    assert not (ev["event"] == "birth").any()
    # the normal state dies at its Hopf point lam = 1/2 (exact at J = 0): local, named HB
    d = ev[(ev["event"] == "death")]
    assert len(d) == 1 and d.iloc[0]["special_point"] == "HB" and abs(d.iloc[0]["special_value"] - 0.5) < 1e-9
    print(ev.to_string())


def test_a_seed_that_falls_into_a_distant_chaotic_set_does_not_carry_its_id():
    # attracting set 5 (CH, mean x = 0.8) dies; its seed lands in a chaotic set at x = 0.0 that was
    # there before as the non-attracting set 6 (x = 0.02): 6 continues (and becomes attracting: a
    # birth), 5 dies into it
    prev = {5: _S(0, "CH", (0.8, 0.0)), 6: _S(1, "CH", (0.02, 0.0), attracting=False)}
    far = [_S(0, "CH", (0.0, 0.0), members=(0, 1, 2))]
    ids, events = _step(prev, far, [5])
    assert ids == {0: 6}
    assert sorted((e["event"], e["ids"]) for e in events) == [("birth", (6,)), ("death", (5,))]
    assert [e for e in events if e["event"] == "death"][0]["new_id"] == 6
    # without a better match the lineage stands (a set that moved a lot); a near set continues 5
    ids, events = _step({5: prev[5]}, far, [5])
    assert ids == {0: 5} and events == []
    near = [_S(0, "CH", (0.75, 0.0), members=(0, 1, 2))]
    ids, events = _step(prev, near, [5])
    assert ids == {0: 5} and events == []
    # two chaotic sets merging into one between them still merge (the jump rule is for one predecessor)
    prev2 = {3: _S(0, "CH", (0.45, 0.0)), 4: _S(1, "CH", (-0.45, 0.0))}
    ids, events = _step(prev2, [_S(0, "CH", (0.0, 0.0), members=(0, 1, 2))], [3, 4])
    assert [e["event"] for e in events] == ["merger"]
