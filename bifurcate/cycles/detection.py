"""Test functions for bifurcations of cycles, and their localisation.

Along a cycle branch, with ``mu_i`` the nontrivial tangent-space Floquet multipliers and ``tau_p``
the parameter component of the unit tangent:

=====  ==============================================  ==========================================
label  test function (sign change = crossing)           meaning
=====  ==============================================  ==========================================
LPC    tau_p                                           fold of cycles (a multiplier passes +1)
BPC    prod_i (mu_i - 1) / (1 + |mu_i|)  (no LPC)      branch point of cycles (+1 without a fold)
PD     prod_i (mu_i + 1) / (1 + |mu_i|)                a real multiplier passes -1
NS     prod_{i<j} (mu_i mu_j - 1) / (1 + |mu_i mu_j|)  a complex pair crosses |mu| = 1
=====  ==============================================  ==========================================

The normalisation keeps the products bounded (and of the same sign) for strongly unstable
cycles. A sign change of the NS function caused by a real pair with ``mu_i mu_j = 1`` (a neutral
saddle of cycles) is checked at the located point and dropped. Localisation is the continuation
core's (:func:`bifurcate.continuation.pseudo_arclength.locate_event`: Illinois regula falsi on the
arclength, each probe a converged cycle, until the arclength bracket is below ``locate_tol``).

Every LPC, PD and NS point of a branch then carries its normal-form coefficient in ``data``
(``nf_coefficient``, also as ``b`` / ``c`` / ``d``, and ``criticality``: "supercritical" /
"subcritical" for PD and NS, "nondegenerate" for LPC), computed on the point's own collocation mesh
by :mod:`bifurcate.cycles.normal_forms` (for a bracketed point: at the bracket's end).

A BPC is then located on its own (:func:`locate_bpc`): at a branch point the Jacobian of the
collocation system is rank deficient and every corrector on the branch is singular there, so the
localisation above stops at a bracket (about 1e-8 wide in arclength on AUTO demo tor). The branch
point is instead the regular solution of a minimally augmented system (the unfolding parameter
beta and two bordered test functions), converged by Newton with a residual to report. Where the
multipliers cannot be trusted on either side of a fold of cycles (beyond period 60 on demo tor they
reach 1e5), the multiplier test is blind; the augmented system is then started from the fold's
cycle, and a converged solution beside the fold is reported as a BPC ``found_at_fold``
(:func:`bifurcate.cycles.continuation._bpcs_at_blind_folds`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["test_functions", "TEST_KINDS", "classify_crossing", "locate_bpc", "BPCLocation"]

#: keys of :func:`test_functions` in detection order
TEST_KINDS = ("LPC", "BPC", "PD", "NS")


def test_functions(tau_p: float, mult: np.ndarray) -> dict:
    """The four test functions at one cycle (see the module docstring)."""
    mu = np.asarray(mult, dtype=complex)
    mu = np.where(np.isfinite(mu), mu, 1e300 + 0j)
    a = 1.0 + np.abs(mu)
    bpc = np.prod((mu - 1.0) / a).real if mu.size else 1.0
    pd_ = np.prod((mu + 1.0) / a).real if mu.size else 1.0
    ns = 1.0
    for i in range(mu.size):
        for j in range(i + 1, mu.size):
            q = mu[i] * mu[j]
            ns *= ((q - 1.0) / (1.0 + abs(q))).real if np.isfinite(q) else 1.0
    return {"LPC": float(tau_p), "BPC": float(bpc), "PD": float(pd_), "NS": float(ns)}


def classify_crossing(mult_before: np.ndarray, mult_after: np.ndarray) -> str:
    """Label of an unstable-count change no test function caught (used for bracketed points)."""
    a = np.asarray(mult_before)
    b = np.asarray(mult_after)
    k = min(a.size, b.size)
    if k == 0:
        return "LPC"
    i = int(np.argmax(np.abs(np.abs(a[:k]) - np.abs(b[:k]))))
    mu = b[i]
    if abs(mu.imag) > 1e-6 * abs(mu):
        return "NS"
    return "PD" if mu.real < 0 else "BPC"


# ------------------------------------------------------------------------------------------
# localisation of a branch point of cycles
# ------------------------------------------------------------------------------------------
#: inverse iterations for the borders of :func:`locate_bpc`
BPC_SEED_ITERATIONS = 3


@dataclass(frozen=True)
class BPCLocation:
    """The result of :func:`locate_bpc`.

    Attributes
    ----------
    X : ndarray (nx,)
        The branch point ``(U.ravel(), T, p)`` in the collocation's unknowns (the last iterate if
        not converged).
    converged : bool
        Newton converged (update below ``tol`` and residual of the augmented system below
        ``10 tol max(1, T)``, or the update stagnating below ``1e4 tol`` at a residual below
        ``1e-3 tol max(1, T)``) to an orbit within ``max_move`` of the guess.
    beta : float
        The unfolding parameter: G(X) = -beta b. Zero at a branch point of the branch itself
        (a pitchfork or transcritical crossing of two branches of G = 0); of the size of the
        discretisation error where the mesh breaks the symmetry behind a pitchfork (an odd NTST
        and a Z2 half-period symmetry); larger: not a branch point of this branch.
    residual : float
        max |G(X)| over the collocation and phase equations (``|beta| max|b|`` up to rounding).
    tests : (2,) ndarray
        The bordered test functions g at X (zero at a branch point).
    kernel : ndarray (nx, 2)
        The two-dimensional kernel of G_x at X (W-orthonormal columns).
    near_null : float
        At the start guess: |G_x z| / |z|_W for the direction z (W-orthogonal to the kernel vector
        every point has) that inverse iteration finds; about the smallest singular value of the
        W-scaled G_x, which vanishes at a branch point.
    iterations : int
    update : float
        max |dX| of the last Newton update (the precision of X).
    message : str
    """

    X: np.ndarray
    converged: bool
    beta: float
    residual: float
    tests: np.ndarray
    kernel: np.ndarray
    near_null: float
    iterations: int
    update: float
    message: str


def _bpc_borders(A: sp.spmatrix, W: np.ndarray):
    """Borders of the augmented system at a guess near a branch point: (b (nr,), K (nx, 2), near_null).

    With M = [[A], [r^T]] (r a fixed generic row, so that M is regular wherever A has full rank):
    k = M^{-1} e_last spans the kernel every point has (A k = 0), and inverse iteration on M and
    M^T gives the direction z where A is nearly singular and the left null vector b. K is [k, z]
    W-orthonormalised. Sparse throughout (a dense SVD cost seconds at N n ~ 1500)."""
    nr, nx = A.shape
    rng = np.random.default_rng(20261130)
    r = W * rng.standard_normal(nx)
    M = sp.vstack([sp.csc_matrix(A), sp.csc_matrix(r.reshape(1, -1))], format="csc")
    lu = spla.splu(M)
    e = np.zeros(nx)
    e[-1] = 1.0
    k = lu.solve(e)
    z = rng.standard_normal(nx)
    y = rng.standard_normal(nx)
    for _ in range(BPC_SEED_ITERATIONS):
        z = lu.solve(z)
        z /= np.max(np.abs(z))
        y = lu.solve(y, trans="T")
        y /= np.max(np.abs(y))
    k /= math.sqrt(float(k @ (W * k)))
    z -= k * float(k @ (W * z))
    z /= math.sqrt(float(z @ (W * z)))
    b = y[:nr] / np.linalg.norm(y[:nr])
    near_null = float(np.linalg.norm(A @ z))
    return b, np.column_stack([k, z]), near_null


def _bpc_bordered(A: sp.spmatrix, b: np.ndarray, C: np.ndarray) -> sp.csc_matrix:
    """The (nr + 2) x (nx + 1) matrix [[A, b], [C^T, 0]] (A: nr x nx with nx = nr + 1)."""
    nr = A.shape[0]
    top = sp.hstack([sp.csc_matrix(A), sp.csc_matrix(b.reshape(nr, 1))])
    bottom = sp.csc_matrix(np.hstack([C.T, np.zeros((C.shape[1], 1))]))
    return sp.vstack([top, bottom], format="csc")


def locate_bpc(coll, X: np.ndarray, phase_c: np.ndarray, *, tol: float = 1e-10, maxiter: int = 20,
               fd_step: float = 1e-6, max_move: float = 0.1) -> BPCLocation:
    """A branch point of cycles near ``X`` by Newton on a minimally augmented system.

    With G(X) = 0 the collocation and phase equations (nr = N n + 1 equations in nx = nr + 1
    unknowns X = (U, T, p)), a simple branch point is where G_x has rank nr - 1: a
    two-dimensional kernel (the two branches' tangents) and a left null vector psi. The system

        G(X) + beta b = 0,    g(X) = 0 (two components),

    in the nx + 1 unknowns (X, beta), with g from the bordered solve

        [[G_x, b], [C^T, 0]] [V; g] = [0; I_2]     (V: nx x 2),

    b ~ psi and C ~ the kernel (W-weighted) fixed from the SVD of G_x at the guess, is regular at
    a nondegenerate branch point (the bordered matrix is nonsingular there, g = 0 iff G_x V = 0),
    unlike the corrector on the branch, which is singular there. beta unfolds the crossing (it is
    zero at the solution when the two branches of G = 0 really cross). The Jacobian of g is
    dg_j/dX = -w^T G_xx[V_j, .] with w from the transposed bordered solve
    ([[G_x, b], [C^T, 0]]^T [w; z] = [0; 1]), and G_xx[V_j, .] is a central difference of G_x
    along V_j (two Jacobians: no second derivatives of the model are needed).

    Parameters
    ----------
    coll : Collocation
        The discretisation (mesh, degree, fixed parameters, continuation parameter index).
    X : ndarray (nx,)
        A guess: a cycle of the branch near the branch point (e.g. the end of a localisation bracket).
    phase_c : ndarray (N n,)
        The phase condition's row (:meth:`Collocation.phase_row` of a reference orbit).
    tol : float
        Newton tolerance on the update (max norm).
    maxiter : int
    fd_step : float
        Relative step of the central difference of G_x along the kernel vectors.
    max_move : float
        Largest change of the orbit (W-norm, relative to the guess's) for a solution to count: the
        constant orbit of an equilibrium (any period, a rank-deficient G_x) also solves the system
        and Newton from a generic fold of cycles can fall into it.

    Returns
    -------
    BPCLocation

    References
    ----------
    W. Govaerts, Numerical Methods for Bifurcations of Dynamical Equilibria (SIAM, 2000), ch. 4
    (Moore's system and its minimally augmented form for branch points); E. Doedel et al.,
    AUTO-07p manual (branch points of periodic solutions); A. Dhooge, W. Govaerts, Yu. A. Kuznetsov,
    MatCont, ACM TOMS 29 (2003) (BPC of limit cycles).
    """
    X = np.array(X, dtype=float)
    X0 = X.copy()
    nx = coll.nx
    if X.shape != (nx,):
        raise ValueError(f"expected X of shape ({nx},) for this collocation, got {X.shape}")
    W = coll.W
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            F, A, _ = coll.system(X, phase_c)
            b, K, near_null = _bpc_borders(A, W)
    except (FloatingPointError, ZeroDivisionError, OverflowError, RuntimeError, np.linalg.LinAlgError) as exc:
        return BPCLocation(X, False, math.nan, math.nan, np.full(2, np.nan), np.zeros((nx, 2)), math.nan, 0, math.nan,
                           f"{type(exc).__name__} in the borders at the guess: {exc}")
    C = W[:, None] * K             # C^T V = I for V = K
    beta = 0.0
    rhs_v = np.zeros((A.shape[0] + 2, 2))
    rhs_v[-2:] = np.eye(2)
    rhs_w = np.zeros(nx + 1)
    rhs_w[-1] = 1.0
    g = np.full(2, np.nan)
    V = K
    it = 0
    msg = "did not converge"
    ok = False
    step = prev = np.inf
    growing = 0
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            for it in range(1, maxiter + 1):
                F, A, _ = coll.system(X, phase_c)
                lu = spla.splu(_bpc_bordered(A, b, C))
                sol = lu.solve(rhs_v)
                V, g = sol[:nx], sol[nx]
                w = lu.solve(rhs_w, trans="T")[: A.shape[0]]
                grads = np.empty((2, nx))
                for j in range(2):
                    v = V[:, j]
                    h = fd_step * max(1.0, float(np.max(np.abs(X)))) / max(float(np.max(np.abs(v))), 1e-300)
                    Ap = coll.system(X + h * v, phase_c)[1]
                    Am = coll.system(X - h * v, phase_c)[1]
                    grads[j] = -((Ap - Am).T @ w) / (2.0 * h)
                Kn = sp.vstack([sp.hstack([sp.csc_matrix(A), sp.csc_matrix(b.reshape(-1, 1))]),
                                sp.csc_matrix(np.hstack([grads, np.zeros((2, 1))]))], format="csc")
                r = np.concatenate([F + beta * b, g])
                dz = spla.splu(Kn).solve(-r)
                if not np.all(np.isfinite(dz)):
                    msg = "non-finite Newton update"
                    break
                X = X + dz[:nx]
                beta += float(dz[nx])
                prev, step = step, float(np.max(np.abs(dz)))
                scale = max(1.0, float(X[-2]))
                if step < tol:
                    F = coll.system(X, phase_c)[0]
                    res = float(np.max(np.abs(F + beta * b)))
                    ok = res < 10 * tol * scale
                    msg = "converged" if ok else f"update below tol but augmented residual {res:.3g}"
                    break
                if step < 1e4 * tol and step > 0.5 * prev:
                    # stagnation at the linear solve's noise floor (cond ~ exp(lambda T) on long
                    # cycles): accepted if the residual is at rounding (as the branch's corrector)
                    F = coll.system(X, phase_c)[0]
                    res = float(np.max(np.abs(F + beta * b)))
                    ok = res < 1e-3 * tol * scale
                    msg = ("converged (the update stagnates at the linear solve's noise floor, "
                           f"{step:.2g})") if ok else f"update stagnates at {step:.3g}, augmented residual {res:.3g}"
                    break
                growing = growing + 1 if step > prev else 0
                if step > 1e3 or growing >= 3:
                    msg = f"Newton diverged (update {step:.3g})"
                    break
    except (FloatingPointError, ZeroDivisionError, OverflowError, RuntimeError, np.linalg.LinAlgError) as exc:
        msg = f"{type(exc).__name__} in Newton: {exc}"
        ok = False
    if ok:
        Nn = nx - 2
        du = coll.norm(np.concatenate([X[:Nn] - X0[:Nn], [0.0, 0.0]]))
        u0 = coll.norm(np.concatenate([X0[:Nn], [0.0, 0.0]]))
        if not du <= max_move * u0:
            ok = False
            amp = float(np.ptp(X[:Nn].reshape(-1, coll.n), axis=0).max() / 2)
            msg = (f"converged to an orbit {du / max(u0, 1e-300):.3g} of the guess's norm away (more than max_move = "
                   f"{max_move:g}; period {X[-2]:.6g}, amplitude {amp:.3g}): a different solution, not a branch "
                   f"point of this branch")
    F = coll.system(X, phase_c)[0] if np.all(np.isfinite(X)) else np.full(1, np.nan)
    try:  # the kernel, W-orthonormalised
        Vw = V @ np.linalg.inv(np.linalg.cholesky(V.T @ (W[:, None] * V))).T
    except np.linalg.LinAlgError:
        Vw = np.array(V)
    return BPCLocation(X, bool(ok), float(beta), float(np.max(np.abs(F))), np.asarray(g, dtype=float).copy(), Vw,
                       float(near_null), it, float(step), msg)
