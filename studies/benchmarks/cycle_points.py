"""Special points of three reference cycle branches, as JSON (a before/after check of the cycle
driver): the flagship's J = 1 branch from the Hopf point to the homoclinic limit, and the cycles of
two classic AUTO-07p demos (the AB reactor, the predator-prey model and the torus oscillator) from their first Hopf point.

Run: ``python -m studies.benchmarks.cycle_points OUT.json``; compare two files with
``python -m studies.benchmarks.cycle_points --compare A.json B.json``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _branch_record(br) -> dict:
    hom = br.stats.get("homoclinic") or {}
    return {
        "status": int(br.status), "message": br.message, "n_rows": len(br),
        "param_end": float(br.param_values[-1]) if len(br) else None,
        "period_end": float(br.columns["period"][-1]) if len(br) else None,
        "p_hom": hom.get("p_hom"), "saddle": hom.get("saddle"),
        "points": [{"kind": p.kind, "param": float(p.param), "period": float(p.data["period"]),
                    "amplitude": float(p.data["amplitude"]), "located": bool(p.located),
                    "multipliers": [[float(z.real), float(z.imag)] for z in np.asarray(p.eigenvalues)]
                    if p.eigenvalues is not None else None}
                   for p in br.points],
    }


def branches() -> dict:
    from bifurcate.continuation import continue_equilibria
    from bifurcate.cycles import continue_cycles
    from bifurcate.models import LMG_DIMER
    from bifurcate.models.classic import AB_REACTOR, PREDATOR_PREY
    from studies.benchmarks.bench_cycles import broken_hopf

    out = {}
    yh, lh, om = broken_hopf(1.0)
    t0 = time.perf_counter()
    out["flagship_J1"] = _branch_record(continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om)))
    out["flagship_J1"]["wall_s"] = time.perf_counter() - t0
    for name, model, y0, params, prm, bnd in (
            ("ab", AB_REACTOR, [0.0, 0.0], {"D": 0.0, "B": 14.0, "beta": 2.0}, "D", (-0.01, 0.5)),
            ("pp2", PREDATOR_PREY, [1.0 / 3.0, 2.0], {"p1": 0.0}, "p1", (-0.01, 1.0))):
        eq = continue_equilibria(model, y0, param=prm, params=params, ds=0.005, ds_max=0.05, p_min=bnd[0],
                                 p_max=bnd[1], max_steps=5000)
        t0 = time.perf_counter()
        br = continue_cycles(model, eq.special("HB")[0], param=prm, max_points=600, ntst=60, p_min=bnd[0],
                             p_max=bnd[1])
        out[name] = _branch_record(br)
        out[name]["wall_s"] = time.perf_counter() - t0
    # AUTO demo tor: LPC and BPC on the way to a homoclinic orbit of a saddle-focus
    from bifurcate.models.classic import TORUS_OSCILLATOR

    eq = continue_equilibria(TORUS_OSCILLATOR, [0.0, 0.0, 0.0], param="rn", params={}, ds=0.001, ds_max=0.01,
                             p_min=-0.9, p_max=-0.4)
    t0 = time.perf_counter()
    br = continue_cycles(TORUS_OSCILLATOR, eq.special("HB")[0], param="rn", ntst=25, max_points=600, p_min=-0.9,
                         p_max=-0.4)
    out["tor"] = _branch_record(br)
    out["tor"]["wall_s"] = time.perf_counter() - t0
    return out


def compare(a: dict, b: dict) -> None:
    for name in a:
        ra, rb = a[name], b[name]
        print(f"== {name}: status {ra['status']} -> {rb['status']}, rows {ra['n_rows']} -> {rb['n_rows']}, "
              f"end {ra['param_end']} -> {rb['param_end']}")
        if ra["p_hom"] is not None or rb["p_hom"] is not None:
            print(f"   p_hom {ra['p_hom']} -> {rb['p_hom']}; saddle {ra['saddle']} -> {rb['saddle']}")
        ka = [p["kind"] for p in ra["points"]]
        kb = [p["kind"] for p in rb["points"]]
        print(f"   kinds {ka} -> {kb}")
        for pa, pb in zip(ra["points"], rb["points"]):
            print(f"   {pa['kind']:4s} param {pa['param']:.12f} d={pb['param'] - pa['param']:+.2e}  period "
                  f"{pa['period']:.10f} d={pb['period'] - pa['period']:+.2e}  amplitude "
                  f"d={pb['amplitude'] - pa['amplitude']:+.2e}  located {pa['located']}->{pb['located']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?")
    ap.add_argument("--compare", nargs=2)
    a = ap.parse_args(argv)
    if a.compare:
        compare(*(json.load(open(f)) for f in a.compare))
        return
    res = branches()
    text = json.dumps(res, indent=1, default=float)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
