"""Nopython kernels of the condensed collocation solve and of the periodic pencil (Floquet).

The collocation Jacobian of a periodic orbit has one dense block per mesh interval (``m n`` rows,
``(m + 1) n`` node columns), two extra columns (period, parameter) and a few dense border rows
(phase, arclength). AUTO-07p solves it in two stages (Doedel's "condensation of parameters" and
the stable elimination of the resulting block-bidiagonal system); these kernels do the same with
Householder reflections:

1. :func:`condense_intervals` eliminates, in each interval, the ``(m - 1) n`` interior node
   values from the interval's ``m n`` equations, leaving ``n`` equations
   ``A_j y_j + C_j y_{j+1} + E_j z = r_j`` in the mesh-point values ``y_j`` and the extra unknowns
   ``z``; the border rows' interior coefficients are folded onto ``y_j, y_{j+1}, z``.
2. :func:`solve_periodic` eliminates ``y_1, ..., y_{K-1}`` one interval after the other (Gaussian
   elimination with row pivoting on the ``2 n`` rows that contain ``y_j``), closes the cycle ``y_K = y_0``, solves the
   final ``(n + n_b)`` square system for ``(y_0, z)`` and back-substitutes.
3. :func:`periodic_pencil` runs stage 2 on the homogeneous blocks without closing the cycle: the
   last ``n`` rows read ``P0 y_0 + P1 y_K = 0``, so the Floquet multipliers are the eigenvalues of
   the pencil ``(P0, -P1)`` (Fairgrieve and Jepson's product-free method, AUTO's FLOWKM), never
   forming the monodromy product.

Every kernel returns 0 on success and ``k > 0`` when a pivot column vanished (exactly singular).
The plain-Python twins are the same functions run with ``NUMBA_DISABLE_JIT=1`` (or ``.py_func``);
the reference is the sparse LU solve of the assembled system (see tests).

References
----------
E. Doedel, H. B. Keller, J.-P. Kernevez, Numerical analysis and control of bifurcation problems
(II), Int. J. Bifurcation and Chaos 1 (1991) 745-772 (condensation of parameters);
T. F. Fairgrieve, A. D. Jepson, O.K. Floquet multipliers, SIAM J. Numer. Anal. 28 (1991) 1446-1462.
"""
from __future__ import annotations

import math

import numpy as np

from bifurcate._numba import njit
from bifurcate.model import tangent_basis_kernel

__all__ = ["tangent_bases", "tangent_pencil_blocks", "householder_rows", "gauss_rows", "condense_intervals", "solve_periodic", "back_substitute_intervals",
           "periodic_pencil"]


@njit
def householder_rows(W, r0, r1, c0, ncols):
    """In-place Householder QR of the rows ``r0:r1`` of ``W`` on the columns ``c0:c0 + ncols``.

    The reflections are applied to every column from ``c0`` on (columns left of ``c0`` must be
    zero in these rows). Afterwards rows ``r0:r0 + ncols`` hold the upper-triangular factor in
    those columns and the rows below are zero there. Returns 0, or ``k + 1`` if column ``k`` has
    no pivot (exactly singular).
    """
    wc = W.shape[1]
    for k in range(ncols):
        c = c0 + k
        piv = r0 + k
        s = 0.0
        for i in range(piv, r1):
            s += W[i, c] * W[i, c]
        nrm = math.sqrt(s)
        if nrm == 0.0:
            return k + 1
        x0 = W[piv, c]
        alpha = -nrm if x0 >= 0.0 else nrm
        v0 = x0 - alpha
        vtv = s - x0 * x0 + v0 * v0
        W[piv, c] = alpha
        if vtv > 0.0:
            for jj in range(c + 1, wc):
                d = v0 * W[piv, jj]
                for i in range(piv + 1, r1):
                    d += W[i, c] * W[i, jj]
                f = 2.0 * d / vtv
                W[piv, jj] -= f * v0
                for i in range(piv + 1, r1):
                    W[i, jj] -= f * W[i, c]
        for i in range(piv + 1, r1):
            W[i, c] = 0.0
    return 0


@njit
def gauss_rows(W, r0, r1, c0, ncols):
    """In-place Gaussian elimination with partial (row) pivoting of the rows ``r0:r1`` of ``W`` on
    the columns ``c0:c0 + ncols`` (row operations applied to every column from ``c0`` on).

    Same contract as :func:`householder_rows` (rows ``r0:r0 + ncols`` end upper triangular in
    those columns, the rows below zero there), at half the work and with contiguous row updates:
    used for the interval condensation, as AUTO-07p's ``conpar`` does. Returns 0 or ``k + 1``.
    """
    wc = W.shape[1]
    rp = np.empty(wc)
    for k in range(ncols):
        c = c0 + k
        piv = r0 + k
        best = piv
        amax = abs(W[piv, c])
        for i in range(piv + 1, r1):
            a = abs(W[i, c])
            if a > amax:
                amax = a
                best = i
        if amax == 0.0:
            return k + 1
        if best != piv:
            for jj in range(c, wc):
                t = W[piv, jj]
                W[piv, jj] = W[best, jj]
                W[best, jj] = t
        inv = 1.0 / W[piv, c]
        nw = wc - c - 1
        for jj in range(nw):  # a private copy of the pivot row: the row updates below vectorise
            rp[jj] = W[piv, c + 1 + jj]
        for i in range(piv + 1, r1):
            l = W[i, c] * inv
            if l != 0.0:
                ri = W[i, c + 1:]
                for jj in range(nw):
                    ri[jj] -= l * rp[jj]
            W[i, c] = 0.0
    return 0


@njit
def _forward_transposed(W, r0, c0, k, beta, out):
    """Solve ``R^T w = beta`` with ``R = W[r0:r0+k, c0:c0+k]`` upper triangular."""
    for p in range(k):
        s = beta[p]
        for q in range(p):
            s -= W[r0 + q, c0 + p] * out[q]
        out[p] = s / W[r0 + p, c0 + p]


@njit
def condense_intervals(B, Z, rc, Bd, rb, Wk, A, C, E, r, Bm, Bz, rbz):
    """Eliminate the interior node values of every mesh interval.

    Parameters
    ----------
    B : (K, m, n, m + 1, n) collocation blocks (row: interval, collocation point, component;
        column: local node 0..m, component); node ``l`` of interval ``j`` is global node
        ``(j m + l) mod (K m)``.
    Z : (K, m, n, nz) columns of the extra unknowns ``z`` (period, parameter).
    rc : (K, m, n, nr) right-hand sides of the collocation rows.
    Bd : (nb, K m n + nz) border rows (phase, arclength, ...); rb : (nb, nr) their right-hand sides.

    Outputs (overwritten)
    ---------------------
    Wk : (K, m n, (m + 1) n + nz + nr) the triangularised interval systems, local columns
        ``[interior | left | right | z | rhs]`` (kept for the back-substitution).
    A, C : (K, n, n); E : (K, n, nz); r : (K, n, nr): the condensed equations.
    Bm : (nb, K, n); Bz : (nb, nz); rbz : (nb, nr): the border rows on ``(y, z)``.
    """
    K, m, n = B.shape[0], B.shape[1], B.shape[2]
    nz = Z.shape[3]
    nr = rc.shape[3]
    nb = Bd.shape[0]
    ni = (m - 1) * n
    N = K * m
    cz = (m + 1) * n
    cr = cz + nz
    wt = np.empty(max(ni, 1))
    for b in range(nb):
        for q in range(nz):
            Bz[b, q] = Bd[b, N * n + q]
        for q in range(nr):
            rbz[b, q] = rb[b, q]
        for j in range(K):
            for i in range(n):
                Bm[b, j, i] = Bd[b, j * m * n + i]
    for j in range(K):
        W = Wk[j]
        for k in range(m):
            for i in range(n):
                row = k * n + i
                for l in range(1, m):
                    for i2 in range(n):
                        W[row, (l - 1) * n + i2] = B[j, k, i, l, i2]
                for i2 in range(n):
                    W[row, ni + i2] = B[j, k, i, 0, i2]
                    W[row, ni + n + i2] = B[j, k, i, m, i2]
                for q in range(nz):
                    W[row, cz + q] = Z[j, k, i, q]
                for q in range(nr):
                    W[row, cr + q] = rc[j, k, i, q]
        st = gauss_rows(W, 0, m * n, 0, ni)
        if st != 0:
            return j + 1
        for i in range(n):
            for i2 in range(n):
                A[j, i, i2] = W[ni + i, ni + i2]
                C[j, i, i2] = W[ni + i, ni + n + i2]
            for q in range(nz):
                E[j, i, q] = W[ni + i, cz + q]
            for q in range(nr):
                r[j, i, q] = W[ni + i, cr + q]
        if ni == 0:
            continue
        jn = (j + 1) % K
        for b in range(nb):
            for l in range(1, m):
                for i2 in range(n):
                    wt[(l - 1) * n + i2] = Bd[b, (j * m + l) * n + i2]
            _forward_transposed(W, 0, 0, ni, wt, wt)
            for col in range(ni, W.shape[1]):
                s = 0.0
                for q in range(ni):
                    s += wt[q] * W[q, col]
                if col < ni + n:
                    Bm[b, j, col - ni] -= s
                elif col < ni + 2 * n:
                    Bm[b, jn, col - ni - n] -= s
                elif col < cr:
                    Bz[b, col - cz] -= s
                else:
                    rbz[b, col - cr] -= s
    return 0


@njit
def solve_periodic(A, C, E, r, Bm, Bz, rbz, S, y, z):
    """Solve the periodic block-bidiagonal system with borders left by :func:`condense_intervals`.

    Equations: ``A_j y_j + C_j y_{j+1} + E_j z = r_j`` (j = 0..K-1, ``y_K = y_0``) and
    ``sum_j Bm[b, j] y_j + Bz[b] z = rbz[b]`` (nb rows, ``nb == nz``).

    Outputs: ``S`` (K, n, 3 n + nz + nr) the eliminated rows (work), ``y`` (K, n, nr), ``z`` (nz, nr).
    """
    K, n = A.shape[0], A.shape[1]
    nz = E.shape[2]
    nr = r.shape[2]
    nb = Bm.shape[0]
    c3 = 3 * n
    cr = c3 + nz
    wc = cr + nr
    G = np.zeros((n, wc))  # [y_cur | y_0 | y_next | z | rhs]
    Gb = np.zeros((nb, wc))
    W = np.zeros((2 * n, wc))
    wt = np.empty(n)
    for i in range(n):
        for i2 in range(n):
            G[i, i2] = C[0, i, i2]
            G[i, n + i2] = A[0, i, i2]
        for q in range(nz):
            G[i, c3 + q] = E[0, i, q]
        for q in range(nr):
            G[i, cr + q] = r[0, i, q]
    if K == 1:
        for i in range(n):
            for i2 in range(n):
                G[i, n + i2] += G[i, i2]
                G[i, i2] = 0.0
    for b in range(nb):
        for i in range(n):
            Gb[b, n + i] = Bm[b, 0, i]
            if K > 1:
                Gb[b, i] = Bm[b, 1, i]
        for q in range(nz):
            Gb[b, c3 + q] = Bz[b, q]
        for q in range(nr):
            Gb[b, cr + q] = rbz[b, q]
    for j in range(1, K):
        last = j == K - 1
        for i in range(2 * n):
            for c in range(wc):
                W[i, c] = 0.0
        for i in range(n):
            for c in range(wc):
                W[i, c] = G[i, c]
            for i2 in range(n):
                W[n + i, i2] = A[j, i, i2]
                if last:
                    W[n + i, n + i2] += C[j, i, i2]
                else:
                    W[n + i, 2 * n + i2] = C[j, i, i2]
            for q in range(nz):
                W[n + i, c3 + q] = E[j, i, q]
            for q in range(nr):
                W[n + i, cr + q] = r[j, i, q]
        st = gauss_rows(W, 0, 2 * n, 0, n)  # row pivoting between the two blocks, as AUTO's reduce
        if st != 0:
            return j + 1
        for i in range(n):
            for c in range(wc):
                S[j, i, c] = W[i, c]
        for b in range(nb):
            for i in range(n):
                wt[i] = Gb[b, i]
            _forward_transposed(W, 0, 0, n, wt, wt)
            for c in range(n, wc):
                s = 0.0
                for q in range(n):
                    s += wt[q] * W[q, c]
                Gb[b, c] -= s
            for i in range(n):
                Gb[b, i] = Gb[b, 2 * n + i] + (0.0 if last else Bm[b, j + 1, i])
                Gb[b, 2 * n + i] = 0.0
        for i in range(n):
            for c in range(wc):
                G[i, c] = 0.0
            for i2 in range(n):
                G[i, i2] = W[n + i, 2 * n + i2]
                G[i, n + i2] = W[n + i, n + i2]
            for c in range(c3, wc):
                G[i, c] = W[n + i, c]
    # final square system in (y_0, z)
    nf = n + nz
    F = np.zeros((n + nb, nf + nr))
    for i in range(n):
        for i2 in range(n):
            F[i, i2] = G[i, n + i2]
        for q in range(nz + nr):
            F[i, n + q] = G[i, c3 + q]
    for b in range(nb):
        for i2 in range(n):
            F[n + b, i2] = Gb[b, n + i2]
        for q in range(nz + nr):
            F[n + b, n + q] = Gb[b, c3 + q]
    st = householder_rows(F, 0, n + nb, 0, nf)
    if st != 0:
        return K + st
    sol = np.zeros((nf, nr))
    for q in range(nr):
        for p in range(nf - 1, -1, -1):
            s = F[p, nf + q]
            for c in range(p + 1, nf):
                s -= F[p, c] * sol[c, q]
            sol[p, q] = s / F[p, p]
    for q in range(nr):
        for i in range(n):
            y[0, i, q] = sol[i, q]
        for k in range(nz):
            z[k, q] = sol[n + k, q]
    for j in range(K - 1, 0, -1):
        last = j == K - 1
        for q in range(nr):
            for p in range(n - 1, -1, -1):
                s = S[j, p, cr + q]
                for c in range(n):
                    s -= S[j, p, n + c] * y[0, c, q]
                    if not last:
                        s -= S[j, p, 2 * n + c] * y[j + 1, c, q]
                for k in range(nz):
                    s -= S[j, p, c3 + k] * z[k, q]
                for c in range(p + 1, n):
                    s -= S[j, p, c] * y[j, c, q]
                y[j, p, q] = s / S[j, p, p]
    return 0


@njit
def back_substitute_intervals(Wk, y, z, m, x):
    """Interior node values from the triangularised interval systems.

    ``Wk`` from :func:`condense_intervals`, ``y`` (K, n, nr) and ``z`` (nz, nr) from
    :func:`solve_periodic`; writes all node values into ``x`` (K m, n, nr).
    """
    K, n, nr = y.shape[0], y.shape[1], y.shape[2]
    nz = z.shape[0]
    ni = (m - 1) * n
    cz = (m + 1) * n
    cr = cz + nz
    xi = np.empty(max(ni, 1))
    for j in range(K):
        jn = (j + 1) % K
        W = Wk[j]
        for q in range(nr):
            for i in range(n):
                x[j * m, i, q] = y[j, i, q]
            for p in range(ni - 1, -1, -1):
                s = W[p, cr + q]
                for c in range(n):
                    s -= W[p, ni + c] * y[j, c, q] + W[p, ni + n + c] * y[jn, c, q]
                for k in range(nz):
                    s -= W[p, cz + k] * z[k, q]
                for c in range(p + 1, ni):
                    s -= W[p, c] * xi[c]
                xi[p] = s / W[p, p]
            for l in range(1, m):
                for i in range(n):
                    x[j * m + l, i, q] = xi[(l - 1) * n + i]
    return 0


@njit
def periodic_pencil(A, C, P0, P1):
    """Reduce the cyclic homogeneous system ``A_j y_j + C_j y_{j+1} = 0`` (j = 0..K-1) to
    ``P0 y_0 + P1 y_K = 0`` by orthogonal elimination of ``y_1 .. y_{K-1}`` (no products formed).

    A, C : (K, d, d); outputs P0, P1 : (d, d). The Floquet multipliers are the eigenvalues ``mu``
    of ``(P0 + mu P1) v = 0``.
    """
    K, d = A.shape[0], A.shape[1]
    W = np.zeros((2 * d, 3 * d))
    Gc = np.empty((d, d))
    G0 = np.empty((d, d))
    for i in range(d):
        for i2 in range(d):
            Gc[i, i2] = C[0, i, i2]
            G0[i, i2] = A[0, i, i2]
    for j in range(1, K):
        for i in range(d):
            for i2 in range(d):
                W[i, i2] = Gc[i, i2]
                W[i, d + i2] = G0[i, i2]
                W[i, 2 * d + i2] = 0.0
                W[d + i, i2] = A[j, i, i2]
                W[d + i, d + i2] = 0.0
                W[d + i, 2 * d + i2] = C[j, i, i2]
        st = householder_rows(W, 0, 2 * d, 0, d)
        if st != 0:
            return j
        for i in range(d):
            for i2 in range(d):
                Gc[i, i2] = W[d + i, 2 * d + i2]
                G0[i, i2] = W[d + i, d + i2]
    for i in range(d):
        for i2 in range(d):
            P0[i, i2] = G0[i, i2]
            P1[i, i2] = Gc[i, i2]
    return 0


@njit
def tangent_bases(Y, sphere_blocks, free_idx, out):
    """Tangent bases (K, n, d) at the points ``Y`` (K, n) (the geometry's kernel, batched)."""
    for j in range(Y.shape[0]):
        tangent_basis_kernel(Y[j], sphere_blocks, free_idx, out[j])
    return 0


@njit
def tangent_pencil_blocks(A, C, bases, normals, Ah, Ch):
    """Condensed blocks restricted to tangent spaces: ``y_j = T_j eta_j``, and the normal component
    of ``y_{j+1}`` eliminated from the ``n`` rows of ``A_j y_j + C_j y_{j+1} = 0`` (a QR step on
    ``C_j N_{j+1}``), leaving ``d`` rows ``Ah_j eta_j + Ch_j eta_{j+1} = 0``.

    A, C : (K, n, n); bases : (K, n, d); normals : (K, n, n - d); outputs Ah, Ch : (K, d, d).
    Returns 0, or ``j + 1`` if ``C_j N_{j+1}`` is rank deficient.
    """
    K, n = A.shape[0], A.shape[1]
    d = bases.shape[2]
    q = n - d
    W = np.zeros((n, q + 2 * d))
    for j in range(K):
        jn = (j + 1) % K
        for i in range(n):
            for c in range(q):
                s = 0.0
                for k in range(n):
                    s += C[j, i, k] * normals[jn, k, c]
                W[i, c] = s
            for c in range(d):
                s = 0.0
                t = 0.0
                for k in range(n):
                    s += A[j, i, k] * bases[j, k, c]
                    t += C[j, i, k] * bases[jn, k, c]
                W[i, q + c] = s
                W[i, q + d + c] = t
        st = householder_rows(W, 0, n, 0, q)
        if st != 0:
            return j + 1
        for i in range(d):
            for c in range(d):
                Ah[j, i, c] = W[q + i, q + c]
                Ch[j, i, c] = W[q + i, q + d + c]
    return 0
