"""Fast, validated steady states of the master equation (5), reduced by its weak symmetries.

Algorithm
---------
1. **Symmetry block.** The steady state is block diagonal in the parity of ``M = m_A + m_B``
   (any ``J``, sector ``"Z2"``, about ``(2S+1)^4 / 2`` real unknowns) or in ``M`` itself
   (``J = 0``, sector ``"U1"``, about ``(2/3) (2S+1)^3`` unknowns); see
   :mod:`bifurcate.quantum.lmg_dimer`.
2. **Real Hermitian parametrisation.** Each block is stored as its real diagonal and
   ``sqrt(2) (Re, Im)`` of the upper triangle: Hermiticity holds by construction and the unknowns
   are real (:mod:`bifurcate.quantum._blocks`).
3. **Solvers.**
   ``"direct"``: the real sparse matrix with one diagonal equation (implied by the others, since
   ``tr L(rho) = 0``) replaced by the trace condition, factorised by SuperLU with COLAMD.
   ``"krylov"``: matrix-free BiCGSTAB (GMRES as fallback) on ``L(rho) + tr(rho) W = W``
   (``W = 1/d``; the rank-one term makes the operator regular and forces ``tr rho = 1``), right
   preconditioned by the exact inverse of the no-jump part ``L0(X) = -i (H_eff X - X H_eff^+)``,
   ``H_eff = H - (i/2) sum_k c_k^+ c_k``, applied per block as a Sylvester solve in the eigenbasis
   of ``H_eff``; where ``H_eff`` is a sum of one-spin terms (the dimer at ``lam = 0``) the same inverse
   is applied through the Kronecker structure ``V_A (x) V_B`` of its eigenvectors, far cheaper per
   product at large S; with coupled spins the inverse of the local part of ``H_eff`` is used that way
   once it is 10x cheaper per product (S >= 13), with the exact per-block inverse as the fallback
   (``options.preconditioner``). Where every jump acts on one factor (the dimer), ``"auto"`` takes the
   inverse of the uncoupled Lindbladian ``L_A (x) 1 + 1 (x) L_B`` (jumps included) instead, through
   real Schur forms and Sylvester solves on two threads: 4-8x fewer products than the no-jump
   inverses. ``"qutip"``: ``qutip.steadystate`` (the reference,
   for tests and benchmarks).
4. **Validation.** Every result is checked with an operator independent of the solver's
   (the blockwise matrix-free Liouvillian, itself checked against QuTiP's in the tests):
   relative residual ``||L(rho)||_F / (||L|| ||rho||_F)``, ``|tr rho - 1|``, Hermiticity and the
   smallest eigenvalue. A failed check raises :class:`SteadyStateError` carrying the evidence.
5. **Certification.** A small residual proves nothing when the Liouvillian gap is as small as the
   residual (at ``gamma = 1e-8`` the Krylov answer had the wrong sign of Z_A at residual 2e-12). The
   relative error is estimated as ``||L^{-1}|| ||L(rho)|| / ||rho||``: first screened against the
   largest possible gap ``2 ||K||`` (``K = sum c^+ c``; every eigenvalue has ``|Re mu| <= 2 ||K||``),
   then with ``||L^{-1}||`` from the LU (1-norm estimator) or two loose inverse iterations with the
   Krylov solver. Above ``options.max_error`` the result has ``status="not-trusted"`` and the reason;
   ``method="auto"`` first retries an uncertified Krylov answer with the LU where affordable.
6. **Size.** The memory of the solve is estimated from the block sizes before anything large is
   allocated; beyond the limit :class:`QuantumSizeError` says the estimate and the limit.

References
----------
S. Kothe and P. Kirton, "PT-symmetry breaking phase transitions in an LMG dimer", Eqs. (4), (5)
and Fig. 3 (the exact results this module reproduces and extends).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._blocks import BlockLiouvillian
from ._krylov import idrs
from .lmg_dimer import magnetisation_quantum_numbers, validate_params
from .operators import spin_operators, validate_spin

__all__ = ["SteadyState", "SteadyStateOptions", "SteadyStateError", "QuantumSizeError", "steady_state", "METHODS",
           "solve_blocks", "memory_estimate"]

#: solver names accepted by :func:`steady_state`
METHODS = ("auto", "direct", "krylov", "qutip")


class SteadyStateError(RuntimeError):
    """A steady state that failed validation (or a solver that did not converge).

    ``evidence`` holds the measured checks (residual, trace error, smallest eigenvalue, ...).
    """

    def __init__(self, message: str, evidence: Mapping | None = None):
        super().__init__(message)
        self.evidence = dict(evidence or {})


class QuantumSizeError(ValueError, MemoryError):
    """A problem whose estimated memory exceeds the limit (raised before allocating it)."""


@dataclass(frozen=True)
class SteadyStateOptions:
    """Options of :func:`steady_state` (frozen; change with :func:`dataclasses.replace`).

    Attributes
    ----------
    rtol : float
        Krylov stopping tolerance on ``||W - L'(rho)|| / ||W||`` (the true, unpreconditioned residual).
        When iterative refinement stagnates within ``100 rtol`` (the rounding floor of the
        preconditioned operator) the iterate is accepted and left to the validation.
    max_residual : float
        Validation bound on ``||L(rho)||_F / (||L|| ||rho||_F)`` (``||L||`` an upper bound, rate units).
    positivity_tol : float
        Validation bound: the smallest eigenvalue of ``rho`` must be ``>= -positivity_tol``.
    trace_tol : float
        Validation bound on ``|tr rho - 1|`` after normalisation (catches NaN and overflow).
    maxiter : int
        Cap on operator products (per Krylov solver).
    krylov : {"idrs", "bicgstab", "gmres"}
        Krylov solver, wrapped in iterative refinement on the true residual. IDR(s) needs 15-25 %
        fewer products than BiCGSTAB here and far less orthogonalisation than GMRES (:mod:`._krylov`).
    idrs_s : int
        Shadow-space dimension of IDR(s).
    restart : int
        GMRES restart length.
    max_refinements : int
        Cap on iterative-refinement passes (each a full Krylov solve for the correction).
    direct_max_unknowns : dict
        ``{"Z2": N, "U1": N}``: ``method="auto"`` uses the sparse LU up to that many real unknowns.
        Measured here: for ``J != 0`` the LU fill is nearly dense (4-D stencil; S = 6 takes 40 s with
        COLAMD) while Krylov takes 0.2 s, so the Z2 threshold is S = 3; for the 3-D ``J = 0`` block the
        LU beats Krylov up to S = 16 at lam = 0.7 (1.9 s vs 2.0 s; at S = 20, 8.5 s vs 4.4 s).
    direct_fallback_max : dict
        With ``method="auto"``, a Krylov failure falls back to the sparse LU up to this many unknowns
        (the U(1) LU is ~2 s at S = 16 and grows ~N^2; S = 32 has 183 105 unknowns).
    max_error : float
        Certification bound on the estimated relative error ``||rho - rho_exact||_F / ||rho||_F``,
        estimated as ``||L^{-1}|| ||L(rho)||_F / ||rho||_F`` with ``||L^{-1}||`` (the inverse of the
        Liouvillian gap, in the sense of the smallest singular value of the trace-augmented Liouvillian)
        estimated from the LU (Hager-Higham 1-norm estimator) or by two inverse iterations with the
        preconditioned Krylov solver. A result beyond it has status ``"not-trusted"`` and says why.
        A small residual alone proves nothing when the gap is itself small (e.g. ``gamma = 1e-8``).
    gap_check : bool
        Estimate ``||L^{-1}||`` (default). ``False`` keeps only the cheap screen
        ``||L(rho)|| / (2 ||K||) <= max_error`` (``2 ||K||`` bounds every Liouvillian decay rate).
    preconditioner : {"auto", "sylvester", "kron", "lindblad"}
        Krylov preconditioner (:meth:`BlockLiouvillian.setup_preconditioner`): ``"sylvester"`` the exact
        inverse of the no-jump part per block; ``"kron"`` the same for the local part of ``H_eff``
        (two tensor factors; far cheaper per product at large S, more products when the factors are
        coupled); ``"lindblad"`` the inverse of the two factors' own Lindbladians (jumps included) through
        real Schur forms (exact for uncoupled factors; at the dimer's (1.5, 0.45) 85-153 products for
        S = 8-16 against 279-746 with ``"kron"``); ``"auto"`` picks by the estimated cost (``"lindblad"``
        wherever it applies and costs at most twice the per-block inverse per product) and by what each neglects:
        where the coupling between the factors is stronger than half the jumps' recycling term
        (:data:`~bifurcate.quantum._blocks.LINDBLAD_MAX_COUPLING`; lam > gamma for the dimer), the per-block
        inverse at every S (the dimer at lam = 1, S = 8: 267 products and 4 s against 2100 and 29 s; S = 12: 30 s
        against more than 400 s; S = 14: 61 s against more than 420 s).
    workers : int or "auto"
        Threads of the ``"lindblad"`` preconditioner (its Sylvester solves, one group per thread; "auto":
        up to 2). The arithmetic is the same on any number of threads (identical iterates).
    max_memory_gib : float or None
        Refuse problems whose estimated memory exceeds this many GiB (before allocating anything
        large). ``None``: 75 % of the physical memory.
    n_threads : int or None or "auto"
        BLAS threads during the solve (threadpoolctl). ``"auto"``: all threads only when a block has
        at least 512 states and the 1-minute load average leaves the cores free; else 1 (small dense
        products do not profit, and on shared cores threads slow the solve down: S = 14 took 34 s on
        1 thread, 65 s on 2 with one core busy). ``None``: leave the BLAS settings alone.
    """

    rtol: float = 1e-10
    max_residual: float = 1e-9
    positivity_tol: float = 1e-8
    trace_tol: float = 1e-9
    maxiter: int = 20000
    krylov: str = "idrs"
    idrs_s: int = 8
    restart: int = 200
    max_refinements: int = 8
    direct_max_unknowns: Mapping = field(default_factory=lambda: {"Z2": 1500, "U1": 25000})
    direct_fallback_max: Mapping = field(default_factory=lambda: {"Z2": 15000, "U1": 250000})
    max_error: float = 1e-6
    gap_check: bool = True
    max_memory_gib: Any = None
    n_threads: Any = "auto"
    preconditioner: str = "auto"
    workers: Any = "auto"

    def __post_init__(self):
        if not isinstance(self.gap_check, (bool, np.bool_)):
            raise ValueError(f"expected gap_check True or False, got {self.gap_check!r}")
        mm = self.max_memory_gib
        if mm is not None and not (isinstance(mm, (int, float)) and not isinstance(mm, bool)
                                   and math.isfinite(mm) and mm > 0):
            raise ValueError(f"expected max_memory_gib None or a positive finite number, got {mm!r}")
        for name in ("rtol", "max_residual", "positivity_tol", "trace_tol", "max_error"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"expected {name} a positive finite number, got {v!r}")
        if self.preconditioner not in ("auto", "sylvester", "kron", "lindblad"):
            raise ValueError("expected preconditioner 'auto', 'sylvester', 'kron' or 'lindblad', got "
                             f"{self.preconditioner!r}")
        w = self.workers
        if not (w == "auto" or (isinstance(w, (int, np.integer)) and not isinstance(w, bool) and w > 0)):
            raise ValueError(f"expected workers 'auto' or a positive integer, got {w!r}")
        if self.krylov not in ("idrs", "bicgstab", "gmres"):
            raise ValueError(f"expected krylov 'idrs', 'bicgstab' or 'gmres', got {self.krylov!r}")
        for name in ("maxiter", "restart", "idrs_s", "max_refinements"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v > 0):
                raise ValueError(f"expected {name} a positive integer, got {v!r}")
        for name in ("direct_max_unknowns", "direct_fallback_max"):
            if set(getattr(self, name)) != {"Z2", "U1"}:
                raise ValueError(f"expected {name} with keys 'Z2' and 'U1', got {dict(getattr(self, name))!r}")
        nt = self.n_threads
        if not (nt is None or nt == "auto" or (isinstance(nt, (int, np.integer)) and nt > 0)):
            raise ValueError(f"expected n_threads None, 'auto' or a positive integer, got {nt!r}")


@dataclass(frozen=True, eq=False)
class SteadyState:
    """A validated steady state of Eq. (5) and its observables.

    Normalised magnetisations follow the paper's mean-field variables, e.g.
    ``ZA = Tr[S_z^A rho] / S``. ``XA, YA, XB, YB`` vanish identically: the steady state is unique
    and invariant under the Z2 rotation ``exp(i pi (S_z^A + S_z^B))`` that maps ``S_x, S_y`` to
    ``-S_x, -S_y`` (symmetry-broken mean-field attractors are averaged in pairs). The second moments
    ``X2A = <(S_x^A)^2> / S^2`` etc. carry the ordering instead.

    Attributes
    ----------
    S : float
    params : dict
        ``g, gamma, J, lam``.
    method : str
        ``"direct"``, ``"krylov"`` or ``"qutip"``.
    sector : str
        ``"Z2"`` or ``"U1"`` (the symmetry block the state was solved in).
    blocks : tuple of complex ndarrays ``(d_q, d_q)``
        The Hermitian symmetry blocks of ``rho``.
    index : tuple of int ndarrays ``(d_q,)``
        Basis states of ``A (x) B`` (index ``iA * (2S+1) + iB``, ``m = S - i``) of each block.
    ZA, ZB, XA, YA, XB, YB, X2A, Y2A, Z2A, X2B, Y2B, Z2B, ZAZB : float
        Normalised first and second moments; ``ZAZB = <S_z^A S_z^B> / S^2``.
    purity, purity_A, purity_B : float
        ``Tr rho^2`` and the purities of the reduced states.
    residual : float
        ``||L(rho)||_F / (||L|| ||rho||_F)``.
    trace_error, hermiticity_error, min_eigenvalue : float
        Validation evidence (``rho`` is normalised to unit trace after the solve; ``trace_error`` is
        that of the raw solution).
    status, message : str
        ``"ok"`` (validated and certified: the gap-scaled error estimate is below ``options.max_error``)
        or ``"not-trusted"`` (it passed the residual checks but its error cannot be bounded, e.g. a gap
        as small as the residual; the message says why). Invalid results raise instead.
    stats : dict
        Timings (s), sizes, iterations, fill, condition number of the preconditioner's eigenbasis, threads,
        ``error_estimate`` (relative Frobenius error of ``rho``), ``gap_estimate`` and ``certificate`` (how).
    options : SteadyStateOptions
    """

    S: float
    params: dict
    method: str
    sector: str
    blocks: tuple
    index: tuple
    ZA: float
    ZB: float
    XA: float
    YA: float
    XB: float
    YB: float
    X2A: float
    Y2A: float
    Z2A: float
    X2B: float
    Y2B: float
    Z2B: float
    ZAZB: float
    purity: float
    purity_A: float
    purity_B: float
    residual: float
    trace_error: float
    hermiticity_error: float
    min_eigenvalue: float
    status: str
    message: str
    stats: dict
    options: SteadyStateOptions

    @property
    def success(self) -> bool:
        return self.status == "ok"

    @property
    def n(self) -> int:
        """Dimension of one spin, ``2S + 1``."""
        return int(round(2 * self.S)) + 1

    @functools.cached_property
    def rho(self) -> np.ndarray:
        """The full density matrix on ``A (x) B``, dense complex ``(n^2, n^2)`` (QuTiP's tensor order)."""
        d = self.n ** 2
        out = np.zeros((d, d), dtype=complex)
        for ix, X in zip(self.index, self.blocks):
            out[np.ix_(ix, ix)] = X
        return out

    def reduced(self, spin: str) -> np.ndarray:
        """Reduced density matrix of spin ``"A"`` or ``"B"``, complex ``(n, n)`` in the basis ``m = S..-S``."""
        if spin not in ("A", "B"):
            raise ValueError(f"expected spin 'A' or 'B', got {spin!r}")
        return _reduced(self.blocks, self.index, self.n, spin)

    @property
    def rho_A(self) -> np.ndarray:
        return self.reduced("A")

    @property
    def rho_B(self) -> np.ndarray:
        return self.reduced("B")

    def qobj(self, which: str = "AB"):
        """``rho`` (``which="AB"``) or a reduced state (``"A"``, ``"B"``) as a ``qutip.Qobj``."""
        import qutip

        if which == "AB":
            return qutip.Qobj(self.rho, dims=[[self.n, self.n], [self.n, self.n]])
        return qutip.Qobj(self.reduced(which))

    def observables(self) -> dict:
        """The scalar observables as a dict (model's own names)."""
        names = ("XA", "YA", "ZA", "XB", "YB", "ZB", "X2A", "Y2A", "Z2A", "X2B", "Y2B", "Z2B", "ZAZB",
                 "purity", "purity_A", "purity_B")
        return {k: getattr(self, k) for k in names}

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: ``S``, the parameters, the observables, the evidence and the run statistics."""
        row = {"S": self.S, **self.params, **self.observables(), "residual": self.residual,
               "trace_error": self.trace_error, "hermiticity_error": self.hermiticity_error,
               "min_eigenvalue": self.min_eigenvalue, "method": self.method, "sector": self.sector,
               "status": self.status, "message": self.message,
               "time_s": self.stats.get("time_total"), "n_unknowns": self.stats.get("n_unknowns"),
               "iterations": self.stats.get("matvecs")}
        return pd.DataFrame([row])


# ---------------------------------------------------------------------------------------------
def _reduced(blocks, index, n, spin):
    out = np.zeros((n, n), dtype=complex)
    for ix, X in zip(index, blocks):
        iA, iB = np.divmod(ix, n)
        keep, other = (iA, iB) if spin == "A" else (iB, iA)
        mask = other[:, None] == other[None, :]
        r, c = np.nonzero(mask)
        np.add.at(out, (keep[r], keep[c]), X[r, c])
    return out


def _resolve_options(options) -> SteadyStateOptions:
    if options is None:
        return SteadyStateOptions()
    if isinstance(options, SteadyStateOptions):
        return options
    if isinstance(options, Mapping):
        known = {f.name for f in dataclasses.fields(SteadyStateOptions)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise KeyError(f"unknown option(s) {unknown}: expected keys among {sorted(known)}")
        return SteadyStateOptions(**options)
    raise TypeError(f"expected options a SteadyStateOptions or a mapping, got {type(options).__name__}")


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _thread_limit(n_threads, B: BlockLiouvillian):
    if n_threads is None:
        return _nullcontext()
    from threadpoolctl import threadpool_limits

    if n_threads == "auto":
        n_cpu = os.cpu_count() or 1
        busy = os.getloadavg()[0] >= n_cpu - 0.5
        if max(B.sizes) >= 512 and not busy:
            return _nullcontext()
        # measured: S = 14, J != 0 took 34 s on 1 thread and 65 s on 2 threads while another
        # process held one of the 2 cores; small blocks never profit from threads
        n_threads = 1
    return threadpool_limits(limits=int(n_threads), user_api="blas")


def _workers(opts: SteadyStateOptions) -> int:
    """Threads of the Lindbladian Kronecker preconditioner (one per group of the Sylvester solves)."""
    if opts.workers == "auto":
        return max(1, min(2, os.cpu_count() or 1))
    return int(opts.workers)


def _solve_direct(B: BlockLiouvillian, opts: SteadyStateOptions) -> tuple[list, dict]:
    t0 = time.perf_counter()
    A = B.real_matrix().tocsr()
    N = A.shape[0]
    w = float(np.abs(A.data).mean())
    # replace the first diagonal equation (implied by the others, tr L = 0) by w * tr(rho) = w
    keep = np.ones(N)
    keep[0] = 0.0
    diag_dofs = np.concatenate([np.arange(B.offsets[q], B.offsets[q] + n) for q, n in enumerate(B.sizes)])
    trace_row = sp.csr_matrix((np.full(len(diag_dofs), w), (np.zeros(len(diag_dofs), dtype=int), diag_dofs)),
                              shape=(N, N))
    A = (sp.diags(keep) @ A + trace_row).tocsc()
    b = np.zeros(N)
    b[0] = w
    t1 = time.perf_counter()
    try:
        lu = spla.splu(A, permc_spec="COLAMD")
    except RuntimeError as exc:  # exactly singular: no unique steady state
        raise SteadyStateError(f"sparse LU failed ({exc}); the steady state may not be unique",
                               {"n_unknowns": N}) from None
    x = lu.solve(b)
    t2 = time.perf_counter()
    stats = {"solver": "splu(COLAMD)", "nnz": int(A.nnz), "fill": int(lu.L.nnz + lu.U.nnz),
             "time_setup": t1 - t0, "time_solve": t2 - t1, "matvecs": 0, "_lu": (lu, A)}
    return B.unpack(x), stats


def _krylov_operator(B: BlockLiouvillian, count: list):
    """``y -> pack(L'(P y))`` with ``L'(X) = L(X) + tr(X) W`` and ``P`` the no-jump preconditioner; and ``W``."""
    d = B.dim
    wv = B.pack([np.eye(n) / d for n in B.sizes])

    def matvec(y):
        count[0] += 1
        X = B.precondition_packed(y)
        return B.pack(B.apply(X)) + B.trace(X) * wv

    return matvec, wv


def _solve_krylov(B: BlockLiouvillian, opts: SteadyStateOptions, x0=None, schur=None) -> tuple[list, dict]:
    t0 = time.perf_counter()
    prec_error, kappa = B.setup_preconditioner(schur=schur, kind=opts.preconditioner, workers=_workers(opts))
    N = B.n_unknowns
    count = [0]
    matvec, wv = _krylov_operator(B, count)

    A = spla.LinearOperator((N, N), matvec=matvec, dtype=float)
    y0 = None
    if x0 is not None:
        # right preconditioning: rho = P y, and P^{-1} = L0 is cheap
        y0 = B.unprecondition(x0)
    t1 = time.perf_counter()
    bn = float(np.linalg.norm(wv))

    def inner(rhs, rtol, maxiter):
        if opts.krylov == "idrs":
            dy, info, _, _ = idrs(matvec, rhs, s=opts.idrs_s, rtol=rtol, maxiter=maxiter)
        elif opts.krylov == "bicgstab":
            dy, info = spla.bicgstab(A, rhs, rtol=rtol, atol=0.0, maxiter=maxiter)
        else:
            dy, info = spla.gmres(A, rhs, rtol=rtol, atol=0.0, restart=opts.restart,
                                  maxiter=max(1, maxiter // opts.restart))
        return dy, info

    # Iterative refinement. A Krylov method's recursive residual drifts from the true one by about
    # eps * ||A|| * max ||iterate||, which is large when slow Liouvillian modes make the system
    # ill-conditioned (J = 0, lam = 0.7, S = 24: true 2e-6 for a recursive 1e-10). Each pass solves
    # for the correction, from zero, against the true residual, so the drift shrinks with it.
    y = np.zeros(N) if y0 is None else y0.copy()
    r = wv - matvec(y) if y0 is not None else wv.copy()
    info, n_passes = 1, 0
    history = []
    while True:
        rn = float(np.linalg.norm(r))
        history.append(rn / bn)
        if rn <= opts.rtol * bn:
            info = 0
            break
        stagnating = len(history) >= 3 and history[-1] > 0.5 * history[-2]
        if stagnating and rn <= 100 * opts.rtol * bn:
            # at the rounding floor of the preconditioned operator (about cond(V)^2 eps); the
            # validation below checks the state against the true Liouvillian anyway
            info = 0
            break
        if n_passes >= opts.max_refinements or count[0] >= opts.maxiter:
            info = 1
            break
        n_passes += 1
        dy, inner_info = inner(r, max(opts.rtol * bn / rn, 1e-13), max(1, opts.maxiter - count[0]))
        if not np.all(np.isfinite(dy)):
            info = -3
            break
        y = y + dy
        r = wv - matvec(y)
        if inner_info < 0 and float(np.linalg.norm(r)) > rn:  # breakdown without progress
            info = int(inner_info)
            break
    solver = f"{opts.krylov} x{n_passes}"
    t2 = time.perf_counter()
    stats = {"solver": solver, "matvecs": count[0], "refinement_passes": n_passes,
             "residual_history": history, "cond_eigvecs": kappa, "preconditioner_error": prec_error,
             "krylov_info": int(info), "time_setup": t1 - t0, "time_solve": t2 - t1,
             "preconditioner": dict(B._prec_info)}
    if info != 0:
        raise SteadyStateError(f"Krylov solver did not converge (info={info}, relative residual {history[-1]:.2e} "
                               f"after {count[0]} products, {n_passes} refinement passes)", stats)
    return B.precondition_packed(y), stats


def _solve_qutip(B: BlockLiouvillian, S: float, p: dict) -> tuple[list, dict]:
    import qutip

    from .lmg_dimer import qutip_model

    t0 = time.perf_counter()
    H, c_ops = qutip_model(S, p)
    rho = qutip.steadystate(H, c_ops).full()
    t1 = time.perf_counter()
    blocks = [rho[np.ix_(ix, ix)].copy() for ix in B.index]
    rest = rho.copy()
    for ix in B.index:
        rest[np.ix_(ix, ix)] = 0.0
    return blocks, {"solver": "qutip.steadystate", "time_solve": t1 - t0, "time_setup": 0.0, "matvecs": 0,
                    "off_block_max": float(np.abs(rest).max())}


def _moments(B: BlockLiouvillian, blocks, S):
    n = int(round(2 * S)) + 1
    mA, mB = magnetisation_quantum_numbers(S)
    s = spin_operators(S)
    sx2 = (s.x @ s.x).tocsr()
    eye = sp.identity(n, format="csr")
    XA2 = sp.kron(sx2, eye, format="csr")
    XB2 = sp.kron(eye, sx2, format="csr")
    out = dict.fromkeys(["ZA", "ZB", "Z2A", "Z2B", "ZAZB", "X2A", "X2B", "purity"], 0.0)
    for ix, X in zip(B.index, blocks):
        p = X.diagonal().real
        out["ZA"] += p @ mA[ix]
        out["ZB"] += p @ mB[ix]
        out["Z2A"] += p @ mA[ix] ** 2
        out["Z2B"] += p @ mB[ix] ** 2
        out["ZAZB"] += p @ (mA[ix] * mB[ix])
        out["X2A"] += XA2[ix][:, ix].multiply(X.T).sum().real
        out["X2B"] += XB2[ix][:, ix].multiply(X.T).sum().real
        out["purity"] += float(np.vdot(X, X).real)
    ss1 = S * (S + 1)
    res = {"ZA": out["ZA"] / S, "ZB": out["ZB"] / S, "Z2A": out["Z2A"] / S ** 2, "Z2B": out["Z2B"] / S ** 2,
           "X2A": out["X2A"] / S ** 2, "X2B": out["X2B"] / S ** 2, "ZAZB": out["ZAZB"] / S ** 2,
           "purity": out["purity"]}
    res["Y2A"] = (ss1 - out["Z2A"] - out["X2A"]) / S ** 2
    res["Y2B"] = (ss1 - out["Z2B"] - out["X2B"]) / S ** 2
    rA = _reduced(blocks, B.index, n, "A")
    rB = _reduced(blocks, B.index, n, "B")
    res["purity_A"] = float(np.vdot(rA, rA).real)
    res["purity_B"] = float(np.vdot(rB, rB).real)
    res.update(XA=0.0, YA=0.0, XB=0.0, YB=0.0)
    return {k: float(v) for k, v in res.items()}


def _validate(B: BlockLiouvillian, blocks, opts: SteadyStateOptions) -> dict:
    """Evidence that ``blocks`` is a steady state; raises :class:`SteadyStateError` otherwise."""
    finite = all(np.all(np.isfinite(X)) for X in blocks)
    if not finite:
        raise SteadyStateError("steady state contains NaN or inf", {"finite": False})
    tr = B.trace(blocks)
    LX = B.apply(blocks)
    num = math.sqrt(sum(float(np.vdot(Y, Y).real) for Y in LX))
    nrm = math.sqrt(sum(float(np.vdot(X, X).real) for X in blocks))
    residual = num / (B.scale() * nrm) if nrm > 0 else math.inf
    herm = max(float(np.abs(X - X.conj().T).max()) for X in blocks)
    mineig = min(float(np.linalg.eigvalsh(0.5 * (X + X.conj().T))[0]) for X in blocks)
    ev = {"residual": residual, "trace": tr, "hermiticity_error": herm, "min_eigenvalue": mineig}
    problems = []
    if not residual <= opts.max_residual:
        problems.append(f"residual {residual:.3e} > {opts.max_residual:.1e}")
    if not abs(tr - 1.0) <= opts.trace_tol:
        problems.append(f"|tr rho - 1| = {abs(tr - 1):.3e} > {opts.trace_tol:.1e}")
    if not herm <= 1e-12:
        problems.append(f"Hermiticity error {herm:.3e}")
    if not mineig >= -opts.positivity_tol:
        problems.append(f"smallest eigenvalue {mineig:.3e} < -{opts.positivity_tol:.1e}")
    if problems:
        raise SteadyStateError("steady state failed validation: " + "; ".join(problems), ev)
    return ev


# ---------------------------------------------------------------------------------------------
# memory estimates (before anything large is allocated) and the gap-scaled certification

#: bytes per real unknown of the Krylov path: IDR(s) keeps about 3 s + 12 real vectors; the blocks are
#: held as complex matrices a few times over (iterate, L(X), preconditioner eigenvectors and inverse)
def _bytes_per_unknown_krylov(opts: SteadyStateOptions) -> float:
    # + 128: the Lindbladian preconditioner's sparse basis change (twice, about 3 entries per row) and its
    # real work arrays (measured peak RSS 1.5 GB at S = 24, 2 882 401 unknowns)
    return 8.0 * (3 * opts.idrs_s + 12) + 16.0 * 6 + 128.0


def memory_estimate(n_unknowns: int, method: str, *, u1: bool, opts: SteadyStateOptions | None = None) -> float:
    """Estimated peak memory in bytes of a steady-state solve with ``n_unknowns`` real unknowns.

    ``"krylov"``: ``(8 (3 s + 12) + 224)`` bytes per unknown (IDR(s) vectors, dense complex blocks and the
    Lindbladian preconditioner's basis change).
    ``"direct"``: the LU fill, 12 bytes per entry (value and index), measured here with COLAMD as about
    ``c N^1.5`` entries, ``c`` = 10-23 for the 4-D Z2 stencil (S = 2..4, growing towards dense) and 3.4-4.5
    for the 3-D U(1) blocks (S = 8..16); we take ``c = 30`` and ``6``, capped at ``N^2``.
    ``"qutip"``: a sparse LU of the full complex Liouvillian, counted as twice the direct estimate.
    """
    opts = opts or SteadyStateOptions()
    N = float(n_unknowns)
    krylov = N * _bytes_per_unknown_krylov(opts)
    if method == "krylov":
        return krylov
    fill = min(N * N, (6.0 if u1 else 30.0) * N ** 1.5)
    direct = 12.0 * fill + 20.0 * N
    return 2 * direct if method == "qutip" else direct


def memory_limit(opts: SteadyStateOptions) -> float:
    """The memory limit in bytes: ``opts.max_memory_gib`` or 75 % of the physical memory."""
    if opts.max_memory_gib is not None:
        return float(opts.max_memory_gib) * 2 ** 30
    try:
        return 0.75 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover (non-POSIX)
        return 8.0 * 2 ** 30


def _gib(x: float) -> str:
    for unit, f in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if x >= f:
            return f"{x / f:.3g} {unit}"
    return f"{x / 1024:.3g} KiB"


def check_memory(n_unknowns: int, method: str, *, u1: bool, opts: SteadyStateOptions, what: str) -> float:
    """Raise :class:`QuantumSizeError` when the estimate exceeds the limit; return the estimate (bytes)."""
    est = memory_estimate(n_unknowns, method, u1=u1, opts=opts)
    lim = memory_limit(opts)
    if est > lim:
        raise QuantumSizeError(
            f"{what}: the {method} steady-state solve needs about {_gib(est)} ({int(n_unknowns)} real unknowns), "
            f"more than the limit of {_gib(lim)} (options max_memory_gib); use a smaller S or cutoff, or raise "
            "the limit")
    return est


def _inverse_norm_direct(lu_A) -> tuple[float, str]:
    lu, A = lu_A
    N = A.shape[0]
    op = spla.LinearOperator((N, N), matvec=lu.solve, rmatvec=lambda b: lu.solve(b, trans="T"), dtype=float)
    return float(spla.onenormest(op)), "1-norm"


def _inverse_norm_krylov(B: BlockLiouvillian, opts: SteadyStateOptions, budget: int) -> tuple[float, bool, int]:
    """Two steps of inverse iteration on the trace-augmented Liouvillian with loose (0.1) Krylov solves.

    Returns ``(10 ||L'^{-1} v|| for the second iterate v, both solves converged, products used)``.
    ``||L'^{-1} v||`` is a lower estimate of ``||L'^{-1}||_2``; measured against converged inverse
    iteration (S = 4..16, five points incl. gamma = 1e-4) it was low by factors 1.6-6.1 (at solve
    tolerance 1e-2: 1.0-1.5, for about twice the products), hence the safety factor 10: the estimate is
    for order-of-magnitude certification, not a bound.
    """
    if B._prec is None:
        B.setup_preconditioner(kind=opts.preconditioner, workers=_workers(opts))
    count = [0]
    matvec, _ = _krylov_operator(B, count)
    rng = np.random.default_rng(20240611)
    v = rng.normal(size=B.n_unknowns)
    v /= np.linalg.norm(v)
    est, ok = 0.0, True
    for _ in range(2):
        u, info, _, _ = idrs(matvec, v, s=opts.idrs_s, rtol=0.1, maxiter=max(1, budget - count[0]))
        z = B.pack(B.precondition_packed(u))
        est = float(np.linalg.norm(z))
        ok = ok and info == 0
        if not (np.isfinite(est) and est > 0):
            return math.inf, False, count[0]
        v = z / est
    return 10.0 * est, ok, count[0]


def _certify(B: BlockLiouvillian, blocks, opts: SteadyStateOptions, lu_A=None) -> tuple[dict, list]:
    """Gap-scaled error estimate of a normalised steady state; returns ``(evidence, reasons not trusted)``."""
    x = B.pack(blocks)
    r = B.pack(B.apply(blocks))
    xn = float(np.linalg.norm(x))
    r_abs = float(np.linalg.norm(r)) / xn
    diss = B.dissipation_scale()
    ev = {"residual_abs": r_abs, "dissipation_scale": diss, "gap_estimate": math.nan, "error_estimate": math.nan,
          "certificate": "none"}
    reasons = []
    if not diss > 0:
        reasons.append("no dissipation (every jump rate is 0): the steady state is not unique")
        return ev, reasons
    # every Liouvillian eigenvalue has |Re mu| <= 2 ||K||, so the gap cannot exceed it: a residual that is
    # not small against 2 ||K|| cannot certify the state, whatever the gap (the gamma = 1e-8 failure)
    screen = r_abs / (2 * diss)
    ev["error_estimate"] = screen
    ev["certificate"] = "dissipation bound"
    if screen > opts.max_error:
        reasons.append(f"the residual ||L(rho)|| / ||rho|| = {r_abs:.2e} is not small against the largest possible "
                       f"gap 2||K|| = {2 * diss:.2e}: the error may reach {screen:.1e} "
                       f"(> max_error {opts.max_error:.0e})")
        return ev, reasons
    if not opts.gap_check:
        return ev, reasons
    t0 = time.perf_counter()
    if lu_A is not None:
        inv, norm = _inverse_norm_direct(lu_A)
        err = inv * float(np.abs(r).sum()) / float(np.abs(x).sum())
        ok, n_mv = True, 0
        ev["certificate"] = "LU 1-norm estimate of ||L^-1||"
    else:
        budget = min(opts.maxiter, 4000)
        inv, ok, n_mv = _inverse_norm_krylov(B, opts, budget)
        err = inv * r_abs
        ev["certificate"] = "inverse iteration (2 loose Krylov solves, x10) for ||L^-1||"
    ev.update(gap_estimate=1.0 / inv if inv > 0 else math.inf, error_estimate=max(err, screen),
              gap_matvecs=n_mv, time_certify=time.perf_counter() - t0)
    if not ok:
        reasons.append(f"the gap estimate did not converge in {n_mv} products (the Liouvillian gap is probably "
                       f"tiny, estimated <= {1 / inv:.1e}); the error cannot be bounded")
    elif err > opts.max_error:
        reasons.append(f"estimated error {err:.1e} > max_error {opts.max_error:.0e}: the Liouvillian gap "
                       f"(~{1 / inv:.1e}) is small against the residual {r_abs:.1e}")
    return ev, reasons


def closed_sectors(B: BlockLiouvillian) -> list[list[int]]:
    """Groups of symmetry blocks that the jumps never leave (the closed classes of the block graph).

    ``L`` maps block ``p`` into itself (``H``, ``K``) and into the blocks ``q`` its jumps reach, so the
    trace of a closed group is conserved and each group holds at least one steady state: more than one
    closed group means the steady state is not unique.
    """
    from scipy.sparse.csgraph import connected_components

    nb = len(B.sizes)
    if nb == 1:
        return [[0]]
    edges = [(p, q) for q, p, _ in B.jumps if p != q]
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    G = sp.csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(nb, nb))
    n_comp, comp = connected_components(G, directed=True, connection="strong")
    leaves = np.ones(n_comp, dtype=bool)
    for p, q in edges:
        if comp[p] != comp[q]:
            leaves[comp[p]] = False
    return [np.flatnonzero(comp == c).tolist() for c in range(n_comp) if leaves[c]]


def solve_blocks(B: BlockLiouvillian, method: str, opts: SteadyStateOptions, *, x0_blocks=None,
                 qutip_solve=None, what: str = "steady_state", size_class: str | None = None) -> dict:
    """Solve, normalise, validate and certify the steady state of a blocked Liouvillian.

    ``method="auto"`` takes the sparse LU up to ``opts.direct_max_unknowns`` unknowns and Krylov beyond,
    falling back to the LU (where affordable) when Krylov fails or cannot be certified. Hard failures
    (NaN, residual, trace, positivity) raise :class:`SteadyStateError`; a state that passes them but whose
    gap-scaled error estimate exceeds ``opts.max_error`` comes back with ``status="not-trusted"`` and the
    reasons. ``size_class`` (``"U1"`` or ``"Z2"``) picks the size thresholds of the options (default: from
    the sector; ``"U1"`` suits any problem whose LU fill is that of a 3-D or lower stencil). Returns a dict:
    ``blocks, stats, method, evidence, status, reasons, raw_trace``.
    """
    key = size_class or ("U1" if "U1" in B.sector else "Z2")
    N = B.n_unknowns
    sinks = closed_sectors(B)
    if len(sinks) > 1:
        raise ValueError(f"{what}: the steady state is not unique: the jumps never leave any of the {len(sinks)} "
                         f"groups of symmetry blocks {sinks[:4]}{' ...' if len(sinks) > 4 else ''} (block sizes "
                         f"{B.sizes[:8]}), so each holds its own steady state (a strong symmetry)")
    auto = method == "auto"
    if auto:
        method = "direct" if N <= opts.direct_max_unknowns[key] else "krylov"
    stats_mem = check_memory(N, method, u1=key == "U1", opts=opts, what=what)

    def attempt(m):
        if m == "direct":
            return _solve_direct(B, opts)
        if m == "krylov":
            try:
                return _solve_krylov(B, opts, x0_blocks)
            except SteadyStateError as exc:
                if B._prec is None or B._prec[0][0] == "schur":
                    raise
                if B._prec[0][0] in ("kron", "lindblad"):
                    # a Kronecker preconditioner failed: retry with the exact no-jump inverse per block
                    blocks, stats = _solve_krylov(B, dataclasses.replace(opts, preconditioner="sylvester"),
                                                  x0_blocks)
                    stats["retry_from"] = str(exc)
                    return blocks, stats
                # the eigenvector preconditioner near exceptional points of H_eff: retry with the
                # unitary Schur form (measured: the BTC at S = 32, omega = 0.8 kappa stagnated at 1e-7
                # with eigenvectors and converged in 259 products with Schur)
                blocks, stats = _solve_krylov(B, opts, x0_blocks, schur=True)
                stats["retry_from"] = str(exc)
                return blocks, stats
        return qutip_solve()

    def finish(blocks, stats):
        raw_trace = B.trace(blocks)
        if not (math.isfinite(raw_trace) and raw_trace != 0):
            raise SteadyStateError(f"solution has trace {raw_trace!r}", stats)
        blocks = [X / raw_trace for X in blocks]
        t_val = time.perf_counter()
        ev = _validate(B, blocks, opts)
        cert, reasons = _certify(B, blocks, opts, stats.pop("_lu", None))
        ev.update(cert)
        stats["time_validate"] = time.perf_counter() - t_val
        return blocks, raw_trace, ev, reasons

    fallback_ok = auto and method == "krylov" and N <= opts.direct_fallback_max[key]
    with _thread_limit(opts.n_threads, B):
        try:
            blocks, stats = attempt(method)
            blocks, raw_trace, ev, reasons = finish(blocks, stats)
        except SteadyStateError as exc:
            # "auto" falls back to the exact LU where it is affordable (the 3-D U(1) block)
            if not fallback_ok:
                raise
            blocks, stats = _solve_direct(B, opts)
            stats["fallback_from"] = str(exc)
            method = "direct"
            blocks, raw_trace, ev, reasons = finish(blocks, stats)
        if reasons and fallback_ok and method == "krylov":
            # a Krylov answer that cannot be certified (small gap): the LU is a second, independent method
            check_memory(N, "direct", u1=key == "U1", opts=opts, what=what)
            krylov_reasons = list(reasons)
            blocks, stats2 = _solve_direct(B, opts)
            stats2["fallback_from"] = "krylov not trusted: " + "; ".join(krylov_reasons)
            stats2["krylov_stats"] = stats
            stats = stats2
            method = "direct"
            blocks, raw_trace, ev, reasons = finish(blocks, stats)
    stats.pop("_lu", None)
    stats["memory_estimate_bytes"] = stats_mem
    return {"blocks": blocks, "stats": stats, "method": method, "evidence": ev,
            "status": "not-trusted" if reasons else "ok", "reasons": reasons, "raw_trace": raw_trace}


def _blocks_from_rho(B: BlockLiouvillian, rho) -> list:
    rho = np.asarray(rho.full() if hasattr(rho, "full") else rho, dtype=complex)
    if rho.shape != (B.dim, B.dim):
        raise ValueError(f"expected x0 of shape {(B.dim, B.dim)}, got {rho.shape}")
    return [rho[np.ix_(ix, ix)] for ix in B.index]


def steady_state(S, params: Mapping | None = None, method: str = "auto", *, sector: str = "auto",
                 options: SteadyStateOptions | Mapping | None = None, x0=None) -> SteadyState:
    """Unique steady state of the master equation (5), solved in its symmetry block and validated.

    Parameters
    ----------
    S : int, float or Fraction
        Spin length (positive integer or half-integer); each spin has ``2S + 1`` levels.
    params : dict, optional
        ``g, gamma, J, lam`` (defaults ``1, 0.5, 0, 0``); unknown keys raise ``KeyError``.
        ``gamma`` must be positive (at ``gamma = 0`` the steady state is not unique).
    method : {"auto", "direct", "krylov", "qutip"}
        ``"auto"``: sparse LU when the block has at most ``options.direct_max_unknowns[sector]``
        real unknowns, else Krylov.
    sector : {"auto", "Z2", "U1"}
        ``"auto"``: ``"U1"`` at ``J = 0``, else ``"Z2"``. ``"U1"`` requires ``J = 0``.
    options : SteadyStateOptions or dict, optional
    x0 : SteadyState or array ``(n^2, n^2)``, optional
        Initial guess for the Krylov solver (e.g. the neighbour in a sweep).

    Returns
    -------
    SteadyState

    Raises
    ------
    ValueError, KeyError
        Bad ``S``, parameters, method or sector.
    SteadyStateError
        The solver failed or the result failed validation (the evidence is attached).

    Examples
    --------
    >>> r = steady_state(2, {"J": 1.5, "lam": 0.5})
    >>> r.method, r.sector, round(r.ZB, 4)
    ('direct', 'Z2', 0.3711)
    """
    t_start = time.perf_counter()
    S = validate_spin(S)
    p = validate_params(params)
    if p["gamma"] <= 0:
        raise ValueError(f"expected gamma > 0, got {p['gamma']!r}: at gamma = 0 there is no dissipation and the "
                         "steady state is not unique (every state diagonal in the eigenbasis of H is stationary)")
    if method not in METHODS:
        raise ValueError(f"expected method one of {METHODS}, got {method!r}")
    if sector not in ("auto", "Z2", "U1"):
        raise ValueError(f"expected sector 'auto', 'Z2' or 'U1', got {sector!r}")
    opts = _resolve_options(options)
    if sector == "auto":
        sector = "U1" if p["J"] == 0.0 else "Z2"
    n = int(round(2 * S)) + 1
    if sector == "Z2":
        n_unknowns = (n ** 4 + 1) // 2
    else:  # the U(1) blocks hold the states of fixed M: sizes 1, 2, ..., n, ..., 2, 1
        sizes = np.minimum(np.arange(1, 2 * n), np.arange(2 * n - 1, 0, -1))
        n_unknowns = int((sizes.astype(float) ** 2).sum())
    pre = "direct" if method == "auto" and n_unknowns <= opts.direct_max_unknowns[sector] else method
    check_memory(n_unknowns, "krylov" if pre == "auto" else pre, u1=sector == "U1", opts=opts,
                 what=f"steady_state(S={S:g})")
    B = BlockLiouvillian.build(S, p, sector)
    x0_blocks = None
    if x0 is not None:
        x0_blocks = _blocks_from_rho(B, x0.rho if isinstance(x0, SteadyState) else x0)
    out = solve_blocks(B, method, opts, x0_blocks=x0_blocks, qutip_solve=lambda: _solve_qutip(B, S, p),
                       what=f"steady_state(S={S:g})")
    blocks, stats, method, ev = out["blocks"], out["stats"], out["method"], out["evidence"]
    obs = _moments(B, blocks, S)
    t_end = time.perf_counter()
    stats.update({"n_unknowns": B.n_unknowns, "dim": B.dim, "block_sizes": B.sizes, "sector": sector,
                  "time_total": t_end - t_start, "n_threads": opts.n_threads,
                  "error_estimate": ev["error_estimate"], "gap_estimate": ev["gap_estimate"],
                  "certificate": ev["certificate"], "gap_matvecs": ev.get("gap_matvecs", 0)})
    msg = (f"{method}/{sector}: residual {ev['residual']:.1e}, estimated error {ev['error_estimate']:.1e}, "
           f"min eigenvalue {ev['min_eigenvalue']:.1e}, {B.n_unknowns} unknowns, {stats['time_total']:.2f} s")
    if out["reasons"]:
        msg = "not trusted: " + "; ".join(out["reasons"]) + " [" + msg + "]"
    return SteadyState(S=S, params=p, method=method, sector=sector, blocks=tuple(blocks),
                       index=tuple(B.index), **obs, residual=ev["residual"],
                       trace_error=abs(out["raw_trace"] - 1.0),
                       hermiticity_error=ev["hermiticity_error"], min_eigenvalue=ev["min_eigenvalue"],
                       status=out["status"], message=msg, stats=stats, options=opts)
