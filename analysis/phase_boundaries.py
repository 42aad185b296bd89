"""Continued bifurcation curves over a parameter plane, and the phase changes they do not explain.

Two questions a phase diagram (:func:`analysis.phase_diagrams.phase_diagram`) leaves open: which
continued curve bounds each region, and which changes of the census phase no local bifurcation
explains (a homoclinic orbit, a crisis, a boundary collision: *global* transitions).

:func:`continued_boundaries` finds the curves without being told where they are: along a few scan
lines of each grid axis it continues every equilibrium found at the line's two ends
(:func:`bifurcate.continuation.continue_equilibria`), continues each located BP, LP and Hopf point
in the plane (:func:`bifurcate.continuation.codim2.continue_codim2`), and, with ``cycles=True``, the
cycles born at each Hopf point (:func:`bifurcate.cycles.continue_cycles`), whose located LPC, PD and
NS points it continues in the plane as well
(:func:`bifurcate.cycles.codim2.continue_cycle_codim2`). A special point that already lies on a
curve of its kind is not continued again.

:func:`cycle_boundaries` is the targeted version for cycles: along scan lines at given values of one
parameter it continues the cycles born at the Hopf points of the stable equilibria, and only those
LPC / PD / NS points where a cycle on one side is stable (the ones that change an attractor); a
non-generic fold (a symmetric family of cycles) becomes a marker, and every run is recorded with
its call and status.

:func:`phase_transitions` lists every pair of grid neighbours whose phase differs (the change lies
on the segment between them) and classifies it: **local** when a continued curve passes within
``tol`` grid steps of that segment (the curve named), else **global**. The tolerance is in units of
the grid's step along each axis (max norm), default one step: the census's phase next to a
boundary can be one point off (a basin that shrinks to nothing, a slow transient), and a global
transition closer than ``tol`` steps to a local curve cannot be told apart from it at this grid.

References
----------
Kuznetsov, Elements of Applied Bifurcation Theory (3rd ed.), Ch. 8 and 10 (two-parameter curves).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from bifurcate.model import Model

__all__ = ["Boundaries", "continued_boundaries", "cycle_boundaries", "phase_transitions", "CURVE_KINDS"]

#: kinds of continued curves: of equilibria, then of cycles
CURVE_KINDS = ("BP", "LP", "HB", "LPC", "PD", "NS")
_EQ = ("BP", "LP", "HB")
_CYC = ("LPC", "PD", "NS")


@dataclass(frozen=True, eq=False)
class Boundaries:
    """Continued curves in a parameter plane.

    Attributes
    ----------
    table : DataFrame
        One row per curve point: ``curve`` (name), ``kind`` (BP, LP, HB, LPC, PD, NS), ``segment``
        (Hopf curves: ``HB``, or ``NSad`` where the continued system is a neutral saddle, which is
        no bifurcation; else the kind), the two parameters (x and y of the plane), ``order`` (index
        along the curve).
    x, y : str
        The plane's parameters.
    branches : list of (name, Branch)
        The continued curves (two-parameter branches) as the engine returns them.
    status : int
        0 success; 1 some continuation failed (see ``message``; the other curves stand).
    message : str
    markers : DataFrame
        Special points that are not continued as curves (e.g. a non-generic fold of cycles, status
        -6 of :func:`bifurcate.cycles.codim2.continue_cycle_codim2`), one row each: ``curve``
        (name), ``kind``, the two parameters, ``note``. Empty when there are none.
    runs : DataFrame
        One row per continuation attempted (:func:`cycle_boundaries`): ``what`` (the call, with its
        start), ``status``, ``message``, ``n_points``, ``wall_s``. Empty when not recorded.
    """

    table: pd.DataFrame
    x: str
    y: str
    branches: list = field(default_factory=list, repr=False)
    status: int = 0
    message: str = "success"
    markers: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def marker_tables(self) -> list[pd.DataFrame]:
        """The markers as one-row curve tables (two parameter columns, ``label``, ``curve``), which
        :func:`phase_transitions` treats as curves of one point."""
        m = self.markers
        if m is None or not len(m):
            return []
        return [pd.DataFrame({self.x: [float(r[self.x])], self.y: [float(r[self.y])], "label": str(r["kind"]),
                              "curve": str(r["curve"])}) for _, r in m.iterrows()]

    def curves(self, *, neutral_saddles: bool = False) -> list[pd.DataFrame]:
        """The curves as :func:`analysis.plots_phase.plot_curves` takes them: one table per curve
        with the two parameter columns and ``label`` (the kind)."""
        out = []
        for name, g in self.table.groupby("curve", sort=False):
            if not neutral_saddles:
                g = g[g["segment"] != "NSad"]
            if len(g) < 2:
                continue
            g = g.sort_values("order")
            out.append(pd.DataFrame({self.x: g[self.x].to_numpy(), self.y: g[self.y].to_numpy(),
                                     "label": str(g["kind"].iloc[0]), "curve": str(name)}))
        return out


def _polyline_distance(P: np.ndarray, A: np.ndarray, B: np.ndarray, h: float = 0.05) -> np.ndarray:
    """Max-norm distance from each segment [A_k, B_k] to the polyline ``P`` (m, 2), sampled finely
    enough (every segment of ``P`` cut into pieces of at most ``h`` in these units)."""
    if len(P) == 0:
        return np.full(len(A), np.inf)
    if len(P) > 1:
        seg = np.diff(P, axis=0)
        n = np.maximum(np.ceil(np.max(np.abs(seg), axis=1) / h).astype(int), 1)
        pts = [P[:1]] + [P[k] + seg[k] * (np.arange(1, n[k] + 1)[:, None] / n[k]) for k in range(len(seg))]
        P = np.vstack(pts)
    # distance of every curve sample to every grid segment, then the minimum over the samples
    out = np.empty(len(A))
    for k in range(len(A)):
        a, b = A[k], B[k]
        d = b - a
        L = float(d @ d)
        t = np.clip(((P - a) @ d) / L, 0.0, 1.0) if L > 0 else np.zeros(len(P))
        q = a + t[:, None] * d
        out[k] = float(np.min(np.max(np.abs(P - q), axis=1)))
    return out


def _on_curves(table: pd.DataFrame, kind: str, x: str, y: str, pt: tuple[float, float], scale) -> bool:
    g = table[table["kind"] == kind]
    for _, c in g.groupby("curve", sort=False):
        P = (c.sort_values("order")[[x, y]].to_numpy(float)) / scale
        if _polyline_distance(P, np.array([pt]) / scale, np.array([pt]) / scale, h=5e-4)[0] < 2e-3:
            return True
    return False


def _grid_span(model, grid):
    """``(x, xs, y, ys, rng, scale)`` of a two-parameter grid: names, values, finite ranges (checked) and spans."""
    (x, xs), (y, ys) = [(k, np.asarray(v, dtype=float)) for k, v in grid.items()]
    for k in (x, y):
        model.param_index(k)
    rng = {x: (float(np.min(xs)), float(np.max(xs))), y: (float(np.min(ys)), float(np.max(ys)))}
    for k, (lo, hi) in rng.items():
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError(f"grid[{k!r}] must span a finite interval, got [{lo!r}, {hi!r}]")
    scale = np.array([rng[x][1] - rng[x][0], rng[y][1] - rng[y][0]])
    return x, xs, y, ys, rng, scale


def continued_boundaries(model: Model, grid: Mapping[str, Sequence[float]], base: Mapping[str, float] | None = None,
                         *, n_scan: int = 3, cycles: bool = True, kinds: Sequence[str] = CURVE_KINDS,
                         max_cycle_points: int = 200, max_curve_steps: int = 400) -> Boundaries:
    """The BP, LP, Hopf, LPC, PD and NS curves that cross the rectangle of ``grid``.

    Parameters
    ----------
    model : Model
    grid : dict of two parameter names -> values
        Only the range of each axis is used (the rectangle), x first.
    base : dict, optional
        The other parameters.
    n_scan : int
        Scan lines per axis (evenly spaced, ends included): along each, the equilibria found at both
        ends are continued across the rectangle, and their special points started curves from.
    cycles : bool
        Also continue the cycles born at each Hopf point and the curves of their LPC, PD and NS points
        (costly in large models).
    kinds : sequence of str
        Curve kinds wanted (subset of :data:`CURVE_KINDS`).
    max_cycle_points, max_curve_steps : int
        Points per cycle branch; steps per two-parameter curve (each direction).

    Returns
    -------
    Boundaries
        A curve that no scan line crosses (a closed curve inside one cell of the scan, or one reached
        only through a branch no scan line continues) is missed: more scan lines find more.

    Examples
    --------
    >>> from bifurcate.models.classic import BAUTIN
    >>> b = continued_boundaries(BAUTIN, {"beta1": [-0.3, 0.2], "beta2": [-0.5, 1.0]})   # doctest: +SKIP
    >>> sorted(b.table["kind"].unique())                                                 # doctest: +SKIP
    ['HB', 'LPC']
    """
    from bifurcate.continuation.codim2 import continue_codim2

    if not isinstance(model, Model):
        raise TypeError(f"model must be a bifurcate Model, got {type(model).__name__}")
    if not isinstance(grid, Mapping) or len(grid) != 2:
        raise ValueError(f"grid must map exactly two parameter names to values, got {grid!r}")
    bad = [k for k in kinds if k not in CURVE_KINDS]
    if bad:
        raise ValueError(f"kinds must be among {CURVE_KINDS}, got {bad}")
    if not isinstance(n_scan, (int, np.integer)) or isinstance(n_scan, bool) or n_scan < 1:
        raise ValueError(f"n_scan must be an int >= 1, got {n_scan!r}")
    x, xs, y, ys, rng, scale = _grid_span(model, grid)
    base_d = {k: float(v) for k, v in model.params(base).items() if k not in (x, y)}
    tables, branches, notes = [], [], []
    counter = {"n": 0}

    def add(kind, br, name):
        df = br.to_frame()
        if x not in df or y not in df or not len(df):
            return
        seg = df["segment"].astype(str).to_numpy() if "segment" in df else np.full(len(df), kind)
        tables.append(pd.DataFrame({"curve": name, "kind": kind, "segment": seg, x: df[x].to_numpy(float),
                                    y: df[y].to_numpy(float), "order": np.arange(len(df))}))
        branches.append((name, br))

    def known(kind, px, py):
        if not tables:
            return False
        return _on_curves(pd.concat(tables, ignore_index=True), kind, x, y, (px, py), scale)

    def start_curve(pt, along, kind):
        other = y if along == x else x
        px, py = float(pt.params[x]), float(pt.params[y])
        if kind not in kinds or known(kind, px, py):
            return
        name = f"{kind}#{counter['n']}"
        counter["n"] += 1
        try:
            if kind in _EQ:
                br = continue_codim2(model, pt, other, param=along, bounds=rng, max_steps=max_curve_steps)
            else:
                from bifurcate.cycles.codim2 import continue_cycle_codim2

                br = continue_cycle_codim2(model, pt, other, param=along, bounds=rng, max_steps=max_curve_steps)
        except Exception as exc:  # noqa: BLE001 - one curve never stops the rest
            notes.append(f"{kind} at ({x}={px:.6g}, {y}={py:.6g}): {type(exc).__name__}: {exc}")
            return
        if getattr(br, "status", 0) not in (0, -3) and len(br) < 2:
            notes.append(f"{kind} at ({x}={px:.6g}, {y}={py:.6g}): {br.message}")
        add(kind, br, name)

    hopf_done = []
    # a determinant test function that is exactly zero on a symmetric branch divides by zero in
    # numpy's det; that is the branch point being detected, not an error
    with np.errstate(divide="ignore", invalid="ignore"):
        _scan(model, x, y, rng, base_d, int(n_scan), kinds, cycles, max_cycle_points, start_curve, hopf_done, notes)
    cols = ["curve", "kind", "segment", x, y, "order"]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=cols)
    return Boundaries(table=table[cols], x=x, y=y, branches=branches, status=1 if notes else 0,
                      message="success" if not notes else "; ".join(notes))


def _scan(model, x, y, rng, base_d, n_scan, kinds, cycles, max_cycle_points, start_curve, hopf_done, notes):
    from bifurcate.continuation import continue_equilibria
    from bifurcate.cycles import continue_cycles
    from bifurcate.equilibria import find_equilibria

    for along, other in ((x, y), (y, x)):
        lo, hi = rng[along]
        for v in np.linspace(rng[other][0], rng[other][1], int(n_scan)):
            for end, ds in ((lo, 1.0), (hi, -1.0)):
                pdict = {**base_d, other: float(v), along: float(end)}
                try:
                    eqs = find_equilibria(model, pdict)
                except Exception as exc:  # noqa: BLE001
                    notes.append(f"equilibria at {pdict}: {type(exc).__name__}: {exc}")
                    continue
                for ystate in eqs.states:
                    try:
                        br = continue_equilibria(model, ystate, param=along, params=pdict, p_min=lo, p_max=hi,
                                                 ds=0.01 * (hi - lo) * ds)
                    except Exception as exc:  # noqa: BLE001
                        notes.append(f"equilibrium branch along {along} at {pdict}: {type(exc).__name__}: {exc}")
                        continue
                    for pt in br.points:
                        if pt.kind not in _EQ or not pt.located:
                            continue
                        if pt.kind == "HB" and pt.data.get("criticality") == "degenerate":
                            continue
                        start_curve(pt, along, pt.kind)
                        if pt.kind != "HB" or not cycles or not any(k in kinds for k in _CYC):
                            continue
                        here = (along, float(pt.params[x]), float(pt.params[y]))
                        if any(h[0] == here[0] and abs(h[1] - here[1]) < 1e-6 and abs(h[2] - here[2]) < 1e-6
                               for h in hopf_done):
                            continue
                        hopf_done.append(here)
                        try:
                            cb = continue_cycles(model, pt, param=along, p_min=lo, p_max=hi,
                                                 max_points=max_cycle_points)
                        except Exception as exc:  # noqa: BLE001
                            notes.append(f"cycles from HB {along}={pt.param:.6g}: {type(exc).__name__}: {exc}")
                            continue
                        for cp in cb.points:
                            if cp.kind in _CYC and cp.located:
                                start_curve(cp, along, cp.kind)


def _stable_side(branch, pt) -> bool:
    """False only when the cycles on both sides of ``pt`` are known to be unstable (trusted
    multipliers, at least one outside the unit circle): such a point changes no attractor."""
    nu = np.asarray(getattr(branch, "n_unstable", []), dtype=int)
    ok = np.asarray(getattr(branch, "floquet_ok", np.ones(nu.size, bool)), dtype=bool)
    if nu.size == 0:
        return True
    i0 = int(min(max(pt.index, 0), nu.size - 1))
    i1 = int(min(i0 + 1, nu.size - 1))
    sides = [(nu[i], ok[i] if i < ok.size else True) for i in (i0, i1)]
    return not all(trusted and n >= 1 for n, trusted in sides)


def cycle_boundaries(model: Model, grid: Mapping[str, Sequence[float]], scan: Mapping[str, Sequence[float]],
                     base: Mapping[str, float] | None = None, *, kinds: Sequence[str] = _CYC, ntst: int = 20,
                     max_cycle_points: int = 40, max_curve_steps: int = 400, attracting_only: bool = True,
                     stable_only: bool = True, curve_options: Mapping | None = None,
                     probe_tol: float = 2e-2, max_curves: int | None = None) -> Boundaries:
    """The LPC, PD and NS curves of the cycles born at the Hopf points met along a few scan lines.

    Along each scan line (one parameter of the plane fixed at a value of ``scan``, the other running
    over the grid's range from its low end) every equilibrium found at the line's low end (stable
    ones only, with ``stable_only``) is continued (:func:`bifurcate.continuation.continue_equilibria`);
    the cycles born at each located Hopf point are continued
    (:func:`bifurcate.cycles.continue_cycles`, ``ntst`` mesh intervals); each located LPC, PD or NS
    point of those cycles is continued in the plane
    (:func:`bifurcate.cycles.codim2.continue_cycle_codim2`) unless it lies on a curve of its kind
    found before (a curve is continued once, from its first start). A fold that is not a generic
    codimension-one point (status -6: a family of cycles with a time-reversal symmetry) is kept as
    a marker at its one-parameter location instead of a curve.

    Parameters
    ----------
    model : Model
    grid : dict of two parameter names -> values
        Only the range of each axis is used (the rectangle), x first.
    scan : dict of one of the two names -> values
        The fixed values of the scan lines, e.g. ``{"J": [0.3, 1.0, 1.5]}`` (lines along the other).
    base : dict, optional
        The other parameters.
    kinds : sequence of str
        Subset of ``("LPC", "PD", "NS")``.
    ntst : int
        Mesh intervals of the cycle branches (the curves inherit the mesh of their start).
    max_cycle_points, max_curve_steps : int
        Points per cycle branch; steps per curve and direction.
    attracting_only : bool
        Skip special points with unstable cycles on both sides (trusted multipliers): they change no
        attractor.
    stable_only : bool
        Continue only the equilibria stable at the low end of each scan line.
    curve_options : dict, optional
        Overrides of the curves' :class:`~bifurcate.continuation.options.ContinuationOptions` (e.g.
        ``{"ds_max": 0.1}``).
    probe_tol : float
        ``generic_tol`` of the one-step probe of a point with unstable cycles on both sides: a fold
        of a symmetric family has several multipliers at +1, but on a coarse mesh they sit about
        1e-2 off (LMG dimer, ntst = 10: 0.990 and 0.989 at J = 0.3), beyond the curves' own 1e-3.
    max_curves : int, optional
        Continue at most this many curves (in the order met: scan lines in the order given, points
        in branch order); later points are listed in ``runs`` as skipped. Markers are not counted.

    Returns
    -------
    Boundaries
        ``table`` the curves, ``markers`` the non-generic folds, ``runs`` one row per cycle branch
        and per curve attempted (the call, its status and wall time); ``status`` 1 when a run raised
        or ended with a negative status other than -3 (a bound) or -6 (kept as a marker).
    """
    import time

    from bifurcate.continuation import continue_equilibria
    from bifurcate.cycles import continue_cycles
    from bifurcate.cycles.codim2 import continue_cycle_codim2
    from bifurcate.equilibria import find_equilibria

    if not isinstance(model, Model):
        raise TypeError(f"model must be a bifurcate Model, got {type(model).__name__}")
    if not isinstance(grid, Mapping) or len(grid) != 2:
        raise ValueError(f"grid must map exactly two parameter names to values, got {grid!r}")
    bad = [k for k in kinds if k not in _CYC]
    if bad:
        raise ValueError(f"kinds must be among {_CYC}, got {bad}")
    if not isinstance(scan, Mapping) or len(scan) != 1 or next(iter(scan)) not in grid:
        raise ValueError(f"scan must map one of the grid's parameters {list(grid)} to values, got {scan!r}")
    if not isinstance(ntst, (int, np.integer)) or isinstance(ntst, bool) or ntst < 4:
        raise ValueError(f"ntst must be an int >= 4, got {ntst!r}")
    x, xs, y, ys, rng, scale = _grid_span(model, grid)
    other = next(iter(scan))
    along = y if other == x else x
    values = np.atleast_1d(np.asarray(scan[other], dtype=float))
    if not np.all(np.isfinite(values)):
        raise ValueError(f"scan[{other!r}] must be finite numbers, got {scan[other]!r}")
    base_d = {k: float(v) for k, v in model.params(base).items() if k not in (x, y)}
    copts = dict(curve_options or {})
    tables, branches, markers, runs, notes = [], [], [], [], []
    hopf_done: list[tuple[float, float]] = []
    lo, hi = rng[along]

    def known(kind, px, py):
        if not tables:
            return ""
        t = pd.concat(tables, ignore_index=True)
        t = t[t["kind"] == kind]
        for name, c in t.groupby("curve", sort=False):
            if _on_curves(c, kind, x, y, (px, py), scale):
                return str(name)
        return ""

    def record(what, status, message, n, t0):
        runs.append({"what": what, "status": int(status), "message": str(message), "n_points": int(n),
                     "wall_s": round(time.perf_counter() - t0, 3)})

    for v in values:
        pdict = {**base_d, other: float(v), along: lo}
        t0 = time.perf_counter()
        try:
            eqs = find_equilibria(model, pdict)
        except Exception as exc:  # noqa: BLE001 - one scan line never stops the rest
            notes.append(f"equilibria at {pdict}: {type(exc).__name__}: {exc}")
            record(f"find_equilibria(model, {pdict})", -99, f"{type(exc).__name__}: {exc}", 0, t0)
            continue
        states = eqs.stable_states() if stable_only else eqs.states
        for ystate in states:
            try:
                with np.errstate(divide="ignore", invalid="ignore"):
                    br = continue_equilibria(model, ystate, param=along, params=pdict, p_min=lo, p_max=hi,
                                             ds=0.01 * (hi - lo))
            except Exception as exc:  # noqa: BLE001
                notes.append(f"equilibrium branch along {along} at {pdict}: {type(exc).__name__}: {exc}")
                continue
            for hb in br.points:
                if hb.kind != "HB" or not hb.located or hb.data.get("criticality") == "degenerate":
                    continue
                here = (float(hb.params[x]), float(hb.params[y]))
                if any(abs(h[0] - here[0]) < 1e-6 and abs(h[1] - here[1]) < 1e-6 for h in hopf_done):
                    continue  # a mirror image's Hopf point: the same cycles in the plane
                hopf_done.append(here)
                what = (f"continue_cycles(model, <HB at {x}={here[0]:.6g}, {y}={here[1]:.10g}>, param={along!r}, "
                        f"p_min={lo:g}, p_max={hi:g}, ntst={int(ntst)}, max_points={int(max_cycle_points)})")
                t0 = time.perf_counter()
                try:
                    cb = continue_cycles(model, hb, param=along, p_min=lo, p_max=hi, ntst=int(ntst),
                                         max_points=int(max_cycle_points))
                except Exception as exc:  # noqa: BLE001
                    notes.append(f"{what}: {type(exc).__name__}: {exc}")
                    record(what, -99, f"{type(exc).__name__}: {exc}", 0, t0)
                    continue
                record(what, cb.status, cb.message, len(cb), t0)
                for cp in cb.points:
                    if cp.kind not in kinds or not cp.located:
                        continue
                    px, py = float(cp.params[x]), float(cp.params[y])
                    start = f"<{cp.kind} at {x}={px:.6g}, {y}={py:.10g}>"
                    if attracting_only and not _stable_side(cb, cp):
                        # unstable cycles on both sides change no attractor, unless the point is a
                        # non-generic fold (a symmetric family, whose multipliers at +1 are counted
                        # unstable): one step of the curve tells (status -6 returns at once)
                        t0 = time.perf_counter()
                        try:
                            probe = continue_cycle_codim2(model, cp, other, param=along, bounds=rng, max_steps=1,
                                                          bidirectional=False, generic_tol=probe_tol, **copts)
                            st = int(probe.status)
                        except Exception:  # noqa: BLE001 - a failed probe: the point is skipped as planned
                            st, probe = 0, None
                        if st == -6:
                            record(f"continue_cycle_codim2(model, {start}, {other!r}, param={along!r}, max_steps=1, "
                                   f"bidirectional=False, generic_tol={probe_tol:g})", st, probe.message, len(probe),
                                   t0)
                            markers.append({"curve": f"{cp.kind} (non-generic) {x}={px:.3g}", "kind": cp.kind,
                                            x: px, y: py, "note": "one-parameter point; " + probe.message[:160]})
                        else:
                            record(f"skipped {start}: unstable cycles on both sides", 0, "not continued", 0, t0)
                        continue
                    on = known(cp.kind, px, py)
                    if on:
                        record(f"skipped {start}: on the curve {on}", 0, "not continued", 0, time.perf_counter())
                        continue
                    if max_curves is not None and len(tables) >= int(max_curves):
                        record(f"skipped {start}: max_curves = {int(max_curves)} reached", 0, "not continued", 0,
                               time.perf_counter())
                        continue
                    name = f"{cp.kind}#{len(tables)}"
                    what = (f"continue_cycle_codim2(model, {start}, {other!r}, param={along!r}, bounds={rng}, "
                            f"max_steps={int(max_curve_steps)}" + "".join(f", {k}={v!r}" for k, v in copts.items())
                            + ")")
                    t0 = time.perf_counter()
                    try:
                        cur = continue_cycle_codim2(model, cp, other, param=along, bounds=rng,
                                                    max_steps=int(max_curve_steps), **copts)
                    except Exception as exc:  # noqa: BLE001
                        notes.append(f"{what}: {type(exc).__name__}: {exc}")
                        record(what, -99, f"{type(exc).__name__}: {exc}", 0, t0)
                        continue
                    record(what, cur.status, cur.message, len(cur), t0)
                    if cur.status == -6:
                        markers.append({"curve": f"{cp.kind} (non-generic) {x}={px:.3g}", "kind": cp.kind,
                                        x: px, y: py, "note": "one-parameter point; " + cur.message[:160]})
                        continue
                    if cur.status not in (0, -3) and len(cur) < 2:
                        notes.append(f"{what}: status {cur.status}: {cur.message}")
                        continue
                    df = cur.to_frame()
                    tables.append(pd.DataFrame({"curve": name, "kind": cp.kind, "segment": cp.kind,
                                                x: df[x].to_numpy(float), y: df[y].to_numpy(float),
                                                "order": np.arange(len(df))}))
                    branches.append((name, cur))
    cols = ["curve", "kind", "segment", x, y, "order"]
    table = pd.concat(tables, ignore_index=True)[cols] if tables else pd.DataFrame(columns=cols)
    mk = pd.DataFrame(markers, columns=["curve", "kind", x, y, "note"])
    return Boundaries(table=table, x=x, y=y, branches=branches, status=1 if notes else 0,
                      message="success" if not notes else "; ".join(notes), markers=mk,
                      runs=pd.DataFrame(runs, columns=["what", "status", "message", "n_points", "wall_s"]))


def phase_transitions(pdg, boundaries: Boundaries | Sequence[pd.DataFrame] | None = None, *,
                      columns: Sequence[str] = ("phase",), tol: float = 1.0) -> pd.DataFrame:
    """Every pair of grid neighbours whose ``columns`` differ, classified local or global.

    Parameters
    ----------
    pdg : PhaseDiagram
        A two-parameter phase diagram (refined or not).
    boundaries : Boundaries or list of curve tables, optional
        The continued curves (:func:`continued_boundaries`, :func:`cycle_boundaries`, or tables with
        the two parameter columns, ``label`` and ``curve``; a one-row table is a point). A
        Boundaries' ``markers`` count as curves of one point. None: no curve, every transition is
        global.
    columns : sequence of str
        What a transition is a change of (default the census phase).
    tol : float
        A transition is local when a curve (neutral-saddle rows excluded) passes within ``tol`` grid
        steps (the local step along each axis, max norm) of the segment between the two points.

    Returns
    -------
    DataFrame
        One row per transition: ``axis`` (the parameter the two points differ in), ``x0, y0, x1,
        y1`` (named by the parameters: ``<x>_0`` ...), ``before`` and ``after`` (the values of
        ``columns`` joined by ``|``), ``computed`` (both points computed, not filled by refinement),
        ``level`` (the larger refinement level of the two), ``classification`` (local / global),
        ``curve`` and ``curve_kind`` (the nearest curve), ``distance`` (to it, in grid steps).
    """
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if len(pdg.grid) != 2:
        raise ValueError(f"phase_transitions needs a 2-D phase diagram, got axes {list(pdg.grid)}")
    t = pdg.table
    for c in columns:
        if c not in t:
            raise KeyError(f"columns: unknown column {c!r}; expected columns of the phase diagram")
    (xn, xa), (yn, ya) = [(k, np.asarray(v, float)) for k, v in pdg.grid.items()]
    shape = (len(xa), len(ya))
    key = np.empty(shape, dtype=object)
    comp = np.ones(shape, dtype=bool)
    lev = np.zeros(shape, dtype=np.int64)
    ok = np.ones(shape, dtype=bool)
    ix, iy = t[f"i_{xn}"].to_numpy(int), t[f"i_{yn}"].to_numpy(int)
    key[ix, iy] = ["|".join(str(v) for v in r) for r in t[list(columns)].itertuples(index=False)]
    if "computed" in t:
        comp[ix, iy] = t["computed"].to_numpy(bool)
    if "level" in t:
        lev[ix, iy] = t["level"].to_numpy(np.int64)
    ok[ix, iy] = t["status"].to_numpy(int) >= 0
    # curves in grid-step units: the local step of each axis (a non-uniform grid maps piecewise linearly)
    if isinstance(boundaries, Boundaries):
        curves = boundaries.curves() + boundaries.marker_tables()
    else:
        curves = list(boundaries or [])

    def to_steps(v, a):
        return np.interp(v, a, np.arange(len(a)), left=np.nan, right=np.nan) if len(a) > 1 else np.zeros_like(v)

    def clipped(v, a):
        # outside the grid: extrapolate with the end step (a curve just outside still counts)
        if len(a) < 2:
            return np.zeros_like(v)
        s = to_steps(v, a)
        lo, hi = v < a[0], v > a[-1]
        s = np.where(lo, (v - a[0]) / (a[1] - a[0]), s)
        return np.where(hi, len(a) - 1 + (v - a[-1]) / (a[-1] - a[-2]), s)

    polys = []
    for c in curves:
        if xn not in c or yn not in c or len(c) < 1:
            continue
        P = np.column_stack([clipped(c[xn].to_numpy(float), xa), clipped(c[yn].to_numpy(float), ya)])
        polys.append((str(c["label"].iloc[0]) if "label" in c else "",
                      str(c["curve"].iloc[0]) if "curve" in c else f"curve {len(polys)}", P))
    rows, A, B = [], [], []
    for axis, (di, dj) in ((xn, (1, 0)), (yn, (0, 1))):
        for i in range(shape[0] - di):
            for j in range(shape[1] - dj):
                a, b = (i, j), (i + di, j + dj)
                if not (ok[a] and ok[b]) or key[a] == key[b]:
                    continue
                rows.append({"axis": axis, f"{xn}_0": xa[a[0]], f"{yn}_0": ya[a[1]], f"{xn}_1": xa[b[0]],
                             f"{yn}_1": ya[b[1]], "before": key[a], "after": key[b],
                             "computed": bool(comp[a] and comp[b]), "level": int(max(lev[a], lev[b]))})
                A.append(a)
                B.append(b)
    cols = ["axis", f"{xn}_0", f"{yn}_0", f"{xn}_1", f"{yn}_1", "before", "after", "computed", "level",
            "classification", "curve", "curve_kind", "distance"]
    if not rows:
        return pd.DataFrame(columns=cols)
    A, B = np.array(A, float), np.array(B, float)
    best = np.full(len(rows), np.inf)
    which = [("", "")] * len(rows)
    for lab, name, P in polys:
        d = _polyline_distance(P, A, B)
        for r in np.flatnonzero(d < best):
            best[r] = d[r]
            which[r] = (name, lab)
    out = pd.DataFrame(rows)
    out["classification"] = np.where(best <= tol, "local", "global")
    out["curve"] = [w[0] for w in which]
    out["curve_kind"] = [w[1] for w in which]
    out["distance"] = best
    return out[cols]
