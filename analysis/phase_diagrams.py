"""Phase diagrams over a parameter plane (Fig. 2 of the paper): chunked, resumable, local or Dask.

:func:`phase_diagram` lays a grid over two parameters (``J`` and ``lam`` for the LMG dimer),
draws every initial condition up front from per-point seeds, cuts the points into chunks and runs
:func:`evaluate_chunk` on each through an execution backend (:mod:`analysis.execution`), writing
each finished chunk to a result store (:mod:`analysis.store`) as it arrives. One row per grid
point: the parameters and :meth:`analysis.attractors.census.CensusResult.summary_row` of the census
at that point (``n_stable_fp``, ``phase``, shares per kind, the basin-weighted averages ``ZB`` and the
attractor averages ``att_ZB`` ..., ``status`` and ``message``): the sweep machinery here holds no
science of its own.

Reproducibility: point ``k`` of the grid (C order over the grid axes) draws its initial conditions
from ``SeedSequence(seed).spawn``'s ``k``-th child (built directly as
``SeedSequence(entropy, spawn_key=(k,))``), before any parallel map, so a point's row does not
depend on chunking, the backend or the number of workers. With ``refine`` a coarse sub-grid is
computed first (``level`` 0) and each cell whose corners disagree (phase, counts: ``refine_on``) is
subdivided, level by level, down to the grid's own step; the other points copy a corner
(``computed`` False). Every computed point is the same as in the full sweep, and the points go to
the same resumable store. :meth:`PhaseDiagram.transitions` then lists the phase changes between
neighbours, each local (on a continued BP, LP, Hopf, LPC, PD or NS curve, see
:mod:`analysis.phase_boundaries`) or global.

References
----------
Kothe & Kirton, Fig. 2; Eqs. (12) and (13) for the boundaries (see :mod:`analysis.plots_phase`).
"""
from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from analysis.attractors.classify import KINDS
from analysis.attractors.options import CensusOptions
from analysis.execution import default_chunk_size, get_executor, run_points
from analysis.store import ResultStore, SweepStore
from bifurcate.validation import check_array, check_count, check_memory
from bifurcate.integrate import IntegrationOptions
from bifurcate.model import Model

__all__ = ["PhaseDiagram", "PhaseDiagramOptions", "Chunk", "phase_diagram", "evaluate_chunk", "point_seeds",
           "Pivot", "STATUS", "SWEEP_CENSUS", "REFINE_ON"]

log = logging.getLogger(__name__)


#: row status codes of a phase diagram (0 and 1 are the census's own status)
STATUS = {
    0: "success",
    1: "partial: undecided or failed trajectories, or a stable equilibrium no trajectory reached (see message)",
    -1: "evaluation raised (see message)",
    -2: "chunk lost by the execution backend (not stored; rerun to retry)",
}

TIME_COLUMNS = ("time_equilibria", "time_integrate", "time_certify", "time_lyapunov", "time_grouping")

#: result columns whose change between the corners of a cell makes adaptive refinement subdivide it
REFINE_ON = ("n_stable_fp", "phase", "n_attractors")


# --------------------------------------------------------------------------------------------
# options and inputs
# --------------------------------------------------------------------------------------------
#: the census settings of sweeps: none of their own. A sweep runs the census with the census's
#: defaults (:class:`analysis.attractors.options.CensusOptions`), so that a sweep row is the census of
#: that point; kept as an (empty) mapping so that ``dict(SWEEP_CENSUS, ...)`` keeps working.
SWEEP_CENSUS: dict = {}


@dataclass(frozen=True)
class PhaseDiagramOptions:
    """What is computed at each point (frozen; part of the store key).

    The science is the census's: every field but ``n_initial`` and ``census`` only overrides a field
    of :class:`analysis.attractors.options.CensusOptions` (None: the census default).

    Attributes
    ----------
    n_initial : int
        Initial conditions per point, uniform on the phase space.
    t_end : float or None
        Transient stage length (``CensusOptions.t_transient``).
    t_transient : float or None
        Start of the transient stage's averaging window (accepted for compatibility; the census
        averages over the second half of the transient stage).
    integration : IntegrationOptions or None
        Method and tolerances of the transient stage.
    fp_shortcut : bool
        Accepted for compatibility: settlement on equilibria is always part of the census.
    fp_std_tol, fp_match_tol : float or None
        At-rest test of the settlement (``CensusOptions``).
    census : bool
        Measure the trajectories that do not settle on an equilibrium (variational integration,
        convergence control, grouping). False: stable equilibria and their basins only (the others
        are unclassified).
    census_options : CensusOptions or mapping
        The census options (mapping: fields or the older fixed-window keywords, see
        :meth:`CensusOptions.with_overrides`).
    census_method : {"batch", "point"}
        ``batch`` (default): one :func:`analysis.attractors.census.census_points` call per chunk;
        ``point``: one call per point. Same rows (one implementation); ``batch`` is faster.
    pre_tol : float or None
        Tolerance of the work sharing between trajectories with equal transient windows
        (``CensusOptions.share_tol``).
    """

    n_initial: int = 16
    t_end: float | None = None
    t_transient: float | None = None
    integration: IntegrationOptions | None = None
    fp_shortcut: bool = True
    fp_std_tol: float | None = None
    fp_match_tol: float | None = None
    census: bool = True
    census_options: Any = field(default_factory=dict)
    census_method: str = "batch"
    pre_tol: float | None = None

    def __post_init__(self):
        if not isinstance(self.n_initial, (int, np.integer)) or self.n_initial < 1:
            raise ValueError(f"n_initial must be a positive int, got {self.n_initial!r}")
        if self.t_end is not None and not (np.isfinite(self.t_end) and self.t_end > 0):
            raise ValueError(f"t_end must be finite and > 0, got {self.t_end!r}")
        t_end = self.t_end if self.t_end is not None else CensusOptions().t_transient
        if self.t_transient is not None and not (0 <= self.t_transient < t_end):
            raise ValueError(f"t_transient must lie in [0, t_end), got {self.t_transient!r}")
        if self.integration is not None and not isinstance(self.integration, IntegrationOptions):
            raise TypeError(f"integration must be an IntegrationOptions, got {type(self.integration).__name__}")
        for name in ("fp_std_tol", "fp_match_tol", "pre_tol"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
        if self.census_method not in ("batch", "point"):
            raise ValueError(f"census_method must be 'batch' or 'point', got {self.census_method!r}")
        if not isinstance(self.census_options, (CensusOptions, Mapping)):
            raise TypeError(f"census_options must be a CensusOptions or a mapping, got {type(self.census_options).__name__}")
        if isinstance(self.census_options, Mapping):
            object.__setattr__(self, "census_options", dict(self.census_options))
        self.census_settings()  # validate now, not in a worker

    @property
    def window_start(self) -> float:
        t_end = self.census_settings().t_transient
        return 0.5 * t_end if self.t_transient is None else float(self.t_transient)

    def census_settings(self) -> CensusOptions:
        """The :class:`CensusOptions` every point of the sweep runs with."""
        co = CensusOptions.coerce(self.census_options)
        over = {}
        if self.t_end is not None:
            over["t_transient"] = float(self.t_end)
        if self.integration is not None:
            over["integration"] = self.integration
        if self.fp_std_tol is not None:
            over["fp_std_tol"] = float(self.fp_std_tol)
        if self.fp_match_tol is not None:
            over["fp_match_tol"] = float(self.fp_match_tol)
        if self.pre_tol is not None:
            over["share_tol"] = float(self.pre_tol)
        return replace(co, **over) if over else co


def point_seeds(entropy: int, points: Sequence[int]) -> list[np.random.SeedSequence]:
    """Per-point seeds: child ``k`` of ``SeedSequence(entropy).spawn`` for each grid index ``k``."""
    return [np.random.SeedSequence(entropy, spawn_key=(int(k),)) for k in points]


@dataclass(frozen=True, eq=False)
class Chunk:
    """The payload of one task: a few grid points and their initial conditions.

    Attributes
    ----------
    table : DataFrame (k rows)
        ``point``, the grid indices ``i_<axis>`` and every model parameter.
    y0 : ndarray (k, n_initial, n)
    """

    table: pd.DataFrame
    y0: np.ndarray

    def __len__(self) -> int:
        return len(self.table)


# --------------------------------------------------------------------------------------------
# the per-chunk worker: the census of the chunk's points, one summary row each
# --------------------------------------------------------------------------------------------
def _find_equilibria():
    # looked up at call time so that tests can substitute a failing one
    from bifurcate.equilibria import find_equilibria

    return find_equilibria


def _kcol(kind: str) -> str:
    return "unclassified" if kind == "-1" else kind


def evaluate_chunk(model: Model, chunk: Chunk, options: PhaseDiagramOptions) -> pd.DataFrame:
    """One row per point of ``chunk``: :meth:`CensusResult.summary_row` of the census of that point.

    The equilibria of each point are found first (a point whose equilibria raise becomes a row
    with ``status = -1``); the census of the others runs as one
    :func:`analysis.attractors.census.census_points` call over the chunk (``census_method="batch"``)
    or one call per point (``"point"``): the same rows either way. If the batched call raises,
    the points are retried one by one so that one bad point never costs the chunk.

    Returns
    -------
    DataFrame (len(chunk) rows)
        The chunk's ``table`` columns, the summary columns and ``time_<stage>`` columns.
    """
    from analysis.attractors.census import census_points

    tab = chunk.table.reset_index(drop=True)
    k = len(tab)
    pnames = list(model.param_names)
    copts = options.census_settings()
    rows: list[dict] = [dict() for _ in range(k)]
    status = np.zeros(k, dtype=np.int64)
    messages = [""] * k
    times = [dict.fromkeys(TIME_COLUMNS, 0.0) for _ in range(k)]
    pts = [{p: float(tab.at[i, p]) for p in pnames} for i in range(k)]
    find_eq = _find_equilibria()
    eqsets: list[Any] = [None] * k
    for i in range(k):
        t0 = time.perf_counter()
        try:
            eqsets[i] = find_eq(model, params=pts[i])
        except Exception as exc:  # noqa: BLE001 - one bad point never stops a sweep
            status[i], messages[i] = -1, f"find_equilibria: {type(exc).__name__}: {exc}"
        times[i]["time_equilibria"] = time.perf_counter() - t0
    good = [i for i in range(k) if status[i] == 0]

    def run(idx):
        res = census_points(model, tab.iloc[idx][pnames].reset_index(drop=True), chunk.y0[idx], options=copts,
                            equilibria=[eqsets[i] for i in idx], measure=options.census)
        for i, r in zip(idx, res):
            row = r.summary_row()
            for p in pnames:
                row.pop(p, None)
            rows[i] = row
            status[i] = int(row.pop("status"))
            messages[i] = str(row.pop("message"))
            for st, v in r.timings.items():
                times[i][f"time_{st}"] += v

    groups = [good] if options.census_method == "batch" else [[i] for i in good]
    for g in groups:
        if not g:
            continue
        try:
            run(g)
        except Exception:  # noqa: BLE001 - isolate the failing point(s)
            for i in g:
                try:
                    run([i])
                except Exception as exc:  # noqa: BLE001
                    status[i], messages[i] = -1, f"census: {type(exc).__name__}: {exc}"
    out = tab.copy()
    res_df = pd.DataFrame(rows, index=out.index)
    out = pd.concat([out, res_df], axis=1)
    out["n_stable_fp"] = [int(e.n_stable) if e is not None else -1 for e in eqsets]
    out["status"] = status
    out["message"] = [m or STATUS[int(s)] for m, s in zip(messages, status)]
    for c in TIME_COLUMNS:
        out[c] = [t[c] for t in times]
    return _conform(model, out)


def _observable_names(model: Model) -> list[str]:
    from analysis.attractors.census import _derived_names

    return list(model.state_names) + [nm for nm, _, _ in _derived_names(model)]


def _result_columns(model: Model) -> list[str]:
    obs = _observable_names(model)
    return (["n_stable_fp", "n_attractors", "n_fp_attractors", "phase", "kinds", "basin_fractions"]
            + [f"frac_{_kcol(k)}" for k in KINDS]
            + ["frac_attracting", "frac_conservative", "frac_neutral", "frac_saddle", "frac_undecided", "frac_not_trusted"]
            + [c for s in obs for c in (s, f"{s}_err")] + [c for s in obs for c in (f"att_{s}", f"att_{s}_err")]
            + ["lyap_max", "t_integrated_mean", "t_integrated_max", "fragile", "fragile_reason", "status", "message"]
            + list(TIME_COLUMNS))


_DTYPES = {"n_stable_fp": "int64", "n_attractors": "int64", "n_fp_attractors": "int64", "status": "int64",
           "phase": "str", "kinds": "str", "basin_fractions": "str", "message": "str", "fragile": "boolean",
           "fragile_reason": "str"}


def _conform(model: Model, df: pd.DataFrame) -> pd.DataFrame:
    """Fixed columns and dtypes, whatever failed (so parquet parts concatenate cleanly)."""
    for c in _result_columns(model):
        if c not in df:
            t = _DTYPES.get(c)
            # a flag nobody computed is unknown (NA), never False
            df[c] = -1 if t == "int64" else ("" if t == "str" else (pd.NA if t == "boolean" else np.nan))
    for c in _result_columns(model):
        t = _DTYPES.get(c, "float64")
        if t == "boolean":
            df[c] = df[c].astype("boolean")
        elif t == "int64":
            df[c] = pd.to_numeric(df[c]).fillna(-1).astype(np.int64)
        elif t == "str":
            df[c] = df[c].fillna("").astype(str)
        else:
            df[c] = df[c].astype(np.float64)
    lead = [c for c in df.columns if c not in _result_columns(model)]
    return df[lead + _result_columns(model)]


def _lost_rows(model: Model, chunk: Chunk, exc: BaseException) -> pd.DataFrame:
    out = chunk.table.reset_index(drop=True).copy()
    out["status"] = -2
    out["message"] = f"{STATUS[-2]}: {type(exc).__name__}: {exc}"
    return _conform(model, out)


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
class Pivot(NamedTuple):
    """A column on the grid: ``values[i_y, i_x]`` with ``x`` the first and ``y`` the second axis."""

    values: np.ndarray
    x: np.ndarray
    y: np.ndarray
    x_name: str
    y_name: str


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    """A computed phase diagram.

    Attributes
    ----------
    table : DataFrame
        One row per grid point (C order over the grid axes): ``point``, grid indices ``i_<axis>``,
        every model parameter, ``computed`` (False where adaptive refinement filled the point from a
        neighbour), results and timings.
    grid : dict of str -> ndarray
    model : Model
    options : PhaseDiagramOptions
    seed : int
        The entropy every per-point seed derives from (drawn and recorded if None was given).
    key : str or None
        Store key (None without a store).
    path : str or None
        Store directory.
    n_computed, n_cached : int
        Points evaluated by this call and points read from the store.
    computed_points : frozenset of int
    backend : dict
    wall_time : float
    status : int
        0 if every point succeeded, 1 if some failed (see :meth:`failures`).
    message : str
    """

    table: pd.DataFrame
    grid: dict
    model: Model = field(repr=False)
    options: PhaseDiagramOptions = field(repr=False)
    seed: int = 0
    key: str | None = None
    path: str | None = None
    n_computed: int = 0
    n_cached: int = 0
    computed_points: frozenset = field(default_factory=frozenset, repr=False)
    backend: dict = field(default_factory=dict)
    wall_time: float = 0.0
    status: int = 0
    message: str = "success"

    @property
    def success(self) -> bool:
        return self.status == 0

    def to_frame(self, timings: bool = False) -> pd.DataFrame:
        """The table (one row per grid point); wall-time columns only with ``timings=True``."""
        df = self.table
        return df.copy() if timings else df.drop(columns=[c for c in TIME_COLUMNS if c in df]).copy()

    def pivot(self, column: str = "n_stable_fp") -> Pivot:
        """``column`` as a 2-D array over the two grid axes (``values[i_y, i_x]``)."""
        if len(self.grid) != 2:
            raise ValueError(f"pivot needs a 2-D grid, got axes {list(self.grid)}")
        if column not in self.table:
            raise KeyError(f"unknown column {column!r}; expected one of {list(self.table.columns)}")
        (xn, x), (yn, y) = self.grid.items()
        vals = self.table[column].to_numpy()
        arr = np.empty((len(y), len(x)), dtype=vals.dtype if vals.dtype != object else object)
        if arr.dtype.kind == "f":
            arr[:] = np.nan
        arr[self.table[f"i_{yn}"].to_numpy(), self.table[f"i_{xn}"].to_numpy()] = vals
        return Pivot(arr, np.asarray(x), np.asarray(y), xn, yn)

    def transitions(self, boundaries=None, *, columns: Sequence[str] = ("phase",), tol: float = 1.0) -> pd.DataFrame:
        """Phase changes between grid neighbours, each local (a continued curve of ``boundaries``
        within ``tol`` grid steps) or global: :func:`analysis.phase_boundaries.phase_transitions`."""
        from analysis.phase_boundaries import phase_transitions

        return phase_transitions(self, boundaries, columns=columns, tol=tol)

    def failures(self) -> pd.DataFrame:
        """Rows whose status is not 0."""
        return self.to_frame().loc[lambda d: d["status"] != 0]

    def failure_summary(self) -> str:
        f = self.failures()
        if f.empty:
            return f"{len(self.table)} points, no failures"
        lines = [f"{len(f)} of {len(self.table)} points did not fully succeed:"]
        for (s, m), g in f.groupby(["status", "message"]):
            lines.append(f"  status {s} x{len(g)}: {m}")
        return "\n".join(lines[:20])

    def timings(self) -> dict:
        """Summed per-stage wall time (seconds, over all workers) of the stored points."""
        return {c.removeprefix("time_"): float(self.table[c].sum()) for c in TIME_COLUMNS if c in self.table}


# --------------------------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------------------------
def _check_grid(model: Model, grid: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty dict of parameter name -> values, got {grid!r}")
    model._check_names(grid)
    out = {}
    for k, v in grid.items():
        model.param_index(k)  # not pinned
        # numbers only (a string such as "0:1:3" is refused with the axis named), 1-D, finite, increasing
        out[k] = check_array(f"grid[{k!r}]", v, ndim=1, sorted_=True, strictly=True)
    return out


def _grid_table(model: Model, grid: dict[str, np.ndarray], base: Mapping[str, float] | None) -> pd.DataFrame:
    shape = tuple(a.size for a in grid.values())
    idx = np.indices(shape).reshape(len(shape), -1)
    base_d = model.params(base)
    cols: dict[str, Any] = {"point": np.arange(idx.shape[1], dtype=np.int64)}
    for d, k in enumerate(grid):
        cols[f"i_{k}"] = idx[d].astype(np.int64)
    for p in model.param_names:
        cols[p] = grid[p][idx[list(grid).index(p)]] if p in grid else np.full(idx.shape[1], base_d[p])
    return pd.DataFrame(cols)


def _draw_y0(model: Model, entropy: int, points: np.ndarray, n_initial: int) -> np.ndarray:
    y0 = np.empty((len(points), n_initial, model.n))
    for j, ss in enumerate(point_seeds(entropy, points)):
        y0[j] = model.random_states(n_initial, np.random.default_rng(ss))
    return y0


def _refine_schedule(shape: tuple[int, ...], levels: int):
    """Axis index sets per level: coarse (stride 2^levels) first, then each halving."""
    def axis(n, s):
        return np.unique(np.r_[np.arange(0, n, s), n - 1])
    return [[axis(n, 2 ** lev) for n in shape] for lev in range(levels, -1, -1)]


def phase_diagram(model: Model, grid: Mapping[str, Sequence[float]], *, n_initial: int | None = None,
                  seed: int | None = None, base: Mapping[str, float] | None = None,
                  options: PhaseDiagramOptions | None = None, store=None, scheduler=None,
                  n_workers: int | None = None, chunk_size: int | None = None, refine: int = 0,
                  refine_on: Sequence[str] = REFINE_ON, progress: bool = True,
                  evaluate: Callable = evaluate_chunk, chunk_seconds: float | None = None,
                  **option_overrides) -> PhaseDiagram:
    """Number of stable fixed points and kinds of dynamics over a parameter grid.

    Parameters
    ----------
    model : Model
    grid : dict name -> 1-D increasing array
        Usually ``{"J": ..., "lam": ...}``; the first axis is x and the second y in plots.
    n_initial : int, optional
        Initial conditions per point (overrides ``options.n_initial``).
    seed : int, optional
        Entropy of all per-point seeds. None draws one and records it (``result.seed``); a sweep
        with ``seed=None`` is reproducible only through that recorded value.
    base : dict, optional
        Values of the parameters not on the grid (default: the model's defaults, gamma = 0.5 g).
    options : PhaseDiagramOptions, optional
        What is computed per point; keyword arguments override fields (``t_end=200``).
    store : path or ResultStore, optional
        Directory for the resumable parquet store; a repeated call returns the stored result,
        an interrupted one resumes, computing only the points not yet stored.
    scheduler : None, "local", "processes", Dask address, distributed.Client or Executor
        Where chunks run (see :func:`analysis.execution.get_executor`).
    n_workers : int, optional
        Local worker processes (default 1: in-process, numba on all cores).
    chunk_size : int, optional
        Points per task (does not change results); default adaptive: chunks of about
        ``chunk_seconds`` each, at most :func:`analysis.execution.default_chunk_size` points.
    chunk_seconds : float, optional
        Target wall time of a chunk when ``chunk_size`` is not given (default 5 s): an interrupt
        loses at most about this much work. With a store, points are claimed chunk by chunk, so
        several processes can share one sweep (see :mod:`analysis.store`).
    refine : int
        Adaptive refinement levels: compute a sub-grid of stride ``2**refine`` first (level 0) and
        then, level by level (1 ... ``refine``, each halving the stride), only the points whose
        enclosing cell of the previous level has corners that differ in any of ``refine_on``; the
        others copy the nearest corner (``computed = False``). The finest level is the grid itself,
        so a boundary is resolved to one grid step wherever it crosses a coarse cell's corners. The
        table's ``level`` column says at which level a point entered (0 coarse). Every computed
        point is the same as in the full sweep (same per-point seed), and the points are stored
        in the same resumable store as they arrive: a repeated call computes nothing.
    refine_on : sequence of str
        Result columns whose change marks a cell for subdivision; default :data:`REFINE_ON` (the
        number of stable fixed points, the census phase and the number of attracting sets, so that
        a change of the attractors, not only of their kinds, is refined).
    progress : bool
        tqdm bar on stderr (points done, rate, failures) and a failure summary at the end.
    evaluate : callable
        Per-chunk worker ``evaluate(model, chunk, options) -> DataFrame`` (picklable for processes).

    Returns
    -------
    PhaseDiagram

    Examples
    --------
    >>> from bifurcate.models import LMG_DIMER
    >>> pd_ = phase_diagram(LMG_DIMER, {"J": np.linspace(-2, 2, 41), "lam": np.linspace(0, 1.5, 31)},
    ...                     n_initial=8, seed=1, store="results/phase")   # doctest: +SKIP
    >>> P = pd_.pivot("n_stable_fp")                                       # doctest: +SKIP
    """
    t_wall = time.perf_counter()
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bifurcate Model, got {type(model).__name__}")
    axes = _check_grid(model, grid)
    opts = options or PhaseDiagramOptions()
    if not isinstance(opts, PhaseDiagramOptions):
        raise TypeError(f"options must be a PhaseDiagramOptions, got {type(opts).__name__}")
    if n_initial is not None:
        option_overrides["n_initial"] = check_count("n_initial", n_initial, maximum=10 ** 6)
    if option_overrides:
        integ = {k: option_overrides.pop(k) for k in list(option_overrides) if k in IntegrationOptions.__dataclass_fields__}
        bad = [k for k in option_overrides if k not in PhaseDiagramOptions.__dataclass_fields__]
        if bad:
            raise TypeError(f"unknown option(s) {bad}; expected fields of PhaseDiagramOptions or IntegrationOptions")
        if integ:
            option_overrides["integration"] = replace(opts.integration or opts.census_settings().integration, **integ)
        opts = replace(opts, **option_overrides)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        seed = int(seed)
    else:
        raise TypeError(f"seed must be a non-negative int or None, got {seed!r}")
    if not isinstance(refine, (int, np.integer)) or refine < 0:
        raise ValueError(f"refine must be an int >= 0, got {refine!r}")
    for c in refine_on:
        if c not in _result_columns(model):
            raise ValueError(f"refine_on columns must be result columns, got {c!r}")

    if not callable(evaluate):
        raise TypeError(f"evaluate must be a callable evaluate(model, chunk, options) -> DataFrame, got {evaluate!r}")
    n_points = math.prod(a.size for a in axes.values())          # Python int: no overflow
    check_memory(f"phase_diagram grid ({' x '.join(str(a.size) for a in axes.values())} = {n_points} points)",
                 n_points * 8 * (3 * len(axes) + len(model.param_names) + 48), fix="fewer grid points")
    clash = sorted(set(base) & set(axes)) if isinstance(base, Mapping) else []
    if clash:
        raise ValueError(f"base sets {clash}, which are grid axes (their grid values would silently replace "
                         f"{ {k: base[k] for k in clash} }); give each parameter either in grid or in base")
    table = _grid_table(model, axes, base)
    shape = tuple(a.size for a in axes.values())
    base_params = {k: float(table.at[0, k]) for k in model.param_names if k not in axes}
    inputs = {"model": {"name": model.name, "module": model.module, "attr": model.attr, "fixed": dict(model.fixed)},
              "grid": {k: [repr(float(v)) for v in a] for k, a in axes.items()}, "base": base_params,
              "seed": seed, "options": asdict(opts), "evaluate": f"{evaluate.__module__}.{evaluate.__qualname__}",
              # the census every point runs, defaults resolved: a changed CensusOptions default (or a partial
              # mapping in census_options) must not reuse a store computed under the old one
              "census_settings": asdict(opts.census_settings())}
    rstore = ResultStore.coerce(store)
    sweep: SweepStore | None = rstore.sweep(inputs) if rstore is not None else None
    if sweep is not None and sweep.is_complete:
        done_df = sweep.load()
        return _finish(model, axes, opts, seed, table, done_df, {}, sweep, frozenset(), len(done_df), {"backend": "store"},
                       t_wall, progress, levels=np.zeros(len(table), dtype=np.int64))
    if sweep is not None:
        sweep.init(inputs, seeds={"entropy": seed, "per_point": "SeedSequence(entropy, spawn_key=(point,))"},
                   model_params={**base_params, **{k: [float(a.min()), float(a.max()), a.size] for k, a in axes.items()}},
                   options=opts, grid_shape=shape)

    stored: dict[int, pd.DataFrame] = {}
    cached_points: set[int] = set()
    if sweep is not None:
        prev = sweep.load()
        if len(prev):
            prev = prev[prev["point"].isin(table["point"])]
            cached_points = set(prev["point"].tolist())
            stored[-1] = prev
    results: dict[int, pd.DataFrame] = {}   # point -> row frame, for refinement decisions
    lost: list[pd.DataFrame] = []
    computed: set[int] = set()
    executor = get_executor(scheduler, n_workers)
    own_executor = executor is not scheduler

    # which points to compute, level by level
    if refine:
        schedule = _refine_schedule(shape, int(refine))
    else:
        schedule = [[np.arange(n) for n in shape]]
    levels = _point_levels(shape, schedule)
    flat = np.ravel_multi_index
    bar = _progress(progress, len(table), len(cached_points))
    try:
        known = pd.concat(list(stored.values()), ignore_index=True) if stored else pd.DataFrame(columns=["point"])
        rowmap = {int(p): r for p, r in zip(known["point"], known.to_dict("records"))} if len(known) else {}
        fill_from: dict[int, int] = {}
        prev_level = None
        for lev, idx_sets in enumerate(schedule):
            mesh = np.meshgrid(*idx_sets, indexing="ij")
            pts = flat(tuple(m.ravel() for m in mesh), shape)
            if prev_level is not None and refine:
                need, fill = _refine_select(shape, idx_sets, prev_level, rowmap, refine_on, pts)
                fill_from.update(fill)
                pts = need
            todo = np.array(sorted(int(p) for p in pts if int(p) not in rowmap), dtype=np.int64)
            if todo.size:
                # all randomness drawn here, before the map
                y0 = _draw_y0(model, seed, todo, opts.n_initial)
                sub = table.set_index("point").loc[todo].reset_index()

                def make_chunk(pts, sub=sub, y0=y0, todo=todo):
                    pos = np.searchsorted(todo, pts)
                    return Chunk(sub.iloc[pos].reset_index(drop=True), y0[pos])

                cap = default_chunk_size(len(todo), executor.n_workers, opts.n_initial)
                for pts_c, res, err, here in run_points(executor, evaluate, model, todo, make_chunk, opts, store=sweep,
                                                        chunk_size=chunk_size, max_chunk_size=cap,
                                                        chunk_seconds=chunk_seconds):
                    if err is not None:
                        df = _lost_rows(model, make_chunk(pts_c), err)
                        lost.append(df)
                    else:
                        df = res
                        (computed if here else cached_points).update(int(p) for p in df["point"])
                    for r in df.to_dict("records"):
                        rowmap[int(r["point"])] = r
                    if bar is not None:
                        bar.update(len(df))
                        # status < 0: the point failed; > 0: partial (undecided trajectories, see STATUS)
                        nfail = sum(1 for r in rowmap.values() if r["status"] < 0)
                        npart = sum(1 for r in rowmap.values() if r["status"] > 0)
                        bar.set_postfix(failed=nfail, partial=npart, refresh=False)
            prev_level = idx_sets
    finally:
        if bar is not None:
            bar.close()
        if own_executor:
            executor.close()

    all_rows = pd.DataFrame(list(rowmap.values())) if rowmap else pd.DataFrame(columns=table.columns)
    good = all_rows[all_rows["status"] != -2] if len(all_rows) else all_rows
    if sweep is not None and not lost and not refine and len(good) == len(table):
        sweep.consolidate(_conform(model, good.sort_values("point").reset_index(drop=True)),
                          backend=executor.describe() if not own_executor else {"backend": type(executor).__name__})
    return _finish(model, axes, opts, seed, table, all_rows, fill_from, sweep, frozenset(computed),
                   len(cached_points), executor.describe() if hasattr(executor, "describe") else {}, t_wall, progress,
                   levels=levels)


def _point_levels(shape: tuple[int, ...], schedule) -> np.ndarray:
    """Per flat grid point, the first level of ``schedule`` whose sub-grid holds it (0: coarse)."""
    lev = np.full(int(np.prod(shape)), len(schedule) - 1, dtype=np.int64)
    for k in range(len(schedule) - 1, -1, -1):
        mesh = np.meshgrid(*schedule[k], indexing="ij")
        lev[np.ravel_multi_index(tuple(m.ravel() for m in mesh), shape)] = k
    return lev


def _refine_select(shape, idx_sets, prev_sets, rowmap, refine_on, pts):
    """Split this level's new points into those to compute and those filled from a corner."""
    need, fill = [], {}
    for p in pts:
        p = int(p)
        if p in rowmap:
            continue
        ij = np.unravel_index(p, shape)
        corners_axes = []
        for d, i in enumerate(ij):
            c = prev_sets[d]
            lo = c[np.searchsorted(c, i, side="right") - 1]
            hi = c[min(np.searchsorted(c, i, side="left"), len(c) - 1)]
            corners_axes.append(sorted({int(lo), int(hi)}))
        corners = [int(np.ravel_multi_index(t, shape)) for t in np.array(np.meshgrid(*corners_axes, indexing="ij")).reshape(len(shape), -1).T]
        vals = []
        for c in corners:
            r = rowmap.get(c)
            # a partial census (status 1: an undecided trajectory, say) still has its phase; a
            # corner that failed (< 0) cannot vouch for its cell
            if r is None or r["status"] < 0:
                vals = None
                break
            vals.append(tuple(r[k] for k in refine_on))
        if vals and len(set(vals)) == 1:
            # nearest corner (they all agree on refine_on)
            near = min(corners, key=lambda c: sum((a - b) ** 2 for a, b in zip(np.unravel_index(c, shape), ij)))
            fill[p] = near
        else:
            need.append(p)
    # filled points join rowmap lazily (in _finish) but must count as known for the next level
    for p, c in fill.items():
        r = dict(rowmap[c])
        r["point"] = p
        r["_fill"] = c
        rowmap[p] = r
    return np.array(need, dtype=np.int64), fill


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="pt", desc="phase diagram", file=sys.stderr, smoothing=0.05,
                dynamic_ncols=True)


def _finish(model, axes, opts, seed, table, rows, fill_from, sweep, computed, n_cached, backend, t_wall, progress,
            levels=None):
    rows = rows.copy() if len(rows) else rows
    grid_cols = [c for c in table.columns]
    if len(rows):
        rows["computed"] = ~rows["point"].isin(list(fill_from)) if fill_from else True
        rows = rows.drop(columns=[c for c in ["_fill"] if c in rows])
        # grid columns from the grid itself (filled rows carry their own parameters)
        rows = table.merge(rows.drop(columns=[c for c in grid_cols if c != "point"]), on="point", how="left")
    missing = rows["status"].isna() if len(rows) else pd.Series(True, index=table.index)
    if len(rows) and missing.any():  # pragma: no cover - only if a level was skipped by an exception
        rows.loc[missing, "status"] = -2
        rows.loc[missing, "message"] = "not computed"
    rows = _conform(model, rows if len(rows) else table.assign(status=-2, message="not computed"))
    cols = list(rows.columns)
    if "computed" in cols:
        cols.remove("computed")
        cols.insert(len(table.columns), "computed")
        rows = rows[cols]
    lev = np.zeros(len(table), dtype=np.int64) if levels is None else np.asarray(levels, dtype=np.int64)
    rows.insert(list(rows.columns).index("computed") + 1 if "computed" in rows else len(table.columns), "level",
                lev[rows["point"].to_numpy(np.int64)])
    n_bad = int((rows["status"] != 0).sum())
    pdg = PhaseDiagram(table=rows.sort_values("point").reset_index(drop=True), grid=dict(axes), model=model,
                       options=opts, seed=int(seed), key=sweep.key if sweep else None,
                       path=str(sweep.path) if sweep else None, n_computed=len(computed), n_cached=int(n_cached),
                       computed_points=frozenset(computed), backend=backend, wall_time=time.perf_counter() - t_wall,
                       status=0 if n_bad == 0 else 1,
                       message="success" if n_bad == 0 else f"{n_bad} point(s) did not fully succeed")
    if n_bad:
        log.warning(pdg.failure_summary())
        if progress:
            print(pdg.failure_summary(), file=sys.stderr)
    return pdg
