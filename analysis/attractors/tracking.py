"""Attractors continued along a one-parameter path, matched between points, with their events.

Pipeline (global continuation in the sense of Attractors.jl, joined with continuation curves)::

    value 0: census from fresh initial conditions
    value i: census from the final states of value i-1's attracting sets (seeds) + fresh ones
      -> link: every set of value i inherits the IDs of the sets whose seeds landed in it
         (mirror images are seeded separately, so a mirror never takes its partner's ID);
         sets no seed reached are matched by kind and distance of their means
      -> events between i-1 and i: birth, death, merger, kind change
      -> each event located by bisection in the parameter: censuses at midpoints seeded from both
         sides until the bracket is below ``bisect_tol``
    special points: equilibria of the FP attractors continued in ``param`` (LP, BP, HB), cycles
      continued from their Hopf points and from simulated limit cycles (LPC, PD, NS, BPC)
      -> an event within ``local_tol`` (plus the bracket) of a special point of a compatible
         kind is *local* (that point named), else *global* (homoclinic, crisis, boundary collision)

:func:`track_attractors` returns a :class:`TrackingResult`: ``.to_frame()`` (one row per value and
set), ``.events()`` (one row per event) and ``.branches`` (the continued branches).

Basin fractions come from the fresh initial conditions only (the seeds are not a uniform sample):
an attractor held only by its seed has basin fraction 0, below the resolution ``1 / n_initial``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.attractors.census import CensusResult, census
from analysis.attractors.options import CensusOptions
from bifurcate.model import Model
from bifurcate.validation import check_array

__all__ = ["track_attractors", "TrackingResult", "special_points_along", "COMPATIBLE"]

#: special points that can explain an event, by (event, kind of the attractor that changes)
COMPATIBLE = {
    ("birth", "FP"): ("LP", "BP", "HB"), ("death", "FP"): ("LP", "BP", "HB"),
    ("birth", "LC"): ("LPC", "HB", "PD", "BPC", "NS"), ("death", "LC"): ("LPC", "HB", "PD", "BPC", "NS"),
    ("birth", "QP"): ("NS",), ("death", "QP"): ("NS",),
    ("birth", "CH"): ("PD", "NS"), ("death", "CH"): ("PD", "NS"),
    ("merger", "FP"): ("BP", "LP"), ("merger", "LC"): ("BPC", "LPC"),
    ("kind_change", "LC"): ("PD", "NS"), ("kind_change", "FP"): ("HB",),
}
_EQ_KINDS = ("LP", "BP", "HB")
#: kinds one attractor may pass between and keep its ID (a kind change); a fixed point never does
_OSC = ("LC", "QP", "CH")
_CYC_KINDS = ("LPC", "PD", "NS", "BPC")
#: first and largest arclength step on cycle branches (the branch's period is interpolated by
#: quadratics in the row index when a simulated cycle is compared with it)
_CYC_DS, _CYC_DS_MAX = 0.01, 0.02


# --------------------------------------------------------------------------------------------
# one census with seeds, and the links between two censuses
# --------------------------------------------------------------------------------------------
@dataclass
class _Point:
    value: float
    result: CensusResult
    n_seed: int
    seed_owner: list          # ID (int) of the carried set whose state seeded initial condition k < n_seed
    ids: dict                 # census label -> attractor_id
    n_fresh: int


def _run(model, pdict, seeds: list[tuple[int, np.ndarray]], n_fresh: int, rng, opts) -> tuple[CensusResult, int, list]:
    fresh = model.random_states(int(n_fresh), rng) if n_fresh else np.zeros((0, model.n))
    S = np.array([s for _, s in seeds], dtype=float).reshape(-1, model.n)
    Y0 = np.vstack([S, fresh])
    res = census(model, pdict, y0=Y0, options=opts)
    # an attracting set whose mirror image was not found: once more with the images as extra seeds
    # (anonymous), so that a mirror pair is always found together
    extra = []
    for s in res.attractors:
        if s.attracting and s.kind != "FP" and np.all(np.isfinite(s.state)):
            for sym in model.symmetries:
                if not sym.reverses_time and not any(nm == sym.name for _, nm in s.mirror_of):
                    extra.append((None, sym(np.asarray(s.state, dtype=float))))
    if extra:
        seeds = list(seeds) + extra
        S = np.array([x for _, x in seeds], dtype=float).reshape(-1, model.n)
        res = census(model, pdict, y0=np.vstack([S, fresh]), options=opts)
    return res, len(seeds), [i for i, _ in seeds]


def _seeds(model, sets: dict, pdict: Mapping[str, float] | None = None) -> list:
    """One seed per attracting set (its final state, owned by its ID), plus the images under the
    model's non-reversing symmetries of sets whose mirror partner is missing (anonymous seeds: a
    mirror is found with its partner, and never inherits the partner's ID).

    A fixed point's seed is its equilibrium continued to the new parameters by Newton (``pdict``):
    near a Hopf point the old equilibrium relaxes too slowly onto the new one to be at rest after the
    transient (critical slowing down), and its death would be located early.
    """
    from bifurcate.equilibria import newton_equilibrium

    out, extra = [], []
    for pid, s in sets.items():
        if not (s.attracting and np.all(np.isfinite(s.state))):
            continue
        y = np.asarray(s.state, dtype=float)
        if s.kind == "FP" and pdict is not None:
            try:
                y = newton_equilibrium(model, y, pdict)
            except (ValueError, FloatingPointError):
                pass  # no equilibrium near the old one: the old state is the seed
        out.append((pid, y))
        for sym in model.symmetries:
            if sym.reverses_time or any(name == sym.name for _, name in s.mirror_of):
                continue
            extra.append((None, sym(np.asarray(s.state, dtype=float))))
    return out + extra


def _means(model, s) -> np.ndarray:
    return np.array([s.observables.get(k, np.nan) for k in model.state_names], dtype=float)


def _kin(a: str, b: str) -> bool:
    """May a set of kind ``b`` carry the ID of a set of kind ``a``?  Same kind; oscillating kinds
    among themselves (LC, QP, CH); an equilibrium that loses (or gains) stability (FP, SADDLE)."""
    return a == b or (a in _OSC and b in _OSC) or {a, b} == {"FP", "SADDLE"}


def _same_cycle(a, b, rel: float = 0.15) -> bool:
    """Can set ``b`` continue set ``a`` of the same kind?  Two limit cycles only if their periods are
    in ratio ~1, ~2 or ~1/2 (a period doubling, or the census's return period counting two turns);
    anything else is another cycle (e.g. a seed carried into a coexisting cycle)."""
    if a.kind != "LC" or b.kind != "LC":
        return True
    Ta, Tb = float(a.period), float(b.period)
    if not (np.isfinite(Ta) and np.isfinite(Tb) and Ta > 0 and Tb > 0):
        return True
    r = Tb / Ta
    return any(abs(r / q - 1.0) <= rel for q in (0.5, 1.0, 2.0))


def _jumps(model, a, b, jump_tol: float) -> bool:
    """Is chaotic or quasi-periodic set ``b`` too far from ``a`` to continue it?  The max-norm
    distance of their state means above ``jump_tol``: a seed that fell from a dying set into another
    one (say a small attractor into a large chaotic sea) links them by lineage only. Cycles are
    told apart by their periods (:func:`_same_cycle`), fixed points by Newton-continued seeds."""
    if a.kind not in ("CH", "QP") or b.kind not in ("CH", "QP"):
        return False
    d = np.abs(_means(model, a) - _means(model, b))
    return bool(np.any(np.isfinite(d)) and np.nanmax(d) > jump_tol)


def _dist(model, a, b) -> float:
    d = np.abs(_means(model, a) - _means(model, b))
    return float(np.nanmax(d)) if np.any(np.isfinite(d)) else np.inf


def _link(model, prev_sets: dict, res: CensusResult, n_seed: int, seed_owner: list, match_tol: float):
    """Predecessors of each set of ``res`` among ``prev_sets`` (id -> InvariantSet).

    Returns ``preds``: label -> list of ids whose seeds landed in the set (seed lineage), then
    completed by kind-and-distance matching for carried sets whose seeds landed nowhere.
    """
    preds = {s.label: [] for s in res.attractors}
    landed = set()
    for s in res.attractors:
        for k in np.asarray(s.members, dtype=int):
            if k < n_seed and seed_owner[k] is not None and seed_owner[k] not in preds[s.label]:
                preds[s.label].append(seed_owner[k])
                landed.add(seed_owner[k])
    # carried sets whose seed went nowhere (undecided, diverged) or non-attracting sets (not seeded):
    # nearest unclaimed set of the same kind within match_tol (max norm of the state means)
    for pid, ps in prev_sets.items():
        if pid in landed:
            continue
        best, bd = None, match_tol
        for s in res.attractors:
            if preds[s.label] or not _kin(s.kind, ps.kind):
                continue
            d = float(np.nanmax(np.abs(_means(model, s) - _means(model, ps))))
            if d < bd:
                best, bd = s.label, d
        if best is not None:
            preds[best].append(pid)
    return preds


def _assign(model, prev_sets: dict, res: CensusResult, preds: dict, next_id, jump_tol: float = 0.5):
    """IDs for the sets of ``res`` and the raw events (no location yet).

    A set with one predecessor of its kind (or one predecessor at all) continues it, unless the
    two are chaotic or quasi-periodic sets whose means are more than ``jump_tol`` apart
    (:func:`_jumps`) and another set of the previous value matches much better (then that one
    continues, the predecessor dies into it); with two or more predecessors of its own kind it is
    a merger (a new ID); oscillating predecessors of other kinds (LC, QP, CH) merge only when none has
    its kind (else they die into it: a small cycle whose seed falls into the chaotic set it sat beside
    is its death, not a merger); other predecessors whose seeds landed there die into it. Returns (ids:
    label -> id, events: list of dicts).
    """
    ids, events, continued = {}, [], set()
    for s in res.attractors:
        P = [p for p in preds[s.label] if p in prev_sets]
        same = [p for p in P if prev_sets[p].kind == s.kind and _same_cycle(prev_sets[p], s)]
        osc = [p for p in P if _kin(prev_sets[p].kind, s.kind) and _same_cycle(prev_sets[p], s)]
        if len(osc) >= 2 and s.kind in _OSC and not same:
            # oscillating sets of other kinds merging into one (two cycles that merge as they turn
            # chaotic); a predecessor of the set's own kind continues it, and a cycle or torus whose
            # seed fell into it dies into it (its basin is swallowed): not a merger of two attractors
            same = osc
        if len(same) >= 2:
            att = [p for p in same if prev_sets[p].attracting]
            nid = next_id()
            ids[s.label] = nid
            if s.attracting and len(att) >= 2:
                events.append(dict(event="merger", ids=tuple(sorted(att)), new_id=nid,
                                   kind_before="/".join(prev_sets[p].kind for p in sorted(att)), kind_after=s.kind))
            continue
        if len(same) == 1:
            pid = same[0]
        elif (len(P) == 1 and _kin(prev_sets[P[0]].kind, s.kind) and _same_cycle(prev_sets[P[0]], s)
              and not any(P[0] in v for k, v in preds.items() if k != s.label)):
            pid = P[0]
        else:
            pid = None
        if pid is not None and _jumps(model, prev_sets[pid], s, jump_tol):
            # the seed fell from a dying set into another one: a set of the previous value that is
            # a much better match (half the distance or less, and within jump_tol) continues it
            # instead (say a non-attracting chaotic sea that becomes attracting); with none, the
            # lineage stands (a set that moved a lot, as at a merger of mirror sets)
            d0 = _dist(model, prev_sets[pid], s)
            alt = [(q, _dist(model, ps, s)) for q, ps in prev_sets.items()
                   if q != pid and q not in continued and _kin(ps.kind, s.kind) and _same_cycle(ps, s)]
            alt = [(q, d) for q, d in alt if d <= jump_tol and d <= 0.5 * d0]
            if alt:
                pid = min(alt, key=lambda t: t[1])[0]
        if pid is None or pid in continued:
            ids[s.label] = next_id()
            if s.attracting:
                events.append(dict(event="birth", ids=(ids[s.label],), new_id=ids[s.label], kind_before="",
                                   kind_after=s.kind))
            continue
        continued.add(pid)
        ids[s.label] = pid
        ps = prev_sets[pid]
        if ps.attracting and s.attracting and ps.kind != s.kind:
            events.append(dict(event="kind_change", ids=(pid,), new_id=pid, kind_before=ps.kind, kind_after=s.kind))
        elif ps.attracting and not s.attracting:
            events.append(dict(event="death", ids=(pid,), new_id=pid, kind_before=ps.kind, kind_after=s.kind))
        elif s.attracting and not ps.attracting:
            events.append(dict(event="birth", ids=(pid,), new_id=pid, kind_before=ps.kind, kind_after=s.kind))
    merged = {p for e in events if e["event"] == "merger" for p in e["ids"]}
    for pid, ps in prev_sets.items():
        if ps.attracting and pid not in continued and pid not in merged:
            into = [ids[lab] for lab, v in preds.items() if pid in v]
            events.append(dict(event="death", ids=(pid,), new_id=into[0] if into else -1, kind_before=ps.kind,
                               kind_after=""))
    return ids, events


# --------------------------------------------------------------------------------------------
# bisection of one event
# --------------------------------------------------------------------------------------------
def _pre_holds(ev, model, left_sets, right_sets, res, n_left, n_seed, owner, match_tol) -> bool:
    """Does the midpoint census still look like the left side for this event?"""
    left_owner = owner[:n_left]
    right_owner = owner[n_left:n_seed]
    # links from the left seeds only (the right seeds are anonymous there), and vice versa
    lp = _link(model, left_sets, res, n_seed, left_owner + [None] * (n_seed - n_left), match_tol)
    rp = _link(model, right_sets, res, n_seed, [None] * n_left + right_owner, match_tol)
    lab = {s.label: s for s in res.attractors}

    def cont(preds, pid, prev, same_kind=True):
        hosts = [lab[k] for k, v in preds.items() if pid in v]
        return [h for h in hosts if h.attracting and _same_cycle(prev[pid], h)
                and (h.kind == prev[pid].kind if same_kind else _kin(h.kind, prev[pid].kind))]

    e = ev["event"]
    if e == "birth":
        return not cont(rp, ev["new_id"], right_sets)
    if e == "death":
        return bool(cont(lp, ev["ids"][0], left_sets))
    if e == "kind_change":
        return bool(cont(lp, ev["ids"][0], left_sets))
    if e == "merger":
        hosts = set()
        for pid in ev["ids"]:
            c = cont(lp, pid, left_sets, same_kind=False)
            if not c:
                return False
            hosts.add(c[0].label)
        return len(hosts) == len(ev["ids"])
    raise ValueError(f"unknown event {e!r}")


def _locate(ev, model, param, base, lo_pt: _Point, hi_pt: _Point, n_fresh, rng, opts, tol, max_iter, match_tol,
            cache: dict):
    """Bisect the event's bracket; midpoint censuses are shared by the events of one interval
    (``cache``: (left value, right value, midpoint) -> census)."""
    left = {lo_pt.ids[s.label]: s for s in lo_pt.result.attractors}
    right = {hi_pt.ids[s.label]: s for s in hi_pt.result.attractors}
    lo, hi = lo_pt.value, hi_pt.value
    n_mid = 0
    while abs(hi - lo) > tol and n_mid < max_iter:
        mid = 0.5 * (lo + hi)
        key = (lo_pt.value, hi_pt.value, round(mid, 12))
        if key not in cache:
            pm = {**base, param: mid}
            seeds = [x for x in _seeds(model, left, pm) if x[0] is not None]
            n_left = len(seeds)
            seeds += [x for x in _seeds(model, right, pm) if x[0] is not None]
            cache[key] = _run(model, {**base, param: mid}, seeds, n_fresh, rng, opts) + (n_left,)
        res, n_seed, owner, n_left = cache[key]
        n_mid += 1
        if _pre_holds(ev, model, left, right, res, n_left, n_seed, owner, match_tol):
            lo = mid
        else:
            hi = mid
    return lo, hi, n_mid


# --------------------------------------------------------------------------------------------
# special points of continued branches
# --------------------------------------------------------------------------------------------
def _on_branch(br, value, y, tol=1e-3) -> bool:
    pv = br.param_values
    if pv.size == 0 or not (pv.min() - 1e-12 <= value <= pv.max() + 1e-12):
        return False
    d = np.abs(pv - value)
    near = np.argsort(d)[:6]
    return bool(np.min(np.max(np.abs(br.states[near] - y), axis=1)) < max(tol, 50 * float(np.min(d[near]))))


def special_points_along(model: Model, param: str, lo: float, hi: float, base: Mapping[str, float],
                         fp_starts: Sequence[tuple[float, np.ndarray]] = (),
                         lc_starts: Sequence[tuple[float, np.ndarray, float]] = (), *, max_cycle_points: int = 200):
    """Continued branches along ``param`` in ``[lo, hi]`` and their special points.

    Parameters
    ----------
    fp_starts : (value, equilibrium state) pairs
        Equilibria to continue (each once: starts on a branch already continued are skipped).
    lc_starts : (value, state on the cycle, period) triples
        Simulated limit cycles; a cycle branch is started from one integrated period when no branch
        continued so far passes through it.

    Returns
    -------
    branches : list of (name, Branch)
    points : DataFrame
        One row per special point: ``kind``, ``value``, ``branch``, ``located``, ``precision``,
        ``period`` (cycles), ``criticality`` (Hopf).
    notes : list of str
        Failures (a branch that could not be continued never stops the rest).
    """
    from bifurcate.continuation import continue_equilibria
    from bifurcate.cycles import continue_cycles

    branches, notes = [], []
    for v, y in fp_starts:
        if any(b.kind == "equilibrium" and _on_branch(b, v, y) for _, b in branches):
            continue
        for ds in (0.01, -0.01):
            try:
                b = continue_equilibria(model, y, param=param, params={**base, param: v}, p_min=lo, p_max=hi, ds=ds)
            except Exception as exc:  # noqa: BLE001 - one branch never stops the rest
                notes.append(f"equilibria from {param}={v:.6g}: {type(exc).__name__}: {exc}")
                continue
            branches.append((f"eq@{v:.4g}{'+' if ds > 0 else '-'}", b))
    hopf = []
    for name, b in list(branches):
        for hb in b.special("HB"):
            if hb.data.get("criticality") == "degenerate":
                continue
            if any(abs(hb.param - h.param) < 1e-6 and np.max(np.abs(hb.state - h.state)) < 1e-6 for h in hopf):
                continue
            hopf.append(hb)
            try:
                cb = continue_cycles(model, hb, param=param, p_min=lo, p_max=hi, max_points=max_cycle_points,
                                     ds=_CYC_DS, ds_max=_CYC_DS_MAX)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"cycles from HB {param}={hb.param:.6g}: {type(exc).__name__}: {exc}")
                continue
            if len(cb):
                branches.append((f"cyc@HB{hb.param:.4g}", cb))
            if cb.status not in (0, -3):
                notes.append(f"cycles from HB {param}={hb.param:.6g}: {cb.message}")
    for v, y, T in lc_starts:
        if _cycle_match(branches, v, T, y, model) is not None:
            continue
        try:
            cbs = _cycle_from_orbit(model, param, {**base, param: v}, y, T, lo, hi, max_cycle_points)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"cycles from the simulated orbit at {param}={v:.6g}: {type(exc).__name__}: {exc}")
            continue
        for sign, cb in zip("+-", cbs):
            if len(cb):
                branches.append((f"cyc@orbit{v:.4g}{sign}", cb))
            if cb.status not in (0, -3):
                notes.append(f"cycles from the orbit at {param}={v:.6g} ({sign}): {cb.message}")
    rows = []
    for name, b in branches:
        for p in b.points:
            if p.kind not in _EQ_KINDS + _CYC_KINDS:
                continue
            rows.append(dict(kind=p.kind, value=float(p.param), branch=name, located=bool(p.located),
                             precision=float(p.precision), period=float(p.data.get("period", np.nan)),
                             criticality=str(p.data.get("criticality", ""))))
    pts = pd.DataFrame(rows, columns=["kind", "value", "branch", "located", "precision", "period", "criticality"])
    return branches, pts, notes


def _cycle_from_orbit(model, param, pdict, y, T, lo, hi, max_points):
    """Continue the cycle through ``y`` (period ~T): one period integrated at fine sampling, the
    period refined by the return to the start's neighbourhood; returns the two branches (up, down)."""
    from bifurcate.cycles import continue_cycles
    from bifurcate.integrate import integrate

    tr = integrate(model, y, (0.0, 1.2 * T), pdict, t_eval=np.linspace(0.0, 1.2 * T, 1201), rtol=1e-10, atol=1e-12)
    d = np.linalg.norm(tr.y - tr.y[0], axis=1)
    k0 = int(np.searchsorted(tr.t, 0.8 * T))
    k = k0 + int(np.argmin(d[k0:]))
    tt, yy = tr.t[:k + 1], tr.y[:k + 1]
    out = []
    for direction in (1, -1):
        out.append(continue_cycles(model, (tt, yy), param=param, params=pdict, p_min=lo, p_max=hi,
                                   max_points=max_points, direction=direction, ds=_CYC_DS, ds_max=_CYC_DS_MAX))
    return out


def minimal_period(model: Model, params: Mapping[str, float], y, T: float, *, n_per: int = 4000,
                   rel_gap: float = 0.02) -> tuple[float, float]:
    """The least period of the cycle through ``y`` (estimated period ``T``): first close return.

    Integrates ``[0, 1.05 T]`` (DOP853, rtol 1e-10) sampled ``n_per`` times per ``T``; among the local
    minima of ``|y(t) - y(0)|^2`` after ``0.05 T`` that are below ``rel_gap`` times the orbit's extent,
    the first one that is a true return: its gap within 10 times the smallest gap (or below 1e-4). A
    cycle just past a period doubling nearly returns after one turn of the old cycle (a gap that grows
    from zero with the distance to the PD point) and truly after two: its period is the two turns.
    The return is refined by a parabola through the three samples around it. Returns
    ``(period, gap)`` with ``gap`` the relative distance at the return; ``(nan, nan)`` if there is no
    close return (not a cycle of period <= T, or the integration failed).
    """
    from bifurcate.integrate import integrate

    if not (np.isfinite(T) and T > 0):
        return np.nan, np.nan
    t = np.linspace(0.0, 1.05 * T, int(1.05 * n_per) + 1)
    tr = integrate(model, y, (0.0, t[-1]), params, t_eval=t, rtol=1e-10, atol=1e-12)
    if tr.status != 0:
        return np.nan, np.nan
    ext = max(float(np.max(np.ptp(tr.y, axis=0))), 1e-12)
    d2 = np.sum((tr.y - tr.y[0]) ** 2, axis=1)
    k0 = int(np.searchsorted(t, 0.05 * T))
    mins = [k for k in range(max(k0, 1), t.size - 1)
            if d2[k] <= d2[k - 1] and d2[k] <= d2[k + 1] and d2[k] < (rel_gap * ext) ** 2]
    if not mins:
        return np.nan, np.nan

    def refine(k):
        # the parabola through the three samples: its vertex (time offset, squared distance there)
        a, b, c = d2[k - 1], d2[k], d2[k + 1]
        den = a - 2 * b + c
        if den <= 0:
            return 0.0, b
        return 0.5 * (a - c) / den, b - (a - c) ** 2 / (8.0 * den)

    ref = [refine(k) for k in mins]
    gaps = np.array([np.sqrt(max(v, 0.0)) for _, v in ref]) / ext
    floor = max(10.0 * float(gaps.min()), 1e-4)
    j = next(j for j, g in enumerate(gaps) if g <= floor)
    h = t[1] - t[0]
    return float(t[mins[j]] + ref[j][0] * h), float(gaps[j])


def _quad_interp(pv: np.ndarray, per: np.ndarray, i: int, value: float, linear: float) -> float:
    """Period at ``value`` on the segment (i, i+1): quadratics in the row index through rows
    (i-1, i, i+1) or (i, i+1, i+2) for both the parameter and the period (smooth in arclength even
    at a fold), the root of parameter = value in [i, i+1]; the linear estimate if that fails."""
    for k0 in (i - 1, i):
        if k0 < 0 or k0 + 2 >= len(pv):
            continue
        x = np.arange(k0, k0 + 3, dtype=float)
        a = np.polyfit(x, pv[k0:k0 + 3], 2)
        a[-1] -= value
        roots = np.roots(a) if abs(a[0]) > 1e-300 else np.array([-a[2] / a[1]])
        roots = roots[np.isreal(roots)].real
        roots = roots[(roots >= i - 1e-9) & (roots <= i + 1 + 1e-9)]
        if roots.size:
            return float(np.polyval(np.polyfit(x, per[k0:k0 + 3], 2), roots[0]))
    return float(linear)


def _cycle_match(branches, value, T, y, model, rel_tol=None):
    """The cycle branch row nearest to a simulated cycle at ``value`` with period ``T``.

    Returns None if no cycle branch spans ``value``; else dict with ``branch``, ``branch_period``
    (linear interpolation on the segment through ``value`` whose period is nearest), ``stable``,
    ``amplitude``, ``max_multiplier`` (largest nontrivial |mu|)."""
    best = None
    for name, b in branches:
        if b.kind != "cycle" or len(b) < 2:
            continue
        pv = b.param_values
        per = np.asarray(b.columns["period"], dtype=float)
        for i in range(len(pv) - 1):
            a, c = pv[i], pv[i + 1]
            if not (min(a, c) - 1e-12 <= value <= max(a, c) + 1e-12) or a == c:
                continue
            w = (value - a) / (c - a)
            Tb = _quad_interp(pv, per, i, value, (1 - w) * per[i] + w * per[i + 1])
            j = i if w < 0.5 else i + 1
            mu = np.abs(b.eigenvalues[j][1:]) if b.eigenvalues.ndim == 2 and b.eigenvalues.shape[1] > 1 else np.array([np.nan])
            amp = b.columns.get("amplitude")
            cand = dict(branch=name, branch_period=float(Tb), stable=bool(b.stable[j]),
                        amplitude=float(amp[j]) if amp is not None else np.nan,
                        max_multiplier=float(np.nanmax(mu)) if mu.size else np.nan)
            if best is None or abs(Tb - T) < abs(best["branch_period"] - T):
                best = cand
    if best is None or not np.isfinite(T) or abs(best["branch_period"] - T) > 0.05 * T:
        return None
    return best


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TrackingResult:
    """Attractors tracked along ``param``.

    Attributes
    ----------
    model : Model
    param : str
    values : ndarray (m,)
        The path (the bisection midpoints are not part of it).
    params : dict
        The other parameters.
    censuses : list of CensusResult (m,)
    ids : list of dict (m,)
        Census label -> ``attractor_id`` at each value.
    n_seed : list of int
        Seeded initial conditions at each value (the first ``n_seed`` of the census's).
    raw_events : list of dict
        Events located and classified (see :meth:`events`).
    branches : list of (name, Branch)
        Continued equilibrium and cycle branches whose special points classify the events.
    special : DataFrame
        Their special points (see :func:`special_points_along`).
    options : CensusOptions
    lc_periods : list of dict (m,)
        Census label -> (least period, relative return gap) of each limit cycle
        (:func:`minimal_period`).
    status : int
        0 success; 1 partial (a census not successful, an event not located to ``bisect_tol``, or
        a branch failed: see ``message``).
    message : str
    """

    model: Model = field(repr=False)
    param: str
    values: np.ndarray
    params: dict
    censuses: list = field(repr=False)
    ids: list = field(repr=False)
    n_seed: list = field(repr=False)
    raw_events: list = field(repr=False)
    branches: list = field(repr=False)
    special: pd.DataFrame = field(repr=False)
    options: CensusOptions = field(repr=False)
    status: int = 0
    message: str = "success"
    lc_periods: list = field(default_factory=list, repr=False)
    cycle_rel_tol: float = 1e-3

    @property
    def success(self) -> bool:
        return self.status == 0

    def to_frame(self) -> pd.DataFrame:
        """One row per (value, invariant set): ``param`` value, the other parameters, ``attractor_id``,
        ``label`` (the census's), ``kind``, ``flavour``, ``attracting``, ``basin_fraction`` (fresh
        initial conditions only) and ``basin_fraction_err`` (binomial standard error
        ``sqrt(f (1 - f) / N)``, floored at ``0.5 / N`` so that a share of 0 or 1 is not reported exact), ``seeded`` (a seed landed in it), ``lyap_k`` / ``lyap_err_k``,
        ``period``, the state means and derived observables with ``<name>_err``, ``mirror_of``
        (attractor IDs), ``status`` (the census's) and, for limit cycles, the continued branch:
        ``cycle_branch``, ``branch_period``, ``period_mismatch`` (relative), ``branch_stable``,
        ``branch_amplitude``, ``branch_max_multiplier``, ``cycle_match`` (True: the period agrees to
        ``cycle_rel_tol`` on a stable branch row; False: flagged mismatch; None: not a cycle)."""
        rows = []
        for v, res, ids, ns, lcp in zip(self.values, self.censuses, self.ids, self.n_seed, self.lc_periods):
            fresh = res.n_initial - ns
            for s in res.attractors:
                m = np.asarray(s.members, dtype=int)
                nf = int(np.sum(m >= ns))
                f = nf / fresh if fresh else np.nan
                r = {**self.params, self.param: float(v), "attractor_id": ids[s.label], "label": s.label,
                     "kind": s.kind, "flavour": s.flavour, "attracting": bool(s.attracting),
                     "basin_fraction": f, "basin_fraction_err": float(np.sqrt(max(f * (1 - f), 0.25 / fresh) / fresh))
                     if fresh else np.nan, "seeded": bool(np.any(m < ns)), "n_members": int(s.n_members)}
                for k, x in enumerate(s.exponents):
                    r[f"lyap_{k}"] = float(x)
                for k, x in enumerate(s.exponents_err):
                    r[f"lyap_err_{k}"] = float(x)
                r["census_period"] = float(s.period)
                r["period"] = float(s.period)
                r["period_gap"] = np.nan
                if s.kind == "LC":
                    Tm, gap = lcp.get(s.label, (np.nan, np.nan))
                    if np.isfinite(Tm):
                        r["period"], r["period_gap"] = Tm, gap
                for k, x in s.observables.items():
                    r[k] = float(x)
                    r[f"{k}_err"] = float(s.observables_err.get(k, np.nan))
                r["mirror_of"] = ",".join(f"{ids[lab]}:{sym}" for lab, sym in s.mirror_of if lab in ids)
                r["status"] = int(res.status)
                r.update(cycle_branch="", branch_period=np.nan, period_mismatch=np.nan, branch_stable=None,
                         branch_amplitude=np.nan, branch_max_multiplier=np.nan, cycle_match=None)
                if s.kind == "LC":
                    mt = _cycle_match(self.branches, float(v), r["period"], s.state, self.model)
                    if mt is None:
                        r["cycle_match"] = False
                    else:
                        rel = abs(mt["branch_period"] - r["period"]) / r["period"]
                        r.update(cycle_branch=mt["branch"], branch_period=mt["branch_period"], period_mismatch=rel,
                                 branch_stable=mt["stable"], branch_amplitude=mt["amplitude"],
                                 branch_max_multiplier=mt["max_multiplier"],
                                 cycle_match=bool(rel <= self.cycle_rel_tol and mt["stable"]))
                rows.append(r)
        return pd.DataFrame(rows)

    def averages(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """The mean field along the path from the tracked sets: one row per value.

        At each value the sets are weighted by their basins among the *fresh* initial conditions
        (the seeds are not a uniform sample and carry no weight): ``att_<name>`` is the average
        of ``name`` over the attracting sets only, renormalised to their share, with the error
        ``att_<name>_err`` = sqrt(sum_i w_i (v_i - mean)^2 / N + sum_i (w_i e_i)^2) (multinomial
        sampling of the basins over the N fresh trajectories in attracting sets, plus each set's
        own error e_i), the formula of :meth:`CensusResult.attractor_average`; nan where no set
        attracts. ``<name>`` (+ ``_err``) is the same average over every classified set (attracting
        or not: the neutral families where nothing attracts).

        Returns
        -------
        DataFrame (len(values) rows)
            ``param``, the other parameters, ``phase`` (the census's), ``n_attracting`` (attracting
            sets, seeded ones included), ``attracting_share`` (fresh trajectories in attracting sets
            with a finite average), ``n_fresh``, ``n_seeded``, ``att_<name>``, ``att_<name>_err``,
            ``<name>``, ``<name>_err`` for each name (default: the state names and derived
            observables of the sets), ``fragile`` / ``fragile_reason`` (the census's phase rests on
            evidence near a threshold: :mod:`analysis.attractors.fragility`), ``status`` (the census's).
        """
        rows = []
        for v, res, ns in zip(self.values, self.censuses, self.n_seed):
            fresh = int(res.n_initial - ns)
            sets = list(res.attractors)
            nm = list(names) if names is not None else (list(sets[0].observables) if sets else list(self.model.state_names))
            r = {**self.params, self.param: float(v), "phase": str(res.phase),
                 "n_attracting": int(sum(1 for s in sets if s.attracting)), "n_fresh": fresh, "n_seeded": int(ns)}
            nf = np.array([int(np.sum(np.asarray(s.members, dtype=int) >= ns)) for s in sets], dtype=float)
            att = np.array([bool(s.attracting) for s in sets], dtype=bool)
            share = None
            for name in nm:
                val = np.array([s.observables.get(name, np.nan) for s in sets], dtype=float)
                err = np.array([s.observables_err.get(name, np.nan) for s in sets], dtype=float)
                for pre, sel in (("att_", att), ("", np.ones(len(sets), dtype=bool))):
                    ok = sel & np.isfinite(val) & (nf > 0)
                    if not ok.any():
                        r[f"{pre}{name}"], r[f"{pre}{name}_err"] = np.nan, np.nan
                        continue
                    w = nf[ok] / nf[ok].sum()
                    mean = float(np.sum(w * val[ok]))
                    e = np.where(np.isfinite(err[ok]), err[ok], 0.0)
                    r[f"{pre}{name}"] = mean
                    r[f"{pre}{name}_err"] = float(np.sqrt(np.sum(w * (val[ok] - mean) ** 2) / nf[ok].sum()
                                                          + np.sum((w * e) ** 2)))
                    if pre == "att_" and share is None:
                        share = float(nf[ok].sum() / fresh) if fresh else np.nan
            r["attracting_share"] = share if share is not None else 0.0
            fr = res.fragility()
            r["fragile"], r["fragile_reason"] = bool(fr.fragile), fr.reason
            r["status"] = int(res.status)
            rows.append(r)
        return pd.DataFrame(rows)

    def events(self) -> pd.DataFrame:
        """One row per event: ``event`` (birth, death, merger, kind_change), ``attractor_ids``,
        ``new_id`` (birth / merger: the new set's ID; death: the set its seed joined, -1 none),
        ``kind_before``, ``kind_after``, ``<param>`` (bracket midpoint), ``lo``, ``hi``, ``located``
        (bracket below the tolerance), ``n_bisections``, ``classification`` (local / global),
        ``special_point`` (LP, BP, HB, LPC, PD, NS, BPC, or "" when global), ``special_value``,
        ``special_branch``, ``distance`` (to the nearest compatible special point)."""
        cols = ["event", "attractor_ids", "new_id", "kind_before", "kind_after", self.param, "lo", "hi", "located",
                "n_bisections", "classification", "special_point", "special_value", "special_branch", "distance"]
        return pd.DataFrame([{k: e[k] for k in cols} for e in self.raw_events], columns=cols)


def _classify(ev, special: pd.DataFrame, local_tol: float, own_branches: set | None = None):
    """Local if a compatible special point lies within tolerance; for a limit cycle tied to cycle
    branches (``own_branches``), only the special points of those branches and Hopf points count."""
    kind = ev["kind_before"] or ev["kind_after"]
    if ev["event"] == "death":
        kind = ev["kind_before"]
    if ev["event"] in ("birth", "merger"):
        kind = ev["kind_after"]
    allowed = COMPATIBLE.get((ev["event"], kind), ())
    x = 0.5 * (ev["lo"] + ev["hi"])
    best = None
    for _, p in special.iterrows():
        if p["kind"] not in allowed:
            continue
        if own_branches and p["kind"] in _CYC_KINDS and p["branch"] not in own_branches:
            continue
        d = abs(p["value"] - x)
        if best is None or d < best[0]:
            best = (d, p)
    tol = local_tol + 0.5 * abs(ev["hi"] - ev["lo"])
    if best is not None and best[0] <= tol + (best[1]["precision"] if np.isfinite(best[1]["precision"]) else 0):
        return dict(classification="local", special_point=best[1]["kind"], special_value=float(best[1]["value"]),
                    special_branch=best[1]["branch"], distance=float(best[0]))
    return dict(classification="global", special_point="",
                special_value=float(best[1]["value"]) if best else np.nan,
                special_branch=best[1]["branch"] if best else "", distance=float(best[0]) if best else np.nan)


def track_attractors(model: Model, param: str, values, params: Mapping[str, float] | None = None, *,
                     n_initial: int = 16, seed: Any = 0, options: CensusOptions | Mapping | None = None,
                     bisect_tol: float = 2e-3, max_bisect: int = 8, n_bisect_initial: int | None = None,
                     local_tol: float = 5e-3, match_tol: float = 0.15, continue_branches: bool = True,
                     max_cycle_points: int = 400, jump_tol: float = 0.5, **option_overrides) -> TrackingResult:
    """Continue the attractors of ``model`` along ``param`` over ``values``.

    Parameters
    ----------
    model : Model
    param : str
        The path's parameter.
    values : array_like (m,), m >= 2, strictly monotone
    params : dict, optional
        The other parameters (defaults for the rest).
    n_initial : int
        Fresh initial conditions per value (uniform on the phase space), besides one seed per set
        carried from the previous value.
    seed : int or Generator
    options : CensusOptions or mapping; ``**option_overrides`` its fields.
    bisect_tol : float
        An event is located when its parameter bracket is below this.
    max_bisect : int
        Midpoint censuses per event at most (the bracket reached is reported as it is).
    n_bisect_initial : int, optional
        Fresh initial conditions per midpoint census (default ``max(4, n_initial // 2)``).
    local_tol : float
        An event is local when a compatible special point lies within ``local_tol`` plus half the
        event's bracket (plus the point's own precision).
    match_tol : float
        Max-norm distance of state means for matching sets that no seed reached.
    jump_tol : float
        A chaotic or quasi-periodic set whose state means lie more than this (max norm) from those
        of the set whose seed landed in it continues instead a set of the previous value that is a
        much better match (within ``jump_tol`` and half the distance or less; say a non-attracting
        chaotic set that becomes attracting), and the seed's set dies into it. Without such a set
        the lineage stands. Mergers are not affected.
    continue_branches : bool
        False: no continuation (every event is classified against an empty list: global).
    max_cycle_points : int

    Returns
    -------
    TrackingResult

    Examples
    --------
    >>> from bifurcate.models import LMG_DIMER
    >>> tr = track_attractors(LMG_DIMER, "lam", [0.0, 0.05], {"J": 1.5}, n_initial=4,
    ...                       continue_branches=False)              # doctest: +SKIP
    >>> tr.to_frame()[["lam", "attractor_id", "kind"]]                # doctest: +SKIP
    """
    from bifurcate.utils import as_generator

    if not isinstance(model, Model):
        raise TypeError(f"model must be a bifurcate Model, got {type(model).__name__}")
    model.param_index(param)
    vals = check_array("values", values, finite=False, min_size=0)    # strings, dicts, complex refused by name
    if vals.ndim != 1 or vals.size < 2 or not np.all(np.isfinite(vals)):
        raise ValueError(f"values must be a 1-D array of at least 2 finite parameter values, got {values!r}")
    dv = np.diff(vals)
    if not (np.all(dv > 0) or np.all(dv < 0)):
        raise ValueError("values must be strictly monotone (a path), got "
                         f"{np.array2string(vals, precision=4)}")
    if not isinstance(n_initial, (int, np.integer)) or int(n_initial) < 1:
        raise ValueError(f"n_initial must be an int >= 1, got {n_initial!r}")
    for nm, x in (("bisect_tol", bisect_tol), ("local_tol", local_tol), ("match_tol", match_tol),
                  ("jump_tol", jump_tol)):
        if not (np.isfinite(x) and x > 0):
            raise ValueError(f"{nm} must be a positive number, got {x!r}")
    opts = CensusOptions.coerce(options, **option_overrides)
    base = {k: float(v) for k, v in model.params(params).items() if k != param}
    rng = as_generator(seed)
    n_mid = int(n_bisect_initial) if n_bisect_initial is not None else max(4, int(n_initial) // 2)
    counter = iter(range(10 ** 9))

    def next_id():
        return next(counter)

    points: list[_Point] = []
    pending = []
    msgs = []
    for i, v in enumerate(vals):
        pdict = {**base, param: float(v)}
        if not points:
            res, ns, owner = _run(model, pdict, [], int(n_initial), rng, opts)
            ids = {s.label: next_id() for s in res.attractors}
        else:
            prev = points[-1]
            prev_sets = {prev.ids[s.label]: s for s in prev.result.attractors}
            seeds = _seeds(model, prev_sets, pdict)
            res, ns, owner = _run(model, pdict, seeds, int(n_initial), rng, opts)
            preds = _link(model, prev_sets, res, ns, owner, match_tol)
            ids, evs = _assign(model, prev_sets, res, preds, next_id, jump_tol)
            for e in evs:
                pending.append((len(points) - 1, e))
        if res.status != 0:
            msgs.append(f"{param}={v:.6g}: census {res.message}")
        points.append(_Point(float(v), res, ns, owner, ids, int(n_initial)))
    # special points along the path
    branches, special = [], pd.DataFrame(columns=["kind", "value", "branch", "located", "precision", "period",
                                                  "criticality"])
    lc_periods = []
    for pt in points:
        d = {}
        for s in pt.result.attractors:
            if s.kind == "LC":
                try:
                    d[s.label] = minimal_period(model, {**base, param: pt.value}, s.state, float(s.period))
                except Exception as exc:  # noqa: BLE001 - a failed refinement keeps the census's period
                    msgs.append(f"{param}={pt.value:.6g}: period of LC {s.label}: {type(exc).__name__}: {exc}")
        lc_periods.append(d)
    if continue_branches:
        fp, lc = [], []
        for pt, lcp in zip(points, lc_periods):
            for s in pt.result.attractors:
                if s.kind == "FP" and s.attracting:
                    fp.append((pt.value, s.state))
                elif s.kind == "LC" and s.attracting and np.isfinite(lcp.get(s.label, (np.nan,))[0]):
                    lc.append((pt.value, s.state, lcp[s.label][0]))
        branches, special, notes = special_points_along(model, param, float(vals.min()), float(vals.max()), base,
                                                        fp, lc, max_cycle_points=max_cycle_points)
        msgs += notes
    # locate and classify the events
    located = []
    mid_cache: dict = {}
    result = TrackingResult(model=model, param=param, values=vals, params=base, censuses=[p.result for p in points],
                            ids=[p.ids for p in points], n_seed=[p.n_seed for p in points], raw_events=[],
                            branches=branches, special=special, options=opts, lc_periods=lc_periods)
    frame = result.to_frame()
    for i, e in pending:
        lo, hi, nb = _locate(e, model, param, base, points[i], points[i + 1], n_mid, rng, opts, bisect_tol, max_bisect,
                             match_tol, mid_cache)
        e = dict(e, lo=min(lo, hi), hi=max(lo, hi), n_bisections=nb, located=bool(abs(hi - lo) <= bisect_tol * (1 + 1e-9)))
        e[param] = 0.5 * (lo + hi)
        e["attractor_ids"] = ",".join(str(x) for x in e["ids"])
        own = set()
        if len(frame) and (e["kind_before"] == "LC" or e["kind_after"] == "LC"):
            near = frame[frame[param].isin([points[i].value, points[i + 1].value])
                         & frame["attractor_id"].isin([e["new_id"]] if e["event"] == "birth" else list(e["ids"]))
                         & (frame["kind"] == "LC")]
            own = {b for b in near["cycle_branch"] if b}
        e.update(_classify(e, special, local_tol, own))
        if not e["located"]:
            msgs.append(f"{e['event']} of {e['attractor_ids']} only bracketed in [{e['lo']:.6g}, {e['hi']:.6g}]")
        located.append(e)
    status = 0 if not msgs else 1
    object.__setattr__(result, "raw_events", located)
    object.__setattr__(result, "status", status)
    object.__setattr__(result, "message", "success" if not msgs else "; ".join(msgs))
    return result
