"""Certified attractors: decide a trajectory's attractor without measuring its Lyapunov exponents.

The converged census measures every trajectory that is not at rest after the transient by
variational integration (at least ``t_min``, a zero exponent at least ``t_zero_min``). Many of
them are close to an attractor whose exponents are known exactly from linear algebra: a stable
equilibrium (tangent eigenvalues) or a stable limit cycle (Floquet multipliers). This module
certifies such trajectories (the idea of Attractors.jl's ``AttractorsViaProximity``, with a
certificate instead of a fixed distance):

* :func:`fp_basin_ball` / :func:`certify_fixed_points`: Newton from the trajectory's end point to
  an equilibrium ``x*``; its tangent eigenvalues all have real part below ``-margin``; and the end
  point lies in an ellipsoid ``{e : |L^T e| <= rho}`` (``P = L L^T`` solves ``A^T P + P A = -I``,
  ``A`` the Jacobian of the (radially damped) field at ``x*``) on which the logarithmic norm of the
  Jacobian in the P-metric stays below ``mu_P(A) / 2 < 0``: the P-distance to ``x*`` then decays
  along the whole segment from ``x*``, the ellipsoid is forward invariant and every trajectory in
  it converges to ``x*``. The Jacobian's variation on the ball is bounded through its first and
  second derivatives (finite differences: exact to rounding for fields that are polynomials of
  degree <= 3, as the mean-field spin models are; the degree is checked by a Taylor test at two
  far points and a model failing it gets no certificate).
* :func:`certify_cycle`: a trajectory whose samples return to a Poincare section with a period
  is polished by orthogonal collocation at fixed parameters (:class:`bifurcate.cycles.collocation.
  Collocation`, Newton, one mesh adaptation and a second Newton); the certificate needs the
  collocation period to agree with the trajectory's return time, the trajectory's last period to
  lie within ``tube`` of the polished orbit with the distances to it not growing, the Floquet
  multipliers (product-free :func:`bifurcate.cycles.floquet.cycle_floquet`) trusted and every
  nontrivial one inside the circle of radius ``exp(-margin T)``. The exponents are ``0`` and
  ``log|mu_k| / T``.

Anything not certified is left to the converged census unchanged (the caller falls back to the
variational measurement). Chaotic, quasi-periodic and neutral trajectories are never certified.

References
----------
G. Datseris, K. L. Rossi, A. Wagemakers, "Framework for global stability analysis of dynamical
systems", Chaos 33, 073151 (2023) (mapping initial conditions to attractors by proximity).
W. Lohmiller, J.-J. E. Slotine, "On contraction analysis for non-linear systems", Automatica 34,
683 (1998) (logarithmic norms and contraction regions).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bifurcate.model import Model

__all__ = ["BasinBall", "CycleCertificate", "fp_basin_ball", "certify_fixed_points", "certify_cycle",
           "orbit_distance"]


# --------------------------------------------------------------------------------------------
# fixed points
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BasinBall:
    """A certified basin ellipsoid of a stable equilibrium.

    Attributes
    ----------
    state : ndarray (n,)
    eigenvalues : ndarray (dim,) complex
        Tangent eigenvalues, decreasing real part.
    L : ndarray (n, n)
        Cholesky factor of the Lyapunov matrix P (the metric ``|e|_P = |L^T e|``).
    rho : float
        Radius of the certified ellipsoid in the P-metric (0: no certificate).
    mu : float
        Logarithmic norm of the Jacobian at the equilibrium in the P-metric (< 0).
    status : int
        0 certified; 1 not stable by the margin; 2 the Jacobian's variation could not be bounded
        (field not a polynomial of degree <= 3); 3 numerical failure.
    message : str
    """

    state: np.ndarray
    eigenvalues: np.ndarray
    L: np.ndarray = field(repr=False)
    rho: float
    mu: float
    status: int
    message: str

    @property
    def certified(self) -> bool:
        return self.status == 0 and self.rho > 0

    def p_distance(self, y: np.ndarray) -> np.ndarray:
        """P-metric distance of rows of ``y`` (m, n) to the equilibrium."""
        E = np.atleast_2d(np.asarray(y, float)) - self.state
        return np.linalg.norm(E @ self.L, axis=1)

    def contains(self, y: np.ndarray) -> np.ndarray:
        """Whether each row of ``y`` lies strictly inside the certified ellipsoid."""
        if not self.certified:
            return np.zeros(np.atleast_2d(y).shape[0], dtype=bool)
        return self.p_distance(y) < self.rho


def _jac(model: Model, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = np.empty((model.n, model.n))
    model.jac(np.ascontiguousarray(y, dtype=float), p, out)
    return out


def fp_basin_ball(model: Model, x: np.ndarray, p: np.ndarray, *, margin: float = 1e-3,
                  h: float = 1e-3) -> BasinBall:
    """The certified basin ellipsoid of the equilibrium ``x`` (n,) at packed parameters ``p``.

    The tangent eigenvalues must all have real part below ``-margin`` (else ``status`` 1, no
    ball). With ``A = Df(x)`` (the full field, whose normal directions the radial damping makes
    attracting), ``P = L L^T`` solving ``A^T P + P A = -I`` and ``mu = mu_P(A) < 0`` the
    logarithmic norm, the Jacobian on the Euclidean ball of radius r obeys
    ``||Df(x + e) - A|| <= a1 r + a2 r^2 / 2`` with ``a1^2 = sum_i ||d_i Df||^2`` and
    ``a2^2 = sum_ij ||d_ij Df||^2`` (exact for polynomial fields of degree <= 3); the radius r
    solving ``cond(L) (a1 r + a2 r^2 / 2) = -mu / 2`` keeps ``mu_P(Df) <= mu / 2`` on the ball, and
    the P-ellipsoid of radius ``rho = r sigma_min(L)`` lies inside it.
    """
    from scipy.linalg import solve_continuous_lyapunov

    from bifurcate.equilibria import tangent_spectrum

    n = model.n
    x = np.asarray(x, dtype=float)
    ev = tangent_spectrum(model, x[None, :], p)[0]
    empty = np.zeros((n, n))
    if not np.all(np.isfinite(ev)) or not ev[0].real < -margin:
        return BasinBall(x, ev, empty, 0.0, float("nan"), 1,
                         f"not stable by the margin {margin:g} (max Re eig {ev[0].real:+.3e})")
    try:
        A = _jac(model, x, p)
        P = solve_continuous_lyapunov(A.T, -np.eye(n))
        P = 0.5 * (P + P.T)
        L = np.linalg.cholesky(P)
        LiT = np.linalg.inv(L.T)
        M = L.T @ A @ LiT
        mu = float(np.max(np.linalg.eigvalsh(0.5 * (M + M.T))))
        sv = np.linalg.svd(L, compute_uv=False)
        cond = float(sv[0] / sv[-1])
        # first and second derivatives of the Jacobian (central differences)
        E = np.eye(n) * h
        K1 = np.array([(_jac(model, x + E[i], p) - _jac(model, x - E[i], p)) / (2 * h) for i in range(n)])
        K2 = np.empty((n, n, n, n))
        for i in range(n):
            for j in range(i, n):
                K2[i, j] = K2[j, i] = (_jac(model, x + E[i] + E[j], p) - _jac(model, x + E[i] - E[j], p)
                                       - _jac(model, x - E[i] + E[j], p) + _jac(model, x - E[i] - E[j], p)) / (4 * h * h)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return BasinBall(x, ev, empty, 0.0, float("nan"), 3, f"numerical failure: {exc}")
    if not (np.isfinite(mu) and mu < 0):
        return BasinBall(x, ev, L, 0.0, mu, 3, f"Lyapunov metric failed (mu_P(A) = {mu:.3e})")
    # Taylor test: the second-order expansion of the Jacobian is exact for a degree <= 3 field
    rng = np.random.default_rng(0)
    scale = max(1.0, float(np.max(np.abs(A))))
    for _ in range(2):
        e = rng.standard_normal(n) * 0.5
        pred = A + np.einsum("i,ikl->kl", e, K1) + 0.5 * np.einsum("i,j,ijkl->kl", e, e, K2)
        if np.max(np.abs(_jac(model, x + e, p) - pred)) > 1e-6 * scale:
            return BasinBall(x, ev, L, 0.0, mu, 2, "the Jacobian is not quadratic in the state (field of degree "
                                                   "> 3): its variation on a ball is not bounded here")
    # the variation in the P-metric: e = L^-T u with |u| = rho, so sum_i e_i K1_i = sum_k u_k K1t_k
    Li = LiT
    K1t = np.einsum("ik,iab->kab", Li, K1)
    K1t = np.einsum("ca,kab,bd->kcd", L.T, K1t, LiT)
    K2t = np.einsum("ik,jl,ijab->klab", Li, Li, K2)
    K2t = np.einsum("ca,klab,bd->klcd", L.T, K2t, LiT)
    b1 = float(np.sqrt(np.sum(np.linalg.norm(K1t, ord=2, axis=(1, 2)) ** 2)))
    b2 = float(np.sqrt(np.sum(np.linalg.norm(K2t.reshape(n * n, n, n), ord=2, axis=(1, 2)) ** 2)))
    c = -0.5 * mu
    if b2 > 0:
        rho = (-b1 + np.sqrt(b1 * b1 + 2 * b2 * c)) / b2
    else:
        rho = c / b1 if b1 > 0 else np.inf
    # at most a unit Euclidean ball; a safety factor for the rounding of the finite differences
    rho = 0.9 * float(min(rho, float(sv[-1])))
    r = rho / float(sv[-1])
    return BasinBall(x, ev, L, rho, mu, 0, f"certified: P-radius {rho:.3e} (Euclidean {r:.3e}), mu_P(A) {mu:.3e}")


def certify_fixed_points(model: Model, p: np.ndarray, Y: np.ndarray, *, margin: float = 1e-3,
                         balls: dict | None = None, newton_tol: float = 1e-12) -> tuple[np.ndarray, list]:
    """Fixed-point certificates for the end points ``Y`` (m, n) of trajectories at parameters ``p``.

    Newton (the model's compiled damped Newton) from every row; the zero it reaches gets a
    :class:`BasinBall` (cached in ``balls``, keyed by the rounded state, shared across calls at
    one parameter point). Returns ``(ok, info)``: ``ok`` (m,) True where the row lies in its
    equilibrium's certified ellipsoid, ``info`` per row ``(ball or None, reason)``.
    """
    from bifurcate.equilibria import NEWTON_MESSAGES, newton_kernels

    Y = np.ascontiguousarray(np.atleast_2d(np.asarray(Y, float)))
    m = Y.shape[0]
    balls = {} if balls is None else balls
    ok = np.zeros(m, dtype=bool)
    info: list = [(None, "")] * m
    if m == 0:
        return ok, info
    Z = np.empty_like(Y)
    st = np.empty(m, dtype=np.int64)
    its = np.empty(m, dtype=np.int64)
    res = np.empty(m)
    newton_kernels(model).newton_batch(Y, np.asarray(p, float), model.geometry.sphere_blocks, float(newton_tol), 40, 1e8,
                                       Z, st, its, res)
    for k in range(m):
        if st[k] != 0:
            info[k] = (None, f"Newton from the end point: {NEWTON_MESSAGES.get(int(st[k]), st[k])}")
            continue
        key = tuple(np.round(Z[k], 7))
        ball = balls.get(key)
        if ball is None:
            ball = fp_basin_ball(model, Z[k], p, margin=margin)
            balls[key] = ball
        if not ball.certified:
            info[k] = (ball, ball.message)
            continue
        dP = float(ball.p_distance(Y[k])[0])
        if dP < ball.rho:
            ok[k] = True
            info[k] = (ball, f"certified FP: end point at P-distance {dP:.2e} < {ball.rho:.2e} (certified basin "
                             f"ellipsoid, mu_P {ball.mu:.3e}) of the equilibrium with max Re eig "
                             f"{ball.eigenvalues[0].real:+.4e}")
        else:
            info[k] = (ball, f"end point outside the certified ellipsoid ({dP:.2e} >= {ball.rho:.2e})")
    return ok, info


# --------------------------------------------------------------------------------------------
# limit cycles
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CycleCertificate:
    """Outcome of :func:`certify_cycle`.

    Attributes
    ----------
    status : int
        0 certified; 1 no periodic return; 2 collocation failed; 3 inconsistent (period or orbit
        distance); 4 Floquet multipliers not trusted; 5 not attracting by the margin.
    period : float
    exponents : ndarray (dim,)
        ``0`` and ``log|mu_k| / T`` in decreasing order (nan if not certified).
    multipliers : ndarray (dim - 1,) complex
    orbit : ndarray (k, n)
        The polished orbit sampled densely (for proximity tests), empty if collocation failed.
    distance : float
        Max distance of the trajectory's last period to the orbit.
    message : str
    """

    status: int
    period: float
    exponents: np.ndarray
    multipliers: np.ndarray
    orbit: np.ndarray = field(repr=False)
    distance: float
    message: str

    @property
    def certified(self) -> bool:
        return self.status == 0


def orbit_distance(Y: np.ndarray, orbit: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row of ``Y`` (k, n) to the densely sampled closed curve ``orbit``
    (q, n): distance to the nearer of the two chords at the nearest sample of the curve.

    The nearest sample comes from a k-d tree of the curve's samples (exact Euclidean nearest
    neighbour, O(k log q); the dense k x q distance matrix it replaces took ~40 % of the census CPU of
    points whose trajectories end on fixed points and certified cycles). The tree of a curve is kept while the curve
    lives (the census tests every trajectory of a point against the same certified cycles)."""
    Y = np.atleast_2d(np.asarray(Y, float))
    A = np.asarray(orbit, float)
    q = A.shape[0]
    near = _orbit_tree(A).query(Y)[1]
    best = np.full(Y.shape[0], np.inf)
    for s in (-1, 0):
        a = A[(near + s) % q]
        D = A[(near + s + 1) % q] - a
        dd = np.maximum(np.sum(D * D, axis=1), 1e-300)
        t = np.clip(np.sum((Y - a) * D, axis=1) / dd, 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(Y - a - t[:, None] * D, axis=1))
    return best


#: k-d trees of the curves passed to orbit_distance, by id (the array is kept alongside so that an
#: id reused by a new array is never served a stale tree); a few curves per point at a time
_TREES: dict = {}


def _orbit_tree(A: np.ndarray):
    from scipy.spatial import cKDTree

    hit = _TREES.get(id(A))
    if hit is not None and hit[0] is A:
        return hit[1]
    if len(_TREES) > 64:
        _TREES.clear()
    tree = cKDTree(A)
    _TREES[id(A)] = (A, tree)
    return tree


def certify_cycle(model: Model, params: dict, t: np.ndarray, Y: np.ndarray, *, margin: float,
                  tube: float = 1e-3, period_tol: float = 1e-3, ntst: int = 40, ncol: int = 4,
                  floquet_tol: float = 1e-4) -> CycleCertificate:
    """Limit-cycle certificate of a trajectory sampled at equal times ``t`` (k,) as ``Y`` (k, n).

    Steps: the Poincare return of the samples (:func:`analysis.attractors.features.poincare_return`,
    order 1 or more) gives a period guess ``T0`` and one period of samples; collocation at fixed
    parameters (Newton, then the mesh adapted to the orbit and Newton again); consistency: the
    collocation period within ``period_tol`` (relative) of ``T0``, the trajectory's last period
    within ``tube`` (max-norm relative to the orbit's extent) of the polished orbit and the first
    half of the samples no closer than the second (the trajectory approaches the orbit); Floquet
    multipliers trusted (trivial multiplier within ``floquet_tol`` of 1) and every nontrivial
    ``log|mu| / T < -margin``.
    """
    from analysis.attractors.features import poincare_return
    from bifurcate.cycles import orbit_start
    from bifurcate.cycles.collocation import CycleOptions
    from bifurcate.cycles.floquet import cycle_floquet

    d = model.dim
    nan_e = np.full(d, np.nan)
    none = np.zeros(0, complex)
    empty = np.zeros((0, model.n))
    t = np.asarray(t, float)
    Y = np.asarray(Y, float)
    pr = poincare_return(t, Y, tol=1e-2)   # a guess: the collocation and the checks below decide
    if pr["order"] < 1 or not np.isfinite(pr["period"]):
        return CycleCertificate(1, float("nan"), nan_e, none, empty, float("nan"),
                                f"no periodic Poincare return (return error {pr['return_error']:.2e})")
    T0 = float(pr["period"])
    dt = float(t[1] - t[0])
    k = int(round(T0 / dt))
    if k < 8 or k + 1 > Y.shape[0]:
        return CycleCertificate(1, T0, nan_e, none, empty, float("nan"), f"period {T0:.4g} not resolved by the samples")
    seg_t, seg = t[-k - 1:], Y[-k - 1:]
    param = model.param_names[0]
    opts = CycleOptions(ntst=ntst, ncol=ncol)
    try:
        st = orbit_start(model, seg_t - seg_t[0], seg, params, param, options=opts)
    except ValueError as exc:
        return CycleCertificate(1, T0, nan_e, none, empty, float("nan"), f"orbit start: {exc}")
    coll, X = st.coll, st.X
    try:
        for it in range(4):
            U = coll.split(X)[0]
            phase_c = coll.phase_row(U)
            X, conv, _, B = coll.newton(X, phase_c, None, X.copy(), 0.0, 1e-9, 12, fixed_param=True)
            if not conv:
                return CycleCertificate(2, T0, nan_e, none, empty, float("nan"),
                                        f"collocation Newton did not converge (pass {it + 1}, ntst {coll.ntst})")
            if it == 0:
                # the mesh adapted to the orbit, then Newton again
                coll, X = coll.remesh(X, coll.adapted_mesh(coll.split(X)[0]))
                continue
            floq = cycle_floquet(coll, X, B, tol=floquet_tol)
            if floq.status != -1 or coll.ntst >= 4 * ntst:
                break
            # the trivial multiplier drifted: a discretisation error; refine the mesh and re-converge
            coll, X = coll.remesh(X, coll.adapted_mesh(coll.split(X)[0], 2 * coll.ntst))
    except (FloatingPointError, ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
        return CycleCertificate(2, T0, nan_e, none, empty, float("nan"), f"collocation failed: {exc}")
    U, T, _ = coll.split(X)
    orbit = coll.sample(U, np.linspace(0.0, 1.0, max(600, 4 * k), endpoint=False))
    ext = max(float(np.max(np.ptp(orbit, axis=0))), 1e-12)
    if not abs(T - T0) <= period_tol * T0:
        return CycleCertificate(3, T, nan_e, none, orbit, float("nan"),
                                f"collocation period {T:.6g} differs from the return time {T0:.6g}")
    dist = orbit_distance(Y, orbit) / ext
    d_last = float(np.max(dist[-k - 1:]))
    h = Y.shape[0] // 2
    if not d_last <= tube:
        return CycleCertificate(3, T, nan_e, none, orbit, d_last,
                                f"trajectory's last period {d_last:.2e} (relative) from the polished orbit > {tube:g}")
    if float(np.max(dist[h:])) > float(np.max(dist[:h])) * 1.01 + 1e-2 * tube:
        return CycleCertificate(3, T, nan_e, none, orbit, d_last, "the distance to the orbit grows along the samples")
    if not floq.success:
        return CycleCertificate(4, T, nan_e, floq.multipliers, orbit, d_last, f"Floquet: {floq.message}")
    expo = floq.log_moduli / T
    if not (expo.size == d - 1 and np.all(expo < -margin)):
        return CycleCertificate(5, T, nan_e, floq.multipliers, orbit, d_last,
                                f"not attracting by the margin {margin:g}: exponents "
                                + ", ".join(f"{v:+.4f}" for v in expo))
    ex = np.sort(np.r_[0.0, expo])[::-1]
    return CycleCertificate(0, T, ex, floq.multipliers, orbit, d_last,
                            f"certified LC: period {T:.6g} (return time {T0:.6g}), trajectory within {d_last:.1e} "
                            f"of the collocation orbit, |mu| = " + ", ".join(f"{abs(m):.4f}" for m in floq.multipliers)
                            + f" (exponents " + ", ".join(f"{v:+.4f}" for v in expo) + ")")
