"""Benchmark: cost of Fig. 2 with converged attractor kinds (201 x 201 x 16), measured on a sample.

The sample is ``--n-pairs`` random pairs of neighbouring points of the 51 x 51 coarse grid (every
4th point of the 201 x 201 grid of Fig. 2, J in [-2, 2], lam in [0, 1.5]): uniform over the domain,
so the mean cost per point estimates the full grid's (the cost is very uneven: a point whose
trajectories settle on fixed points costs ~0.01 s, a chaotic or conservative one up to seconds);
its standard error is a bootstrap over points. Every point gets 16 initial conditions and the
converged census at its defaults (``analysis.census_points``, one batched call as a sweep chunk
does), with shared measurements (``CensusOptions.share_attractors``, the default) and, with
``--compare``, without them on the same initial conditions in the same process (A/B, alternated
with ``--repeats``): timing ratios are only meaningful within one run on this shared machine.

``shared`` and ``unshared`` run without the certified fast path (``certify=False``). With
``--certify`` the certified fast path (``CensusOptions(certify=True)``, the default: fixed points by a
certified basin ellipsoid, limit cycles by collocation and Floquet multipliers, proximity to
certified cycles; :mod:`analysis.attractors.certify`) runs on the same initial conditions, A/B
alternated with ``shared``, and its answers are compared point by point
(:func:`studies.benchmarks.fig2_compare.compare_points`: phase, number of attractors, basin fractions
and exponents within 3 errors).

Stage breakdown: ``CensusResult.timings`` (equilibria, transient integration, certification, Lyapunov
measurement with its sharing steps, grouping). The wall time per point is that of the batched
call, which already runs the compiled kernels on every core numba uses (``threads``); the CPU
time of the process (``cpu_s``, all threads) is printed too: on the shared machine the wall time
also measures the other users.

Extrapolations (printed, not measured end to end):

* full grid: mean wall per point x 201^2, and the process CPU time per point x 201^2 / 2 (two
  idle cores: ``full_grid_cpu_s_on_2_cores``);
* coarse grid + refinement (:func:`analysis.phase_diagram` with ``refine=2``: the 51 x 51 grid, then
  the 201-grid points inside coarse cells whose corners disagree on (``n_stable_fp``, ``phase``)):
  the share of disagreeing neighbour pairs ``p`` is measured on the sample; a cell has 4 edges, so
  about ``1 - (1 - p)^4`` of the 50 x 50 cells refine, each adding at most 15 points (an upper
  bound: a boundary crosses about half of a cell's sub-cells).

With ``--floor`` the benchmark also measures the *kernel floor* of the converged census: every trajectory of
the shared run is integrated again by the bare variational kernel (``bifurcate.lyapunov_spectra``, the census's
integrator options, ``keep_samples=False``, one batched call per measured length) for exactly the measured time
the census needed to decide it (``t_measured``), with no transient, no decision logic, no grouping and no
certification: the CPU time of that alone, per point and extrapolated to 201 x 201 on 2 cores
(``floor.full_grid_cpu_s_on_2_cores``), is a lower bound on any census that keeps these convergence criteria
(the windows, the cap, the zero band), whatever its Python stages cost.

Measured (``python -m studies.benchmarks.bench_fig2_converged --n-pairs 15 --seed 3 --floor``, idle machine,
2026-11-30, and the same 30 points with the census's defaults and with ``dt_ortho = 1.0``): the census 0.283-0.291
CPU-s per point (95-98 min for 201 x 201 on 2 cores); its kernel floor 0.141-0.151 CPU-s per point, i.e.
**47-51 min on 2 idle cores for the bare variational integration alone** (172 300-190 800 time units for 30
points: 54 trajectories at the cap of 1600 hold half of it, 109-121 chaotic decisions at 400 a quarter). With
re-orthonormalisation every 1.0 the census takes 0.208 and the floor 0.081 CPU-s per point: **27 min**. The
10-minute target (0.030 CPU-s per point) is below the floor of both: it cannot be met on this machine without
shortening the windows the converged census needs (the cap, the zero band's ``1.5 ln T / T``), which the
project's rules forbid for a speed target.

With ``--processes 2`` the shared census is also timed split over two spawned processes with one
numba thread each (A/B against the in-process call with numba's threads, alternated).

Run: ``python -m studies.benchmarks.bench_fig2_converged [--n-pairs 30] [--compare] [--certify] [--floor] [--processes 2]
[--repeats 2] [--out FILE.json]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _sample(n_pairs: int, seed: int, n: int = 201, stride: int = 4, J_max: float = 2.0, lam_max: float = 1.5,
            n_initial: int = 16):
    from bifurcate.models import LMG_DIMER

    rng = np.random.default_rng(seed)
    nc = (n - 1) // stride + 1
    Js = np.linspace(-J_max, J_max, n)
    lams = np.linspace(0.0, lam_max, n)
    pts = []
    for _ in range(n_pairs):
        if rng.random() < 0.5:
            i, j = int(rng.integers(0, nc - 1)), int(rng.integers(0, nc))
            pair = [(i, j), (i + 1, j)]
        else:
            i, j = int(rng.integers(0, nc)), int(rng.integers(0, nc - 1))
            pair = [(i, j), (i, j + 1)]
        pts += [{"J": float(Js[a * stride]), "lam": float(lams[b * stride])} for a, b in pair]
    Y0 = np.stack([LMG_DIMER.random_states(n_initial, rng) for _ in pts])
    return pts, Y0, nc


def _run(pts, Y0, share: bool, certify: bool = False) -> dict:
    from analysis.attractors import census_points
    from analysis.attractors.options import CensusOptions
    from bifurcate.models import LMG_DIMER

    t0, c0 = time.perf_counter(), time.process_time()
    res = census_points(LMG_DIMER, pts, Y0, options=CensusOptions(share_attractors=share, certify=certify))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"res": res, "wall": wall, "cpu": cpu}


def _worker(args):
    """Census of a slice of the sample in a spawned process with one numba thread."""
    pts, Y0, share = args
    from bifurcate._numba import numba

    numba.set_num_threads(1)
    out = _run(pts, Y0, share)
    return out["wall"], [r.summary_row()["phase"] for r in out["res"]]


def _run_processes(pts, Y0, share: bool, n_proc: int) -> dict:
    """The sample split into ``n_proc`` interleaved slices, one spawned process (1 numba thread)
    each: the Python stages of one process overlap the kernels of the other. Wall time of the
    whole map (compilation is served from numba's disk cache; one warm-up point per process)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    idx = [list(range(k, len(pts), n_proc)) for k in range(n_proc)]
    with ProcessPoolExecutor(max_workers=n_proc, mp_context=mp.get_context("spawn")) as ex:
        list(ex.map(_worker, [([pts[0]], Y0[:1, :2], share)] * n_proc))     # warm-up
        t0 = time.perf_counter()
        parts = list(ex.map(_worker, [([pts[i] for i in ix], Y0[ix], share) for ix in idx]))
        wall = time.perf_counter() - t0
    phases = [None] * len(pts)
    for ix, (_, ph) in zip(idx, parts):
        for i, p in zip(ix, ph):
            phases[i] = p
    return {"wall": wall, "phases": phases}


def kernel_floor(pts, Y0, res, options=None, repeats: int = 1) -> dict:
    """CPU time of the bare variational kernel over the measured time the census needed (see the module's
    docstring): the trajectories of ``res`` (census results of ``pts`` from ``Y0``) with ``t_measured > 0``,
    grouped by that length, each group one :func:`bifurcate.lyapunov_spectra` call (one row per trajectory).
    Returns the CPU seconds (median of ``repeats``), the variational time units integrated and their count."""
    from analysis.attractors.options import CensusOptions
    from bifurcate.lyapunov import lyapunov_spectra
    from bifurcate.models import LMG_DIMER

    opts = CensusOptions.coerce(options)
    groups = {}
    for i, r in enumerate(res):
        T = r.trajectories
        for ic, tm in zip(T["ic"].to_numpy(int), T["t_measured"].to_numpy(float)):
            if np.isfinite(tm) and tm > 0:
                groups.setdefault(float(tm), []).append((i, int(ic)))
    cpus, tu = [], 0.0
    for _ in range(max(1, repeats)):
        c0 = time.process_time()
        tu = 0.0
        for tm, members in sorted(groups.items()):
            lo = opts.lyapunov_options(tm)
            params = [pts[i] for i, _ in members]
            y0 = np.stack([Y0[i, ic] for i, ic in members])[:, None, :]
            ens = lyapunov_spectra(LMG_DIMER, params, y0, options=lo, keep_samples=False)
            tu += lo.t_total * len(members)
            del ens
        cpus.append(time.process_time() - c0)
    return {"cpu_s": float(np.median(cpus)), "cpu_s_runs": cpus, "variational_time": tu,
            "n_trajectories": int(sum(len(m) for m in groups.values())), "lengths": {k: len(v) for k, v in groups.items()}}


def main(argv=None) -> dict:
    from bifurcate._numba import numba
    from bifurcate.models import LMG_DIMER
    from analysis.attractors import census_points

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pairs", type=int, default=30)
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--compare", action="store_true", help="also run without shared measurements (A/B)")
    ap.add_argument("--certify", action="store_true",
                    help="also run the certified fast path (CensusOptions(certify=True)), A/B against the default")
    ap.add_argument("--floor", action="store_true",
                    help="also time the bare variational kernel over the measured time the census needed")
    ap.add_argument("--repeats", type=int, default=1, help="A/B repetitions, order alternated")
    ap.add_argument("--processes", type=int, default=0,
                    help="also time the shared census split over this many processes (1 numba thread each)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    n = 201
    pts, Y0, nc = _sample(a.n_pairs, a.seed, n=n, n_initial=a.n_initial)
    rng = np.random.default_rng(a.seed + 1)
    census_points(LMG_DIMER, [pts[0]], LMG_DIMER.random_states(2, rng)[None])   # compile / cache load
    census_points(LMG_DIMER, [pts[0]], LMG_DIMER.random_states(2, rng)[None],
                  options={"certify": True})   # the certified path's kernels too
    runs = {"shared": [], "unshared": [], "certified": []}
    modes = ["shared"] + (["unshared"] if a.compare else []) + (["certified"] if a.certify else [])
    for k in range(a.repeats):
        order = modes if k % 2 == 0 else modes[::-1]
        for name in order:
            runs[name].append(_run(pts, Y0, name != "unshared", certify=name == "certified"))
    out = {"n_points": len(pts), "n_initial": a.n_initial, "threads": int(numba.config.NUMBA_NUM_THREADS),
           "sample": f"{a.n_pairs} random neighbour pairs of the {nc} x {nc} coarse grid (seed {a.seed})"}
    n_full = n * n
    for name, rs in runs.items():
        if not rs:
            continue
        res = rs[-1]["res"]
        walls = [r["wall"] for r in rs]
        wall = float(np.median(walls))
        per_point = wall / len(pts)
        # the cost of a batched call is shared; per-point weights from the variational + transient time
        t_int = np.array([r.trajectories["t_integrated"].sum() + 1.0 for r in res])
        boot = [per_point * rng.choice(t_int, t_int.size).sum() / t_int.sum() for _ in range(2000)]
        stages = {k: float(np.sum([r.timings.get(k, 0.0) for r in res])) for k in res[0].timings}
        rows = [r.summary_row() for r in res]
        dis = [(rows[2 * q]["n_stable_fp"], rows[2 * q]["phase"]) != (rows[2 * q + 1]["n_stable_fp"], rows[2 * q + 1]["phase"])
               for q in range(len(rows) // 2)]
        p_dis = float(np.mean(dis))
        f_cell = 1.0 - (1.0 - p_dis) ** 4
        n_coarse = nc * nc
        n_refine_max = 15 * f_cell * (nc - 1) ** 2
        dec = {}
        for r in res:
            for k, v in r.trajectories["decision"].value_counts().items():
                dec[k] = dec.get(k, 0) + int(v)
        out[name] = {
            "wall_s": walls, "cpu_s": [r["cpu"] for r in rs], "per_point_s": per_point,
            "cpu_per_point_s": float(np.median([r["cpu"] for r in rs])) / len(pts),
            "full_grid_cpu_s": float(np.median([r["cpu"] for r in rs])) / len(pts) * n_full,
            "full_grid_cpu_s_on_2_cores": float(np.median([r["cpu"] for r in rs])) / len(pts) * n_full / 2,
            "coarse_plus_refine_cpu_s_upper_on_2_cores": float(np.median([r["cpu"] for r in rs])) / len(pts)
            * (n_coarse + n_refine_max) / 2, "per_point_s_se": float(np.std(boot)), "stages_s": stages,
            "variational_time": float(sum(r.trajectories["t_measured"].sum() for r in res)),
            "decisions": dec,
            "phases": {p: int(sum(r.phase == p for r in res)) for p in sorted({r.phase for r in res})},
            "undecided_share": float(np.mean([r.fraction_undecided for r in res])),
            "full_grid_s": per_point * n_full,
            "neighbour_disagreement": p_dis, "refined_cell_share": f_cell,
            "coarse_grid_s": per_point * n_coarse,
            "coarse_plus_refine_s_upper": per_point * (n_coarse + n_refine_max),
        }
    if runs["shared"] and runs["unshared"]:
        from studies.benchmarks.fig2_compare import compare_points

        tab = compare_points(runs["unshared"][-1]["res"], runs["shared"][-1]["res"])
        out["speedup_wall"] = out["unshared"]["per_point_s"] / out["shared"]["per_point_s"]
        # CPU time of the process (all threads): on a loaded machine the wall time measures the
        # other users as much as this run
        out["speedup_cpu"] = float(np.median(out["unshared"]["cpu_s"]) / np.median(out["shared"]["cpu_s"]))
        out["agreement"] = {"same_phase": float(tab.same_phase.mean()), "same_n_attractors": float(tab.same_n_att.mean()),
                            "basins_within_3_errors": float(tab.basin_ok.mean()),
                            "exponents_within_3_errors": float(tab.exp_ok.mean()),
                            "phase_disagreements": tab.loc[~tab.same_phase, ["J", "lam", "phase_old", "phase_new"]]
                            .to_dict("records")}
    if runs["shared"] and runs["certified"]:
        from studies.benchmarks.fig2_compare import compare_points

        tab = compare_points(runs["shared"][-1]["res"], runs["certified"][-1]["res"])
        out["certified_speedup_cpu"] = float(np.median(out["shared"]["cpu_s"]) / np.median(out["certified"]["cpu_s"]))
        out["certified_agreement"] = {
            "same_phase": float(tab.same_phase.mean()), "same_n_attractors": float(tab.same_n_att.mean()),
            "basins_within_3_errors": float(tab.basin_ok.mean()), "exponents_within_3_errors": float(tab.exp_ok.mean()),
            "disagreements": tab.loc[~(tab.same_phase & tab.same_n_att & tab.basin_ok),
                                     ["J", "lam", "phase_old", "phase_new", "basin_dev"]].to_dict("records")}
    if a.processes > 1:
        # A/B: in-process (numba threads) against processes, alternated
        walls_t, walls_p = [], []
        for k in range(max(1, a.repeats)):
            for mode in (("threads", "procs") if k % 2 == 0 else ("procs", "threads")):
                if mode == "threads":
                    walls_t.append(_run(pts, Y0, True)["wall"])
                else:
                    rp = _run_processes(pts, Y0, True, a.processes)
                    walls_p.append(rp["wall"])
        same = [r.phase for r in runs["shared"][-1]["res"]] == rp["phases"] if runs["shared"] else None
        out["processes"] = {"n_processes": a.processes, "wall_threads_s": walls_t, "wall_processes_s": walls_p,
                            "speedup": float(np.median(walls_t) / np.median(walls_p)), "same_phases": same}
    if a.floor and runs["shared"]:
        fl = kernel_floor(pts, Y0, runs["shared"][-1]["res"], repeats=a.repeats)
        fl["cpu_per_point_s"] = fl["cpu_s"] / len(pts)
        fl["full_grid_cpu_s_on_2_cores"] = fl["cpu_per_point_s"] * n_full / 2
        fl["share_of_census_cpu"] = fl["cpu_per_point_s"] / out["shared"]["cpu_per_point_s"]
        out["floor"] = fl
    out["per_point_budget_for_10_min_s"] = 600.0 / n_full
    print(json.dumps(out, indent=1, default=float))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=1, default=float)
    return out


if __name__ == "__main__":
    main()
