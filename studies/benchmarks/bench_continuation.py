"""Benchmark of continuation: one full branch with located points, and the BP and Hopf curves of
the LMG dimer over lam in [0, 1.5]; plus find_equilibria per parameter point.

Run: ``python -m studies.benchmarks.bench_continuation``. Times are after compilation (a warm-up
call runs first) and are printed, never asserted.
"""
from __future__ import annotations

import time

import numpy as np


def _best(f, repeat=3):
    out, best = None, np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(quick: bool = False) -> dict:
    from bifurcate.continuation import continue_equilibria
    from bifurcate.continuation.codim2 import continue_codim2
    from bifurcate.continuation.switching import switch_branch
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER, NORMAL_STATE

    rep = 1 if quick else 3
    # warm-up (numba kernels, first calls)
    find_equilibria(LMG_DIMER, J=0.1, lam=0.1)
    continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.1), p_min=0, p_max=1)

    out = {}
    grid = [(J, lam) for J in np.linspace(-2, 2, 11) for lam in np.linspace(0, 1.5, 11)]
    _, t = _best(lambda: [find_equilibria(LMG_DIMER, J=J, lam=lam) for J, lam in grid], rep)
    out["find_equilibria_per_point_ms"] = 1e3 * t / len(grid)

    def full_branch():
        b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.8), p_min=-2, p_max=2)
        return b, switch_branch(b)

    (b, sw), t = _best(full_branch, rep)
    out["branch_J_lam0.8_s"] = t
    out["branch_rows"] = len(b)
    out["branch_points"] = [f"{p.kind}@{p.param:.10f}" for p in b.points]

    bp = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), p_min=0, p_max=1).special("BP")[0]
    c, t = _best(lambda: continue_codim2(LMG_DIMER, bp, "lam", p_min=0.0, p_max=1.5), rep)
    out["bp_curve_s"], out["bp_curve_rows"] = t, len(c)
    hb = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params=dict(J=0.0), p_min=0, p_max=1.5).special("HB")[0]
    c, t = _best(lambda: continue_codim2(LMG_DIMER, hb, "J", p_min=-2, p_max=2, bounds={"lam": (0.0, 1.5)}), rep)
    out["hopf_curve_s"], out["hopf_curve_rows"] = t, len(c)
    y = find_equilibria(LMG_DIMER, J=1.0).stable_states()[0]
    hb2 = continue_equilibria(LMG_DIMER, y, param="lam", params=dict(J=1.0), p_min=0, p_max=1.5).special("HB")[0]
    c, t = _best(lambda: continue_codim2(LMG_DIMER, hb2, "J", p_min=-2, p_max=2, bounds={"lam": (0.0, 1.5)}), rep)
    out["broken_hopf_curve_s"], out["broken_hopf_curve_rows"] = t, len(c)
    for k, v in out.items():
        print(f"{k:32s} {v:.4g}" if isinstance(v, float) else f"{k:32s} {v}")
    return out


if __name__ == "__main__":
    main()
