"""Symmetry-reduced Liouvillian of Eq. (5): block structure, real Hermitian packing, matvec, preconditioner.

The steady state of Eq. (5) is block diagonal in a label ``q`` of the basis states of ``A (x) B``:

* ``sector="Z2"``: ``q = (M + 2S) mod 2`` with ``M = m_A + m_B`` (two blocks, any ``J``);
* ``sector="U1"``: ``q = M + 2S`` (``4S + 1`` blocks, only valid at ``J = 0``).

The Hamiltonian is block diagonal in ``q``; each jump maps block ``p`` into one block ``q``;
``K = sum_k c_k^+ c_k`` is diagonal. On the blocks ``X_q`` of ``rho`` the Liouvillian reads ::

    L(X)_q = -i (H_q X_q - X_q H_q) - (K_q X_q + X_q K_q) / 2 + sum_{k, p -> q} c_{k,qp} X_p c_{k,qp}^+

Real packing
------------
A Hermitian ``n x n`` block is stored as ``n^2`` reals: the diagonal, then ``sqrt(2) Re X_ij`` and
``sqrt(2) Im X_ij`` for ``i < j`` (row-major upper triangle). The map is an isometry between the
Frobenius inner product ``Re tr(A^+ B)`` and the Euclidean one, so Krylov methods see the same
geometry as in the complex formulation with half the numbers, and Hermiticity holds by construction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.linalg.blas import zher2k as _zher2k
from scipy.linalg.blas import ztrmm as _ztrmm
from scipy.linalg.lapack import ztrsyl as _ztrsyl

from ._sylvester import complex_times_real_t as _complex_times_real_t
from ._sylvester import quasi_triangular_sylvester as _quasi_triangular_sylvester
from ._sylvester import real_times_complex as _real_times_complex
from .lmg_dimer import hamiltonian, jump_operators, magnetisation_quantum_numbers, validate_params
from .operators import validate_spin

SQRT2 = math.sqrt(2.0)

#: ``kind="auto"`` leaves the ``"lindblad"`` preconditioner for the exact no-jump inverse (the eigenvector path)
#: where the coupling it neglects is stronger than this fraction of the jumps' recycling term that the no-jump
#: inverse neglects (:meth:`BlockLiouvillian.lindblad_plan`'s ``coupling``; lam / (2 gamma) for the dimer), at every
#: size (the "kron" path, which neglects the coupling too, is not taken there either). Measured at S = 8 (products,
#: "lindblad" against "sylvester"): coupling 0.3: 58 / 107; 0.45: 85 / 166; 0.6: 166 / 195 and 201 / 212 (wall
#: 4.1 / 3.5 s); 0.8: 374 / 222; 1.0: 951 / 229, 2100 / 267 (29 s / 4.8 s) and a failed attempt (187 s) / 364
#: (5.1 s); S = 12, (-1.1, 1.0): not finished in 400 s / 30.5 s. Off the calibration (S = 8, other gamma and g):
#: (1.5, 0.6, gamma 0.25), coupling 1.2: "lindblad" failed after 190 s, "auto" 1.5 s; (1.5, 1.0, gamma 1.5), coupling
#: 1/3: "auto" keeps "lindblad", 83 products against 188; (-0.8, 0.9, gamma 0.3, g 0.7), coupling 1.5: 170 s against
#: 2.0 s. Beyond S = 12 (where "kron" is 10x cheaper per product than the eigenvector path; "auto" used to take
#: "lindblad" there): S = 14, (-1.5, 1.0): "lindblad" not finished after 420 s, the eigenvector path 61 s (488 + 60
#: products); S = 16: 164 s (668 + 78), one thread; S = 20: 474 s, S = 24: 1765 s (1429 + 94 products), two threads.
LINDBLAD_MAX_COUPLING = 0.5


def _triu(n: int):
    return np.triu_indices(n, k=1)


def _ct(A: np.ndarray) -> np.ndarray:
    """``A^+`` as a new C-contiguous array (a contiguous copy first: 5x faster than reading ``A.conj().T``
    strided in the next operation, measured at n = 545)."""
    Z = np.ascontiguousarray(A.T)
    if np.shares_memory(Z, A):  # A was Fortran-ordered: A.T is already contiguous, copy it
        return np.conj(Z)
    np.conj(Z, out=Z)
    return Z


@dataclass(eq=False)
class BlockLiouvillian:
    """The Liouvillian of Eq. (5) restricted to the symmetry blocks holding the steady state.

    Attributes
    ----------
    S : float
    params : dict
    sector : {"Z2", "U1"}
    index : list of int arrays
        Basis states (indices into ``A (x) B``) of each block; ``sizes[q] = len(index[q])``.
    H : list of csr (d_q, d_q)
    k : list of float arrays (d_q,)
        Diagonal of ``K = sum c^+ c`` per block.
    jumps : list of (q, p, csr (d_q, d_p))
        Block ``c_{qp}`` of each jump operator (mapping block ``p`` into block ``q``).
    K : list of csr (d_q, d_q) or None
        The blocks of ``K`` when it is not diagonal in the basis (general jump operators); ``k`` then
        holds its diagonal only. ``None`` when ``K`` is diagonal (spin ladders, boson annihilators).
    """

    S: float
    params: dict
    sector: str
    index: list
    H: list
    k: list
    jumps: list
    K: list | None = None
    #: levels of the two tensor factors of the basis (``index`` holds ``i1 * dims[1] + i2``), or None;
    #: with ``heff`` (the full sparse ``H - i K / 2``) it enables the Kronecker preconditioner
    dims: tuple | None = None
    heff: sp.csr_matrix | None = None
    #: the full sparse jump operators (with ``dims``): the Lindbladian Kronecker preconditioner needs
    #: their one-factor form
    c_full: list | None = None
    offsets: np.ndarray = field(init=False)
    _cache: dict = field(init=False, default_factory=dict)
    _prec: list | None = field(init=False, default=None)
    _prec_info: dict = field(init=False, default_factory=dict)

    def __post_init__(self):
        self.offsets = np.concatenate([[0], np.cumsum([len(i) ** 2 for i in self.index])])

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, S, params=None, sector: str = "Z2") -> "BlockLiouvillian":
        """The hand-built LMG dimer of Eq. (5) in its ``"Z2"`` (any ``J``) or ``"U1"`` (``J = 0``) blocks."""
        S = validate_spin(S)
        p = validate_params(params)
        if sector not in ("Z2", "U1"):
            raise ValueError(f"expected sector 'Z2' or 'U1', got {sector!r}")
        if sector == "U1" and p["J"] != 0.0:
            raise ValueError(f"expected J = 0 for the U(1) sector, got J={p['J']!r}")
        mA, mB = magnetisation_quantum_numbers(S)
        Mi = np.rint(mA + mB + 2 * S).astype(np.int64)  # 0 .. 4S
        label = Mi % 2 if sector == "Z2" else Mi
        n = int(round(2 * S)) + 1
        return cls.from_operators(hamiltonian(S, p), jump_operators(S, p), label, sector, S=S, params=p,
                                  dims=(n, n))

    @classmethod
    def from_operators(cls, H, c_ops, label, sector: str, *, S=None, params=None, dims=None) -> "BlockLiouvillian":
        """Block the Liouvillian of ``(H, c_ops)`` by the integer ``label`` of each basis state.

        ``label`` (shape ``(d,)``) must come from a weak symmetry: ``H`` block diagonal and each jump
        mapping every block into a single block. Both are checked here (``AssertionError`` otherwise),
        so a wrongly detected symmetry cannot give a wrong steady state. Blocks are ordered by label.
        """
        label = np.asarray(label)
        labels = np.unique(label)
        index = [np.flatnonzero(label == q) for q in labels]
        index = [ix for ix in index if len(ix)]
        d = len(label)
        qof = np.empty(d, dtype=np.int64)
        for q, ix in enumerate(index):
            qof[ix] = q
        H = sp.csr_matrix(H)
        cs = [sp.csr_matrix(c) for c in c_ops]
        Ksum = sp.csr_matrix((d, d), dtype=complex)
        for c in cs:
            Ksum = Ksum + (c.conj().T @ c)
        Ksum = sp.csr_matrix(Ksum)
        Ksum.eliminate_zeros()
        kdiag = np.asarray(Ksum.diagonal()).real
        koff = Ksum - sp.diags(Ksum.diagonal())
        koff.eliminate_zeros()
        Hb = []
        for ix in index:
            Hb.append(H[ix][:, ix].tocsr())
        # the Hamiltonian must not couple blocks (else the symmetry assumption is wrong)
        off = H.tocoo()
        if np.any(qof[off.row] != qof[off.col]):
            raise AssertionError("Hamiltonian couples symmetry blocks")
        jumps = []
        for c in cs:
            cc = c.tocoo()
            for p_blk, ix in enumerate(index):
                cols_in = np.isin(cc.col, ix)
                if not cols_in.any():
                    continue
                targets = np.unique(qof[cc.row[cols_in]])
                if len(targets) > 1:
                    raise AssertionError("a jump operator maps one symmetry block into several")
                for q_blk in targets:
                    sub = c[index[q_blk]][:, ix].tocsr()
                    sub.eliminate_zeros()
                    if sub.nnz:
                        jumps.append((int(q_blk), int(p_blk), sub))
        kb = [kdiag[ix] for ix in index]
        Kb = None
        if koff.nnz:
            Kb = [Ksum[ix][:, ix].tocsr() for ix in index]
        heff = None
        c_full = None
        if dims is not None and len(dims) == 2 and int(dims[0]) * int(dims[1]) == d:
            dims = (int(dims[0]), int(dims[1]))
            heff = sp.csr_matrix(H.astype(complex) - 0.5j * Ksum)
            c_full = cs
        else:
            dims = None
        return cls(S, params, sector, index, Hb, kb, jumps, Kb, dims, heff, c_full)

    # ------------------------------------------------------------------ sizes
    @property
    def sizes(self) -> list[int]:
        return [len(i) for i in self.index]

    @property
    def n_unknowns(self) -> int:
        return int(self.offsets[-1])

    @property
    def dim(self) -> int:
        return int(sum(self.sizes))

    def scale(self) -> float:
        """Upper bound of the Liouvillian's norm: ``2 ||H||_1 + 2 sum ||c||^2`` (rate units)."""
        h = max((abs(Hq).sum(axis=1).max() if Hq.nnz else 0.0) for Hq in self.H)
        return float(2 * h + 2 * self.dissipation_scale()) or 1.0

    def dissipation_scale(self) -> float:
        """``||K||`` (``K = sum c^+ c``, its largest eigenvalue): the rate scale of the dissipation."""
        if self.K is None:
            return float(max((kq.max() if len(kq) else 0.0) for kq in self.k))
        return float(max((abs(Kq).sum(axis=1).max() if Kq.nnz else 0.0) for Kq in self.K))

    # ------------------------------------------------------------------ packing
    def _tri(self, n):
        t = self._cache.get(n)
        if t is None:
            t = self._cache[n] = _triu(n)
        return t

    def pack(self, blocks) -> np.ndarray:
        """Hermitian blocks -> real vector of length ``n_unknowns`` (reads the upper triangle)."""
        out = np.empty(self.n_unknowns)
        for q, X in enumerate(blocks):
            n = X.shape[0]
            o = self.offsets[q]
            iu, ju = self._tri(n)
            m = len(iu)
            out[o:o + n] = X.diagonal().real
            u = X[iu, ju]
            out[o + n:o + n + m] = SQRT2 * u.real
            out[o + n + m:o + n + 2 * m] = SQRT2 * u.imag
        return out

    def unpack(self, x) -> list[np.ndarray]:
        """Real vector -> list of Hermitian complex blocks."""
        blocks = []
        for q, n in enumerate(self.sizes):
            o = self.offsets[q]
            iu, ju = self._tri(n)
            m = len(iu)
            X = np.zeros((n, n), dtype=complex)
            u = (x[o + n:o + n + m] + 1j * x[o + n + m:o + n + 2 * m]) / SQRT2
            X[iu, ju] = u
            X[ju, iu] = u.conj()
            X[np.arange(n), np.arange(n)] = x[o:o + n]
            blocks.append(X)
        return blocks

    # ------------------------------------------------------------------ action
    def apply(self, blocks) -> list[np.ndarray]:
        """``L(X)`` blockwise (dense complex blocks in, dense complex blocks out)."""
        cache = self._apply_cache()
        out = []
        for q, X in enumerate(blocks):
            HX = self.H[q] @ X
            Y = _ct(HX)
            np.subtract(HX, Y, out=Y)
            Y *= -1j
            if self.K is None:
                Y += cache["K"][q] * X
            else:
                KX = self.K[q] @ X
                Y -= 0.5 * (KX + KX.conj().T)
            out.append(Y)
        # a jump block with at most one entry per row and per column (a shift of m or n) makes
        # c X c^+ a scaled gather, cheaper than two sparse products; general blocks use the products
        # (gathers with take, weights a = 0 on the rows the jump does not reach; no fancy scatter)
        for q, p, idx, a in cache["jumps"]:
            G = blocks[p].take(idx, axis=0).take(idx, axis=1)
            G *= a[:, None]
            G *= a.conj()[None, :]
            out[q] += G
        for q, p, c in cache["general"]:
            cX = c @ blocks[p]
            out[q] += (c.conj() @ cX.T).T
        return out

    def _apply_cache(self) -> dict:
        cache = self._cache.get("apply")
        if cache is None:
            K = [-0.5 * (k[:, None] + k[None, :]) for k in self.k] if self.K is None else None
            jumps, general = [], []
            for q, p, c in self.jumps:
                cc = c.tocoo()
                if len(np.unique(cc.row)) != cc.nnz or len(np.unique(cc.col)) != cc.nnz:
                    general.append((q, p, c.tocsr()))
                else:
                    idx = np.zeros(c.shape[0], dtype=np.intp)
                    a = np.zeros(c.shape[0], dtype=complex)
                    idx[cc.row] = cc.col
                    a[cc.row] = cc.data
                    jumps.append((q, p, idx, a))
            cache = self._cache["apply"] = {"K": K, "jumps": jumps, "general": general}
        return cache

    def apply_nojump(self, blocks) -> list[np.ndarray]:
        """``L0(X) = -i (H_eff X - X H_eff^+)``, the Liouvillian without the jump terms."""
        out = []
        for q, X in enumerate(blocks):
            HX = self.H[q] @ X
            if self.K is None:
                kq = self.k[q]
                out.append(-1j * (HX - HX.conj().T) - 0.5 * (kq[:, None] * X + X * kq[None, :]))
            else:
                KX = self.K[q] @ X
                out.append(-1j * (HX - HX.conj().T) - 0.5 * (KX + KX.conj().T))
        return out

    def trace(self, blocks) -> float:
        return float(sum(np.trace(X).real for X in blocks))

    # ------------------------------------------------------------------ real sparse matrix
    def real_matrix(self) -> sp.csr_matrix:
        """The real ``(N, N)`` matrix of ``x -> pack(L(unpack(x)))``, ``N = n_unknowns``."""
        Pb = [self._packing_matrix(n) for n in self.sizes]
        Qb = [self._selection(n) for n in self.sizes]
        nb = len(self.sizes)
        grid = [[None] * nb for _ in range(nb)]
        for q, n in enumerate(self.sizes):
            eye = sp.identity(n, format="csr")
            Hq = self.H[q]
            kq = sp.diags(self.k[q]) if self.K is None else self.K[q]
            A = -1j * (sp.kron(eye, Hq) - sp.kron(Hq.T, eye)) - 0.5 * (sp.kron(eye, kq) + sp.kron(kq.T, eye))
            grid[q][q] = A
        for q, p, c in self.jumps:
            B = sp.kron(c.conj(), c)
            grid[q][p] = B if grid[q][p] is None else grid[q][p] + B
        blocks = []
        for q in range(nb):
            row = []
            for p in range(nb):
                G = grid[q][p]
                if G is None:
                    row.append(None)
                else:
                    C = sp.csr_matrix(G) @ Pb[p]
                    row.append(_realify(Qb[q], C))
            blocks.append(row)
        M = sp.bmat(blocks, format="csr")
        M.eliminate_zeros()
        return M

    @staticmethod
    def _packing_matrix(n):
        """Complex ``(n^2, n^2)`` map from the real packed vector to column-stacked ``vec(X)``."""
        iu, ju = _triu(n)
        m = len(iu)
        d = np.arange(n)
        # vec index of (r, c) in column-stacked order: c * n + r
        rows = np.concatenate([d * n + d, ju * n + iu, iu * n + ju, ju * n + iu, iu * n + ju])
        cols = np.concatenate([d, n + np.arange(m), n + np.arange(m), n + m + np.arange(m), n + m + np.arange(m)])
        vals = np.concatenate([np.ones(n), np.full(m, 1 / SQRT2), np.full(m, 1 / SQRT2),
                               np.full(m, 1j / SQRT2), np.full(m, -1j / SQRT2)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(n * n, n * n))

    @staticmethod
    def _selection(n):
        """Row indices (into column-stacked vec) of the diagonal and upper-triangle entries."""
        iu, ju = _triu(n)
        d = np.arange(n)
        return d * n + d, ju * n + iu

    # ------------------------------------------------------------------ preconditioner
    def setup_preconditioner(self, reg: float = 1e-12, max_error: float = 1e-8, schur: bool | None = None,
                             kind: str = "sylvester", workers: int = 1):
        """Factorise ``H_eff = H - i K / 2`` per block for the inverse of the no-jump part.

        ``L0(X) = -i (H_eff X - X H_eff^+)``, so ``L0^{-1}(R)`` solves the Sylvester equation
        ``H_eff X - X H_eff^+ = i R``. Two factorisations, both applied per Krylov product:

        * ``schur=True`` (default for the U(1) sector, whose blocks have at most 2S + 1 states):
          complex Schur form ``H_eff = Q T Q^+`` and Bartels-Stewart (LAPACK ztrsyl). ``Q`` is
          unitary, so rounding stays at ``eps`` even near exceptional points of ``H_eff`` (the PT
          transition of the no-jump Hamiltonian), where eigenvectors are nearly parallel.
          Measured at J = 0, lam = 0.7: with eigenvectors S = 32 stagnated at a true residual of 1e-7
          (3618 products), with Schur it converges in 1040 products (48 s). Diagonal entries of ``T``
          with imaginary part above ``-reg * scale / 2`` are clipped (dark states).
        * ``schur=False`` (default for Z2, whose blocks reach (2S+1)^2 / 2 states and where ztrsyl,
          an unblocked level-2 routine, is 2-3x slower: S = 8 took 2.5 s against 0.96 s):
          eigenvectors ``H_eff = V D V^{-1}``,
          ``X = V [(V^{-1} i R V^{-+}) / (D_i - D_j^*)] V^+``, evaluated with level-3 BLAS (ztrmm +
          zher2k). Denominators closer to zero than ``reg * scale`` (dark states of the no-jump
          evolution) are clipped. Rounding errors of order ``cond(V)^2 eps`` make this measurably
          nonlinear near exceptional points (at S = 1/2, J = 1.5, lam = 0.5 the point is exact), which
          breaks Krylov methods; each block's preconditioner ``P`` is therefore tested for linearity on
          random Hermitian ``R1, R2`` and, if ``||P(R1 + R2) - P(R1) - P(R2)|| / ||P(R1 + R2)|| >
          max_error``, a fixed pseudo-random diagonal perturbation of relative size 1e-6 (then 1e-4,
          1e-2) is added to ``H_eff`` before decomposing.

        * ``kind="kron"``: the same Sylvester inverse for the *local* part ``h1 (x) 1 + 1 (x) h2`` of
          ``H_eff`` (:meth:`local_parts`; the two spins of the dimer, a spin and a boson), whose
          eigenvectors are ``V1 (x) V2``: the transforms cost ``O(n1 n2 (n1 + n2))`` per row of a block
          instead of ``O(n_q)`` (S = 24: about 40x fewer operations than the eigenvector path). Exact
          for uncoupled factors (the dimer at ``lam = 0``); a coupling between the factors costs Krylov
          iterations (measured at J = 1.5, lam = 0.45: 1.7x the products at S = 8, 10 and 12) or
          convergence altogether (J = 1.5, lam = 0.5, S = 6: IDR(s) overflowed; the steady-state solver
          then retries with the eigenvector path). ``kind="auto"`` takes it when ``H_eff`` is local
          (nonlocality below 1e-12) and its estimated cost per product is below the eigenvector path's,
          or when it is at least 10x cheaper per product (:meth:`kron_cost`; the dimer from S = 13 on).
          Measured CPU per product at S = 24: 0.34-0.38 s against 2.0 s; at S = 14, (1.5, 0.5) it
          converged in 747 products (35.6 s CPU) where the eigenvector path needs about 300 products of
          about 0.2 s.

        * ``kind="lindblad"``: the inverse of the two factors' own Lindbladians, ``(L1 (x) 1 + 1 (x) L2)^{-1}``
          with the jumps included (:meth:`lindblad_plan`): real Schur forms of each factor's Lindbladian in a
          Hermitian operator basis, per product four real matrix products and a quasi-triangular Sylvester
          solve per group (:mod:`._sylvester`; the groups on ``workers`` threads). Exact for uncoupled
          factors up to the pair of stationary states (3 products at lam = 0); at the dimer's (1.5, 0.45)
          85, 124, 153 products at S = 8, 12, 16 against 279, 549, 746 with ``"kron"`` (about 1.0 s CPU per
          product at S = 24 against 0.22 s). ``kind="auto"`` takes it wherever it applies and costs at most
          twice the eigenvector path per product (:meth:`lindblad_cost`), unless the coupling it neglects is
          stronger than :data:`LINDBLAD_MAX_COUPLING` times the recycling term the no-jump inverses neglect
          (``plan["coupling"]``): then the eigenvector path, at every S (``"kron"`` neglects the coupling too).

        Both are only preconditioners: the Krylov residual is the true one.
        Returns ``(worst nonlinearity, worst 1-norm condition number of V (1 for Schur blocks))``;
        ``_prec_info["kind"]`` says which was built.
        """
        if kind not in ("sylvester", "kron", "lindblad", "auto"):
            raise ValueError(f"expected kind 'sylvester', 'kron', 'lindblad' or 'auto', got {kind!r}")
        if kind == "lindblad":
            plan, why = self.lindblad_plan()
            if plan is None:
                raise ValueError(f"the Lindbladian Kronecker preconditioner does not apply: {why}")
            return self._setup_lindblad(plan, reg, workers)
        if schur is None:
            # U(1) blocks are small (2S + 1 states for the dimer); a system without symmetry is typically
            # a single small spin (the BTC: 2S + 1 states), where eigenvectors meet exceptional points
            schur = "U1" in self.sector or self.sector == "none"
        note, strong = {}, False
        if kind == "auto" and not schur:
            lplan, _ = self.lindblad_plan()
            if lplan is not None and self.lindblad_cost(lplan) <= 2.0 * self.kron_cost(None)[0]:
                if lplan["coupling"] <= LINDBLAD_MAX_COUPLING:
                    out = self._setup_lindblad(lplan, reg, workers)
                    self._prec_info["coupling"] = lplan["coupling"]
                    return out
                # strong coupling: the exact no-jump inverse (below), which keeps the coupling, at every S.
                # "lindblad" costs about half of it per product at every S (the blocks and the groups grow alike,
                # ~S^6) and "kron" less, but both neglect the coupling and there need 4-8x its products or fail
                # (see LINDBLAD_MAX_COUPLING; S = 14, (-1.5, 1.0): 61 s with the eigenvector path, "lindblad"
                # not finished after 420 s)
                strong = True
                note = {"coupling": lplan["coupling"],
                        "why": f"'lindblad' not taken: coupling {lplan['coupling']:.3g} > {LINDBLAD_MAX_COUPLING}"}
        if kind == "kron" or (kind == "auto" and not schur and not strong):
            plan, why = self.kron_plan()
            if plan is None and kind == "kron":
                raise ValueError(f"the Kronecker preconditioner does not apply: {why}")
            if plan is not None and (kind == "kron" or self._kron_chosen(plan)):
                return self._setup_kron(plan, reg, max_error)
        prec = []
        kappa = 1.0
        worst = 0.0
        sc = self.scale()
        floor = reg * sc
        rng = np.random.default_rng(20240607)
        for q, n in enumerate(self.sizes):
            Kq = np.diag(self.k[q]) if self.K is None else self.K[q].toarray()
            Heff0 = self.H[q].toarray() - 0.5j * Kq
            xi = rng.uniform(-1.0, 1.0, n)
            R = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
            R = R + R.conj().T
            R2 = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
            R2 = R2 + R2.conj().T
            if schur:
                T, Q = sla.schur(Heff0, output="complex")
                # dark states (real eigenvalues, e.g. |down, up> at J = lam = 0) make the Sylvester
                # operator singular: clip as in the eigenvector path
                d = np.diag(T)
                T[np.diag_indices(n)] = d.real + 1j * np.minimum(d.imag, -0.5 * floor)
                entry = ("schur", Q, T)
                err = self._prec_test(entry, R, R2)
            else:
                for eps in (0.0, 1e-6, 1e-4, 1e-2):
                    Heff = Heff0 + eps * sc * np.diag(xi) if eps else Heff0
                    D, V = sla.eig(Heff, check_finite=False)
                    try:
                        Vinv = sla.inv(V, check_finite=False)
                    except (np.linalg.LinAlgError, ValueError):
                        continue
                    den = D[:, None] - D.conj()[None, :]
                    den = den.real + 1j * np.minimum(den.imag, -floor)
                    entry = ("eig", np.asfortranarray(V), np.asfortranarray(Vinv), np.asfortranarray(1j / den))
                    err = self._prec_test(entry, R, R2)
                    if np.isfinite(err) and err <= max_error:
                        break
            worst = max(worst, err)
            if entry[0] == "eig":
                V, Vinv = entry[1], entry[2]
                kappa = max(kappa, float(np.abs(V).sum(axis=0).max() * np.abs(Vinv).sum(axis=0).max()))
            prec.append(entry)
        self._prec = prec
        self._prec_info = {"kind": "schur" if schur else "eig", **note}
        return worst, kappa

    # ------------------------------------------------------------------ Kronecker preconditioner
    def local_parts(self):
        """``(h1, h2, nonlocality)``: the Hilbert-Schmidt projection of ``H_eff`` onto ``h1 (x) 1 + 1 (x) h2``.

        ``h1 = Tr_2(H_eff) / n2 - tr(H_eff) / d``, ``h2 = Tr_1(H_eff) / n1`` (dense), and
        ``nonlocality = ||H_eff - h1 (x) 1 - 1 (x) h2||_F / ||H_eff||_F`` (0 for uncoupled factors, e.g. the
        LMG dimer at ``lam = 0``). ``None`` when the basis has no two-factor structure.
        """
        if self.dims is None or self.heff is None:
            return None
        h1, h2, rest = _local_projection(self.heff, *self.dims)
        nrm = sp.linalg.norm(self.heff) if self.heff.nnz else 1.0
        return h1, h2, float(sp.linalg.norm(rest) / nrm) if nrm else 0.0

    def kron_plan(self, max_groups: int = 16):
        """The product structure behind the Kronecker preconditioner, or ``(None, reason)``.

        Each factor's local ``h`` is split into its connected components (e.g. the parities of ``m`` of
        an LMG spin); every symmetry block must be a union of products of components (so that
        ``V1 (x) V2``, block diagonal in the components, maps each block into itself), with at most
        ``max_groups`` products per block. Returns ``(plan, "")`` with ``plan = (h1, h2, nonlocality,
        comps1, comps2, groups)``; ``groups[q]`` lists ``(positions in block q, component of factor 1,
        component of factor 2)``, positions ordered as ``i1 * n2' + i2`` within the product.
        """
        from scipy.sparse.csgraph import connected_components

        lp = self.local_parts()
        if lp is None:
            return None, "no two-factor product basis"
        h1, h2, nonloc = lp
        comps = []
        for h in (h1, h2):
            pat = sp.csr_matrix((np.abs(h) + np.abs(h).T) > 0)
            nc, lab = connected_components(pat, directed=False)
            comps.append([np.flatnonzero(lab == i) for i in range(nc)])
        n2 = self.dims[1]
        groups = []
        for ix in self.index:
            gq, covered = [], 0
            for c1, L1 in enumerate(comps[0]):
                for c2, L2 in enumerate(comps[1]):
                    flat = (L1[:, None] * n2 + L2[None, :]).ravel()
                    pos = np.searchsorted(ix, flat)
                    inside = (pos < len(ix)) & (ix[np.minimum(pos, len(ix) - 1)] == flat)
                    if inside.all():
                        gq.append((pos, c1, c2))
                        covered += len(flat)
                    elif inside.any():
                        return None, "a symmetry block is not a union of products of the factors' components"
            if covered != len(ix):
                return None, "a symmetry block is not covered by products of the factors' components"
            if len(gq) > max_groups:
                return None, f"{len(gq)} component products in a block (more than {max_groups})"
            groups.append(gq)
        return (h1, h2, nonloc, comps[0], comps[1], groups), ""

    def kron_cost(self, plan) -> tuple[float, float]:
        """Complex multiply-adds per product of the Sylvester (eigenvector) and the Kronecker preconditioner
        (``plan=None``: the first only, the second ``nan``)."""
        full = float(sum(3.0 * n ** 3 for n in self.sizes))
        if plan is None:
            return full, math.nan
        _, _, _, c1, c2, groups = plan
        kr = 0.0
        for q, gq in enumerate(groups):
            nq = self.sizes[q]
            for pos, a, b in gq:
                kr += 4.0 * len(pos) * (len(c1[a]) + len(c2[b])) * nq
        return full, kr

    def _setup_kron(self, plan, reg, max_error):
        h1, h2, nonloc, c1, c2, groups = plan
        sc = self.scale()
        floor = reg * sc
        rng = np.random.default_rng(20240607)
        worst, kappa = 0.0, 1.0
        for eps in (0.0, 1e-6, 1e-4, 1e-2):
            loc = []
            ok = True
            for h, comps in ((h1, c1), (h2, c2)):
                facs = []
                for L in comps:
                    hc = h[np.ix_(L, L)]
                    if eps:
                        hc = hc + eps * sc * np.diag(rng.uniform(-1.0, 1.0, len(L)))
                    D, V = sla.eig(hc, check_finite=False)
                    try:
                        Vi = sla.inv(V, check_finite=False)
                    except (np.linalg.LinAlgError, ValueError):
                        ok = False
                        break
                    facs.append((D, np.ascontiguousarray(V), np.ascontiguousarray(Vi)))
                    kappa = max(kappa, float(np.abs(V).sum(axis=0).max() * np.abs(Vi).sum(axis=0).max()))
                loc.append(facs)
            if not ok:
                continue
            prec = []
            for q, gq in enumerate(groups):
                nq = self.sizes[q]
                Dq = np.empty(nq, dtype=complex)
                for pos, a, b in gq:
                    Dq[pos] = (loc[0][a][0][:, None] + loc[1][b][0][None, :]).ravel()
                # rows of each component product made contiguous (one gather in, one out, views between)
                perm = np.concatenate([pos for pos, _, _ in gq])
                inv = np.empty_like(perm)
                inv[perm] = np.arange(nq)
                Dp = Dq[perm]
                den = Dp[:, None] - Dp.conj()[None, :]
                den = den.real + 1j * np.minimum(den.imag, -floor)
                G, start = [], 0
                for pos, a, b in gq:
                    G.append((start, start + len(pos), loc[0][a][1], loc[0][a][2], loc[1][b][1], loc[1][b][2]))
                    start += len(pos)
                prec.append(("kron", G, 1j / den, perm, inv))
            n0 = self.sizes[0]
            R = rng.normal(size=(n0, n0)) + 1j * rng.normal(size=(n0, n0))
            R2 = rng.normal(size=(n0, n0)) + 1j * rng.normal(size=(n0, n0))
            worst = self._prec_test(prec[0], R + R.conj().T, R2 + R2.conj().T)
            if np.isfinite(worst) and worst <= max_error:
                break
        self._prec = prec
        self._prec_info = {"kind": "kron", "nonlocality": nonloc, "perturbation": eps}
        return worst, kappa

    # ------------------------------------------------------------------ Lindbladian Kronecker preconditioner
    def lindblad_plan(self):
        """The one-factor Lindbladians behind the ``"lindblad"`` preconditioner, or ``(None, reason)``.

        Splits ``H = h1 (x) 1 + 1 (x) h2 + V`` (Hilbert-Schmidt projection, :meth:`local_parts` applied to
        the Hermitian part of ``H_eff``) and requires every jump to act on one factor (``c = c1 (x) 1`` or
        ``1 (x) c2``). Each factor's Lindbladian ``L_f(x) = -i [h_f, x] + sum_k (c_k x c_k^+ - {c_k^+ c_k, x} / 2)``
        is written as a real matrix in an orthonormal Hermitian basis of its operators (``|a><a|``,
        ``(|a><a'| + |a'><a|) / sqrt 2``, ``i (|a><a'| - |a'><a|) / sqrt 2``) and split into the closed sets of
        basis elements it never leaves. A Hermitian operator on the product space is then a real matrix
        ``Z[k, l]`` of coefficients of ``E_k (x) F_l``, and ``L1 (x) 1 + 1 (x) L2`` acts as
        ``Z -> L1 Z + Z L2^T``, a Sylvester operator on each product of closed sets. Every symmetry block's
        packed unknowns must be exactly the coefficients of a union of such products.

        Returns ``(plan, "")`` with ``plan = dict(groups=[(L1 (m1, m1), L2 (m2, m2), start, stop)], M=csr,
        nonlocality=..)``: ``M`` (``N x N``, orthogonal, at most 4 entries per row) maps the packed vector to
        the concatenated row-major ``Z`` of the groups.
        """
        if self.dims is None or self.heff is None or self.c_full is None:
            return None, "no two-factor product basis"
        n1, n2 = self.dims
        Hh = sp.csr_matrix(0.5 * (self.heff + self.heff.conj().T))
        h1, h2, rest = _local_projection(Hh, n1, n2)
        jumps = ([], [])
        for c in self.c_full:
            f = _one_factor(c, n1, n2)
            if f is None:
                return None, "a jump operator acts on both factors"
            jumps[f[0]].append(f[1])
        Ls, bases = [], []
        for h, n, js in ((h1, n1, jumps[0]), (h2, n2, jumps[1])):
            Lr, basis = _real_lindbladian(h, js, n)
            Ls.append(Lr)
            bases.append(basis)
        comps = []
        from scipy.sparse.csgraph import connected_components

        for Lr in Ls:
            A = abs(Lr)
            nc, lab = connected_components(sp.csr_matrix(A + A.T), directed=False)
            comps.append([np.flatnonzero(lab == i) for i in range(nc)])
        # block label and position of every product state
        d = n1 * n2
        qof = np.full(d, -1, dtype=np.int64)
        pos = np.zeros(d, dtype=np.int64)
        for q, ix in enumerate(self.index):
            qof[ix] = q
            pos[ix] = np.arange(len(ix))
        groups, rows, cols, vals = [], [], [], []
        rows_of = {}
        start = 0
        for C1 in comps[0]:
            a, a2, e1, e2 = bases[0][0][C1], bases[0][1][C1], bases[0][2][C1], bases[0][3][C1]
            for C2 in comps[1]:
                b, b2, f1, f2 = bases[1][0][C2], bases[1][1][C2], bases[1][2][C2], bases[1][3][C2]
                s_p, t_p = a[:, None] * n2 + b[None, :], a2[:, None] * n2 + b2[None, :]   # p = X[s_p, t_p]
                s_r, t_r = a[:, None] * n2 + b2[None, :], a2[:, None] * n2 + b[None, :]  # r = X[s_r, t_r]
                inside = (qof[s_p] == qof[t_p]) & (qof[s_r] == qof[t_r]) & (qof[s_p] >= 0) & (qof[s_r] >= 0)
                if not inside.any():
                    continue
                if not inside.all():
                    return None, "a symmetry block is not a union of products of the factors' closed sets"
                m1, m2 = len(C1), len(C2)
                zrow = start + np.arange(m1 * m2)
                # Z = e1 f1 conj(p) + e1 f2 conj(r) + e2 f1 r + e2 f2 p (real for Hermitian X)
                E1, E2 = e1[:, None], e2[:, None]
                F1, F2 = f1[None, :], f2[None, :]
                for s_, t_, cconj, cplain in ((s_p, t_p, E1 * F1, E2 * F2), (s_r, t_r, E1 * F2, E2 * F1)):
                    i_re, i_im, al, be = self._packed_entry(qof, pos, s_.ravel(), t_.ravel())
                    cc, cp = np.broadcast_to(cconj, s_.shape).ravel(), np.broadcast_to(cplain, s_.shape).ravel()
                    # Z += cconj * conj(al y_re + be y_im) + cplain * (al y_re + be y_im)
                    rows += [zrow, zrow]
                    cols += [i_re, i_im]
                    vals += [cc * np.conj(al) + cp * al, cc * np.conj(be) + cp * be]
                Lg1 = Ls[0][C1][:, C1].toarray()
                Lg2 = Ls[1][C2][:, C2].toarray()
                groups.append((Lg1, Lg2, start, start + m1 * m2))
                rows_of[start] = (C1, C2)
                start += m1 * m2
        N = self.n_unknowns
        if start != N:
            return None, (f"the symmetry blocks are not a union of products of the factors' closed sets (those "
                          f"products hold {start} coefficients, the blocks {N})")
        M = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))
        M.sum_duplicates()
        if M.nnz and float(np.abs(M.data.imag).max()) > 1e-12:  # pragma: no cover (a wrong basis)
            raise AssertionError("the Hermitian-basis coefficients are not real")
        M = sp.csr_matrix(M.real)
        M.data[np.abs(M.data) < 1e-14] = 0.0
        M.eliminate_zeros()
        lp = self.local_parts()
        # Hermitian-basis coefficients of each factor's identity (1 on the diagonal elements)
        ident = [(bs[0] == bs[1]).astype(float) for bs in bases]
        # the neglected coupling against the neglected recycling of the no-jump inverses, as Frobenius norms of
        # superoperators: ||-i [V, .]|| = sqrt(2 d) ||V|| (V traceless over each factor), ||c . c^+|| = ||c||^2
        rec = sum(float(sp.linalg.norm(c)) ** 2 for c in self.c_full if c.nnz)
        vn = float(sp.linalg.norm(rest)) if rest.nnz else 0.0
        coupling = math.sqrt(2.0 * d) * vn / rec if rec > 0 else (math.inf if vn > 0 else 0.0)
        return {"groups": groups, "M": M, "MT": M.T.tocsr(), "nonlocality": lp[2] if lp else math.nan,
                "rows": rows_of, "identity": ident, "coupling": coupling}, ""

    def _kron_chosen(self, plan) -> bool:
        """Whether ``kind="auto"`` takes the ``"kron"`` path (``plan``: :meth:`kron_plan`'s) over the exact per-block
        inverse: ``H_eff`` local and cheaper that way, or at least 10x cheaper per product that way."""
        if plan is None:
            return False
        full, kr = self.kron_cost(plan)
        return bool((plan[2] <= 1e-12 and kr < full) or full >= 10.0 * kr)

    @staticmethod
    def lindblad_cost(plan) -> float:
        """Multiply-adds per product of the Lindbladian preconditioner, in complex units (4 real ones).

        Per group ``m1 x m2``: four real matrix products (``2 (m1^2 m2 + m1 m2^2)``) and the quasi-triangular
        Sylvester solve (measured as about three more at m = 1200), so ``(7 / 8) (m1^2 m2 + m1 m2^2)``.
        """
        return float(sum(0.875 * (L1.shape[0] ** 2 * L2.shape[0] + L1.shape[0] * L2.shape[0] ** 2)
                         for L1, L2, _, _ in plan["groups"]))

    def _packed_entry(self, qof, pos, s, t):
        """``X[s, t] = al * y[i_re] + be * y[i_im]`` for states ``s, t`` of one block (packed vector ``y``)."""
        q = qof[s]
        u, v = pos[s], pos[t]
        nq = np.asarray(self.sizes, dtype=np.int64)[q]
        o = self.offsets[:-1].astype(np.int64)[q]
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        m = nq * (nq - 1) // 2
        tri = lo * nq - lo * (lo + 1) // 2 + (hi - lo - 1)
        diag = u == v
        i_re = np.where(diag, o + u, o + nq + tri)
        i_im = np.where(diag, o + u, o + nq + m + tri)
        al = np.where(diag, 1.0, 1.0 / SQRT2).astype(complex)
        be = np.where(diag, 0.0, np.where(u < v, 1.0, -1.0)) * (1j / SQRT2)
        return i_re, i_im, al, be

    def _setup_lindblad(self, plan, reg, workers: int = 1):
        """Real Schur forms of the factor Lindbladians of each group (zero eigenvalues shifted)."""
        sc = self.scale()
        tol = 1e-8 * sc
        uncoupled = plan["nonlocality"] <= 1e-12
        prep, shifts = [], []
        for Lg1, Lg2, a, b in plan["groups"]:
            fac, sdims = [], []
            for L in (Lg1, Lg2):
                T, Q, sdim = factor_schur(L, tol)
                fac.append([T, Q])
                sdims.append(sdim)
            sigma = None
            if sdims == [1, 1] and uncoupled:
                # uncoupled factors, one stationary state each, q1 and q2 (first Schur vectors): the pair (0, 0) is
                # the only singular one and is solved last; it gets the value the trace term gives the product
                # state (L'(rho_A rho_B) = W): sigma = <q, W> / <q, rho0> = (t1 t2)^2 / d, t = <1, q>. Then the
                # preconditioner is L'^-1 up to rank two (3 products at S = 6, lam = 0). With coupled factors the
                # shift below does better (S = 10, (1.5, 0.45): 103 products against 146 with sigma, whose large
                # 1 / sigma made the recursive residual drift; 110 with sigma = -(delta1 + delta2))
                t1 = float(fac[0][1][:, 0] @ plan["identity"][0][plan["rows"][a][0]])
                t2 = float(fac[1][1][:, 0] @ plan["identity"][1][plan["rows"][a][1]])
                sigma = (t1 * t2) ** 2 / self.dim
                fac[0][0][0, 0] = fac[1][0][0, 0] = 0.0
                if not sigma > 0:
                    sigma = None
            if sigma is None:
                for (T, _), sdim in zip(fac, sdims):
                    if sdim:
                        # T[i, i] = 0 -> -delta (L - delta q q^T, regular), delta half the decay rate of the slowest
                        # other mode of this factor (S = 10, (1.5, 0.45): 115, 103, 101, 111 products at 0.25,
                        # 0.5, 1, 2 times that rate)
                        d = np.diag(T)[sdim:]
                        delta = max(0.5 * float(np.abs(d.real).min()) if len(d) else 1.0, reg * sc)
                        for i in range(sdim):
                            T[i, i] = -delta
                        shifts.append(delta)
            fac = [(np.ascontiguousarray(T), np.ascontiguousarray(Q)) for T, Q in fac]
            prep.append((fac[0], fac[1], a, b, Lg1.shape[0], Lg2.shape[0], sigma))
        data = {"groups": prep, "M": plan["M"], "MT": plan["MT"], "workers": max(1, int(workers))}
        self._prec = [("lindblad", data)]
        rng = np.random.default_rng(20240607)
        y1, y2 = rng.normal(size=self.n_unknowns), rng.normal(size=self.n_unknowns)
        p12 = self._lindblad_apply(data, y1 + y2)
        err = float(np.linalg.norm(p12 - self._lindblad_apply(data, y1) - self._lindblad_apply(data, y2))
                    / np.linalg.norm(p12))
        self._prec_info = {"kind": "lindblad", "nonlocality": plan["nonlocality"], "shifts": shifts,
                           "sigma": [g[6] for g in prep if g[6] is not None],
                           "groups": [(g[4], g[5]) for g in prep], "workers": data["workers"]}
        return err, 1.0

    def unprecondition(self, blocks) -> np.ndarray:
        """The packed ``P^{-1}(X)`` of the current preconditioner (a warm start ``X`` for the right-preconditioned
        Krylov solve is ``y = P^{-1} X``): exact for the Lindbladian preconditioner, the no-jump part
        ``L0(X)`` otherwise (exact for ``"sylvester"`` up to the clipped denominators)."""
        if self._prec and self._prec[0][0] == "lindblad":
            return self._lindblad_forward(self._prec[0][1], self.pack(blocks))
        return self.pack(self.apply_nojump(blocks))

    @staticmethod
    def _lindblad_forward(data, y) -> np.ndarray:
        """The operator the Lindbladian preconditioner inverts (shifted, regularised), on packed ``y``."""
        z = data["M"] @ y
        out = np.empty_like(z)
        for (T1, Q1), (T2, Q2), a, b, m1, m2, sigma in data["groups"]:
            Y = Q1.T @ z[a:b].reshape(m1, m2) @ Q2
            W = T1 @ Y + Y @ T2.T
            if sigma is not None:
                W[0, 0] += sigma * Y[0, 0]
            out[a:b] = (Q1 @ W @ Q2.T).ravel()
        return data["MT"] @ out

    @staticmethod
    def _lindblad_apply(data, y) -> np.ndarray:
        """``(L1 (x) 1 + 1 (x) L2)^{-1}`` (shifted) on the packed vector ``y``; packed vector out."""
        z = data["M"] @ y
        out = np.empty_like(z)

        def one(g):
            (T1, Q1), (T2, Q2), a, b, m1, m2, sigma = g
            out[a:b] = uncoupled_resolvent(T1, Q1, T2, Q2, z[a:b].reshape(m1, m2), pair=sigma).ravel()

        groups = data["groups"]
        if data["workers"] > 1 and len(groups) > 1:
            list(_thread_pool(min(data["workers"], len(groups))).map(one, groups))
        else:
            for g in groups:
                one(g)
        return data["MT"] @ out

    @staticmethod
    def _kron_left(G, X, inverse: bool) -> np.ndarray:
        """``(M1 (x) M2) X`` for ``M = V^{-1}`` (``inverse``) or ``V``, group by group (rows of ``X``)."""
        Y = np.empty_like(X)
        nc = X.shape[1]
        for a, b, V1, V1i, V2, V2i in G:
            A, Bm = (V1i, V2i) if inverse else (V1, V2)
            n1, n2 = A.shape[0], Bm.shape[0]
            T = A @ X[a:b].reshape(n1, n2 * nc)
            np.matmul(Bm, T.reshape(n1, n2, nc), out=Y[a:b].reshape(n1, n2, nc))
        return Y

    def _prec_test(self, entry, R, R2) -> float:
        """Relative nonlinearity ``||P(R + R2) - P(R) - P(R2)|| / ||P(R + R2)||`` of the preconditioner.

        Rounding is what breaks Krylov methods; clipping and perturbation only make ``P`` a different
        (still linear) operator, so linearity, not ``L0 P = 1``, is what is tested.
        """
        a = self._prec_block(entry, self._pack_block(R + R2))
        b = self._prec_block(entry, self._pack_block(R)) + self._prec_block(entry, self._pack_block(R2))
        return float(np.linalg.norm(a - b) / np.linalg.norm(a))

    def _prec_block(self, entry, seg) -> np.ndarray:
        """``L0^{-1}`` on one block given in packed form; returns the full Hermitian block.

        Eigenvector path: ``V R V^+`` for Hermitian ``R = U + U^+`` (``U`` its upper triangle with
        halved diagonal) is ``(V U) V^+ + V (V U)^+``: one triangular product (ztrmm) and one
        rank-2k update (zher2k), 3 n^3 complex multiply-adds for the two transforms instead of 4 n^3
        with zgemm (measured 0.093 s against 0.121 s at n = 841, one thread).
        """
        if entry[0] == "kron":
            _, G, w, perm, inv = entry
            n = w.shape[0]
            U = self._upper_from_packed(seg, n)
            R = U + _ct(U)
            R = R.take(perm, axis=0).take(perm, axis=1)
            A = self._kron_left(G, R, True)
            Y = self._kron_left(G, _ct(A), True)   # V^-1 R V^-+
            Y *= w
            A = self._kron_left(G, Y, False)
            X = self._kron_left(G, _ct(A), False)  # V Y V^+
            X += _ct(X)
            X *= 0.5
            return X.take(inv, axis=0).take(inv, axis=1)
        if entry[0] == "schur":
            _, Q, T = entry
            n = Q.shape[0]
            U = self._upper_from_packed(seg, n)
            R = U + U.conj().T
            C = 1j * (Q.conj().T @ R @ Q)
            Z, scale, _ = _ztrsyl(T, T, C, trana="N", tranb="C", isgn=-1)
            X = Q @ (Z / scale) @ Q.conj().T
            X = X + X.conj().T
            X *= 0.5
            return X
        _, V, Vinv, w = entry
        n = V.shape[0]
        U = self._upper_from_packed(seg, n)
        A1 = _ztrmm(1.0, U, Vinv, side=1, lower=0)      # Vinv U
        Y = _zher2k(1.0, A1, Vinv)                        # upper(Vinv R Vinv^+)
        Y *= w
        Y[np.diag_indices(n)] *= 0.5
        A2 = _ztrmm(1.0, Y, V, side=1, lower=0)          # V triu(Y)
        Xu = _zher2k(1.0, A2, V)                          # upper(V Y V^+)
        X = Xu + Xu.conj().T
        X[np.diag_indices(n)] *= 0.5
        return X

    def _upper_from_packed(self, seg, n) -> np.ndarray:
        iu, ju = self._tri(n)
        m = len(iu)
        U = np.zeros((n, n), dtype=complex, order="F")
        U[iu, ju] = (seg[n:n + m] + 1j * seg[n + m:n + 2 * m]) / SQRT2
        U[np.arange(n), np.arange(n)] = 0.5 * seg[:n]
        return U

    def _pack_block(self, X) -> np.ndarray:
        n = X.shape[0]
        iu, ju = self._tri(n)
        u = X[iu, ju]
        return np.concatenate([X.diagonal().real, SQRT2 * u.real, SQRT2 * u.imag])

    def precondition_packed(self, x) -> list[np.ndarray]:
        """Approximate ``L0^{-1}`` applied to the packed Hermitian blocks ``x``; full blocks out."""
        if self._prec and self._prec[0][0] == "lindblad":
            return self.unpack(self._lindblad_apply(self._prec[0][1], x))
        return [self._prec_block(e, x[self.offsets[q]:self.offsets[q + 1]]) for q, e in enumerate(self._prec)]

    def apply_preconditioner(self, blocks) -> list[np.ndarray]:
        """Approximate ``L0^{-1}(R)`` blockwise (Hermitian in, Hermitian out)."""
        if self._prec and self._prec[0][0] == "lindblad":
            return self.precondition_packed(self.pack(blocks))
        return [self._prec_block(e, self._pack_block(R)) for e, R in zip(self._prec, blocks)]


def factor_schur(L, tol: float):
    """Real Schur form ``L = Q T Q^T`` of one factor's Lindbladian block (dense real ``(m, m)``), the eigenvalues
    with ``|Re| + |Im| < tol`` (stationary states) first: ``(T, Q, sdim)``. The one factorisation behind both
    the steady-state preconditioner and the spectrum's resolvent (:func:`uncoupled_resolvent`)."""
    return sla.schur(L, output="real", sort=lambda x, y, tol=tol: abs(x) + abs(y) < tol)


_POOLS: dict = {}


def _thread_pool(workers: int):
    """One persistent thread pool per worker count, shared by every preconditioner application: a pool
    made per application started two threads per Krylov product, which cost more than the product itself
    on small blocks (70 of 105 s at S = 4 over 20 000 products)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    key = (os.getpid(), workers)  # a forked child has none of its parent's threads: it makes its own pool
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix="bifurcate-blocks")
    return pool


def uncoupled_resolvent(T1, Q1, T2, Q2, Z, shift=0.0, pair=None) -> np.ndarray:
    """``(L1 (x) 1 + 1 (x) L2 - shift)^{-1}`` on one group's coefficients ``Z`` (``(m1, m2)``, row-major
    ``E_k (x) F_l``): ``L1 Y + Y L2^T - shift Y = Z`` with ``L_f = Q_f T_f Q_f^T`` (real Schur forms,
    :func:`factor_schur`).

    ``shift`` real or complex (0: the steady state's real path; else a complex result, the resolvent of the
    spectrum solvers). ``pair`` (steady state only, ``shift = 0``): the value the singular pair of the two
    stationary states (``T[0, 0] = 0`` on both sides) is divided by, solved last.
    """
    if shift == 0 and not np.iscomplexobj(Z):
        C = Q1.T @ Z @ Q2
        Y = _quasi_triangular_sylvester(T1, T2, C)
        if pair is not None:  # the singular pair of the two stationary states, solved last
            Y[0, 0] = (C[0, 0] - T1[0, 1:] @ Y[1:, 0] - Y[0, 1:] @ T2[0, 1:]) / pair
        return Q1 @ Y @ Q2.T
    if pair is not None:
        raise ValueError(f"expected pair=None with a shift or complex coefficients, got pair={pair!r}")
    if not np.iscomplexobj(Z) and complex(shift).imag == 0:
        # a real shift on real coefficients stays real: (T1 - shift) is still quasi-triangular
        T1s = T1 - float(complex(shift).real) * np.eye(T1.shape[0])
        return Q1 @ _quasi_triangular_sylvester(T1s, T2, Q1.T @ Z @ Q2) @ Q2.T
    C = _complex_times_real_t(_real_times_complex(Q1.T, Z), Q2.T)
    Y = _quasi_triangular_sylvester(T1, T2, C, shift=shift)
    return _complex_times_real_t(_real_times_complex(Q1, Y), Q2)


def _realify(sel, C):
    """Rows of the complex matrix ``C`` turned into the real packed equations (diag, sqrt2 Re, sqrt2 Im)."""
    dsel, usel = sel
    C = C.tocsr()
    Cd = C[dsel]
    Cu = C[usel]
    return sp.vstack([Cd.real, SQRT2 * Cu.real, SQRT2 * Cu.imag], format="csr")


def _local_projection(A, n1: int, n2: int):
    """``(h1, h2, rest)``: the Hilbert-Schmidt projection of the sparse ``A`` onto ``h1 (x) 1 + 1 (x) h2``."""
    c = A.tocoo()
    a, b = np.divmod(c.row, n2)
    a2, b2 = np.divmod(c.col, n2)
    h1 = np.zeros((n1, n1), dtype=complex)
    h2 = np.zeros((n2, n2), dtype=complex)
    m = b == b2
    np.add.at(h1, (a[m], a2[m]), c.data[m])
    m = a == a2
    np.add.at(h2, (b[m], b2[m]), c.data[m])
    h1 /= n2
    h2 /= n1
    tr = complex(A.diagonal().sum()) / (n1 * n2)
    h1[np.diag_indices(n1)] -= tr
    loc = sp.kron(sp.csr_matrix(h1), sp.identity(n2)) + sp.kron(sp.identity(n1), sp.csr_matrix(h2))
    return h1, h2, sp.csr_matrix(A - loc)


def _one_factor(c, n1: int, n2: int):
    """``(0, c1)`` if ``c = c1 (x) 1``, ``(1, c2)`` if ``c = 1 (x) c2`` (dense factors), else ``None``."""
    c = sp.csr_matrix(c)
    nrm = sp.linalg.norm(c) if c.nnz else 0.0
    if nrm == 0:
        return 0, np.zeros((n1, n1), dtype=complex)
    co = c.tocoo()
    a, b = np.divmod(co.row, n2)
    a2, b2 = np.divmod(co.col, n2)
    for f, (keep, other, keep2, other2, n, m) in enumerate(((a, b, a2, b2, n1, n2), (b, a, b2, a2, n2, n1))):
        op = np.zeros((n, n), dtype=complex)
        sel = other == other2
        np.add.at(op, (keep[sel], keep2[sel]), co.data[sel])
        op /= m
        full = sp.kron(sp.csr_matrix(op), sp.identity(n2)) if f == 0 else sp.kron(sp.identity(n1), sp.csr_matrix(op))
        if sp.linalg.norm(c - full) <= 1e-12 * nrm:
            return f, op
    return None


def _real_lindbladian(h, jumps, n: int):
    """One factor's Lindbladian as a real sparse ``(n^2, n^2)`` matrix in the orthonormal Hermitian basis.

    Returns ``(L, (a, a2, e1, e2))``: basis element ``k`` is ``e1[k] |a><a2| + e2[k] |a2><a|`` (``a <= a2``;
    ``e2 = 0`` on the diagonal).
    """
    iu, ju = np.triu_indices(n, k=1)
    d = np.arange(n)
    m = len(iu)
    a = np.concatenate([d, iu, iu])
    a2 = np.concatenate([d, ju, ju])
    r = 1.0 / SQRT2
    e1 = np.concatenate([np.ones(n), np.full(m, r), np.full(m, 1j * r)]).astype(complex)
    e2 = np.concatenate([np.zeros(n), np.full(m, r), np.full(m, -1j * r)]).astype(complex)
    k = np.arange(n * n)
    # U[:, k] = vec(E_k) (row-major vec: index a * n + a2)
    U = sp.csr_matrix((np.concatenate([e1, e2[n:]]), (np.concatenate([a * n + a2, a2[n:] * n + a[n:]]),
                                                       np.concatenate([k, k[n:]]))), shape=(n * n, n * n))
    eye = sp.identity(n, format="csr")
    hs = sp.csr_matrix(h)
    Lc = -1j * (sp.kron(hs, eye) - sp.kron(eye, hs.T))
    for c in jumps:
        cs = sp.csr_matrix(c)
        kk = cs.conj().T @ cs
        Lc = Lc + sp.kron(cs, cs.conj()) - 0.5 * (sp.kron(kk, eye) + sp.kron(eye, kk.T))
    Lr = sp.csr_matrix(U.conj().T @ sp.csr_matrix(Lc) @ U)
    if Lr.nnz and float(np.abs(Lr.data.imag).max()) > 1e-10 * max(1.0, float(np.abs(Lr.data).max())):
        raise AssertionError("a one-factor Lindbladian is not real in the Hermitian basis")  # pragma: no cover
    Lr = sp.csr_matrix(Lr.real)
    Lr.eliminate_zeros()
    return Lr, (a, a2, e1, e2)

