"""The cycle continuation driver: starts (Hopf point, simulated orbit, doubled cycle), the
collocation problem that the pseudo-arclength core continues (:class:`CycleProblem`: residual,
Jacobian, phase condition, remeshing, Floquet multipliers, test functions, stop rules),
degenerate-case guards, and the :class:`CycleBranch` result.

The loop itself (predictor, corrector, step control, localisation of special points in
arclength) is :func:`bifurcate.continuation.pseudo_arclength.continue_curve`, shared with
equilibria and two-parameter curves.

Status codes of a cycle branch
------------------------------
==  =========================================================================================
 0  finished: ``max_steps`` reached, the parameter left [p_min, p_max], or the cycle shrank
    to an equilibrium
-1  Newton failed at the smallest step (``ds_min``); a numerical exception (overflow, singular
    system) in the corrector counts as a failed step, never escapes
-2  vertical family: the parameter stays fixed while the cycle changes (a degenerate, e.g.
    reversible or conservative, family of cycles); stopped, no labels are emitted on it
-3  approaching a homoclinic orbit: evidence from the cycles themselves (the period grows
    logarithmically in the parameter at the rate of a saddle's eigenvalues while the orbit
    closes in on that saddle; see :mod:`bifurcate.cycles.limits`); the message names the saddle
    and the extrapolated limit ``p_hom`` (also in ``stats["homoclinic"]``). Also: the period beyond
    ``max_period`` or ``max_period_growth`` times the first period
-4  the start could not be converged
-5  the branch ended regularly but the Floquet multipliers lost accuracy on some rows (the
    trivial one off by more than ``floquet_tol``): the branch goes on (the orbits are still
    converged), those rows have ``floquet_ok`` False (:attr:`CycleBranch.floquet_ok`) and carry no
    labels, and the message says from which row (``stats["floquet_lost"]``)
==  =========================================================================================
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

import scipy.sparse as sp
import scipy.sparse.linalg as spla

from bifurcate.continuation.pseudo_arclength import (NUMERICAL_ERRORS, TestFunction, continue_curve, correct,
                                                     tangent_at)
from bifurcate.cycles.collocation import Collocation, CycleOptions
from bifurcate.cycles.detection import TEST_KINDS, classify_crossing, locate_bpc, test_functions
from bifurcate.cycles.floquet import Floquet, cycle_floquet, floquet_multipliers, transfer_blocks
from bifurcate.cycles.limits import homoclinic_evidence, saddle_of_cycle
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["CycleBranch", "CycleStart", "CycleProblem", "CollocationJacobian", "run_continuation", "core_options",
           "bordered_lu", "STATUS_MESSAGES"]

STATUS_MESSAGES = {
    0: "success",
    -1: "Newton failed at the smallest step",
    -2: "vertical family of cycles (degenerate)",
    -3: "period grows without bound (homoclinic limit)",
    -4: "the start could not be converged",
    -5: "Floquet multipliers lost accuracy",
}


@dataclass(frozen=True, eq=False)
class CycleBranch(Branch):
    """A cycle branch: a :class:`~bifurcate.results.Branch` of kind ``"cycle"`` plus the orbits.

    Attributes (beyond Branch)
    --------------------------
    orbits : tuple of (times (N,), nodes (N, n))
        The collocation node values of each cycle over one period, times in [0, 1) (multiply by
        the ``period`` column for physical time).
    ncol : int
        Degree of the piecewise polynomials (for exact evaluation with :meth:`orbit`).
    meshes : tuple of ndarray
        Mesh (ntst + 1,) of each cycle.
    """

    orbits: tuple = ()
    meshes: tuple = ()
    ncol: int = 4

    @property
    def floquet_ok(self) -> np.ndarray:
        """(m,) bool: the row's multipliers are trusted (the trivial one within ``floquet_tol`` of
        1, checked on every point); rows without are not labelled (folds excepted)."""
        tol = getattr(self.options, "floquet_tol", 1e-4)
        ok = np.asarray(self.columns["mu_trivial_err"]) <= tol
        if "floquet_status" in self.columns:  # -2: a radial multiplier on a sphere outside the unit circle
            ok &= np.asarray(self.columns["floquet_status"]) == 0
        return ok

    def orbit(self, i: int, n_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """Cycle ``i`` sampled at ``n_points`` equally spaced times: (t (n_points,), y (n_points, n)),
        t in physical time over one period (closed: the last sample repeats the first)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"cycle index must be in [-{len(self)}, {len(self)}), got {i}")
        coll = Collocation(self.model, self.model.pack_params(self.params), 0, self.meshes[i], self.ncol,
                           use_numba=False)
        s = np.linspace(0.0, 1.0, n_points)
        y = coll.sample(self.orbits[i][1], s)
        return s * self.columns["period"][i], y


@dataclass
class CycleStart:
    """Everything the driver needs to begin: the system, a solution (or a Hopf point with the
    initial direction), and where it came from."""

    coll: Collocation
    X: np.ndarray
    tau: np.ndarray
    origin: str
    from_equilibrium: bool = False  # X is the equilibrium, tau the eigenfunction: step first
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# one converged point
# ------------------------------------------------------------------------------------------
@dataclass
class _Point:
    coll: Collocation
    X: np.ndarray
    tau: np.ndarray
    floq: Floquet | None
    tests: dict
    newton_iters: int
    arrival: "_Point | None" = None  # the cycle as the step reached it, if it was remeshed since

    @property
    def param(self) -> float:
        return float(self.X[-1])

    @property
    def period(self) -> float:
        return float(self.X[-2])


def _floquet(coll: Collocation, X: np.ndarray, B: np.ndarray) -> Floquet:
    U, T, _ = coll.split(X)
    Phi = transfer_blocks(B)
    starts = U[np.arange(coll.ntst) * coll.m]
    geom = coll.model.geometry
    bases = np.stack([geom.tangent_basis(x) for x in starts])
    f0 = np.empty(coll.n)
    coll.model.rhs(np.ascontiguousarray(U[0]), coll.params_of(X), f0)
    return floquet_multipliers(Phi, bases, f0)


def _safe_floquet(coll: Collocation, X: np.ndarray, B: np.ndarray, opts) -> Floquet | None:
    """The multipliers at ``X``, or None (not wanted, or a numerical exception: no stability, no
    detection across the point)."""
    if not opts.floquet:
        return None
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return cycle_floquet(coll, X, B, tol=opts.floquet_tol)
    except NUMERICAL_ERRORS:
        return None


def _make_point(coll, X, tau, B, n_iter, opts) -> _Point:
    floq = _safe_floquet(coll, X, B, opts)
    mult = floq.multipliers if floq is not None else np.zeros(0)
    return _Point(coll, X, tau, floq, test_functions(tau[-1], mult), n_iter)


def _trusted(floq: Floquet | None, opts) -> bool:
    # status 0: the trivial multiplier within floquet_tol of 1 and, on spheres, the radial ones checked
    return floq is not None and floq.status == 0 and abs(floq.trivial - 1.0) <= opts.floquet_tol


#: a test function of untrusted multipliers counts if each of its factors is this many times the
#: trivial multiplier's error away from zero (:func:`_sign_certain_test`)
SIGN_MARGIN = 10.0


def _sign_certain_test(floq: Floquet | None, kind: str) -> float:
    """The BPC, PD or NS test function of multipliers that are not trusted (the trivial one off 1
    by err > ``floquet_tol``) when its sign is nevertheless certain: every factor (mu - 1, mu + 1 or
    mu_i mu_j - 1) is more than ``SIGN_MARGIN * err`` from zero; NaN otherwise (no crossing is seen
    there). Near a fold of cycles the trivial multiplier and the one passing +1 form a near
    Jordan block and the trivial one is off by about the square root of the discretisation error
    (1e-3 on AUTO demo tor at period 29) at any mesh, while the sign of the other factors is not in
    doubt: without this, a branch point of cycles next to the fold was never seen."""
    if floq is None or floq.status == -2 or not np.all(np.isfinite(floq.multipliers)):
        return math.nan
    err = abs(floq.trivial - 1.0)
    if not err < 1e-2:
        return math.nan
    mu = np.asarray(floq.multipliers, dtype=complex)
    if kind == "BPC":
        factors = np.abs(mu - 1.0)
    elif kind == "PD":
        factors = np.abs(mu + 1.0)
    else:
        i, j = np.triu_indices(mu.size, 1)
        factors = np.abs(mu[i] * mu[j] - 1.0)
    if factors.size and not np.min(factors) > SIGN_MARGIN * err:
        return math.nan
    return test_functions(0.0, mu)[kind]


def _amplitude(U: np.ndarray) -> float:
    return float(np.max(np.ptp(U, axis=0)) / 2.0)


def bordered_lu(J, border: np.ndarray):
    """Sparse LU of the bordered collocation matrix ``[[J], [border]]`` (J the (N n + 1) x (N n + 2)
    collocation-and-phase Jacobian, sparse or a :class:`CollocationJacobian`). The seam for a
    condensed solver of the collocation blocks: anything with a ``solve(rhs)`` method will do."""
    J = getattr(J, "matrix", J)
    return spla.splu(_with_dense_row(sp.csc_matrix(J), np.asarray(border, dtype=float)))


class CollocationJacobian:
    """G_x of a :class:`CycleProblem` at one point, assembled as a sparse CSC matrix only when it is
    used as a matrix (``matrix``, ``toarray()``, ``@``, any scipy.sparse attribute): the condensed
    solver (the default) works on the collocation blocks and never needs it; assembling it at every
    Newton iteration cost about an eighth of a cycle branch."""

    __slots__ = ("shape", "_build", "_m")

    def __init__(self, shape, build):
        self.shape = tuple(shape)
        self._build = build
        self._m = None

    @property
    def matrix(self) -> sp.csc_matrix:
        if self._m is None:
            self._m = self._build()
        return self._m

    def toarray(self) -> np.ndarray:
        return self.matrix.toarray()

    def __matmul__(self, other):
        return self.matrix @ other

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.matrix, name)


_ROW_PATTERNS: dict = {}


def _with_dense_row(J: sp.csc_matrix, row: np.ndarray) -> sp.csc_matrix:
    """``[[J], [row]]`` in CSC, built by inserting the new row's entry at the end of each column
    (``scipy.sparse.vstack`` goes through COO and costs about as much as the factorisation). The
    index arrays depend only on J's pattern, which the collocation system reuses: they are kept
    for the last pattern seen."""
    n_r, n_c = J.shape
    pat = _ROW_PATTERNS.get((n_r, n_c, J.nnz))
    if pat is None or not (np.array_equal(pat[0], J.indptr) and np.array_equal(pat[1], J.indices)):
        ptr = J.indptr + np.arange(n_c + 1)
        last = ptr[1:] - 1
        keep = np.ones(J.nnz + n_c, dtype=bool)
        keep[last] = False
        ind = np.empty(J.nnz + n_c, dtype=J.indices.dtype)
        ind[keep] = J.indices
        ind[last] = n_r
        _ROW_PATTERNS.clear()
        pat = (J.indptr.copy(), J.indices.copy(), np.flatnonzero(keep), last, ind, ptr)
        _ROW_PATTERNS[(n_r, n_c, J.nnz)] = pat
    _, _, keep_idx, last, ind, ptr = pat
    dat = np.empty(ind.size)
    dat[keep_idx] = J.data
    dat[last] = row
    return sp.csc_matrix((dat, ind.copy(), ptr.copy()), shape=(n_r + 1, n_c))


# ------------------------------------------------------------------------------------------
# the collocation problem behind the continuation core
# ------------------------------------------------------------------------------------------
class CycleProblem:
    """A cycle branch as a problem of the pseudo-arclength core
    (:func:`bifurcate.continuation.pseudo_arclength.continue_curve`).

    Unknowns ``X = (U.ravel(), T, p)`` of the current :class:`Collocation`; G(X) is the collocation
    equations and the integral phase condition against the last accepted orbit. The core owns the
    loop (predictor, corrector, step control, localisation in arclength); this class owns what is
    about cycles:

    * ``residual`` / ``jacobian`` (sparse) from one evaluation of the collocation blocks per X,
      ``weights`` (the quadrature weights: L2 in time), ``bordered_solve`` (:func:`bordered_lu`);
    * the test functions LPC (the parameter component of the tangent), BPC, PD, NS (products of
      the Floquet multipliers, :mod:`bifurcate.cycles.detection`), NaN where the multipliers are
      not trusted (then only folds are detected);
    * ``finalize``: the multipliers of the accepted cycle (the mesh doubled, up to ``ntst_max``,
      while the trivial multiplier drifts beyond ``floquet_tol``), mesh adaptation every
      ``adapt_every`` points, the new phase reference, and the stop rules of a cycle branch (the
      cycle shrinking to its Hopf point or parent cycle, a vertical family, the homoclinic
      evidence of :mod:`bifurcate.cycles.limits`, a period beyond ``max_period``);
    * ``stop``: the decision taken in ``finalize``;
    * ``weights``: the period weighted by ``period_weight`` (0 as in AUTO-07p), ``max_step`` (the
      period's change per step limited near a saddle: :meth:`period_step`), ``reject_events`` (a
      BPC hidden in the step of a fold) and ``converged`` (stagnation at the linear solve's noise
      floor accepted on long cycles): the step control as a cycle branch needs it.
    """

    def __init__(self, model: Model, param: str, params: Mapping[str, float], coll: Collocation, opts: CycleOptions,
                 doubled: bool = False):
        self.model, self.param, self.params, self.opts = model, param, dict(params), opts
        self.coll = coll
        self.doubled = doubled
        self._w = None         # (collocation, weights) of the arclength norm
        self._last_update = None  # (x, max|dx|) of the last Newton update seen by ``converged``
        self._parity = None    # (point, rejections) of :meth:`reject_events`
        self._solve_memo = None  # (J, border, rhs, solution) of the last condensed bordered solve
        self.phase_c = None
        self._ev = None        # (key, F, J, B) of the last evaluation
        self._lu = None        # (J, border, factorisation) of the last bordered solve
        self._fq: dict = {}    # key -> (floquet, refined _Point or None) since the last accepted point
        self._candidate = None  # key of the first cycle whose multipliers are asked for after a step
        self.rows: list[_Point] = []
        self.decision = None
        self.drop_last = False
        self.end_param = None
        self.vertical_trim = None
        self.evidence = None
        self.lost = None
        self.counts = {"remeshes": 0, "refinements": 0}
        self._n_vertical = 0
        self._since_remesh = 0
        self._prox: list = []

    # -- the core's interface ------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """The collocation's quadrature weights (L2 in time) with the period weighted by
        ``period_weight`` (0 by default, as AUTO-07p: see :class:`CycleOptions`)."""
        w = self._w
        if w is None or w[0] is not self.coll:
            W = self.coll.W.copy()
            W[-2] = self.opts.period_weight
            w = self._w = (self.coll, W)
        return w[1]

    def set_reference(self, X: np.ndarray) -> None:
        """The phase condition's reference orbit (and a fresh evaluation cache)."""
        self.phase_c = self.coll.phase_row(self.coll.split(X)[0])
        self._ev = self._lu = None
        self._fq = {}
        self._candidate = None

    def _evaluate(self, x):
        key = x.tobytes()
        if self._ev is not None and self._ev[0] == key:
            return self._ev[1:4]
        if not x[-2] > 0:
            raise FloatingPointError(f"non-positive period T = {x[-2]:g}")
        R, B, BT, BP = self.coll.evaluate(x)
        coll, phase_c = self.coll, self.phase_c
        F = np.concatenate([R.ravel(), [phase_c @ x[: coll.N * coll.n]]])
        J = CollocationJacobian((coll.N * coll.n + 1, coll.nx),
                                lambda: coll.system_from_blocks(x, phase_c, R, B, BT, BP)[1])
        self._ev = (key, F, J, B, BT, BP)
        return F, J, B

    def residual(self, x):
        return self._evaluate(x)[0]

    def jacobian(self, x):
        return self._evaluate(x)[1]

    def converged(self, x, dx, tol) -> bool:
        """The collocation Newton test: max|dx| < tol and collocation residual < 10 tol max(1, T),
        tol at least the branch's ``newton_tol`` (the core asks 1e-2 of it when it localises; the
        update of a collocation Newton step does not get below about cond * eps, which can exceed
        that).

        Also converged: an update that stagnates at the noise floor of the linear solve. On long,
        nearly homoclinic cycles the collocation system's condition number grows like
        exp(lambda T): the residual reaches rounding (below 1e-3 tol max(1, T)) while max|dx|
        stays at cond * eps (1e-8 at period 70, 3e-7 at period 80 on AUTO's demo tor) and no longer
        contracts (at least half the previous update of the same Newton run, and below 1e4 tol). Newton cannot
        improve such a point; refusing it made the localisation of the long-period folds fail."""
        tol = max(tol, self.opts.newton_tol)
        d = float(np.max(np.abs(dx)))
        prev, self._last_update = self._last_update, (x.copy(), d)
        scale = max(1.0, float(x[-2]))
        if d < tol:
            F = self._evaluate(x)[0]
            return bool(np.max(np.abs(F[:-1])) < 10 * tol * scale)
        if not d < 1e4 * tol or prev is None or prev[0].shape != x.shape or not d > 0.5 * prev[1]:
            return False
        if not np.array_equal(prev[0], x - dx):  # not the previous update of the same Newton run
            return False
        F = self._evaluate(x)[0]
        return bool(np.max(np.abs(F[:-1])) < 1e-3 * tol * scale)

    def bordered_solve(self, J, border, rhs):
        ev = self._ev
        if self.coll.solver == "condensed" and ev is not None and ev[2] is J and self.phase_c is not None:
            # condensation of the collocation blocks behind J (as AUTO-07p): no sparse LU, no fill
            rhs = np.asarray(rhs, dtype=float)
            border = np.asarray(border, dtype=float)
            memo = self._solve_memo
            # the same system solved twice (the tangent of an accepted point, then the fold test
            # at that point with the same reference tangent): one condensation
            if memo is not None and memo[0] is J and np.array_equal(memo[1], border) and np.array_equal(memo[2], rhs):
                return memo[3].copy()
            Nn = self.coll.N * self.coll.n
            rows = np.zeros((2, self.coll.nx))
            rows[0, :Nn] = self.phase_c
            rows[1] = border
            z = self.coll.solve_bordered(ev[3], ev[4], ev[5], rows, rhs[:Nn], rhs[Nn:Nn + 2])
            self._solve_memo = (J, border.copy(), rhs.copy(), z.copy())
            return z
        lu = self._lu
        if lu is None or lu[0] is not J or not np.array_equal(lu[1], border):
            lu = (J, np.array(border), bordered_lu(getattr(J, "matrix", J), border))
            self._lu = lu
        return lu[2].solve(np.asarray(rhs, dtype=float))

    # -- test functions --------------------------------------------------------------------------
    def tests(self) -> list:
        if not self.opts.detect:
            return []
        out = [TestFunction("LPC", self._lpc, n_unstable_jump=1)]
        for kind in TEST_KINDS[1:]:
            out.append(TestFunction(kind, (lambda x, t, kind=kind: self._floquet_test(x, kind)), n_unstable_jump=2))
        return out

    def _lpc(self, x, t):
        return float(tangent_at(self, x, t)[-1])

    def _floquet_test(self, x, kind):
        floq = self.multipliers(x)[0]
        if _trusted(floq, self.opts):
            return test_functions(0.0, floq.multipliers)[kind]
        return _sign_certain_test(floq, kind)

    def multipliers(self, x):
        """(Floquet or None, refined _Point or None) of the cycle ``x`` in the current mesh; for
        the first cycle asked about after a step (the accepted one) with drifting multipliers, the
        cycle re-converged on doubled meshes (up to ``ntst_max``), as the branch will store it."""
        key = x.tobytes()
        hit = self._fq.get(key)
        if hit is not None:
            return hit
        if self._candidate is None:
            self._candidate = key
        B = self._evaluate(x)[2]
        floq = _safe_floquet(self.coll, x, B, self.opts)
        refined = None
        opts = self.opts
        ntst_max = opts.ntst_max if opts.ntst_max is not None else 4 * opts.ntst
        if key == self._candidate and floq is not None and abs(floq.trivial - 1.0) > opts.floquet_tol:
            pt = _Point(self.coll, np.array(x), self._tangent_guess(x), floq, {}, 0)
            while (pt.floq is not None and abs(pt.floq.trivial - 1.0) > opts.floquet_tol
                   and 2 * pt.coll.ntst <= ntst_max):
                finer = _refined(pt, 2 * pt.coll.ntst, opts)
                if finer is None:
                    break
                pt = finer
                self.counts["refinements"] += 1
            if pt.coll is not self.coll:
                refined = pt
                floq = pt.floq
        self._fq[key] = (floq, refined)
        return floq, refined

    def _tangent_guess(self, x):
        t = self.rows[-1].tau if self.rows and self.rows[-1].tau.shape == x.shape else None
        if t is None:
            t = np.zeros(x.size)
            t[-1] = 1.0
        return tangent_at(self, x, t)

    # -- per accepted point ------------------------------------------------------------------------
    def size(self, pt: _Point) -> float:
        """Amplitude of the cycle (for a doubled cycle: its distance from the double cover of a
        cycle of half the period)."""
        U = pt.coll.split(pt.X)[0]
        if not self.doubled:
            return _amplitude(U)
        t = pt.coll.times()
        return float(np.max(np.abs(U - pt.coll.sample(U, t + 0.5))) / 2.0)

    def start(self, X, tau, n_iter: int) -> None:
        """Record the first point (converged, with its tangent) and make it the phase reference."""
        self.set_reference(X)
        self._candidate = b""  # the start is stored as converged: no mesh refinement
        floq = self.multipliers(X)[0]
        pt = _Point(self.coll, np.array(X), np.array(tau), floq,
                    test_functions(tau[-1], floq.multipliers if floq is not None else np.zeros(0)), n_iter)
        self.rows.append(pt)
        self.T_first = self.T_min = pt.period
        self.amp_first = self.amp_max = self.size(pt)
        self._candidate = None

    def finalize(self, x, t, events):
        opts = self.opts
        floq, refined = self.multipliers(x) if opts.floquet else (None, None)
        if refined is not None:
            new = refined
        else:
            new = _Point(self.coll, np.array(x), np.array(t), floq, {}, 0)
        new.tests = test_functions(new.tau[-1], new.floq.multipliers if new.floq is not None else np.zeros(0))
        cur = self.rows[-1]
        self.rows.append(new)
        changed = new.coll is not self.coll
        self.coll = new.coll
        self.decision = self._decide(cur, new, events)
        if self.decision is None and opts.adapt_every:
            self._since_remesh += 1
            if self._since_remesh >= opts.adapt_every:
                self._since_remesh = 0
                rem = self._remeshed(new)
                if rem is not None:
                    rem.arrival = new
                    self.rows[-1] = new = rem
                    self.coll = new.coll
                    changed = True
                    self.counts["remeshes"] += 1
        self.set_reference(new.X)
        return (new.X, new.tau) if changed else None

    def stop(self, xs, ts):
        return self.decision

    def reject_events(self, x, x_new, v, v_new) -> bool:
        """Reject a step in which the fold test (LPC) changes sign but the BPC test does not.

        A fold moves one multiplier through +1, so the BPC test changes sign at every LPC; if it
        did not, it crossed zero twice: a branch point of cycles lies in the same step as the fold
        (on a Z2-symmetric cycle near a homoclinic orbit the symmetric fold and the
        symmetry-breaking BPC come within 1e-6 of each other: AUTO demo tor). The halved step
        separates them. At most :data:`PARITY_RETRIES` rejections from one point (a degenerate fold
        with two multipliers at +1 keeps the parity even at any step)."""
        if not self.opts.detect or len(v) < 2:
            return False
        lpc = v[0] * v_new[0] < 0
        bpc_same = np.isfinite(v[1]) and np.isfinite(v_new[1]) and v[1] * v_new[1] > 0
        if not (lpc and bpc_same):
            return False
        key = x.tobytes()
        n = self._parity[1] + 1 if self._parity is not None and self._parity[0] == key else 1
        self._parity = (key, n)
        if n > PARITY_RETRIES:
            return False
        self.counts["parity_rejections"] = self.counts.get("parity_rejections", 0) + 1
        return True

    def max_step(self, x, t) -> float | None:
        """The largest step from ``x`` along ``t`` that changes the period by at most
        :meth:`period_step` (None: no limit). The period has no weight in the arclength norm
        (``period_weight`` 0, as AUTO-07p): near a homoclinic orbit of a saddle-focus it grows
        while the orbit and the parameter barely move, and the branch snakes through folds and
        period doublings a period pi / omega apart; this keeps every one of them in its own step."""
        dT = self.period_step()
        tT = abs(float(t[-2]))
        if dT is None or not tT > 0:
            return None
        return dT / tT

    def period_step(self) -> float | None:
        """Largest change of the period in one step once the last cycle passes near a saddle
        (:func:`~bifurcate.cycles.limits.saddle_of_cycle`, evaluated once the period has grown by
        20 %); None before. Two limits, the smaller applies:

        * ``0.5 / lambda``, lambda the largest of the saddle's leading stable and unstable rates:
          the logarithmic period law ``T ~ -ln|p - p_hom| / lambda`` is sampled with at most a
          factor e^(1/2) in ``|p - p_hom|`` per step (the homoclinic evidence fits it on the last
          points);
        * ``pi / (10 omega)``, omega the largest imaginary part of the saddle's eigenvalues (a
          saddle-focus): the branch snakes through folds and period doublings about pi / omega
          apart in the period, each resolved by about ten steps.
        """
        if not self._prox:
            return None
        q = self._prox[-1]
        if not q.is_saddle:
            return None
        caps = [0.5 / max(q.leading_unstable, q.leading_stable)]
        om = float(np.max(np.abs(q.eigenvalues.imag)))
        if om > 0:
            caps.append(0.1 * math.pi / om)
        cap = min(caps)
        return cap if math.isfinite(cap) and cap > 0 else None

    def _decide(self, cur: _Point, new: _Point, events):
        """The stop rules of a cycle branch at the accepted point ``new`` (None: go on)."""
        opts, param = self.opts, self.param
        end_what = "the parent cycle (a period-doubling point)" if self.doubled else "an equilibrium (a Hopf point)"
        # degenerate: vertical family (parameter frozen, a second multiplier at 1)
        if new.floq is not None and abs(new.tau[-1]) < opts.vertical_tol:
            mu = new.floq.multipliers
            self._n_vertical = self._n_vertical + 1 if (mu.size and np.min(np.abs(mu - 1.0)) < 1e-3) else 0
        else:
            self._n_vertical = 0
        amp = self.size(new)
        self.amp_max = max(self.amp_max, amp)
        shrunk = amp < opts.amplitude_min or (len(self.rows) > 3 and amp < 2.0 * self.amp_first
                                              and self.amp_max > 10.0 * self.amp_first and amp < self.size(cur))
        # a "fold" where the family passes through zero size: an equilibrium (Hopf point) or, for a
        # doubled cycle, the parent cycle ends the branch; beyond it the same cycles are retraced
        # with a shifted phase
        for e in events:
            if e["test"] != 0:
                continue
            # the located cycle, or the smaller end of the final bracket (the collocation system is
            # singular at zero size: the localisation may stop short of it)
            cands = [e["x"]] if e["located"] else [e["x_lo"], e["x_hi"]]
            size, xq = min((self.size(_Point(cur.coll, np.asarray(xc), cur.tau, None, {}, 0)), i)
                           for i, xc in enumerate(cands))
            if size < 0.02 * self.amp_max:
                self.drop_last = True
                self.end_param = float(cands[xq][-1])
                return 0, (f"the cycle shrank to {end_what} at {param} = {self.end_param:.10g} (size "
                           f"{size:.2g}): the branch ends there")
        if shrunk:
            return 0, (f"the cycle shrank to {end_what} at {param} = {new.param:.10g} (size {amp:.3g}): the branch "
                       f"ends there")
        if self._n_vertical >= opts.vertical_points:
            self.vertical_trim = len(self.rows) - 1 - self._n_vertical
            return -2, (f"vertical family: {param} stays at {new.param:.10g} (|d{param}/ds| < {opts.vertical_tol:g} "
                        f"on {self._n_vertical} points, a second Floquet multiplier at 1): a degenerate (reversible "
                        f"or conservative) family of cycles, not a generic branch; stopped")
        # homoclinic evidence: the orbit closes in on a saddle while the period grows by the log law
        if new.period > 1.2 * self.T_min:
            U = new.coll.split(new.X)[0]
            self._prox.append(saddle_of_cycle(self.model, U, {**self.params, param: new.param}))
            last = self.rows[-len(self._prox):]
            self.evidence = homoclinic_evidence([q.param for q in last], [q.period for q in last],
                                                self._prox) or self.evidence
        else:
            self._prox.clear()
        self.T_min = min(self.T_min, new.period)
        ev = self.evidence
        if ev is not None and abs(new.param - ev["p_hom"]) <= opts.homoclinic_tol * max(1.0, abs(new.param)):
            return -3, _homoclinic_message(param, new, ev, "the parameter is within "
                                           f"homoclinic_tol = {opts.homoclinic_tol:g} of the limit")
        triv_err = abs(new.floq.trivial - 1.0) if new.floq is not None else 0.0
        if triv_err > opts.floquet_tol and self.lost is None:
            self.lost = (len(self.rows) - 1, new.param, triv_err)
        limit = min(opts.max_period, opts.max_period_growth * self.T_first)
        if new.period > limit:
            why = f"period {new.period:.6g} exceeds {limit:.6g}"
            return -3, (_homoclinic_message(param, new, ev, why) if ev is not None else
                        f"{why} at {param} = {new.param:.10g}: the period grows without bound (a homoclinic or "
                        f"heteroclinic orbit, no saddle identified); stopped")
        return None

    def _remeshed(self, pt: _Point) -> _Point | None:
        """``pt`` re-converged on the adapted mesh (None: the mesh is already adapted, or failure)."""
        coll, opts = pt.coll, self.opts
        mesh = coll.adapted_mesh(coll.split(pt.X)[0])
        if not np.max(np.abs(mesh - coll.mesh)) > 1e-3 / coll.ntst:
            return None
        return _reconverged(pt, mesh, opts)


def core_options(opts: CycleOptions, ds: float | None = None) -> CycleOptions:
    """The options the core runs a cycle branch with: ``opts`` itself (a :class:`CycleOptions` is
    a :class:`~bifurcate.continuation.ContinuationOptions`; the step control of cycles is in its
    fields ``growth``, ``shrink``, ``slow_newton``), with the first step ``ds`` if it differs
    (halved while the first cycle from a Hopf point did not converge)."""
    if ds is None or ds == opts.ds:
        return opts
    return replace(opts, ds=ds)


#: rejections of a step from one point for a BPC hidden in the step of a fold
#: (:meth:`CycleProblem.reject_events`)
PARITY_RETRIES = 8


# ------------------------------------------------------------------------------------------
# the driver
# ------------------------------------------------------------------------------------------
def run_continuation(model: Model, param: str, params: Mapping[str, float], start: CycleStart,
                     opts: CycleOptions) -> CycleBranch:
    """Continue cycles from ``start`` (see :func:`bifurcate.cycles.continue_cycles`) on the
    pseudo-arclength core with a :class:`CycleProblem`."""
    t_wall = time.perf_counter()
    coll = start.coll
    stats = {"newton_iters": 0, "failed_steps": 0, "remeshes": 0, "origin": start.origin}
    problem = CycleProblem(model, param, params, coll, opts, doubled=start.origin == "PD")
    ds = opts.ds
    # first point
    if start.from_equilibrium:
        first = None
        tau0 = start.tau * opts.direction
        while ds >= opts.ds_min:
            Xp = start.X + ds * tau0
            problem.set_reference(Xp)  # the equilibrium has no phase: the predicted orbit is the reference
            X, ok, it = correct(problem, Xp, tau0, start.X, ds, opts.newton_tol, opts.newton_maxiter)
            stats["newton_iters"] += it
            if ok:
                tau = tangent_at(problem, X, tau0)
                if coll.dot(tau, X - start.X) < 0:
                    tau = -tau  # orient along the secant
                first = (X, tau, it)
                break
            ds *= 0.5
            stats["failed_steps"] += 1
        if first is None:
            return _empty(model, param, params, opts, -4, "could not converge the first cycle from the Hopf "
                          "point (check omega and the eigenvector)", stats)
        X, tau, it = first
    else:
        U, _, _ = coll.split(start.X)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                phase_c = coll.phase_row(U)
                X, ok, it, _ = coll.newton(start.X, phase_c, None, start.X, 0.0, opts.newton_tol,
                                           3 * opts.newton_maxiter, fixed_param=True)
                if ok:
                    tau = coll.tangent(X, phase_c, start.tau)
        except NUMERICAL_ERRORS as exc:
            return _empty(model, param, params, opts, -4, f"the starting orbit did not converge to a cycle: "
                          f"{type(exc).__name__} in Newton ({exc}); is it periodic, sampled over exactly one "
                          f"period?", stats)
        if not ok:
            return _empty(model, param, params, opts, -4, "the starting orbit did not converge to a cycle "
                          "(is it periodic, sampled over exactly one period?)", stats)
        stats["newton_iters"] += it
        # the first step goes towards the parameter's ``direction`` (a tangent with no parameter
        # component, at a fold, keeps the orientation of the start's direction vector)
        if tau[-1] * opts.direction < 0:
            tau = -tau
    problem.start(X, tau, it)
    tests = problem.tests()
    if opts.max_steps > 0:
        res = continue_curve(problem, X, tau, core_options(opts, ds), tests, bounds={-1: (opts.p_min, opts.p_max)})
        core_status, core_message = res.status, res.message
        stats["newton_iters"] += res.stats["newton_iterations"]
        stats["failed_steps"] += res.stats["rejected"]
        events = res.events
        for row, its in zip(problem.rows[1:], res.stats["row_iterations"][1:]):
            row.newton_iters += its
    else:
        core_status, core_message, events = 0, "maximum number of steps reached", []
    pts = problem.rows
    status, message = _status(problem, core_status, core_message, param, opts, len(pts))
    labels = _labels(problem, events, tests, model, param, params)
    if problem.drop_last:
        pts = pts[:-1]
    lost = problem.lost
    if lost is not None:
        stats["floquet_lost"] = {"row": lost[0], param: lost[1], "trivial_error": lost[2]}
        message += (f"; the Floquet multipliers are not trusted from row {lost[0]} ({param} = {lost[1]:.10g}, "
                    f"trivial multiplier off by {lost[2]:.2g} > floquet_tol): rows with floquet_ok False carry no "
                    f"stability labels (refine ntst)")
        if status == 0:
            status = -5
    if problem.evidence is not None:
        stats["homoclinic"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in problem.evidence.items()}
    stats.update(problem.counts)
    stats["wall_time"] = time.perf_counter() - t_wall
    stats["n_points"] = len(pts)
    return _assemble(model, param, params, pts, labels, status, message, opts, stats)


def _status(problem: CycleProblem, core_status, core_message, param, opts, n_points):
    """The cycle branch's status and message from the core's and the problem's."""
    if problem.decision is not None:
        return problem.decision
    if core_status < 0:
        message = f"Newton failed at ds < ds_min = {opts.ds_min:g} after {n_points} points"
        if problem.evidence is not None:
            return -3, _homoclinic_message(param, problem.rows[-1], problem.evidence, message)
        return -1, message + f" ({core_message})"
    if core_message.startswith("maximum number"):
        return 0, f"reached max_steps = {opts.max_steps} (max_points = {opts.max_points})"
    if core_message.startswith("bound reached") or core_message.startswith("parameter bound"):
        return 0, f"{param} reached the end of [{opts.p_min:g}, {opts.p_max:g}] (the last point lies on it)"
    return core_status, core_message


def _labels(problem: CycleProblem, events, tests, model, param, params) -> list[BifurcationPoint]:
    """The special points of a cycle branch from the core's located events, and the stability
    changes between trusted rows that no test function saw (bracketed, not located)."""
    rows, opts = problem.rows, problem.opts
    by_row: dict[int, list] = {}
    for e in events:
        by_row.setdefault(e["row"], []).append(e)
    last = len(rows) - 1
    labels = []
    for row in sorted(by_row):
        evs = by_row[row]
        kinds = [tests[e["test"]].kind for e in evs]
        # a fold moves a multiplier through +1 (the BPC test changes sign too); a pair (mu, 1/mu)
        # through the unit circle at the same fold is the signature of a reversible-symmetric cycle
        # (PT), not a torus bifurcation: recorded, not labelled
        also = [k for k in ("BPC", "NS") if k in kinds] if "LPC" in kinds else []
        cur, new = rows[row], rows[min(row + 1, last)]
        for e, kind in zip(evs, kinds):
            if kind in also:
                continue
            if e["located"]:
                pt = _event_point(problem, cur, e)
                if pt is None:
                    continue
                br = (float(e["x_lo"][-1]), float(e["x_hi"][-1]))
                located, prec = True, abs(br[1] - br[0])
            else:
                pt, located, prec, br = _bracketed_point(problem, cur, new, e, kind)
            if kind == "NS":
                mu = pt.floq.multipliers if pt.floq is not None else np.zeros(0)
                on_circle = np.abs(np.abs(mu) - 1.0) < 1e-3
                if not np.any(on_circle & (np.abs(mu.imag) > 1e-6)):
                    continue  # a real pair with mu_i mu_j = 1: neutral saddle of cycles, not a torus
            if problem.drop_last and row == last - 1:
                # the step into the Hopf point (or parent cycle): only what lies before it
                if kind == "LPC" or not located or not (pt.param - cur.param) * (problem.end_param - pt.param) > 0:
                    continue
            bpc_info = None
            if kind == "BPC":
                pt, located, prec, bpc_info = _located_bpc(problem, cur, new, pt, located, prec)
                if "located_by" in bpc_info:  # not from the test function's bracket: the step's rows
                    br = (cur.param, new.param)
            bp = _bif_point(kind, pt, row, located, prec, br, model, param, params, opts.normal_forms)
            if bpc_info is not None:
                bp.data.update(bpc_info)
            if kind == "LPC" and also:
                bp.data["also_crossing"] = ",".join(also)
            labels.append(bp)
    n_rows = len(rows) - (1 if problem.drop_last else 0)
    for i in range(n_rows - 1):
        # the step's two ends as the step saw them: the left row as stored, the right one before
        # it was remeshed
        cur = rows[i]
        new = rows[i + 1].arrival if rows[i + 1].arrival is not None else rows[i + 1]
        fa, fb = cur.floq, new.floq
        if i in by_row or not (_trusted(fa, opts) and _trusted(fb, opts)):
            continue
        if fa.n_unstable != fb.n_unstable:
            kind = classify_crossing(fa.multipliers, fb.multipliers)
            labels.append(_bif_point(kind, new, i, False, abs(new.param - cur.param), (cur.param, new.param), model,
                                     param, params, opts.normal_forms))
    labels.extend(_bpcs_at_blind_folds(problem, labels, n_rows, model, param, params))
    labels.sort(key=lambda b: b.index)
    _order_found_at_folds(labels, rows)
    if problem.vertical_trim is not None:
        labels = [b for b in labels if b.index < problem.vertical_trim]
    return labels


#: largest unfolding |beta| max|b| (the residual of G at the located point) accepted for a BPC: a
#: branch point of the continuous problem that the discretisation breaks slightly (a Z2 pitchfork
#: of cycles on a mesh that is not invariant under the half-period shift: 1e-15 at period 8.7,
#: 2e-9 at period 29 on AUTO demo tor, NTST 25) is a branch point of the unfolded system at a
#: beta of the discretisation error's size
BPC_RESIDUAL_MAX = 1e-6


def _located_bpc(problem: CycleProblem, cur: _Point, new: _Point, pt: _Point, located: bool, prec: float):
    """The BPC between rows ``cur`` and ``new`` located by the minimally augmented system of
    :func:`~bifurcate.cycles.detection.locate_bpc` from the test function's localisation ``pt``.

    The sign change of the multiplier test only brackets a branch point (the corrector on the
    branch is singular there; near a fold of cycles the multipliers are also inaccurate, and the
    bracket's point was 2e-7 in the parameter from the branch point at period 29 on AUTO demo tor).
    Accepted when Newton converged, the unfolding residual is below :data:`BPC_RESIDUAL_MAX` and the
    point lies within one step's width (in period and parameter) of the step that saw the sign
    change; otherwise the test function's point stays, with the reason in ``bpc_locate``.
    Returns (point, located, precision, data to add)."""
    opts = problem.opts
    coll = pt.coll
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            loc = locate_bpc(coll, pt.X, coll.phase_row(coll.split(pt.X)[0]), tol=1e-2 * opts.newton_tol)
    except NUMERICAL_ERRORS as exc:
        return pt, located, prec, {"bpc_locate": f"{type(exc).__name__}: {exc}"}
    info = {"bpc_locate": loc.message, "bpc_beta": loc.beta, "bpc_residual": loc.residual,
            "bpc_iterations": loc.iterations}
    if not loc.converged:
        return pt, located, prec, info
    a, b = cur.X[-2:], new.X[-2:]
    width = np.abs(b - a)
    lo, hi = np.minimum(a, b) - width, np.maximum(a, b) + width
    if not (np.all(loc.X[-2:] >= lo) and np.all(loc.X[-2:] <= hi)):
        info["bpc_locate"] = (f"the augmented system converged to {problem.param} = {loc.X[-1]:.10g}, period "
                              f"{loc.X[-2]:.8g}, outside the step that saw the sign change: not this BPC")
        return pt, located, prec, info
    if not loc.residual <= BPC_RESIDUAL_MAX:
        info["bpc_locate"] = (f"unfolding residual {loc.residual:.3g} > BPC_RESIDUAL_MAX = {BPC_RESIDUAL_MAX:g}: "
                              f"not a branch point of this branch")
        return pt, located, prec, info
    # the old branch's tangent: the kernel direction closest to the tangent the step arrived with
    K = loc.kernel
    c = K.T @ (coll.W * pt.tau)
    tau = K @ c
    nrm = coll.norm(tau)
    tau = tau / nrm if nrm > 0 else pt.tau
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            B = coll.evaluate(loc.X)[1]
    except NUMERICAL_ERRORS as exc:
        info["bpc_locate"] = f"{type(exc).__name__} at the located point: {exc}"
        return pt, located, prec, info
    q = _make_point(coll, loc.X, tau, B, loc.iterations, opts)
    info.update(located_by="minimally augmented system", bpc_shift=float(abs(loc.X[-1] - pt.param)))
    return q, True, float(loc.update), info


def _blind_to_bpc(pt: _Point, opts) -> bool:
    """The multiplier test of a BPC cannot be read at this row (untrusted, and its sign not certain)."""
    return not _trusted(pt.floq, opts) and not math.isfinite(_sign_certain_test(pt.floq, "BPC"))


def _bpcs_at_blind_folds(problem: CycleProblem, labels, n_rows, model, param, params) -> list[BifurcationPoint]:
    """BPCs next to folds where the multiplier test is blind, found by the augmented system.

    On a Z2-symmetric cycle branch snaking into a homoclinic orbit each fold of the symmetric
    cycles comes with a symmetry-breaking branch point within 1e-3 of it in the period (AUTO demo
    tor: 1e-9 in the parameter). Beyond period ~60 the multipliers there reach 1e5 and the trivial
    one is off by more than 1e-2: the multiplier test is not trusted on either side and sees no sign
    change. At every located fold whose rows are blind in this sense and that has no BPC within one
    row, :func:`~bifurcate.cycles.detection.locate_bpc` is started from the fold's cycle; a
    solution is reported (``data["found_at_fold"] = True``) when it converged with an unfolding
    residual below :data:`BPC_RESIDUAL_MAX` and lies within the range (in period and parameter)
    of the fold and the rows from one step before to one step after the fold's step, widened by
    that range. A fold with no branch point nearby has no such solution: nothing is reported
    there."""
    opts = problem.opts
    if not opts.detect or not opts.floquet:
        return []
    rows = problem.rows
    out = []
    bpc_rows = [b.index for b in labels if b.kind == "BPC"]
    for lp in [b for b in labels if b.kind == "LPC" and b.located]:
        i = lp.index
        lo_r, hi_r = max(i - 1, 0), min(i + 2, n_rows - 1)
        if any(lo_r <= j <= hi_r for j in bpc_rows):
            continue
        if not (_blind_to_bpc(rows[i], opts) or _blind_to_bpc(rows[min(i + 1, n_rows - 1)], opts)):
            continue
        coll = Collocation(model, model.pack_params(lp.params), model.param_index(param), lp.data["mesh"],
                           int(lp.data["ncol"]))
        X = coll.pack(lp.data["orbit"], lp.data["period"], lp.param)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                loc = locate_bpc(coll, X, coll.phase_row(lp.data["orbit"]), tol=1e-2 * opts.newton_tol)
        except NUMERICAL_ERRORS:
            continue
        if not (loc.converged and loc.residual <= BPC_RESIDUAL_MAX):
            continue
        # the rows around the fold and the fold itself (the parameter turns there: it lies beyond
        # every row's), widened by their spread
        ends = np.array([rows[j].X[-2:] for j in range(lo_r, hi_r + 1)] + [[lp.data["period"], lp.param]])
        lo, hi = ends.min(axis=0), ends.max(axis=0)
        width = hi - lo
        if not (np.all(loc.X[-2:] >= lo - width) and np.all(loc.X[-2:] <= hi + width)):
            continue
        # one branch point found from two neighbouring folds is reported once
        seen = [(b.data["period"], b.param) for b in labels + out if b.kind == "BPC"]
        if any(abs(T - loc.X[-2]) <= 1e-6 * max(1.0, abs(T)) and abs(v - loc.X[-1]) <= 1e-8 * max(1.0, abs(v))
               for T, v in seen):
            continue
        K = loc.kernel
        tau = K @ (K.T @ (coll.W * rows[i].coll.remesh_vector(coll, rows[i].tau)))
        nrm = coll.norm(tau)
        if not nrm > 0:
            continue
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                B = coll.evaluate(loc.X)[1]
        except NUMERICAL_ERRORS:
            continue
        q = _make_point(coll, loc.X, tau / nrm, B, loc.iterations, opts)
        step = (rows[i].param, rows[min(i + 1, n_rows - 1)].param)
        bp = _bif_point("BPC", q, i, True, float(loc.update), step, model, param, params, opts.normal_forms)
        bp.data.update(located_by="minimally augmented system", found_at_fold=True, bpc_locate=loc.message,
                       bpc_beta=loc.beta, bpc_residual=loc.residual, bpc_iterations=loc.iterations,
                       fold_param=float(lp.param), fold_period=float(lp.data["period"]))
        out.append(bp)
    return out


def _order_found_at_folds(labels: list, rows) -> None:
    """In a row holding a BPC found at a fold, order the row's labels along the branch: by the
    period in the direction it changes over the row's step (the period, unlike the parameter, is
    monotone through a fold). Other rows keep the order of their events."""
    for i in sorted({b.index for b in labels if b.data.get("found_at_fold")}):
        idx = [k for k, b in enumerate(labels) if b.index == i]
        j = min(i + 1, len(rows) - 1)
        sgn = 1.0 if rows[j].period >= rows[i].period else -1.0
        same = sorted((labels[k] for k in idx), key=lambda b: sgn * b.data["period"])
        for k, b in zip(idx, same):
            labels[k] = b


def _bracketed_point(problem: CycleProblem, cur: _Point, new: _Point, e, kind):
    """An event whose localisation stopped short: the end of its final bracket where the test
    function is smaller (a converged cycle), its parameter bracket and width; the step's right
    end if the bracket never narrowed."""
    x_a, x_lo, x_hi = e["x_a"], np.asarray(e["x_lo"]), np.asarray(e["x_hi"])
    if np.array_equal(x_lo, x_a) and np.array_equal(x_hi, e["x_b"]):
        return new, False, abs(new.param - cur.param), (cur.param, new.param)
    ends = [q for q in (_event_point(problem, cur, {**e, "x": x}) for x in (x_lo, x_hi)) if q is not None]
    if not ends:
        return new, False, abs(new.param - cur.param), (cur.param, new.param)
    pt = min(ends, key=lambda q: abs(q.tests[kind]))
    br = (float(x_lo[-1]), float(x_hi[-1]))
    return pt, False, abs(br[1] - br[0]), br


def _event_point(problem: CycleProblem, cur: _Point, e) -> _Point | None:
    """The located cycle of an event, in the discretisation of the row it was located from."""
    coll, x = cur.coll, np.asarray(e["x"], dtype=float)
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            phase_c = coll.phase_row(coll.split(cur.X)[0])
            tau = coll.tangent(x, phase_c, e["t"])
            B = coll.evaluate(x)[1]
    except NUMERICAL_ERRORS:
        return None
    return _make_point(coll, x, tau, B, 0, problem.opts)


def _refined(pt: _Point, ntst: int, opts) -> _Point | None:
    """The cycle ``pt`` re-converged on an adapted mesh of ``ntst`` intervals (None on failure)."""
    try:
        mesh = pt.coll.adapted_mesh(pt.coll.split(pt.X)[0], ntst)
    except NUMERICAL_ERRORS:
        return None
    return _reconverged(pt, mesh, opts, count_iterations=True)


def _reconverged(pt: _Point, mesh: np.ndarray, opts, count_iterations: bool = False) -> _Point | None:
    """The cycle ``pt`` interpolated onto ``mesh`` and re-converged there (at zero arclength along
    its tangent), with its tangent and multipliers (None on failure)."""
    coll = pt.coll
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            ncoll, Xr = coll.remesh(pt.X, mesh)
            taur = coll.remesh_vector(ncoll, pt.tau)
            taur /= ncoll.norm(taur)
            phase_c = ncoll.phase_row(ncoll.split(Xr)[0])
            Xc, ok, it, B = ncoll.newton(Xr, phase_c, taur, Xr, 0.0, opts.newton_tol, opts.newton_maxiter)
            if not ok:
                return None
            taur = ncoll.tangent(Xc, phase_c, taur)
    except NUMERICAL_ERRORS:
        return None
    return _make_point(ncoll, Xc, taur, B, pt.newton_iters + (it if count_iterations else 0), opts)


def _homoclinic_message(param, pt, ev, why) -> str:
    sad = ", ".join(f"{v:.6g}" for v in ev["saddle"])
    lam = ev["eigenvalues"]
    return (f"approaching a homoclinic orbit of the saddle ({sad}) at {param} = {ev['p_hom']:.10g} "
            f"(log-period fit; last cycle at {param} = {pt.param:.10g}, period {pt.period:.6g}, closest distance "
            f"{ev['distance']:.2g} of its extent; period rate {ev['rate']:.4g} vs saddle eigenvalues "
            f"{np.round(lam.real, 4).tolist()}): {why}; stopped")


def _bif_point(kind, pt: _Point, index, located, prec, bracket, model, param, params,
               normal_forms: bool = True) -> BifurcationPoint:
    U, T, pv = pt.coll.split(pt.X)
    allp = dict(params)
    allp[param] = float(pv)
    mult = pt.floq.all if pt.floq is not None else None
    data = {"param_name": param, "period": float(T), "amplitude": _amplitude(U), "orbit": U.copy(),
            "mesh": pt.coll.mesh.copy(), "ncol": pt.coll.m, "test": float(pt.tests[kind])}
    if kind == "PD" and pt.floq is not None:
        data["eigenvector"] = pt.floq.eigenvector(-1.0)
    if normal_forms and kind in ("LPC", "PD", "NS"):  # the normal-form coefficient (bifurcate.cycles.normal_forms)
        from bifurcate.cycles.normal_forms import annotate_point_data

        annotate_point_data(model, kind, data, allp, mult)
    return BifurcationPoint(kind=kind, param=float(pv), state=U[0].copy(), params=allp, index=int(index),
                            located=bool(located), precision=float(prec), bracket=tuple(float(b) for b in bracket),
                            eigenvalues=mult, data=data)


# ------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------
def _assemble(model, param, params, pts, labels, status, message, opts, stats) -> CycleBranch:
    m = len(pts)
    n = model.n
    names = model.state_names
    pv = np.array([p.param for p in pts])
    Ts = np.array([p.period for p in pts])
    states = np.empty((m, n))
    cols: dict[str, np.ndarray] = {"period": Ts}
    amp = np.empty(m)
    l2 = np.empty(m)
    mins, maxs, means = np.empty((m, n)), np.empty((m, n)), np.empty((m, n))
    orbits, meshes = [], []
    d = model.dim
    ev = np.full((m, d), np.nan + 0j)
    n_unst = np.zeros(m, dtype=int)
    fstat = np.full(m, -1, dtype=int)
    for i, p in enumerate(pts):
        U, T, _ = p.coll.split(p.X)
        states[i] = U[0]
        # extrema of the polynomial, not only the nodes (dense sampling)
        fine = p.coll.sample(U, np.linspace(0.0, 1.0, 8 * p.coll.N, endpoint=False))
        mins[i], maxs[i] = fine.min(axis=0), fine.max(axis=0)
        means[i] = p.coll.node_w @ U
        amp[i] = float(np.max(maxs[i] - mins[i]) / 2.0)
        l2[i] = math.sqrt(float(p.coll.node_w @ np.sum(U * U, axis=1)))
        orbits.append((p.coll.times(), U.copy()))
        meshes.append(p.coll.mesh.copy())
        if p.floq is not None:
            allm = p.floq.all
            ev[i, : allm.size] = allm
            n_unst[i] = p.floq.n_unstable
            fstat[i] = getattr(p.floq, "status", 0)
    cols["amplitude"] = amp
    cols["norm_l2"] = l2
    for k, nm in enumerate(names):
        cols[f"min_{nm}"] = mins[:, k]
        cols[f"max_{nm}"] = maxs[:, k]
        cols[f"mean_{nm}"] = means[:, k]
    cols["mu_trivial_err"] = np.abs(ev[:, 0] - 1.0)
    cols["floquet_status"] = fstat  # FLOQUET_STATUS of bifurcate.cycles.floquet; -1 where none was computed
    cols["newton_iters"] = np.array([p.newton_iters for p in pts])
    fixed = {k: v for k, v in params.items() if k != param}
    return CycleBranch(model=model, param=param, kind="cycle", params=fixed, param_values=pv, states=states,
                       eigenvalues=ev, stable=(n_unst == 0) if opts.floquet else np.zeros(m, bool),
                       n_unstable=n_unst, points=tuple(labels), columns=cols, status=status, message=message,
                       options=opts, stats=stats, orbits=tuple(orbits), meshes=tuple(meshes), ncol=opts.ncol)


def _empty(model, param, params, opts, status, message, stats) -> CycleBranch:
    fixed = {k: v for k, v in params.items() if k != param}
    d = model.dim
    return CycleBranch(model=model, param=param, kind="cycle", params=fixed, param_values=np.zeros(0),
                       states=np.zeros((0, model.n)), eigenvalues=np.zeros((0, d), complex),
                       stable=np.zeros(0, bool), n_unstable=np.zeros(0, int), points=(), columns={"period": np.zeros(0)},
                       status=status, message=message, options=opts, stats=stats, ncol=opts.ncol)
