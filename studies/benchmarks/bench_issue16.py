"""Issue 16 speed targets, measured (not promised): the exact steady state of the LMG dimer at J != 0, and the
six slowest Liouvillian eigenvalues per symmetry sector, against QuTiP in the same run where QuTiP can run.

Run::

    python -m studies.benchmarks.bench_issue16 steady 16 --J 1.5 --lam 0.45 [--qutip] [--preconditioner kron]
    python -m studies.benchmarks.bench_issue16 steady 24 --J 1.5 --lam 0.45 [--workers 1]
    python -m studies.benchmarks.bench_issue16 spectrum 16 --J 1.5 --lam 0.45

prints one JSON line. ``steady``: our solver (``steady_state``, method "auto": sparse LU for small problems,
preconditioned IDR(s) beyond, certified by the gap-scaled error estimate; it also prints a one-line summary
to stderr: wall and CPU time of the process, Krylov products of the solve and of the certificate,
residual, certified error, status; the CPU time exceeds the wall time when the preconditioner's two
threads overlap) and, with ``--qutip``,
``qutip.steadystate`` (direct sparse LU of the full complex Liouvillian) on one BLAS thread, timed in the
same process one after the other; the JSON holds both times, their ratio, both residuals of the exact
blocked Liouvillian, our certified error estimate and the largest difference of the density matrices.
``spectrum``: ``system_spectrum(method="propagator", k=6)`` (the slowest eigenvalues of every sector, residuals
reported). Timings on the shared machine are only comparable as ratios within one run; the CPU (process)
times are reported too (one BLAS thread: the CPU time is what an idle core would take, roughly).
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _steady(S, params, qutip: bool, preconditioner: str, workers="auto") -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from bifurcate.quantum._blocks import BlockLiouvillian
    from bifurcate.quantum.steady import SteadyStateOptions, _validate, steady_state

    opts = SteadyStateOptions(n_threads=1, preconditioner=preconditioner, workers=workers)
    t, c = time.perf_counter(), time.process_time()
    r = steady_state(S, params, options=opts)
    ours, cpu = time.perf_counter() - t, time.process_time() - c
    st = r.stats
    out = {"status": r.status, "method": r.method, "time_ours_s": ours, "cpu_ours_s": cpu, "residual_ours": r.residual,
           "error_estimate": st.get("error_estimate"), "certificate": st.get("certificate"),
           "matvecs": st.get("matvecs"), "gap_matvecs": st.get("gap_matvecs"),
           "products_total": (st.get("matvecs") or 0) + (st.get("gap_matvecs") or 0),
           "time_setup_s": st.get("time_setup"), "time_solve_s": st.get("time_solve"),
           "time_validate_certify_s": st.get("time_validate"),
           "workers": (st.get("preconditioner") or {}).get("workers"),
           "preconditioner": st.get("preconditioner"), "n_unknowns": st.get("n_unknowns"),
           "ZB": r.ZB, "message": r.message}
    if qutip:
        import qutip as qt

        from bifurcate.quantum.lmg_dimer import qutip_model

        H, c_ops = qutip_model(S, params)
        with threadpool_limits(limits=1):
            t, c = time.perf_counter(), time.process_time()
            rho = qt.steadystate(H, c_ops).full()
            tq, cq = time.perf_counter() - t, time.process_time() - c
        B = BlockLiouvillian.build(S, r.params, "Z2")
        blocks = [rho[np.ix_(ix, ix)] for ix in B.index]
        ev = _validate(B, blocks, SteadyStateOptions(max_residual=1.0, positivity_tol=1.0, trace_tol=1.0))
        out.update(time_qutip_s=tq, cpu_qutip_s=cq, ratio_qutip_over_ours=tq / ours, residual_qutip=ev["residual"],
                   max_abs_rho_difference=float(np.abs(rho - r.rho).max()))
    return out


def _spectrum(S, params) -> dict:
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.quantum import system_spectrum

    t, c = time.perf_counter(), time.process_time()
    r = system_spectrum(LMG_DIMER_SYSTEM, S, params, k=6, method="propagator")
    return {"time_ours_s": time.perf_counter() - t, "cpu_ours_s": time.process_time() - c, "status": r.status, "message": r.message, "gap": r.gap,
            "products": {str(k): v for k, v in r.stats["products"].items()},
            "sectors": {str(k): [[float(z.real), float(z.imag)] for z in v] for k, v in r.sectors.items()}}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="issue 16 speed benchmarks")
    ap.add_argument("what", choices=("steady", "spectrum"))
    ap.add_argument("S", type=float)
    ap.add_argument("--J", type=float, default=1.5)
    ap.add_argument("--lam", type=float, default=0.0)
    ap.add_argument("--qutip", action="store_true", help="also run qutip.steadystate in the same process")
    ap.add_argument("--preconditioner", default="auto", choices=("auto", "sylvester", "kron", "lindblad"))
    ap.add_argument("--workers", default="auto", help="threads of the 'lindblad' preconditioner ('auto': up to 2)")
    a = ap.parse_args(argv)
    params = {"J": a.J, "lam": a.lam}
    t = time.perf_counter()
    if a.what == "steady":
        workers = a.workers if a.workers == "auto" else int(a.workers)
        c = time.process_time()
        out = _steady(a.S, params, a.qutip, a.preconditioner, workers)
        out = {"what": a.what, "S": a.S, **params, **out, "wall_time_s": time.perf_counter() - t,
               "cpu_time_s": time.process_time() - c}
        # the headline first (stderr), the full record as one JSON line (stdout)
        print(f"steady S={a.S:g} J={a.J:g} lam={a.lam:g}: status {out['status']}, wall {out['wall_time_s']:.1f} s, "
              f"CPU {out['cpu_time_s']:.1f} s, products {out['matvecs']} + {out['gap_matvecs']} (certificate), "
              f"residual {out['residual_ours']:.1e}, certified error {out['error_estimate']:.1e}", file=sys.stderr)
        print(json.dumps(out, default=str))
        return out
    else:
        out = _spectrum(a.S, params)
    out = {"what": a.what, "S": a.S, **params, **out, "wall_time_s": time.perf_counter() - t}
    print(json.dumps(out, default=str))
    return out


if __name__ == "__main__":
    main()
