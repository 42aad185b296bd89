"""Every study runs in quick mode (through one flagship run) and writes real, physically sensible outputs.

The flagship runs all studies once per session (about 2 minutes on 2 cores); each test checks one
study's figure, tables and metadata against closed forms and physical ranges.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import load
from analysis.io import describe_columns
from tests._flagship_run import flagship_quick


@pytest.fixture(scope="module")
def run():
    return flagship_quick()


def _study(run, name):
    out, res = run
    r = res["studies"][name]
    assert r["status"] == "ok", r.get("error")
    return out / name, r["paths"]


def _check_figure(paths):
    import matplotlib.image as mpimg

    png, pdf = Path(paths["figure_png"]), Path(paths["figure_pdf"])
    assert png.stat().st_size > 20_000 and pdf.stat().st_size > 5_000
    assert pdf.read_bytes()[:4] == b"%PDF"
    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 300
    gray = img[..., :3].mean(axis=2)
    assert gray.std() > 0.05                      # not blank
    assert (gray < 0.5).mean() > 0.005            # some ink


def _check_metadata(d):
    meta = json.loads((d / "metadata.json").read_text())
    for k in ("version", "git_commit", "python", "numpy", "wall_time_s", "tables", "quick"):
        assert k in meta
    assert meta["quick"] is True
    return meta


@pytest.mark.parametrize("name", ["fig1d_lmg", "fig1b_pt_dimer", "fig2_phase_diagram", "fig3_cuts", "fig4_wigner",
                                  "bifurcation_diagrams", "attractor_map", "finite_size"])
def test_study_outputs_exist_and_are_documented(run, name):
    d, paths = _study(run, name)
    _check_figure(paths)
    meta = _check_metadata(d)
    assert meta["tables"]
    for fname, schema in meta["tables"].items():
        df, m = load(d / fname)
        assert len(df) > 0 and m["schema"] == schema
        undocumented = describe_columns(df, schema).query("unit == '?'")["column"].tolist()
        assert not undocumented, f"{name}/{fname}: undocumented columns {undocumented}"


def test_fig1d_lmg_branches(run):
    d, _ = _study(run, "fig1d_lmg")
    meta = _check_metadata(d)
    # the pitchfork of the normal state: J_c = -(g^2 + gamma^2) / (2 g) = -0.625
    assert meta["critical_J_continuation"] and abs(meta["critical_J_continuation"][0] + 0.625) < 1e-4
    br, _ = load(d / "branches.parquet")
    assert {"J", "X", "Y", "Z", "stable", "branch"} <= set(br.columns)
    assert np.allclose(br.X ** 2 + br.Y ** 2 + br.Z ** 2, 1.0, atol=1e-8)
    broken = br[br.branch != "normal"]
    assert (broken.J <= -0.62).all() and (broken.stable).all()
    assert (np.abs(broken.Y) > 0).any()            # the loss tilts the spin: Y != 0
    normal = br[br.branch == "normal"]
    assert normal[normal.J > -0.6].stable.all() and not normal[normal.J < -0.65].stable.any()
    sims, _ = load(d / "simulations.parquet")
    assert (sims.status == 0).all() and (np.abs(sims.Z) <= 1 + 1e-9).all()


def test_fig1b_pt_transition(run):
    d, _ = _study(run, "fig1b_pt_dimer")
    ex, _ = load(d / "exact.parquet")
    mf, _ = load(d / "mean_field.parquet")
    assert (ex.status == 0).all() and ex.S.nunique() >= 3
    assert ex.purity.between(0, 1 + 1e-9).all() and ex.ZB.between(-1, 1).all()
    at0 = ex[ex.lam == 0]
    assert np.allclose(at0.ZB, 1) and np.allclose(at0.ZA, -1) and np.allclose(at0.purity, 1)
    # the PT symmetry of the exact state at J = 0: Z_A = -Z_B
    assert np.allclose(ex.ZA, -ex.ZB, atol=1e-8)
    # larger S: sharper transition (Z_B at lam = 1 decreases with S toward 0)
    z1 = ex[np.isclose(ex.lam, 1.0)].sort_values("S").ZB.to_numpy()
    assert np.all(np.diff(z1) < 0) and z1[-1] < 0.15
    # mean field: normal state below g/2, averages near 0 above (neutral families)
    assert np.allclose(mf[mf.lam < 0.45].ZB, 1.0, atol=1e-6)
    assert abs(mf[mf.lam > 0.65].ZB.mean()) < 0.15
    # an error bar on every mean-field number
    from studies.common import mean_field_values

    for name in ("ZA", "ZB"):
        _, err, _ = mean_field_values(mf, name)
        assert np.isfinite(err).all()


def test_fig2_counts_and_boundaries(run):
    d, _ = _study(run, "fig2_phase_diagram")
    pdg, _ = load(d / "phase_diagram.parquet")
    assert set(pdg.n_stable_fp.unique()) <= {0, 1, 2, 3, 4}

    def n_at(J, lam):
        r = pdg.iloc[((pdg.J - J) ** 2 + (pdg.lam - lam) ** 2).argmin()]
        return int(r.n_stable_fp)

    assert n_at(0, 0) == 1 and n_at(1.5, 0.1) == 2 and n_at(-1.5, 0.1) == 2 and n_at(0, 1.4) == 0
    b, _ = load(d / "boundaries.parquet")
    from analysis.plots_phase import eq12_Jc

    bp = b[b.curve == "BP normal"]
    assert np.allclose(np.abs(bp.J), eq12_Jc(bp.lam), atol=1e-7)
    assert {"HB normal", "HB broken +", "HB broken -"} <= set(b.curve)
    ins, _ = load(d / "insets.parquet")
    assert ins.label.nunique() == 6 and np.allclose(ins.XB ** 2 + ins.YB ** 2 + ins.ZB ** 2, 1, atol=1e-6)


def test_fig3_cuts(run):
    d, _ = _study(run, "fig3_cuts")
    ex, _ = load(d / "exact.parquet")
    mf, _ = load(d / "mean_field.parquet")
    assert set(ex.cut) == set(mf.cut) == {"a", "b", "c", "d"}
    assert ex.ZB.between(-1, 1).all() and mf.ZB.between(-1 - 1e-9, 1 + 1e-9).all()
    a = mf[mf.cut == "a"]
    assert np.allclose(a[(a.J > -2) & (a.J < 0.55)].ZB, 1.0, atol=1e-3)   # Z_B = 1 until spin B breaks
    assert a[a.J > 1.5].ZB.max() < 0.6
    b = ex[ex.cut == "b"]
    assert np.allclose(b[b.lam == 0].ZB, 1.0)
    # exact approaches mean field with S on cut (a) in the LMG phase of spin A (J = -2)
    e = ex[(ex.cut == "a") & np.isclose(ex.J, -2.0)].sort_values("S").ZB.to_numpy()
    assert np.all(np.diff(e) > 0)
    # every mean-field point has an error bar; the attracting-only average wherever a set attracts
    from studies.common import mean_field_values

    v, err, att = mean_field_values(mf)
    assert np.isfinite(v).all() and np.isfinite(err).all() and (err >= 0).all()
    # no attracting-only average where the census's phase has no attracting set ("none": the
    # neutral families of J = 0 above g/2, and the neutral orbits around J = 0 on cut (c)); from
    # tracked attractors also where every attracting set is held by a seed only (no fresh basin:
    # the average is basin-weighted over the fresh initial conditions)
    none = (mf.phase == "none").to_numpy()
    assert not att[none].any()
    assert (mf.loc[~att & ~none, "attracting_share"] == 0).all()
    assert att.sum() >= 0.6 * len(mf)
    # the mean field is the fresh-basin-weighted average of the tracked attracting sets' own averages
    tr, _ = load(d / "tracked.parquet")
    assert set(tr.cut) == {"a", "b", "c", "d"} and tr.attractor_id.notna().all()
    assert tr.basin_fraction.between(0, 1).all()
    from studies.common import CUTS

    att_sets = tr[tr.attracting & (tr.basin_fraction > 0)]
    for key, cut in CUTS.items():
        for x, g in att_sets[att_sets.cut == key].groupby(cut.param):
            row = mf[(mf.cut == key) & np.isclose(mf[cut.param], x)]
            w = g.basin_fraction.to_numpy() / g.basin_fraction.sum()
            assert float(row.att_ZB.iloc[0]) == pytest.approx(float(np.sum(w * g.ZB)), abs=1e-12)
    assert att[mf.cut.isin(["a", "d"]).to_numpy()].all()
    assert not att[((mf.cut == "b") & (mf.lam > 0.55)).to_numpy()].any()
    meta = json.loads((d / "metadata.json").read_text())
    assert "attracting sets only" in meta["mean_field_average"]
    # finite-size trend: cut (a) at J = -2 (spin A broken, Z_B = 1 in mean field) approaches monotonically
    tr = pd.read_parquet(d / "trend.parquet")
    assert set(tr.cut) == {"a", "b", "c", "d"}
    assert bool(tr[(tr.cut == "a") & np.isclose(tr.x, -2.0)].monotone.iloc[0])
    # cut (c): the attracting-only mean field is smooth wherever the phase (the census phase and the
    # tracked attracting sets) does not change
    sm = meta["smoothness"]["c"]
    assert sm["n_checked"] >= 5 and sm["n_rough"] == 0, sm
    assert set(meta["tracked_events"]) == {"a", "b", "c", "d"}


def test_fig4_wigner(run):
    d, _ = _study(run, "fig4_wigner")
    meta = _check_metadata(d)
    for k in "abc":
        assert abs(meta["exact"][k]["wigner_norm"] - 1) < 1e-2
    W, _ = load(d / "wigner.parquet")
    # (a) normal phase: the maximum at the north pole (spin B up)
    a = W[W.panel == "a"]
    assert a.loc[a.W.idxmax(), "theta"] < 0.1
    # (b) LMG: two lobes where mean field puts its two stable fixed points (phi and phi + pi)
    b = W[(W.panel == "b") & (W.theta > 0.3) & (W.theta < 2.0)]
    fps = np.array(meta["exact"]["b"]["mean_field_stable_fp_B"])
    assert len(fps) == 2
    top = b.nlargest(1, "W").iloc[0]
    phis = np.mod(np.arctan2(fps[:, 1], fps[:, 0]), 2 * np.pi)
    dphi = np.min(np.abs(np.angle(np.exp(1j * (top.phi - phis)))))
    assert dphi < np.radians(25)
    thetas = np.arccos(fps[:, 2])
    assert abs(top.theta - thetas[0]) < 0.5
    # (c): the paper's "PT phase"; the suite's census and equilibria are stated in the title: stable
    # fixed points still exist (below the subcritical Hopf point of the broken states) beside cycles
    c = meta["census"]["c"]
    assert c["n_stable_fp"] == 2 and c["kinds"].get("LC", 0) >= 1 and "LC" in c["text"]
    assert meta["census"]["a"]["kinds"] == {"FP": 1}


def test_bifurcation_diagrams(run):
    d, _ = _study(run, "bifurcation_diagrams")
    sp, _ = load(d / "special_points.parquet")
    a = sp[(sp.cut == "a") & (sp.kind == "BP") & (sp.branch == "normal")]
    from analysis.plots_phase import eq12_Jc

    assert np.allclose(np.sort(np.abs(a.J.to_numpy(float))), eq12_Jc(0.1), atol=1e-4)
    hb = sp[(sp.cut == "b") & (sp.kind == "HB")]
    assert len(hb) and np.allclose(hb.lam.astype(float), 0.5, atol=1e-6)
    br, _ = load(d / "branches.parquet")
    assert {"equilibrium", "cycle"} <= set(br.branch_kind)


def test_attractor_map(run):
    d, _ = _study(run, "attractor_map")
    df, _ = load(d / "attractor_map.parquet")
    from studies.attractor_map import lump_rare, shown_phase

    ph = pd.Series(shown_phase(df), index=df.index)
    assert pd.Series(lump_rare(ph)).nunique() <= 10         # a handful of phases drawn, a readable legend
    assert ph[(df.J == 0) & (df.lam > 0.7)].eq("NEUTRAL").all()
    assert ph.iloc[((df.J - 0) ** 2 + (df.lam - 0) ** 2).argmin()] == "FP"
    assert ph.iloc[((df.J - 1.5) ** 2 + (df.lam - 0) ** 2).argmin()] == "2FP"   # the two broken states
    cost = json.loads((d / "metadata.json").read_text())["census_cost"]
    assert cost["cpu_s_per_point"] > 0 and cost["target"]["extrapolated_cpu_s"] > cost["cpu_s"]
    assert set(df.dominant_kind) <= {"FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "unclassified"}
    r = df.iloc[((df.J - 0) ** 2 + (df.lam - 0) ** 2).argmin()]
    assert r.dominant_kind == "FP" and r.lyap_max < 0
    # chaos somewhere at large |J| and lam, positive exponents there
    big = df[(df.J.abs() >= 1.5) & (df.lam >= 1.0)]
    assert (big.dominant_kind == "CH").mean() > 0.5 and (big.lyap_max > 0.05).mean() > 0.5
    # J = 0 above the PT transition: neutral families (zero exponents)
    pt = df[(df.J == 0) & (df.lam > 0.7)]
    assert (pt.dominant_kind == "NEUTRAL").all()


def test_finite_size(run):
    d, _ = _study(run, "finite_size")
    ex, _ = load(d / "exact.parquet")
    mf, _ = load(d / "mean_field.parquet")
    assert ex.ZB.between(-1, 1).all() and (ex.status == 0).all()
    lmg = ex[ex.point.str.startswith("LMG (J=1.5")].sort_values("S")
    zmf = float(mf[mf.point.str.startswith("LMG (J=1.5")].bw_ZB.iloc[0])
    dev = np.abs(lmg.ZB.to_numpy() - zmf)
    assert np.all(np.diff(dev) < 0)                # the exact results approach mean field
    # each point's label says what the suite's own census finds there
    lc = mf[mf.point.str.startswith("limit cycles")].iloc[0]
    assert lc.n_LC >= 1 and lc.n_CH == 0 and lc.n_QP == 0 and lc.n_FP == 0
    ch = mf[mf.point.str.startswith("chaotic")].iloc[0]
    assert ch.n_CH >= 1


def test_flagship_report_written(run):
    out, res = run
    html = (out / "report.html").read_text()
    assert len(html) > 200_000 and html.count("<img") >= 8 + 4
    assert html.count(">Provenance</h2>") == 1 and 'id="contents"' in html
    for name in ("fig1d_lmg", "fig2_phase_diagram", "fig4_wigner", "attractor_map", "Provenance"):
        assert name in html
    assert "FAILED" not in html
    df = pd.read_parquet(out / "report_attractors.parquet")
    assert {"point", "kind", "basin_fraction"} <= set(df.columns)


def test_mean_field_values_and_smoothness():
    """The attracting-only average where a set attracts, the all-sets one elsewhere; the smoothness
    check flags a spike between points of one phase and ignores a jump where the phase changes."""
    from studies.common import mean_field_values
    from studies.fig3_cuts import smoothness

    m = pd.DataFrame({"ZB": [1.0, 0.1, 0.2], "ZB_err": [0.0, 0.05, 0.1], "att_ZB": [1.0, np.nan, 0.3],
                      "att_ZB_err": [0.0, np.nan, 0.02]})
    v, e, att = mean_field_values(m)
    assert np.allclose(v, [1.0, 0.1, 0.3]) and np.allclose(e, [0.0, 0.05, 0.02]) and att.tolist() == [1, 0, 1]
    v, e, att = mean_field_values(m.drop(columns=["att_ZB", "att_ZB_err"]))
    assert np.allclose(v, [1.0, 0.1, 0.2]) and not att.any()
    with pytest.raises(KeyError, match="'XB'"):
        mean_field_values(m, "XB")
    J = np.linspace(-1, 1, 21)
    y = 0.3 * np.sin(J)
    df = pd.DataFrame({"J": J, "ZB": y, "ZB_err": 0.01, "att_ZB": y, "att_ZB_err": 0.01, "phase": "2LC"})
    assert len(smoothness(df, "J")) == 19 and not smoothness(df, "J")["rough"].any()
    spiky = df.copy()
    spiky.loc[10, ["att_ZB", "ZB"]] += 0.3
    r = smoothness(spiky, "J")
    # the spike and its two neighbours (whose midpoint it shifts), the spike itself the worst
    assert np.allclose(r.loc[r["rough"], "J"], J[9:12]) and np.isclose(r.loc[r["residual"].idxmax(), "J"], J[10])
    # a step where the phase changes is not checked
    step = df.copy()
    step.loc[11:, "phase"] = "CH"
    step.loc[11:, ["att_ZB", "ZB"]] -= 0.5
    assert not smoothness(step, "J")["rough"].any()


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "nope.parquet")
    with pytest.raises(FileNotFoundError, match="no parquet"):
        load(tmp_path)
