"""Real quasi-triangular Sylvester equations ``(A - shift) Y + Y B^T = C`` (the inner solve of the Lindbladian
preconditioner).

``A`` and ``B`` are upper quasi-triangular (real Schur forms: 1 x 1 and 2 x 2 diagonal blocks). The driver halves
the larger dimension recursively, so that almost all the work is matrix products (numpy, which releases the GIL),
down to blocks of at most ``nb`` rows and columns, solved by a compiled Bartels-Stewart kernel that also runs
without the GIL (LAPACK's ``dtrsyl`` through SciPy holds it, which serialised the two threads of the
preconditioner). Its twin is ``dtrsyl`` (:func:`quasi_triangular_sylvester` with ``kernel="lapack"``).

A complex ``shift`` (the resolvent ``(L0 - sigma)^{-1}`` of the spectrum solvers) or a complex right-hand side
keeps the *real* Schur forms: the leaves run a complex twin of the kernel and the updates multiply the real
triangular factors into the complex iterate as real matrix products on its interleaved real view (two real
products per complex one, not the four of a complex ``zgemm`` of the promoted factor).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dtrsyl as _dtrsyl

from bifurcate._numba import njit

__all__ = ["quasi_triangular_sylvester"]


@njit
def _small_solve(G, r, n):
    """Solve the ``n x n`` (n <= 4) system ``G y = r`` in place by partial pivoting; a zero pivot gives 0."""
    for c in range(n):
        p = c
        for i in range(c + 1, n):
            if abs(G[i, c]) > abs(G[p, c]):
                p = i
        if p != c:
            for j in range(n):
                t = G[c, j]
                G[c, j] = G[p, j]
                G[p, j] = t
            t = r[c]
            r[c] = r[p]
            r[p] = t
        if G[c, c] == 0.0:
            continue
        for i in range(c + 1, n):
            f = G[i, c] / G[c, c]
            if f != 0.0:
                for j in range(c, n):
                    G[i, j] -= f * G[c, j]
                r[i] -= f * r[c]
    for c in range(n - 1, -1, -1):
        s = r[c]
        for j in range(c + 1, n):
            s -= G[c, j] * r[j]
        # an exactly singular pair (the two stationary states, T[0, 0] = 0 on both sides) gets 0; the caller
        # overwrites it
        r[c] = s / G[c, c] if G[c, c] != 0.0 else 0.0


@njit
def _bartels_stewart(A, B, C, Y, shift):
    """``(A - shift) Y + Y B^T = C`` for small real upper quasi-triangular ``A`` (m x m), ``B`` (p x p); writes
    ``Y``. Compiled once for real ``C``, ``Y``, ``shift`` and once for complex ones (the same code)."""
    m = A.shape[0]
    p = B.shape[0]
    G = np.empty((4, 4), dtype=Y.dtype)
    r = np.empty(4, dtype=Y.dtype)
    l1 = p
    while l1 > 0:
        l0 = l1 - 1
        if l0 > 0 and B[l0, l0 - 1] != 0.0:
            l0 -= 1
        s = l1 - l0
        k1 = m
        while k1 > 0:
            k0 = k1 - 1
            if k0 > 0 and A[k0, k0 - 1] != 0.0:
                k0 -= 1
            q = k1 - k0
            for i in range(q):
                for j in range(s):
                    acc = C[k0 + i, l0 + j]
                    for kk in range(k1, m):
                        acc -= A[k0 + i, kk] * Y[kk, l0 + j]
                    for ll in range(l1, p):
                        acc -= Y[k0 + i, ll] * B[l0 + j, ll]
                    r[i * s + j] = acc
            n = q * s
            for a in range(n):
                for b in range(n):
                    G[a, b] = 0.0
            for i in range(q):
                for j in range(s):
                    G[i * s + j, i * s + j] -= shift
                    for i2 in range(q):
                        G[i * s + j, i2 * s + j] += A[k0 + i, k0 + i2]
                    for j2 in range(s):
                        G[i * s + j, i * s + j2] += B[l0 + j, l0 + j2]
            _small_solve(G, r, n)
            for i in range(q):
                for j in range(s):
                    Y[k0 + i, l0 + j] = r[i * s + j]
            k1 = k0
        l1 = l0


def real_times_complex(A, Y) -> np.ndarray:
    """``A @ Y`` for real ``A`` (a, m) and complex ``Y`` (m, p) as one real product on ``Y``'s interleaved view."""
    Y = np.ascontiguousarray(Y, dtype=np.complex128)
    m, p = Y.shape
    return np.ascontiguousarray(A @ Y.view(np.float64).reshape(m, 2 * p)).view(np.complex128)


def complex_times_real_t(Y, B) -> np.ndarray:
    """``Y @ B^T`` for complex ``Y`` (m, p) and real ``B`` (q, p)."""
    return real_times_complex(B, Y.T).T


def _split_point(T, k: int) -> int:
    """A split index near ``k`` that does not cut a 2 x 2 diagonal block of the quasi-triangular ``T``."""
    if 0 < k < T.shape[0] and T[k, k - 1] != 0.0:
        return k + 1
    return k


def quasi_triangular_sylvester(A, B, C, nb: int = 48, kernel: str = "numba", shift=0.0):
    """Solve ``(A - shift) Y + Y B^T = C`` for upper quasi-triangular real ``A`` (m x m) and ``B`` (p x p).

    Recursive blocking (halving the larger dimension; the updates are matrix products) down to blocks of at most
    ``nb`` rows and columns, solved by the compiled kernel (``kernel="numba"``) or LAPACK's ``dtrsyl``
    (``"lapack"``, the twin, real data and ``shift = 0`` only). ``C`` is not modified. An exactly singular pair
    of 1 x 1 blocks (zero on both diagonals) gets 0 from the compiled kernel. A non-zero (real or complex)
    ``shift`` or a complex ``C`` gives a complex ``Y`` (the complex kernel, see the module docstring).
    """
    if shift != 0 or np.iscomplexobj(C):
        if kernel != "numba":
            raise ValueError(f"expected kernel 'numba' for a shifted or complex Sylvester equation, got {kernel!r}")
        return _shifted_sylvester(A, B, np.asarray(C, dtype=np.complex128), nb, complex(shift))
    m, p = C.shape
    if m <= nb and p <= nb:
        if kernel == "lapack":
            Y, scale, info = _dtrsyl(A, B, C, trana="N", tranb="T", isgn=1)
            if info < 0:  # pragma: no cover (bad argument)
                raise ValueError(f"dtrsyl: illegal argument {-info}")
            return Y / scale if scale != 1.0 else Y
        Y = np.empty((m, p))
        _bartels_stewart(np.ascontiguousarray(A), np.ascontiguousarray(B), np.ascontiguousarray(C), Y, 0.0)
        return Y
    if m >= p:
        k = _split_point(A, m // 2)
        if k >= m:
            k = _split_point(A, m // 2 - 1)
        Y2 = quasi_triangular_sylvester(A[k:, k:], B, C[k:], nb, kernel)
        Y1 = quasi_triangular_sylvester(A[:k, :k], B, C[:k] - A[:k, k:] @ Y2, nb, kernel)
        return np.concatenate([Y1, Y2], axis=0)
    k = _split_point(B, p // 2)
    if k >= p:
        k = _split_point(B, p // 2 - 1)
    Y2 = quasi_triangular_sylvester(A, B[k:, k:], C[:, k:], nb, kernel)
    Y1 = quasi_triangular_sylvester(A, B[:k, :k], C[:, :k] - Y2 @ B[:k, k:].T, nb, kernel)
    return np.concatenate([Y1, Y2], axis=1)


def _shifted_sylvester(A, B, C, nb: int, shift: complex) -> np.ndarray:
    """The complex branch of :func:`quasi_triangular_sylvester`."""
    m, p = C.shape
    if m <= nb and p <= nb:
        Y = np.empty((m, p), dtype=np.complex128)
        _bartels_stewart(np.ascontiguousarray(A), np.ascontiguousarray(B), np.ascontiguousarray(C), Y, shift)
        return Y
    if m >= p:
        k = _split_point(A, m // 2)
        if k >= m:
            k = _split_point(A, m // 2 - 1)
        Y2 = _shifted_sylvester(A[k:, k:], B, C[k:], nb, shift)
        Y1 = _shifted_sylvester(A[:k, :k], B, C[:k] - real_times_complex(A[:k, k:], Y2), nb, shift)
        return np.concatenate([Y1, Y2], axis=0)
    k = _split_point(B, p // 2)
    if k >= p:
        k = _split_point(B, p // 2 - 1)
    Y2 = _shifted_sylvester(A, B[k:, k:], C[:, k:], nb, shift)
    Y1 = _shifted_sylvester(A, B[:k, :k], C[:, :k] - complex_times_real_t(Y2, B[:k, k:]), nb, shift)
    return np.concatenate([Y1, Y2], axis=1)
