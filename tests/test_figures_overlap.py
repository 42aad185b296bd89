"""No overlapping or cut-off text in any figure: the checker itself, the plotting functions on small
synthetic data, and every figure of the quick flagship study (its metadata records the check)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.style import (COUNT_COLORS, KIND_COLORS, clip_errorbars, count_colors, layout_problems,  # noqa: E402
                            phase_color, phase_hatch, phase_kinds)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------------------
# the checker can fail
# ------------------------------------------------------------------------------------------------
def test_checker_finds_overlapping_texts():
    fig, ax = plt.subplots(figsize=(4, 3), constrained_layout=True)
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second label", transform=ax.transAxes)
    probs = layout_problems(fig)
    assert any("first label" in p and "second label" in p for p in probs), probs


def test_checker_finds_text_off_the_canvas_and_legend_overlap():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(1.3, 0.5, "outside", transform=ax.transAxes)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(loc="upper left")
    ax.text(0.02, 0.97, "under the legend", transform=ax.transAxes, va="top")
    probs = layout_problems(fig)
    assert any("cut off" in p and "outside" in p for p in probs), probs
    assert any("legend" in p and "under the legend" in p for p in probs), probs


def test_checker_finds_an_inset_over_tick_labels():
    fig, ax = plt.subplots(figsize=(4, 3), constrained_layout=True)
    ax.set_xlabel("x")
    ins = ax.inset_axes([0.5, -0.05, 0.45, 0.4])      # reaches down onto the x tick labels
    ins.set_xlabel("inset x")
    probs = layout_problems(fig)
    assert any("inset" in p for p in probs), probs


def test_checker_passes_a_clean_figure_and_skips_hidden_ticks():
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3), constrained_layout=True)
    a.plot([0, 1], [0, 1], label="line")
    a.set(xlabel="x", ylabel="y", title="left")
    a.legend(loc="lower right")
    b.set(xlim=(0, 1), ylim=(0, 1), title="right")
    m = b.pcolormesh(np.random.default_rng(0).random((4, 4)))
    fig.colorbar(m, ax=b, label="colour")
    fig.suptitle("a clean figure")
    assert layout_problems(fig) == []


# ------------------------------------------------------------------------------------------------
# the palette
# ------------------------------------------------------------------------------------------------
def test_kind_colours_distinct_and_not_count_colours():
    from matplotlib.colors import to_hex

    kinds = ["FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "-1"]
    cols = [to_hex(KIND_COLORS[k]) for k in kinds]
    assert len(set(cols)) == len(kinds)
    assert not set(cols) & {to_hex(c) for c in COUNT_COLORS}
    assert len({to_hex(c) for c in count_colors(6)}) == 7


def test_phase_vocabulary_old_and_new():
    assert phase_kinds("FP+2LC") == [("FP", 1), ("LC", 2)] and phase_kinds("2FP") == [("FP", 2)]
    assert phase_color("FP+LC") == KIND_COLORS["LC"] and phase_color("2FP") == KIND_COLORS["FP"]
    assert phase_color("CH+NEUTRAL") == KIND_COLORS["CH"] and phase_color("-1") == KIND_COLORS["-1"]
    assert phase_hatch("2FP") and phase_hatch("FP+LC") and not phase_hatch("FP") and not phase_hatch("FP+DIV")
    assert phase_color("unclassified") == KIND_COLORS["-1"]


def test_error_bars_clipped_to_domain():
    y = np.array([0.98, 0.5, 0.01])
    e = clip_errorbars(y, [0.1, 0.1, np.nan], 0.0, 1.0)
    assert np.allclose(e[1], [0.02, 0.1, 0.0]) and np.allclose(e[0], [0.1, 0.1, 0.0])
    assert np.all(y - e[0] >= 0) and np.all(y + e[1] <= 1)


# ------------------------------------------------------------------------------------------------
# plotting functions on synthetic data
# ------------------------------------------------------------------------------------------------
def _synthetic_pdg(phases):
    from analysis.phase_diagrams import PhaseDiagram, PhaseDiagramOptions
    from bifurcate.models import LMG_DIMER

    J = np.linspace(-2, 2, 9)
    lam = np.linspace(0, 1.5, 7)
    rows = []
    rng = np.random.default_rng(1)
    for i, l in enumerate(lam):
        for j, x in enumerate(J):
            ph = phases[(i + j) % len(phases)]
            r = {"J": x, "lam": l, "i_J": j, "i_lam": i, "g": 1.0, "gamma": 0.5, "n_stable_fp": (i + j) % 3,
                 "phase": ph, "lyap_max": rng.normal(0, 0.3), "ZB": rng.uniform(-1, 1), "ZB_err": 0.05,
                 "status": 0, "message": "success"}
            for k in ("FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "unclassified"):
                r[f"frac_{k}"] = 1.0 if k == phase_kinds(ph)[-1][0] else 0.0
            rows.append(r)
    return PhaseDiagram(table=pd.DataFrame(rows), grid={"J": J, "lam": lam}, model=LMG_DIMER,
                        options=PhaseDiagramOptions())


def test_phase_maps_clean_and_in_the_palette():
    from analysis.plots_phase import plot_kinds, plot_lyapunov, plot_n_stable, plot_observable

    # today's vocabulary and the census's new one (counts of attractors of a kind)
    pdg = _synthetic_pdg(["FP", "FP+LC", "2FP", "FP+2LC", "CH", "NEUTRAL", "-1"])
    fig, axes = plt.subplots(2, 2, figsize=(12, 9.5), constrained_layout=True)
    plot_n_stable(pdg, axes[0, 0], curves=[])
    plot_kinds(pdg, axes[0, 1], column="phase", curves=[])
    plot_lyapunov(pdg, axes[1, 0], curves=[])
    plot_observable(pdg, "ZB", axes[1, 1], vmin=-1, vmax=1, curves=[])
    assert layout_problems(fig) == []
    from matplotlib.colors import to_hex

    mesh = axes[0, 1].collections[0]
    used = {to_hex(c) for c in mesh.cmap(np.arange(mesh.cmap.N))}
    assert used <= {to_hex(c) for c in KIND_COLORS.values()}
    cmesh = axes[0, 0].collections[0]
    assert {to_hex(c) for c in cmesh.cmap(np.arange(cmesh.cmap.N))} <= {to_hex(c) for c in COUNT_COLORS}


def test_cut_report_figure_clean(tmp_path):
    from analysis.report_attractors import cut_report

    lam = np.linspace(0, 1.5, 12)
    df = pd.DataFrame({"lam": lam, "J": 0.0, "phase": ["FP"] * 5 + ["NEUTRAL"] * 7, "frac_FP": 1.0,
                       "ZB": np.r_[np.ones(5), np.zeros(7)], "ZB_err": np.r_[np.zeros(5), np.full(7, 0.4)],
                       "lyap_max": -0.1, "n_stable_fp": 1})
    rep = cut_report(df, "lam", observable="ZB")
    assert rep.layout_problems == {}


# ------------------------------------------------------------------------------------------------
# every figure of the quick study
# ------------------------------------------------------------------------------------------------
STUDY_NAMES = ["fig1b_pt_dimer", "fig1d_lmg", "fig2_phase_diagram", "fig3_cuts", "fig4_wigner",
               "bifurcation_diagrams", "attractor_map", "finite_size"]


@pytest.fixture(scope="module")
def quick_run():
    from tests._flagship_run import flagship_quick

    return flagship_quick()


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_quick_study_figure_has_no_overlapping_text(quick_run, name):
    out, res = quick_run
    assert res["studies"][name]["status"] == "ok", res["studies"][name].get("error")
    meta = json.loads((out / name / "metadata.json").read_text())
    layout = meta["layout_problems"]
    assert name in layout, f"{name}: its figure was not checked"
    assert layout[name] == [], f"{name}: " + "\n".join(layout[name])


def test_quick_report_figures_have_no_overlapping_text(quick_run):
    out, _ = quick_run
    meta = json.loads((out / "flagship" / "metadata.json").read_text())
    assert meta["report_layout_problems"] == {}, meta["report_layout_problems"]


def test_default_figures_of_the_plot_functions_clean():
    """Each plotting function on its own default figure (``ax=None``): nothing overlaps or is cut."""
    from analysis.plots_bifurcation import plot_branch, plot_codim2
    from analysis.plots_phase import plot_kinds, plot_n_stable
    from bifurcate.continuation import continue_codim2, continue_equilibria
    from bifurcate.models import LMG_DIMER, NORMAL_STATE

    pdg = _synthetic_pdg(["FP", "FP+LC", "2FP", "CH"])
    for ax in (plot_n_stable(pdg, curves=[]), plot_kinds(pdg, column="phase", curves=[])):
        assert layout_problems(ax.figure) == []
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params={"lam": 0.1}, p_min=-2.0, p_max=2.0)
    ax = plot_branch(b)                   # default observable: the last sphere's z (Z_B)
    assert ax.get_ylabel() == "ZB" and layout_problems(ax.figure) == []
    c = continue_codim2(LMG_DIMER, b.special("BP")[0], "lam", p_min=0.0, p_max=1.5)
    ax = plot_codim2([c])                 # axes from the curve's own parameters, the paper's overlay on (J, lam)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("J", "lam")
    assert "Eq. (12)" in [ln.get_label() for ln in ax.get_lines()]
    assert layout_problems(ax.figure) == []


def test_sweep_report_figure_clean(monkeypatch):
    import analysis.plots_phase as pp
    from analysis.report_attractors import sweep_report

    monkeypatch.setattr(pp, "exact_boundaries", lambda *a, **k: [])     # the overlay is tested elsewhere
    rep = sweep_report(_synthetic_pdg(["FP", "FP+LC", "2FP", "FP+2LC", "CH", "NEUTRAL", "-1"]))
    assert rep._n_fig == 1 and rep.layout_problems == {}
