"""Benchmark: the converged Fig. 2 census of this tree against an older revision, A/B alternated.

Both versions run the same sample (:func:`studies.benchmarks.bench_fig2_converged._sample`: random
neighbour pairs of the 51 x 51 coarse grid of Fig. 2, 16 initial conditions per point, the same
seed) at the census defaults, each in a fresh process with one numba thread, alternated
(A B B A ...), so a slow spell of this shared machine hits both. The older revision is unpacked
from git (``git archive``) into a temporary directory; its kernels are compiled into the same
kernel cache (its template hash differs, so the two never share machine code). Each worker first
runs a short warm-up census of every sample point (2 initial conditions, ``t_cap = t_min``: every
compiled path is loaded before the clock starts), then the timed census.

Reported per version: process CPU seconds per point (``time.process_time``, one thread: the
kernels and the Python stages), wall seconds, the stage breakdown (``CensusResult.timings``), the
variational time and the decisions, and where the variational time goes
(``variational_time_by_decision``: measured length per decision and kind, undecided and joined
orbits by the reason they were still open at the cap); then the speed-up (median CPU of A / median CPU of B) and the
answers compared point by point: identical trajectory tables (kind, decision, measured length,
exponents to the bit), same phase, same number of attracting sets, basin fraction of every kind
within 3 combined binomial errors. The full-grid extrapolations use the CPU per point on two idle
cores (``cpu x 201^2 / 2``), 51 x 51 alone, and the coarse grid plus refinement (upper bound, as in
:mod:`studies.benchmarks.bench_fig2_converged`).

A third arm C (``--also '{"dt_ortho": 1.0}'``) runs B's code with census option overrides (any
keyword of :meth:`analysis.attractors.options.CensusOptions.with_overrides`), alternated with A and B.

A reference arm R (``--reference '{"t_cap": 6400}'``: A's code with overrides, e.g. the census at 4x
the cap, or at a tighter ``rtol``) runs once, after the timed arms; every arm's answers are then
compared with R's point by point (:func:`compare`: phase, number of attractors, basin fractions
within 3 combined binomial errors), which is how a changed criterion or integrator setting shows
that its labels agree with a long-window reference at least as often as the default's do
(``agreement_with_reference``, and the points where each arm differs from R).

Run: ``python -m studies.benchmarks.bench_fig2_ab --against REV [--rev REV] [--also JSON] [--reference JSON]
[--n-pairs 15] [--seed 3] [--repeats 2] [--out FILE.json]``
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_WORKER = r"""
import json, sys, time
import numpy as np
n_pairs, seed, n_initial = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
overrides = json.loads(sys.argv[4])
from studies.benchmarks.bench_fig2_converged import _sample
from analysis.attractors import census_points
from analysis.attractors.options import CensusOptions
from bifurcate.models import LMG_DIMER
pts, Y0, nc = _sample(n_pairs, seed, n_initial=n_initial)
o = CensusOptions().with_overrides(**overrides)
census_points(LMG_DIMER, pts, Y0[:, :2], options=CensusOptions(t_cap=o.t_min))   # warm-up: load every kernel
c0, t0 = time.process_time(), time.perf_counter()
res = census_points(LMG_DIMER, pts, Y0, options=o)
cpu, wall = time.process_time() - c0, time.perf_counter() - t0
out = {"cpu": cpu, "wall": wall, "t_by": {}, "stages": {k: float(sum(r.timings.get(k, 0.0) for r in res)) for k in res[0].timings},
       "points": []}
for r in res:
    T = r.trajectories
    row = r.summary_row()
    lyap = T[[c for c in T.columns if c.startswith("lyap_") and not c.startswith("lyap_err")]].to_numpy(float)
    out["points"].append({
        "J": r.params["J"], "lam": r.params["lam"], "phase": r.phase, "n_attractors": r.n_attractors,
        "n_stable_fp": row["n_stable_fp"],
        "fracs": {k: float(row[f"frac_{k}"]) for k in ("FP", "LC", "QP", "CH", "NEUTRAL", "unclassified")},
        "kind": T["kind"].tolist(), "decision": T["decision"].tolist(), "t_measured": T["t_measured"].tolist(),
        "lyap": [[float.hex(float(v)) for v in rr] for rr in lyap]})
    for d, k, t, rs in zip(T["decision"], T["kind"], T["t_measured"], T["reason"]):
        why = ""
        if d in ("undecided", "joined"):
            why = " (" + rs.split(": ", 1)[-1].split("(")[0].split(":")[0].strip()[:40] + ")"
        c = out["t_by"].setdefault(f"{d} {k}{why}", [0, 0.0])
        c[0] += 1
        c[1] += float(t)
print("@@" + json.dumps(out))
"""


def _unpack(rev: str, dest: Path) -> Path:
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent).stdout.strip()
    arc = subprocess.run(["git", "archive", rev], capture_output=True, check=True, cwd=top).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arc, check=True)
    return Path(top)


def _run(tree: Path, n_pairs: int, seed: int, n_initial: int, overrides: dict | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-c", _WORKER, str(n_pairs), str(seed), str(n_initial),
                        json.dumps(overrides or {})], capture_output=True, text=True, env=env, cwd=str(tree))
    if p.returncode != 0:
        raise RuntimeError(f"worker in {tree} failed:\n{p.stderr[-3000:]}")
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("@@")][-1]
    return json.loads(line[2:])


def compare(a: dict, b: dict, n_initial: int, z: float = 3.0) -> dict:
    """Point-by-point agreement of two workers' answers."""
    same_traj = same_phase = same_n = basin_ok = 0
    diffs = []
    for pa, pb in zip(a["points"], b["points"]):
        ident = all(pa[k] == pb[k] for k in ("kind", "decision", "t_measured", "lyap"))
        same_traj += ident
        same_phase += pa["phase"] == pb["phase"]
        same_n += pa["n_attractors"] == pb["n_attractors"]
        dev = 0.0
        for k, fa in pa["fracs"].items():
            fb = pb["fracs"][k]
            se = np.hypot(np.sqrt(max(fa * (1 - fa), 1.0 / n_initial) / n_initial),
                          np.sqrt(max(fb * (1 - fb), 1.0 / n_initial) / n_initial))
            dev = max(dev, abs(fa - fb) / se)
        basin_ok += dev <= z
        if pa["phase"] != pb["phase"] or dev > z:
            diffs.append({"J": pa["J"], "lam": pa["lam"], "phase_a": pa["phase"], "phase_b": pb["phase"],
                          "basin_dev": dev})
    n = len(a["points"])
    return {"n_points": n, "identical_trajectory_tables": same_traj / n, "same_phase": same_phase / n,
            "same_n_attractors": same_n / n, "basins_within_3_errors": basin_ok / n, "disagreements": diffs}


def _summary(rs: list[dict], n_points: int, n_pairs_pts: list[dict]) -> dict:
    cpu = float(np.median([r["cpu"] for r in rs]))
    per = cpu / n_points
    last = rs[-1]
    dec: dict = {}
    t_var = 0.0
    for p in last["points"]:
        for d, t in zip(p["decision"], p["t_measured"]):
            dec[d] = dec.get(d, 0) + 1
            t_var += t
    rows = last["points"]
    dis = [(rows[2 * q]["n_stable_fp"], rows[2 * q]["phase"]) != (rows[2 * q + 1]["n_stable_fp"], rows[2 * q + 1]["phase"])
           for q in range(len(rows) // 2)]
    p_dis = float(np.mean(dis))
    f_cell = 1.0 - (1.0 - p_dis) ** 4
    n, nc = 201, 51
    n_refine_max = 15 * f_cell * (nc - 1) ** 2
    by = sorted(last.get("t_by", {}).items(), key=lambda kv: -kv[1][1])
    where = {k: {"n": c, "time": t, "share": t / t_var if t_var > 0 else 0.0} for k, (c, t) in by}
    return {"cpu_s": [r["cpu"] for r in rs], "wall_s": [r["wall"] for r in rs], "cpu_per_point_s": per,
            "stages_s": last["stages"], "variational_time": t_var, "decisions": dec,
            "variational_time_by_decision": where,
            "full_grid_cpu_s_on_2_cores": per * n * n / 2, "coarse_51_cpu_s_on_2_cores": per * nc * nc / 2,
            "coarse_plus_refine_cpu_s_upper_on_2_cores": per * (nc * nc + n_refine_max) / 2,
            "neighbour_disagreement": p_dis, "refined_cell_share": f_cell}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, help="git revision to compare with (A)")
    ap.add_argument("--rev", default=None,
                    help="git revision of B (default: this working tree as it is; a revision is unpacked, so "
                         "editing the tree during the run cannot mix versions)")
    ap.add_argument("--also", default=None,
                    help="JSON census option overrides for a third arm C (B's code), e.g. '{\"dt_ortho\": 1.0}'")
    ap.add_argument("--reference", default=None,
                    help="JSON census option overrides of a reference arm R on A's code (e.g. '{\"t_cap\": 6400}'), "
                         "run once; every arm's answers are compared with R's")
    ap.add_argument("--n-pairs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2, help="A/B repetitions, order alternated")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    also = json.loads(a.also) if a.also else None
    arms = ["A", "B"] + (["C"] if also else [])
    with tempfile.TemporaryDirectory(prefix="fig2ab-") as tmp:
        (Path(tmp) / "A").mkdir()
        top = _unpack(a.against, Path(tmp) / "A")
        trees = {"A": Path(tmp) / "A", "B": top}
        if a.rev:
            (Path(tmp) / "B").mkdir()
            _unpack(a.rev, Path(tmp) / "B")
            trees["B"] = Path(tmp) / "B"
        trees["C"] = trees["B"]
        runs: dict = {k: [] for k in arms}
        for k in range(a.repeats):
            for name in (arms if k % 2 == 0 else arms[::-1]):
                runs[name].append(_run(trees[name], a.n_pairs, a.seed, a.n_initial, also if name == "C" else None))
                print(f"{name}: cpu {runs[name][-1]['cpu']:.1f} s, wall {runs[name][-1]['wall']:.1f} s", file=sys.stderr)
        ref = None
        if a.reference:
            ref = _run(trees["A"], a.n_pairs, a.seed, a.n_initial, json.loads(a.reference))
            print(f"R: cpu {ref['cpu']:.1f} s, wall {ref['wall']:.1f} s", file=sys.stderr)
    n_points = len(runs["A"][-1]["points"])
    out = {"against": a.against, "rev": a.rev or "working tree", "also": also, "n_points": n_points,
           "n_initial": a.n_initial, "numba_threads": 1,
           "sample": f"{a.n_pairs} random neighbour pairs of the 51 x 51 coarse grid (seed {a.seed})"}
    for name in arms:
        out[name] = _summary(runs[name], n_points, [])
        out[f"speedup_cpu_{name}"] = out["A"]["cpu_per_point_s"] / out[name]["cpu_per_point_s"]
        out[f"agreement_A_{name}"] = compare(runs["A"][-1], runs[name][-1], a.n_initial)
    if ref is not None:
        out["reference"] = {"overrides": json.loads(a.reference), "code": a.against, "cpu_s": ref["cpu"],
                            "phases": [p["phase"] for p in ref["points"]]}
        out["agreement_with_reference"] = {name: compare(runs[name][-1], ref, a.n_initial) for name in arms}
    out["B_repeats_identical"] = (compare(runs["B"][0], runs["B"][-1], a.n_initial)["identical_trajectory_tables"]
                                  if a.repeats > 1 else None)
    out["per_point_budget_for_10_min_on_2_cores_cpu_s"] = 2 * 600.0 / 201 ** 2
    print(json.dumps(out, indent=1, default=float))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=1, default=float)
    return out


if __name__ == "__main__":
    main()
