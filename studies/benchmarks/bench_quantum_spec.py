"""Benchmark: exact steady states of the LMG dimer from its specification against the hand-built operators.

Both paths solve the same symmetry-blocked problem with the same solvers; the specification path adds
building H and the jumps from term lists, evaluating the coefficients and detecting the symmetries.
For each point ``(J, lam)`` and S, the two are run alternately (A/B/A/B...) in one process, ``--repeats``
times each, after one warm-up pair; the table reports the median wall times, their ratio (spec / hand),
the largest ``|rho_spec - rho_hand|`` and both statuses. Timings on a shared machine are only meaningful
as these same-run ratios.

Run: ``python -m studies.benchmarks.bench_quantum_spec [--out bench_quantum_spec.md] [--repeats 3]``
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

POINTS = {(1.5, 0.5): [2, 3, 4, 6, 8], (0.0, 0.7): [4, 8, 12, 16, 20]}


def run(points=POINTS, repeats: int = 3) -> pd.DataFrame:
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.quantum import steady_state

    rows = []
    for (J, lam), S_list in points.items():
        p = {"J": J, "lam": lam}
        for S in S_list:
            hand = lambda: steady_state(S, p)  # noqa: E731
            spec = lambda: LMG_DIMER_SYSTEM.steady_state(S, p)  # noqa: E731
            a, b = hand(), spec()  # warm-up, and the states compared
            th, ts = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                hand()
                th.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                spec()
                ts.append(time.perf_counter() - t0)
            row = {"J": J, "lam": lam, "S": S, "method": f"{a.method}/{a.sector}", "n_unknowns": a.stats["n_unknowns"],
                   "t_hand_s": statistics.median(th), "t_spec_s": statistics.median(ts),
                   "ratio_spec_over_hand": statistics.median(ts) / statistics.median(th),
                   "max_abs_rho_diff": float(np.abs(a.rho - b.rho).max()),
                   "status_hand": a.status, "status_spec": b.status}
            print(row, flush=True)
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="write the table (.md or .csv); default: print only")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per path and point (default 3)")
    ap.add_argument("--quick", action="store_true", help="S <= 4 only (a smoke run)")
    a = ap.parse_args(argv)
    pts = {k: [s for s in v if s <= 4] for k, v in POINTS.items()} if a.quick else POINTS
    load0 = os.getloadavg()[0]
    df = run(pts, a.repeats)
    print(df.to_string(index=False))
    print(f"median ratio spec/hand: {df['ratio_spec_over_hand'].median():.3f} (load {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f})")
    if a.out:
        from studies.benchmarks.bench_quantum import to_markdown

        text = to_markdown(df) if a.out.endswith(".md") else df.to_csv(index=False)
        with open(a.out, "w") as fh:
            fh.write(text)
    return df


if __name__ == "__main__":
    main()
