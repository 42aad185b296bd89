"""Periodic orbits by orthogonal collocation, and their pseudo-arclength continuation in one parameter.

Discretisation (as in AUTO-07p and MatCont): time is rescaled to [0, 1], the period ``T`` becomes
an unknown, and [0, 1] is cut into ``ntst`` mesh intervals of widths ``h_j``; on each the orbit is
a polynomial of degree ``ncol`` given by its values at ``ncol + 1`` equispaced nodes (the last
node of one interval is the first of the next, and node ``ntst * ncol`` is node 0: periodicity
is built in). The ODE ``u' = T f(u; p)`` is imposed at the ``ncol`` Gauss-Legendre points of each
interval (superconvergence O(h^{2 ncol}) at the mesh points). The integral phase condition

    int_0^1 <u(t), u_ref'(t)> dt = 0

fixes the time shift against the previous orbit ``u_ref``; the pseudo-arclength condition
``<X - X_prev, tau_prev>_W = ds`` closes the system. The Jacobian is sparse (one dense block per
interval, plus the T and p columns and two dense rows). It is solved as AUTO-07p does: the
interior node values of each interval are eliminated locally ("condensation of parameters"), the
remaining periodic block-bidiagonal system in the mesh-point values is reduced by orthogonal
elimination, interval after interval, and the small final system (the mesh point 0, the period,
the parameter) is solved densely (:func:`solve_condensed`, kernels in
:mod:`bifurcate.kernels.condensation`); ``solver="sparse"`` assembles the matrix and uses SuperLU
instead (the reference of the tests).

Mesh adaptation equidistributes ``|u^{(ncol+1)}|^{1/(ncol+1)}`` (the AUTO-07p monitor), with the
derivative estimated from the jumps of the piecewise-constant ``u^{(ncol)}``.

References
----------
E. Doedel et al., AUTO-07p manual, chap. 7 (collocation, phase and arclength conditions);
Y. A. Kuznetsov, Elements of Applied Bifurcation Theory (2004), sec. 10.3.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from bifurcate.continuation.options import OPTION_ALIASES, RENAMED_OPTIONS, ContinuationOptions, canonical_names
from bifurcate.model import Model
from bifurcate.validation import check_bool, check_count, check_real

__all__ = ["CycleOptions", "Collocation", "colloc_eval_numpy", "lagrange_tables", "collocation_kernels",
           "solve_condensed", "condense_blocks", "SOLVERS"]

#: Linear solvers of the Newton corrector: the condensed structured elimination (default) and the
#: assembled sparse LU (reference).
SOLVERS = ("condensed", "sparse")


# ------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------
@canonical_names(RENAMED_OPTIONS, OPTION_ALIASES)
@dataclass(frozen=True)
class CycleOptions(ContinuationOptions):
    """Options of cycle continuation: the continuation core's
    :class:`~bifurcate.continuation.ContinuationOptions` (one object for every problem; its fields
    keep their names, units and meanings here) plus what is about cycles. Frozen; change with
    :func:`dataclasses.replace`; :meth:`from_options` reads any ``ContinuationOptions``.

    Defaults that differ from the core's (those cycle branches have always used): ``ds = 0.02``,
    ``ds_max = 0.2``, ``max_steps = 199`` (200 points), ``newton_tol = 1e-9``,
    ``locate_tol = 1e-9``, ``max_angle = acos(0.8)``, ``shrink = 0.6``, ``slow_newton = 6``.

    Attributes
    ----------
    ds, ds_min, ds_max : float
        Initial, smallest and largest pseudo-arclength step (in the weighted norm: L2 in time of
        the orbit, plus the parameter, plus the period times ``period_weight``); ``ds > 0``, the
        first direction is ``direction``. Near a saddle the change of the period per step is also
        limited (:meth:`~bifurcate.cycles.continuation.CycleProblem.period_step`).
    max_steps : int
        Continuation steps at most: at most ``max_steps + 1`` cycles, the start included. The
        alias ``max_points`` (the number of cycles, as cycle branches have always counted them)
        maps exactly onto it: ``max_points=N`` is ``max_steps=N - 1``.
    p_min, p_max : float
        Stop when the continuation parameter leaves [p_min, p_max] (the last point on the bound).
    newton_tol : float
        Newton converges when the update's max-norm is below this (and the residual below 10x).
    newton_maxiter, max_angle, growth, shrink, slow_newton, locate, locate_maxiter :
        The core's step control, corrector and localisation (see ``ContinuationOptions``).
    locate_tol : float
        Width of the final arclength bracket of a located point (the continuation core localises in
        arclength, so a fold of cycles is located to this in every component).
    ntst, ncol : int
        Mesh intervals and collocation points per interval (AUTO's NTST, NCOL).
    direction : {+1, -1}
        Initial direction of the parameter (from a simulated orbit) or sign of the first step.
    adapt_every : int
        Re-distribute the mesh every this many points (0: never).
    detect : bool
        Detect and locate LPC, PD, NS (and BPC) points.
    max_period : float
        Stop (status -3) when the period exceeds this: a homoclinic limit is near.
    max_period_growth : float
        Stop (status -3) when the period exceeds this multiple of the first period.
    vertical_tol : float
        |dp/ds| below this on ``vertical_points`` successive points with a second multiplier at 1
        means a vertical (degenerate: reversible or conservative) family: stop with status -2.
    vertical_points : int
    amplitude_min : float
        Stop (status 0) when the cycle shrinks below this amplitude (back to an equilibrium).
    floquet : bool
        Compute Floquet multipliers at every point (needed for stability and PD / NS).
    floquet_tol : float
        Multipliers are trusted while the trivial one is within this of 1; beyond, the branch stops
        (status -5) unless it is approaching a homoclinic orbit (then it goes on, the points marked
        ``floquet_ok`` False and carrying no labels).
    ntst_max : int or None
        When the trivial multiplier drifts beyond ``floquet_tol`` (a discretisation error: the
        multipliers of long, fast-slow cycles near a homoclinic orbit need a finer mesh), the mesh
        is doubled and the cycle re-converged, up to this many intervals (None: 4 * ntst); only
        beyond it are rows marked ``floquet_ok`` False.
    homoclinic_tol : float
        Stop (status -3) when the homoclinic evidence holds and the parameter is within this
        (relative to max(1, |p|)) of the limit extrapolated by the logarithmic period law.
    period_weight : float
        Weight of the period in the arclength norm of the continuation (the orbit counts by its
        L2 norm over the unit interval, the parameter with weight 1). The default 0 is AUTO-07p's
        (its THL gives PAR(11), the period, no weight): a step measures how far the orbit and the
        parameter move, so a stretch where the period grows fast towards a homoclinic orbit is
        not cut into many short steps. 1 counts the period like a state component.
    normal_forms : bool
        Compute the periodic normal-form coefficient (``b`` at LPC, ``c`` at PD, ``d`` at NS, with
        the criticality; :mod:`bifurcate.cycles.normal_forms`) of every located LPC / PD / NS point
        (default True; about 15 ms per point at NTST 60). False leaves ``data`` without them.

    The equilibrium settings (``detect_lp``, ``detect_bp``, ``detect_hb``, ``stab_tol``,
    ``l1_tol``) are not read on a cycle branch; ``fd_step`` and ``detect_codim2`` are read when
    the object is passed to a two-parameter curve.
    """

    # the core's fields, with the defaults of cycle branches
    ds: float = 0.02
    ds_max: float = 0.2
    max_steps: int = 199
    newton_tol: float = 1e-9
    max_angle: float = math.acos(0.8)
    shrink: float = 0.6
    slow_newton: int | None = 6
    locate_tol: float = 1e-9
    # what is about cycles
    ntst: int = 40
    ncol: int = 4
    direction: int = 1
    adapt_every: int = 3
    detect: bool = True
    max_period: float = 1e4
    max_period_growth: float = 50.0
    vertical_tol: float = 1e-8
    vertical_points: int = 3
    amplitude_min: float = 1e-7
    floquet: bool = True
    floquet_tol: float = 1e-4
    homoclinic_tol: float = 1e-6
    ntst_max: int | None = None
    period_weight: float = 0.0
    normal_forms: bool = True

    def __post_init__(self):
        for name in ("ntst", "ncol"):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"expected ntst and ncol to be integers, got {name}={v!r}")
        if self.ntst < 2 or self.ncol < 1 or self.ncol > 7:
            raise ValueError(f"expected ntst >= 2 and 1 <= ncol <= 7, got ntst={self.ntst}, ncol={self.ncol}")
        if isinstance(self.direction, (bool, np.bool_)) or self.direction not in (1, -1):
            raise ValueError(f"expected direction +1 or -1, got {self.direction!r}")
        if isinstance(self.ds, (int, float)) and self.ds < 0:
            raise ValueError(f"expected ds > 0 for a cycle branch (its first direction is direction=+1 or -1), "
                             f"got ds={self.ds!r}")
        super().__post_init__()   # the core's fields: counts, ds range, tolerances, step control
        check_count("adapt_every", self.adapt_every, minimum=0)
        check_count("vertical_points", self.vertical_points)
        for name in ("detect", "floquet"):
            check_bool(name, getattr(self, name))
        if not isinstance(self.normal_forms, (bool, np.bool_)):
            raise ValueError(f"normal_forms must be True or False, got {self.normal_forms!r}")
        if self.ntst_max is not None:
            check_count("ntst_max", self.ntst_max)
            if self.ntst_max < self.ntst:
                raise ValueError(f"expected ntst_max >= ntst (or None), got ntst_max={self.ntst_max}, "
                                 f"ntst={self.ntst}")
        for name in ("floquet_tol", "homoclinic_tol"):
            if not check_real(name, getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("vertical_tol", "amplitude_min"):
            if not check_real(name, getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not (isinstance(self.period_weight, (int, float)) and not isinstance(self.period_weight, bool)
                and math.isfinite(self.period_weight)
                and self.period_weight >= 0):
            raise ValueError(f"period_weight must be a finite number >= 0, got {self.period_weight!r}")
        check_real("max_period", self.max_period, allow_inf=True)
        check_real("max_period_growth", self.max_period_growth, allow_inf=True)
        if not (self.max_period > 0 and self.max_period_growth > 1):
            raise ValueError(f"expected max_period > 0 and max_period_growth > 1, got max_period={self.max_period}, "
                             f"max_period_growth={self.max_period_growth}")

    @classmethod
    def from_options(cls, options: ContinuationOptions | None = None, **changes) -> "CycleOptions":
        """The cycle options of ``options`` with ``changes`` (fields or the alias ``max_points``).

        A ``CycleOptions`` is used as it is; a plain :class:`ContinuationOptions` has every one of
        its fields read as it is (its own values, not the cycle defaults), the cycle fields at
        their defaults, and a negative ``ds`` read as ``direction=-1`` (the core's convention);
        None gives the defaults."""
        if options is None:
            opts = cls()
        elif isinstance(options, cls):
            opts = options
        elif isinstance(options, ContinuationOptions):
            core = {f.name: getattr(options, f.name) for f in fields(ContinuationOptions)}
            if core["ds"] < 0:
                core["ds"], core["direction"] = -core["ds"], -1
            opts = cls(**core)
        else:
            raise TypeError(f"options must be a CycleOptions or a ContinuationOptions, got {type(options).__name__}")
        return replace(opts, **changes) if changes else opts


# ------------------------------------------------------------------------------------------
# Lagrange tables
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def lagrange_tables(m: int):
    """Tables of the degree-``m`` Lagrange basis on the equispaced nodes l/m of [0, 1].

    Returns
    -------
    z : (m,) Gauss-Legendre points in [0, 1]
    L, D : (m, m + 1) basis values and first derivatives at ``z``
    Dn : (m + 1, m + 1) first derivatives at the nodes
    wq : (m + 1,) quadrature weights of the nodes (integrals of the basis over [0, 1])
    Dm : (m + 1,) the m-th derivatives of the basis (constants)
    """
    xi = np.linspace(0.0, 1.0, m + 1)
    z = 0.5 * (np.polynomial.legendre.leggauss(m)[0] + 1.0)
    polys = []
    for l in range(m + 1):
        others = np.delete(xi, l)
        c = np.poly(others) / np.prod(xi[l] - others)
        polys.append(np.poly1d(c))
    L = np.array([[P(zz) for P in polys] for zz in z])
    D = np.array([[P.deriv()(zz) for P in polys] for zz in z])
    Dn = np.array([[P.deriv()(x) for P in polys] for x in xi])
    wq = np.array([P.integ()(1.0) - P.integ()(0.0) for P in polys])
    Dm = np.array([P.deriv(m)(0.0) if m > 0 else P(0.0) for P in polys])
    return z, L, D, Dn, wq, Dm


@lru_cache(maxsize=16)
def _lagrange_denominators(m: int):
    xi = np.linspace(0.0, 1.0, m + 1)
    den = xi[:, None] - xi[None, :]
    np.fill_diagonal(den, 1.0)
    return xi, np.prod(den, axis=1)


def basis_at(m: int, s: np.ndarray) -> np.ndarray:
    """Values (len(s), m + 1) of the Lagrange basis at local coordinates ``s`` in [0, 1]."""
    xi, den = _lagrange_denominators(m)
    s = np.asarray(s, dtype=float).ravel()
    d = s[:, None] - xi[None, :]  # (S, m + 1)
    one = np.ones((s.size, 1))
    # prod_{q != l} (s - xi_q) as (product of the factors left of l) x (right of l): no division
    left = np.concatenate([one, np.cumprod(d[:, :-1], axis=1)], axis=1)
    right = np.concatenate([np.cumprod(d[:, :0:-1], axis=1)[:, ::-1], one], axis=1)
    return left * right / den


# ------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------
def collocation_kernels(model: Model):
    """The generated collocation kernel module of ``model`` (numba-cached on disk)."""
    from pathlib import Path

    from bifurcate.kernels import codegen

    codegen.TEMPLATES.setdefault("collocation", Path(codegen.__file__).resolve().parent / "collocation_template.py")
    return codegen.model_kernels(model, template="collocation")


def colloc_eval_numpy(model: Model, U, T, p, ip, h, L, D, eps_p):
    """Numpy twin of the compiled ``colloc_eval`` (returns R, B, BT, BP; see the template)."""
    ntst, (m, _) = h.shape[0], L.shape
    N, n = U.shape
    R = np.empty((ntst, m, n))
    B = np.empty((ntst, m, n, m + 1, n))
    BT = np.empty((ntst, m, n))
    BP = np.empty((ntst, m, n))
    fx, fp, fm, Jx = np.empty(n), np.empty(n), np.empty(n), np.empty((n, n))
    for j in range(ntst):
        idx = (j * m + np.arange(m + 1)) % N
        Uj = U[idx]
        for k in range(m):
            x = L[k] @ Uj
            model.rhs(x, p, fx)
            model.jac(x, p, Jx)
            pp = p.copy()
            pp[ip] += eps_p
            model.rhs(x, pp, fp)
            pp[ip] = p[ip] - eps_p
            model.rhs(x, pp, fm)
            R[j, k] = D[k] @ Uj - h[j] * T * fx
            BT[j, k] = -h[j] * fx
            BP[j, k] = -h[j] * T * (fp - fm) / (2 * eps_p)
            B[j, k] = (D[k][None, :, None] * np.eye(n)[:, None, :]) - h[j] * T * L[k][None, :, None] * Jx[:, None, :]
    return R, B, BT, BP


# ------------------------------------------------------------------------------------------
# the condensed solve
# ------------------------------------------------------------------------------------------
def condense_blocks(B: np.ndarray, Z: np.ndarray | None = None, rc: np.ndarray | None = None,
                    border: np.ndarray | None = None, rb: np.ndarray | None = None) -> dict:
    """Eliminate the interior node values of each mesh interval (condensation of parameters).

    Parameters
    ----------
    B : (K, m, n, m + 1, n) collocation blocks (as from :meth:`Collocation.evaluate`).
    Z : (K, m, n, nz), optional: columns of extra unknowns (period, parameter); default none.
    rc : (K, m, n, nr), optional: right-hand sides of the collocation rows; default none.
    border : (nb, K m n + nz), optional: dense border rows; rb : (nb, nr) their right-hand sides.

    Returns
    -------
    dict with ``A, C`` (K, n, n), ``E`` (K, n, nz), ``r`` (K, n, nr): the condensed equations
    ``A_j y_j + C_j y_{j+1} + E_j z = r_j`` in the mesh-point values ``y_j``; ``Bm`` (nb, K, n),
    ``Bz`` (nb, nz), ``rbz`` (nb, nr): the border rows on ``(y, z)``; ``Wk`` the triangularised
    interval systems (for :func:`solve_condensed`'s back-substitution).

    Raises
    ------
    numpy.linalg.LinAlgError
        If an interval's interior columns are exactly rank deficient.
    """
    from bifurcate.kernels.condensation import condense_intervals

    B = np.ascontiguousarray(B, dtype=float)
    if B.ndim != 5 or B.shape[4] != B.shape[2] or B.shape[3] != B.shape[1] + 1:
        raise ValueError(f"B must have shape (K, m, n, m + 1, n), got {B.shape}")
    K, m, n = B.shape[:3]
    Z = np.zeros((K, m, n, 0)) if Z is None else np.ascontiguousarray(Z, dtype=float)
    rc = np.zeros((K, m, n, 0)) if rc is None else np.ascontiguousarray(rc, dtype=float)
    nz, nr = Z.shape[3], rc.shape[3]
    border = np.zeros((0, K * m * n + nz)) if border is None else np.ascontiguousarray(border, dtype=float)
    rb = np.zeros((border.shape[0], nr)) if rb is None else np.ascontiguousarray(rb, dtype=float)
    if Z.shape[:3] != (K, m, n) or rc.shape[:3] != (K, m, n):
        raise ValueError(f"Z and rc must have shape (K, m, n, .) = {(K, m, n)}, got {Z.shape}, {rc.shape}")
    if border.shape[1] != K * m * n + nz or rb.shape != (border.shape[0], nr):
        raise ValueError(f"border must be (nb, {K * m * n + nz}) and rb (nb, {nr}), got {border.shape}, {rb.shape}")
    nb = border.shape[0]
    out = {"Wk": np.empty((K, m * n, (m + 1) * n + nz + nr)), "A": np.empty((K, n, n)), "C": np.empty((K, n, n)),
           "E": np.empty((K, n, nz)), "r": np.empty((K, n, nr)), "Bm": np.empty((nb, K, n)),
           "Bz": np.empty((nb, nz)), "rbz": np.empty((nb, nr))}
    st = condense_intervals(B, Z, rc, border, rb, out["Wk"], out["A"], out["C"], out["E"], out["r"], out["Bm"],
                            out["Bz"], out["rbz"])
    if st != 0:
        raise np.linalg.LinAlgError(f"the interior collocation block of mesh interval {st - 1} is singular")
    return out


def solve_condensed(B: np.ndarray, Z: np.ndarray, border: np.ndarray, rc: np.ndarray, rb: np.ndarray,
                    return_blocks: bool = False):
    """Solve the bordered collocation system by condensation and structured elimination.

    The system (``N = K m`` nodes, ``nz`` extra unknowns, ``nb = nz`` border rows) is::

        [ block-diagonal collocation B | Z ] [ U ]   [ rc ]
        [            border             ] [ z ] = [ rb ]

    with the nodes periodic (node ``K m`` is node 0). Cost O(K m^3 n^3), no fill-in, no pivoting
    across intervals (orthogonal eliminations only).

    Parameters
    ----------
    B : (K, m, n, m + 1, n); Z : (K, m, n, nz); border : (nb, K m n + nz);
    rc : (K, m, n, nr) or (K, m, n); rb : (nb, nr) or (nb,).

    Returns
    -------
    x : (K m n + nz, nr), or (K m n + nz,) when the right-hand sides are vectors.
    blocks : dict, with ``return_blocks``: the output of :func:`condense_blocks`.

    Raises
    ------
    numpy.linalg.LinAlgError
        If the system is exactly singular (a vanishing pivot column).
    """
    from bifurcate.kernels.condensation import back_substitute_intervals, solve_periodic

    vec = np.ndim(rc) == 3
    rc = np.asarray(rc, dtype=float)
    rb = np.asarray(rb, dtype=float)
    if vec:
        rc, rb = rc[..., None], rb[:, None]
    border = np.asarray(border, dtype=float)
    if border.shape[0] != np.shape(Z)[3]:
        raise ValueError(f"expected as many border rows as extra unknowns, got {border.shape[0]} rows and "
                         f"{np.shape(Z)[3]} unknowns")
    c = condense_blocks(B, Z, rc, border, rb)
    K, m, n = B.shape[:3]
    nz, nr = c["E"].shape[2], c["r"].shape[2]
    S = np.empty((K, n, 3 * n + nz + nr))
    y = np.empty((K, n, nr))
    z = np.empty((nz, nr))
    st = solve_periodic(c["A"], c["C"], c["E"], c["r"], c["Bm"], c["Bz"], c["rbz"], S, y, z)
    if st != 0:
        raise np.linalg.LinAlgError("the condensed periodic system is singular "
                                    f"({'at mesh point ' + str(st) if st < K else 'in the final block'})")
    x = np.empty((K * m, n, nr))
    back_substitute_intervals(c["Wk"], y, z, m, x)
    out = np.concatenate([x.reshape(K * m * n, nr), z])
    out = out[:, 0] if vec else out
    return (out, c) if return_blocks else out


# ------------------------------------------------------------------------------------------
# the discretised problem
# ------------------------------------------------------------------------------------------
class Collocation:
    """The collocation system of one model on one mesh.

    Unknowns ``X = (U.ravel(), T, p)`` with ``U`` (N, n), N = ntst * ncol node values.

    Parameters
    ----------
    model : Model
    p : (n_params,) parameter vector (the continuation entry is overwritten from ``X``)
    ip : int, index of the continuation parameter
    mesh : (ntst + 1,) mesh points in [0, 1] (0 and 1 included)
    ncol : int
    use_numba : bool
        Evaluate the blocks with the model's compiled kernel (else the numpy twin).
    solver : {"condensed", "sparse"}
        Linear solver of :meth:`newton` and :meth:`tangent` (see :data:`SOLVERS`).
    """

    def __init__(self, model: Model, p: np.ndarray, ip: int, mesh: np.ndarray, ncol: int, use_numba: bool = True,
                 solver: str = "condensed"):
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        self.solver = solver
        self.model = model
        self.p = np.array(p, dtype=float)
        self.ip = int(ip)
        self.mesh = np.asarray(mesh, dtype=float)
        self.h = np.diff(self.mesh)
        self.ntst = self.h.size
        self.m = int(ncol)
        self.n = model.n
        self.N = self.ntst * self.m
        self.nx = self.N * self.n + 2
        self.z, self.L, self.D, self.Dn, self.wq, self.Dm = lagrange_tables(self.m)
        self._kern = collocation_kernels(model).colloc_eval if use_numba else None
        self._build_pattern()
        # node quadrature weights (shared nodes summed) and the inner-product weights of X
        hw = self.h[:, None] * self.wq[None, :]  # (ntst, m + 1)
        w = hw[:, : self.m].ravel().copy()
        w[:: self.m] += np.roll(hw[:, self.m], 1)  # the last node of interval j is node 0 of j + 1
        self.node_w = w
        self.W = np.concatenate([np.repeat(w, self.n), [1.0, 1.0]])

    # -- layout ----------------------------------------------------------------------------
    def _build_pattern(self):
        r = np.arange(self.N * self.n)
        self._rows_T = r
        self._rows_P = r

    @cached_property
    def _rows_B(self) -> np.ndarray:
        return self._pattern_B()[0]

    @cached_property
    def _cols_B(self) -> np.ndarray:
        return self._pattern_B()[1]

    def _pattern_B(self):
        """Row and column indices of the entries of the blocks B in the assembled matrix (built
        on first use: the condensed solver never needs them)."""
        ntst, m, n, N = self.ntst, self.m, self.n, self.N
        j, k, i, l, i2 = np.meshgrid(np.arange(ntst), np.arange(m), np.arange(n), np.arange(m + 1), np.arange(n),
                                     indexing="ij")
        return ((j * m + k) * n + i).ravel(), ((((j * m + l) % N) * n) + i2).ravel()

    def times(self) -> np.ndarray:
        """Times (N,) in [0, 1) of the nodes."""
        xi = np.linspace(0.0, 1.0, self.m + 1)[:-1]
        return (self.mesh[:-1, None] + self.h[:, None] * xi[None, :]).ravel()

    def split(self, X):
        U = X[: self.N * self.n].reshape(self.N, self.n)
        return U, X[-2], X[-1]

    def pack(self, U, T, pval):
        return np.concatenate([np.asarray(U, float).ravel(), [T, pval]])

    def params_of(self, X) -> np.ndarray:
        p = self.p.copy()
        p[self.ip] = X[-1]
        return p

    def dot(self, a, b) -> float:
        """Weighted inner product (L2 in time for the orbit part)."""
        return float(np.sum(self.W * a * b))

    def norm(self, a) -> float:
        return math.sqrt(max(self.dot(a, a), 0.0))

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, X):
        """Residual blocks and derivative blocks at ``X`` (see the kernel template)."""
        U, T, pv = self.split(X)
        p = self.params_of(X)
        eps_p = 1e-6 * max(1.0, abs(pv))
        if self._kern is not None:
            R = np.empty((self.ntst, self.m, self.n))
            B = np.empty((self.ntst, self.m, self.n, self.m + 1, self.n))
            BT = np.empty_like(R)
            BP = np.empty_like(R)
            st = self._kern(np.ascontiguousarray(U), float(T), p, self.ip, self.h, self.L, self.D, eps_p, R, B, BT, BP)
            if st != 0:
                raise FloatingPointError("non-finite value in the collocation residual")
            return R, B, BT, BP
        return colloc_eval_numpy(self.model, np.ascontiguousarray(U), float(T), p, self.ip, self.h, self.L, self.D,
                                 eps_p)

    def phase_row(self, Uref) -> np.ndarray:
        """Coefficients c (N n,) of the phase condition sum c . U = int <u, u_ref'> dt."""
        m, N = self.m, self.N
        idx = (np.arange(self.ntst)[:, None] * m + np.arange(m + 1)[None, :]) % N
        # h_j (quadrature) times u_ref' = (Dn @ U) / h_j: the interval width cancels
        contrib = self.wq[None, :, None] * np.einsum("lk,jkn->jln", self.Dn, np.asarray(Uref, float)[idx])
        c = contrib[:, :m].reshape(N, self.n).copy()
        c[::m] += np.roll(contrib[:, m], 1, axis=0)
        return c.ravel()

    def system(self, X, phase_c, tau=None, Xprev=None, ds=0.0):
        """Residual F and sparse Jacobian of [collocation; phase; (arclength)].

        Without ``tau`` the Jacobian is (N n + 1) x (N n + 2) (for tangents); with ``tau`` the
        arclength row ``<X - Xprev, tau>_W - ds`` is appended and the system is square.
        """
        R, B, BT, BP = self.evaluate(X)
        return self.system_from_blocks(X, phase_c, R, B, BT, BP, tau, Xprev, ds)

    def system_from_blocks(self, X, phase_c, R, B, BT, BP, tau=None, Xprev=None, ds=0.0):
        """:meth:`system` from blocks already evaluated at ``X`` (``R, B, BT, BP`` of :meth:`evaluate`)."""
        Nn = self.N * self.n
        U = X[:Nn]
        rows = [self._rows_B, self._rows_T, self._rows_P, np.full(Nn, Nn)]
        cols = [self._cols_B, np.full(Nn, Nn), np.full(Nn, Nn + 1), np.arange(Nn)]
        data = [B.ravel(), BT.ravel(), BP.ravel(), phase_c]
        F = [R.ravel(), [phase_c @ U]]
        nrow = Nn + 1
        if tau is not None:
            wt = self.W * tau
            rows.append(np.full(self.nx, Nn + 1))
            cols.append(np.arange(self.nx))
            data.append(wt)
            F.append([wt @ (X - Xprev) - ds])
            nrow += 1
        Jm = self._assemble_csc(nrow, rows, cols, np.concatenate(data))
        return np.concatenate(F), Jm, B

    def _assemble_csc(self, nrow, rows, cols, data):
        """CSC matrix from the (fixed) pattern of :meth:`system`: the pattern is sorted once per
        shape and reused (the COO -> CSC conversion dominated the assembly)."""
        cache = self.__dict__.setdefault("_csc_patterns", {})
        pat = cache.get(nrow)
        if pat is None or pat[0].size != data.size:
            r, c = np.concatenate(rows), np.concatenate(cols)
            coo = sp.coo_matrix((np.arange(1, r.size + 1, dtype=float), (r, c)), shape=(nrow, self.nx))
            csc = coo.tocsc()
            if csc.nnz != r.size:  # duplicate entries: no one-to-one pattern to reuse
                return sp.csc_matrix((data, (r, c)), shape=(nrow, self.nx))
            pat = (csc.data.astype(np.int64) - 1, csc.indices.copy(), csc.indptr.copy())
            cache[nrow] = pat
        perm, indices, indptr = pat
        return sp.csc_matrix((data[perm], indices, indptr), shape=(nrow, self.nx))

    def _borders(self, X, phase_c, tau, Xprev, ds, fixed_param):
        """Border rows (2, nx) and their residuals (2,): the phase condition, then the
        arclength condition (or, with ``fixed_param``, the parameter pinned)."""
        Nn = self.N * self.n
        rows = np.zeros((2, self.nx))
        rows[0, :Nn] = phase_c
        Fb = np.empty(2)
        Fb[0] = phase_c @ X[:Nn]
        if fixed_param:
            rows[1, -1] = 1.0
            Fb[1] = X[-1] - Xprev[-1]
        else:
            rows[1] = self.W * tau
            Fb[1] = rows[1] @ (X - Xprev) - ds
        return rows, Fb

    def solve_bordered(self, B, BT, BP, rows, rc, rb):
        """Solve the bordered collocation system with blocks ``B, BT, BP`` (from :meth:`evaluate`),
        border ``rows`` (2, nx) and right-hand sides ``rc`` (N n,) or (N n, nr), ``rb`` (2,) or (2, nr).

        Uses :attr:`solver`; both solvers give the same solution to rounding."""
        rc = np.asarray(rc, dtype=float)
        vec = rc.ndim == 1
        rc2 = rc.reshape(self.N * self.n, -1)
        rb2 = np.asarray(rb, dtype=float).reshape(2, -1)
        if self.solver == "sparse":
            Nn = self.N * self.n
            Jm = self._assemble_csc(
                Nn + 2, [self._rows_B, self._rows_T, self._rows_P, np.repeat(Nn + np.arange(2), self.nx)],
                [self._cols_B, np.full(Nn, Nn), np.full(Nn, Nn + 1), np.tile(np.arange(self.nx), 2)],
                np.concatenate([np.ravel(B), np.ravel(BT), np.ravel(BP), rows.ravel()]))
            x = spla.splu(Jm).solve(np.vstack([rc2, rb2]))
        else:
            Z = np.stack([BT, BP], axis=-1)
            x, c = solve_condensed(B, Z, rows, rc2.reshape(self.ntst, self.m, self.n, -1), rb2, return_blocks=True)
            # the condensed blocks do not depend on the border or right-hand sides: the Floquet
            # multipliers of the converged cycle reuse them (cycle_floquet)
            self._condensed_cache = (B, c["A"], c["C"])
        return x[:, 0] if vec else x

    def tangent(self, X, phase_c, tau_prev, B=None):
        """Unit tangent (weighted norm) at ``X`` oriented like ``tau_prev`` (``B``: the blocks
        ``(B, BT, BP)`` at ``X`` if already evaluated)."""
        if B is None:
            last = self.__dict__.get("_last_blocks")
            B = last[1:] if last is not None and np.array_equal(last[0], X) else self.evaluate(X)[1:]
        Bb, BT, BP = B
        rows, _ = self._borders(X, phase_c, tau_prev, X, 0.0, False)
        rb = np.array([0.0, 1.0])
        t = self.solve_bordered(Bb, BT, BP, rows, np.zeros(self.N * self.n), rb)
        t /= self.norm(t)
        if self.dot(t, tau_prev) < 0:
            t = -t
        return t

    def newton(self, X0, phase_c, tau, Xprev, ds, tol, max_iter, fixed_param=False):
        """Newton's method on the bordered system. Returns (X, converged, n_iter, last B blocks).

        With ``fixed_param`` the last equation pins the parameter instead (natural continuation:
        used to correct a simulated orbit)."""
        X = X0.copy()
        B = None
        for it in range(1, max_iter + 1):
            R, B, BT, BP = self.evaluate(X)
            rows, Fb = self._borders(X, phase_c, tau, Xprev, ds, fixed_param)
            if not (np.all(np.isfinite(R)) and np.all(np.isfinite(Fb))):
                return X, False, it, B
            try:
                dx = self.solve_bordered(B, BT, BP, rows, -R.ravel(), -Fb)
            except (RuntimeError, np.linalg.LinAlgError):  # exactly singular
                return X, False, it, B
            if not np.all(np.isfinite(dx)):
                return X, False, it, B
            X = X + dx
            if X[-2] <= 0:
                return X, False, it, B
            if np.max(np.abs(dx)) < tol:
                R, B, BT, BP = self.evaluate(X)
                self._last_blocks = (X.copy(), B, BT, BP)  # the tangent at X reuses them
                if np.max(np.abs(R)) < 10 * tol * max(1.0, X[-2]):
                    return X, True, it, B
        return X, False, max_iter, B

    # -- orbit evaluation and mesh adaptation -----------------------------------------------
    def interval_nodes(self, U, j):
        return U[(j * self.m + np.arange(self.m + 1)) % self.N]

    def sample(self, U, t) -> np.ndarray:
        """The piecewise polynomial at times ``t`` (taken mod 1); returns (len(t), n)."""
        t = np.mod(np.asarray(t, dtype=float), 1.0)
        j = np.clip(np.searchsorted(self.mesh, t, side="right") - 1, 0, self.ntst - 1)
        s = (t - self.mesh[j]) / self.h[j]
        Lb = basis_at(self.m, s)
        idx = (j[:, None] * self.m + np.arange(self.m + 1)[None, :]) % self.N
        return np.einsum("ql,qln->qn", Lb, U[idx])

    def adapted_mesh(self, U, ntst: int | None = None) -> np.ndarray:
        """A new mesh (ntst + 1,) equidistributing |u^{(m+1)}|^{1/(m+1)} (AUTO-07p's monitor)."""
        ntst = self.ntst if ntst is None else int(ntst)
        m = self.m
        c = np.array([self.Dm @ self.interval_nodes(U, j) / self.h[j] ** m for j in range(self.ntst)])  # (ntst, n)
        hm = 0.5 * (self.h + np.roll(self.h, -1))
        d = (np.roll(c, -1, axis=0) - c) / hm[:, None]  # at the right end of each interval
        dmag = np.max(np.abs(d), axis=1)
        # average the two ends of each interval (periodic)
        mon = 0.5 * (dmag + np.roll(dmag, 1)) ** (1.0 / (m + 1))
        mon = mon + 0.05 * max(np.mean(mon), 1e-300)  # keep a floor: never starve a region
        cum = np.concatenate([[0.0], np.cumsum(mon * self.h)])
        cum /= cum[-1]
        new = np.interp(np.linspace(0.0, 1.0, ntst + 1), cum, self.mesh)
        new[0], new[-1] = 0.0, 1.0
        return new

    def remesh(self, X, mesh) -> tuple["Collocation", np.ndarray]:
        """The same problem on ``mesh`` and ``X`` interpolated onto it."""
        new = Collocation(self.model, self.p, self.ip, mesh, self.m, use_numba=self._kern is not None)
        U, T, pv = self.split(X)
        Un = self.sample(U, new.times())
        return new, new.pack(Un, T, pv)

    def remesh_vector(self, new: "Collocation", V) -> np.ndarray:
        """Interpolate a vector of unknowns (e.g. a tangent) onto ``new``'s mesh."""
        Uv = V[: self.N * self.n].reshape(self.N, self.n)
        return new.pack(self.sample(Uv, new.times()), V[-2], V[-1])
