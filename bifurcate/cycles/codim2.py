"""LPC and PD curves in two parameters by dense sampling.

True two-parameter continuation of folds and flips of cycles (minimally extended systems) is not
implemented. Instead, for each value of a second parameter a cycle branch is continued in the
first and its located LPC / PD points are collected: each sampled point is accurate to the
localisation tolerance in the first parameter, the curve between samples is not resolved (a
curve that folds back in the second parameter, or an isola between two samples, is missed).
Branches that end with a degenerate status are recorded, never silently dropped.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from bifurcate.model import Model
from bifurcate.results import Branch

__all__ = ["sample_codim2"]


def sample_codim2(model: Model, make_start: Callable[[float], Any], values: Iterable[float], *, second: str,
                  param: str, params: Mapping[str, float] | None = None, kinds=("LPC", "PD"), options=None,
                  **option_overrides) -> dict:
    """Sample curves of cycle bifurcations in (second, param).

    Parameters
    ----------
    model : Model
    make_start : callable value -> start
        Builds the start of the cycle branch (anything :func:`continue_cycles` accepts) at
        ``second = value``; e.g. the Hopf point of an equilibrium found at that value.
    values : iterable of float, the samples of the second parameter
    second, param : str, the second parameter and the continuation parameter
    params : dict, other parameters
    kinds : labels to collect

    Returns
    -------
    dict
        ``{kind: Branch}`` with ``kind`` the label; each Branch has one row per located point
        (``param_values`` the first parameter, ``columns[second]`` the second, ``columns["period"]``,
        ``columns["order"]`` the rank of the point along its cycle branch), and the key ``"runs"``
        with a DataFrame of one row per sample (``status``, ``message``, number of points found).
    """
    from bifurcate.cycles import continue_cycles

    model.param_index(second)
    model.param_index(param)
    rows = {k: [] for k in kinds}
    runs = []
    for v in values:
        v = float(v)
        prm = dict(params or {})
        prm[second] = v
        try:
            start = make_start(v)
            br = continue_cycles(model, start, param=param, params=prm, options=options, **option_overrides)
            status, message = br.status, br.message
        except Exception as exc:  # one failing sample is recorded, never fatal
            runs.append({second: v, "status": -99, "message": f"{type(exc).__name__}: {exc}", "n_points": 0})
            continue
        found = 0
        for k in kinds:
            for order, p in enumerate(br.special(k)):
                if p.located:
                    rows[k].append((v, p, order))
                    found += 1
        runs.append({second: v, "status": status, "message": message, "n_points": found})
    out: dict[str, Any] = {}
    for k, lst in rows.items():
        m = len(lst)
        d = model.dim
        ev = np.full((m, d), np.nan + 0j)
        for i, (_, p, _) in enumerate(lst):
            if p.eigenvalues is not None:
                ev[i, : len(p.eigenvalues)] = p.eigenvalues
        states = np.array([p.state for _, p, _ in lst]).reshape(m, model.n)
        fixed = {kk: vv for kk, vv in model.params(params).items() if kk not in (param, second)}
        out[k] = Branch(model=model, param=param, kind=k, params=fixed,
                        param_values=np.array([p.param for _, p, _ in lst], dtype=float), states=states,
                        eigenvalues=ev, stable=np.zeros(m, bool), n_unstable=np.zeros(m, int),
                        columns={second: np.array([v for v, _, _ in lst], dtype=float),
                                 "period": np.array([p.data["period"] for _, p, _ in lst], dtype=float),
                                 "order": np.array([o for _, _, o in lst], dtype=int),
                                 "precision": np.array([p.precision for _, p, _ in lst], dtype=float)},
                        status=0, message="dense sampling (not a continued curve)", options=options)
    out["runs"] = pd.DataFrame(runs)
    return out
