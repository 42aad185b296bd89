"""Two-parameter continuation of BP/LP and Hopf points, with codimension-two points on the curves.

Fold and symmetric branch point (BP, LP)
    Minimally augmented system: F(y; p1, p2) = 0 and g(y; p1, p2) = 0, where g is the last
    component of the solution of [[F_y, b], [c^T, 0]] (v, g) = (0, 1) (Govaerts 2000, Ch. 4; the
    borders b, c are refreshed to the left/right null vectors after each step). A symmetric
    pitchfork makes this system singular in the full space (F_p = 0 along the symmetric branch),
    so for a BP the state is restricted to the fixed-point space Fix(S) of the symmetry S that
    reverses the critical eigenvector, where it is regular. The state is then the symmetric
    equilibrium (for the LMG dimer the normal state) and the curve is exactly det F_y = 0, i.e.
    the paper's Eq. (12).
Hopf (and neutral saddle)
    F(y; p) = 0, (F_y^2 + kappa I) v = 0, v.v0 = 1, v.w0 = 0 with unknowns (y, v, kappa, p1, p2)
    (Kuznetsov, Elements of Applied Bifurcation Theory, Sec. 10.2.2). kappa = omega^2 > 0 on the
    Hopf curve; kappa < 0 on its continuation as a neutral saddle curve (a real pair
    l1 + l2 = 0), which the same system follows through the Bogdanov-Takens point (kappa = 0).
    Rows with kappa < 0 are marked ``segment = "NSad"`` and carry no Hopf data.

Codimension-two points detected and localised on the curves:

* on BP/LP curves: BT (a second real eigenvalue crosses zero), ZH (a complex pair crosses the
  imaginary axis; on a BP curve this is the Hopf-pitchfork point); neutral-saddle crossings are
  filtered out; on LP curves CP (cusp: the quadratic normal-form coefficient w.B(v, v) of the fold
  vanishes, v and w the right and left null vectors of F_y, oriented continuously by the borders);
* on Hopf curves: BT (kappa = 0), GH (l1 = 0), ZH (a real eigenvalue crosses zero: the
  Hopf-pitchfork / fold-Hopf meeting point), HH (a second complex pair crosses).
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np

from bifurcate.continuation.detection import bialternate_product, critical_pair
from bifurcate.continuation.hopf import first_lyapunov_coefficient
from bifurcate.continuation.options import ContinuationOptions, options_with
from bifurcate.continuation.pseudo_arclength import TestFunction, continue_curve
from bifurcate.equilibria import classify_spectrum, tangent_spectrum
from bifurcate.model import Model
from bifurcate.validation import check_interval
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["continue_codim2", "FoldProblem", "HopfProblem"]


def _fix_basis(S: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n, k) of {y : S y = y}."""
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return V[:, np.abs(w - 1.0) < 1e-9]


class _Base:
    def __init__(self, model: Model, p: np.ndarray, i1: int, i2: int, fd_step: float):
        self.model, self.p, self.i1, self.i2, self.h = model, np.array(p, float), int(i1), int(i2), float(fd_step)
        self.n = model.n
        self._J = np.empty((self.n, self.n))
        self._f = np.empty(self.n)

    def pvec(self, x):
        p = self.p.copy()
        p[self.i1] = x[-2]
        p[self.i2] = x[-1]
        return p

    def F(self, y, p):
        self.model.rhs(np.ascontiguousarray(y), p, self._f)
        return self._f.copy()

    def A(self, y, p):
        self.model.jac(np.ascontiguousarray(y), p, self._J)
        return self._J.copy()

    def Fp(self, y, p, i):
        h = self.h * max(1.0, abs(p[i]))
        p1 = p.copy()
        p1[i] += h
        f1 = self.F(y, p1)
        p1[i] -= 2 * h
        return (f1 - self.F(y, p1)) / (2 * h)

    def eigenvalues(self, x):
        return tangent_spectrum(self.model, self.state(x)[None, :], self.pvec(x))[0]


class FoldProblem(_Base):
    """x = (z, p1, p2), y = Q z; G = (Q^T F(y), g(y)) with g from the bordered system."""

    def __init__(self, model, p, i1, i2, fd_step, y0, Q=None):
        super().__init__(model, p, i1, i2, fd_step)
        self.Q = np.eye(self.n) if Q is None else Q
        A = self.A(y0, p)
        U, _, Vt = np.linalg.svd(A)
        self.b, self.c = U[:, -1].copy(), Vt[-1].copy()

    def state(self, x):
        return self.Q @ x[:-2]

    def x_of(self, y, p1, p2):
        return np.concatenate([self.Q.T @ y, [p1, p2]])

    def _bordered(self, A):
        n = self.n
        M = np.zeros((n + 1, n + 1))
        M[:n, :n] = A
        M[:n, n] = self.b
        M[n, :n] = self.c
        rhs = np.zeros(n + 1)
        rhs[n] = 1.0
        sol = np.linalg.solve(M, rhs)
        solT = np.linalg.solve(M.T, rhs)
        return sol[:n], sol[n], solT[:n]

    @property
    def symmetric(self) -> bool:
        """True when the state is restricted to a fixed-point space (a symmetric BP curve)."""
        return self.Q.shape[1] < self.n

    def g(self, x):
        return self._bordered(self.A(self.state(x), self.pvec(x)))[1]

    def _null_pair(self, x):
        """Right and left null vectors (v, w) of F_y, normalised by the borders (c.v = 1,
        b.w = 1), so that their orientation is continuous along the curve."""
        v, _, w = self._bordered(self.A(self.state(x), self.pvec(x)))
        return v, w

    def _dA(self, y, p, u, h):
        """Directional derivative (A(y + h u) - A(y - h u)) / (2 h)."""
        return (self.A(y + h * u, p) - self.A(y - h * u, p)) / (2.0 * h)

    def quadratic_coefficient(self, x) -> float:
        """a = w . B(v, v) / (|v|^2 |w|) of the fold normal form; zero at a cusp point (CP)."""
        y, p = self.state(x), self.pvec(x)
        v, w = self._null_pair(x)
        nv, nw = np.linalg.norm(v), np.linalg.norm(w)
        h = 1e-5 * max(1.0, float(np.max(np.abs(y))))
        u = v / nv
        return float(w @ (self._dA(y, p, u, h) @ u)) / nw

    def cubic_coefficient(self, x) -> float:
        """w . C(v, v, v) / (|v|^3 |w|) by second differences of the Jacobian (the sign says
        whether the cusp's folds bound a region of three equilibria from above or below)."""
        y, p = self.state(x), self.pvec(x)
        v, w = self._null_pair(x)
        u = v / np.linalg.norm(v)
        h = 1e-3 * max(1.0, float(np.max(np.abs(y))))
        d2 = (self.A(y + h * u, p) - 2.0 * self.A(y, p) + self.A(y - h * u, p)) / (h * h)
        return float(w @ (d2 @ u)) / np.linalg.norm(w)

    def residual(self, x):
        y, p = self.state(x), self.pvec(x)
        return np.concatenate([self.Q.T @ self.F(y, p), [self.g(x)]])

    def jacobian(self, x):
        y, p = self.state(x), self.pvec(x)
        k = x.size - 2
        out = np.empty((k + 1, k + 2))
        out[:k, :k] = self.Q.T @ self.A(y, p) @ self.Q
        out[:k, k] = self.Q.T @ self.Fp(y, p, self.i1)
        out[:k, k + 1] = self.Q.T @ self.Fp(y, p, self.i2)
        for j in range(k + 2):
            h = self.h * max(1.0, abs(x[j]))
            xp = x.copy()
            xp[j] += h
            gp = self.g(xp)
            xp[j] -= 2 * h
            out[k, j] = (gp - self.g(xp)) / (2 * h)
        return out

    def update(self, x):
        v, _, w = self._bordered(self.A(self.state(x), self.pvec(x)))
        if np.linalg.norm(v) > 0 and np.linalg.norm(w) > 0:
            self.c = v / np.linalg.norm(v)
            self.b = w / np.linalg.norm(w)


class HopfProblem(_Base):
    """x = (y, v, kappa, p1, p2); G = (F, (A^2 + kappa I) v, v.v0 - 1, v.w0)."""

    def __init__(self, model, p, i1, i2, fd_step):
        super().__init__(model, p, i1, i2, fd_step)
        self.v0 = None
        self.w0 = None

    def state(self, x):
        return x[:self.n]

    def kappa(self, x):
        return x[2 * self.n]

    def residual(self, x):
        n = self.n
        y, v, kap, p = x[:n], x[n:2 * n], x[2 * n], self.pvec(x)
        A = self.A(y, p)
        return np.concatenate([self.F(y, p), A @ (A @ v) + kap * v, [v @ self.v0 - 1.0, v @ self.w0]])

    def jacobian(self, x):
        n = self.n
        y, v, kap, p = x[:n], x[n:2 * n], x[2 * n], self.pvec(x)
        A = self.A(y, p)
        out = np.zeros((2 * n + 2, 2 * n + 3))
        out[:n, :n] = A
        out[:n, 2 * n + 1] = self.Fp(y, p, self.i1)
        out[:n, 2 * n + 2] = self.Fp(y, p, self.i2)
        for j in range(n):
            h = self.h * max(1.0, abs(y[j]))
            yp = y.copy()
            yp[j] += h
            Ap = self.A(yp, p)
            yp[j] -= 2 * h
            Am = self.A(yp, p)
            out[n:2 * n, j] = (Ap @ (Ap @ v) - Am @ (Am @ v)) / (2 * h)
        out[n:2 * n, n:2 * n] = A @ A + kap * np.eye(n)
        out[n:2 * n, 2 * n] = v
        for col, i in ((2 * n + 1, self.i1), (2 * n + 2, self.i2)):
            h = self.h * max(1.0, abs(p[i]))
            pp = p.copy()
            pp[i] += h
            Ap = self.A(y, pp)
            pp[i] -= 2 * h
            Am = self.A(y, pp)
            out[n:2 * n, col] = (Ap @ (Ap @ v) - Am @ (Am @ v)) / (2 * h)
        out[2 * n, n:2 * n] = self.v0
        out[2 * n + 1, n:2 * n] = self.w0
        return out

    def update(self, x):
        n = self.n
        y, v, kap, p = x[:n], x[n:2 * n], x[2 * n], self.pvec(x)
        A = self.A(y, p)
        _, _, Vt = np.linalg.svd(A @ A + kap * np.eye(n))
        K = Vt[-2:].T                       # kernel of A^2 + kappa I (2-dimensional on the curve)
        vh = v / np.linalg.norm(v)
        w = K @ (K.T @ vh)
        w = K[:, 0] - (K[:, 0] @ vh) * vh if np.linalg.norm(w) < 0.5 else w
        u = K @ np.array([-(K[:, 1] @ vh), K[:, 0] @ vh])
        if np.linalg.norm(u) < 1e-8:
            u = K[:, 1] - (K[:, 1] @ vh) * vh
        self.v0 = v / (v @ v)
        self.w0 = u / np.linalg.norm(u)

    def other_eigenvalues(self, x):
        """Tangent eigenvalues without the Hopf (or neutral-saddle) pair."""
        ev = self.eigenvalues(x)
        kap = self.kappa(x)
        r = math.sqrt(abs(kap))
        targets = (1j * r, -1j * r) if kap >= 0 else (r, -r)
        idx = list(range(len(ev)))
        for tgt in targets:
            k = min(idx, key=lambda i: abs(ev[i] - tgt))
            idx.remove(k)
        return ev[idx]


# --------------------------------------------------------------------------------------------
# test functions on the curves
# --------------------------------------------------------------------------------------------
def _fold_tests(problem: FoldProblem, opts) -> list[TestFunction]:
    def rest(x):
        ev = problem.eigenvalues(x)
        k = int(np.argmin(np.abs(ev)))
        return np.delete(ev, k)

    def bt(x, t):
        return float(np.prod(rest(x)).real)

    def zh(x, t):
        return bialternate_product(rest(x))

    def zh_classify(x, t):
        r = rest(x)
        if len(r) < 2:
            return None, {}
        i, j, cplx = critical_pair(r)
        return ("ZH", {"omega": float(abs(r[i].imag))}) if cplx else (None, {})

    tests = [TestFunction("BT", bt, lambda x, t: ("BT", {}), 0),
             TestFunction("ZH", zh, zh_classify, 0)]
    if problem.symmetric:
        return tests  # in Fix(S) the quadratic coefficient vanishes identically (a pitchfork)

    def cp(x, t):
        return problem.quadratic_coefficient(x)

    def cp_classify(x, t):
        # a cusp: the fold's quadratic coefficient vanishes; the curve's projection on the
        # parameter plane turns back (both parameter components of the tangent vanish)
        return "CP", {"a": float(problem.quadratic_coefficient(x)), "c": float(problem.cubic_coefficient(x))}

    return tests + [TestFunction("CP", cp, cp_classify, 0)]


def _hopf_tests(problem: HopfProblem, opts) -> list[TestFunction]:
    n = problem.n

    def l1_of(x):
        if problem.kappa(x) <= 0:
            return np.nan
        try:
            return first_lyapunov_coefficient(problem.model, x[:n], problem.pvec(x))[0]
        except (ValueError, np.linalg.LinAlgError):
            return np.nan

    def zh(x, t):
        return float(np.prod(problem.other_eigenvalues(x)).real)

    def hh(x, t):
        r = problem.other_eigenvalues(x)
        return bialternate_product(r) if len(r) >= 2 else 1.0

    def hh_classify(x, t):
        r = problem.other_eigenvalues(x)
        i, j, cplx = critical_pair(r)
        return ("HH", {"omega2": float(abs(r[i].imag))}) if (cplx and problem.kappa(x) > 0) else (None, {})

    tests = []
    # a curve of asymmetric equilibria that runs into the symmetric subspace meets the BP curve
    # there (the Hopf-pitchfork meeting point); beyond it the curve is the mirror image, so stop
    y0 = problem.state(problem.x_start)
    for s in problem.model.symmetries:
        d0 = y0 - s.matrix @ y0
        if s.reverses_time or np.linalg.norm(d0) < 1e-6:
            continue
        d0 = d0 / np.linalg.norm(d0)

        def meet(x, t, S=s.matrix, d0=d0):
            y = problem.state(x)
            return float((y - S @ y) @ d0)

        def meet_classify(x, t, name=s.name):
            kap = problem.kappa(x)
            # the Hopf system is itself singular here (the normal-state Hopf curve crosses), so the
            # point is often only bracketed: count small eigenvalues rather than trust kappa = 0
            ev = problem.eigenvalues(x)
            lab = "BT" if np.sum(np.abs(ev) < 0.1 * max(1.0, float(np.max(np.abs(ev))))) >= 2 else "ZH"
            return lab, {"meets": "BP curve", "symmetry": name, "omega": math.sqrt(max(kap, 0.0))}

        tests.append(TestFunction("HB-BP", meet, meet_classify, 0, terminal=True))
    return tests + [TestFunction("BT", lambda x, t: float(problem.kappa(x)), lambda x, t: ("BT", {}), 0),
            TestFunction("GH", lambda x, t: l1_of(x), lambda x, t: ("GH", {}), 0),
            TestFunction("ZH", zh, lambda x, t: ("ZH", {}) if problem.kappa(x) > 0 else (None, {}), 0),
            TestFunction("HH", hh, hh_classify, 0)]


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------
def _merge(back, fwd):
    """Join a backward run (reversed, without its start) and a forward run."""
    if back is None:
        return fwd.xs, fwd.sigmas, fwd.events, 0
    mb = len(back.xs)
    xs = np.concatenate([back.xs[::-1], fwd.xs[1:]], axis=0)
    sig = np.concatenate([-back.sigmas[::-1], fwd.sigmas[1:]])
    events = []
    for e in back.events:
        e = dict(e)
        e["row"] = mb - 2 - e["row"]
        events.append(e)
    for e in fwd.events:
        e = dict(e)
        e["row"] = e["row"] + mb - 1
        events.append(e)
    return xs, sig, events, mb - 1


def continue_codim2(model: Model, point: BifurcationPoint, param2: str = "lam", *, param: str | None = None,
                    options: ContinuationOptions | None = None,
                    bounds: Mapping[str, tuple[float, float]] | None = None, bidirectional: bool = True,
                    **kwargs: Any) -> Branch:
    """Continue a located BP, LP or HB point (or an LPC / PD / NS point of a cycle branch) in two parameters.

    An LPC, PD or NS point of a :class:`~bifurcate.cycles.CycleBranch` is passed on to
    :func:`bifurcate.cycles.continue_cycle_codim2` (minimally augmented collocation systems; the
    result is a ``CycleBranch`` of kind "LPC", "PD" or "NS"; keyword ``stops`` is accepted there).

    Parameters
    ----------
    model : Model
    point : BifurcationPoint
        A point of an equilibrium branch (kind "BP", "LP" or "HB").
    param2 : str
        The second free parameter.
    param : str, optional
        The first parameter (default: the branch parameter recorded in ``point.data["param_name"]``).
    options : ContinuationOptions, optional
        Step control; ``p_min``/``p_max`` bound ``param2``. Keyword arguments override fields.
    bounds : mapping name -> (lo, hi), optional
        Bounds for either parameter (override ``p_min``/``p_max`` for ``param2``).
    bidirectional : bool
        Continue both ways from the point and join the two halves.

    Returns
    -------
    Branch
        ``kind`` is "BP", "LP" or "HB"; ``param`` is the first parameter, ``columns`` holds the
        second parameter, ``arclength`` and, for Hopf curves, ``kappa`` (omega^2; negative on the
        neutral-saddle continuation), ``omega``, ``l1`` and ``segment`` ("HB" or "NSad").
        ``points`` are the codimension-two points (BT, GH, ZH, HH), each with ``params`` holding
        both parameter values. ``.to_frame()`` has both parameters as columns.

    References
    ----------
    Kuznetsov, Elements of Applied Bifurcation Theory (3rd ed.), Sec. 10.2-10.3; Govaerts (2000).
    """
    t_start = time.perf_counter()
    if not isinstance(point, BifurcationPoint):
        raise TypeError(f"point must be a BifurcationPoint (from a branch's .special()), got {type(point).__name__}")
    if point.kind in ("LPC", "PD", "NS"):  # a point of a cycle branch: minimally augmented collocation
        from bifurcate.cycles.codim2 import continue_cycle_codim2

        return continue_cycle_codim2(model, point, param2, param=param, options=options, bounds=bounds,
                                     bidirectional=bidirectional, **kwargs)
    if point.kind not in ("BP", "LP", "HB"):
        raise ValueError(f"expected a BP, LP or HB point (or LPC / PD / NS of a cycle branch), got {point.kind!r}")
    param = param or point.data.get("param_name")
    if param is None:
        raise ValueError("expected the first parameter: pass param=... (the point has no 'param_name')")
    for nm, v in (("param", param), ("param2", param2)):
        try:
            model.param_index(v)
        except KeyError as exc:
            raise KeyError(f"{nm}: {exc.args[0]}") from None
        if v in model.fixed:
            raise KeyError(f"{nm}: {v!r} is fixed in {model.name}; expected one of "
                           f"{[q for q in model.param_names if q not in model.fixed]}")
    i1, i2 = model.param_index(param), model.param_index(param2)
    if i1 == i2:
        raise ValueError(f"param2 must differ from the continued parameter param={param!r}; expected two "
                         f"different parameters, got {param!r} twice")
    opts = options_with(options, kwargs)
    pd_ = {k: v for k, v in point.params.items() if k not in model.fixed}
    p = model.pack_params(pd_)
    y = np.array(point.state, dtype=float)
    bnds = {param2: (opts.p_min, opts.p_max)}
    if bounds is not None and not isinstance(bounds, Mapping):
        raise TypeError(f"bounds must be a mapping name -> (low, high), got {type(bounds).__name__}")
    for k, v in (bounds or {}).items():
        try:
            model.param_index(k)
        except KeyError as exc:
            raise KeyError(f"bounds: {exc.args[0]}") from None
        if k in model.fixed:
            raise KeyError(f"bounds: {k!r} is fixed in {model.name}; expected one of "
                           f"{[q for q in model.param_names if q not in model.fixed]}")
        lo, hi = check_interval(f"bounds[{k!r}]", v)   # finite, low < high (a reversed pair is refused)
        bnds[k] = (lo, hi)

    if point.kind in ("BP", "LP"):
        Q = None
        kind = point.kind
        if point.kind == "BP":
            _, _, Vt = np.linalg.svd(model.jacobian(y, pd_))
            phi = Vt[-1]
            for s in model.symmetries:
                if (not s.reverses_time and np.max(np.abs(s.matrix @ y - y)) < 1e-8
                        and np.max(np.abs(s.matrix @ phi + phi)) < 1e-6):
                    Q = _fix_basis(s.matrix)
                    break
            if Q is None:
                raise ValueError("expected a symmetry-breaking BP (a symmetry fixing the state and reversing the "
                                 "critical eigenvector); a generic BP is not a codimension-one phenomenon")
        problem = FoldProblem(model, p, i1, i2, opts.fd_step, y, Q)
        x0 = problem.x_of(y, p[i1], p[i2])
        tests = _fold_tests(problem, opts) if opts.detect_codim2 else []
    else:
        kind = "HB"
        problem = HopfProblem(model, p, i1, i2, opts.fd_step)
        from bifurcate.continuation.hopf import hopf_eigen

        omega, q, _ = hopf_eigen(model.jacobian(y, pd_))
        v = q.real / np.linalg.norm(q.real) if np.linalg.norm(q.real) > 1e-8 else q.imag / np.linalg.norm(q.imag)
        x0 = np.concatenate([y, v, [omega ** 2, p[i1], p[i2]]])
        problem.update(x0)
        problem.x_start = x0
        tests = _hopf_tests(problem, opts) if opts.detect_codim2 else []
    nx = x0.size
    bidx = {nx - 2: bnds.get(param, (-math.inf, math.inf)), nx - 1: bnds[param2]}
    # tangent: null vector of G_x, oriented towards increasing param2 (for ds > 0)
    _, _, Vt = np.linalg.svd(problem.jacobian(x0))
    t0 = Vt[-1] / np.linalg.norm(Vt[-1])
    direction = np.sign(opts.ds)
    if (t0[-1] if abs(t0[-1]) > 1e-12 else t0[-2]) * direction < 0:
        t0 = -t0
    state0 = {k: np.copy(getattr(problem, k)) for k in ("b", "c", "v0", "w0") if hasattr(problem, k)}
    fwd = continue_curve(problem, x0, t0, opts, tests, bounds=bidx)
    back = None
    if bidirectional:
        for k, v in state0.items():
            setattr(problem, k, v)
        back = continue_curve(problem, x0, -t0, opts, tests, bounds=bidx)
    xs, sig, events, _ = _merge(back, fwd)
    status = fwd.status if back is None else min(fwd.status, back.status)
    message = fwd.message if back is None else f"forward: {fwd.message}; backward: {back.message}"
    Y = np.array([problem.state(x) for x in xs])
    ev = np.array([problem.eigenvalues(x) for x in xs])
    stable, n_uns = classify_spectrum(ev, opts.stab_tol)
    p1v, p2v = xs[:, -2], xs[:, -1]
    columns = {param2: p2v, "arclength": sig}
    if kind == "HB":
        kap = xs[:, 2 * model.n]
        columns["kappa"] = kap
        columns["omega"] = np.where(kap > 0, np.sqrt(np.abs(kap)), np.nan)
        columns["segment"] = np.where(kap > 0, "HB", "NSad").astype(object)
        columns["l1"] = np.array([first_lyapunov_coefficient(model, x[:model.n], problem.pvec(x))[0]
                                  if x[2 * model.n] > 0 else np.nan for x in xs])
    points = []
    for e in events:
        tf = tests[e["test"]]
        x = e["x"]
        lab, data = tf.classify(x, e["t"]) if tf.classify else (tf.kind, {})
        if lab is None:
            continue
        row = int(e["row"])
        pp = problem.pvec(x)
        data = dict(data)
        data.update(param_name=param, param2=param2, sigma=float(e["sigma"]), curve=kind)
        if kind == "HB":
            data["kappa"] = float(problem.kappa(x))
        prec = float(max(abs(e["x_hi"][-1] - e["x_lo"][-1]), abs(e["x_hi"][-2] - e["x_lo"][-2])))
        points.append(BifurcationPoint(kind=lab, param=float(x[-2]), state=problem.state(x), params=model.unpack_params(pp),
                                       index=max(0, min(row, len(xs) - 2)), located=bool(e["located"]), precision=prec,
                                       bracket=(float(p1v[max(0, min(row, len(xs) - 1))]),
                                                float(p1v[max(0, min(row + 1, len(xs) - 1))])),
                                       eigenvalues=problem.eigenvalues(x), data=data))
    points.sort(key=lambda q: q.index)
    stats = {"forward": fwd.stats, "backward": back.stats if back else None,
             "wall_time": time.perf_counter() - t_start}
    return Branch(model=model, param=param, kind=kind, params={k: v for k, v in model.params(pd_).items() if k != param},
                  param_values=p1v, states=Y, eigenvalues=ev, stable=stable, n_unstable=n_uns, points=tuple(points),
                  columns=columns, status=status, message=message, options=opts, stats=stats)
