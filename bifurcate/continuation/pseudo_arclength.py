"""Pseudo-arclength continuation of a curve G(x) = 0, G: R^{N+1} -> R^N (Keller's method).

The core (:func:`continue_curve`) knows nothing about equilibria, cycles or codim-2 systems: a
*problem* supplies the residual, its Jacobian and, optionally, its inner product, its bordered
linear solver, a per-step finalisation and its own stop rule; test functions are passed
separately (:class:`TestFunction`). Equilibrium branches (:func:`continue_equilibria`), the
two-parameter curves of :mod:`.codim2`, cycle branches by collocation
(:class:`bifurcate.cycles.continuation.CycleProblem`), the curves of cycle bifurcations and the
homoclinic curves are problems.

Predictor: x + ds t. Corrector: Newton on (G(x), <t, x - x_prev> - ds). Tangent: the solution of
[[G_x], [W t_prev]] tau = e_{N+1}, normalised in the problem's norm (orientation inherited). A
failed corrector, a turn of the tangent by more than ``max_angle`` or a change of the number of
unstable directions with no test function changing sign halves ds; below ``ds_min`` the branch
ends with a negative status and a message, never an exception (a numerical exception raised by
the problem, e.g. ``FloatingPointError``, counts as a failed corrector).

Problem interface
-----------------
Required:

``residual(x) -> (N,) ndarray``
    G(x).
``jacobian(x) -> (N, N+1) ndarray or scipy.sparse matrix``
    G_x(x) (sparse is kept sparse: the bordered systems are then solved by SuperLU).

Optional (the default the core uses when the attribute is absent):

``weights : (N+1,) ndarray`` [ones]
    Diagonal weights W of the inner product <a, b> = sum(W a b) used by the arclength condition,
    the tangent normalisation, the angle test and the step size (e.g. quadrature weights of a
    collocation orbit). Read again after every :meth:`finalize` (the discretisation may change).
``bordered_solve(J, border, rhs) -> (N+1,) ndarray`` [dense LU, or sparse LU if J is sparse]
    Solve [[J], [border]] z = rhs. Raise ``numpy.linalg.LinAlgError`` (or return non-finite
    values) when singular.
``converged(x, dx, tol) -> bool`` [max|dx| < tol (1 + max|x|) and max|G(x)| < tol]
    The corrector's convergence test after the Newton update ``dx`` that reached ``x`` (e.g. an
    absolute test on the update, with a residual tolerance scaled by the period of a cycle).
``update(x) -> None`` [nothing]
    Called at every accepted point and at the left end of a bracket before localisation (new
    borders of a minimally augmented system, a new phase reference).
``finalize(x, t) -> (x, t) or None`` [nothing]
    Called after every accepted point; may re-discretise (remesh) and return the same point and
    tangent in the new unknowns (the core stores what it returns). Return None to keep x, t.
    A ``finalize`` with a third parameter, ``finalize(x, t, events)``, also receives the events
    located in the step that reached x (dicts as in :attr:`CurveResult.events`, e.g. to end a
    cycle branch where a fold of cycles is the family shrinking to its Hopf point).
``max_step(x, t) -> float or None`` [no limit]
    The largest |ds| of the next step from the accepted point x along its tangent t (e.g. a
    cycle branch limits the change of the period per step where the period is not in the norm
    but special points lie close in it). The step control's ds is cut to it (not below
    ``ds_min``); None or inf: no limit.
``reject_events(x, x_new, v, v_new) -> bool`` [never]
    Whether to reject the step from x to x_new (halve ds, down to ``ds_min``) given the test
    function values at both ends (arrays in the order of the tests): e.g. a test function that
    must change sign with another did not, so an even number of crossings hides a point.
``stop(xs, ts) -> (status, message) or None`` [never]
    A problem-specific stop rule evaluated on the accepted points so far (lists of arrays),
    e.g. a cycle shrinking to an equilibrium or a period growing logarithmically towards a
    homoclinic orbit. ``status`` 0 means a regular end, negative a failure.

Step control: after an easy step (at most 3 corrector iterations) ds grows by ``growth``; after a
slow one (at least ``slow_newton`` iterations, default ``newton_maxiter - 2``) it shrinks by
``shrink``; a rejected step halves it; the problem's ``max_step`` caps it and its
``reject_events`` may reject a step.

Test functions (:class:`TestFunction`) are evaluated with the tangent of the step; a sign
change between consecutive accepted points is an event, localised after the run by Illinois
regula falsi on the *arclength* (never on the parameter, which is quadratically flat at a fold):
the final bracket is ``locate_tol`` wide in arclength, so a fold (the parameter component of the
tangent vanishing) is located to ``locate_tol`` in every component, not to its square root.

Backward compatibility: a problem with only ``residual``, ``jacobian`` (dense) and ``update``
behaves as before; the extensions above have defaults.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from bifurcate.continuation.options import ContinuationOptions
from bifurcate.equilibria import classify_spectrum, newton_equilibrium, tangent_spectrum
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["continue_equilibria", "continue_curve", "EquilibriumProblem", "TestFunction", "CurveResult",
           "correct", "tangent_at", "STATUS_MESSAGES"]

STATUS_MESSAGES = {
    0: "success",
    -1: "step size below ds_min: the corrector failed to converge",
    -2: "non-finite values on the branch",
}


@dataclass
class TestFunction:
    """A scalar test function monitored along a curve.

    ``func(x, t_ref)`` is evaluated at accepted points with the tangent of the step that reached
    them, and during localisation with the tangent of the left end of the bracket; a sign change
    between consecutive points is an event. ``classify(x, t_ref)`` is called on the located point
    and returns the final label (or None to drop the event, e.g. a neutral saddle when only
    genuine Hopf points are wanted) and a dict of extra data. ``n_unstable_jump`` is how much the
    number of unstable directions may change at such a point (used by the step control).
    """

    kind: str
    func: Callable[[np.ndarray, np.ndarray], float]
    classify: Callable[[np.ndarray, np.ndarray], tuple[str | None, dict]] | None = None
    n_unstable_jump: int = 1
    terminal: bool = False


@dataclass
class CurveResult:
    xs: np.ndarray
    tangents: np.ndarray
    sigmas: np.ndarray
    events: list
    status: int
    message: str
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# the problem interface: defaults
# --------------------------------------------------------------------------------------------
#: numerical exceptions a problem may raise at a bad point: they count as a failed corrector
NUMERICAL_ERRORS = (FloatingPointError, ZeroDivisionError, OverflowError, np.linalg.LinAlgError, ValueError,
                    RuntimeError)


def problem_weights(problem, size: int) -> np.ndarray | None:
    """The diagonal inner-product weights of ``problem`` (None: Euclidean)."""
    w = getattr(problem, "weights", None)
    if w is None:
        return None
    w = np.asarray(w, dtype=float)
    if w.shape != (size,):
        raise ValueError(f"problem.weights must have shape ({size},), got {w.shape}")
    return w


def inner(problem, a: np.ndarray, b: np.ndarray) -> float:
    """<a, b> in the problem's inner product."""
    w = problem_weights(problem, a.size)
    return float(a @ b) if w is None else float(np.sum(w * a * b))


def bordered_solve(problem, J, border: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve [[J], [border]] z = rhs with the problem's solver (default: dense or sparse LU)."""
    f = getattr(problem, "bordered_solve", None)
    if f is not None:
        return f(J, border, rhs)
    import scipy.sparse as sp

    if sp.issparse(J):
        import scipy.sparse.linalg as spla

        A = sp.vstack([J, sp.csr_matrix(np.asarray(border, dtype=float)[None, :])]).tocsc()
        return spla.splu(A).solve(rhs)
    M = np.vstack([J, border])
    return np.linalg.solve(M, rhs)


# --------------------------------------------------------------------------------------------
# corrector and tangent
# --------------------------------------------------------------------------------------------
def correct(problem, x_pred: np.ndarray, t_ref: np.ndarray, x_ref: np.ndarray, sigma: float,
            tol: float, maxiter: int, fixed: tuple[int, float] | None = None):
    """Newton on G(x) = 0 with the arclength constraint <t_ref, x - x_ref> = sigma (or, with
    ``fixed=(i, v)``, x[i] = v). Returns (x, converged, iterations); a numerical exception
    raised by the problem ends the corrector unconverged."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return _correct(problem, x_pred, t_ref, x_ref, sigma, tol, maxiter, fixed)
    except NUMERICAL_ERRORS:
        return np.array(x_pred, dtype=float), False, maxiter


def _correct(problem, x_pred, t_ref, x_ref, sigma, tol, maxiter, fixed):
    x = np.array(x_pred, dtype=float)
    N1 = x.size
    w = problem_weights(problem, N1)
    if fixed is None:
        border = t_ref.copy() if w is None else w * t_ref
    else:
        border = np.zeros(N1)
        border[fixed[0]] = 1.0
    rhs = np.empty(N1)
    step = np.inf
    conv = getattr(problem, "converged", None)
    for it in range(1, maxiter + 1):
        G = problem.residual(x)
        if fixed is None:
            h = float(border @ (x - x_ref)) - sigma
        else:
            h = x[fixed[0]] - fixed[1]
        J = problem.jacobian(x)
        res = max(float(np.max(np.abs(G))), abs(h))
        if res <= 1e-2 * tol and conv is None:
            return x, True, it  # already on the curve (e.g. exactly at a branch point)
        rhs[:-1] = -G
        rhs[-1] = -h
        try:
            dx = bordered_solve(problem, J, border, rhs)
        except (np.linalg.LinAlgError, RuntimeError):
            return x, res <= tol, it
        if not np.all(np.isfinite(dx)):
            return x, res <= tol, it
        x += dx
        step = float(np.max(np.abs(dx)))
        if conv is not None:
            if conv(x, dx, tol):
                return x, True, it
        elif step < tol * (1.0 + float(np.max(np.abs(x)))):
            G = problem.residual(x)
            if float(np.max(np.abs(G))) < max(tol, 1e3 * np.finfo(float).eps):
                return x, True, it
        if step > 1e3:
            return x, False, it
    if conv is not None:
        return x, False, maxiter
    G = problem.residual(x)
    return x, bool(np.max(np.abs(G)) < tol and step < 1e3 * tol), maxiter


def tangent_at(problem, x: np.ndarray, t_prev: np.ndarray) -> np.ndarray:
    """Unit tangent at x (problem's norm), oriented so that <t, t_prev> > 0."""
    w = problem_weights(problem, x.size)
    border = t_prev if w is None else w * t_prev
    e = np.zeros(x.size)
    e[-1] = 1.0
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            tau = bordered_solve(problem, problem.jacobian(x), border, e)
    except NUMERICAL_ERRORS:
        return t_prev.copy()
    nrm = math.sqrt(max(inner(problem, tau, tau), 0.0))
    if not np.isfinite(nrm) or nrm == 0:
        return t_prev.copy()
    tau = tau / nrm
    return tau if inner(problem, tau, t_prev) >= 0 else -tau


# --------------------------------------------------------------------------------------------
# localisation
# --------------------------------------------------------------------------------------------
def locate_event(problem, tf: TestFunction, x_a, t_a, x_b, ds, f_a, f_b, opts: ContinuationOptions):
    """Illinois regula falsi on sigma -> tf(x(sigma), t_a), x(sigma) on the branch with
    t_a.(x - x_a) = sigma, sigma in [0, ds]. Returns (x, sigma, (x_lo, x_hi), located)."""
    lo, hi = 0.0, ds
    x_lo, x_hi = x_a, x_b
    # both ends with the common reference tangent t_a, so that the function is continuous
    flo = tf.func(x_a, t_a)
    fhi = tf.func(x_b, t_a)
    if not (np.isfinite(flo) and np.isfinite(fhi)) or flo * fhi > 0:
        return 0.5 * (x_a + x_b), 0.5 * ds, (x_a, x_b), False
    if fhi == 0.0:
        return x_b, ds, (x_b, x_b), True
    if flo == 0.0:
        return x_a, 0.0, (x_a, x_a), True
    tol = opts.locate_tol * max(1.0, abs(ds))
    side = 0
    for _ in range(opts.locate_maxiter):
        if hi - lo <= tol:
            break
        s = (lo * fhi - hi * flo) / (fhi - flo)
        if not (lo < s < hi) or not np.isfinite(s):
            s = 0.5 * (lo + hi)
        # predictor: the chord between the bracket's ends (both on the curve and on the constraint,
        # so the chord point satisfies it too, O(h^2) off the curve: the corrector's iterations
        # fall as the bracket shrinks), not the tangent line from x_a
        x_pred = x_lo + ((s - lo) / (hi - lo)) * (x_hi - x_lo)
        x_s, ok, _ = correct(problem, x_pred, t_a, x_a, s, opts.newton_tol * 1e-2, opts.newton_maxiter + 5)
        if not ok:
            # a point the corrector cannot reach: report the current bracket
            return 0.5 * (x_lo + x_hi), 0.5 * (lo + hi), (x_lo, x_hi), False
        f = tf.func(x_s, t_a)
        if f == 0.0:
            return x_s, s, (x_s, x_s), True
        if f * flo < 0:          # root in [lo, s]
            hi, fhi, x_hi = s, f, x_s
            if side == -1:
                flo *= 0.5        # Illinois: halve the stale end
            side = -1
        else:                     # root in [s, hi]
            lo, flo, x_lo = s, f, x_s
            if side == 1:
                fhi *= 0.5
            side = 1
    located = hi - lo <= tol
    if abs(flo) <= abs(fhi):
        return x_lo, lo, (x_lo, x_hi), located
    return x_hi, hi, (x_lo, x_hi), located


def two_parameter_bounds(nx: int, param: str, param2: str, opts: ContinuationOptions,
                         bounds: Mapping[str, tuple[float, float]] | None = None):
    """Bounds of a curve in two parameters, the last two of its ``nx`` unknowns: ``param2`` in
    [p_min, p_max] of ``opts``, then ``bounds`` by name (``KeyError`` for another name). Returns
    (index of each parameter, {component: (lo, hi)}) for :func:`continue_curve`."""
    index_of = {param: nx - 2, param2: nx - 1}
    bnds = {nx - 1: (opts.p_min, opts.p_max)}
    for k, v in (bounds or {}).items():
        if k not in index_of:
            raise KeyError(f"bounds: expected {param!r} or {param2!r}, got {k!r}")
        bnds[index_of[k]] = (float(v[0]), float(v[1]))
    return index_of, bnds


# --------------------------------------------------------------------------------------------
# the core loop
# --------------------------------------------------------------------------------------------
def continue_curve(problem, x0: np.ndarray, t0: np.ndarray, opts: ContinuationOptions,
                   tests: list[TestFunction] = (), bound_index: int | None = None,
                   bounds: Mapping[int, tuple[float, float]] | None = None,
                   n_unstable: Callable[[np.ndarray], int] | None = None) -> CurveResult:
    """Continue G(x) = 0 from x0 along t0 (unit, oriented) with steps |ds|.

    ``bounds`` maps a component of x to (lo, hi); the run stops on the first bound reached, the
    last point put exactly on it. ``n_unstable(x)``, if given, is used to reject steps across
    which the number of unstable directions changes while no test function changes sign.
    """
    t_start = time.perf_counter()
    ds = abs(opts.ds)
    x = np.array(x0, dtype=float)
    t = np.array(t0, dtype=float)
    t = t / math.sqrt(inner(problem, t, t))
    bounds = dict(bounds or {})
    xs, ts, sig = [x.copy()], [t.copy()], [0.0]
    vals = [np.array([tf.func(x, t) for tf in tests])]
    nu = [n_unstable(x) if n_unstable else 0]
    events = []
    its_row = [0]
    fin_events = _takes_events(getattr(problem, "finalize", None))
    slow = opts.newton_maxiter - 2 if opts.slow_newton is None else opts.slow_newton
    status, message = 0, "maximum number of steps reached"
    n_rej = n_newton = 0
    cos_max = math.cos(opts.max_angle)
    steps = 0
    max_step = getattr(problem, "max_step", None)
    reject_events = getattr(problem, "reject_events", None)
    while steps < opts.max_steps:
        if max_step is not None:
            cap = max_step(x, t)
            if cap is not None and cap < ds:
                ds = max(float(cap), opts.ds_min)
        x_pred = x + ds * t
        x_new, ok, its = correct(problem, x_pred, t, x, ds, opts.newton_tol, opts.newton_maxiter)
        n_newton += its
        t_new = tangent_at(problem, x_new, t) if ok else t
        reject = not ok or inner(problem, t_new, t) < cos_max
        if not reject:
            try:
                v_new = np.array([tf.func(x_new, t) for tf in tests])
                nu_new = n_unstable(x_new) if n_unstable else 0
            except NUMERICAL_ERRORS:
                v_new, nu_new, reject = None, None, True
        if not reject:
            changed = [k for k in range(len(tests)) if vals[-1][k] * v_new[k] < 0]
            if nu_new != nu[-1] and not changed and ds > opts.ds_min * 1.0001:
                reject = True  # something crossed that no test function saw (two at once?)
            elif reject_events is not None and ds > opts.ds_min * 1.0001 and reject_events(x, x_new, vals[-1], v_new):
                reject = True  # the problem sees two crossings of one test function in the step
        if reject:
            n_rej += 1
            ds *= 0.5
            if ds < opts.ds_min:
                status, message = -1, (f"step size below ds_min={opts.ds_min:g} after {steps} steps: the "
                                       f"corrector did not converge (or the branch turned too sharply)")
                break
            continue
        if not np.all(np.isfinite(x_new)):
            status, message = -2, STATUS_MESSAGES[-2]
            break
        # bounds: put the last point exactly on the bound and stop
        hit = None
        for i, (lo, hi) in bounds.items():
            if x_new[i] > hi or x_new[i] < lo:
                hit = (i, hi if x_new[i] > hi else lo)
                break
        if hit is not None:
            frac = (hit[1] - x[hit[0]]) / (x_new[hit[0]] - x[hit[0]])
            x_b, okb, _ = correct(problem, x + frac * (x_new - x), t, x, frac * ds, opts.newton_tol,
                                  opts.newton_maxiter, fixed=hit)
            if okb:
                x_new = x_b
                ds_eff = inner(problem, t, x_new - x)
                t_new = tangent_at(problem, x_new, t)
                v_new = np.array([tf.func(x_new, t) for tf in tests])
                nu_new = n_unstable(x_new) if n_unstable else 0
                changed = [k for k in range(len(tests)) if vals[-1][k] * v_new[k] < 0]
            else:
                hit = ("fail", None)
        else:
            ds_eff = ds
        if hit is not None and hit[0] == "fail":
            status, message = 0, "parameter bound reached (last point before the bound)"
            break
        if hit is not None and np.max(np.abs(x_new - x)) < 1e-12:
            status, message = 0, f"bound reached (component {hit[0]} = {hit[1]:g})"
            break  # started on the bound: nothing to add
        # localise now, in the discretisation and with the borders of the left end of the bracket
        n_ev = len(events)
        for k in changed:
            events.append(_locate(problem, tests[k], k, len(xs) - 1, x.copy(), t.copy(), x_new.copy(), ds_eff,
                                  vals[-1][k], v_new[k], opts))
        if hasattr(problem, "update"):
            problem.update(x_new)  # e.g. new borders of a minimally augmented system
        if hasattr(problem, "finalize"):
            # e.g. remesh, new phase reference
            fin = (problem.finalize(x_new, t_new, events[n_ev:]) if fin_events else
                   problem.finalize(x_new, t_new))
            if fin is not None:
                x_new, t_new = (np.array(v, dtype=float) for v in fin)
                # unit length in the problem's norm (the problem may normalise in another one)
                nrm = math.sqrt(max(inner(problem, t_new, t_new), 0.0))
                if np.isfinite(nrm) and nrm > 0:
                    t_new = t_new / nrm
        xs.append(x_new.copy())
        ts.append(t_new.copy())
        sig.append(sig[-1] + ds_eff)
        vals.append(v_new)
        nu.append(nu_new)
        its_row.append(its)
        x, t = x_new, t_new
        steps += 1
        if hit is not None:
            status, message = 0, f"bound reached (component {hit[0]} = {hit[1]:g})"
            break
        term = [tests[k].kind for k in changed if tests[k].terminal]
        if term:
            status, message = 0, f"stopped at a terminal point ({term[0]})"
            break
        # closed curve: back at the start after going around
        if (steps > 5 and x.shape == xs[0].shape and np.max(np.abs(x - xs[0])) < 0.5 * ds
                and inner(problem, t, ts[0]) > 0.9):
            status, message = 0, "closed curve: returned to the start point"
            break
        if hasattr(problem, "stop"):
            st = problem.stop(xs, ts)
            if st is not None:
                status, message = st
                break
        if its <= 3:
            ds = min(ds * opts.growth, opts.ds_max)
        elif its >= slow:
            ds = max(ds * opts.shrink, opts.ds_min)
    stats = dict(steps=steps, rejected=n_rej, newton_iterations=n_newton,
                 wall_time=time.perf_counter() - t_start, row_iterations=its_row)
    stats["wall_time_total"] = time.perf_counter() - t_start
    same = len({np.shape(v) for v in xs}) == 1
    return CurveResult(np.array(xs) if same else np.array(xs, dtype=object),
                       np.array(ts) if same else np.array(ts, dtype=object), np.array(sig), events, status, message,
                       stats)


def _takes_events(fn) -> bool:
    """Whether a problem hook accepts a third positional argument (the step's events)."""
    if fn is None:
        return False
    import inspect

    try:
        ps = [q for q in inspect.signature(fn).parameters.values()
              if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD, q.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        return False
    return len(ps) >= 3 or any(q.kind == q.VAR_POSITIONAL for q in ps)


def _locate(problem, tf, k, row, xa, ta, xb, dsb, fa, fb, opts) -> dict:
    """Localise one event between the accepted points xa (row) and xb."""
    if opts.locate:
        try:
            xs_, s_, (xl, xh), ok = locate_event(problem, tf, xa, ta, xb, dsb, fa, fb, opts)
        except NUMERICAL_ERRORS:
            xs_, s_, (xl, xh), ok = 0.5 * (xa + xb), 0.5 * dsb, (xa, xb), False
    else:
        xs_, s_, (xl, xh), ok = 0.5 * (xa + xb), 0.5 * dsb, (xa, xb), False
    return dict(row=row, test=k, x=xs_, t=ta, sigma=s_, ds=dsb, x_lo=xl, x_hi=xh, located=ok, x_a=xa, x_b=xb)


# --------------------------------------------------------------------------------------------
# equilibria
# --------------------------------------------------------------------------------------------
class EquilibriumProblem:
    """F(y; p) = 0 with x = (y, p_i): the model's (radially damped) field in the embedding.

    On a product of spheres the damped field has the same zeros as the paper's field and its
    Jacobian is regular wherever the tangent Jacobian is (the two radial eigenvalues are below
    -2), so the augmented system is regular on the branch except at genuine BP.
    """

    def __init__(self, model: Model, p: np.ndarray, ip: int, fd_step: float):
        self.model, self.p, self.ip, self.h = model, np.array(p, dtype=float), int(ip), float(fd_step)
        self.n = model.n
        self._f = np.empty(self.n)
        self._f2 = np.empty(self.n)
        self._J = np.empty((self.n, self.n))

    def pvec(self, x) -> np.ndarray:
        p = self.p.copy()
        p[self.ip] = x[-1]
        return p

    def residual(self, x):
        self.model.rhs(x[:-1], self.pvec(x), self._f)
        return self._f.copy()

    def jacobian(self, x):
        n = self.n
        out = np.empty((n, n + 1))
        p = self.pvec(x)
        self.model.jac(x[:-1], p, self._J)
        out[:, :n] = self._J
        h = self.h * max(1.0, abs(x[-1]))
        p1 = p.copy()
        p1[self.ip] += h
        self.model.rhs(x[:-1], p1, self._f)
        p1[self.ip] -= 2 * h
        self.model.rhs(x[:-1], p1, self._f2)
        out[:, n] = (self._f - self._f2) / (2 * h)
        return out

    def state_jacobian(self, x):
        self.model.jac(x[:-1], self.pvec(x), self._J)
        return self._J.copy()

    def eigenvalues(self, x):
        return tangent_spectrum(self.model, x[None, :-1], self.pvec(x))[0]


def initial_tangent(problem, x0: np.ndarray, direction: float) -> np.ndarray:
    """Unit null vector of G_x at x0, oriented so that its last component has the sign of
    ``direction`` (a fold start falls back to the smallest right singular vector)."""
    Jx = problem.jacobian(x0)
    _, _, Vt = np.linalg.svd(Jx)
    t = Vt[-1]
    if t[-1] * direction < 0 or (t[-1] == 0 and direction < 0):
        t = -t
    return t / np.linalg.norm(t)


def continue_equilibria(model: Model, y0, param: str = "J", params: Mapping[str, float] | None = None,
                        options: ContinuationOptions | None = None, **kwargs: Any) -> Branch:
    """Continue the equilibrium near ``y0`` in one parameter, detecting LP, BP and HB.

    Parameters
    ----------
    model : Model
    y0 : array (n,)
        A point near an equilibrium at ``params`` (Newton polishes it; a start that is not near an
        equilibrium raises ``ValueError``).
    param : str
        The continuation parameter (``KeyError`` if the model has no such parameter).
    params : mapping, optional
        Values of all parameters at the start (defaults for the rest).
    options : ContinuationOptions, optional
        ``ds > 0`` starts towards increasing ``param``; ``p_min``/``p_max`` bound the run.
    **kwargs
        Overrides of ``options`` fields, e.g. ``ds=-0.01, p_min=0``.

    Returns
    -------
    Branch
        Columns: ``param`` and the state, tangent eigenvalues, ``stable``, ``n_unstable``; extra
        column ``arclength``. Special points (``branch.points``): LP (fold: the parameter
        component of the tangent vanishes), BP (branch point: the determinant of the augmented
        Jacobian changes sign; a symmetric pitchfork is a BP, not a turning point), HB (a
        complex pair crosses; with ``omega``, ``l1`` and ``criticality`` in ``data``) and NSad
        (neutral saddle, a real pair with l1 + l2 = 0: not a Hopf point). Each point records
        ``located``, ``precision`` (parameter width of the final bracket) and ``bracket``
        (parameter values of the two rows around it); ``data["sigma"]`` is its arclength offset
        from row ``index`` (inside ``data["sigma_bracket"]``), which is the bracket that holds
        for folds too.

    References
    ----------
    Kuznetsov, Elements of Applied Bifurcation Theory (3rd ed.), Ch. 10; Keller (1977).
    """
    from bifurcate.continuation.detection import equilibrium_tests, make_point

    ip = model.param_index(param)
    opts = options or ContinuationOptions()
    if not isinstance(opts, ContinuationOptions):
        raise TypeError(f"options must be a ContinuationOptions, got {type(opts).__name__}")
    if kwargs:
        from dataclasses import replace

        opts = replace(opts, **kwargs)
    pd_ = model.params(params)
    p = np.array([pd_[k] for k in model.param_names])
    if not (opts.p_min <= p[ip] <= opts.p_max):
        raise ValueError(f"start value {param}={p[ip]} outside [p_min, p_max] = [{opts.p_min}, {opts.p_max}]")
    y0 = model.check_state(y0, name="y0")
    y = newton_equilibrium(model, y0, pd_, tol=min(opts.newton_tol, 1e-11))
    problem = EquilibriumProblem(model, p, ip, opts.fd_step)
    x0 = np.concatenate([y, [p[ip]]])
    t0 = initial_tangent(problem, x0, np.sign(opts.ds))
    return _run_equilibrium_branch(problem, x0, t0, opts, param, pd_)


def locate_branch_point(problem, x_guess: np.ndarray, tol: float = 1e-11, maxiter: int = 30):
    """A simple branch point near ``x_guess`` by Newton on Moore's regular extended system

        F(x) + beta psi = 0,   G_x(x)^T psi = 0,   psi . psi = 1

    in the unknowns (x, psi, beta) (N + 1 + N + 1 equations and unknowns; beta = 0 at the
    solution). Unlike a sign change of det along the branch, it is regular at the branch point, so
    it converges where two branches cross (a pitchfork on its side branch). Returns
    (x, converged)."""
    x = np.array(x_guess, dtype=float)
    N1 = x.size
    N = N1 - 1
    J = np.asarray(problem.jacobian(x), dtype=float)
    U, _, _ = np.linalg.svd(J)
    z = np.concatenate([x, U[:, -1], [0.0]])

    def R(z):
        xx, psi, beta = z[:N1], z[N1:N1 + N], z[-1]
        Jx = np.asarray(problem.jacobian(xx), dtype=float)
        return np.concatenate([problem.residual(xx) + beta * psi, Jx.T @ psi, [psi @ psi - 1.0]])

    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            for _ in range(maxiter):
                r = R(z)
                if np.max(np.abs(r)) < tol:
                    return z[:N1], abs(z[-1]) < 1e3 * tol
                M = np.empty((z.size, z.size))
                for j in range(z.size):
                    h = 1e-7 * max(1.0, abs(z[j]))
                    zp = z.copy()
                    zp[j] += h
                    zm = z.copy()
                    zm[j] -= h
                    M[:, j] = (R(zp) - R(zm)) / (2 * h)
                dz = np.linalg.solve(M, -r)
                z = z + dz
                if np.max(np.abs(dz)) < tol * (1.0 + np.max(np.abs(z))):
                    r = R(z)
                    return z[:N1], bool(np.max(np.abs(r)) < 1e3 * tol and abs(z[-1]) < 1e3 * tol)
    except NUMERICAL_ERRORS:
        pass
    return z[:N1], False


def _refine_branch_point(problem, q, res, opts):
    """Re-locate a BP that the sign change of det could not locate (or that coincides with a
    side-branch fold) with Moore's extended system; keep it only if it lies between its rows."""
    from dataclasses import replace as _replace

    i = q.index
    xa, xb = res.xs[i], res.xs[min(i + 1, len(res.xs) - 1)]
    span = float(np.max(np.abs(xb - xa)))
    for guess in (np.concatenate([q.state, [q.param]]), xa, xb):
        x, ok = locate_branch_point(problem, guess, tol=max(opts.newton_tol * 1e-1, 1e-12))
        near = float(max(np.max(np.abs(x - xa)), np.max(np.abs(x - xb)))) <= 1.5 * span + 1e-9
        if ok and near:
            break
    else:
        return q
    prm = q.data.get("param_name")
    return _replace(q, param=float(x[-1]), state=x[:-1].copy(),
                    params={**q.params, prm: float(x[-1])} if prm in q.params else q.params, located=True, precision=0.0, eigenvalues=problem.eigenvalues(x),
                    data={**q.data, "located_by": "extended system (Moore)"})


def _merge_side_branch_pitchforks(points: list) -> list:
    """An LP and a BP between the same two rows are one point: the side branch of a pitchfork
    folds (in the parameter) exactly where it crosses the symmetric branch. The LP test (the
    parameter component of the tangent) is regular there while the BP determinant is singular, so
    the point is located with the LP test and labelled BP (``data["side_branch_fold"] = True``)."""
    from dataclasses import replace as _replace

    out = list(points)
    for bp in [q for q in points if q.kind == "BP"]:
        lps = [q for q in out if q.kind == "LP" and q.index == bp.index]
        if not lps:
            continue
        lp = min(lps, key=lambda q: abs(q.param - bp.param))
        out.remove(lp)
        if lp.located and not bp.located:
            data = dict(bp.data)
            data.update(side_branch_fold=True, sigma=lp.data.get("sigma", 0.0))
            new = _replace(bp, param=lp.param, state=lp.state, params=lp.params, located=True,
                           precision=lp.precision, eigenvalues=lp.eigenvalues, data=data)
        else:
            new = _replace(bp, data={**bp.data, "side_branch_fold": True})
        out[out.index(bp)] = new
    return out


def _run_equilibrium_branch(problem: EquilibriumProblem, x0, t0, opts, param, pd_, kind="equilibrium",
                            extra_stats=None) -> Branch:
    from bifurcate.continuation.detection import equilibrium_tests, make_point

    model = problem.model
    tests = equilibrium_tests(problem, opts)

    def n_uns(x):
        return int(classify_spectrum(problem.eigenvalues(x)[None, :], opts.stab_tol)[1][0])

    bounds = {problem.n: (opts.p_min, opts.p_max)}
    res = continue_curve(problem, x0, t0, opts, tests, bounds=bounds, n_unstable=n_uns)
    Y = res.xs[:, :-1]
    pv = res.xs[:, -1]
    ev = np.array([problem.eigenvalues(x) for x in res.xs])
    stable, n_unstable = classify_spectrum(ev, opts.stab_tol)
    points = []
    for e in res.events:
        pt = make_point(problem, tests[e["test"]], e, pv, param, opts)
        if pt is not None:
            points.append(pt)
    points = _merge_side_branch_pitchforks(points)
    points = [_refine_branch_point(problem, q, res, opts) if q.kind == "BP" and (not q.located or q.data.get(
        "side_branch_fold")) else q for q in points]
    points.sort(key=lambda q: (q.index, q.data.get("sigma", 0.0)))
    stats = dict(res.stats)
    stats.update(extra_stats or {})
    params_fixed = {k: v for k, v in pd_.items() if k != param}
    return Branch(model=model, param=param, kind=kind, params=params_fixed, param_values=pv, states=Y,
                  eigenvalues=ev, stable=stable, n_unstable=n_unstable, points=tuple(points),
                  columns={"arclength": res.sigmas}, status=res.status, message=res.message, options=opts,
                  stats=stats)
