"""Liouvillian spectrum and spectral gap of Eq. (5) per symmetry sector (finite-size signature of transitions).

The Liouvillian is block diagonal in the Z2 label ``(M_ket - M_bra) mod 2`` (``M = m_A + m_B``):

* the *even* sector holds the steady state (eigenvalue 0); its gap ``gap_even = -max Re mu`` over the
  other eigenvalues closes at first-order / PT transitions and in regions of slow (limit-cycle) dynamics;
* the *odd* sector's leading eigenvalue ``gap_odd`` closes where the Z2 symmetry breaks spontaneously
  (the ferromagnetic LMG phases: two mean-field attractors), as in Minganti et al. (the paper's ref. [3]).

At ``J = 0`` each sector splits further into U(1) blocks ``w = M_ket - M_bra``, diagonalised separately.

Methods: ``"dense"`` (all eigenvalues, ``numpy.linalg.eigvals``; blocks up to 2500 states, i.e. S <= 3
at ``J != 0``) and ``"arnoldi"`` (``scipy.sparse.linalg.eigs`` in shift-invert mode
about ``sigma``, sparse LU of ``L - sigma``; the ``k`` eigenvalues nearest ``sigma``, so slow modes with a
large imaginary part can be missed: stated in the result's ``message``).

Shift-invert for any system (:func:`shift_invert_spectrum`, :func:`shift_invert_eigenvalues`,
:func:`targeted_eigenpair`): the eigenvalues nearest given shifts in every symmetry sector of
:func:`bifurcate.quantum.liouvillian_system`, each with its residual ``||L v - mu v|| / ||v||`` and a status
per pair. The inverse ``(L - sigma)^{-1}`` is a sparse LU for sectors up to ``SHIFT_INVERT_DIRECT_MAX`` states
(all U(1) sectors of the dimer at ``J = 0`` up to S = 16 and beyond), else right-preconditioned GMRES whose
preconditioner :class:`KronSumPreconditioner` inverts the uncoupled Liouvillian ``L_A (+) L_B - sigma``
exactly (Schur forms, triangular Sylvester solves). The steady state is deflated by the trace (the left
eigenvector of 0), so shifts at or near 0 are safe. Measured on the loaded 2-core machine (one BLAS thread):
the preconditioner costs 1.07 s and a sector product 0.10 s at S = 16 (593 000 states per Z2 sector), and
GMRES needs 46-50 (S = 4), 73-79 (S = 8) products for 1e-10 at ``sigma = 0.05 + 1.8 i`` (122-135 at S = 6
for a shift inside the spectrum, ``-0.35 + 1.84 i``): the coupling ``lam`` left out of the preconditioner
costs iterations that grow with S. Arnoldi needs 20-35 inverse applications for a few eigenvalues, so the
Z2 sectors at J != 0 and S = 16 take hours, not minutes, on this route (see the benchmark's notes).

The slowest eigenvalues whatever their imaginary part (:func:`slowest_spectrum`, :class:`HermitianSectors`,
:func:`block_davidson`): each self-conjugate sector (every Z2 sector) is the real matrix of ``L`` in the product
basis of Hermitian operators (half the numbers of the complex sector); block generalized Davidson corrects the
leading Ritz pairs with the resolvent ``(L_unc - theta)^{-1}`` of the uncoupled Liouvillian at the Ritz value,
from the real Schur forms the steady-state solver's ``"lindblad"`` preconditioner uses (the steady state is the
shift 0 of the same inverse; :class:`KronSumPreconditioner` uses it too on Z2 sectors), optionally followed by the
exact resolvent of the Liouvillian without its recycling terms (:meth:`HermitianSectors.solve_nojump`, the coupling
kept) on the residual the first leaves, weighted to minimise the step's residual (:func:`_sector_preconditioner`,
``preconditioner="uncoupled+nojump"``, the default where it applies). The start space is the
uncoupled Liouvillian's slowest modes, so the iteration is local: a slow mode far from every uncoupled seed can be
missed. Sectors up to ``dense_max`` states are certified against their dense spectrum ("dense" / "missed");
beyond, the status says "unverified", with what was checked: the residual of every pair, a rigorous bound on
``|Im mu|`` over the sector's whole spectrum (:func:`numerical_range_bounds`: the strip right of the ``k``-th value a
certificate would have to cover) and, with ``starts=2``, whether two independent starts agree. Measured on ten
sectors at S = 2, 3 (five coupled points, dense check): one start returned the slowest six in 5 of 10 sectors, the
union of two starts in 7; the missed modes are real population modes of the even sector and modes far up the
imaginary axis (-0.60 + 5.76i, -0.64 + 4.23i at S = 3, (1.5, 0.45)). An uncoupled system (the dimer at ``lam = 0``)
needs no iteration: each sector's whole spectrum is the sum set of the one-mode dense spectra
(:meth:`HermitianSectors.uncoupled_eigenpairs`, certificate "kronecker"). Measured costs at S = 16 (J != 0, 592 961
real unknowns per sector, loaded machine, CPU time): a product 0.06 s, a resolvent 0.23 s (two threads), the sector
build 17 s, one pass over a 150-vector Davidson basis 0.13-0.20 s: the basis is column-major and every operation
on it is one matrix product per iteration, not one per vector, written transposed for OpenBLAS's faster kernel
(``V Y`` as ``(Y^T V^T)^T``: 1.5-2.5x). Ritz vectors are formed from real coefficient columns (one per real value,
two per conjugate pair) and the products run on the sector's two threads by fixed row chunks, with the same
rounding on one thread or two (:class:`_RowPasses`).

References
----------
F. Minganti, A. Biella, N. Bartolo and C. Ciuti, PRA 98, 042118 (2018); Kothe & Kirton, Eq. (5).
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.linalg as sla
import scipy.sparse.linalg as spla
from scipy.linalg.lapack import ztrsyl as _ztrsyl

from .lmg_dimer import hamiltonian, jump_operators, magnetisation_quantum_numbers, validate_params
from .operators import liouvillian, validate_spin

__all__ = ["LiouvillianSpectrum", "liouvillian_spectrum", "sector_liouvillians", "KronSumPreconditioner",
           "ShiftInvertSpectrum", "shift_invert_eigenvalues", "shift_invert_spectrum", "targeted_eigenpair",
           "HermitianSectors", "SlowestSpectrum", "block_davidson", "slowest_spectrum", "numerical_range_bounds"]

DENSE_MAX = 2500


def _check_size(S, max_memory_gib=None):
    """Refuse before building the ``(2S+1)^4``-dimensional sparse Liouvillian when it cannot fit in memory."""
    from .steady import QuantumSizeError, SteadyStateOptions, _gib, memory_limit

    d2 = float(int(round(2 * S)) + 1) ** 4
    est = 16.0 * 12 * d2  # complex entries and indices, about a dozen per row, plus the sector copies
    lim = memory_limit(SteadyStateOptions(max_memory_gib=max_memory_gib))
    if est > lim:
        raise QuantumSizeError(f"liouvillian_spectrum(S={S:g}): the Liouvillian needs about {_gib(est)}, more "
                               f"than the limit of {_gib(lim)} (75 % of the physical memory)")


def sector_liouvillians(S, params: Mapping | None = None) -> dict:
    """Sparse Liouvillian blocks keyed by ``(parity, w)``: ``w`` is ``M_ket - M_bra`` at ``J = 0`` and
    ``None`` otherwise. Column-stacked ``vec(rho)`` (QuTiP's convention) restricted to each block."""
    S = validate_spin(S)
    p = validate_params(params)
    L = liouvillian(hamiltonian(S, p), jump_operators(S, p)).tocsr()
    mA, mB = magnetisation_quantum_numbers(S)
    M = np.rint(mA + mB).astype(int)
    d = len(M)
    # vec index v = beta * d + alpha  <->  rho[alpha, beta]
    alpha = np.tile(np.arange(d), d)
    beta = np.repeat(np.arange(d), d)
    w = M[alpha] - M[beta]
    out = {}
    keys = sorted(set(w.tolist())) if p["J"] == 0.0 else [None]
    for par in (0, 1):
        for key in keys:
            sel = np.flatnonzero((w % 2 == par) & ((w == key) if key is not None else True))
            if len(sel) == 0:
                continue
            out[(par, key)] = L[sel][:, sel].tocsc()
    return out


@dataclass(frozen=True, eq=False)
class LiouvillianSpectrum:
    """Leading Liouvillian eigenvalues per Z2 sector.

    Attributes
    ----------
    S : float
    params : dict
    even, odd : complex ndarray (k,)
        Eigenvalues with the largest real parts in each sector, sorted by decreasing real part
        (``even[0]`` is the steady state's 0).
    gap_even : float
        ``-Re even[1]`` (relaxation gap of the symmetric sector).
    gap_odd : float
        ``-Re odd[0]`` (closes at spontaneous Z2 breaking).
    gap : float
        ``min(gap_even, gap_odd)``, the Liouvillian spectral gap.
    method, status, message : str
    stats : dict
    """

    S: float
    params: dict
    even: np.ndarray
    odd: np.ndarray
    gap_even: float
    gap_odd: float
    gap: float
    method: str
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``S``, the parameters, the three gaps, the leading eigenvalues, status."""
        row = {"S": self.S, **self.params, "gap": self.gap, "gap_even": self.gap_even, "gap_odd": self.gap_odd,
               "mu1_even": self.even[1] if len(self.even) > 1 else np.nan,
               "mu0_odd": self.odd[0] if len(self.odd) else np.nan,
               "method": self.method, "status": self.status, "message": self.message,
               "time_s": self.stats.get("time_s")}
        return pd.DataFrame([row])


def _leading(vals: np.ndarray, k: int) -> np.ndarray:
    vals = np.asarray(vals)
    return vals[np.argsort(-vals.real, kind="stable")][:k]


def liouvillian_spectrum(S, params: Mapping | None = None, *, k: int = 6, method: str = "auto",
                         sigma: float = 0.0, n_threads: int | None = 1) -> LiouvillianSpectrum:
    """Leading eigenvalues and gaps of the Liouvillian of Eq. (5) in its even and odd Z2 sectors.

    Parameters
    ----------
    S : spin length (positive integer or half-integer)
    params : dict, optional
        ``g, gamma, J, lam``.
    k : int
        Eigenvalues kept per sector.
    method : {"auto", "dense", "arnoldi"}
        ``"auto"``: dense when every block has at most 2500 states.
    sigma : float
        Shift for ``"arnoldi"``.
    n_threads : int or None
        BLAS threads (threadpoolctl); default 1: on the shared 2-core machine a multi-threaded
        ``eigvals`` of a 313 x 313 block took 13 s instead of 0.1 s.

    Returns
    -------
    LiouvillianSpectrum

    Examples
    --------
    >>> sp_ = liouvillian_spectrum(1, {"J": 0.0, "lam": 0.0})
    >>> bool(abs(sp_.even[0]) < 1e-12)
    True
    """
    if method not in ("auto", "dense", "arnoldi"):
        raise ValueError(f"expected method 'auto', 'dense' or 'arnoldi', got {method!r}")
    if not (isinstance(k, (int, np.integer)) and k >= 2):
        raise ValueError(f"expected k an integer >= 2, got {k!r}")
    t0 = time.perf_counter()
    S = validate_spin(S)
    p = validate_params(params)
    _check_size(S)
    blocks = sector_liouvillians(S, p)
    biggest = max(b.shape[0] for b in blocks.values())
    if method == "auto":
        method = "dense" if biggest <= DENSE_MAX else "arnoldi"
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads, user_api="blas"):
        vals = _eigenvalues(blocks, method, k, sigma)
    even = _leading(np.concatenate(vals[0]), k)
    odd = _leading(np.concatenate(vals[1]), k) if vals[1] else np.array([], dtype=complex)
    gap_even = float(-even[1].real) if len(even) > 1 else np.nan
    gap_odd = float(-odd[0].real) if len(odd) else np.nan
    gap = float(np.nanmin([gap_even, gap_odd]))
    zero = float(abs(even[0]))
    status = "ok"
    msg = f"{method}: |mu0| = {zero:.1e}, gap_even = {gap_even:.4g}, gap_odd = {gap_odd:.4g}"
    if method == "arnoldi":
        msg += f" (the {k} eigenvalues nearest sigma = {sigma}; slow modes far up the imaginary axis may be missed)"
    if zero > 1e-8 * max(1.0, float(np.abs(even).max())):
        status = "warning"
        msg += "; the steady-state eigenvalue is not resolved"
    return LiouvillianSpectrum(S=S, params=p, even=even, odd=odd, gap_even=gap_even, gap_odd=gap_odd, gap=gap,
                               method=method, status=status, message=msg,
                               stats={"time_s": time.perf_counter() - t0, "largest_block": biggest,
                                      "n_blocks": len(blocks)})


def _eigenvalues(blocks, method, k, sigma):
    vals = {0: [], 1: []}
    for (par, _), Lb in blocks.items():
        n = Lb.shape[0]
        if method == "dense" or n <= max(k + 2, 50):
            ev = np.linalg.eigvals(Lb.toarray())
        else:
            lu = spla.splu((Lb - sigma * sp.identity(n, format="csc")).tocsc(), permc_spec="COLAMD")
            op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=complex)
            kk = min(k + 1, n - 2)
            ev = spla.eigs(Lb, k=kk, sigma=sigma, OPinv=op, which="LM", return_eigenvectors=False,
                           maxiter=5000)
        vals[par].append(ev)
    return vals


# ------------------------------------------------------------------------------------------------
# shift-invert with iterative inner solves (issue 16): any system, every symmetry sector
SHIFT_INVERT_DIRECT_MAX = 60000


def _trsyl(A: np.ndarray, B: np.ndarray, C: np.ndarray, base: int = 96) -> np.ndarray:
    """``X`` with ``A X + X B = C`` for upper triangular complex ``A (m, m)``, ``B (n, n)``.

    Recursive blocking (Jonsson & Kagstrom's RECSY scheme): the larger dimension is halved and the
    coupling applied by a matrix product, so almost all the work is level-3 BLAS; LAPACK ``ztrsyl`` (a
    level-2 routine, 0.7-1.1 s for m = n = 545 measured here) solves the leaves of at most ``base`` rows
    and columns. Raises ``FloatingPointError`` when ``ztrsyl`` had to scale (a near-singular equation).
    """
    m, n = A.shape[0], B.shape[0]
    if m <= base and n <= base:
        X, scale, info = _ztrsyl(A, B, np.asfortranarray(C), trana="N", tranb="N", isgn=1)
        if info < 0 or scale != 1.0:
            raise FloatingPointError(f"ztrsyl: info {info}, scale {scale} (near-singular Sylvester equation)")
        return X
    X = np.empty((m, n), dtype=complex)
    if m >= n:
        h = m // 2
        X[h:] = _trsyl(A[h:, h:], B, C[h:], base)
        X[:h] = _trsyl(A[:h, :h], B, C[:h] - A[:h, h:] @ X[h:], base)
    else:
        h = n // 2
        X[:, :h] = _trsyl(A, B[:h, :h], C[:, :h], base)
        X[:, h:] = _trsyl(A, B[h:, h:], C[:, h:] - X[:, :h] @ B[:h, h:], base)
    return X


def _partial_traces(M: np.ndarray, n1: int, n2: int):
    M4 = M.reshape(n1, n2, n1, n2)
    return np.einsum("ajbj->ab", M4), np.einsum("iaib->ab", M4)


class KronSumPreconditioner:
    """Exact inverse of the *uncoupled* Liouvillian ``L1 (+) L2 - sigma`` of a two-factor system, on one sector.

    The Hamiltonian is projected (Hilbert-Schmidt) on its local part ``h1 (x) 1 + 1 (x) h2`` (as the
    steady-state solver's Kronecker preconditioner does); every jump operator must act on one factor only
    (``c = c1 (x) 1`` or ``1 (x) c2``, checked). Then ``L_unc = L1 (x) 1 + 1 (x) L2`` (``L_i`` the
    one-factor Liouvillians of ``h_i`` and the factor's jumps) and, with ``rho`` reshaped to ``Y[a, b]``
    (``a``, ``b`` the column-stacked one-factor indices), ``(L_unc - sigma) rho = C`` is the Sylvester
    equation ``L1 Y + Y L2^T - sigma Y = C``. It is solved per pair of connected components of ``L1`` and
    ``L2`` (e.g. the parities of ``m - m'`` of an LMG spin) with complex Schur forms computed once
    (unitary: no loss to the eigenvector condition numbers, measured 6e11 at S = 16) and the recursive
    triangular solver :func:`_trsyl`. A sector closed under ``X -> X^+`` (every Z2 sector) is instead solved by
    :meth:`HermitianSectors.solve` in the Hermitian basis (``x = W z``): the real Schur forms of the steady-state
    solver's Lindbladian preconditioner with a complex shift, the one uncoupled inverse of the package; the
    complex path remains for U(1) sectors. Exact for the LMG dimer at ``lam = 0``; the coupling (the PT term)
    costs Krylov iterations. Cost per application: four complex products of the component sizes
    (545 x 545 at S = 16) per component pair, plus the triangular solve.

    Parameters
    ----------
    sl : SystemLiouvillian with two modes
    index : int array
        Full column-stacked ``vec`` indices (``beta * d + alpha``) of the sector's entries, in the order of
        the sector's vectors.

    Raises
    ------
    ValueError
        Not two modes, a jump acting on both factors, or a sector that is not a union of component pairs.
    """

    def __init__(self, sl, index: np.ndarray):
        from scipy.sparse.csgraph import connected_components

        if len(sl.dims) != 2:
            raise ValueError(f"expected a system of two modes for the Kronecker-sum preconditioner, got dims {sl.dims}")
        n1, n2 = (int(x) for x in sl.dims)
        d = n1 * n2
        H = sl.H.toarray().astype(complex)
        t1, t2 = _partial_traces(H, n1, n2)
        h1 = t1 / n2 - (np.trace(H) / d) * np.eye(n1)
        h2 = t2 / n1
        jumps = ([], [])
        for k, c in enumerate(sl.c_ops):
            C = c.toarray().astype(complex)
            c1, c2 = _partial_traces(C, n1, n2)
            nc = np.linalg.norm(C)
            if np.linalg.norm(C - np.kron(c1 / n2, np.eye(n2))) <= 1e-12 * nc:
                jumps[0].append(sp.csr_matrix(c1 / n2))
            elif np.linalg.norm(C - np.kron(np.eye(n1), c2 / n1)) <= 1e-12 * nc:
                jumps[1].append(sp.csr_matrix(c2 / n1))
            else:
                raise ValueError(f"jump operator {k} acts on both modes: the Kronecker-sum preconditioner does not apply")
        self.nonlocality = float(np.linalg.norm(H - np.kron(h1, np.eye(n2)) - np.kron(np.eye(n1), h2))
                                 / max(np.linalg.norm(H), 1e-300))
        self.n = len(index)
        # a sector closed under X -> X^+ (every Z2 sector): the steady-state preconditioner's real Schur forms in the
        # Hermitian basis, shifted (HermitianSectors.solve), so one inverse serves the steady state and both
        # spectrum solvers; other sectors (U(1) charges) keep the complex Schur forms below
        try:
            self._herm = HermitianSectors(sl, index=index)
        except ValueError:
            self._herm = None
        if self._herm is not None:
            self.pairs = [(g[0][1], g[1][1], g[4], g[5], None) for g in self._herm._groups["sector"]]
            return
        Ls = [liouvillian(sp.csr_matrix(h), js).toarray() for h, js in ((h1, jumps[0]), (h2, jumps[1]))]
        comps = []
        for Lf in Ls:
            nc, lab = connected_components(sp.csr_matrix((np.abs(Lf) + np.abs(Lf).T) > 0), directed=False)
            comps.append(lab)
        index = np.asarray(index)
        beta, alpha = np.divmod(index, d)
        i1, i2 = np.divmod(alpha, n2)
        j1, j2 = np.divmod(beta, n2)
        a = j1 * n1 + i1
        b = j2 * n2 + i2
        ca, cb = comps[0][a], comps[1][b]
        self.pairs = []
        self._schur = {}
        rank = []
        for lab in comps:
            r = np.empty(len(lab), dtype=np.int64)
            for c in np.unique(lab):
                ix = np.flatnonzero(lab == c)
                r[ix] = np.arange(len(ix))
            rank.append(r)
        key = ca.astype(np.int64) * (int(comps[1].max()) + 1) + cb
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for grp in np.split(order, bounds):
            p, q = int(ca[grp[0]]), int(cb[grp[0]])
            na, nb = int((comps[0] == p).sum()), int((comps[1] == q).sum())
            if len(grp) != na * nb:
                raise ValueError("the sector is not a union of products of the factors' components: the "
                                 "Kronecker-sum preconditioner does not apply")
            flat = rank[0][a[grp]] * nb + rank[1][b[grp]]
            where = np.empty(na * nb, dtype=np.int64)
            where[flat] = grp
            for f, c in ((0, p), (1, q)):
                if (f, c) not in self._schur:
                    ix = np.flatnonzero(comps[f] == c)
                    blk = Ls[f][np.ix_(ix, ix)]
                    T, Q = sla.schur(blk if f == 0 else blk.T, output="complex")
                    self._schur[(f, c)] = (T, np.ascontiguousarray(Q), np.ascontiguousarray(Q.conj().T))
            self.pairs.append((p, q, na, nb, where))
        self.n = len(index)

    def solve(self, r: np.ndarray, sigma: complex) -> np.ndarray:
        """``(L_unc - sigma)^{-1} r`` for a sector vector ``r``."""
        if self._herm is not None:
            W = self._herm.W["sector"]
            return W @ self._herm.solve("sector", W.conj().T @ np.asarray(r, dtype=complex), sigma)
        out = np.empty(self.n, dtype=complex)
        for p, q, na, nb, where in self.pairs:
            T1, Q1, Q1h = self._schur[(0, p)]
            T2, Q2, Q2h = self._schur[(1, q)]
            F = Q1h @ (r[where].reshape(na, nb) @ Q2)
            A = T1 - sigma * np.eye(na)
            Z = _trsyl(A, T2, F)
            out[where] = ((Q1 @ Z) @ Q2h).ravel()
        return out


def _gmres(matvec, prec, b: np.ndarray, *, rtol: float, restart: int = 40, maxiter: int = 2000):
    """Right-preconditioned restarted GMRES (complex): ``A M y = b``, ``x = M y``, so the residual it
    minimises and reports is the true one of ``A x = b`` (checked again at every restart).

    Returns ``(x, info, n_products, rel_res)``; ``info`` 0 converged, 1 iteration cap, -1 breakdown.
    """
    bn = float(np.linalg.norm(b))
    if bn == 0.0:
        return np.zeros_like(b), 0, 0, 0.0
    x = np.zeros(len(b), dtype=complex)
    r = b.astype(complex).copy()
    n_mv = 0
    rel = 1.0
    while n_mv < maxiter:
        beta = float(np.linalg.norm(r))
        rel = beta / bn
        if rel <= rtol:
            return x, 0, n_mv, rel
        m = min(restart, maxiter - n_mv)
        V = np.empty((m + 1, len(b)), dtype=complex)
        Hh = np.zeros((m + 1, m), dtype=complex)
        V[0] = r / beta
        g = np.zeros(m + 1, dtype=complex)
        g[0] = beta
        cs, sn = np.zeros(m, dtype=complex), np.zeros(m, dtype=complex)
        j_done = 0
        for j in range(m):
            w = matvec(prec(V[j]))
            n_mv += 1
            for _ in range(2):  # classical Gram-Schmidt, twice (BLAS-2, stable)
                h = V[:j + 1].conj() @ w
                w -= h @ V[:j + 1]
                Hh[:j + 1, j] += h
            hn = float(np.linalg.norm(w))
            Hh[j + 1, j] = hn
            if not np.isfinite(hn):
                return x, -1, n_mv, rel
            for i in range(j):  # earlier Givens rotations G_i = [[c*, s*], [-s, c]]
                t = np.conj(cs[i]) * Hh[i, j] + np.conj(sn[i]) * Hh[i + 1, j]
                Hh[i + 1, j] = -sn[i] * Hh[i, j] + cs[i] * Hh[i + 1, j]
                Hh[i, j] = t
            den = math.hypot(abs(Hh[j, j]), hn)
            if den == 0.0:
                return x, -1, n_mv, rel
            cs[j] = Hh[j, j] / den
            sn[j] = hn / den
            Hh[j, j] = den
            Hh[j + 1, j] = 0.0
            g[j + 1] = -sn[j] * g[j]
            g[j] = np.conj(cs[j]) * g[j]
            j_done = j + 1
            if abs(g[j + 1]) <= rtol * bn * 0.5 or hn == 0.0:
                break
            V[j + 1] = w / hn
        y = sla.solve_triangular(Hh[:j_done, :j_done], g[:j_done])
        x += prec(y @ V[:j_done])
        r = b - matvec(x)
        n_mv += 1
    rel = float(np.linalg.norm(r)) / bn
    return x, (0 if rel <= rtol else 1), n_mv, rel


def shift_invert_eigenvalues(L, sigma: complex, k: int = 6, *, prec=None, direct: bool | None = None,
                             trace_index: np.ndarray | None = None, tol: float = 1e-12, inner_rtol: float = 1e-11,
                             inner_maxiter: int = 3000, restart: int = 40, ncv: int | None = None,
                             maxiter: int = 300, seed: int = 20240701):
    """The ``k`` eigenvalues of a sparse (Liouvillian) matrix ``L`` nearest the shift ``sigma``, with residuals.

    Arnoldi (ARPACK ``eigs``, largest modulus, tolerance ``tol``) on ``(L - sigma)^{-1}``: a sparse LU when
    ``direct`` (default: at most :data:`SHIFT_INVERT_DIRECT_MAX` states), else right-preconditioned GMRES
    (:func:`_gmres`, relative tolerance ``inner_rtol``) with ``prec(r, sigma)`` (e.g.
    :meth:`KronSumPreconditioner.solve`). Each eigenvalue is then the Rayleigh quotient of its eigenvector
    with ``L`` itself and its residual ``||L v - mu v|| / ||v||`` is returned.

    ``trace_index`` (positions of the diagonal entries ``rho[i, i]`` in the sector's vector): the sector holds
    the steady state. ``tr(L X) = 0`` for every ``X`` (trace preservation), so the traceless matrices form an
    invariant subspace of ``L`` and of ``(L - sigma)^{-1}`` that holds every eigenvector but the steady
    state's; the Arnoldi runs on ``P (L - sigma)^{-1} P`` with ``P X = X - tr(X) 1 / d``, which maps the
    steady state's ``1 / (0 - sigma)`` to 0. A shift near 0 (or a slow mode near 0 in that sector, e.g. a
    tunnelling mode) then does not compete with the steady state.

    Returns ``(mu, residuals, info)`` sorted by decreasing real part; ``info``: ``solves`` (applications of
    the inverse), ``inner_products`` (GMRES products, 0 for LU), ``inner_failures`` (solves that missed
    ``inner_rtol``), ``worst_inner`` (largest relative inner residual), ``arpack`` ("ok" or the error text).
    """
    L = sp.csr_matrix(L)
    n = L.shape[0]
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= n - 2):
        raise ValueError(f"expected k an integer in [1, {n - 2}], got {k!r}")
    sigma = complex(sigma)
    if direct is None:
        direct = n <= SHIFT_INVERT_DIRECT_MAX or prec is None
    info = {"solves": 0, "inner_products": 0, "inner_failures": 0, "worst_inner": 0.0, "arpack": "ok",
            "direct": bool(direct), "sigma": sigma}
    A = (L - sigma * sp.identity(n, format="csr", dtype=complex)).tocsr()
    if direct:
        B = A
        if trace_index is not None:
            # bordered by u tr(.) (u = s e_j, s = ||L||_1 != sigma): non-singular even at sigma = 0, and on
            # traceless right-hand sides the solution is traceless (tr(x) (s - sigma) = 0), i.e. (L - sigma)^{-1}
            s_ = max(float(abs(L).sum(axis=0).max()), 1.0)
            if abs(s_ - sigma) < 1e-3 * s_:
                s_ *= 2.0
            j = int(trace_index[0])
            B = (A + sp.csr_matrix((np.full(len(trace_index), s_, dtype=complex),
                                    (np.full(len(trace_index), j), trace_index)), shape=(n, n))).tocsr()
        lu = spla.splu(B.tocsc(), permc_spec="COLAMD")

        def inv(r):
            return lu.solve(np.asarray(r, dtype=complex))
    else:
        if prec is not None and trace_index is not None and abs(sigma) < 1e-6:
            raise ValueError(f"expected a shift away from 0 (|sigma| >= 1e-6) for the iterative solves in the sector of "
                             f"the steady state (the uncoupled Liouvillian of the preconditioner is singular there), "
                             f"got sigma={sigma!r}")

        def inv(r):
            x, flag, nmv, rel = _gmres(A.__matmul__, lambda v: prec(v, sigma), np.asarray(r, dtype=complex),
                                       rtol=inner_rtol, restart=restart, maxiter=inner_maxiter)
            info["inner_products"] += nmv
            info["worst_inner"] = max(info["worst_inner"], rel)
            if flag != 0:
                info["inner_failures"] += 1
            return x

    if trace_index is not None:
        trace_index = np.asarray(trace_index)
        w = 1.0 / len(trace_index)

        def proj(x):
            x = np.array(x, dtype=complex)
            x[trace_index] -= x[trace_index].sum() * w
            return x
    else:
        def proj(x):
            return np.asarray(x, dtype=complex)

    def op(r):
        info["solves"] += 1
        return proj(inv(proj(r)))

    OP = spla.LinearOperator((n, n), matvec=op, dtype=complex)
    v0 = proj(np.random.default_rng(seed).normal(size=n) + 0j)
    ncv = ncv or min(n - 1, max(2 * k + 1, 20))
    try:
        theta, V = spla.eigs(OP, k=k, which="LM", tol=tol, ncv=ncv, v0=v0, maxiter=maxiter)
    except spla.ArpackNoConvergence as exc:
        theta, V = exc.eigenvalues, exc.eigenvectors
        info["arpack"] = f"not converged: {len(theta)} of {k} eigenvalues"
    keep = np.abs(theta) > 0
    V = V[:, keep]
    LV = L @ V
    nv = np.einsum("ij,ij->j", V.conj(), V).real
    mu = np.einsum("ij,ij->j", V.conj(), LV) / nv
    res = np.linalg.norm(LV - V * mu[None, :], axis=0) / np.sqrt(nv)
    order = np.argsort(-mu.real, kind="stable")
    return mu[order], res[order], info


def targeted_eigenpair(L, sigma: complex, *, prec=None, direct: bool | None = None, trace_index=None,
                       res_tol: float = 1e-9, maxit: int = 40, rqi_below: float = 1e-3, inner_rtol: float = 1e-4,
                       restart: int = 40, inner_maxiter: int = 2000, seed: int = 20240701):
    """The one eigenpair of ``L`` that inverse iteration from ``sigma`` converges to: the eigenvalue nearest
    ``sigma`` (for a random start), refined by Rayleigh-quotient iteration.

    Inexact inverse iteration with the fixed shift ``sigma`` (GMRES to ``inner_rtol``, or sparse LU) until
    the eigen-residual ``||L v - theta v|| / ||v||`` falls below ``rqi_below * ||L||_1``; then the shift
    follows the Rayleigh quotient ``theta = v^+ L v`` (quadratic convergence; the nearly singular systems are
    harmless: only the direction of the solution is used) until the residual falls below ``res_tol ||L||_1``.
    Far cheaper than Arnoldi (no ``ncv`` solves per restart) when one mode is wanted and its neighbourhood
    is known (e.g. from smaller S); but nothing guarantees *which* eigenvalue is found beyond "near sigma":
    compare with the trend. ``trace_index``: deflate the steady state (as :func:`shift_invert_eigenvalues`).

    The shift stops following the Rayleigh quotient once the residual is below ``1e3 res_tol ||L||_1`` (a
    closer shift only makes the systems more singular); in RQI steps the GMRES tolerance is
    ``min(inner_rtol, 0.1 residual / ||L||_1)``. The iterate of smallest residual is returned.

    Returns ``(theta, residual, info)``; ``info``: ``status`` ("ok" when the residual target was met, else
    "not-trusted"), ``solves``, ``inner_products``, ``history`` (residual per iteration).
    """
    L = sp.csr_matrix(L)
    n = L.shape[0]
    sigma = complex(sigma)
    norm1 = max(float(abs(L).sum(axis=0).max()), 1.0)
    if direct is None:
        direct = n <= SHIFT_INVERT_DIRECT_MAX or prec is None
    eye = sp.identity(n, format="csr", dtype=complex)
    info = {"solves": 0, "inner_products": 0, "inner_failures": 0, "history": [], "status": "not-trusted",
            "direct": bool(direct)}
    lu = spla.splu((L - sigma * eye).tocsc(), permc_spec="COLAMD") if direct else None

    def proj(x):
        if trace_index is not None:
            x = x.copy()
            x[trace_index] -= x[trace_index].sum() / len(trace_index)
        return x

    v = proj(np.random.default_rng(seed).normal(size=n) + 0j)
    v /= np.linalg.norm(v)
    theta, shift, res = sigma, sigma, math.inf
    best = (sigma, math.inf)
    for _ in range(maxit):
        if direct and shift == sigma:
            w = lu.solve(v)
        else:
            A = (L - shift * eye).tocsr()
            if direct:
                w = spla.splu(A.tocsc(), permc_spec="COLAMD").solve(v)
            else:
                # inexact RQI needs inner tolerances that shrink with the eigen-residual
                rt = inner_rtol if shift == sigma else max(1e-13, min(inner_rtol, 0.1 * res / norm1))
                w, flag, nmv, rel = _gmres(A.__matmul__, lambda r: prec(r, shift), v, rtol=rt,
                                           restart=restart, maxiter=inner_maxiter)
                info["inner_products"] += nmv
                info["inner_failures"] += int(flag != 0 and shift == sigma)
        info["solves"] += 1
        if not np.all(np.isfinite(w)) or np.linalg.norm(w) == 0:
            break
        v = proj(w) / np.linalg.norm(w)
        Lv = L @ v
        theta = complex(np.vdot(v, Lv) / np.vdot(v, v).real)
        res = float(np.linalg.norm(Lv - theta * v) / np.linalg.norm(v))
        info["history"].append(res)
        if res < best[1]:
            best = (theta, res)
        if res <= res_tol * norm1:
            info["status"] = "ok"
            break
        # the shift follows the Rayleigh quotient until it is within 1e3 res_tol of the eigenvalue, then stays
        # (closer shifts only make the systems more singular; the fixed shift already converges fast)
        if 1e3 * res_tol * norm1 < res <= rqi_below * norm1:
            shift = theta
    theta, res = best
    return theta, res, info


@dataclass(frozen=True, eq=False)
class _SectorPairs:
    """What the per-sector spectrum results share: eigenvalues per sector (``sectors``), with a residual
    (``residuals``) and a status (``pair_status``) per pair; subclasses add ``status`` and their evidence."""

    name: str
    S: float
    params: dict
    sectors: dict
    residuals: dict
    pair_status: dict

    @property
    def success(self) -> bool:
        return self.status == "ok"

    def _pair_frame(self, **per_sector) -> pd.DataFrame:
        """One row per eigenvalue: sector, rank, eigenvalue, residual, pair status, then the ``per_sector``
        columns (``{key: value}``), status."""
        rows = []
        for key, vals in self.sectors.items():
            for i, z in enumerate(vals):
                rows.append({"system": self.name, "S": self.S, **self.params, "sector": str(key), "rank": i,
                             "eigenvalue": complex(z), "residual": float(self.residuals[key][i]),
                             "pair_status": self.pair_status[key][i],
                             **{name: col[key] for name, col in per_sector.items()}, "status": self.status})
        return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class ShiftInvertSpectrum(_SectorPairs):
    """Eigenvalues of the Liouvillian per symmetry sector by shift-invert (:func:`shift_invert_spectrum`).

    Attributes
    ----------
    name : str
    S : float
    params : dict
    sectors : dict
        ``{sector key: complex eigenvalues sorted by decreasing real part}``; in the sector of zeros the
        steady state's exact 0 comes first (deflated, not computed: ``tr`` is a left eigenvector).
    residuals : dict
        ``{key: ||L v - mu v|| / ||v|| per eigenvalue}`` (0 for the steady state's exact 0).
    pair_status : dict
        ``{key: list of "ok" / "warning" / "not-trusted"}`` per eigenvalue: "not-trusted" when the residual
        exceeds ``res_tol * ||L||_1``, "warning" when it passed but an inner solve or ARPACK failed.
    shifts : tuple of complex
    status, message : str
        ``"ok"`` only when every pair is "ok".
    stats : dict
        ``time_s``, ``cpu_s``, ``norm1``, and per sector ``solves``, ``inner_products``, ``inner_failures``,
        ``worst_inner``, ``seconds``, ``size``, ``direct``.
    """

    shifts: tuple
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per eigenvalue: sector, rank, eigenvalue, residual, pair status."""
        return self._pair_frame()


def shift_invert_spectrum(system, S, params: Mapping | None = None, *, k: int = 6, shifts=(0.05,), sectors=None,
                          cutoffs=None, tol: float = 1e-12, inner_rtol: float = 1e-11, res_tol: float = 1e-9,
                          direct_max: int | None = None, preconditioner: str = "auto", inner_maxiter: int = 3000,
                          conjugate_sectors: bool = True, n_threads: int | None = 1) -> ShiftInvertSpectrum:
    """Eigenvalues of the Liouvillian of ``system`` nearest the ``shifts``, in every symmetry sector.

    For each sector and each shift ``sigma`` the ``k`` eigenvalues nearest ``sigma`` are found by
    :func:`shift_invert_eigenvalues` (sparse LU up to ``direct_max`` states per sector, else GMRES with the
    Kronecker-sum preconditioner :class:`KronSumPreconditioner`); the union over the shifts (duplicates
    within ``1e-7 (1 + |mu|)`` merged, the smaller residual kept) is sorted by decreasing real part and the
    first ``k`` kept. The sector of the steady state is deflated (trace projection) and its exact 0 is
    prepended. Eigenvalues are those *nearest the shifts*: a slow mode far from every shift can be missed
    (the message says so); place shifts along the imaginary axis (e.g. ``0.05 + i k omega``) to scan a band.

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem
    S, params, cutoffs : as :func:`liouvillian_system`
    k : int
        Eigenvalues per sector (and per shift).
    shifts : sequence of complex or "auto"
        Shifts; a real part slightly right of the imaginary axis keeps ``L - sigma`` well conditioned.
        ``"auto"``: one per sector, ``0.05 + i Im(tr L_sector / n)`` (a U(1) sector rotates at its charge's
        frequency, so its slow modes sit near that imaginary part; 0 for Z2 sectors).
    sectors : sequence of sector keys, optional
        Default every sector.
    tol : float
        ARPACK's relative tolerance on the eigenvalues of the inverse.
    inner_rtol : float
        GMRES relative residual per solve.
    res_tol : float
        A pair is "not-trusted" when ``||L v - mu v|| / ||v|| > res_tol * ||L||_1``.
    direct_max : int, optional
        Largest sector solved by sparse LU (default :data:`SHIFT_INVERT_DIRECT_MAX`).
    preconditioner : {"auto", "kron", "none"}
        For the iterative solves: "kron" (two-mode systems with one-mode jumps), "none" (plain GMRES).
    inner_maxiter : int
        Cap on the GMRES products per solve (a solve that hits it counts as an inner failure).
    conjugate_sectors : bool
        ``L(X^+) = (L X)^+`` maps the sector of charges ``q`` onto ``-q`` with conjugate eigenvalues (and equal
        residuals): compute one of each such pair and conjugate (``stats["sectors"][key]["mirror_of"]``).
    n_threads : int or None
        BLAS threads (threadpoolctl).

    Returns
    -------
    ShiftInvertSpectrum
    """
    from threadpoolctl import threadpool_limits

    from .system import liouvillian_system

    if isinstance(k, (bool, np.bool_)) or not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"expected k an integer >= 1, got {k!r}")
    auto_shift = isinstance(shifts, str)
    if auto_shift:
        if shifts != "auto":
            raise ValueError(f"expected shifts 'auto' or a sequence of complex numbers, got {shifts!r}")
        shifts = ()
    else:
        try:
            shifts = tuple(complex(s) for s in np.atleast_1d(shifts))
        except (TypeError, ValueError):
            raise ValueError(f"expected shifts a sequence of complex numbers, got {shifts!r}") from None
        if not shifts or not all(np.isfinite(s) for s in shifts):
            raise ValueError(f"expected shifts a non-empty sequence of finite complex numbers, got {shifts!r}")
    for name, v in (("tol", tol), ("inner_rtol", inner_rtol), ("res_tol", res_tol)):
        if isinstance(v, (bool, np.bool_)) or not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v < 1):
            raise ValueError(f"expected {name} a number in (0, 1), got {v!r}")
    if preconditioner not in ("auto", "kron", "none"):
        raise ValueError(f"expected preconditioner 'auto', 'kron' or 'none', got {preconditioner!r}")
    direct_max = SHIFT_INVERT_DIRECT_MAX if direct_max is None else int(direct_max)
    t0, c0 = time.perf_counter(), time.process_time()
    sl = liouvillian_system(system, S, params, cutoffs=cutoffs)
    secs, index = _sectors_with_index(sl)
    if sectors is not None:
        sectors = [tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in sectors]
        missing = [s for s in sectors if s not in secs]
        if missing:
            raise ValueError(f"expected sector keys among {sorted(secs)}, got {missing}")
        keys = list(sectors)
    else:
        keys = sorted(secs, key=lambda key: (sum(abs(c) for c in key), key))
    zero_key = tuple(0 for _ in sl.symmetries)
    kinds = [kind for kind, _ in sl.symmetries]

    def mirror(key):  # the sector of X^+ for X in sector key
        return tuple(-c if kind == "U1" else c for c, kind in zip(key, kinds))

    mirrored = {}
    if conjugate_sectors:
        todo = []
        for key in keys:
            m = mirror(key)
            if m != key and m in keys and m in todo:
                mirrored[key] = m
            else:
                todo.append(key)
    d = sl.d
    used_shifts = {}
    norm1 = 0.0
    vals, resid, pstat, per = {}, {}, {}, {}
    with threadpool_limits(limits=n_threads, user_api="blas"):
        for key in keys:
            if key in mirrored:
                continue
            Lb = secs[key].tocsr()
            n = Lb.shape[0]
            ts = time.perf_counter()
            nrm = float(abs(Lb).sum(axis=0).max()) if Lb.nnz else 0.0
            norm1 = max(norm1, nrm)
            direct = n <= direct_max
            prec = None
            if not direct and preconditioner != "none":
                try:
                    pc = KronSumPreconditioner(sl, index[key])
                    prec = pc.solve
                except ValueError:
                    if preconditioner == "kron":
                        raise
            beta, alpha = np.divmod(index[key], d)
            tr_ix = np.flatnonzero(alpha == beta) if key == zero_key else None
            st = {"solves": 0, "inner_products": 0, "inner_failures": 0, "worst_inner": 0.0, "arpack": [],
                  "size": n, "direct": direct}
            found, fres, disks = [], [], []
            self_conj = mirror(key) == key
            if n <= max(k + 2, 50):
                ev, V = np.linalg.eig(Lb.toarray())
                if tr_ix is not None:
                    j0 = int(np.argmin(np.abs(ev)))
                    ev, V = np.delete(ev, j0), np.delete(V, j0, axis=1)
                r = np.linalg.norm(Lb @ V - V * ev[None, :], axis=0) / np.linalg.norm(V, axis=0)
                found, fres = list(ev), list(r)
            else:
                kk = min(k, n - 3)
                sec_shifts = shifts or (0.05 + 1j * float(np.mean(Lb.diagonal()).imag),)
                used_shifts[key] = sec_shifts
                for s in sec_shifts:
                    mu, r, inf = shift_invert_eigenvalues(Lb, s, kk, prec=prec, direct=direct, trace_index=tr_ix,
                                                          tol=tol, inner_rtol=inner_rtol, inner_maxiter=inner_maxiter)
                    for f in ("solves", "inner_products", "inner_failures"):
                        st[f] += inf[f]
                    st["worst_inner"] = max(st["worst_inner"], inf["worst_inner"])
                    st["arpack"].append(inf["arpack"])
                    if inf["arpack"] == "ok" and len(mu) == kk:
                        disks.append((s, float(np.max(np.abs(mu - s)))))
                    pairs = list(zip(mu, r))
                    if self_conj:  # the conjugate of an eigenvalue of a self-conjugate sector is one too
                        pairs += [(np.conj(z), rz) for z, rz in pairs]
                    for z, rz in pairs:
                        j = next((i for i, y in enumerate(found) if abs(y - z) <= 1e-7 * (1 + abs(z))), None)
                        if j is None:
                            found.append(z)
                            fres.append(rz)
                        elif rz < fres[j]:
                            found[j], fres[j] = z, rz
                if self_conj:
                    disks += [(np.conj(c), rho) for c, rho in disks]
            found, fres = np.array(found, dtype=complex), np.array(fres, dtype=float)
            order = np.argsort(-found.real, kind="stable")[:k]
            if len(order) and disks:
                st["covered_im"] = _covered_window(disks, float(found[order[-1]].real))
            found, fres = found[order], fres[order]
            bad_inner = st["inner_failures"] > 0 or any(a != "ok" for a in st["arpack"])
            ps = ["not-trusted" if not (r <= res_tol * max(nrm, 1.0)) else ("warning" if bad_inner else "ok")
                  for r in fres]
            if tr_ix is not None:
                found = np.concatenate([[0.0 + 0.0j], found])
                fres = np.concatenate([[0.0], fres])
                ps = ["ok"] + ps
            st["seconds"] = time.perf_counter() - ts
            vals[key], resid[key], pstat[key], per[key] = found, fres, ps, st
    for key, m in mirrored.items():
        # L(X^+) = (L X)^+: the mirrored sector's eigenvalues are the conjugates, with the same residuals
        vals[key], resid[key], pstat[key] = vals[m].conj(), resid[m].copy(), list(pstat[m])
        per[key] = {"mirror_of": m}
    vals = {key: vals[key] for key in keys}
    all_ps = [s for v in pstat.values() for s in v]
    status = "ok" if all(s == "ok" for s in all_ps) else (
        "not-trusted" if "not-trusted" in all_ps else "warning")
    worst = max((float(np.max(r)) for r in resid.values() if len(r)), default=0.0)
    shift_txt = ("per sector 0.05 + i Im(mean diagonal)" if auto_shift else str([complex(s) for s in shifts]))
    msg = (f"shift-invert/{sl.sector}: {len(keys)} sector(s) ({len(mirrored)} by conjugation), the {k} of largest "
           f"real part among the eigenvalues nearest the shifts {shift_txt} (slow modes far from every shift may be "
           "missed); "
           f"worst residual {worst:.1e} (||L||_1 = {norm1:.3g})")
    n_bad = sum(s != "ok" for s in all_ps)
    if n_bad:
        msg += f"; {n_bad} eigenpair(s) not ok (see pair_status)"
    return ShiftInvertSpectrum(name=getattr(system, "name", "system"), S=sl.S, params=sl.params, sectors=vals,
                               residuals={key: resid[key] for key in keys},
                               pair_status={key: pstat[key] for key in keys}, shifts=shifts, status=status,
                               message=msg, stats={"time_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                                                   "norm1": norm1, "sectors": per, "shifts": used_shifts})


def _covered_window(disks, re_min: float, step: float = 0.01):
    """The interval ``[y0, y1]`` of imaginary parts around the first disk's centre over which the strip
    ``re_min <= Re z <= 0`` lies inside the union of the disks ``(centre, radius)`` (each holding every
    eigenvalue within its radius: ARPACK's ``k`` nearest the shift); ``None`` if not even the centre line.
    Within it no eigenvalue with real part above ``re_min`` can have been missed."""
    cs = np.array([c for c, _ in disks], dtype=complex)
    rs = np.array([r for _, r in disks])
    xs = np.linspace(re_min, 0.0, max(2, int(math.ceil(-re_min / step)) + 1))

    def ok(y):
        z = xs[:, None] + 1j * y - cs[None, :]
        return bool(np.all(np.any(np.abs(z) < rs[None, :], axis=1)))

    y0 = float(cs[0].imag)
    if not ok(y0):
        return None
    lo = hi = y0
    while ok(hi + step):
        hi += step
    while ok(lo - step):
        lo -= step
    return (round(lo, 6), round(hi, 6))


def _sectors_with_index(sl):
    """``({key: sparse block}, {key: full vec indices})``: :meth:`SystemLiouvillian.superoperator_sectors` with
    the indices of each block's entries in the column-stacked ``vec(rho)`` (``beta * d + alpha``)."""
    from .system import _quantum_numbers

    L = sl.matrix().tocsr()
    d = sl.d
    names = [nm for nm, _ in sl.modes]
    qn = _quantum_numbers(sl.dims)
    ks = [(sl.dims[i] - 1 - q) if sl.modes[i][1] == "spin" else q for i, q in enumerate(qn)]
    alpha = np.tile(np.arange(d), d)
    beta = np.repeat(np.arange(d), d)
    cols = []
    for kind, w in sl.symmetries:
        q = sum(int(c) * ks[names.index(nm)] for nm, c in w.items())
        diff = q[alpha] - q[beta]
        cols.append(diff if kind == "U1" else diff % 2)
    if not cols:
        return {(): L.tocsc()}, {(): np.arange(d * d)}
    keys, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(keys) + 1))
    blocks, index = {}, {}
    for i, key in enumerate(keys):
        ix = order[bounds[i]:bounds[i + 1]]
        kk = tuple(int(x) for x in key)
        blocks[kk] = L[ix][:, ix].tocsc()
        index[kk] = ix
    return blocks, index


# ------------------------------------------------------------------------------------------------
# the slowest eigenvalues per sector (issue 16): real Hermitian basis, block Davidson preconditioned by the
# resolvent of the uncoupled Liouvillian (the steady-state solver's Lindbladian preconditioner, shifted) and the
# no-jump resolvent
class HermitianSectors:
    """The Liouvillian of a two-mode system in the real orthonormal product basis ``E_k (x) F_l`` of Hermitian
    operators, per self-conjugate symmetry sector, with the resolvent of its uncoupled part.

    ``L(X^+) = L(X)^+``, so in a basis of Hermitian operators the Liouvillian is a *real* matrix; a sector closed
    under ``X -> X^+`` (every Z2 sector, the U(1) sector of charge 0) is the complexification of the real span of
    its Hermitian operators, and its eigenvalues are those of a real matrix of the same size (conjugate pairs).
    The basis is the product of each mode's orthonormal Hermitian basis (``|a><a|``, ``(|a><a'| + |a'><a|) /
    sqrt 2``, ``i (|a><a'| - |a'><a|) / sqrt 2``) ordered by the closed sets of the one-mode Lindbladians
    ``L_f`` (the steady-state solver's ``"lindblad"`` preconditioner, :meth:`BlockLiouvillian.lindblad_plan`):
    each sector is a union of products ``C1 x C2`` of closed sets (checked), on which the uncoupled Liouvillian
    ``L1 (x) 1 + 1 (x) L2`` acts as ``Y -> L1 Y + Y L2^T``. Its resolvent ``(L_unc - sigma)^{-1}`` for any real or
    complex ``sigma`` (:meth:`solve`) comes from the real Schur forms of the ``L_f`` restricted to the closed sets
    (:func:`bifurcate.quantum._blocks.factor_schur`, the steady-state preconditioner's factorisation) and the
    quasi-triangular Sylvester solver with a complex shift: the same inverse as the steady state's, there at
    ``sigma = 0``.

    Parameters
    ----------
    sl : SystemLiouvillian with two modes whose jumps each act on one mode
    sectors : sequence of sector keys, optional
        The sectors to build (default every self-conjugate one).
    workers : int
        Threads over the closed-set products in :meth:`solve` (numpy products and the compiled Sylvester kernel
        release the GIL).
    index : int array, optional
        Instead of ``sectors``: one sector given by the column-stacked ``vec`` indices of its entries (key
        ``"sector"``); only its basis ``W`` and :meth:`solve` are built, no ``matrix`` (the preconditioner of
        :class:`KronSumPreconditioner`).

    Attributes
    ----------
    keys : list of sector keys
    size : dict ``{key: n}``
    matrix : dict ``{key: real csr (n, n)}``, the sector's Liouvillian in the Hermitian basis
    W : dict ``{key: complex csr (n, n)}``, unitary: column ``j`` is ``vec(E_k (x) F_l)`` on the sector's
        entries (their order in :func:`_sectors_with_index`), so ``x = W z`` and ``z = W^+ x``
    trace : dict ``{key: real (n,) or None}``, the coefficients of the identity (``tr X = trace . z``) in the
        sector of the steady state
    nonlocality : float
        ``||H - h1 (x) 1 - 1 (x) h2||_F / ||H||_F`` (0: the resolvent is that of ``L`` itself).

    Raises
    ------
    ValueError
        Not two modes, a jump acting on both modes, or a sector that is not a union of products of closed sets
        (e.g. a U(1) sector of non-zero charge: not closed under ``X -> X^+``).
    """

    def __init__(self, sl, sectors=None, workers: int = 1, *, index=None):
        from scipy.sparse.csgraph import connected_components

        from ._blocks import _local_projection, _one_factor, _real_lindbladian, factor_schur

        if len(sl.dims) != 2:
            raise ValueError(f"expected a system of two modes for the Hermitian-basis sectors, got dims {sl.dims}")
        if isinstance(workers, (bool, np.bool_)) or not (isinstance(workers, (int, np.integer)) and workers >= 1):
            raise ValueError(f"expected workers an integer >= 1, got {workers!r}")
        self.workers = int(workers)
        n1, n2 = (int(x) for x in sl.dims)
        d = n1 * n2
        H = sp.csr_matrix(sl.H, dtype=complex)
        Hh = sp.csr_matrix(0.5 * (H + H.conj().T))
        h1, h2, rest = _local_projection(Hh, n1, n2)
        nh = sp.linalg.norm(Hh) if Hh.nnz else 0.0
        self.nonlocality = float(sp.linalg.norm(rest) / nh) if nh else 0.0
        jumps = ([], [])
        for j, c in enumerate(sl.c_ops):
            f = _one_factor(c, n1, n2)
            if f is None:
                raise ValueError(f"jump operator {j} acts on both modes: the uncoupled resolvent does not apply")
            jumps[f[0]].append(f[1])
        Ls, bases, comps = [], [], []
        for h, n, js in ((h1, n1, jumps[0]), (h2, n2, jumps[1])):
            Lr, basis = _real_lindbladian(h, js, n)
            Ls.append(Lr)
            bases.append(basis)
            A = abs(Lr)
            nc, lab = connected_components(sp.csr_matrix(A + A.T), directed=False)
            comps.append([np.flatnonzero(lab == i) for i in range(nc)])
        if index is not None:
            # one sector given by its column-stacked vec indices: its basis and resolvent only (no matrix)
            secs, index = None, {"sector": np.asarray(index)}
            sectors = None
        else:
            secs, index = _sectors_with_index(sl)
        all_keys = list(index)
        if sectors is None:
            keys = all_keys
        else:
            keys = [tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in sectors]
            missing = [s for s in keys if s not in index]
            if missing:
                raise ValueError(f"expected sector keys among {sorted(index)}, got {missing}")
        sec_id = np.full(d * d, -1, dtype=np.int32)
        pos = np.zeros(d * d, dtype=np.int64)
        for i, key in enumerate(all_keys):
            sec_id[index[key]] = i
            pos[index[key]] = np.arange(len(index[key]))
        wanted = {all_keys.index(key) for key in keys}
        parts = {i: [] for i in wanted}
        for c1, C1 in enumerate(comps[0]):
            a, a2, e1, e2 = (x[C1] for x in bases[0])
            for c2, C2 in enumerate(comps[1]):
                b, b2, f1, f2 = (x[C2] for x in bases[1])
                # E (x) F = e1 f1 |a b><a2 b2| + e1 f2 |a b2><a2 b| + e2 f1 |a2 b><a b2| + e2 f2 |a2 b2><a b|
                terms = [(a[:, None] * n2 + b[None, :], a2[:, None] * n2 + b2[None, :], e1[:, None] * f1[None, :]),
                         (a[:, None] * n2 + b2[None, :], a2[:, None] * n2 + b[None, :], e1[:, None] * f2[None, :]),
                         (a2[:, None] * n2 + b[None, :], a[:, None] * n2 + b2[None, :], e2[:, None] * f1[None, :]),
                         (a2[:, None] * n2 + b2[None, :], a[:, None] * n2 + b[None, :], e2[:, None] * f2[None, :])]
                vec = [(t * d + s).ravel() for s, t, _ in terms]
                coef = [np.broadcast_to(cf, terms[0][0].shape).ravel() for _, _, cf in terms]
                sid = sec_id[vec[0]]
                ok = np.all(sid == sid[0]) and all(np.all(sec_id[v][cf != 0] == sid[0]) for v, cf in zip(vec, coef))
                if not ok:
                    if any(np.isin(sec_id[v][cf != 0], list(wanted)).any() for v, cf in zip(vec, coef)):
                        msg = ("a sector is not a union of products of the modes' closed sets (not closed under "
                               "X -> X^+?): the Hermitian basis does not apply")
                        if any(kind == "U1" for kind, _ in sl.symmetries):
                            # X -> X^+ maps the U(1) sector of charge q to -q. The charge parities are closed (tried
                            # 2026-12-01 on the dimer at J = 0: exact at lam = 0), but at lam = 0.3 and 0.7 the
                            # Davidson, started from the uncoupled slow modes, missed slower modes at S = 3 (the dense
                            # check said "missed"; at 0.3 also with 24 seeds and two starts): not offered
                            msg = (f"{sl.name!r} at {dict(sl.params)} has a U(1) symmetry, and X -> X^+ maps its "
                                   f"charge-q sector to -q: {msg}; use system_spectrum or shift_invert_spectrum, "
                                   "which work per U(1) sector")
                        raise ValueError(msg)
                    continue
                if int(sid[0]) in wanted:
                    parts[int(sid[0])].append((c1, c2, vec, coef, (a == a2)[:, None] & (b == b2)[None, :]))
        zero_key = tuple(0 for _ in sl.symmetries)
        self.keys, self.size, self.matrix, self.W, self.trace, self._groups = [], {}, {}, {}, {}, {}
        self._schur = {}
        # the no-jump generator K = -i H - (1/2) sum c^+ c: (K (x) 1 + 1 (x) conj K) is the Liouvillian without the
        # jumps' recycling terms (c X c^+), whose resolvent solve_nojump inverts exactly (built when first used)
        G = sp.csr_matrix((d, d), dtype=complex)
        for c in sl.c_ops:
            c = sp.csr_matrix(c, dtype=complex)
            G = G + c.conj().T @ c
        self._K = sp.csr_matrix(-1j * H - 0.5 * G)
        self._c_ops = [sp.csr_matrix(c, dtype=complex) for c in sl.c_ops]
        self._recycling = {}
        self._d = d
        self._index = {}
        self._nojump = None
        self._nojump_lab = None
        self._nojump_pairs = {}
        self._coupling = {}
        self._local = (Ls, comps)   # the one-mode Lindbladians and their closed sets (coupling_matrix)
        tol = 1e-8 * max(1.0, max(float(abs(L).sum(axis=0).max()) for L in Ls if L.nnz) if any(L.nnz for L in Ls)
                         else 1.0)
        for key in keys:
            i = all_keys.index(key)
            n = len(index[key])
            rows, cols, vals, groups, tr = [], [], [], [], []
            start = 0
            for c1, c2, vec, coef, diag in parts[i]:
                m1, m2 = len(comps[0][c1]), len(comps[1][c2])
                z = start + np.arange(m1 * m2)
                for v, cf in zip(vec, coef):
                    nz = cf != 0
                    rows.append(pos[v[nz]])
                    cols.append(z[nz])
                    vals.append(cf[nz])
                for f, c in ((0, c1), (1, c2)):
                    if (f, c) not in self._schur:
                        C = comps[f][c]
                        T, Q, _ = factor_schur(Ls[f][C][:, C].toarray(), tol)
                        self._schur[(f, c)] = (np.ascontiguousarray(T), np.ascontiguousarray(Q))
                groups.append(((0, c1), (1, c2), start, start + m1 * m2, m1, m2))
                tr.append(diag.ravel().astype(float))
                start += m1 * m2
            if start != n:
                raise ValueError(f"sector {key}: the products of closed sets hold {start} coefficients, the sector "
                                 f"{n} entries: the Hermitian basis does not apply")
            W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
            W.sum_duplicates()
            self.keys.append(key)
            self.size[key] = n
            self.W[key] = W
            self._index[key] = np.asarray(index[key])
            self._groups[key] = groups
            self.trace[key] = np.concatenate(tr) if key == zero_key else None
            if secs is None:
                continue
            Lb = secs[key].tocsr()
            Lz = (W.conj().T @ (Lb @ W)).tocsr()
            big = float(np.abs(Lz.data).max()) if Lz.nnz else 0.0
            if Lz.nnz and float(np.abs(Lz.data.imag).max()) > 1e-10 * max(big, 1.0):  # pragma: no cover
                raise AssertionError("the Liouvillian is not real in the Hermitian basis")
            Lz = sp.csr_matrix(Lz.real)
            Lz.data[np.abs(Lz.data) < 1e-15 * max(big, 1.0)] = 0.0
            Lz.eliminate_zeros()
            self.matrix[key] = Lz

    def solve(self, key, z: np.ndarray, shift) -> np.ndarray:
        """``(L1 (x) 1 + 1 (x) L2 - shift)^{-1} z`` on sector ``key`` (coefficients ``z``, real or complex; a complex
        array out, real when ``shift`` is real and ``z`` real up to rounding)."""
        from ._blocks import uncoupled_resolvent

        z = np.asarray(z)
        out = np.empty(len(z), dtype=complex)

        real = not np.iscomplexobj(z) and complex(shift).imag == 0

        def one(g):
            f1, f2, a, b, m1, m2 = g
            T1, Q1 = self._schur[f1]
            T2, Q2 = self._schur[f2]
            Zg = z[a:b].reshape(m1, m2) if real else z[a:b].reshape(m1, m2).astype(complex)
            out[a:b] = uncoupled_resolvent(T1, Q1, T2, Q2, Zg, shift if not real else float(complex(shift).real)).ravel()

        groups = self._groups[key]
        if self.workers > 1 and len(groups) > 1:
            from ._blocks import _thread_pool

            list(_thread_pool(min(self.workers, len(groups))).map(one, groups))
        else:
            for g in groups:
                one(g)
        return out


    #: largest eigenvector condition number of a block of the no-jump generator K for :meth:`solve_nojump`: beyond
    #: it the eigendecomposition's rounding (cond * 1e-16) would reach the preconditioner's own accuracy
    NOJUMP_MAX_COND = 1e8
    #: precision of the no-jump resolvent's matrix products: it is a preconditioner (the Davidson residuals are
    #: exact products with L), and single precision halves its cost at S = 16 (0.13 s against 0.25 s) with the
    #: same iteration counts (S = 10, cycle point: 90 against 91)
    NOJUMP_DTYPE = np.complex64

    def _nojump_factor(self):
        """Eigendecompositions ``K_b = V_b diag(lam_b) V_b^{-1}`` of the diagonal blocks of the no-jump generator
        (its connected components: the parity classes of the dimer at ``J != 0``), built once."""
        if self._nojump is None:
            K = self._K
            lab = self._nojump_labels()
            nb = int(lab.max()) + 1 if len(lab) else 0
            blocks, cond = [], 1.0
            pos = np.empty(self._d, dtype=np.int64)
            for b in range(nb):
                I = np.flatnonzero(lab == b)
                pos[I] = np.arange(len(I))
                lam, V = np.linalg.eig(K[I][:, I].toarray())
                Vi = np.linalg.inv(V)
                cond = max(cond, float(np.linalg.norm(V, 2) * np.linalg.norm(Vi, 2)))
                dt = self.NOJUMP_DTYPE
                blocks.append((lam.astype(dt), V.astype(dt), Vi.astype(dt), np.ascontiguousarray(V.conj().T, dtype=dt),
                               np.ascontiguousarray(Vi.conj().T, dtype=dt)))
            self._nojump = {"labels": lab, "pos": pos, "blocks": blocks, "cond": cond}
        return self._nojump

    #: largest block of the no-jump generator ``K`` whose dense eigendecomposition :meth:`solve_nojump` builds
    #: (the dimer at S = 16: two parity blocks of about 545 states)
    NOJUMP_MAX_BLOCK = 4000

    def _nojump_labels(self) -> np.ndarray:
        """The diagonal block (connected component) of the no-jump generator ``K`` each state belongs to."""
        if self._nojump_lab is None:
            from scipy.sparse.csgraph import connected_components

            A = abs(self._K)
            self._nojump_lab = connected_components(sp.csr_matrix(A + A.T), directed=False)[1]
        return self._nojump_lab

    def nojump_block_sizes(self) -> list[int]:
        """Sizes of the diagonal blocks of the no-jump generator ``K``, without factorising them."""
        return np.bincount(self._nojump_labels()).tolist()

    def nojump_condition(self) -> float:
        """Largest condition number of the eigenvector matrices behind :meth:`solve_nojump`."""
        return self._nojump_factor()["cond"]

    def coupling_matrix(self, key) -> sp.csr_matrix:
        """``L - L_unc`` on sector ``key`` in the Hermitian basis (real sparse): what the uncoupled resolvent of
        :meth:`solve` leaves out, the Hamiltonian's coupling between the modes (entries below ``1e-14`` of the
        largest dropped). Built once per sector."""
        if key not in self._coupling:
            Ls, comps = self._local
            blocks = []
            for f1, f2, a, b, m1, m2 in self._groups[key]:
                L1 = Ls[0][comps[0][f1[1]]][:, comps[0][f1[1]]]
                L2 = Ls[1][comps[1][f2[1]]][:, comps[1][f2[1]]]
                blocks.append(sp.kron(L1, sp.identity(m2), format="csr") + sp.kron(sp.identity(m1), L2, format="csr"))
            C = (self.matrix[key] - sp.block_diag(blocks, format="csr")).tocsr()
            big = float(np.abs(C.data).max()) if C.nnz else 0.0
            C.data[np.abs(C.data) < 1e-14 * max(big, float(np.abs(self.matrix[key].data).max(initial=0.0)))] = 0.0
            C.eliminate_zeros()
            self._coupling[key] = C
        return self._coupling[key]

    def recycling_matrix(self, key) -> sp.csr_matrix:
        """``L - L_nj`` on sector ``key`` in the Hermitian basis (real sparse): the jumps' recycling terms
        ``sum c X c^+`` that the no-jump resolvent of :meth:`solve_nojump` leaves out (one or two entries per row and
        jump for local ladder operators, against about 26 for ``L``). Built once per sector."""
        if key not in self._recycling:
            idx, W = self._index[key], self.W[key]
            # column-stacked vec: vec(c X c^+) = (conj(c) (x) c) vec(X)
            Rf = sum(sp.kron(c.conj(), c, format="csr") for c in self._c_ops)
            Rs = sp.csr_matrix(Rf)[idx][:, idx]
            R = (W.conj().T @ (Rs @ W)).tocsr()
            big = float(np.abs(R.data).max()) if R.nnz else 0.0
            R = sp.csr_matrix(R.real)
            R.data[np.abs(R.data) < 1e-15 * max(big, 1.0)] = 0.0
            R.eliminate_zeros()
            self._recycling[key] = R
        return self._recycling[key]

    def _pairs(self, key):
        """The sector's entries grouped by the pair of no-jump blocks ``(row block, column block)`` they lie in:
        ``[(b1, b2, entries, flat local index)]``; every pair the sector touches must be covered whole."""
        if key not in self._nojump_pairs:
            f = self._nojump_factor()
            idx = self._index[key]
            rows, cols = idx % self._d, idx // self._d   # vec index beta * d + alpha: entry (alpha, beta)
            b1, b2 = f["labels"][rows], f["labels"][cols]
            sizes = [len(b[0]) for b in f["blocks"]]
            code = b1.astype(np.int64) * len(sizes) + b2
            order = np.argsort(code, kind="stable")
            bounds = np.flatnonzero(np.diff(code[order])) + 1
            pairs = []
            for ent in np.split(order, bounds):
                p, q = int(b1[ent[0]]), int(b2[ent[0]])
                if len(ent) != sizes[p] * sizes[q]:
                    raise ValueError(f"sector {key} covers {len(ent)} of the {sizes[p] * sizes[q]} entries of a block "
                                     "pair of the no-jump generator: its resolvent does not act within the sector")
                loc = f["pos"][rows[ent]] * sizes[q] + f["pos"][cols[ent]]
                pairs.append((p, q, ent, loc))
            self._nojump_pairs[key] = pairs
        return self._nojump_pairs[key]

    def solve_nojump(self, key, z: np.ndarray, shift) -> np.ndarray:
        """``(L_nj - shift)^{-1} z`` on sector ``key``, ``L_nj X = K X + X K^+`` the Liouvillian without the
        recycling terms ``c X c^+`` (the coupling between the modes kept whole): with ``K_b = V_b diag(lam_b)
        V_b^{-1}`` per block, ``X = V_p [(V_p^{-1} R V_q^{-+}) / (lam_p,i + conj lam_q,j - shift)] V_q^+`` on each
        block pair ``(p, q)``. Complex array out."""
        f = self._nojump_factor()
        x = self.W[key] @ np.asarray(z, dtype=complex)
        out = np.empty_like(x)

        def one(pair):
            p, q, ent, loc = pair
            lp, Vp, Vip, _, _ = f["blocks"][p]
            lq, _, _, VqH, ViqH = f["blocks"][q]
            R = np.zeros((len(lp), len(lq)), dtype=lp.dtype)
            R.flat[loc] = x[ent]
            Y = (Vip @ R) @ ViqH
            den = lp[:, None] + lq.conj()[None, :] - shift
            den[den == 0] = np.finfo(np.float32).tiny   # a dark pair exactly at the shift: a huge, finite answer
            Y /= den
            out[ent] = ((Vp @ Y) @ VqH).flat[loc]

        pairs = self._pairs(key)
        if self.workers > 1 and len(pairs) > 1:  # independent block pairs: the same rounding on any number of threads
            from ._blocks import _thread_pool

            list(_thread_pool(min(self.workers, len(pairs))).map(one, pairs))
        else:
            for pair in pairs:
                one(pair)
        return np.asarray(self.W[key].conj().T @ out)

    def uncoupled_eigenvalues(self, key) -> np.ndarray:
        """All eigenvalues of the uncoupled Liouvillian on sector ``key`` (sums of the one-mode eigenvalues of
        each closed-set product, from the diagonal blocks of the real Schur forms)."""
        ev = {f: np.linalg.eigvals(T) for f, (T, _) in self._schur.items()}
        return np.concatenate([(ev[f1][:, None] + ev[f2][None, :]).ravel() for f1, f2, *_ in self._groups[key]])

    def uncoupled_eigenpairs(self, key, k: int, *, skip_zero: bool = False):
        """The ``k`` eigenpairs of largest real part of the uncoupled Liouvillian on sector ``key``, from the
        one-mode dense eigenproblems: ``L_unc (v1 v2^T) = (a + b) v1 v2^T`` when ``L1 v1 = a v1`` and
        ``L2 v2 = b v2`` on a product ``C1 x C2`` of closed sets, and these products span the sector, so the sums
        ``a + b`` are *all* its eigenvalues (with multiplicity) and nothing right of the ``k``-th can be missed.

        ``skip_zero``: leave out the one eigenvalue nearest 0 (the steady state's, when the sector holds it).

        Returns ``(mu (k,), X (n, k) complex, kappa (k,))`` sorted by decreasing real part: the eigenvalues, unit
        eigenvectors in the sector's Hermitian-basis coordinates, and each eigenvalue's condition number
        ``kappa1 kappa2`` (``kappa_f = ||w_f|| ||v_f|| / |w_f^+ v_f|`` of the one-mode left/right pair): to first
        order ``|mu - mu_true| <= kappa ||L x - mu x||``. A defective one-mode eigenvalue gives ``inf``.
        """
        eig = {}
        for f, (T, Q) in self._schur.items():
            w, vl, vr = sla.eig(T, left=True, right=True)
            den = np.abs(np.einsum("ij,ij->j", vl.conj(), vr))
            with np.errstate(divide="ignore"):
                kap = np.where(den > 0, np.linalg.norm(vl, axis=0) * np.linalg.norm(vr, axis=0) / den, np.inf)
            eig[f] = (w, Q @ vr, kap)
        cand = []
        for gi, (f1, f2, a, b, m1, m2) in enumerate(self._groups[key]):
            s = (eig[f1][0][:, None] + eig[f2][0][None, :]).ravel()
            i, j = np.divmod(np.arange(s.size), m2)
            cand.append(np.stack([s, np.full(s.size, gi), i, j], axis=1))
        cand = np.concatenate(cand)
        if skip_zero:
            cand = np.delete(cand, int(np.argmin(np.abs(cand[:, 0]))), axis=0)
        cand = cand[np.argsort(-cand[:, 0].real, kind="stable")][:k]
        n = self.size[key]
        X = np.zeros((n, len(cand)), dtype=complex)
        mu = cand[:, 0].copy()
        kappa = np.empty(len(cand))
        for c, (z, gi, i, j) in enumerate(cand):
            f1, f2, a, b, m1, m2 = self._groups[key][int(gi.real)]
            i, j = int(i.real), int(j.real)
            v1, v2 = eig[f1][1][:, i], eig[f2][1][:, j]
            x = np.outer(v1, v2).ravel()
            X[a:b, c] = x / np.linalg.norm(x)
            kappa[c] = eig[f1][2][i] * eig[f2][2][j]
        return mu, X, kappa


def numerical_range_bounds(A, *, lanczos: bool = True, tol: float = 1e-8, seed: int = 0) -> dict:
    """Where the whole spectrum of the real sparse matrix ``A`` (a sector's Liouvillian in an orthonormal basis, so
    the Euclidean inner product is the Hilbert-Schmidt one) can lie: every eigenvalue is in the numerical range
    ``{x^+ A x : ||x|| = 1}``, so ``Re mu <= lambda_max(Hs)`` and ``|Im mu| <= ||K||_2`` with ``Hs = (A + A^T) / 2``
    and ``K = (A - A^T) / 2``.

    Returns ``im_bound`` (rigorous: ``||K||_2 <= ||K||_1``, ``K`` antisymmetric), ``re_bound`` (rigorous: Gershgorin
    on ``Hs``), and with ``lanczos`` the Lanczos estimates ``im_lanczos`` (``sqrt`` of the largest eigenvalue of
    ``K^T K``) and ``re_lanczos`` (largest eigenvalue of ``Hs``): Ritz values of a Hermitian matrix lie *inside*
    its spectrum, so these are lower bounds of the exact extent, sharp when converged, not safe upper bounds.
    """
    A = sp.csr_matrix(A)
    K = ((A - A.T) * 0.5).tocsr()
    Hs = ((A + A.T) * 0.5).tocsr()
    im_bound = float(abs(K).sum(axis=0).max()) if K.nnz else 0.0
    off = abs(Hs) - sp.diags(np.abs(Hs.diagonal()))
    re_bound = float(np.max(Hs.diagonal() + np.asarray(off.sum(axis=1)).ravel())) if A.shape[0] else 0.0
    out = {"im_bound": im_bound, "re_bound": re_bound}
    if lanczos and A.shape[0] > 2:
        n = A.shape[0]
        v0 = np.random.default_rng(seed).normal(size=n)
        KtK = spla.LinearOperator((n, n), matvec=lambda x: K.T @ (K @ x), dtype=float)
        try:
            lk = spla.eigsh(KtK, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0]
            out["im_lanczos"] = float(np.sqrt(max(lk, 0.0)))
        except spla.ArpackNoConvergence:
            out["im_lanczos"] = float("nan")
        try:
            out["re_lanczos"] = float(spla.eigsh(Hs, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        except spla.ArpackNoConvergence:
            out["re_lanczos"] = float("nan")
    return out


def _ritz(Hm):
    """Ritz values (sorted by decreasing real part) and vectors (coefficients) of ``H = V^T A V``."""
    theta, Y = np.linalg.eig(Hm)
    order = np.argsort(-theta.real, kind="stable")
    return theta[order], Y[:, order]


class _RowPasses:
    """Products of tall arrays (the Davidson basis, ``n`` rows) with small matrices, split into fixed chunks of
    :attr:`CHUNK` rows on ``workers`` threads (one BLAS thread each). The chunks do not depend on ``workers`` and
    partial sums are added in chunk order, so the rounding, and with it the whole iteration, is bit-for-bit the
    same on one thread or two (OpenBLAS's own threading changes its rounding with the thread count: a sector's
    eigenvalues would then depend on whether the other sector's process was still running)."""

    CHUNK = 32768

    def __init__(self, n: int, workers: int = 1):
        self.bounds = [(a, min(a + self.CHUNK, n)) for a in range(0, n, self.CHUNK)]
        self.workers = max(1, int(workers))
        self._split = {}

    def _map(self, f) -> list:
        if self.workers > 1 and len(self.bounds) > 1:
            from ._blocks import _thread_pool

            return list(_thread_pool(self.workers).map(f, self.bounds))
        return [f(ab) for ab in self.bounds]

    # The products below are written transposed, (Y^T M^T)^T for M Y and (P^T M)^T for M^T P: the same sums, and
    # mostly the same rounding (S = 10 and 12 took the same Davidson iterations and returned the same digits; not
    # for every shape: M^T P with two row-major columns rounds differently, and S = 16's even sector took another
    # path), but OpenBLAS takes a kernel that streams the tall column-major M 1.5-2.5x faster (S = 16, 105 basis
    # columns, one thread: M Y with 10 columns 0.063 s against 0.161 s, X -= M C 0.068 s against 0.161 s, M^T P
    # 0.063 s against 0.091 s). The restart's replace stays as it was (transposed it rounds differently, and a
    # restart is once per dozens of iterations).

    def times(self, M: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``M @ Y``."""
        out = np.empty((M.shape[0], Y.shape[1]), order="F")
        Yt = np.ascontiguousarray(Y.T)

        def f(ab):
            np.matmul(Yt, M[ab[0]:ab[1]].T, out=out[ab[0]:ab[1]].T)

        self._map(f)
        return out

    def t_times(self, M: np.ndarray, P: np.ndarray) -> np.ndarray:
        """``M^T @ P``."""
        parts = self._map(lambda ab: P[ab[0]:ab[1]].T @ M[ab[0]:ab[1]])
        out = parts[0].T.copy()
        for q in parts[1:]:
            out += q.T
        return out

    def sub_times(self, X: np.ndarray, M: np.ndarray, C: np.ndarray) -> None:
        """``X -= M @ C`` in place."""
        Ct = np.ascontiguousarray(C.T)

        def f(ab):
            X[ab[0]:ab[1]] -= (Ct @ M[ab[0]:ab[1]].T).T

        self._map(f)

    def sparse_times(self, A, X: np.ndarray) -> np.ndarray:
        """``A @ X`` for a CSR matrix ``A`` with ``n`` rows, by row chunks (each row's sum is unchanged: the result
        is bit-for-bit ``A @ X``; scipy's sparse kernels release the GIL: 1.65x on two threads at S = 16). Other
        operators: ``A @ X``."""
        if np.iscomplexobj(X) and sp.issparse(A) and not np.iscomplexobj(A):
            # real and imaginary parts as columns of one real product (scipy would cast A's entries to complex)
            c = 1 if X.ndim == 1 else X.shape[1]
            P = self.sparse_times(A, np.concatenate([X.real.reshape(len(X), c), X.imag.reshape(len(X), c)], axis=1))
            out = P[:, :c] + 1j * P[:, c:]
            return out[:, 0] if X.ndim == 1 else out
        if not (sp.issparse(A) and A.format == "csr"):
            return np.asarray(A @ X)
        # the chunked path whatever the number of threads: the output's layout (column-major) decides which BLAS
        # kernel the later products with it take, and so their rounding
        parts = self._split.get(id(A))
        if parts is None or parts[0] is not A:
            ip = A.indptr
            views = [sp.csr_matrix((A.data[ip[a]:ip[b]], A.indices[ip[a]:ip[b]], ip[a:b + 1] - ip[a]),
                                   shape=(b - a, A.shape[1])) for a, b in self.bounds]  # views of A's arrays
            parts = self._split[id(A)] = (A, views)
        out = np.empty((A.shape[0],) + X.shape[1:], dtype=np.result_type(A.dtype, X.dtype),
                       order="F" if X.ndim == 2 else "C")
        blocks = parts[1]
        # scipy's kernel reads the vectors row by row: a column-major X would be copied to row-major in every chunk's
        # product (S = 16, 8 columns: 0.185 s against 0.092 s with the one copy here; the same sums)
        X = np.ascontiguousarray(X)

        def f(j):
            a, b = self.bounds[j]
            out[a:b] = blocks[j] @ X

        if self.workers > 1 and len(blocks) > 1:
            from ._blocks import _thread_pool

            list(_thread_pool(self.workers).map(f, range(len(blocks))))
        else:
            for j in range(len(blocks)):
                f(j)
        return out

    def replace(self, M: np.ndarray, m: int, Z: np.ndarray) -> None:
        """``M[:, :s] = M[:, :m] @ Z`` in place (``Z`` is ``(m, s)``; chunk by chunk, no ``(n, s)`` temporary)."""
        s_ = Z.shape[1]

        def f(ab):
            M[ab[0]:ab[1], :s_] = M[ab[0]:ab[1], :m] @ Z

        self._map(f)


def _real_coefficients(theta: np.ndarray, Y: np.ndarray):
    """Real coefficient columns spanning the Ritz vectors ``V Y``: ``Re y`` for a real Ritz value, ``Re y, Im y`` for
    a complex one, nothing for the conjugate of a value already present (its vector is the conjugate). Returns
    ``(Yr, where)`` with ``where[i] = (a, b, conj)``: Ritz vector ``i`` is ``V (Yr[:, a] + 1j Yr[:, b])`` (``b = -1``:
    real), conjugated when ``conj``. Half the columns of ``V [Re Y, Im Y]``: a pass over the basis costs more with
    more columns (``V Y``, one thread, S = 16: 0.049 s with 4 columns, 0.063 s with 10)."""
    cols, where = [], []
    for i, z in enumerate(theta):
        if z.imag == 0:
            where.append((len(cols), -1, False))
            cols.append(Y[:, i].real)
            continue
        j = next((j for j in range(i) if theta[j] == np.conj(z) and where[j][1] >= 0 and not where[j][2]), None)
        if j is not None and np.array_equal(Y[:, j], np.conj(Y[:, i])):
            where.append((where[j][0], where[j][1], True))
            continue
        where.append((len(cols), len(cols) + 1, False))
        cols.extend([Y[:, i].real, Y[:, i].imag])
    return np.stack(cols, axis=1), where


def _ritz_residuals(theta, where, Ur, AUr):
    """Norms of the Ritz vectors and their relative residuals ``||A u - theta u|| / ||u||`` from the real columns of
    :func:`_real_coefficients` (``Ur = V Yr``, ``AUr = (A V) Yr``)."""
    nu, res = np.empty(len(theta)), np.empty(len(theta))
    for i, (z, (a, b, _)) in enumerate(zip(theta, where)):
        if b < 0:
            nu[i] = np.linalg.norm(Ur[:, a])
            res[i] = np.linalg.norm(AUr[:, a] - z.real * Ur[:, a]) / nu[i]
            continue
        zr, zi = z.real, (-z.imag if where[i][2] else z.imag)
        # (AUa + i AUb) - (zr + i zi)(Ua + i Ub), conjugated for a conjugate partner (same norm)
        re = AUr[:, a] - zr * Ur[:, a] + zi * Ur[:, b]
        im = AUr[:, b] - zr * Ur[:, b] - zi * Ur[:, a]
        nu[i] = np.hypot(np.linalg.norm(Ur[:, a]), np.linalg.norm(Ur[:, b]))
        res[i] = np.hypot(np.linalg.norm(re), np.linalg.norm(im)) / nu[i]
    return nu, res


def _ritz_vector(i, where, Ur, AUr, theta, nu):
    """Ritz vector ``i`` and its residual ``A u - theta u``, both divided by ``||u||`` (complex unless real)."""
    a, b, conj = where[i]
    if b < 0:
        u = Ur[:, a] / nu[i]
        return u, AUr[:, a] / nu[i] - theta[i].real * u
    u = (Ur[:, a] + 1j * Ur[:, b]) / nu[i]
    au = (AUr[:, a] + 1j * AUr[:, b]) / nu[i]
    if conj:
        u, au = u.conj(), au.conj()
    return u, au - theta[i] * u


def block_davidson(A, solve, n: int, k: int, *, deflate: np.ndarray | None = None, res_tol: float,
                   max_products: int = 3000, max_basis: int | None = None, block: int | None = None,
                   init_shift=0.05, olsen: bool = False, olsen_below: float = 0.1, guard: int = 0,
                   keep_min: int = 0, init_random: int = 0, init_solve=None,
                   seed: int = 20241130, workers: int = 1):
    """The ``k`` eigenvalues of largest real part of the real (sparse) matrix ``A`` by block generalized Davidson
    with Olsen's correction, preconditioned by a resolvent ``solve(r, theta) ~ (A0 - theta)^{-1} r``.

    Every iteration: Rayleigh-Ritz on the real orthonormal basis ``V`` (``H = V^T A V``); for each of the first
    ``k`` Ritz pairs ``(theta, u)`` (one of each conjugate pair) whose residual ``||A u - theta u|| / ||u||`` is
    above ``res_tol``, up to ``block`` of them, the correction ``t = P r - eps P u`` with ``P = solve(., theta)``
    at the Ritz value and ``eps = (u^+ P r) / (u^+ P u)`` (Olsen: ``u^+ t = 0``, so a preconditioner close to
    ``(A - theta)^{-1}`` does not hand back ``u``), or the plain ``t = P r`` (one resolvent instead of two) unless
    ``olsen`` or less than ``olsen_below`` of ``P r`` lies outside the basis; its real and imaginary parts join the
    basis. When the basis
    reaches ``max_basis`` columns it restarts on the real Schur vectors of ``H`` of the ``max(2k, keep_min)``
    rightmost Ritz values (at most half the basis unless ``keep_min`` says more).
    ``deflate`` (a left null vector of ``A``, e.g. the trace of the steady state's sector): the basis is kept
    orthogonal to it, an invariant subspace of ``A`` that holds every eigenvector but the one of eigenvalue 0.
    The start: for each of the ``init_shift`` values one random vector put through ``solve(., shift)`` twice
    (inverse iteration with ``A0``: its modes near the shift), real and imaginary parts; ``init_solve`` (default
    ``solve``) is the resolvent used there.

    ``workers``: threads for the products with the basis (:class:`_RowPasses`: the same rounding for any number).

    Returns ``(theta (k,), residuals (k,), info)`` sorted by decreasing real part; ``info``: ``products``,
    ``solves`` (resolvent applications), ``iterations``, ``converged`` (bool), ``basis``, ``ritz_next`` (the
    Ritz value after the ``k``-th, or nan). A conjugate pair split by the ``k``-th place is kept whole in the
    iteration; only the first ``k`` values are returned.
    """
    rng = np.random.default_rng(seed)
    rows = _RowPasses(n, workers)
    block = block or k
    max_basis = max_basis or max(6 * k, 30)
    keep = max(min(max(2 * k, k + 4), max_basis // 2), keep_min)
    info = {"products": 0, "solves": 0, "iterations": 0, "converged": False, "history": [],
            "gram_schmidt": {"columns": 0, "second_pass": 0}}
    dv = None
    if deflate is not None:
        dv = np.asarray(deflate, dtype=float) / np.linalg.norm(deflate)

    def project(X):
        if dv is not None:
            X = X - np.outer(dv, dv @ X)
        return X

    # column-major: V[:, :m] is one contiguous block, so every operation on the basis is one matrix product
    # (BLAS 3) reading only the m columns in use; at S = 16 the basis is ~1 GB and these passes over it, not the
    # resolvents, were most of the time when done vector by vector
    V = np.empty((n, max_basis), order="F")
    AV = np.empty((n, max_basis), order="F")
    H = np.zeros((max_basis, max_basis))  # V^T A V, kept block by block (O(n m b) per block of b new vectors)
    m = 0

    def add(X, VtX=None):
        """Orthonormalise the real block ``X`` against ``dv`` and ``V`` (block classical Gram-Schmidt; a second pass
        only when a column lost more than ``1 - 1/sqrt 2`` of its norm, Kahan's "twice is enough") and within itself
        (columns whose norm falls below 1e-8 of their original norm are dropped); append it, its products with ``A``
        and the new rows and columns of ``H``. ``VtX``: ``V[:, :m]^T X`` when the caller has it (one pass over the
        basis saved). Returns the number of columns added."""
        nonlocal m
        X = np.array(X, dtype=float, order="F")
        n0 = np.linalg.norm(X, axis=0)
        for sweep in range(2):
            before = np.linalg.norm(X, axis=0) if sweep else n0
            X = project(X)
            if m:
                C = VtX if (sweep == 0 and VtX is not None) else rows.t_times(V[:, :m], X)  # V is orthogonal to dv
                rows.sub_times(X, V[:, :m], C)
            if sweep == 0 and np.all(np.linalg.norm(X, axis=0) > 0.7071 * before):
                break
            if sweep == 0 and m:
                info["gram_schmidt"]["second_pass"] += X.shape[1]
        info["gram_schmidt"]["columns"] += X.shape[1] if m else 0
        cols = []
        for j in range(X.shape[1]):
            x = X[:, j]
            if not np.isfinite(n0[j]) or n0[j] == 0.0:
                continue
            for _ in range(2):
                for y in cols:
                    x -= y * (y @ x)
            nx = float(np.linalg.norm(x))
            if nx > 1e-8 * n0[j]:
                cols.append(x / nx)
        cols = cols[:max_basis - m]
        if not cols:
            return 0
        b = len(cols)
        X = np.stack(cols, axis=1)
        AX = rows.sparse_times(A, X)
        info["products"] += b
        V[:, m:m + b], AV[:, m:m + b] = X, AX
        H[:m + b, m:m + b] = rows.t_times(V[:, :m + b], AX)
        H[m:m + b, :m] = rows.t_times(AV[:, :m], X).T
        m += b
        return b

    shifts0 = [complex(s) for s in np.atleast_1d(init_shift)]
    cols = []
    for s0 in shifts0:
        x = project(rng.normal(size=(n, 1)))[:, 0]
        for _ in range(2):
            x = (init_solve or solve)(x, s0)
            info["solves"] += 1
            x = x / np.linalg.norm(x)
        cols.append(x.real)
        if s0.imag != 0:
            cols.append(x.imag)
    for _ in range(init_random):  # plain random vectors: every mode present, none favoured by the uncoupled problem
        cols.append(rng.normal(size=n))
    add(np.stack(cols, axis=1))
    theta = np.zeros(0, dtype=complex)
    res = np.zeros(0)
    while True:
        info["iterations"] += 1
        Hm = H[:m, :m]
        theta_all, Y = _ritz(Hm)
        kk = min(k + guard, m)
        # keep a conjugate pair split at the k-th place whole
        if kk < m and abs(theta_all[kk - 1].imag) > 0 and abs(theta_all[kk] - np.conj(theta_all[kk - 1])) < 1e-10 * (
                1 + abs(theta_all[kk])):
            kk += 1
        theta = theta_all[:kk]
        Yr, where = _real_coefficients(theta, Y[:, :kk])
        Ur, AUr = rows.times(V[:, :m], Yr), rows.times(AV[:, :m], Yr)
        nu, res = _ritz_residuals(theta, where, Ur, AUr)
        todo = [i for i in range(kk) if res[i] > res_tol and theta[i].imag >= 0]
        info["history"].append((info["products"], info["solves"], m, int(np.sum(res[:min(k, kk)] <= res_tol))))
        if not todo and kk >= min(k + guard, n - 1 - (dv is not None)):
            info["converged"] = True
            break
        if info["products"] >= max_products:
            break
        todo = todo[:block]
        if m + 2 * len(todo) > max_basis:
            # restart on the Schur vectors of the rightmost Ritz values (conjugate pairs stay together)
            cut = theta_all[min(keep, m) - 1].real
            T, Z, sdim = sla.schur(Hm, output="real", sort=lambda x, y, c=cut: x >= c - 1e-12 * (1 + abs(c)))
            sdim = max(sdim, 1)
            Zs = np.asfortranarray(Z[:, :sdim])
            rows.replace(V, m, Zs)
            rows.replace(AV, m, Zs)
            H[:sdim, :sdim] = Zs.T @ Hm @ Zs
            m = sdim
            continue
        us, prs = [], []
        for i in todo:
            u, r = _ritz_vector(i, where, Ur, AUr, theta, nu)
            if theta[i].imag == 0:  # a real Ritz pair: real vectors (up to a phase), a real resolvent
                ph = u[np.argmax(np.abs(u))]
                ph = ph / abs(ph) if ph != 0 else 1.0
                u, r = (u / ph).real, (r / ph).real
            prs.append(solve(r, theta[i]))
            info["solves"] += 1
            us.append(u)
        # the part of each P r outside the basis, all at once: ||x - V V^T x||^2 = ||x||^2 - ||V^T x||^2; the same
        # coefficients are the first Gram-Schmidt pass of the plain corrections
        # real columns only: one per correction at a real Ritz value (its imaginary part is rounding, dropped below
        # too), two at a complex one
        pc, pos = [], []
        for j, i in enumerate(todo):
            pos.append(len(pc))
            pc.append(prs[j].real)
            if theta[i].imag != 0:
                pc.append(prs[j].imag)
        P = np.stack(pc, axis=1)
        C = rows.t_times(V[:, :m], P)
        pn2, cn2 = np.einsum("ij,ij->j", P, P), np.einsum("ij,ij->j", C, C)
        T, CT, plain = [], [], True
        for j, i in enumerate(todo):
            t, u, pr = prs[j], us[j], prs[j]
            a = pos[j]
            w = slice(a, a + 1 + (theta[i].imag != 0))
            pn = np.sqrt(pn2[w].sum())
            outside_j = np.sqrt(max(pn ** 2 - cn2[w].sum(), 0.0)) / max(pn, 1e-300)
            # a preconditioner close to (A - theta)^{-1} hands back (nearly) u: then Olsen's correction
            if olsen or outside_j < olsen_below:
                pu = solve(u, theta[i])
                info["solves"] += 1
                den = np.vdot(u, pu)
                t = pr - (np.vdot(u, pr) / den) * pu if abs(den) > 0 else pr
                plain = False
            T.append(t.real)
            CT.append(C[:, a])
            if theta[i].imag != 0:
                T.append(t.imag)
                CT.append(C[:, a + 1])
        if add(np.stack(T, axis=1), VtX=np.stack(CT, axis=1) if plain else None) == 0:
            break  # no new direction: stagnation
    info["basis"] = m
    # the loss of orthogonality of the final basis (one more pass over it)
    info["orthogonality"] = float(np.max(np.abs(rows.t_times(V[:, :m], V[:, :m]) - np.eye(m)))) if m else 0.0
    info["ritz_next"] = complex(theta[k]) if len(theta) > k else complex(np.nan)
    return theta[:k], res[:k], info



def _merge_starts(runs, k: int):
    """The union of several Davidson runs' eigenvalues (equal within ``1e-7 (1 + |mu|)``: the smaller residual kept),
    the ``k`` of largest real part, and whether every run returned the same ``k`` (a conjugate pair split at the
    ``k``-th place counts as equal)."""
    vals, res = [], []
    for mu, r, _ in runs:
        for z, rz in zip(mu, r):
            j = next((i for i, y in enumerate(vals) if abs(y - z) <= 1e-7 * (1 + abs(z))), None)
            if j is None:
                vals.append(complex(z))
                res.append(float(rz))
            elif rz < res[j]:
                res[j] = float(rz)
    vals, res = np.array(vals, dtype=complex), np.array(res)
    order = np.argsort(-vals.real, kind="stable")[:k]
    best = vals[order]

    def same(a, b):
        a = [z for z in a if z.real > best[-1].real + 1e-7 * (1 + abs(z))]
        return all(np.min(np.abs(np.asarray(b) - z)) <= 1e-7 * (1 + abs(z)) for z in a)

    agree = all(same(best, mu) and same(mu, best) for mu, _, _ in runs)
    return best, res[order], agree


@dataclass(frozen=True, eq=False)
class SlowestSpectrum(_SectorPairs):
    """The ``k`` slowest eigenvalues (largest real part) of the Liouvillian per symmetry sector
    (:func:`slowest_spectrum`).

    Attributes
    ----------
    name : str
    S : float
    params : dict
    sectors : dict
        ``{sector key: complex eigenvalues sorted by decreasing real part}``; in the sector of the steady state
        its exact 0 comes first (deflated by the trace, not computed), then ``k`` others.
    residuals : dict
        ``{key: ||L v - mu v|| / ||v||}`` per eigenvalue (0 for the steady state's 0).
    pair_status : dict
        ``{key: list of "ok" / "not-converged"}``: "ok" when the residual is at most ``res_tol * ||L||_1``.
    certificate : dict
        ``{key: "dense" | "kronecker" | "missed" | "none"}``: what says these are the *slowest* ``k`` (not only
        eigenvalues): "dense" the sector's dense spectrum was computed, every value found is one of its eigenvalues
        and none of its eigenvalues right of the last one found is missing (to ``1e-6 (1 + |mu|)``), "missed"
        otherwise; "kronecker" (sectors above ``dense_max`` of an uncoupled system) the sector's whole spectrum is the
        sum set of the one-mode dense spectra; "none" not checked (sectors above ``dense_max`` states). The Davidson iteration
        is local: it converges to eigenvalues its start space (the slowest modes of the uncoupled Liouvillian)
        leads to, and a slow mode unrelated to those can be missed.
    status : str
        "ok" (every pair converged and every sector certified), "unverified" (converged, some sector not
        certified), "missed" (a dense check failed), "not-converged".
    message : str
    stats : dict
        ``time_s``, ``cpu_s``, ``norm1``, ``build_s`` and per sector ``size``, ``products``, ``solves``,
        ``iterations``, ``seconds``, ``ritz_next``.
    """

    certificate: dict
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per eigenvalue: sector, rank, eigenvalue, residual, pair status, certificate."""
        return self._pair_frame(certificate=self.certificate)


#: relative distance ``|theta - mu| / (1 + |theta|)`` to the nearest uncoupled eigenvalue ``mu`` below which the
#: alternating preconditioner moves its shift away from ``mu`` (:func:`_sector_preconditioner`; S = 10, cycle
#: point, odd sector, Olsen below 0.1: 120 / 118 / 124 / 146 iterations at 1e-3 / 3e-3 / 1e-2 / 3e-2; Olsen below
#: 1e-3, even / odd sector: 92 / 111 at 3e-3, 73 / 109 at 1e-2)
NEAR_UNCOUPLED_POLE = 1e-2
# block_davidson's olsen_below with the alternating preconditioner stays the uncoupled resolvent's 0.1: 1e-3 was
# faster at the cycle point (S = 10, even / odd sector: 73 / 109 iterations and 24 / 34 s against 95 / 124 and
# 34 / 40 s; S = 16 11 min 07 s) but stalled at the normal-state point (0.5, 0.3), S = 10, even sector: not
# converged after 724 iterations, against 77 with 0.1


def _sector_preconditioner(hs, key, Lz, kind: str, counts: dict, ue=None):
    """The resolvent ``solve(r, theta)`` of :func:`block_davidson` on one sector: ``"uncoupled"``, the uncoupled
    Liouvillian's ``P_u = (L_unc - theta)^{-1}``, or ``"uncoupled+nojump"``, one multiplicative (alternating)
    step of it and the no-jump resolvent ``P_nj = (L_nj - theta)^{-1}`` (:meth:`HermitianSectors.solve_nojump`):
    ``y = P_u r``, then ``y += alpha P_nj (r - (L - theta) y)``. ``P_u`` neglects the coupling between the modes,
    ``P_nj`` the jumps' recycling terms, so the step's error ``(1 - alpha P_nj (L - theta)) (1 - P_u (L - theta))``
    is small where either is good. The weight ``alpha`` in ``[0, 1]`` minimises the step's residual
    ``||r - (L - theta) y||`` (one product with the recycling terms, :meth:`HermitianSectors.recycling_matrix`), so
    the step is never worse, in that residual, than the uncoupled resolvent alone or the plain sum. ``counts``
    collects the resolvents and the extra products (with the coupling part ``L - L_unc`` only:
    :meth:`HermitianSectors.coupling_matrix`; ``"recycling"``: with the recycling terms); ``ue``: the sector's
    uncoupled eigenvalues, when the caller has them."""
    def uncoupled(r, s):
        counts["uncoupled"] += 1
        return hs.solve(key, r, s)

    if kind == "uncoupled":
        return uncoupled

    C = hs.coupling_matrix(key)
    ue = hs.uncoupled_eigenvalues(key) if ue is None else ue
    rows = _RowPasses(C.shape[0], hs.workers)
    Rm = hs.recycling_matrix(key)

    def both(r, s):
        j = int(np.argmin(np.abs(ue - s)))
        gap = NEAR_UNCOUPLED_POLE * (1.0 + abs(s))
        if abs(ue[j] - s) < gap:
            # theta next to an eigenvalue mu of L_unc: P_u r would be that one mode, hugely amplified, whatever r is,
            # and the second step keeps it so: every correction the same direction (S = 10, (1.5, 0.45), odd
            # sector: a pair 5e-4 from an uncoupled eigenvalue stalled at a residual of 5e-4 for 1000 iterations).
            # Both resolvents are then taken at a shift pushed away from mu to the distance gap (an inexact shift,
            # as any preconditioner's): 120 iterations there, against 215 with the uncoupled resolvent alone at
            # such pairs and 323 with it everywhere.
            counts["near_pole"] += 1
            d = s - ue[j]
            s = ue[j] + (d / abs(d) if abs(d) > 0 else 1.0) * gap
            if abs(s.imag) == 0.0:
                s = float(s.real)
        # the residual the uncoupled step leaves, r - (L - theta) y = -(L - L_unc) y: a product with the coupling
        # alone (half the entries of L for the dimer)
        y = uncoupled(r, s)
        cy = rows.sparse_times(C, y)
        counts["products"] += 1
        counts["nojump"] += 1
        d = hs.solve_nojump(key, -cy, s)
        # the weight alpha in [0, 1] of the second step minimises the residual ||r - (L - s)(y + alpha d)|| =
        # ||-cy - alpha (L - s) d||, where (L - s) d = -cy + R d (R: the recycling terms the no-jump resolvent leaves
        # out, 1.9 entries per row at S = 16: 5 ms a product): never worse than the uncoupled step alone (0) or the
        # plain sum (1). The plain sum overshoots where the recycling terms matter (the normal-state point (0.5, 0.3),
        # even sector, unconstrained weights 0.6-0.95: S = 12 159 Davidson iterations against 77 weighted, S = 16 not
        # finished after 6 min against 2 min 30 s); at the cycle point they are 1.0-1.3 and extrapolating beyond 1
        # did not pay (S = 16 10 min 30 s, S = 10 41 s against 33 s clipped)
        Rd = rows.sparse_times(Rm, d)
        counts["recycling"] += 1
        Rd -= cy
        den = np.vdot(Rd, Rd).real
        alpha = min(max(np.vdot(Rd, -cy).real / den, 0.0), 1.0) if den > 0 else 0.0
        return y + alpha * d

    return both


AUTO_PRECONDITIONER_WHY = ("default where it applies: the alternating preconditioner ('uncoupled+nojump', weighted "
                           "second step) converges where the uncoupled one alone does not (S = 6, 8 at lam = 0.8, 1.0) "
                           "and took at most 1.1x its time elsewhere (S = 16: 10 min 36 s against 20 min 13 s at the "
                           "cycle point (1.5, 0.45), 2 min 30 s against 2 min 20 s at (0.5, 0.3), the same basis "
                           "passes)")


def _choose_preconditioner(hs, preconditioner: str, use_kron: bool):
    """``(kind, info)`` for :func:`slowest_spectrum`. ``"auto"`` takes ``"uncoupled+nojump"`` (see
    :data:`AUTO_PRECONDITIONER_WHY`) wherever it applies and ``"uncoupled"`` elsewhere, with the reason;
    ``"uncoupled+nojump"`` asked for explicitly is refused (ValueError, the reason) when a block of the no-jump
    generator exceeds :attr:`HermitianSectors.NOJUMP_MAX_BLOCK` states, the no-jump resolvent does not act within a
    sector or its eigenvectors are worse conditioned than :attr:`HermitianSectors.NOJUMP_MAX_COND`. The no-jump
    factorisation is built here, before the sectors fork."""
    info = {"requested": preconditioner}
    if use_kron:
        return "uncoupled", {**info, "kind": "none", "why": "uncoupled system: exact Kronecker-sum spectra"}
    if preconditioner == "uncoupled":
        return "uncoupled", {**info, "kind": "uncoupled", "why": "requested"}
    why, largest = None, max(hs.nojump_block_sizes())
    if largest > hs.NOJUMP_MAX_BLOCK:
        why = (f"the no-jump generator's largest block has {largest} states (more than "
               f"{hs.NOJUMP_MAX_BLOCK}: its dense eigendecomposition is not attempted)")
    else:
        try:
            cond = hs.nojump_condition()
            for key in hs.keys:
                hs._pairs(key)
        except ValueError as e:
            why = str(e)
        else:
            if not cond <= hs.NOJUMP_MAX_COND:
                why = (f"the no-jump eigenvectors' condition number {cond:.3g} exceeds {hs.NOJUMP_MAX_COND:.0e}")
    if why is not None:
        if preconditioner == "auto":
            return "uncoupled", {**info, "kind": "uncoupled", "why": f"'uncoupled+nojump' does not apply: {why}"}
        raise ValueError(f"preconditioner 'uncoupled+nojump' does not apply: {why}")
    info["nojump_condition"] = cond
    return "uncoupled+nojump", {**info, "kind": "uncoupled+nojump",
                                "why": "requested" if preconditioner != "auto" else AUTO_PRECONDITIONER_WHY}


def _slowest_sector(hs, key, k, res_tol, max_products, max_basis, block, seeds, dense_max, range_check, starts,
                    use_kron, preconditioner="uncoupled"):
    """One sector of :func:`slowest_spectrum`: ``(mu, residuals, pair statuses, certificate, stats, ||L||_1)``."""
    ts, cs = time.perf_counter(), time.process_time()
    Lz, n = hs.matrix[key], hs.size[key]
    nrm = float(abs(Lz).sum(axis=0).max()) if Lz.nnz else 0.0
    tr = hs.trace[key]
    kk = min(k, n - 1 - (tr is not None))
    ue_all = ue = hs.uncoupled_eigenvalues(key)
    if tr is not None:
        ue = np.delete(ue, np.argmin(np.abs(ue)))
    ue = ue[ue.imag >= -1e-12 * (1 + np.abs(ue))]
    ue = ue[np.argsort(-ue.real, kind="stable")]
    # just right of each uncoupled eigenvalue: inverse iteration lands on its mode
    sh0 = ue[:seeds] + 1e-3
    st = {"size": n}
    if n <= max(4 * kk + 8, 60):
        ev, V = np.linalg.eig(Lz.toarray())
        if tr is not None:
            j0 = int(np.argmin(np.abs(ev)))
            ev, V = np.delete(ev, j0), np.delete(V, j0, axis=1)
        order = np.argsort(-ev.real, kind="stable")[:kk]
        mu, V = ev[order], V[:, order]
        res = np.linalg.norm(Lz @ V - V * mu[None, :], axis=0) / np.linalg.norm(V, axis=0)
        info = {"products": 0, "solves": 0, "iterations": 0, "converged": True, "method": "dense"}
    elif use_kron:
        # the sector's matrix is the uncoupled Kronecker sum: its whole spectrum is the sum set of the one-mode
        # dense spectra, so the k of largest real part are read off (and checked by their residuals)
        mu, X, kap = hs.uncoupled_eigenpairs(key, kk, skip_zero=tr is not None)
        LX = np.asarray(Lz @ X.real) + 1j * np.asarray(Lz @ X.imag)
        res = np.linalg.norm(LX - X * mu[None, :], axis=0)
        info = {"products": 2 * kk, "solves": 0, "iterations": 0, "converged": True, "method": "kronecker"}
        st["condition"] = kap
    else:
        # a restart keeps half the basis: the seeds of slow modes whose first Ritz values lie left of the
        # k-th survive until corrected (S = 3, (1.5, 0.45): keeping 12 of 80 lost -0.600 + 5.763i)
        runs = []
        counts = {"uncoupled": 0, "nojump": 0, "products": 0, "near_pole": 0, "recycling": 0}
        prec = _sector_preconditioner(hs, key, Lz, preconditioner, counts, ue_all)
        init = _sector_preconditioner(hs, key, Lz, "uncoupled", counts)
        st["preconditioner"] = preconditioner
        for j in range(starts):
            # start j > 0: the next 2 * seeds uncoupled modes and k plain random vectors, another random seed
            sh = sh0 if j == 0 else ue[seeds * (2 * j - 1):seeds * (2 * j + 1)] + 1e-3
            runs.append(block_davidson(Lz, prec, n, kk, deflate=tr,
                                       res_tol=res_tol * max(nrm, 1.0), max_products=max_products,
                                       max_basis=max_basis, block=block, init_shift=sh if len(sh) else sh0,
                                       keep_min=max_basis // 2, init_random=0 if j == 0 else kk,
                                       init_solve=init, seed=20241130 + j, workers=hs.workers))
        st["resolvents"] = dict(counts)
        mu, res, info = runs[0]
        if starts > 1:
            mu, res, agree = _merge_starts(runs, kk)
            info = dict(info)
            for f in ("products", "solves", "iterations"):
                info[f] = sum(r[2][f] for r in runs)
            info["converged"] = all(r[2]["converged"] for r in runs)
            st["starts"] = "agree" if agree else "disagree"
            st["start_values"] = [r[0] for r in runs]
    ps = ["ok" if r <= res_tol * max(nrm, 1.0) else "not-converged" for r in res]
    certificate = "kronecker" if info.get("method") == "kronecker" else "none"
    if n <= dense_max:
        ev = np.linalg.eigvals(Lz.toarray())
        if tr is not None:
            ev = np.delete(ev, np.argmin(np.abs(ev)))
        ref = ev[np.argsort(-ev.real, kind="stable")][:kk]
        # every found value is an eigenvalue and no eigenvalue right of the last found one is missing
        # (a conjugate pair split at the k-th place counts either way)
        found_ok = len(mu) == kk and all(np.min(np.abs(ev - z)) <= 1e-6 * (1 + abs(z)) for z in mu)
        missing = [z for z in ev if z.real > mu[-1].real + 1e-6 * (1 + abs(z))
                   and np.min(np.abs(mu - z)) > 1e-6 * (1 + abs(z))] if len(mu) else list(ev)
        certificate = "dense" if found_ok and not missing else "missed"
        st["dense_reference"] = ref
    if tr is not None:
        mu = np.concatenate([[0.0 + 0.0j], mu])
        res = np.concatenate([[0.0], res])
        ps = ["ok"] + ps
    st.update({f: info.get(f) for f in ("products", "solves", "iterations", "converged", "ritz_next", "gram_schmidt",
                                        "orthogonality")})
    if range_check:
        st["numerical_range"] = numerical_range_bounds(Lz)
    st["seconds"] = time.perf_counter() - ts
    st["cpu_s"] = time.process_time() - cs
    return mu, res, ps, certificate, st, nrm


_FORKED = None  # (hs, fn, args) for the forked sector processes of _map_sectors
_FORK_LOCK = threading.Lock()  # two threads calling _map_sectors at once must not fork with the other's _FORKED


def _forked_sector(key):
    if _FORKED is None:  # pragma: no cover (a worker forked after the submissions: never with ProcessPoolExecutor)
        raise RuntimeError("a sector process was forked without the sectors to solve")
    hs, fn, args = _FORKED
    out = fn(hs, key, *args)
    out[4]["pid"] = os.getpid()
    return out


def _sector_processes(hs, processes: int) -> int:
    """How many processes :func:`_map_sectors` uses (1: none forked; also inside a daemonic process, e.g. a worker
    of a multiprocessing pool, which may not have children)."""
    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return 1
    return max(1, min(int(processes), len(hs.keys)))


def _map_sectors(hs, fn, args, processes: int):
    """``(key, fn(hs, key, *args))`` for every sector of ``hs``, in order. With ``processes > 1`` (and more than one
    sector, and ``fork`` available) the sectors run in forked processes that share ``hs`` copy-on-write (the sectors
    are independent, and one process per core keeps both cores busy through the Davidson's passes over its basis,
    which one thread's memory traffic bounds, where the resolvent's second thread only helps during the solves);
    each keeps ``hs.workers`` resolvent threads, so a sector left alone when the other has finished still uses both
    cores in its solves. The numbers are the same as in one process: every sector runs the same arithmetic (one
    BLAS thread; the resolvent's threads each solve their own closed-set product)."""
    global _FORKED
    keys = list(hs.keys)
    procs = _sector_processes(hs, processes)
    if procs <= 1:
        for key in keys:
            yield key, fn(hs, key, *args)
        return
    from concurrent.futures import ProcessPoolExecutor

    # a process pool of the standard library's executor: a worker that dies (e.g. killed for memory) raises
    # BrokenProcessPool here instead of leaving the caller waiting for ever
    with ProcessPoolExecutor(procs, mp_context=mp.get_context("fork")) as pool:
        with _FORK_LOCK:  # with "fork" every worker is forked at the first submission: it keeps this _FORKED
            _FORKED = (hs, fn, args)
            try:
                futures = [pool.submit(_forked_sector, key) for key in keys]
            finally:
                _FORKED = None
        for key, fut in zip(keys, futures):
            yield key, fut.result()


def slowest_spectrum(system, S, params: Mapping | None = None, *, k: int = 6, sectors=None, cutoffs=None,
                     res_tol: float = 1e-9, max_products: int = 6000, max_basis: int = 140, block: int = 6,
                     seeds: int | None = None, dense_max: int = 2500, workers: int = 2,
                     n_threads: int | None = 1, method: str = "auto", range_check: bool = True,
                     starts: int = 1, processes: int = 2, preconditioner: str = "auto") -> SlowestSpectrum:
    """The ``k`` eigenvalues of largest real part of the Liouvillian of a two-mode ``system`` in every
    self-conjugate symmetry sector (every Z2 sector; the dimer at ``J != 0``), whatever their imaginary part.

    Each sector is written as a real matrix in the product basis of Hermitian operators (:class:`HermitianSectors`)
    and its slowest eigenvalues found by block generalized Davidson (:func:`block_davidson`) preconditioned by the
    resolvent ``(L_unc - theta)^{-1}`` of the uncoupled Liouvillian at the current Ritz values (real Schur forms
    and quasi-triangular Sylvester solves: the steady-state solver's ``"lindblad"`` preconditioner with a complex
    shift), optionally followed by the no-jump resolvent, which keeps the coupling (``preconditioner``). The start space is the slowest modes of the uncoupled Liouvillian: inverse iteration at its
    ``seeds`` eigenvalues of largest real part (one per conjugate pair; default ``3 k``). The sector of the steady
    state is deflated by the trace (its exact 0 is prepended). Every eigenvalue is a Rayleigh quotient of ``L``
    with its residual ``||L v - mu v|| / ||v||``; sectors of at most ``dense_max`` states are also diagonalised
    densely to certify that no slower eigenvalue was missed (see :class:`SlowestSpectrum`).

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem with two modes, each jump acting on one mode
    S, params, cutoffs : as :func:`liouvillian_system`
    k : int
        Eigenvalues per sector (besides the steady state's 0).
    sectors : sequence of sector keys, optional
    res_tol : float
        A pair converges when its residual is at most ``res_tol * ||L||_1`` (``||L||_1`` of the sector's matrix).
    max_products : int
        Cap on the products with ``L`` per sector.
    max_basis, block : int
        Davidson basis size before a restart; Ritz pairs corrected per iteration.
    seeds : int, optional
    dense_max : int
        Largest sector certified by dense diagonalisation.
    workers : int
        Threads of the resolvent (one closed-set product per thread).
    n_threads : int or None
        BLAS threads (threadpoolctl).
    method : {"auto", "davidson", "kronecker"}
        "kronecker": the system is uncoupled (its Hamiltonian is ``h1 (x) 1 + 1 (x) h2`` to ``1e-12``, e.g. the
        dimer at ``lam = 0``), so each sector's spectrum is the sum set of the one-mode dense spectra
        (:meth:`HermitianSectors.uncoupled_eigenpairs`): the ``k`` of largest real part are exact and certified
        ("kronecker"), each with its residual and condition number (``stats["sectors"][key]["condition"]``);
        "davidson": block Davidson; "auto" (default): "kronecker" when it applies, else "davidson".
    starts : int
        Independent Davidson starts per sector (default 1). Start ``j > 0`` uses the next ``2 seeds`` uncoupled modes
        and ``k`` plain random vectors; the union of the runs' eigenvalues is returned (the ``k`` of largest real
        part) and ``stats["sectors"][key]["starts"]`` says whether every start returned the same values ("agree")
        or not ("disagree": at least one start missed a slower mode). Measured on 10 sectors at S = 2, 3 (five
        coupled points): one start returned the slowest six in 5 of 10, the union of two in 7 of 10 (the
        others missed by both). Agreement is evidence, not a certificate. Costs ``starts`` times as much.
    processes : int
        Sectors solved at once in forked processes (default 2: the two Z2 sectors of the dimer at ``J != 0`` on two
        cores), each with ``workers`` resolvent threads; 1 runs them one after the other. At S = 10, (1.5, 0.45)
        (two sectors of 97 241, idle machine): 75 s wall against 118 s with ``processes=1``.
        The eigenvalues are the same either way (the same arithmetic per sector). Where ``fork`` is unavailable the
        sectors run in this process.
    preconditioner : {"auto", "uncoupled", "uncoupled+nojump"}
        The resolvent behind the Davidson corrections. "uncoupled": ``(L_unc - theta)^{-1}`` alone, which neglects
        the coupling between the modes and weakens as S grows. "uncoupled+nojump": one step of it, then the exact
        inverse of the Liouvillian without the jumps' recycling terms (coupling included;
        :meth:`HermitianSectors.solve_nojump`) on the residual that step leaves, which is ``-(L - L_unc) y``
        (:func:`_sector_preconditioner`), weighted by the ``alpha`` in ``[0, 1]`` that minimises the step's residual.
        Measured at the cycle point (1.5, 0.45), even sector: 93 / 235 Davidson iterations at S = 10 / 16 against
        214 / 580 with the uncoupled resolvent alone; S = 16 in 10 min 36 s against 20 min 13 s (8 min 07 s with
        the faster basis passes of 2026-12-01), and it found an odd mode (-0.3447 +- 2.2542i) that the uncoupled
        resolvent alone had missed; at (0.5, 0.3), S = 16, 2 min 30 s against 2 min 20 s (now 2 min 03 s); at
        (-1.5, 1.0), S = 6 and 8, and (1.5, 0.8), S = 8, the uncoupled resolvent alone did not converge within
        6000 products (91-242 s) where the alternating one (then without the weight) took 16-54 s. "auto"
        (default) takes it wherever it applies (a block of the no-jump generator of at most
        :attr:`HermitianSectors.NOJUMP_MAX_BLOCK` states, acting within the sectors, with eigenvectors conditioned
        below :attr:`HermitianSectors.NOJUMP_MAX_COND`), else "uncoupled", and says why.
        ``stats["preconditioner"]`` says which was used and why, ``stats["sectors"][key]["resolvents"]`` counts
        both resolvents and the extra coupling and recycling products.
    range_check : bool
        Also bound where the whole spectrum of each sector lies (:func:`numerical_range_bounds`, with Lanczos
        estimates): ``stats["sectors"][key]["numerical_range"]``; the message names the rigorous ``|Im mu|``
        bound, i.e. the height of the strip right of the ``k``-th value a certificate would have to cover.

    Returns
    -------
    SlowestSpectrum
    """
    from threadpoolctl import threadpool_limits

    from .system import liouvillian_system

    if method not in ("auto", "davidson", "kronecker"):
        raise ValueError(f"expected method 'auto', 'davidson' or 'kronecker', got {method!r}")
    if preconditioner not in ("auto", "uncoupled", "uncoupled+nojump"):
        raise ValueError(f"expected preconditioner 'auto', 'uncoupled' or 'uncoupled+nojump', got {preconditioner!r}")

    if isinstance(k, (bool, np.bool_)) or not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"expected k an integer >= 1, got {k!r}")
    if isinstance(res_tol, (bool, np.bool_)) or not (isinstance(res_tol, (int, float)) and 0 < res_tol < 1):
        raise ValueError(f"expected res_tol a number in (0, 1), got {res_tol!r}")
    for name, v, lo in (("max_products", max_products, 1), ("max_basis", max_basis, 4 * k + 4), ("block", block, 1),
                        ("dense_max", dense_max, 0)):
        if isinstance(v, (bool, np.bool_)) or not (isinstance(v, (int, np.integer)) and v >= lo):
            raise ValueError(f"expected {name} an integer >= {lo}, got {v!r}")
    seeds = 3 * k if seeds is None else seeds
    if isinstance(starts, (bool, np.bool_)) or not (isinstance(starts, (int, np.integer)) and starts >= 1):
        raise ValueError(f"expected starts an integer >= 1, got {starts!r}")
    if isinstance(processes, (bool, np.bool_)) or not (isinstance(processes, (int, np.integer)) and processes >= 1):
        raise ValueError(f"expected processes an integer >= 1, got {processes!r}")
    if isinstance(seeds, (bool, np.bool_)) or not (isinstance(seeds, (int, np.integer)) and seeds >= 1):
        raise ValueError(f"expected seeds an integer >= 1, got {seeds!r}")
    t0, c0 = time.perf_counter(), time.process_time()
    sl = liouvillian_system(system, S, params, cutoffs=cutoffs)
    with threadpool_limits(limits=n_threads, user_api="blas"):
        hs = HermitianSectors(sl, sectors=sectors, workers=workers)
        build = time.perf_counter() - t0
        uncoupled = hs.nonlocality <= 1e-12
        if method == "kronecker" and not uncoupled:
            raise ValueError(f"expected an uncoupled system for method='kronecker' (Hamiltonian nonlocality <= 1e-12), "
                             f"got nonlocality {hs.nonlocality:.3g}")
        use_kron = uncoupled and method != "davidson"
        prec, prec_info = _choose_preconditioner(hs, preconditioner, use_kron)
        vals, resid, pstat, cert, per = {}, {}, {}, {}, {}
        norm1 = 0.0
        for key, out in _map_sectors(hs, _slowest_sector, (k, res_tol, max_products, max_basis, block, seeds,
                                                          dense_max, range_check, starts, use_kron, prec),
                                     processes):
            vals[key], resid[key], pstat[key], cert[key], per[key], nrm = out
            norm1 = max(norm1, nrm)
        # the forked sectors' CPU is not this process's: add what each sector measured in its own process
        forked_cpu = sum(st["cpu_s"] for st in per.values()) if _sector_processes(hs, processes) > 1 else 0.0
    all_ps = [s for v in pstat.values() for s in v]
    if any(s != "ok" for s in all_ps):
        status = "not-converged"
    elif any(c == "missed" for c in cert.values()):
        status = "missed"
    elif any(c == "none" for c in cert.values()):
        status = "unverified"
    else:
        status = "ok"
    worst = max((float(np.max(r)) for r in resid.values() if len(r)), default=0.0)
    how = ("exact Kronecker-sum spectra (uncoupled system: the sum sets of the one-mode dense spectra)" if use_kron
           else "block Davidson")
    msg = (f"{how}/{sl.sector} in the Hermitian basis: {len(hs.keys)} sector(s), the {k} of largest real "
           f"part found from the uncoupled Liouvillian's slowest modes; worst residual {worst:.1e} "
           f"(||L||_1 = {norm1:.3g}); certificates {dict((str(a), b) for a, b in cert.items())}")
    if status == "unverified":
        msg += ("; 'slowest' not certified where the certificate is 'none' (a slow mode unrelated to the "
                "uncoupled slow modes can be missed)")
        if range_check:
            nr = {str(key): per[key]["numerical_range"]["im_bound"] for key in per if cert[key] == "none"}
            msg += (f": there the uncovered region is the strip Re z >= Re mu_k, |Im z| <= {max(nr.values()):.3g} "
                    f"(rigorous numerical-range bound)")
    ev_starts = {str(key): per[key]["starts"] for key in per if "starts" in per[key]}
    if ev_starts:
        msg += f"; {starts} independent starts per sector: {ev_starts} (the union is returned)"
    return SlowestSpectrum(name=getattr(system, "name", "system"), S=sl.S, params=sl.params, sectors=vals,
                           residuals=resid, pair_status=pstat, certificate=cert, status=status, message=msg,
                           stats={"time_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0 + forked_cpu,
                                  "build_s": build, "norm1": norm1, "sectors": per, "preconditioner": prec_info,
                                  "processes": _sector_processes(hs, processes)})
