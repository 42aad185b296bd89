"""Benchmark: exact steady states of Eq. (5), ``qutip.steadystate`` (default settings) against ours.

For each point ``(J, lam)`` in ``{(1.5, 0.5), (0, 0.7)}`` and each solver, S climbs a ladder from 2;
every run is a fresh subprocess (so peak memory is that run's own), killed at the time cap (default
300 s, the issue's 5 minutes) or the memory cap (default 16 GiB, resident set sampled every 0.2 s and
the child's own ``ru_maxrss`` at the end). A solver stops climbing after its first failure, or when
the power law through its last two times predicts more than 3x the cap (reported as "skipped").
The table has one row per (point, S, solver): wall time of the solve alone (import and model build
excluded), peak RSS, ZB and, for ours, the method, unknowns and operator products. The largest S
each solver finished within the caps is printed at the end.

Run: ``python -m studies.benchmarks.bench_quantum --out bench_quantum.md [--time-cap 300] [--mem-cap-gib 16]``
(``.md`` writes a markdown table, ``.csv`` a CSV; a ``<out>.metadata.json`` is written beside it).

Note: the machine is shared; the load average at the start and end of the run is recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

CHILD = r"""
import json, resource, sys, time
S, J, lam, solver, threads = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
p = {"g": 1.0, "gamma": 0.5, "J": J, "lam": lam}
out = {}
if solver == "qutip":
    import numpy as np, qutip
    from analysis.quantum.operators import dimer_operators, qutip_model, to_qobj
    H, c = qutip_model(S, p)
    t0 = time.perf_counter()
    rho = qutip.steadystate(H, c)
    out["time_s"] = time.perf_counter() - t0
    out["ZB"] = float(qutip.expect(to_qobj(dimer_operators(S).zB, S), rho) / S)
    out["method"] = "qutip.steadystate(direct)"
else:
    from analysis.quantum import steady_state
    opts = {} if threads == "auto" else {"n_threads": int(threads)}
    t0 = time.perf_counter()
    r = steady_state(S, p, options=opts)
    out["time_s"] = time.perf_counter() - t0
    out.update(ZB=r.ZB, method=f"{r.method}/{r.sector}", n_unknowns=r.stats["n_unknowns"],
               matvecs=r.stats.get("matvecs"), residual=r.residual)
out["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(out), flush=True)
"""

LADDER = [2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 22, 24, 28, 32, 36, 40, 48, 56, 64]


def to_markdown(df: pd.DataFrame) -> str:
    """A plain markdown table (pandas' ``to_markdown`` needs the optional ``tabulate``)."""
    def fmt(v):
        if isinstance(v, float):
            return "" if v != v else f"{v:.4g}"
        return str(v)

    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def run_one(S, J, lam, solver, *, time_cap, mem_cap_bytes, threads="auto") -> dict:
    import psutil

    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(S), str(J), str(lam), solver, str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    status = "ok"
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        elapsed = time.perf_counter() - t0
        if elapsed > time_cap + 30:  # the cap applies to the solve; allow the imports and build
            status = f"timeout (> {time_cap:.0f} s)"
        elif peak > mem_cap_bytes:
            status = f"memory (> {mem_cap_bytes / 2**30:.0f} GiB)"
        if status != "ok":
            os.killpg(proc.pid, 9)
            proc.wait()
            break
        time.sleep(0.2)
    out, err = proc.communicate() if status == "ok" else ("", "")
    row = {"J": J, "lam": lam, "S": S, "solver": solver, "status": status, "peak_rss_mib": peak / 2**20}
    if status == "ok":
        res = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not res:
            row["status"] = f"error (rc={proc.returncode}): {err.strip().splitlines()[-1] if err.strip() else ''}"
        else:
            data = json.loads(res[-1][7:])
            row.update(data)
            row["peak_rss_mib"] = max(row["peak_rss_mib"], data["ru_maxrss_mib"])
            if data["time_s"] > time_cap:
                row["status"] = f"timeout (> {time_cap:.0f} s)"
    return row


def climb(J, lam, solver, *, time_cap, mem_cap_bytes, threads, log) -> list[dict]:
    rows = []
    times = []
    for S in LADDER:
        if len(times) >= 2:
            (s1, t1), (s2, t2) = times[-2], times[-1]
            import math

            if t1 > 0.5 and t2 > t1:
                k = math.log(t2 / t1) / math.log(s2 / s1)
                pred = t2 * (S / s2) ** k
                if pred > 3 * time_cap:
                    rows.append({"J": J, "lam": lam, "S": S, "solver": solver,
                                 "status": f"skipped (predicted {pred:.0f} s)"})
                    log(rows[-1])
                    break
        row = run_one(S, J, lam, solver, time_cap=time_cap, mem_cap_bytes=mem_cap_bytes, threads=threads)
        rows.append(row)
        log(row)
        if row["status"] != "ok":
            break
        times.append((S, row["time_s"]))
    return rows


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output table (.md or .csv)")
    ap.add_argument("--time-cap", type=float, default=300.0)
    ap.add_argument("--mem-cap-gib", type=float, default=16.0)
    ap.add_argument("--threads", default="auto", help="BLAS threads for ours ('auto' or an integer)")
    ap.add_argument("--points", default="1.5:0.5,0:0.7", help="comma-separated J:lam pairs")
    ap.add_argument("--solvers", default="ours,qutip")
    a = ap.parse_args(argv)
    points = [tuple(float(x) for x in pt.split(":")) for pt in a.points.split(",")]
    load0 = os.getloadavg()
    t_start = time.time()

    def log(row):
        keep = {k: row.get(k) for k in ("J", "lam", "S", "solver", "status", "time_s", "peak_rss_mib", "ZB",
                                        "method", "matvecs")}
        print(json.dumps(keep, default=str), flush=True)

    rows = []
    for J, lam in points:
        for solver in a.solvers.split(","):
            rows += climb(J, lam, solver, time_cap=a.time_cap, mem_cap_bytes=a.mem_cap_gib * 2**30,
                          threads=a.threads, log=log)
    df = pd.DataFrame(rows)
    # side-by-side view at equal S
    wide = df.pivot_table(index=["J", "lam", "S"], columns="solver", values=["time_s", "peak_rss_mib"],
                          aggfunc="first")
    wide.columns = [f"{solver}_{what}" for what, solver in wide.columns]
    wide = wide.reset_index()
    if {"qutip_time_s", "ours_time_s"} <= set(wide.columns):
        wide["speedup"] = wide["qutip_time_s"] / wide["ours_time_s"]
    zb = df[df["status"] == "ok"].pivot_table(index=["J", "lam", "S"], columns="solver", values="ZB",
                                               aggfunc="first")
    if {"qutip", "ours"} <= set(zb.columns):
        wide = wide.merge((zb["ours"] - zb["qutip"]).abs().rename("abs_dZB").reset_index(), how="left")
    largest = (df[df["status"] == "ok"].groupby(["J", "lam", "solver"])["S"].max().rename("largest_S_ok")
               .reset_index())
    load1 = os.getloadavg()
    print("\n" + wide.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print("\nlargest S within the caps:\n" + largest.to_string(index=False))
    print(f"\nload average at start {load0}, at end {load1}; total {time.time() - t_start:.0f} s")
    out = Path(a.out)
    if out.suffix == ".csv":
        df.to_csv(out, index=False)
        wide.to_csv(out.with_name(out.stem + "_wide.csv"), index=False)
    else:
        text = ["# bench_quantum", "", f"time cap {a.time_cap:.0f} s, memory cap {a.mem_cap_gib:.0f} GiB, "
                f"threads for ours: {a.threads}; load average start {load0}, end {load1}", "",
                "## ours vs qutip.steadystate at equal S", "", to_markdown(wide), "",
                "## largest S finished within the caps", "", to_markdown(largest), "",
                "## all runs", "", to_markdown(df), ""]
        out.write_text("\n".join(text))
    try:
        from analysis.provenance import write_metadata

        write_metadata(out, benchmark="bench_quantum", time_cap=a.time_cap, mem_cap_gib=a.mem_cap_gib,
                       threads=a.threads, points=points, load_start=load0, load_end=load1)
    except Exception as exc:  # provenance is a nicety here, the table is the result
        print(f"(metadata not written: {exc})")
    return df


if __name__ == "__main__":
    main()
