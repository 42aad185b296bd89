"""Adaptive refinement against continued curves: the refined boundary lies on the exact curve, and a
phase change is marked global only where no continued curve explains it.

CI tier: the cusp normal form dx = a + b x - x^3 (AUTO demo ``cusp``), whose folds lie exactly on
27 a^2 = 4 b^3 (b > 0); one stable equilibrium outside the cusp, two inside. The map counts stable
equilibria only (no census), so the known answer is the fold curve itself.
Slow tier (13-23 s here): the Bautin normal form with the full census: the Hopf line beta1 = 0 and the fold of
cycles beta1 = -beta2^2 / 4 (beta2 > 0) bound the phases FP, FP+LC and LC.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.phase_boundaries import Boundaries, continued_boundaries, cycle_boundaries, phase_transitions
from analysis.phase_diagrams import phase_diagram
from bifurcate.models.classic import BAUTIN, CUSP

GRID = {"a": np.linspace(-0.6, 0.6, 9), "b": np.linspace(-0.5, 1.0, 9)}
FAST = dict(n_initial=4, seed=3, t_end=100.0, census=False, progress=False)


def fold_a(b):
    """The cusp's folds: a = +-2 (b / 3)^(3/2) for b >= 0 (x^3 - b x = a at 3 x^2 = b)."""
    return 2.0 * (np.maximum(b, 0.0) / 3.0) ** 1.5


@pytest.fixture(scope="module")
def cusp_maps(tmp_path_factory):
    store = tmp_path_factory.mktemp("cusp_store")
    ref = phase_diagram(CUSP, GRID, refine=2, store=store, **FAST)
    full = phase_diagram(CUSP, GRID, **FAST)
    return ref, full, store


@pytest.fixture(scope="module")
def cusp_curves():
    return continued_boundaries(CUSP, GRID, cycles=False)


def test_continued_fold_curve_is_the_exact_one(cusp_curves):
    t = cusp_curves.to_frame()
    lp = t[t["kind"] == "LP"]
    assert len(lp) > 20
    np.testing.assert_allclose(np.abs(lp["a"]), fold_a(lp["b"]), atol=1e-7)
    # both branches of the fold, up to the top of the rectangle
    assert lp["a"].min() < -0.38 and lp["a"].max() > 0.38 and lp["b"].max() == pytest.approx(1.0)
    # the cusp point itself is a degenerate branch point: reported, not continued
    assert set(t["kind"]) == {"LP"}


def test_refinement_levels_store_and_rows(cusp_maps):
    ref, full, store = cusp_maps
    r, f = ref.to_frame(), full.to_frame()
    assert ref.n_computed < 0.75 * len(f)
    # the coarse grid is level 0 (stride 4), then 1 and 2; every point that entered at level 0 was computed
    assert set(r["level"]) == {0, 1, 2}
    assert r.loc[r["level"] == 0, "computed"].all()
    assert set(r.loc[r["level"] == 0, "i_a"]) == {0, 4, 8} and set(r.loc[r["level"] == 0, "i_b"]) == {0, 4, 8}
    # every computed point is the point of the full sweep; the filled ones agree with it here
    comp = r["computed"].to_numpy()
    cols = ["a", "b", "n_stable_fp", "phase", "n_attractors"]
    pd.testing.assert_frame_equal(r.loc[comp, cols].reset_index(drop=True), f.loc[comp, cols].reset_index(drop=True))
    np.testing.assert_array_equal(r["n_stable_fp"], f["n_stable_fp"])
    # resumable: the same call again computes nothing and returns the same table
    again = phase_diagram(CUSP, GRID, refine=2, store=store, **FAST)
    assert again.n_computed == 0
    pd.testing.assert_frame_equal(again.to_frame()[cols + ["level"]], r[cols + ["level"]])


def test_refined_boundary_brackets_the_exact_fold_and_is_local(cusp_maps, cusp_curves):
    ref, _, _ = cusp_maps
    tr = phase_transitions(ref, cusp_curves, columns=("n_stable_fp",))
    assert len(tr) >= 8
    # every transition lies on a segment of one finest grid step that the exact fold crosses
    for _, e in tr.iterrows():
        if e["axis"] == "a":
            af = fold_a(e["b_0"])
            assert any(min(e["a_0"], e["a_1"]) <= s * af <= max(e["a_0"], e["a_1"]) for s in (-1, 1)), e
        else:
            bf = 3.0 * (abs(e["a_0"]) / 2.0) ** (2.0 / 3.0)
            assert e["b_0"] <= bf <= e["b_1"], e
    assert (tr["classification"] == "local").all() and (tr["curve_kind"] == "LP").all()
    assert (tr["distance"] < 0.1).all()        # grid steps: the curve passes through the segment
    pd.testing.assert_frame_equal(ref.transitions(cusp_curves, columns=("n_stable_fp",)), tr)


def test_a_transition_no_curve_explains_is_global(cusp_maps, cusp_curves):
    ref, _, _ = cusp_maps
    # without curves every change is global; with only the a > 0 half of the fold, the changes at
    # a > 0 are local and those at a < 0 global wherever the halves are more than a grid step
    # apart (b >= 0.6: 2 a_fold >= 0.36, 2.4 steps of 0.15; near the cusp point they are closer
    # than the tolerance and cannot be told apart at this grid)
    assert (phase_transitions(ref, None)["classification"] == "global").all()
    t = cusp_curves.to_frame()
    half = t[(t["kind"] == "LP") & (t["a"] > 0)]
    tr = phase_transitions(ref, Boundaries(half, "a", "b"), columns=("n_stable_fp",), tol=0.5)
    mid = 0.5 * (tr["a_0"] + tr["a_1"])
    assert (tr.loc[mid > 0.01, "classification"] == "local").all()
    far = (mid < -0.01) & (tr[["b_0", "b_1"]].min(axis=1) >= 0.6)
    assert far.sum() >= 3
    assert (tr.loc[far, "classification"] == "global").all()


def test_bad_input():
    with pytest.raises(ValueError, match="exactly two"):
        continued_boundaries(CUSP, {"a": [0, 1]})
    with pytest.raises(ValueError, match="kinds"):
        continued_boundaries(CUSP, GRID, kinds=("XX",))
    with pytest.raises(ValueError, match="n_scan"):
        continued_boundaries(CUSP, GRID, n_scan=0)


@pytest.mark.slow
def test_bautin_hopf_and_fold_of_cycles_with_the_census():
    # Bautin: Hopf at beta1 = 0 (subcritical for beta2 > 0), fold of cycles at beta1 = -beta2^2 / 4:
    # FP left of the LPC curve, FP+LC between, LC right of the Hopf line
    grid = {"beta1": np.linspace(-0.3, 0.2, 9), "beta2": np.linspace(-0.5, 1.0, 5)}
    b = continued_boundaries(BAUTIN, grid)
    t = b.to_frame()
    assert {"HB", "LPC"} <= set(t["kind"])
    np.testing.assert_allclose(t.loc[t["kind"] == "HB", "beta1"], 0.0, atol=1e-9)
    lpc = t[t["kind"] == "LPC"]
    np.testing.assert_allclose(lpc["beta1"], -lpc["beta2"] ** 2 / 4, atol=1e-6)
    pdg = phase_diagram(BAUTIN, grid, n_initial=8, seed=1, refine=2, progress=False)
    df = pdg.to_frame()
    want = np.where(df["beta1"] > 0, "LC", np.where((df["beta2"] > 0) & (df["beta1"] > -df["beta2"] ** 2 / 4),
                                                    "FP+LC", "FP"))
    assert (df["phase"].to_numpy() == want).all(), df.loc[df["phase"] != want, ["beta1", "beta2", "phase"]]
    tr = phase_transitions(pdg, b)
    assert len(tr) >= 4 and (tr["classification"] == "local").all()
    assert set(tr["curve_kind"]) == {"HB", "LPC"}
    # without the LPC curve the FP | FP+LC changes have no local explanation at this resolution
    hb_only = Boundaries(t[t["kind"] == "HB"], "beta1", "beta2")
    tr2 = phase_transitions(pdg, hb_only)
    lpc_edges = tr2["before"].str.cat(tr2["after"], sep=">").isin(["FP>FP+LC", "FP+LC>FP"])
    # those more than the tolerance (one step, 0.0625) away from the Hopf line; nearer the
    # Bautin point (beta2 -> 0) the two curves are closer than a grid step: not told apart
    far = lpc_edges & (tr2[["beta1_0", "beta1_1"]].max(axis=1) < -0.0625 - 1e-9)
    assert far.sum() >= 2
    assert (tr2.loc[far, "classification"] == "global").all()
    assert (tr2.loc[~lpc_edges, "classification"] == "local").all()


def test_plot_phase_map_draws_curves_and_marks_global_changes(cusp_maps, cusp_curves):
    import matplotlib.pyplot as plt

    from analysis.plots_phase import plot_phase_map
    from analysis.style import layout_problems

    ref, _, _ = cusp_maps
    fig, axs = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    try:
        assert plot_phase_map(ref, axs[0], boundaries=cusp_curves) is axs[0]
        labels = [t.get_text() for t in axs[0].get_legend().get_texts()]
        assert "LP" in labels and "global transition" not in labels
        # no curves: every change is global, one bar per transition
        plot_phase_map(ref, axs[1], boundaries=None)
        n_glob = len(phase_transitions(ref, None))
        from analysis.plots_phase import GLOBAL_COLOR

        red = [ln for ln in axs[1].get_lines() if ln.get_color() == GLOBAL_COLOR]
        assert len(red) == n_glob > 0
        assert "global transition" in [t.get_text() for t in axs[1].get_legend().get_texts()]
        assert layout_problems(fig) == []
    finally:
        plt.close(fig)


# -- curves of cycles (LPC, PD, NS) from scan lines, markers of non-generic folds ---------------------
def test_cycle_boundaries_bautin_fold_of_cycles_is_exact():
    # Bautin: the subcritical Hopf cycles (beta2 > 0) turn at the fold beta1 = -beta2^2 / 4; the
    # second scan line meets the same fold and does not continue it again
    grid = {"beta1": [-0.3, 0.2], "beta2": [0.2, 1.0]}
    b = cycle_boundaries(BAUTIN, grid, {"beta2": [0.8, 0.6]}, ntst=10, max_curve_steps=80)
    assert b.status == 0, b.message
    t = b.to_frame()
    assert set(t["kind"]) == {"LPC"} and t["curve"].nunique() == 1 and len(t) > 10
    np.testing.assert_allclose(t["beta1"], -t["beta2"] ** 2 / 4, atol=1e-6)
    # inside the rectangle, reaching its top edge (beta2 = 1)
    assert t["beta2"].max() == pytest.approx(1.0) and t["beta2"].min() >= 0.2 - 1e-9
    runs = b.runs
    assert (runs["what"].str.startswith("continue_cycle_codim2") & (runs["status"] == 0)).sum() == 1
    assert runs["what"].str.contains("on the curve LPC#0").sum() == 1
    assert len(b.markers) == 0
    # the curve drives the local/global decision: a fold crossing is local, named
    assert [c["curve"].iloc[0] for c in b.curves()] == ["LPC#0"]


def test_a_marker_explains_the_transitions_next_to_it(cusp_maps):
    ref, _, _ = cusp_maps
    tr = phase_transitions(ref, None, columns=("n_stable_fp",))
    e = tr.iloc[0]
    pt = (0.5 * (e["a_0"] + e["a_1"]), 0.5 * (e["b_0"] + e["b_1"]))
    mk = pd.DataFrame({"curve": ["LPC (non-generic)"], "kind": ["LPC"], "a": [pt[0]], "b": [pt[1]], "note": [""]})
    b = Boundaries(pd.DataFrame(columns=["curve", "kind", "segment", "a", "b", "order"]), "a", "b", markers=mk)
    tr2 = phase_transitions(ref, b, columns=("n_stable_fp",), tol=0.5)
    assert tr2.iloc[0]["classification"] == "local" and tr2.iloc[0]["curve"] == "LPC (non-generic)"
    assert tr2.iloc[0]["curve_kind"] == "LPC" and tr2.iloc[0]["distance"] == pytest.approx(0.0, abs=1e-12)
    # far from the marker (more than tol steps in the max norm) the transitions stay global
    far = (np.maximum(np.abs(0.5 * (tr2["a_0"] + tr2["a_1"]) - pt[0]) / 0.15,
                      np.abs(0.5 * (tr2["b_0"] + tr2["b_1"]) - pt[1]) / 0.1875) > 1.0)
    assert far.any() and (tr2.loc[far, "classification"] == "global").all()


def test_flagship_normal_state_fold_is_a_marker_not_a_curve():
    # the normal state's subcritical Hopf cycles fold at a non-generic LPC (time-reversal symmetric
    # family): the fold is kept as a marker at its one-parameter location, with the probe's -6 status
    from bifurcate.models import LMG_DIMER

    b = cycle_boundaries(LMG_DIMER, {"J": [-2.0, 2.0], "lam": [0.0, 1.5]}, {"J": [0.3]}, ntst=10)
    assert len(b.table) == 0 and len(b.markers) == 1
    m = b.markers.iloc[0]
    assert m["kind"] == "LPC" and m["J"] == 0.3 and abs(m["lam"] - 0.5765528847) < 1e-5  # ntst 40: 0.5765528847
    assert "not a generic point" in m["note"]
    probe = b.runs[b.runs["status"] == -6]
    assert len(probe) == 1 and "max_steps=1" in probe["what"].iloc[0]
    t = b.marker_tables()
    assert len(t) == 1 and list(t[0].columns) == ["J", "lam", "label", "curve"]


def test_cycle_boundaries_bad_input():
    with pytest.raises(ValueError, match="scan must map one of the grid's parameters"):
        cycle_boundaries(BAUTIN, {"beta1": [-0.3, 0.2], "beta2": [0.2, 1.0]}, {"g": [1.0]})
    with pytest.raises(ValueError, match="kinds must be among"):
        cycle_boundaries(BAUTIN, {"beta1": [-0.3, 0.2], "beta2": [0.2, 1.0]}, {"beta2": [0.5]}, kinds=("HB",))
    with pytest.raises(ValueError, match="ntst must be an int >= 4"):
        cycle_boundaries(BAUTIN, {"beta1": [-0.3, 0.2], "beta2": [0.2, 1.0]}, {"beta2": [0.5]}, ntst=2)
    with pytest.raises(ValueError, match="must span a finite interval"):
        cycle_boundaries(BAUTIN, {"beta1": [0.2, 0.2], "beta2": [0.2, 1.0]}, {"beta2": [0.5]})


def test_plot_phase_map_draws_markers(cusp_maps, cusp_curves):
    import matplotlib.pyplot as plt

    from analysis.plots_phase import MARKER_STYLE, plot_phase_map

    ref, _, _ = cusp_maps
    mk = pd.DataFrame({"curve": ["m"], "kind": ["LPC"], "a": [0.1], "b": [0.5], "note": [""]})
    from dataclasses import replace

    b = replace(cusp_curves, markers=mk)
    fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    try:
        plot_phase_map(ref, ax, boundaries=b)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "LPC (non-generic)" in labels and "LP" in labels
        pts = [ln for ln in ax.get_lines() if ln.get_marker() == MARKER_STYLE["marker"]]
        assert len(pts) == 1 and list(pts[0].get_xdata()) == [0.1]
    finally:
        plt.close(fig)


def test_attractor_map_cycle_curves_are_cached(tmp_path, monkeypatch):
    # the study continues its cycle curves once: a second call with the same settings reads them;
    # other settings recompute (a small scan: the normal state's non-generic fold at J = 0.3)
    import studies.attractor_map as am

    cfg = dict(scan=(0.3,), ntst=10, max_curves=1, max_curve_steps=20, curve_options={"ds_max": 0.2}, mirror=True)
    monkeypatch.setitem(am.CYCLE_SCANS, True, cfg)
    b1, i1 = am.cycle_curves(tmp_path, quick=True)
    assert not i1["cached"] and (tmp_path / "cycle_curves.json").exists()
    assert sorted(b1.markers["J"]) == [-0.3, 0.3]          # the J -> -J image drawn too
    b2, i2 = am.cycle_curves(tmp_path, quick=True)
    assert i2["cached"] and i2["key"] == i1["key"]
    pd.testing.assert_frame_equal(b1.markers, b2.markers)
    assert list(b2.runs["status"]) == list(b1.runs["status"])
    monkeypatch.setitem(am.CYCLE_SCANS, True, dict(cfg, scan=(0.2,)))
    b3, i3 = am.cycle_curves(tmp_path, quick=True)
    assert not i3["cached"] and sorted(b3.markers["J"]) == [-0.2, 0.2]
