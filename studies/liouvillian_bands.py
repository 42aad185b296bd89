"""The slowest Liouvillian eigenvalues of the LMG dimer per symmetry sector as S grows (issue 16, judged items).

For each spin length the ``k`` slowest eigenvalues of every requested sector are computed with
``system_spectrum(method="propagator")`` (Arnoldi on ``exp(tau L)``, Rayleigh quotients, residuals
reported), so modes far up the imaginary axis (a limit cycle's band ``i k omega``) are found without
guessing a shift. One JSON line per ``(point, S)`` is appended to the output file (eigenvalues as
``[re, im]`` pairs, residuals, products, wall time), so a long run can be read while it goes on.

Run::

    python -m studies.liouvillian_bands --point 1.5,0.45 --S 2 3 4 5 6 8 10 --k 10 --out bands.jsonl

``--sectors`` restricts the sectors (e.g. ``--sectors 1`` at ``J = 0``: the U(1) charge ``+1`` that holds
the normal state's slowest mode ``-gamma/2 ... + i``); the default computes every sector with at most
``--max-sectors`` keys nearest zero.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def band_spectra(S: float, params: dict, *, k: int = 10, tau: float = 1.0, tol: float = 1e-10,
                 sectors=None, max_sectors: int = 3) -> dict:
    """``{sector key: (eigenvalues, residuals, products, seconds)}`` of the LMG dimer at ``(S, params)``."""
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.quantum import liouvillian_system
    from bifurcate.quantum.system import propagator_eigenvalues
    from threadpoolctl import threadpool_limits

    secs = liouvillian_system(LMG_DIMER_SYSTEM, S, params).superoperator_sectors()
    keys = sorted(secs, key=lambda key: (sum(abs(c) for c in key), key))
    if sectors is not None:
        keys = [key for key in keys if key in sectors]
    else:
        keys = keys[:max_sectors]
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for key in keys:
            Lb = secs[key]
            t0 = time.perf_counter()
            n = Lb.shape[0]
            if n <= 400:
                mu = np.linalg.eigvals(Lb.toarray())
                mu = mu[np.argsort(-mu.real, kind="stable")][:k]
                res, prods = np.zeros(len(mu)), 0
            else:
                mu, res, info = propagator_eigenvalues(Lb, k=min(k, n - 2), tau=tau, tol=tol)
                prods = info["products"]
            out[key] = (mu, res, prods, time.perf_counter() - t0)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--point", required=True, help="J,lam (g = 1, gamma = 0.5)")
    ap.add_argument("--S", type=float, nargs="+", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--tau", type=float, default=1.0)
    ap.add_argument("--sectors", type=int, nargs="*", default=None,
                    help="sector keys (single-charge systems: the integer charge difference)")
    ap.add_argument("--max-sectors", type=int, default=3)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    J, lam = (float(x) for x in a.point.split(","))
    params = {"J": J, "lam": lam}
    sectors = None if a.sectors is None else [(int(s),) for s in a.sectors]
    for S in a.S:
        t0 = time.perf_counter()
        res = band_spectra(S, params, k=a.k, tau=a.tau, sectors=sectors, max_sectors=a.max_sectors)
        row = {"J": J, "lam": lam, "S": S, "wall_s": time.perf_counter() - t0,
               "sectors": {str(key): {"eigenvalues": [[float(z.real), float(z.imag)] for z in mu],
                                      "residuals": [float(r) for r in rs], "products": int(p), "seconds": float(s)}
                           for key, (mu, rs, p, s) in res.items()}}
        with open(a.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"S={S:g} done in {row['wall_s']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
