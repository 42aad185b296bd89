"""The branch points of cycles (BPC) of AUTO-07p's demo ``tor`` on the symmetric cycles: AUTO's
listing against its own constants, ours, and the evidence that each is a branch point.

AUTO (through bifpy) is run from the Hopf point at several NTST, EPSS and DSMAX; each run's LPC and
BPC up to period ``--max-period`` are printed. Ours: every BPC with how it was located, the
unfolding residual of the augmented system and, with ``--switch``, the symmetry breaking
max|u(t + T/2) + u(t)| / max|u| of the first cycles of the branch switched onto there (the
symmetric branch keeps it below 1e-4; a genuine symmetry-breaking branch point gives a growing one).

Run: ``python -m studies.benchmarks.tor_bpc [--switch] [--max-period 100]``.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

#: (NTST, EPSS, DSMAX) of the AUTO runs: the demo's own constants first
AUTO_RUNS = ((25, 1e-5, 0.01), (100, 1e-5, 0.01), (200, 1e-5, 0.01), (300, 1e-5, 0.01), (100, 1e-7, 0.01),
             (100, 1e-5, 0.002), (200, 1e-7, 0.002), (100, 1e-9, 0.01))


def auto_listing(max_period: float) -> None:
    from bifurcate.backends import auto07p
    from bifurcate.backends.auto07p import AutoToleranceWarning
    from bifurcate.models.classic import TORUS_OSCILLATOR

    prob = auto07p.AutoProblem(
        name="tor", state_names=("x", "y", "z"), param_names=("rn", "be", "ga", "r", "a3", "b3"),
        equations=("(-(be + rn)*x + be*y - a3*x**3 + b3*(y - x)**3)/r", "be*x - (be + ga)*y - z - b3*(y - x)**3",
                   "y"),
        defaults=dict(TORUS_OSCILLATOR.defaults))
    eq = auto07p.auto_equilibria(prob, [0.0, 0.0, 0.0], {}, "rn", bounds=(-0.9, -0.4))
    for ntst, epss, dsmax in AUTO_RUNS:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AutoToleranceWarning)
            run = auto07p.auto_cycles_from_hopf(eq, 0, bounds=(-0.9, -0.4), max_period=max_period, settings={
                "nmx": 3000, "ntst": ntst, "epss": epss, "epsl": 1e-7, "epsu": 1e-7, "ds": 0.001, "dsmax": dsmax})
        pf = run.points_frame()
        print(f"== AUTO NTST {ntst}, EPSS {epss:g}, DSMAX {dsmax:g} ({time.perf_counter() - t0:.1f} s, status "
              f"{run.status})")
        for k, v, T in zip(pf["kind"], pf["rn"], pf["period"]):
            if k in ("LPC", "BPC"):
                print(f"   {k:4s} rn = {v:.10f}  period {T:.6f}")


def ours(max_period: float, switch: bool) -> None:
    from bifurcate.continuation import continue_equilibria
    from bifurcate.cycles import continue_cycles
    from bifurcate.cycles.collocation import Collocation
    from bifurcate.cycles.switching import switch_at_bpc
    from bifurcate.models.classic import TORUS_OSCILLATOR as M

    eq = continue_equilibria(M, [0.0, 0.0, 0.0], param="rn", params={}, ds=0.001, ds_max=0.01, p_min=-0.9, p_max=-0.4)
    t0 = time.perf_counter()
    br = continue_cycles(M, eq.special("HB")[0], param="rn", ntst=25, max_points=600, p_min=-0.9, p_max=-0.4)
    print(f"== ours (NTST 25 refined up to 100; {time.perf_counter() - t0:.1f} s, status {br.status})")

    def asymmetry(mesh, U, ncol):
        c = Collocation(M, M.pack_params(br.params), 0, mesh, ncol, use_numba=False)
        s = np.linspace(0.0, 1.0, 400, endpoint=False)
        return float(np.max(np.abs(c.sample(U, s) + c.sample(U, s + 0.5))) / np.max(np.abs(c.sample(U, s))))

    for p in br.points:
        if p.kind not in ("LPC", "BPC") or p.data["period"] > max_period:
            continue
        line = f"   {p.kind:4s} rn = {p.param:.10f}  period {p.data['period']:.6f}  NTST {len(p.data['mesh']) - 1}"
        if p.kind == "BPC":
            d = p.data
            line += (f"  {d.get('located_by', 'multiplier test')}{' (at a fold)' if d.get('found_at_fold') else ''}"
                     f", residual {d.get('bpc_residual', float('nan')):.1e}, beta {d.get('bpc_beta', float('nan')):.1e}")
            if switch:
                sb = switch_at_bpc(M, p, param="rn", max_points=4, ntst=len(p.data["mesh"]) - 1, p_min=-0.9,
                                   p_max=-0.4)
                a = [asymmetry(sb.meshes[i], sb.orbits[i][1], sb.ncol) for i in range(len(sb))]
                line += f"; switched: asymmetry {np.round(a, 3).tolist()}"
        print(line)
    sym = max(asymmetry(br.meshes[i], br.orbits[i][1], br.ncol) for i in range(len(br)))
    print(f"   the symmetric branch's own asymmetry: at most {sym:.1e}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-period", type=float, default=100.0)
    ap.add_argument("--switch", action="store_true", help="switch at each of our BPCs (evidence of a branch point)")
    ap.add_argument("--no-auto", action="store_true")
    a = ap.parse_args(argv)
    if not a.no_auto:
        auto_listing(a.max_period)
    ours(a.max_period, a.switch)


if __name__ == "__main__":
    main()
