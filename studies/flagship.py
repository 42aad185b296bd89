"""The flagship study (the main job, ``make study``): every figure of the paper, the studies beyond
it, attractor reports at the paper's representative points, and one self-contained HTML report.

Runs, in order, each study's ``main(out_dir, quick=...)``:

===========================  ==============================================================
``fig1b_pt_dimer``           Fig. 1(b): PT dimer, Z_A, Z_B, purity vs lam, exact and mean field
``fig1d_lmg``                Fig. 1(d): single dissipative LMG spin, X, Y, Z vs J
``fig2_phase_diagram``       Fig. 2: stable fixed points over (J, lam), boundaries, insets
``fig3_cuts``                Fig. 3: four cuts, exact Z_B for several S vs mean field
``fig4_wigner``              Fig. 4: spin-B Wigner functions at S = 3
``bifurcation_diagrams``     continued equilibria and cycles along the cuts of Fig. 3
``attractor_map``            attractor kinds and largest Lyapunov exponent over (J, lam)
``finite_size``              exact results approaching mean field with S
===========================  ==============================================================

then the attractor classification report at four points (normal, LMG, cycles, chaos) and the cut
reports of Fig. 3, all into ``<out>/report.html`` (figures embedded; opens from disk). A study
that fails is recorded in the report (status, traceback) and the others still run.

Run: ``python -m studies.flagship --out results --quick`` (``make study``: about 2 minutes on the
2-core machine) or without ``--quick`` for the publication version (``make study QUICK=0``: 1 h 01 min wall,
4496 s CPU on 2026-11-30, with a few minutes of exact rows and cycle curves reused from an earlier run; Fig. 3's
exact solves to S = 12 on every cut 34 min of it, the attractor map's census at 81 x 61 points 15 min; see the
README). The exact steady states are kept in ``<out>/<study>/cache_exact.parquet``: an interrupted run resumes.
"""
from __future__ import annotations

import argparse
import importlib
import time
import traceback
from pathlib import Path

from studies.common import study_dir

#: the paper's figures in the paper's order, then the studies beyond it
STUDIES = ("fig1b_pt_dimer", "fig1d_lmg", "fig2_phase_diagram", "fig3_cuts", "fig4_wigner", "bifurcation_diagrams",
           "attractor_map", "finite_size")
PAPER_STUDIES = STUDIES[:5]

#: representative points of the attractor reports (labels: what the census finds there)
REPORT_POINTS = {
    "LMG phase (J=1.5, lam=0)": {"J": 1.5, "lam": 0.0},
    "pair of limit cycles (J=1.25, lam=0.5)": {"J": 1.25, "lam": 0.5},
    "PT phase on J = 0: neutral orbits (J=0, lam=1)": {"J": 0.0, "lam": 1.0},
    "chaotic (J=1.5, lam=1.0)": {"J": 1.5, "lam": 1.0},
}

#: layout problems of the figures drawn into the last report (figure number -> problems)
REPORT_LAYOUT: dict[int, list[str]] = {}

#: the parameter ranges over which the report continues each attractor's branch (the window of Fig. 2)
REPORT_RANGES = {"J": (-2.0, 2.0), "lam": (0.0, 1.5)}


def _doc_parts(doc: str) -> tuple[str, str]:
    """(title line, description) of a study's docstring: the description is every paragraph
    before ``Outputs``, ``Run:`` and ``References`` (the whole caption, never cut)."""
    paras = [p for p in (doc or "").strip().split("\n\n")]
    if not paras or not paras[0].strip():
        return "", ""
    title = " ".join(paras[0].split())
    keep = []
    for p in paras[1:]:
        head = p.strip()
        if head.startswith(("Outputs", "Run:", "References", "Run ")):
            break
        keep.append(p)
    return title, "\n\n".join(keep)


def run_studies(out_dir, *, quick: bool, only=None) -> dict:
    """Run each study; returns name -> {"status", "wall_time", "paths" or "error"}."""
    results = {}
    for name in STUDIES:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        print(f"[flagship] {name} ({'quick' if quick else 'full'}) ...", flush=True)
        try:
            mod = importlib.import_module(f"studies.{name}")
            paths = mod.main(out_dir, quick=quick)
            results[name] = {"status": "ok", "paths": {k: str(v) for k, v in paths.items()},
                             "wall_time": time.perf_counter() - t0, "doc": mod.__doc__ or ""}
        except Exception:  # noqa: BLE001 - one failing study never stops the main job
            results[name] = {"status": "failed", "error": traceback.format_exc(), "wall_time": time.perf_counter() - t0,
                             "doc": ""}
        print(f"[flagship] {name}: {results[name]['status']} in {results[name]['wall_time']:.1f} s", flush=True)
    return results


def build_report(out_dir, results: dict, *, quick: bool, seed: int = 2025, points=None) -> Path:
    import pandas as pd

    from analysis.io import load
    from analysis.report import Report
    from analysis.report_attractors import cut_report, point_report
    from bifurcate.models import LMG_DIMER, NORMAL_STATE
    from studies.common import LAYOUT

    out = Path(out_dir)
    d = LMG_DIMER.defaults
    rep = Report("LMG dimer: the paper's figures, attractor reports and exact comparison"
                 + (" (quick)" if quick else ""))
    rep.text(f"Kothe & Kirton, PT-symmetry breaking phase transitions in an LMG dimer: mean-field Eqs. (6)-(11) "
             f"(g = {d['g']:g}, gamma = {d['gamma']:g}) and the master equation (5). The paper's figures come first, "
             "in the paper's order, then the studies beyond it, the cut reports of Fig. 3 and attractor reports at "
             "representative points. Each figure is written by one study (``python -m studies.<name>``) with its "
             "PNG/PDF, its parquet tables (``analysis.load``) and a metadata.json.")
    summary = pd.DataFrame([{"study": k, "status": v["status"], "wall time (s)": round(v["wall_time"], 1),
                             "layout problems": sum(len(p) for kk, p in LAYOUT.items() if Path(kk).parent.name == k),
                             "command": f"python -m studies.{k} --out {out_dir}" + (" --quick" if quick else "")}
                            for k, v in results.items()])
    rep.heading("Studies")
    rep.table(summary, caption="Every study, its status, wall time, the number of overlapping or cut-off texts "
                               "the layout check found in its figure (0 expected), and the command that reruns it.")
    for section, names in (("The paper's figures", PAPER_STUDIES),
                           ("Beyond the paper", [n for n in STUDIES if n not in PAPER_STUDIES])):
        todo = [n for n in names if n in results]
        if not todo:
            continue
        rep.heading(section)
        for name in todo:
            r = results[name]
            if r["status"] != "ok":
                rep.heading(name, 3)
                rep.text(f"{name} FAILED:", cls="note", markup=False)
                rep.code(r["error"], cls="note")
                continue
            title, body = _doc_parts(r["doc"])
            rep.heading(title.rstrip(".") if title else name, 3)
            png = r["paths"].get("figure_png")
            if png and Path(png).exists():
                rep.image(png, caption=body or title)
            rep.text("Study ``" + name + "``; tables: " + ", ".join(
                f"``{Path(v).name}``" for k, v in r["paths"].items() if str(v).endswith(".parquet")) + ".")
    # cut reports from Fig. 3's tables
    if results.get("fig3_cuts", {}).get("status") == "ok":
        from studies.common import CUTS

        mf, _ = load(out / "fig3_cuts" / "mean_field.parquet")
        ex, _ = load(out / "fig3_cuts" / "exact.parquet")
        rep.heading("Cut reports (Fig. 3)")
        for key, cut in CUTS.items():
            fixed = ", ".join(f"{k} = {v:g}" for k, v in cut.fixed.items())
            cut_report(mf[mf["cut"] == key], cut.param, exact=ex[ex["cut"] == key], report=rep, observable="ZB",
                       title=f"Cut ({key}): {cut.param} swept at {fixed}")
    rep.heading("Attractor reports at representative points")
    tabs = []
    for label, pt in (points or REPORT_POINTS).items():
        try:
            _, t = point_report(pt, model=LMG_DIMER, n_initial=16 if quick else 64, seed=seed,
                                S_values=(1, 2, 4) if quick else (2, 4, 8), report=rep, title=label,
                                ranges=REPORT_RANGES, known_states={"normal state (A down, B up)": NORMAL_STATE},
                                level=3)
            a = t["attractors"].copy()
            a.insert(0, "point", label)
            tabs.append(a)
        except Exception:  # noqa: BLE001
            rep.text(f"{label}: report failed:", cls="note", markup=False)
            rep.code(traceback.format_exc(), cls="note")
    if tabs:
        pd.concat(tabs, ignore_index=True).to_parquet(out / "report_attractors.parquet")
    rep.provenance(quick=quick, seed=seed, studies={k: v["status"] for k, v in results.items()})
    path = rep.write(out / "report.html")
    REPORT_LAYOUT.clear()
    REPORT_LAYOUT.update(rep.layout_problems)       # for main's metadata.json
    return path


def main(out_dir: str | Path = "results", *, quick: bool = False, seed: int = 2025, only=None) -> dict:
    """Run every study and write ``<out_dir>/report.html``; returns the paths."""
    from analysis.provenance import write_metadata

    t0 = time.perf_counter()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    results = run_studies(out_dir, quick=quick, only=only)
    report = build_report(out_dir, results, quick=quick, seed=seed)
    meta_dir = study_dir(out_dir, "flagship")
    wall = time.perf_counter() - t0
    meta = write_metadata(meta_dir, study="flagship", quick=quick, seed=seed, wall_time_s=round(wall, 1),
                          studies={k: {kk: vv for kk, vv in v.items() if kk != "doc"} for k, v in results.items()},
                          report=str(report),
                          report_layout_problems={str(k): v for k, v in REPORT_LAYOUT.items()})
    print(f"[flagship] report: {report}  ({wall:.0f} s)")
    return {"report": report, "metadata": meta, "studies": results}


def cli(argv=None):
    ap = argparse.ArgumentParser(description="Flagship study of the LMG dimer: all figures + one HTML report")
    ap.add_argument("--out", default="results")
    ap.add_argument("--quick", action="store_true", help="the ~2 minute version (make study)")
    ap.add_argument("--full", action="store_true", help="the publication version (default without --quick)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--only", nargs="*", help="run only these studies")
    a = ap.parse_args(argv)
    if a.quick and a.full:
        ap.error("--quick and --full exclude each other")
    res = main(a.out, quick=a.quick, seed=a.seed, only=a.only)
    failed = [k for k, v in res["studies"].items() if v["status"] != "ok"]
    if failed:
        print(f"[flagship] failed studies: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
