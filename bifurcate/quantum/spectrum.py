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

References
----------
F. Minganti, A. Biella, N. Bartolo and C. Ciuti, PRA 98, 042118 (2018); Kothe & Kirton, Eq. (5).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .lmg_dimer import hamiltonian, jump_operators, magnetisation_quantum_numbers, validate_params
from .operators import liouvillian, validate_spin

__all__ = ["LiouvillianSpectrum", "liouvillian_spectrum", "sector_liouvillians"]

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
