"""Special points of a branch against a reference continuation (e.g. AUTO-07p), with a warning
when the reference's own tolerances have dropped branch points.

AUTO-07p locates a branch point by secant iteration on its determinant test function until the
step is below EPSS; when that iteration does not converge (tight EPSS, a branch point close to a
fold) AUTO drops the point *silently* and goes on. Measured on the symmetric two-cell enzyme
(AUTO demo ``enz``, rh = 100, rk = 1): both pitchforks of the symmetric branch (closed form
R'(s) = -3 / rh) are missing at EPSS = 1e-10 and 1e-6 and reported at EPSS = 1e-4.
:func:`compare_points` matches the points kind by kind and, for every located BP of ours with no
counterpart, emits :class:`OracleToleranceWarning` saying so (and what to rerun).

AUTO-07p's step size drops period doublings silently too: it classifies a change of its count of
stable multipliers by the nontrivial multiplier nearest |z| = 1 at the new point, so when one step
carries a real multiplier from inside the unit circle to beyond about -2 (beside a fold of cycles,
near a homoclinic orbit), the nearest is another one and the change is labelled nothing, without a
note. Measured on the flagship's J = 1 branch: the PDs beside the folds at periods 8.45 and 10.46
are missing at DSMAX = 0.1 and listed (equal to ours to 1e-9) at DSMAX = 0.002; on AUTO demo tor's
asymmetric branch, the one at period 13.89 needs DSMAX = 2e-4. A located PD of ours with no
counterpart warns as well (rerun with a smaller DSMAX).
"""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["OracleToleranceWarning", "compare_points"]


class OracleToleranceWarning(UserWarning):
    """The reference missed a branch point that this engine located (its tolerances dropped it)."""


def compare_points(ours: Iterable, reference: Sequence[tuple[str, float]], tol: float, *,
                   kinds: Sequence[str] = ("LP", "BP", "HB", "LPC", "PD", "NS", "BPC"),
                   oracle: str = "AUTO-07p", oracle_tol: float | None = None) -> pd.DataFrame:
    """Match special points of a branch with a reference's.

    Parameters
    ----------
    ours : iterable of BifurcationPoint (e.g. ``branch.points``)
    reference : sequence of (kind, parameter value), in branch order
    tol : float
        Two points of the same kind match when their parameters differ by less than this.
    kinds : the kinds compared (others, e.g. NSad, are ignored)
    oracle, oracle_tol : name and localisation tolerance of the reference (for the message)

    Returns
    -------
    DataFrame
        One row per point: ``kind``, ``ours``, ``reference``, ``diff``, ``status`` in
        ``"match"``, ``"only_ours"``, ``"only_reference"``.

    Warns
    -----
    OracleToleranceWarning
        For every *located* BP or BPC of ours the reference lacks (its localisation tolerance), and
        for every located PD (its step size).
    """
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    mine = [(p.kind, float(p.param), bool(p.located)) for p in ours if p.kind in kinds]
    ref = [(str(k), float(v)) for k, v in reference if k in kinds]
    used = set()
    rows = []
    for kind, val, located in mine:
        cands = [j for j, (k, v) in enumerate(ref) if k == kind and j not in used and abs(v - val) < tol]
        if cands:
            j = min(cands, key=lambda j: abs(ref[j][1] - val))
            used.add(j)
            rows.append(dict(kind=kind, ours=val, reference=ref[j][1], diff=abs(ref[j][1] - val), status="match",
                             located=located))
        else:
            rows.append(dict(kind=kind, ours=val, reference=np.nan, diff=np.nan, status="only_ours",
                             located=located))
    for j, (k, v) in enumerate(ref):
        if j not in used:
            rows.append(dict(kind=k, ours=np.nan, reference=v, diff=np.nan, status="only_reference", located=False))
    df = pd.DataFrame(rows, columns=["kind", "ours", "reference", "diff", "status", "located"])
    dropped = df[(df["status"] == "only_ours") & df["located"] & df["kind"].isin(["BP", "BPC"])]
    if len(dropped):
        where = ", ".join(f"{k} at {v:.10g}" for k, v in zip(dropped["kind"], dropped["ours"]))
        at = f" at its localisation tolerance {oracle_tol:g}" if oracle_tol is not None else ""
        warnings.warn(f"{oracle} did not report {where}, located here: its branch-point localisation{at} can fail "
                      f"and drop the point silently (AUTO-07p: rerun with a looser EPSS, e.g. 1e-4, to see it)",
                      OracleToleranceWarning, stacklevel=2)
    flips = df[(df["status"] == "only_ours") & df["located"] & (df["kind"] == "PD")]
    if len(flips):
        where = ", ".join(f"PD at {v:.10g}" for v in flips["ours"])
        warnings.warn(f"{oracle} did not report {where}, located here: a step that carries a real multiplier from "
                      f"inside the unit circle to beyond about -2 (beside a fold of cycles, near a homoclinic orbit) "
                      f"drops a period doubling silently (AUTO-07p classifies the change by the multiplier nearest "
                      f"|z| = 1; rerun with a smaller DSMAX to see it)", OracleToleranceWarning, stacklevel=2)
    return df
