"""Liouvillian spectra over sweeps (the studies' question); the spectrum itself is engine code.

:func:`liouvillian_spectrum`, :class:`LiouvillianSpectrum` and :func:`sector_liouvillians` live in
:mod:`bifurcate.quantum.spectrum` and are re-exported here; :func:`gap_scan` (a sweep that records
failures) stays in the analysis layer.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from bifurcate.quantum.lmg_dimer import validate_params
from bifurcate.quantum.operators import validate_spin
from bifurcate.quantum.spectrum import LiouvillianSpectrum, liouvillian_spectrum, sector_liouvillians  # noqa: F401

__all__ = ["LiouvillianSpectrum", "liouvillian_spectrum", "gap_scan", "sector_liouvillians"]


def gap_scan(S_values: Iterable, grid: Iterable[Mapping], *, params: Mapping | None = None, k: int = 4,
             method: str = "auto") -> pd.DataFrame:
    """Gaps over a list of S and a list of parameter overrides (e.g. a cut in J or lam).

    A failing point is recorded (``status="error"``, ``message``), never fatal.

    Returns
    -------
    DataFrame with one row per (S, grid point): ``S, g, gamma, J, lam, gap, gap_even, gap_odd, ...``.
    """
    base = validate_params(params)
    grid = [validate_params({**base, **dict(g)}) for g in grid]
    rows = []
    for S in S_values:
        validate_spin(S)
        for pt in grid:
            try:
                rows.append(liouvillian_spectrum(S, pt, k=k, method=method).to_frame())
            except Exception as exc:  # recorded, a sweep never dies on one point
                rows.append(pd.DataFrame([{"S": float(S), **pt, "gap": np.nan, "gap_even": np.nan,
                                           "gap_odd": np.nan, "status": "error",
                                           "message": f"{type(exc).__name__}: {exc}"}]))
    return pd.concat(rows, ignore_index=True)
