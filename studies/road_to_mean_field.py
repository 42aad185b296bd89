"""From S = 1 to S = infinity on every cut of Fig. 3: exact Z_B, truncated-Wigner Z_B and the mean field.

On each cut of Fig. 3 (:data:`analysis.cuts.CUTS`) a few points, chosen one or two per phase the cut
crosses (:data:`CUT_POINTS`), and per point: the exact steady-state Z_B for S = 1 ... 16 on every point
(:data:`S_EXACT`) and S = 20, 24 on a few points (:data:`S_EXACT_EXTRA`), larger S skipped per point
once the predicted solve time passes :data:`EXACT_BUDGET_S`. Measured on the shared 2-core machine under
load 12-16 (wall / CPU of the process; every state certified, estimated error <= 2e-9): S = 16 in
9-31 s / 3-9 s at the lam = 0.1 and J = 0 points and (1.5, 0), 118 s / 38 s at (1.5, 0.45); S = 20, 24
at (1.5, 0) in 65 s, 128 s / 12 s, 30 s, at (0, 0.3) in 22 s, 49 s / 4 s, 7 s; S = 20 at (1.5, 0.45)
in 578 s / 132 s. The hard points are lam >= 0.8 at |J| = 1.5: (1.5, 0.8) S = 14 took 722 s / 173 s
(1220 products; S = 16 skipped), (-1.5, 1.0) S = 8 took 40 s (951 products) and S = 10 930 s / 410 s
(S = 12 skipped), (0.4, 1.0) S = 6 took 1938 products. Those strong-coupling solves (lam > gamma) used the
Lindbladian preconditioner, which neglects the coupling; "auto" later took the exact no-jump inverse there up to
S = 12, and since the fifth session of 2026-11-30 at every S (idle machine: (-1.5, 1.0) S = 14 in 61 s,
S = 16 in 164 s, S = 20 in 7 min 54 s), so the budget should no longer stop them at S = 12-14; the full run
was not repeated. Each state comes with the solver's certified error (``error_estimate``, turned into a
bound on Z_B, ``ZB_err``: :func:`zb_error_bound`); the truncated-Wigner (TWA,
:func:`bifurcate.twa.truncated_wigner`) Z_B with its error bar at S = 8 and 16 (the check against the
exact value, table ``twa_check``), 20, 50, 200 and 1000; and the mean field's average over its attracting
sets (census, column ``att_ZB``, S -> infinity) with its error. The quick run stays at S <= 6 (check at S = 6).

The check (:func:`twa_check`): per point and S in (8, 16), ``z`` = (TWA - exact) / combined error and
a verdict (agrees |z| <= 2, marginal 2-4, disagrees > 4; no check when the TWA's status is not "ok",
e.g. "not_stationary": the ensemble still relaxing inside the averaging window). The issue judges the
normal point (J, lam) = (0, 0.3) (cut b) and the LMG point (1.5, 0) (cut d; two stable fixed points):
column ``judged``. Measured (full settings, seed 4): of the 15 (point, S) pairs with both values
(every point but (0.4, 1.0), and S = 16 at (1.5, 0.8) and (-1.5, 1.0)) 14 agree within 2 errors and
(0, 1.0) at S = 8 is marginal (z = -2.1); the judged points give z = -0.7 / +0.1 (normal, S = 8 / 16)
and +1.2 / +0.7 (LMG). No disagreement was found for the TWA's status to report.

The rate of approach: per point and method (exact for S >= 6 in the full run, S >= 4 in the quick
one; TWA for S >= 20) the distance
``d(S) = |Z_B(S) - Z_B^MF|`` is fitted by ``d ~ S^-a`` (weighted least squares in log-log, on the
points whose distance exceeds twice its combined error), giving ``a`` with its standard error and the
fit's residual (chi^2 per degree of freedom). No fit is made, and the reason is written in ``verdict``,
when: the TWA's status is not "ok" at some S; the TWA disagrees with the exact Z_B at the largest S
both have beyond 4 error bars; the mean field has no attracting set at the point (only neutral orbits: no
unique S -> infinity value); the distances do not decrease with S (beyond their errors); fewer than
two distances stand above the noise; the fitted power is not above zero by two errors. Per phase (the census's ``phase`` label) the table gives the
points' rates and their weighted mean.

Outputs (``<out>/road_to_mean_field/``): ``road_to_mean_field.png/.pdf`` (top row: Z_B against 1/S
per cut, the mean field as stars at 1/S = 0; bottom row: the distances against S with the fitted
power laws); ``exact.parquet`` (with ``error_estimate``, ``ZB_err``, ``matvecs``, ``wall_time``),
``twa.parquet``, ``twa_check.parquet``, ``mean_field.parquet``, ``trend.parquet`` (per point and
method), ``phases.parquet`` (per phase); ``metadata.json`` (stage times, exact solve times per S,
the check's verdicts).

Run: ``python -m studies.road_to_mean_field --out results [--quick]``.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from studies.common import RowCache, finish, run_cli, save_figure, save_table, study_dir

NAME = "road_to_mean_field"
#: per cut of Fig. 3, the swept parameter's values studied (the census names their phases; chosen from
#: the phase diagram: a: the normal state and the two-fixed-point phases at J < 0 and J > 0; b: the
#: normal state and the PT-broken side (neutral orbits only: no attracting set); c: the irregular region
#: (chaotic attractors) and, at J = 0.4, the region the cut's description calls oscillating, where the
#: census finds no attracting set (conservative chaos and neutral orbits); d: two fixed points,
#: fixed points coexisting with cycles, chaos)
CUT_POINTS = {"a": (-1.5, 0.0, 1.5), "b": (0.3, 1.0), "c": (-1.5, 0.4), "d": (0.0, 0.45, 0.8)}
QUICK_POINTS = {"b": (0.3,), "d": (0.0,)}
#: exact S on every point of the full run (S = 16: 30 s to 1 min per coupled point; the J = 0 points
#: solve in the smaller U(1) block) and of the quick run
S_EXACT = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16)
S_EXACT_QUICK = (1, 2, 3, 4, 5, 6)
#: the larger S on a few points, one or two per phase (full run only): (cut, swept value) -> S values
S_EXACT_EXTRA = {("b", 0.3): (20, 24), ("d", 0.0): (20, 24), ("d", 0.45): (20,)}
#: an exact solve is not started at a point once its predicted wall time exceeds this (s): the previous
#: S's time there times ((2S + 1) / (2S' + 1))^5 (unknowns ~ (2S + 1)^4, products growing about like
#: (2S + 1); measured at the easy points: S = 14 -> 16 predicted 1.9x, took 1.9x)
EXACT_BUDGET_S = 600.0
TWA_S = (8, 16, 20, 50, 200, 1000)
#: where the TWA is checked against the exact Z_B (the issue's "S = 8 and S = 16")
TWA_CHECK_S = (8, 16)
#: the points the issue judges the TWA at: the normal state (J, lam) = (0, 0.3) on cut b and the LMG
#: point (1.5, 0) (two stable fixed points) on cut d
JUDGED_POINTS = {"normal": ("b", 0.3), "LMG": ("d", 0.0)}
#: the smallest S used in the exact fit (S < 4 is not yet asymptotic); the full run, which reaches
#: S = 16, fits from S = 6
EXACT_FIT_MIN_S = 4
EXACT_FIT_MIN_S_FULL = 6
#: the smallest S used in the TWA fit
TWA_FIT_MIN_S = 20


def _log(msg: str) -> None:
    """Progress on stderr (the full run takes tens of minutes)."""
    import sys

    print(f"[{NAME} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cut_points(cut_points: dict) -> list[dict]:
    """``[{"cut": name, "J": ..., "lam": ...}, ...]`` from ``{cut name: swept values}`` (checked to lie on the cut)."""
    from analysis.cuts import CUTS

    out = []
    for name, values in cut_points.items():
        cut = CUTS[name]
        for v in values:
            if not cut.lo <= v <= cut.hi:
                raise ValueError(f"cut {name!r}: expected {cut.param} in [{cut.lo}, {cut.hi}], got {v}")
            out.append({"cut": name, **{k: float(x) for k, x in cut.fixed.items()}, cut.param: float(v)})
    return out


def _pt(p: dict) -> dict:
    return {"J": p["J"], "lam": p["lam"]}


def zb_error_bound(error_estimate: float, purity: float, S: float) -> float:
    """Bound on ``|Z_B - Z_B^exact|`` from the solver's certified relative error of ``rho``.

    ``|Tr[(rho - rho_ex) S_z^B]| / S <= ||rho - rho_ex||_F ||1 (x) S_z^B||_F / S`` (Cauchy-Schwarz), with
    ``||rho - rho_ex||_F <= error_estimate ||rho||_F``, ``||rho||_F = sqrt(purity)`` and
    ``||1 (x) S_z||_F^2 = (2S + 1) S (S + 1) (2S + 1) / 3``."""
    n = 2 * S + 1
    return float(error_estimate) * math.sqrt(purity) * math.sqrt(n * S * (S + 1) * n / 3.0) / S


def exact_stage(points, S_values, *, extra: dict | None = None, budget_s: float = EXACT_BUDGET_S,
                cache=None) -> pd.DataFrame:
    """Exact steady states per point, S ascending (schema ``exact`` plus the certification columns).

    Per (point, S): ``ZA, ZB, purity, residual, method, wall_time, cpu_time`` (the process's CPU time, all
    threads: on a shared machine the wall time measures the load), ``status`` (0 certified, 1 validated but
    not certified, -1 failed or skipped; ``message`` says which and why), ``error_estimate`` (the solver's
    certified relative error of rho), ``ZB_err`` (:func:`zb_error_bound`), ``matvecs``. ``extra``: (cut,
    swept value) -> further S at that point. The larger S at a point are skipped (recorded) once the
    predicted wall time of the next solve (:data:`EXACT_BUDGET_S`) exceeds ``budget_s``. ``cache``: a
    parquet path; rows found there (same cut, J, lam, S) are reused, new ones appended (resume an
    interrupted run). No warm start: the solver's ``x0`` must live at the same S, and the cut points are
    far apart (0.3-1.5 in J or lam), so no neighbour is near enough to help.
    """
    from analysis.cuts import CUTS
    from analysis.quantum import steady_state
    from bifurcate.models import LMG_DIMER

    defaults = {k: LMG_DIMER.defaults[k] for k in ("g", "gamma")}
    rows = []
    store = RowCache(cache, ("cut", "J", "lam", "S"))
    for pt in points:
        key = (pt["cut"], pt[CUTS[pt["cut"]].param])
        S_all = sorted(set(S_values) | set((extra or {}).get(key, ())))
        last, S_last = 0.0, None
        for S in S_all:
            p = {**defaults, **_pt(pt)}
            base = {"cut": pt["cut"], "S": float(S), **p}
            hit = store.get(base)
            if hit is not None:
                rows.append(hit)
                last, S_last = float(hit["wall_time"]), S
                continue
            predicted = last * ((2 * S + 1) / (2 * S_last + 1)) ** 5 if S_last is not None else 0.0
            if predicted > budget_s:
                rows.append({**base, "ZA": np.nan, "ZB": np.nan, "purity": np.nan, "residual": np.nan, "method": "",
                             "wall_time": np.nan, "cpu_time": np.nan, "status": -1, "error_estimate": np.nan,
                             "ZB_err": np.nan,
                             "matvecs": np.nan,
                             "message": f"skipped: predicted {predicted:.0f} s (S = {S_last:g} took {last:.0f} s) "
                                        f"> budget {budget_s:.0f} s"})
                continue
            _log(f"exact S = {S} at {pt}")
            t, c = time.perf_counter(), time.process_time()
            try:
                st = steady_state(S, p)
                err = float(st.stats.get("error_estimate", np.nan))
                rows.append({**base, "ZA": float(st.ZA), "ZB": float(st.ZB), "purity": float(st.purity),
                             "residual": float(st.residual), "method": f"{st.method}/{st.sector}",
                             "wall_time": time.perf_counter() - t, "cpu_time": time.process_time() - c,
                             "status": 0 if st.success else 1,
                             "error_estimate": err, "ZB_err": zb_error_bound(err, float(st.purity), float(S)),
                             "matvecs": float(st.stats.get("matvecs") or 0), "message": st.message})
            except Exception as exc:  # noqa: BLE001 - one bad point never stops a sweep
                rows.append({**base, "ZA": np.nan, "ZB": np.nan, "purity": np.nan, "residual": np.nan, "method": "",
                             "wall_time": time.perf_counter() - t, "cpu_time": time.process_time() - c,
                             "status": -1, "error_estimate": np.nan,
                             "ZB_err": np.nan, "matvecs": np.nan, "message": f"{type(exc).__name__}: {exc}"})
            last, S_last = time.perf_counter() - t, S
            store.put(rows[-1])
    return pd.DataFrame(rows)


def judged_label(pt: dict) -> str:
    """"normal" / "LMG" for the issue's judged points (:data:`JUDGED_POINTS`), else ""."""
    from analysis.cuts import CUTS

    for label, (cut, v) in JUDGED_POINTS.items():
        if pt["cut"] == cut and np.isclose(pt[CUTS[cut].param], v):
            return label
    return ""


def twa_check(points, ex: pd.DataFrame, tw: pd.DataFrame, S_values=TWA_CHECK_S) -> pd.DataFrame:
    """The TWA Z_B against the exact Z_B per point at each S of ``S_values`` both have.

    Columns: ``cut, J, lam, judged`` ("normal", "LMG" or ""), ``S``, ``ZB_exact, ZB_exact_err`` (the
    certified bound), ``ZB_twa, ZB_twa_err``, ``twa_status``, ``z`` (difference over the combined
    error), ``finite_S_shift`` (exact minus the mean field's attracting-set value when given),
    ``verdict``: "agrees (|z| <= 2)", "marginal (2 < |z| <= 4)", "disagrees (|z| > 4)", or "no check"
    (a value missing or the TWA's status not ok: then its status says why)."""
    rows = []
    for pt in points:
        e, t = _at(ex, pt), _at(tw, pt)
        for S in S_values:
            ee, tt = e[np.isclose(e["S"], S)], t[np.isclose(t["S"], S)]
            r = {"cut": pt["cut"], "J": pt["J"], "lam": pt["lam"], "judged": judged_label(pt), "S": float(S),
                 "ZB_exact": np.nan, "ZB_exact_err": np.nan, "ZB_twa": np.nan, "ZB_twa_err": np.nan,
                 "twa_status": "", "z": np.nan, "verdict": "no check"}
            if len(ee):
                r.update(ZB_exact=float(ee["ZB"].iloc[0]), ZB_exact_err=float(ee["ZB_err"].iloc[0]))
            if len(tt):
                r.update(ZB_twa=float(tt["ZB"].iloc[0]), ZB_twa_err=float(tt["ZB_err"].iloc[0]),
                         twa_status=str(tt["status"].iloc[0]))
            if np.isfinite(r["ZB_exact"]) and np.isfinite(r["ZB_twa"]):
                ee_err = r["ZB_exact_err"] if np.isfinite(r["ZB_exact_err"]) else 0.0
                z = (r["ZB_twa"] - r["ZB_exact"]) / math.hypot(r["ZB_twa_err"], ee_err)
                r["z"] = z
                if r["twa_status"] != "ok":
                    r["verdict"] = f"no check: TWA status {r['twa_status']}"
                else:
                    r["verdict"] = ("agrees (|z| <= 2)" if abs(z) <= 2 else "marginal (2 < |z| <= 4)"
                                    if abs(z) <= 4 else "disagrees (|z| > 4)")
            rows.append(r)
    return pd.DataFrame(rows)


def twa_sweep(points, S_values, *, n_traj: int, t_end: float, seed: int, cache=None) -> pd.DataFrame:
    """TWA Z_B, Z_A with errors per point and S (``cache``: as in :func:`exact_stage`)."""
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.twa import truncated_wigner

    rows = []
    store = RowCache(cache, ("cut", "J", "lam", "S", "n_traj", "t_end"))
    for pt in points:
        _log(f"twa {pt}")
        for S in S_values:
            hit = store.get({"cut": pt["cut"], **_pt(pt), "S": float(S), "n_traj": n_traj, "t_end": t_end})
            if hit is not None and hit.get("seed") == seed:
                rows.append(hit)
                continue
            t = time.perf_counter()
            r = truncated_wigner(LMG_DIMER_SYSTEM, S, _pt(pt), n_traj=n_traj, t_end=t_end, seed=seed)
            rows.append({"cut": pt["cut"], "S": float(S), **_pt(pt), "ZB": r.mean["ZB"], "ZB_err": r.error["ZB"],
                         "ZA": r.mean["ZA"], "ZA_err": r.error["ZA"], "n_traj": n_traj, "t_end": t_end,
                         "ZB_half_z": r.stats["half_difference_z"]["ZB"], "seed": seed,
                         "status": r.status, "message": r.message, "wall_time": time.perf_counter() - t})
            store.put(rows[-1])
    return pd.DataFrame(rows)


def mean_field(points, *, n_initial: int, seed: int) -> pd.DataFrame:
    from analysis.attractor_census import census
    from bifurcate.models import LMG_DIMER

    rows = []
    for pt in points:
        _log(f"census {pt}")
        t = time.perf_counter()
        r = census(LMG_DIMER, _pt(pt), n_initial=n_initial, seed=seed).summary_frame()
        r.insert(0, "cut", pt["cut"])
        r["wall_time"] = time.perf_counter() - t
        rows.append(r)
    return pd.concat(rows, ignore_index=True)


def _at(df, pt):
    return df[(df["cut"] == pt["cut"]) & np.isclose(df["J"], pt["J"]) & np.isclose(df["lam"], pt["lam"])]


def fit_power(S, d, sigma, *, value_err=None, weighted: bool | None = None) -> dict:
    """Fit ``log d = c - a log S`` on the points with ``d > 2 sigma`` (``sigma`` the errors of ``d``).

    ``value_err`` (default ``sigma``): the errors of the values themselves, without the error of the
    reference they are measured from (common to every point, so it does not blur their ordering).

    Weighted (default when every ``value_err`` is positive: the TWA): weighted least squares with the
    values' errors (the log's error is value_err / d), ``power_err`` from the weights, ``chi2_dof`` the
    residual per degree of freedom (about 1 when a single power law fits within the error bars).
    Unweighted (the exact values): ordinary least squares, ``power_err`` the standard error from the
    residuals' scatter (NaN with two points), ``chi2_dof`` NaN. Both give ``rms_log_res`` (rms residual
    of log d), ``n_fit``, ``monotone`` (every distance below the previous plus two of the values'
    combined errors) and ``noise_floor_from_S`` (the smallest S from which every distance is within 2
    errors of zero)."""
    S, d, sigma = (np.asarray(v, float) for v in (S, d, sigma))
    ve = sigma if value_err is None else np.broadcast_to(np.asarray(value_err, float), S.shape)
    o = np.argsort(S)
    S, d, sigma, ve = S[o], d[o], sigma[o], ve[o]
    mono = bool(np.all(d[1:] < d[:-1] + 2 * np.hypot(ve[1:], ve[:-1])))
    sig = d > 2 * sigma
    floor = np.nan
    for i in range(len(S)):
        if not sig[i:].any():
            floor = float(S[i])
            break
    out = {"monotone": mono, "n_fit": int(sig.sum()), "noise_floor_from_S": floor, "power": np.nan,
           "power_err": np.nan, "chi2_dof": np.nan, "rms_log_res": np.nan, "log_c": np.nan}
    if sig.sum() < 2:
        return out
    x, y = np.log(S[sig]), np.log(d[sig])
    if weighted is None:
        weighted = bool(np.all(ve[sig] > 0))
    w = (d[sig] / ve[sig]) ** 2 if weighted else np.ones_like(x)
    A = np.stack([np.ones_like(x), -x], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    c, a = cov @ (A.T @ (w * y))
    res = y - A @ np.array([c, a])
    dof = len(x) - 2
    if weighted:
        err = float(np.sqrt(cov[1, 1]))
        chi2 = float(np.sum(w * res ** 2) / dof) if dof > 0 else np.nan
    else:
        err = float(np.sqrt(cov[1, 1] * np.sum(res ** 2) / dof)) if dof > 0 else np.nan
        chi2 = np.nan
    out.update(power=float(a), power_err=err, chi2_dof=chi2, rms_log_res=float(np.sqrt(np.mean(res ** 2))),
               log_c=float(c))
    return out


def trend(points, ex, tw, mf, *, exact_fit_min_S: float = EXACT_FIT_MIN_S) -> pd.DataFrame:
    """Per point and method (exact, twa): the mean-field value, the distances' power law and the verdict.

    The exact fit uses ``S >= exact_fit_min_S``; the TWA is checked against the exact Z_B at the largest
    S both have (``S_check``, ``twa_vs_exact_z``: the difference over the combined error)."""
    rows = []
    for pt in points:
        m = _at(mf, pt).iloc[0]
        phase = str(m["phase"])
        zb, zb_err = float(m["att_ZB"]), float(m["att_ZB_err"])
        neutral = not np.isfinite(zb)
        e = _at(ex, pt).sort_values("S")
        t = _at(tw, pt).sort_values("S")
        common = sorted(set(e.loc[np.isfinite(e["ZB"]), "S"]) & set(t["S"]))
        S_ex_max = float(common[-1]) if common else float(e.loc[np.isfinite(e["ZB"]), "S"].max())
        t_chk = t[np.isclose(t["S"], S_ex_max)]
        z_check = np.nan
        if len(t_chk):
            e_row = e[np.isclose(e["S"], S_ex_max)].iloc[0]
            e_err = float(e_row["ZB_err"]) if "ZB_err" in e_row and np.isfinite(e_row["ZB_err"]) else 0.0
            z_check = abs(float(t_chk["ZB"].iloc[0]) - float(e_row["ZB"])) / math.hypot(
                float(t_chk["ZB_err"].iloc[0]), e_err)
        for kind in ("exact", "twa"):
            if kind == "exact":
                d = e[(e["S"] >= exact_fit_min_S) & np.isfinite(e["ZB"])]
                err = np.zeros(len(d))
            else:
                d = t[t["S"] >= TWA_FIT_MIN_S]
                err = d["ZB_err"].to_numpy(float)
            row = {"cut": pt["cut"], "J": pt["J"], "lam": pt["lam"], "phase": phase, "kind": kind,
                   "ZB_mf": zb, "ZB_mf_err": zb_err, "ZB_mf_all_sets": float(m.get("ZB", np.nan)),
                   "twa_vs_exact_z": z_check, "S_check": S_ex_max,
                   "S_min": float(d["S"].min()) if len(d) else np.nan,
                   "S_max": float(d["S"].max()) if len(d) else np.nan}
            verdict = ""
            if neutral:
                verdict = "no fit: the mean field has no attracting set here (neutral orbits), no unique S -> inf value"
                row.update({"monotone": False, "n_fit": 0, "power": np.nan, "power_err": np.nan, "chi2_dof": np.nan,
                            "rms_log_res": np.nan, "log_c": np.nan,
                            "noise_floor_from_S": np.nan})
            else:
                dist = np.abs(d["ZB"].to_numpy(float) - zb)
                sigma = np.hypot(err, 0.0 if not np.isfinite(zb_err) else zb_err)
                row.update(fit_power(d["S"], dist, sigma, value_err=err, weighted=kind == "twa"))
                row["distance_at_S_max"] = float(dist[-1]) if len(dist) else np.nan
                bad_status = kind == "twa" and not (d["status"] == "ok").all()
                if bad_status:
                    verdict = ("no fit: TWA status " + ",".join(sorted(set(d["status"]) - {"ok"}))
                               + " at S = " + ",".join(f"{s:g}" for s in d.loc[d["status"] != "ok", "S"]))
                elif kind == "twa" and np.isfinite(z_check) and z_check > 4:
                    verdict = f"no fit: the TWA misses the exact Z_B at S = {S_ex_max:g} by {z_check:.1f} error bars"
                elif not row["monotone"]:
                    verdict = "no fit: the distance to the mean field does not decrease monotonically with S"
                elif row["n_fit"] < 2:
                    verdict = ("no fit: fewer than two distances above twice their error "
                               "(at the mean field within errors)")
                elif not row["power"] - 2 * row["power_err"] > 0:
                    verdict = (f"no fit: no significant approach (power {row['power']:.2f} +- {row['power_err']:.2f} "
                               f"is not above zero by two errors)")
                else:
                    verdict = "fitted" if row["n_fit"] > 2 else "fitted (two points: no residual)"
                    if (np.isfinite(row["chi2_dof"]) and row["chi2_dof"] > 4) or row["rms_log_res"] > 0.1:
                        verdict = ("fitted, poor (chi2/dof > 4 or rms log residual > 0.1: not a single power "
                                   "law over this range)")
                if verdict.startswith("no fit"):
                    row["power"], row["power_err"] = np.nan, np.nan
            row["verdict"] = verdict
            rows.append(row)
    return pd.DataFrame(rows)


def phase_table(tr: pd.DataFrame) -> pd.DataFrame:
    """Per phase and method: the points, their fitted powers, and the weighted mean power with its error
    (over the fitted points; inverse-variance weights; the error includes the points' scatter)."""
    rows = []
    for (phase, kind), g in tr.groupby(["phase", "kind"], sort=True):
        ok = g[g["verdict"].str.startswith("fitted") & np.isfinite(g["power"])]
        r = {"phase": phase, "kind": kind, "n_points": len(g), "n_fitted": len(ok),
             "points": "; ".join(f"{c}:(J={j:g},lam={l:g})" for c, j, l in zip(g["cut"], g["J"], g["lam"])),
             "powers": "; ".join(f"{p:.2f}+-{e:.2f}" if np.isfinite(p) else "-" for p, e in
                                 zip(g["power"], g["power_err"])),
             "verdicts": "; ".join(sorted(set(g["verdict"])))}
        if len(ok):
            pe = ok["power_err"].to_numpy(float)
            w = 1.0 / np.maximum(np.where(np.isfinite(pe), pe, 0.1), 1e-3) ** 2   # an unknown error counts as 0.1
            p = ok["power"].to_numpy(float)
            mean = float(np.sum(w * p) / np.sum(w))
            err = float(np.sqrt(1.0 / np.sum(w)))
            if len(ok) > 1:
                err = max(err, float(np.std(p, ddof=1) / np.sqrt(len(ok))))
            r.update(power=mean, power_err=err)
        else:
            r.update(power=np.nan, power_err=np.nan)
        rows.append(r)
    return pd.DataFrame(rows)


def plot(points, ex, tw, mf, tr):
    import matplotlib.pyplot as plt

    from analysis.cuts import CUTS

    cuts = list(dict.fromkeys(p["cut"] for p in points))
    fig, axes = plt.subplots(2, len(cuts), figsize=(4.2 * len(cuts), 7.2), squeeze=False, constrained_layout=True)
    for j, name in enumerate(cuts):
        ax, axd = axes[0, j], axes[1, j]
        cut = CUTS[name]
        for k, pt in enumerate(p for p in points if p["cut"] == name):
            c = f"C{k}"
            lab = f"{cut.param}={pt[cut.param]:g}"
            e = _at(ex, pt).sort_values("S")
            t = _at(tw, pt).sort_values("S")
            m = _at(mf, pt).iloc[0]
            zb = float(m["att_ZB"])
            ax.plot(1 / e["S"], e["ZB"], "o-", color=c, ms=3.5, lw=1, label=f"{lab} ({m['phase']})")
            ax.errorbar(1 / t["S"], t["ZB"], yerr=t["ZB_err"], fmt="s", color=c, mfc="none", ms=5, capsize=2)
            if np.isfinite(zb):
                ax.errorbar([0.0], [zb], yerr=[float(m["att_ZB_err"])], fmt="*", color=c, ms=12, mec="k")
                zerr = float(m["att_ZB_err"])
                if np.isfinite(zerr) and zerr > 1e-5:   # below it, a distance is within the mean field's error
                    axd.axhline(2 * zerr, color=c, ls="--", lw=0.7, alpha=0.7)
                for kind, d, mk in (("exact", e[e["S"] >= EXACT_FIT_MIN_S], "o"), ("twa", t, "s")):
                    dist = np.abs(d["ZB"].to_numpy(float) - zb)
                    yerr = d["ZB_err"].to_numpy(float) if kind == "twa" else None
                    axd.errorbar(d["S"], np.where(dist > 0, dist, np.nan), yerr=yerr, fmt=mk, color=c,
                                 mfc="none" if kind == "twa" else c, ms=4, capsize=1.5, elinewidth=0.7)
                    f = tr[(tr["cut"] == name) & np.isclose(tr["J"], pt["J"]) & np.isclose(tr["lam"], pt["lam"])
                           & (tr["kind"] == kind)].iloc[0]
                    if np.isfinite(f["power"]) and "log_c" in f and np.isfinite(f["log_c"]):
                        s = np.geomspace(f["S_min"], f["S_max"], 20)
                        axd.plot(s, np.exp(f["log_c"]) * s ** -f["power"], "-" if kind == "twa" else ":", color=c,
                                 lw=1, label=f"{lab} {kind}: $S^{{{-f['power']:.2f}}}$")
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_xlim(-1e-4, 1.1)
        ax.set(xlabel=r"$1/S$", ylabel=r"$Z_B$", title=f"cut ({name}): {cut.description}")
        ax.legend(fontsize="x-small", loc="best")
        axd.set(xscale="log", yscale="log", xlabel="$S$", ylabel=r"$|Z_B - Z_B^{MF}|$")
        if axd.get_legend_handles_labels()[0]:
            axd.legend(fontsize="xx-small", loc="lower left")
    fig.suptitle("exact (dots, lines), truncated Wigner (open squares), mean field's attracting sets (stars, 1/S = 0)\n"
                 "bottom: distance to the mean field, fitted power laws; dashed: twice the mean field's error",
                 fontsize="small")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 4, resume: bool = True) -> dict:
    """Run the study (see the module docstring). ``resume``: keep the exact and TWA rows in
    ``cache_exact.parquet`` / ``cache_twa.parquet`` in the output folder as they are computed and reuse
    them on the next run (an interrupted full run goes on where it stopped; delete the files, or pass
    ``resume=False``, to recompute)."""
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    points = cut_points(QUICK_POINTS if quick else CUT_POINTS)
    S_exact = S_EXACT_QUICK if quick else S_EXACT
    extra = {} if quick else S_EXACT_EXTRA
    S_twa = (6, 20, 50, 200) if quick else TWA_S
    S_check = (6,) if quick else TWA_CHECK_S
    times = {}
    t = time.perf_counter()
    ex = exact_stage(points, S_exact, extra=extra, cache=out / "cache_exact.parquet" if resume else None)
    times["exact"] = time.perf_counter() - t
    t = time.perf_counter()
    tw = twa_sweep(points, S_twa, n_traj=100 if quick else 300, t_end=60.0 if quick else 200.0, seed=seed,
                   cache=out / "cache_twa.parquet" if resume else None)
    times["twa"] = time.perf_counter() - t
    t = time.perf_counter()
    mf = mean_field(points, n_initial=16 if quick else 256, seed=seed)
    times["mean_field"] = time.perf_counter() - t
    tr = trend(points, ex, tw, mf, exact_fit_min_S=EXACT_FIT_MIN_S if quick else EXACT_FIT_MIN_S_FULL)
    ph = phase_table(tr)
    chk = twa_check(points, ex, tw, S_check)
    fig = plot(points, ex, tw, mf, tr)
    paths = save_figure(fig, out, NAME)
    paths["exact"] = save_table(ex, out, "exact")
    paths["twa"] = save_table(tw, out, "twa")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    paths["trend"] = save_table(tr, out, "trend")
    paths["phases"] = save_table(ph, out, "phases")
    paths["twa_check"] = save_table(chk, out, "twa_check")
    fin = ex[np.isfinite(ex["wall_time"])]
    exact_times = {f"S={s:g}": {"n": int(len(g)), "wall_max_s": round(float(g["wall_time"].max()), 1),
                                "wall_median_s": round(float(g["wall_time"].median()), 1),
                                "cpu_max_s": round(float(g["cpu_time"].max()), 1),
                                "cpu_median_s": round(float(g["cpu_time"].median()), 1)}
                   for s, g in fin.groupby("S") if s >= 12}
    times["exact_cpu"] = float(ex["cpu_time"].sum())
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "census_summary"}, seed=seed,
                  S_exact=list(S_exact), S_exact_extra={f"{c}:{v:g}": list(S) for (c, v), S in extra.items()},
                  S_twa=list(S_twa), points=points, stage_times_s=times, exact_times_by_S=exact_times,
                  exact_max_error_estimate=float(ex["error_estimate"].max()),
                  exact_status_counts={str(k): int(v) for k, v in ex["status"].value_counts().items()},
                  twa_status=sorted(tw["status"].unique().tolist()),
                  twa_check=chk[["cut", "J", "lam", "judged", "S", "z", "verdict"]].to_dict("records"))


if __name__ == "__main__":
    run_cli(main, __doc__)
