"""The cross-check itself: exact steady states along cuts through (J, lam) for a list of S, joined with
mean-field values supplied by the caller, and finite-size trends.

This module does not import the mean-field engine: mean-field (attractor-averaged) values come in as
an optional DataFrame with columns ``J, lam`` (and optionally ``g, gamma``) plus observables such as
``ZB``; they are joined on the parameters and suffixed ``_mf`` (the lead joins the two halves).

References
----------
Kothe & Kirton, Fig. 1(b) (PT dimer: ZA, ZB, purity versus lam at J = 0) and Fig. 3(a)-(d) (exact ZB
for several S against mean field along two cuts at fixed lam and two at fixed J).
"""
from __future__ import annotations

import time
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.cuts import CUTS as _CUTS

from .operators import validate_params, validate_spin
from .steady import SteadyStateError, SteadyStateOptions, steady_state

__all__ = ["cut", "merge_meanfield", "finite_size_trend", "pt_normal_deficit", "PAPER_CUTS"]

#: Fig. 3's cuts as sweeps of 41 points, from the one definition in :mod:`analysis.cuts`
PAPER_CUTS = {k: {"fixed": dict(c.fixed), "sweep": c.param, "values": c.values(41)} for k, c in _CUTS.items()}

_OBS = ["ZA", "ZB", "X2A", "X2B", "Z2A", "Z2B", "ZAZB", "purity", "purity_A", "purity_B"]


def cut(S_values: Iterable, *, J=None, lam=None, params: Mapping | None = None, method: str = "auto",
        options=None, meanfield: pd.DataFrame | None = None, n_threads: int | None = 1,
        progress=None) -> pd.DataFrame:
    """Exact steady states along a cut in ``J`` (fixed ``lam``) or ``lam`` (fixed ``J``) for several S.

    Parameters
    ----------
    S_values : iterable of spin lengths
    J, lam : array_like, optional
        Exactly one of them is swept; the other is taken from ``params`` (default 0).
    params : dict, optional
        ``g, gamma`` and the fixed parameter.
    method, options :
        Passed to :func:`~analysis.quantum.steady.steady_state` (Krylov solves are warm-started from
        the neighbouring point of the cut).
    meanfield : DataFrame, optional
        Mean-field values to join (see :func:`merge_meanfield`).
    n_threads : int or None
        BLAS threads per solve (default 1, so that a sweep does not oversubscribe shared cores).
    progress : callable, optional
        Called as ``progress(i, n)`` after each point.

    Returns
    -------
    DataFrame
        One row per (S, point): ``S, g, gamma, J, lam``, the observables (``ZA, ZB, X2A, ..., purity``),
        ``residual, method, status, message, time_s`` (and ``*_mf``, ``dZB`` ... with ``meanfield``).
        A failing point has ``status="error"`` and NaN observables; the sweep goes on.
    """
    if (J is None) == (lam is None):
        raise ValueError(f"expected exactly one of J or lam to sweep, got J={J!r}, lam={lam!r}")
    base = validate_params(params)
    name, values = ("J", J) if J is not None else ("lam", lam)
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"expected a finite 1-D array of {name} values, got {values!r}")
    S_list = [validate_spin(S) for S in S_values]
    if isinstance(options, SteadyStateOptions):
        opts = options
    else:
        opts = dict(options or {})
        opts.setdefault("n_threads", n_threads)
    rows = []
    n_total = len(S_list) * len(values)
    i = 0
    for S in S_list:
        prev = None
        for v in values:
            p = {**base, name: float(v)}
            t0 = time.perf_counter()
            try:
                x0 = prev if (prev is not None and prev.method == "krylov") else None
                r = steady_state(S, p, method, options=opts, x0=x0)
                row = r.to_frame().iloc[0].to_dict()
                prev = r
            except (SteadyStateError, ValueError, MemoryError, np.linalg.LinAlgError) as exc:
                row = {"S": S, **p, **dict.fromkeys(_OBS, np.nan), "residual": np.nan, "method": method,
                       "status": "error", "message": f"{type(exc).__name__}: {exc}",
                       "time_s": time.perf_counter() - t0}
                prev = None
            rows.append(row)
            i += 1
            if progress is not None:
                progress(i, n_total)
    df = pd.DataFrame(rows)
    keep = ["S", "g", "gamma", "J", "lam", *_OBS, "residual", "min_eigenvalue", "method", "sector", "status",
            "message", "time_s", "n_unknowns", "iterations"]
    df = df[[c for c in keep if c in df.columns]]
    if meanfield is not None:
        df = merge_meanfield(df, meanfield)
    return df


def merge_meanfield(exact: pd.DataFrame, meanfield: pd.DataFrame, *, on: Sequence[str] | None = None,
                    decimals: int = 10) -> pd.DataFrame:
    """Left-join mean-field values onto the exact table and add differences ``d<obs> = obs - obs_mf``.

    Parameters
    ----------
    exact : DataFrame from :func:`cut`
    meanfield : DataFrame
        Columns ``J, lam`` (and ``g, gamma`` if it covers several values) plus observables named as in
        the exact table (``ZB``, ``ZA``, ``purity`` ...). Keys are matched after rounding to ``decimals``.
    on : list of str, optional
        Join keys; default: those of ``g, gamma, J, lam`` present in ``meanfield``.

    Returns
    -------
    DataFrame: ``exact`` plus ``<obs>_mf`` and ``d<obs>`` for every shared observable.
    """
    if not isinstance(meanfield, pd.DataFrame):
        raise TypeError(f"expected meanfield a pandas DataFrame, got {type(meanfield).__name__}")
    on = list(on) if on is not None else [k for k in ("g", "gamma", "J", "lam") if k in meanfield.columns]
    if not {"J", "lam"} <= set(on):
        raise KeyError(f"expected meanfield columns 'J' and 'lam' to join on, got {list(meanfield.columns)}")
    obs = [c for c in meanfield.columns if c not in on and c in exact.columns and c != "S"]
    if not obs:
        raise KeyError(f"expected meanfield observables named like the exact table (e.g. 'ZB'), got "
                       f"{list(meanfield.columns)}")
    mf = meanfield[on + obs].copy()
    left = exact.copy()
    keys = [f"_key_{k}" for k in on]
    for k, kk in zip(on, keys):
        left[kk] = left[k].astype(float).round(decimals)
        mf[kk] = mf[k].astype(float).round(decimals)
    mf = mf.drop(columns=on).rename(columns={c: f"{c}_mf" for c in obs})
    if mf.duplicated(keys).any():
        raise ValueError("expected one mean-field row per parameter point, got duplicates")
    out = left.merge(mf, on=keys, how="left").drop(columns=keys)
    for c in obs:
        out[f"d{c}"] = out[c] - out[f"{c}_mf"]
    return out


def finite_size_trend(df: pd.DataFrame, observable: str = "ZB", *, reference: str | None = None,
                      min_points: int = 3) -> pd.DataFrame:
    """Finite-size trend per parameter point: fit ``obs(S) = a + b / S (+ c / S^2)`` and judge it.

    The extrapolation ``a`` is reported as meaningful only if (i) there are at least ``min_points``
    sizes, (ii) the sequence is monotone in S over the largest three sizes (no crossing / oscillation,
    which signals that S is still below the scale of the physics, e.g. in the chaotic region), and
    (iii) the fit residual is below a tenth of the change over the fitted range.

    Parameters
    ----------
    df : DataFrame with columns ``S, J, lam`` and ``observable`` (rows with status != "ok" are ignored)
    observable : str
    reference : str, optional
        Column to measure the distance to (e.g. ``"ZB_mf"``).

    Returns
    -------
    DataFrame, one row per ``(g, gamma, J, lam)``: ``n_S, S_max, value_at_S_max, extrapolated,
    extrapolated_err, meaningful, note`` and, with ``reference``, ``reference, distance_at_S_max,
    distance_extrapolated, distance_decreasing``.
    """
    need = {"S", "J", "lam", observable}
    if not need <= set(df.columns):
        raise KeyError(f"expected columns {sorted(need)}, got {list(df.columns)}")
    d = df[df["status"] == "ok"] if "status" in df.columns else df
    keys = [k for k in ("g", "gamma", "J", "lam") if k in d.columns]
    rows = []
    for key, grp in d.groupby(keys, sort=True):
        grp = grp.sort_values("S")
        S = grp["S"].to_numpy(float)
        y = grp[observable].to_numpy(float)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update(n_S=len(S), S_max=S[-1], value_at_S_max=y[-1])
        a = err = np.nan
        meaningful = False
        note = ""
        if len(S) >= min_points:
            X = np.column_stack([np.ones_like(S), 1 / S] + ([1 / S ** 2] if len(S) >= 4 else []))
            coef, *_ = np.linalg.lstsq(X, y, rcond=None)
            resid = y - X @ coef
            dof = max(len(S) - X.shape[1], 1)
            s2 = float(resid @ resid) / dof
            cov = s2 * np.linalg.pinv(X.T @ X)
            a, err = float(coef[0]), float(np.sqrt(max(cov[0, 0], 0.0)))
            tail = np.diff(y[-3:])
            monotone = bool(np.all(tail >= 0) or np.all(tail <= 0))
            change = float(np.ptp(y))
            good_fit = float(np.sqrt(np.mean(resid ** 2))) <= 0.1 * change if change > 0 else True
            meaningful = monotone and good_fit
            note = "" if meaningful else ("non-monotone in S" if not monotone else "poor 1/S fit")
        else:
            note = f"fewer than {min_points} sizes"
        row.update(extrapolated=a, extrapolated_err=err, meaningful=meaningful, note=note)
        if reference is not None and reference in grp.columns:
            ref = float(grp[reference].iloc[-1])
            dist = np.abs(y - ref)
            row.update(reference=ref, distance_at_S_max=float(dist[-1]),
                       distance_extrapolated=abs(a - ref) if np.isfinite(a) else np.nan,
                       distance_decreasing=bool(np.all(np.diff(dist) <= 1e-12)) if len(dist) > 1 else False)
        rows.append(row)
    return pd.DataFrame(rows)


def pt_normal_deficit(S_values: Iterable, lam: float, *, gamma: float = 0.5, g: float = 1.0,
                      method: str = "auto") -> pd.DataFrame:
    """``S (1 - ZB)`` at ``J = 0`` for several S, against ``lam^2 / (2 (gamma^2 - lam^2))`` (``lam < gamma``).

    The closed form is the large-S limit of the PT dimer's normal phase (the issue's analytic check);
    measured to agree to 1e-5 at S = 32 for lam / gamma = 0.2, 0.5, 0.8 (approach ~ 1/S^2).

    Returns
    -------
    DataFrame: ``S, lam, gamma, deficit, prediction, rel_error``.
    """
    if not (0 <= lam < gamma):
        raise ValueError(f"expected 0 <= lam < gamma, got lam={lam!r}, gamma={gamma!r}")
    pred = lam ** 2 / (2 * (gamma ** 2 - lam ** 2))
    rows = []
    for S in S_values:
        r = steady_state(S, {"g": g, "gamma": gamma, "J": 0.0, "lam": lam}, method)
        deficit = r.S * (1 - r.ZB)
        rows.append({"S": r.S, "lam": lam, "gamma": gamma, "deficit": deficit, "prediction": pred,
                     "rel_error": abs(deficit - pred) / pred if pred else abs(deficit)})
    return pd.DataFrame(rows)
