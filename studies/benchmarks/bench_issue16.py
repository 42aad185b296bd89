"""Issue 16 speed targets, measured (not promised): the exact steady state of the LMG dimer at J != 0 for
S = 24, and the six slowest Liouvillian eigenvalues per symmetry sector at S = 16, each with a wall-time
limit (a run that does not finish within the limit is reported as such by the caller's timeout).

Run: ``python -m studies.benchmarks.bench_issue16 steady 24`` or ``... spectrum 16``; prints one JSON line.
"""
from __future__ import annotations

import json
import sys
import time


def main(argv=None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    what = argv[0] if argv else "steady"
    S = float(argv[1]) if len(argv) > 1 else (24.0 if what == "steady" else 16.0)
    params = {"J": 1.5, "lam": 0.0}
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM

    t = time.perf_counter()
    if what == "steady":
        r = LMG_DIMER_SYSTEM.steady_state(S, params)
        out = {"what": what, "S": S, **params, "status": r.status, "message": r.message,
               "ZB": r.observables()["ZB"]}
    elif what == "spectrum":
        from bifurcate.quantum import system_spectrum

        r = system_spectrum(LMG_DIMER_SYSTEM, S, params, k=6, method="arnoldi", sigma=0.02)
        out = {"what": what, "S": S, **params, "status": r.status, "message": r.message, "gap": r.gap,
               "sectors": {str(k): [str(complex(v)) for v in vals] for k, vals in r.sectors.items()}}
    else:
        raise ValueError(f"expected 'steady' or 'spectrum', got {what!r}")
    out["wall_time_s"] = time.perf_counter() - t
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
