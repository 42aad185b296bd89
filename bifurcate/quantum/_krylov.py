"""IDR(s): induced dimension reduction with bi-orthogonalisation, for the steady-state systems.

Short recurrences (memory ``3 s`` vectors, no growing orthogonalisation cost) and, on the
preconditioned Liouvillians of Eq. (5), 15-25 % fewer operator products than BiCGSTAB and within
a few per cent of full GMRES (measured at S = 6 and 10 on four (J, lam) points).

References
----------
M. B. van Gijzen and P. Sonneveld, "Algorithm 913: An elegant IDR(s) variant that efficiently
exploits biorthogonality properties", ACM Trans. Math. Softw. 38, 5 (2011).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["idrs"]


def idrs(matvec: Callable[[np.ndarray], np.ndarray], b: np.ndarray, x0: np.ndarray | None = None, *,
         s: int = 8, rtol: float = 1e-10, maxiter: int = 10000, seed: int = 0,
         angle: float = 0.7) -> tuple[np.ndarray, int, int, float]:
    """Solve ``A x = b`` (real) by IDR(s) with bi-orthogonalisation (Algorithm 913).

    Parameters
    ----------
    matvec : callable
        ``x -> A x`` for real vectors of length ``N``.
    b : ndarray (N,)
    x0 : ndarray (N,), optional
    s : int
        Dimension of the shadow space.
    rtol : float
        Stop when the recursively updated residual satisfies ``||r|| <= rtol ||b||``; the caller
        must check the true residual.
    maxiter : int
        Cap on the number of products with ``A``.
    seed : int
        Seed of the random shadow space (results are deterministic for a given seed).
    angle : float
        "Maintaining the convergence" parameter for the minimal-residual step.

    Returns
    -------
    x : ndarray (N,)
    info : int
        0 converged, 1 iteration cap, -1 / -2 breakdown.
    n_matvec : int
    rel_res : float
        Final recursive relative residual.
    """
    # an overflow in the recurrences is a breakdown (checked below as a non-finite pivot or omega, or
    # a non-finite residual), not an exception: the caller then retries with another preconditioner
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _idrs(matvec, b, x0, s=s, rtol=rtol, maxiter=maxiter, seed=seed, angle=angle)


def _idrs(matvec, b, x0, *, s, rtol, maxiter, seed, angle):
    N = b.size
    s = max(1, min(int(s), N))
    bn = float(np.linalg.norm(b))
    if bn == 0:
        return np.zeros(N), 0, 0, 0.0
    x = np.zeros(N) if x0 is None else np.array(x0, dtype=float)
    n_mv = 0
    if x0 is None:
        r = b.astype(float).copy()
    else:
        r = b - matvec(x)
        n_mv += 1
    normr = float(np.linalg.norm(r))
    rng = np.random.default_rng(seed)
    P = np.linalg.qr(rng.normal(size=(N, s)))[0].T.copy()
    G = np.zeros((s, N))
    U = np.zeros((s, N))
    M = np.eye(s)
    om = 1.0
    tol = rtol * bn
    while normr > tol and n_mv < maxiter:
        f = P @ r
        for k in range(s):
            c = np.linalg.solve(M[k:, k:], f[k:])
            v = r - c @ G[k:]
            U[k] = c @ U[k:] + om * v
            G[k] = matvec(U[k])
            n_mv += 1
            for i in range(k):
                alpha = (P[i] @ G[k]) / M[i, i]
                G[k] -= alpha * G[i]
                U[k] -= alpha * U[i]
            M[k:, k] = P[k:] @ G[k]
            if M[k, k] == 0.0 or not np.isfinite(M[k, k]):
                return x, -1, n_mv, normr / bn
            beta = f[k] / M[k, k]
            r -= beta * G[k]
            x += beta * U[k]
            normr = float(np.linalg.norm(r))
            if normr <= tol or n_mv >= maxiter:
                break
            if k + 1 < s:
                f[k + 1:] -= beta * M[k + 1:, k]
        if normr <= tol or n_mv >= maxiter:
            break
        v = r.copy()
        t = matvec(v)
        n_mv += 1
        nt = float(np.linalg.norm(t))
        if nt == 0.0:
            return x, -2, n_mv, normr / bn
        ts = float(t @ r)
        rho = abs(ts / (nt * normr))
        om = ts / (nt * nt)
        if rho < angle:
            om *= angle / rho
        if om == 0.0 or not np.isfinite(om):
            return x, -2, n_mv, normr / bn
        r -= om * t
        x += om * v
        normr = float(np.linalg.norm(r))
    if not math.isfinite(normr):
        return x, -1, n_mv, normr / bn
    return x, (0 if normr <= tol else 1), n_mv, normr / bn
