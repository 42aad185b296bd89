"""Template of the per-model Newton kernels (equilibria from many seeds).

Not used as it stands: :mod:`bifurcate.kernels.codegen` copies the text below the marker into a
generated module whose header binds ``_rhs`` and ``_jac`` to one model's numba kernels by global
name, so numba caches the machine code on disk (see :mod:`bifurcate.kernels.ode_template`).

Status codes: ``CONVERGED = 0``, ``MAX_ITER = -1``, ``SINGULAR = -2``, ``DIVERGED = -3``.
"""
# --- template starts ---
import math

import numpy as np

from bifurcate._numba import njit
from bifurcate.kernels.geometry import project_spheres

CONVERGED = 0
MAX_ITER = -1
SINGULAR = -2
DIVERGED = -3


@njit
def solve_inplace(A, b):
    """Solve A x = b by Gaussian elimination with partial pivoting; A and b are overwritten,
    x is returned in b. Returns 0, or -2 if a pivot vanishes."""
    n = b.shape[0]
    for k in range(n):
        piv = k
        big = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > big:
                big = abs(A[i, k])
                piv = i
        if big == 0.0 or not math.isfinite(big):
            return SINGULAR
        if piv != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[piv, j]
                A[piv, j] = tmp
            tmp = b[k]
            b[k] = b[piv]
            b[piv] = tmp
        for i in range(k + 1, n):
            m = A[i, k] / A[k, k]
            if m != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= m * A[k, j]
                b[i] -= m * b[k]
    for k in range(n - 1, -1, -1):
        acc = b[k]
        for j in range(k + 1, n):
            acc -= A[k, j] * b[j]
        b[k] = acc / A[k, k]
    return CONVERGED


@njit
def _norm_inf(v):
    m = 0.0
    for i in range(v.shape[0]):
        a = abs(v[i])
        if not (a <= m):  # also catches nan
            m = a
    return m


@njit
def newton_batch(Y0, p, blocks, tol, maxiter, div_bound, Y, status, iters, resid):
    """Damped Newton on f(y; p) = 0 from each row of ``Y0``, projecting sphere blocks after
    every step (the radially damped field has the same zeros on the spheres).

    Y0 : (m, n) seeds; p : (n_params,); blocks : (n_spheres, 3) int.
    Y : (m, n) out, final iterates; status : (m,) int out; iters : (m,) int out;
    resid : (m,) out, max-norm of f at the final iterate.
    A step is halved (up to 10 times) until the residual decreases; convergence when
    ||f||_inf < tol after at least one full Newton step, or immediately if the seed is a zero.
    """
    m, n = Y0.shape
    f = np.empty(n)
    ft = np.empty(n)
    J = np.empty((n, n))
    dx = np.empty(n)
    yt = np.empty(n)
    for s in range(m):
        y = Y[s]
        for i in range(n):
            y[i] = Y0[s, i]
        project_spheres(y, blocks)
        _rhs(y, p, f)  # noqa: F821
        r = _norm_inf(f)
        st = MAX_ITER
        it = 0
        while it < maxiter:
            if r < tol:
                st = CONVERGED
                break
            if not math.isfinite(r):
                st = DIVERGED
                break
            _jac(y, p, J)  # noqa: F821
            for i in range(n):
                dx[i] = -f[i]
            if solve_inplace(J, dx) != CONVERGED:
                st = SINGULAR
                break
            lam = 1.0
            rt = r
            for _ in range(11):
                for i in range(n):
                    yt[i] = y[i] + lam * dx[i]
                project_spheres(yt, blocks)
                _rhs(yt, p, ft)  # noqa: F821
                rt = _norm_inf(ft)
                if rt < r or rt < tol:
                    break
                lam *= 0.5
            for i in range(n):
                y[i] = yt[i]
                f[i] = ft[i]
            r = rt
            it += 1
            big = 0.0
            for i in range(n):
                if abs(y[i]) > big:
                    big = abs(y[i])
            if big > div_bound:
                st = DIVERGED
                break
        if st == MAX_ITER and r < tol:
            st = CONVERGED
        status[s] = st
        iters[s] = it
        resid[s] = r
    return 0
