"""The exact quantum engine for any open system given as term lists (an :class:`~bifurcate.spec.OpenSystem`).

Input
-----
Any object with the interface of :class:`bifurcate.spec.OpenSystem`: ``modes`` (each with ``.name`` and
``.kind`` in ``{"spin", "boson"}``), ``parameters`` (name -> default), ``name``,
``hamiltonian_terms()`` -> ``[(coeff, ((mode, op), ...)), ...]`` and ``jump_terms()`` ->
``[(rate, [(coeff, ((mode, op), ...)), ...]), ...]``, coefficients sympy expressions in the parameters
(symbols named as them) and the spin length ``S`` (a symbol named ``"S"``). Spin ops ``x, y, z, p, m``
are the unnormalised ``S^x, S^y, S^z, S^+, S^-``; boson ops ``a, dag``.

Hilbert space
-------------
The product of the modes in declaration order (``qutip.tensor`` order): ``2S + 1`` levels per spin
(basis ``m = S .. -S``), ``cutoff`` Fock levels per boson (``0 .. cutoff - 1``).

Weak symmetries, detected
-------------------------
Write ``x = (p + m) / 2`` and ``y = (p - m) / (2i)``: every term becomes a sum of monomials, each of
which shifts the quantum numbers ``k`` (``k = m + S`` for a spin, the photon number for a boson) by an
integer vector ``delta``. Monomials whose coefficient vanishes at the given parameters are dropped
(so the LMG dimer at ``J = 0`` gains its U(1)). A charge ``Q = c . k`` is

* a **U(1)** weak symmetry when ``c . delta = 0`` for every Hamiltonian monomial and ``c . delta`` is
  the same for all monomials of each jump (then ``[Q, L] = q L`` and ``D[L]`` commutes with the
  rotation ``exp(i phi Q)``): integer null space of those differences;
* a **Z2** weak symmetry (parity ``exp(i pi Q)``) when the same holds modulo 2: null space over GF(2),
  keeping only parities not implied by the U(1) charges.

The steady state (if unique) commutes with these symmetries, so it is block diagonal in the joint
labels ``(Q_1, ..., Q_u, P_1 mod 2, ...)``; the blocks and the Liouvillian on them are those of
:class:`bifurcate.quantum._blocks.BlockLiouvillian`, which checks numerically that ``H`` is block
diagonal and that every jump maps a block into a single block (a wrongly detected symmetry raises
instead of giving a wrong state). Symmetries that are not diagonal in this basis (exchange of two
spins, spatial parities of bosons) are not detected.

Fock cutoff
-----------
Checked on every result: the population of the top two Fock levels of each boson's reduced state
(two, since a state with one parity empties every other level) must not exceed ``cutoff_tol``;
``cutoffs=None`` ("auto") starts at 8 levels and doubles until it does, reporting the change of the
observables between the last two cutoffs. An unconverged cutoff gives ``status="not-trusted"``.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sympy

import bifurcate.validation as _v

from ._blocks import BlockLiouvillian
from .operators import boson_operators, liouvillian, spin_operators, validate_spin
from .steady import (METHODS, QuantumSizeError, SteadyStateOptions, _resolve_options, check_memory, memory_limit,
                     solve_blocks)

__all__ = ["SystemLiouvillian", "SystemSteadyState", "SystemSpectrum", "liouvillian_system",
           "steady_state_system", "system_spectrum", "detect_symmetries", "DEFAULT_CUTOFF", "propagator_eigenvalues"]

#: Fock levels of a boson when a cutoff is needed but not given (liouvillian_system, system_spectrum)
DEFAULT_CUTOFF = 16
_SPIN_OPS = ("x", "y", "z", "p", "m")
_BOSON_OPS = ("a", "dag")
#: ladder expansion of each letter: [(shift of k, factor, letter)]
_EXPAND = {"p": [(1, 1.0, "p")], "m": [(-1, 1.0, "m")], "z": [(0, 1.0, "z")],
           "x": [(1, 0.5, "p"), (-1, 0.5, "m")], "y": [(1, -0.5j, "p"), (-1, 0.5j, "m")],
           "a": [(-1, 1.0, "a")], "dag": [(1, 1.0, "dag")]}
#: problems with at most this many basis states have their block sizes counted exactly before building
_LABEL_MAX_DIM = 30_000_000


# ------------------------------------------------------------------------------------------------
# input
def _mode_info(system) -> list[tuple[str, str]]:
    try:
        modes = tuple(system.modes)
    except (AttributeError, TypeError):
        raise TypeError(f"expected an open system with .modes, .parameters, .hamiltonian_terms() and "
                        f".jump_terms() (bifurcate.spec.OpenSystem), got {type(system).__name__}") from None
    out = []
    for m in modes:
        name, kind = getattr(m, "name", None), getattr(m, "kind", None)
        if not isinstance(name, str) or kind not in ("spin", "boson"):
            raise TypeError(f"expected modes with .name (str) and .kind 'spin' or 'boson', got {m!r}")
        out.append((name, kind))
    if not out:
        raise ValueError(f"system {getattr(system, 'name', '?')!r} has no modes")
    return out


def _resolve_params(system, params) -> dict:
    defaults = dict(system.parameters)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise TypeError(f"expected params a mapping with keys among {sorted(defaults)}, got {type(params).__name__}")
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise KeyError(f"unknown parameter(s) {unknown} for system {system.name!r}: expected keys among "
                       f"{sorted(defaults)}")
    out = {}
    for k, v in {**defaults, **dict(params)}.items():
        if isinstance(v, (bool, np.bool_, str, bytes)) or np.iscomplexobj(v):
            raise ValueError(f"expected {k} a finite real number, got {v!r}")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"expected {k} a finite real number, got {v!r}") from None
        if not math.isfinite(f):
            raise ValueError(f"expected {k} a finite real number, got {v!r}")
        out[k] = f
    return out


def _resolve_cutoffs(modes, cutoffs, default) -> dict:
    bosons = [n for n, k in modes if k == "boson"]
    if cutoffs is None:
        return {b: default for b in bosons}
    if isinstance(cutoffs, (int, np.integer)) and not isinstance(cutoffs, (bool, np.bool_)):
        cutoffs = {b: int(cutoffs) for b in bosons}
    if not isinstance(cutoffs, Mapping):
        raise TypeError(f"expected cutoffs None, an integer or a mapping {{boson name: levels}}, got {cutoffs!r}")
    unknown = sorted(set(cutoffs) - set(bosons))
    if unknown:
        raise KeyError(f"cutoffs for unknown boson(s) {unknown}: the bosons are {bosons}")
    out = {}
    for b in bosons:
        c = cutoffs.get(b, default)
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)) or c < 2:
            raise ValueError(f"expected the cutoff of boson {b!r} an integer >= 2, got {c!r}")
        out[b] = int(c)
    return out


class _Evaluator:
    """Numeric values of the coefficients: parameters by symbol name, and ``S``."""

    def __init__(self, system, values: dict, S: float):
        self.values = {**values, "S": S}
        self.system = system

    @functools.lru_cache(maxsize=None)
    def __call__(self, expr) -> complex:
        if isinstance(expr, (int, float, complex, np.number)):
            return complex(expr)
        e = sympy.sympify(expr)
        subs = {}
        for s in e.free_symbols:
            if s.name not in self.values:
                raise ValueError(f"system {self.system.name!r}: coefficient {e} uses the symbol {s.name!r}, "
                                 f"which is neither a parameter ({sorted(self.values)[:-1]}) nor S")
            subs[s] = self.values[s.name]
        v = complex(e.subs(subs).evalf())
        if not (math.isfinite(v.real) and math.isfinite(v.imag)):
            raise ValueError(f"system {self.system.name!r}: coefficient {e} is not finite at {self.values}")
        return v


def _check_word(ops, kinds: dict, what: str) -> tuple:
    ops = tuple(ops)
    for item in ops:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ValueError(f"{what}: expected (mode name, op) pairs, got {item!r}")
        name, op = item
        if name not in kinds:
            raise ValueError(f"{what}: operator of undeclared mode {name!r}; modes are {sorted(kinds)}")
        allowed = _SPIN_OPS if kinds[name] == "spin" else _BOSON_OPS
        if op not in allowed:
            raise ValueError(f"{what}: expected an op of the {kinds[name]} {name!r} among {allowed}, got {op!r}")
    return ops


# ------------------------------------------------------------------------------------------------
# symmetry detection
def _monomials(terms, ev: _Evaluator, order: dict) -> dict:
    """``{shift vector (tuple): summed coefficient}`` over the ladder monomials of ``sum coeff * word``.

    Monomials are keyed by their letter sequence first, so that exactly cancelling expansions (the
    ``p p`` of ``x x + y y``) drop out; the result maps each distinct letter sequence to its shift.
    """
    acc: dict = {}
    for coeff, word in terms:
        c = ev(coeff)
        if c == 0:
            continue
        expansions = [((), c, np.zeros(len(order), dtype=np.int64))]
        for name, op in word:
            new = []
            for letters, f, shift in expansions:
                for dk, fac, letter in _EXPAND[op]:
                    s2 = shift.copy()
                    s2[order[name]] += dk
                    new.append((letters + ((name, letter),), f * fac, s2))
            expansions = new
        for letters, f, shift in expansions:
            key = letters
            if key in acc:
                acc[key] = (acc[key][0] + f, shift)
            else:
                acc[key] = (f, shift)
    return {k: (f, shift) for k, (f, shift) in acc.items() if f != 0}


def _nullspace_int(rows: np.ndarray, n: int) -> list[np.ndarray]:
    if len(rows) == 0:
        return [np.eye(n, dtype=np.int64)[i] for i in range(n)]
    ns = sympy.Matrix(rows.tolist()).nullspace()
    out = []
    for v in ns:
        den = functools.reduce(sympy.ilcm, [sympy.fraction(x)[1] for x in v], 1)
        w = np.array([int(x * den) for x in v], dtype=np.int64)
        g = functools.reduce(math.gcd, [abs(int(x)) for x in w if x], 0) or 1
        w //= g
        nz = w[np.flatnonzero(w)]
        if len(nz) and nz[0] < 0:
            w = -w
        out.append(w)
    return out


def _rank_gf2(vectors) -> int:
    M = [np.asarray(v, dtype=np.int64) % 2 for v in vectors]
    if not M:
        return 0
    A = np.array(M)
    r = 0
    for c in range(A.shape[1]):
        piv = [i for i in range(r, A.shape[0]) if A[i, c]]
        if not piv:
            continue
        A[[r, piv[0]]] = A[[piv[0], r]]
        for i in range(A.shape[0]):
            if i != r and A[i, c]:
                A[i] = (A[i] + A[r]) % 2
        r += 1
        if r == A.shape[0]:
            break
    return r


def _nullspace_gf2(rows: np.ndarray, n: int) -> list[np.ndarray]:
    A = (np.asarray(rows, dtype=np.int64) % 2).reshape(-1, n)
    # row reduce, then read off the free columns
    A = A.copy()
    pivots = []
    r = 0
    for c in range(n):
        piv = [i for i in range(r, A.shape[0]) if A[i, c]]
        if not piv:
            continue
        A[[r, piv[0]]] = A[[piv[0], r]]
        for i in range(A.shape[0]):
            if i != r and A[i, c]:
                A[i] = (A[i] + A[r]) % 2
        pivots.append(c)
        r += 1
    free = [c for c in range(n) if c not in pivots]
    out = []
    for f in free:
        v = np.zeros(n, dtype=np.int64)
        v[f] = 1
        for i, pc in enumerate(pivots):
            if A[i, f]:
                v[pc] = 1
        out.append(v)
    return out


def detect_symmetries(system, S, params: Mapping | None = None) -> list[tuple[str, dict]]:
    """Weak U(1) and Z2 symmetries of ``system`` at ``(S, params)``, diagonal in the product basis.

    Returns
    -------
    list of ``(kind, {mode name: integer weight})``, ``kind`` in ``{"U1", "Z2"}``: the charge
    ``Q = sum_mode weight * k_mode`` (``k = m + S`` for spins, the photon number for bosons) is conserved
    by ``H`` and shifted by a fixed amount by each jump (U1), or the same modulo 2 (Z2). Z2 parities
    implied by the U(1) charges are left out. See the module docstring.
    """
    S = validate_spin(S)
    modes = _mode_info(system)
    p = _resolve_params(system, params)
    return _detect(system, modes, p, S)


def _detect(system, modes, p, S) -> list[tuple[str, dict]]:
    ev = _Evaluator(system, p, S)
    kinds = dict(modes)
    order = {n: i for i, (n, _) in enumerate(modes)}
    nm = len(modes)
    rows = []
    for coeff, word in system.hamiltonian_terms():
        _check_word(word, kinds, "hamiltonian_terms")
    for _, (f, shift) in _monomials(system.hamiltonian_terms(), ev, order).items():
        rows.append(shift)
    for k, (rate, terms) in enumerate(system.jump_terms()):
        if ev(rate) == 0:
            continue
        for _, word in terms:
            _check_word(word, kinds, f"jump_terms()[{k}]")
        shifts = [s for _, (f, s) in _monomials(terms, ev, order).items()]
        if shifts:  # a jump whose terms cancel is no jump
            rows += [s - shifts[0] for s in shifts[1:]]
    rows = np.array(rows, dtype=np.int64).reshape(-1, nm)
    u1 = _nullspace_int(rows, nm)
    z2 = _nullspace_gf2(rows, nm)
    base = [u % 2 for u in u1]
    keep = []
    for v in z2:
        if _rank_gf2(base + [v]) > _rank_gf2(base):
            keep.append(v)
            base.append(v)
    names = [n for n, _ in modes]
    out = [("U1", {names[i]: int(w) for i, w in enumerate(u) if w}) for u in u1]
    out += [("Z2", {names[i]: int(w) for i, w in enumerate(v) if w}) for v in keep]
    return out


def _quantum_numbers(dims: list[int]) -> list[np.ndarray]:
    """``k`` of each mode for every basis state (the last mode varies fastest), arrays of shape ``(d,)``."""
    grids = np.indices(dims).reshape(len(dims), -1)
    return [grids[i] for i in range(len(dims))]


def _labels(modes, dims, symmetries, S) -> np.ndarray:
    names = [n for n, _ in modes]
    qn = _quantum_numbers(dims)
    # spins: basis index i is m = S - i, so k = m + S = 2S - i
    ks = [(dims[i] - 1 - q) if modes[i][1] == "spin" else q for i, q in enumerate(qn)]
    cols = []
    for kind, w in symmetries:
        q = sum(int(c) * ks[names.index(n)] for n, c in w.items())
        cols.append(q if kind == "U1" else q % 2)
    d = int(np.prod(dims))
    if not cols:
        return np.zeros(d, dtype=np.int64)
    # mixed radix, first charge most significant: the same lexicographic order as the label tuples
    code = np.zeros(d, dtype=np.int64)
    for c in cols:
        lo = int(c.min())
        code = code * (int(c.max()) - lo + 1) + (c - lo)
    _, inv = np.unique(code, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def _sector_name(symmetries) -> str:
    kinds = [k for k, _ in symmetries]
    parts = []
    if kinds.count("U1"):
        parts.append("U1" if kinds.count("U1") == 1 else f"U1^{kinds.count('U1')}")
    if kinds.count("Z2"):
        parts.append("Z2" if kinds.count("Z2") == 1 else f"Z2^{kinds.count('Z2')}")
    return "x".join(parts) or "none"


# ------------------------------------------------------------------------------------------------
# the Liouvillian
@dataclass(eq=False)
class SystemLiouvillian:
    """An open system made numeric at ``(S, params, cutoffs)``: operators, symmetries, blocks.

    Attributes
    ----------
    name : str
    S : float
    params : dict
    cutoffs : dict
        Fock levels per boson.
    modes : list of (name, kind)
    dims : list of int
        Levels per mode (``2S + 1`` or the cutoff), in declaration order; ``d = prod(dims)``.
    H : csr (d, d)
    c_ops : list of csr (d, d)
        ``sqrt(rate) L`` of each jump with a non-zero rate.
    symmetries : list of (kind, weights)
        See :func:`detect_symmetries`.
    sector : str
        ``"U1"``, ``"Z2"``, ``"U1xZ2"``, ... or ``"none"`` (one block).
    labels : int array (d,)
        Joint symmetry label of each basis state (block index, ordered lexicographically).
    """

    name: str
    S: float
    params: dict
    cutoffs: dict
    modes: list
    dims: list
    H: sp.csr_matrix
    c_ops: list
    symmetries: list
    sector: str
    labels: np.ndarray
    _evaluator: Any = field(default=None, repr=False)
    _blocks: Any = field(default=None, repr=False)
    _ops: dict = field(default_factory=dict, repr=False)

    @property
    def d(self) -> int:
        return int(np.prod(self.dims))

    @property
    def blocks(self) -> BlockLiouvillian:
        """The Liouvillian on the symmetry blocks that hold the steady state."""
        if self._blocks is None:
            # two modes: the product structure enables the Kronecker preconditioner (used by "auto" only
            # where H_eff is a sum of one-mode terms)
            self._blocks = BlockLiouvillian.from_operators(self.H, self.c_ops, self.labels, self.sector,
                                                           S=self.S, params=self.params,
                                                           dims=tuple(self.dims) if len(self.dims) == 2 else None)
        return self._blocks

    def local(self, mode: str, op: str) -> sp.csr_matrix:
        """The ``(n, n)`` matrix of ``op`` on one mode (unembedded)."""
        key = (mode, op)
        M = self._ops.get(key)
        if M is None:
            kind = dict(self.modes)[mode]
            if kind == "spin":
                s = spin_operators(self.S)
                M = {"x": s.x, "y": s.y, "z": s.z, "p": s.plus, "m": s.minus}[op]
            else:
                a, ad = boson_operators(self.cutoffs[mode])
                M = {"a": a, "dag": ad}[op]
            M = self._ops[key] = sp.csr_matrix(M)
        return M

    def operator(self, terms) -> sp.csr_matrix:
        """``sum coeff * prod(ops)`` on the full space, sparse CSR ``(d, d)``.

        ``terms``: a list of ``(coeff, ((mode, op), ...))`` as in ``hamiltonian_terms()``, a single
        word ``((mode, op), ...)``, or an object with a ``terms`` mapping ``{word: coeff}`` whose words
        are tuples of ``(mode or mode name, op)`` (a :class:`bifurcate.spec.Operator`).
        """
        terms = _as_terms(terms)
        kinds = dict(self.modes)
        names = [n for n, _ in self.modes]
        d = self.d
        out = sp.csr_matrix((d, d), dtype=complex)
        for coeff, word in terms:
            word = _check_word(word, kinds, "operator")
            c = self._evaluator(coeff)
            if c == 0:
                continue
            # operators of different modes commute: multiply each mode's letters in order, then kron
            per = {}
            for name, op in word:
                M = self.local(name, op)
                per[name] = M if name not in per else per[name] @ M
            mats = [per.get(n, sp.identity(self.dims[i], format="csr")) for i, n in enumerate(names)]
            prod = mats[0]
            for M in mats[1:]:
                prod = sp.kron(prod, M, format="csr")
            out = out + c * prod
        out = sp.csr_matrix(out)
        out.eliminate_zeros()
        if out.nnz and np.abs(out.data.imag).max() == 0:
            out = sp.csr_matrix(out.real)
        return out

    def matrix(self) -> sp.csr_matrix:
        """The full Liouvillian, sparse ``(d^2, d^2)`` on column-stacked ``vec(rho)`` (QuTiP's convention)."""
        return liouvillian(self.H, self.c_ops)

    def qutip(self):
        """``(H, c_ops)`` as ``qutip.Qobj`` with tensor dims (for ``qutip.steadystate``, ``mesolve``)."""
        import qutip

        dims = [list(self.dims), list(self.dims)]
        return qutip.Qobj(self.H, dims=dims), [qutip.Qobj(c, dims=dims) for c in self.c_ops]

    def superoperator_sectors(self) -> dict:
        """Sparse blocks of :meth:`matrix` keyed by the symmetry sector of ``|i><j|``.

        The key holds ``Q_i - Q_j`` for each U(1) charge and ``(P_i - P_j) mod 2`` for each parity; the
        sector of zeros holds the steady state. A system without symmetry has the one key ``()``.
        """
        L = self.matrix().tocsr()
        d = self.d
        names = [n for n, _ in self.modes]
        qn = _quantum_numbers(self.dims)
        ks = [(self.dims[i] - 1 - q) if self.modes[i][1] == "spin" else q for i, q in enumerate(qn)]
        alpha = np.tile(np.arange(d), d)   # vec index v = beta * d + alpha <-> rho[alpha, beta]
        beta = np.repeat(np.arange(d), d)
        cols = []
        for kind, w in self.symmetries:
            q = sum(int(c) * ks[names.index(n)] for n, c in w.items())
            diff = q[alpha] - q[beta]
            cols.append(diff if kind == "U1" else diff % 2)
        if not cols:
            return {(): L.tocsc()}
        keys, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        return {tuple(int(x) for x in key): L[np.flatnonzero(inv == i)][:, np.flatnonzero(inv == i)].tocsc()
                for i, key in enumerate(keys)}


def _as_terms(terms) -> list:
    if hasattr(terms, "terms") and isinstance(getattr(terms, "terms"), Mapping):
        return [(c, tuple((getattr(m, "name", m), letter) for m, letter in w)) for w, c in terms.terms.items()]
    if isinstance(terms, tuple) and terms and all(isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], str)
                                                  for t in terms):
        return [(1, terms)]
    if isinstance(terms, (list, tuple)):
        out = []
        for t in terms:
            if not (isinstance(t, (tuple, list)) and len(t) == 2):
                raise ValueError(f"expected operator terms (coeff, ((mode, op), ...)), got {t!r}")
            out.append((t[0], tuple(t[1])))
        return out
    raise TypeError(f"expected operator terms [(coeff, ((mode, op), ...)), ...] or an Operator, got {terms!r}")


def _dims_of(modes, S, cutoffs) -> list[int]:
    n = int(round(2 * S)) + 1
    return [n if k == "spin" else cutoffs[name] for name, k in modes]


def _n_unknowns(modes, dims, symmetries, S) -> tuple[int, np.ndarray | None]:
    """Real unknowns of the blocked problem, counted exactly when the labels fit in memory, else a lower bound."""
    d = int(np.prod([float(x) for x in dims]))
    if d <= _LABEL_MAX_DIM:
        labels = _labels(modes, dims, symmetries, S)
        counts = np.bincount(labels).astype(float)
        return int((counts ** 2).sum()), labels
    # sum of squares of block sizes >= d^2 / (number of blocks), bounded by the range of each charge
    names = [n for n, _ in modes]
    n_blocks = 1.0
    for kind, w in symmetries:
        n_blocks *= (sum(abs(c) * (dims[names.index(n)] - 1) for n, c in w.items()) + 1) if kind == "U1" else 2
    return int(float(d) ** 2 / n_blocks), None


def liouvillian_system(system, S, params: Mapping | None = None, *, cutoffs=None,
                       options: SteadyStateOptions | Mapping | None = None) -> SystemLiouvillian:
    """Build the numeric operators, detect the weak symmetries and block the Liouvillian of ``system``.

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem (or any object with its interface)
    S : positive integer or half-integer
        Spin length of every spin (``2S + 1`` levels); it may appear in the coefficients.
    params : dict, optional
        Overrides of ``system.parameters`` (unknown names raise ``KeyError``).
    cutoffs : int or dict, optional
        Fock levels per boson (default :data:`DEFAULT_CUTOFF`).
    options : SteadyStateOptions or dict, optional
        Only ``max_memory_gib`` is used here: the size is checked before the operators are built.

    Raises
    ------
    ValueError, KeyError, TypeError
        Bad ``S``, parameters, cutoffs, terms; a negative rate; a non-Hermitian ``H``; every rate zero.
    QuantumSizeError
        The blocked steady-state problem does not fit in memory.
    """
    S = validate_spin(S)
    modes = _mode_info(system)
    p = _resolve_params(system, params)
    cut = _resolve_cutoffs(modes, cutoffs, DEFAULT_CUTOFF)
    opts = _resolve_options(options)
    symmetries = _detect(system, modes, p, S)
    dims = _dims_of(modes, S, cut)
    N, labels = _n_unknowns(modes, dims, symmetries, S)
    check_memory(N, "krylov", u1=False, opts=opts, what=f"{system.name} at S={S:g}, cutoffs={cut}")
    sys_l = SystemLiouvillian(name=system.name, S=S, params=p, cutoffs=cut, modes=modes, dims=dims,
                              H=sp.csr_matrix((1, 1)), c_ops=[], symmetries=symmetries,
                              sector=_sector_name(symmetries), labels=labels)
    ev = _Evaluator(system, p, S)
    sys_l._evaluator = ev
    H = sys_l.operator(system.hamiltonian_terms())
    herm = abs(H - H.conj().T)
    scale = float(abs(H).max()) if H.nnz else 0.0
    if herm.nnz and float(herm.max()) > 1e-12 * max(scale, 1.0):
        raise ValueError(f"system {system.name!r}: the Hamiltonian is not Hermitian at {p} and S = {S:g} "
                         f"(max |H - H^+| = {float(herm.max()):.2e})")
    c_ops = []
    for k, (rate, terms) in enumerate(system.jump_terms()):
        r = ev(rate)
        if abs(r.imag) > 1e-14 * max(1.0, abs(r)) or r.real < 0:
            val = r.real if not r.imag else r
            raise ValueError(f"system {system.name!r}: jump_terms()[{k}] has rate {rate} = {val} "
                             f"at {p} and S = {S:g}; expected a real rate >= 0")
        if r.real == 0:
            continue
        L = sys_l.operator(terms)
        if L.nnz:
            c_ops.append(sp.csr_matrix(math.sqrt(r.real) * L))
    if not c_ops:
        raise ValueError(f"system {system.name!r}: every jump rate is 0 at {p} (or there are no jumps): without "
                         "dissipation the steady state is not unique (every state diagonal in the eigenbasis of H "
                         "is stationary)")
    sys_l.H = H
    sys_l.c_ops = c_ops
    return sys_l


# ------------------------------------------------------------------------------------------------
# the steady state
@dataclass(frozen=True, eq=False)
class SystemSteadyState:
    """A validated, certified steady state of an open system and its observables.

    Observables are attributes named by mode (also in :meth:`observables`): for a spin ``A``,
    ``XA, YA, ZA`` (``<S^a> / S``), ``X2A, Y2A, Z2A`` (``<(S^a)^2> / S^2``) and ``purity_A``; for two
    spins ``A, B`` the correlation ``ZAZB = <S_z^A S_z^B> / S^2``; for a boson ``a``, ``n_a = <a^+ a>``,
    ``a_a = <a>`` (complex) and ``purity_a``. Other expectations: :meth:`expect`.

    Attributes
    ----------
    name : str
        The system's name.
    S : float
    params, cutoffs : dict
    method : str
        ``"direct"``, ``"krylov"`` or ``"qutip"``.
    sector : str
        The detected symmetry (``"U1"``, ``"Z2"``, ..., ``"none"``); ``symmetries`` lists the charges.
    blocks, index : tuples
        Hermitian blocks of ``rho`` and the basis states (flat indices of the product basis) of each.
    purity, residual, trace_error, hermiticity_error, min_eigenvalue : float
    error_estimate, gap_estimate : float
        Gap-scaled estimate of ``||rho - rho_exact||_F / ||rho||_F`` and the gap estimate behind it.
    cutoff_check : dict
        Per boson the population of its top two Fock levels, the tolerance, whether converged, and
        (``cutoffs="auto"``) the history and the change of the observables at the last doubling.
    status, message : str
        ``"ok"`` or ``"not-trusted"`` (the reasons are in the message).
    stats : dict
    options : SteadyStateOptions
    """

    name: str
    S: float
    params: dict
    cutoffs: dict
    method: str
    sector: str
    symmetries: list
    blocks: tuple
    index: tuple
    dims: tuple
    values: dict
    purity: float
    residual: float
    trace_error: float
    hermiticity_error: float
    min_eigenvalue: float
    error_estimate: float
    gap_estimate: float
    cutoff_check: dict
    status: str
    message: str
    stats: dict
    options: SteadyStateOptions
    liouvillian: SystemLiouvillian = field(repr=False)

    def __getattr__(self, name):
        if name.startswith("__") or name == "values":
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute or observable {name!r}; observables: "
                                 f"{sorted(self.values)}") from None

    @property
    def success(self) -> bool:
        return self.status == "ok"

    def observables(self) -> dict:
        """The scalar observables (named by mode), as a dict."""
        return dict(self.values)

    @functools.cached_property
    def rho(self) -> np.ndarray:
        """The full density matrix, dense complex ``(d, d)`` in the product basis (QuTiP's tensor order)."""
        d = int(np.prod(self.dims))
        out = np.zeros((d, d), dtype=complex)
        for ix, X in zip(self.index, self.blocks):
            out[np.ix_(ix, ix)] = X
        return out

    def qobj(self):
        """``rho`` as a ``qutip.Qobj`` with the tensor dims of the modes."""
        import qutip

        return qutip.Qobj(self.rho, dims=[list(self.dims), list(self.dims)])

    def reduced(self, mode: str) -> np.ndarray:
        """Reduced density matrix of one mode, complex ``(n, n)`` in its basis."""
        names = [n for n, _ in self.liouvillian.modes]
        if mode not in names:
            raise ValueError(f"expected a mode among {names}, got {mode!r}")
        return _reduced(self.blocks, self.index, list(self.dims), names.index(mode))

    def expect(self, operator) -> complex:
        """``Tr[O rho]`` for ``O`` given as terms ``[(coeff, ((mode, op), ...)), ...]``, one word, or an
        :class:`bifurcate.spec.Operator`; coefficients are evaluated at this state's ``S`` and parameters.
        Real (a float) when ``O`` is Hermitian to rounding."""
        O = self.liouvillian.operator(operator)
        val = 0j
        for ix, X in zip(self.index, self.blocks):
            val += complex(O[ix][:, ix].multiply(X.T).sum())
        herm = abs(O - O.conj().T)
        if not herm.nnz or float(herm.max()) <= 1e-12 * max(1.0, float(abs(O).max()) if O.nnz else 1.0):
            return float(val.real)
        return val

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: ``S``, the parameters, cutoffs, observables (complex split into _re, _im), evidence."""
        obs = {}
        for k, v in self.values.items():
            if isinstance(v, complex):
                obs[f"{k}_re"], obs[f"{k}_im"] = v.real, v.imag
            else:
                obs[k] = v
        row = {"system": self.name, "S": self.S, **self.params, **{f"cutoff_{b}": c for b, c in self.cutoffs.items()},
               **obs, "residual": self.residual, "error_estimate": self.error_estimate,
               "gap_estimate": self.gap_estimate, "min_eigenvalue": self.min_eigenvalue, "method": self.method,
               "sector": self.sector, "status": self.status, "message": self.message,
               "time_s": self.stats.get("time_total"), "n_unknowns": self.stats.get("n_unknowns")}
        return pd.DataFrame([row])


def _reduced(blocks, index, dims, j) -> np.ndarray:
    n = dims[j]
    out = np.zeros((n, n), dtype=complex)
    for ix, X in zip(index, blocks):
        multi = np.unravel_index(ix, dims)
        keep = multi[j]
        other = np.ravel_multi_index(tuple(m for i, m in enumerate(multi) if i != j),
                                     tuple(x for i, x in enumerate(dims) if i != j)) if len(dims) > 1 \
            else np.zeros(len(ix), dtype=np.int64)
        # pairs of basis states of the block that agree on every other mode
        order = np.argsort(other, kind="stable")
        o_sorted = other[order]
        starts = np.flatnonzero(np.r_[True, o_sorted[1:] != o_sorted[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for s0, s1 in zip(starts, ends):
            grp = order[s0:s1]
            kk = keep[grp]
            out[np.ix_(kk, kk)] += X[np.ix_(grp, grp)]
    return out


def _observables(sl: SystemLiouvillian, blocks, index) -> dict:
    dims = list(sl.dims)
    S = sl.S
    out = {}
    spins = []
    for j, (name, kind) in enumerate(sl.modes):
        r = _reduced(blocks, index, dims, j)
        if kind == "spin":
            s = spin_operators(S)
            ex = {k: complex(np.trace(M.toarray() @ r)) for k, M in
                  (("X", s.x), ("Y", s.y), ("Z", s.z), ("X2", s.x @ s.x), ("Y2", s.y @ s.y), ("Z2", s.z @ s.z))}
            for k in ("X", "Y", "Z"):
                out[f"{k}{name}"] = ex[k].real / S
            for k in ("X2", "Y2", "Z2"):
                out[f"{k}{name}"] = ex[k].real / S ** 2
            spins.append((j, name))
        else:
            n = dims[j]
            levels = np.arange(n)
            out[f"n_{name}"] = float(np.real(np.diag(r)) @ levels)
            out[f"a_{name}"] = complex(np.sum(np.sqrt(levels[1:]) * np.diag(r, k=-1)))
        out[f"purity_{name}"] = float(np.vdot(r, r).real)
    # <S_z S_z> correlations of spin pairs from the populations
    if len(spins) > 1:
        for a in range(len(spins)):
            for b in range(a + 1, len(spins)):
                (ja, na), (jb, nb) = spins[a], spins[b]
                acc = 0.0
                for ix, X in zip(index, blocks):
                    multi = np.unravel_index(ix, dims)
                    ma = S - multi[ja]
                    mb = S - multi[jb]
                    acc += float(np.real(np.diag(X)) @ (ma * mb))
                out[f"Z{na}Z{nb}"] = acc / S ** 2
    return out


def _top_population(sl: SystemLiouvillian, blocks, index) -> dict:
    out = {}
    for j, (name, kind) in enumerate(sl.modes):
        if kind == "boson":
            pops = np.real(np.diag(_reduced(blocks, index, list(sl.dims), j)))
            out[name] = float(pops[-2:].sum())
    return out


def _qutip_blocks(sl: SystemLiouvillian):
    import qutip

    t0 = time.perf_counter()
    H, c = sl.qutip()
    rho = qutip.steadystate(H, c).full()
    t1 = time.perf_counter()
    B = sl.blocks
    blocks = [rho[np.ix_(ix, ix)].copy() for ix in B.index]
    rest = rho.copy()
    for ix in B.index:
        rest[np.ix_(ix, ix)] = 0.0
    return blocks, {"solver": "qutip.steadystate", "time_solve": t1 - t0, "time_setup": 0.0, "matvecs": 0,
                    "off_block_max": float(np.abs(rest).max())}


def _solve_once(system, S, p, cut, method, opts, x0, what):
    t0 = time.perf_counter()
    sl = liouvillian_system(system, S, p, cutoffs=cut, options=opts)
    B = sl.blocks
    t_build = time.perf_counter() - t0
    x0_blocks = None
    if x0 is not None:
        rho0 = x0.rho if isinstance(x0, SystemSteadyState) else np.asarray(x0.full() if hasattr(x0, "full") else x0)
        if rho0.shape == (sl.d, sl.d):
            x0_blocks = [rho0[np.ix_(ix, ix)] for ix in B.index]
        else:
            raise ValueError(f"expected x0 of shape {(sl.d, sl.d)}, got {rho0.shape}")
    # a single mode (e.g. the BTC) is a 2-D stencil: its LU stays sparse, so the U(1) thresholds apply
    size_class = "U1" if ("U1" in sl.sector or len(sl.modes) == 1) else "Z2"
    out = solve_blocks(B, method, opts, x0_blocks=x0_blocks, qutip_solve=lambda: _qutip_blocks(sl), what=what,
                       size_class=size_class)
    out["stats"]["time_build"] = t_build
    return sl, out


def steady_state_system(system, S, params: Mapping | None = None, *, method: str = "auto", cutoffs=None,
                        cutoff_tol: float = 1e-8, max_cutoff: int = 256,
                        options: SteadyStateOptions | Mapping | None = None, x0=None) -> SystemSteadyState:
    """The unique steady state of an open system, solved in its symmetry blocks, validated and certified.

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem (or any object with its interface; see the module docstring)
    S : positive integer or half-integer
    params : dict, optional
        Overrides of ``system.parameters``.
    method : {"auto", "direct", "krylov", "qutip"}
        As :func:`bifurcate.quantum.steady_state` (``"auto"``: sparse LU for small blocks, Krylov
        beyond, LU fallback when Krylov fails or cannot be certified).
    cutoffs : None, int or dict
        Fock levels per boson; ``None`` ("auto") starts at 8 and doubles (up to ``max_cutoff``) until the
        top two levels of every boson hold at most ``cutoff_tol``.
    cutoff_tol : float
        Bound on the population of the top two Fock levels (checked on every result).
    options : SteadyStateOptions or dict, optional
        Tolerances, certification (``max_error``), memory limit.
    x0 : SystemSteadyState or array, optional
        Initial guess for the Krylov solver (same cutoffs).

    Returns
    -------
    SystemSteadyState
        ``status="not-trusted"`` (with the reason) when the error cannot be certified or the cutoff
        has not converged.

    Raises
    ------
    ValueError, KeyError, TypeError
        Bad input (named in the message); every rate zero (the steady state is not unique).
    QuantumSizeError
        Estimated memory above the limit (before allocating).
    SteadyStateError
        The solvers failed or the state failed validation (the evidence is attached).
    """
    t_start = time.perf_counter()
    S = validate_spin(S)
    modes = _mode_info(system)
    p = _resolve_params(system, params)
    if method not in METHODS:
        raise ValueError(f"expected method one of {METHODS}, got {method!r}")
    if not (isinstance(cutoff_tol, (int, float)) and not isinstance(cutoff_tol, bool) and 0 < cutoff_tol < 1):
        raise ValueError(f"expected cutoff_tol a number in (0, 1), got {cutoff_tol!r}")
    if isinstance(max_cutoff, (bool, np.bool_)) or not isinstance(max_cutoff, (int, np.integer)) or max_cutoff < 2:
        raise ValueError(f"expected max_cutoff an integer >= 2, got {max_cutoff!r}")
    opts = _resolve_options(options)
    bosons = [n for n, k in modes if k == "boson"]
    auto_cut = cutoffs is None and bool(bosons)
    cut = _resolve_cutoffs(modes, cutoffs, min(8, max_cutoff))
    what = f"steady_state_system({system.name}, S={S:g})"
    history = []
    prev = None
    size_stop = None
    while True:
        try:
            sl, out = _solve_once(system, S, p, cut, method, opts, x0 if not history else None, what)
        except QuantumSizeError as exc:
            if not history:
                raise
            # the doubled cutoff does not fit: keep the last result, reported as unconverged
            size_stop = str(exc)
            cut = dict(history[-1]["cutoffs"])
            sl, out = last
            break
        blocks = out["blocks"]
        B = sl.blocks
        obs = _observables(sl, blocks, B.index)
        top = _top_population(sl, blocks, B.index)
        history.append({"cutoffs": dict(cut), "top_population": top})
        converged = all(v <= cutoff_tol for v in top.values())
        change = None
        if prev is not None:
            change = max((abs(obs[k] - prev[k]) for k in obs if k in prev and not k.startswith("purity")),
                         default=0.0)
            history[-1]["observable_change"] = change
        last = (sl, out)
        if not auto_cut or converged:
            break
        grow = {b: (min(2 * c, max_cutoff) if top[b] > cutoff_tol else c) for b, c in cut.items()}
        if grow == cut:  # at max_cutoff
            break
        prev, cut = obs, grow
    ev = out["evidence"]
    reasons = list(out["reasons"])
    if bosons and not converged:
        worst = {b: v for b, v in top.items() if v > cutoff_tol}
        why = (f" (a larger cutoff does not fit: {size_stop})" if size_stop else
               f" (max_cutoff {max_cutoff} reached)" if auto_cut else "; raise the cutoff or pass cutoffs=None")
        reasons.append(f"Fock cutoff not converged: the top two levels hold {worst} > cutoff_tol {cutoff_tol:.0e} "
                       f"at cutoffs {cut}" + why)
    cutoff_check = {"top_population": top, "tol": cutoff_tol, "converged": converged, "auto": auto_cut,
                    "history": history}
    stats = out["stats"]
    stats.update({"n_unknowns": B.n_unknowns, "dim": B.dim, "block_sizes": B.sizes, "sector": sl.sector,
                  "time_total": time.perf_counter() - t_start, "n_threads": opts.n_threads,
                  "certificate": ev["certificate"]})
    status = "not-trusted" if reasons else "ok"
    msg = (f"{out['method']}/{sl.sector}: residual {ev['residual']:.1e}, estimated error {ev['error_estimate']:.1e}, "
           f"min eigenvalue {ev['min_eigenvalue']:.1e}, {B.n_unknowns} unknowns in {len(B.sizes)} block(s), "
           f"{stats['time_total']:.2f} s")
    if reasons:
        msg = "not trusted: " + "; ".join(reasons) + " [" + msg + "]"
    purity = float(sum(np.vdot(X, X).real for X in blocks))
    return SystemSteadyState(name=system.name, S=S, params=p, cutoffs=dict(cut), method=out["method"],
                             sector=sl.sector, symmetries=list(sl.symmetries), blocks=tuple(blocks),
                             index=tuple(B.index), dims=tuple(sl.dims), values=obs, purity=purity,
                             residual=ev["residual"], trace_error=abs(out["raw_trace"] - 1.0),
                             hermiticity_error=ev["hermiticity_error"], min_eigenvalue=ev["min_eigenvalue"],
                             error_estimate=ev["error_estimate"], gap_estimate=ev["gap_estimate"],
                             cutoff_check=cutoff_check, status=status, message=msg, stats=stats, options=opts,
                             liouvillian=sl)


# ------------------------------------------------------------------------------------------------
# the spectrum
@dataclass(frozen=True, eq=False)
class SystemSpectrum:
    """Leading Liouvillian eigenvalues per symmetry sector of an open system.

    Attributes
    ----------
    name : str
    S : float
    params, cutoffs : dict
    sectors : dict
        ``{sector key: complex eigenvalues sorted by decreasing real part}``; the key of zeros (``()``
        without symmetry) holds the steady state's eigenvalue 0 first.
    gap : float
        ``-Re`` of the slowest decaying eigenvalue other than the steady state's, over all sectors.
    method, status, message : str
    stats : dict
    """

    name: str
    S: float
    params: dict
    cutoffs: dict
    sectors: dict
    gap: float
    method: str
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per sector: its key, the leading eigenvalue (the second in the steady state's), status."""
        rows = []
        for key, vals in self.sectors.items():
            zero = all(k == 0 for k in key)
            lead = vals[1] if zero and len(vals) > 1 else (vals[0] if len(vals) else np.nan)
            rows.append({"system": self.name, "S": self.S, **self.params, "sector": str(key),
                         "leading": lead, "gap": self.gap, "method": self.method, "status": self.status})
        return pd.DataFrame(rows)


def system_spectrum(system, S, params: Mapping | None = None, *, cutoffs=None, k: int = 6, method: str = "auto",
                    sigma: float = 0.02, dense_max: int = 2500, tau: float = 1.0, tol: float = 1e-10,
                    options: SteadyStateOptions | Mapping | None = None) -> SystemSpectrum:
    """Leading eigenvalues of the Liouvillian of ``system`` in each sector of its detected symmetries.

    ``method="dense"`` diagonalises each sector (``numpy.linalg.eigvals``), ``"arnoldi"`` takes the ``k``
    eigenvalues nearest ``sigma`` by shift-invert (``scipy.sparse.linalg.eigs``; slow modes far up the
    imaginary axis may be missed, said in the message); ``"auto"``: dense up to ``dense_max`` states per
    sector. The memory of the full ``d^2`` Liouvillian is checked first. The default shift ``sigma = 0.02``
    lies just right of the imaginary axis: at ``sigma = 0`` the shifted Liouvillian of the sector holding
    the steady state is exactly singular, so its LU is at the mercy of rounding (a spurious gap of ~1e-16
    was reported once at S = 2-3, (J, lam) = (1.5, 0); not reproduced in the test below).

    ``method="propagator"`` finds the ``k`` *slowest* eigenvalues of each sector (largest real part, whatever
    their imaginary part, so the limit-cycle bands ``i k omega`` are not missed) without any factorisation:
    implicitly restarted Arnoldi (ARPACK, largest modulus) on the propagator ``exp(tau L)``, applied by a
    Taylor time stepper (:func:`propagator_eigenvalues`); each eigenvalue is then the Rayleigh quotient of its
    eigenvector with ``L`` itself (no logarithm branch, no aliasing of ``Im mu`` beyond ``pi / tau``) and its
    residual ``||L v - mu v|| / ||v||`` is reported (``stats["residuals"]``); a residual above
    ``sqrt(tol) ||L||_1`` gives ``status="warning"``. Memory: vectors of the sector's size, no LU fill, so
    it reaches much larger ``S`` than ``"arnoldi"`` (whose LU of the 4-D stencil fills up). ``tol`` is
    ARPACK's relative tolerance on the eigenvalues of ``exp(tau L)``; ``tau`` (> 0) trades Arnoldi
    iterations (separation of ``exp(tau Re mu)``) against products per propagation (about ``tau ||L||``).
    """
    import scipy.sparse.linalg as spla
    from threadpoolctl import threadpool_limits

    if method not in ("auto", "dense", "arnoldi", "propagator"):
        raise ValueError(f"expected method 'auto', 'dense', 'arnoldi' or 'propagator', got {method!r}")
    if isinstance(k, (bool, np.bool_)) or not (isinstance(k, (int, np.integer)) and k >= 2):
        raise ValueError(f"expected k an integer >= 2, got {k!r}")
    for name, v in (("tau", tau), ("tol", tol)):
        if isinstance(v, (bool, np.bool_)) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"expected {name} a positive finite number, got {v!r}")
    sigma, dense_max = _v.check_real("sigma", sigma), _v.check_count("dense_max", dense_max, minimum=0)
    t0 = time.perf_counter()
    opts = _resolve_options(options)
    S = validate_spin(S)
    modes = _mode_info(system)
    cut = _resolve_cutoffs(modes, cutoffs, DEFAULT_CUTOFF)
    d = float(np.prod(_dims_of(modes, S, cut)))
    est = 16.0 * 12 * d * d  # the sparse complex d^2 Liouvillian, about a dozen entries per row
    lim = memory_limit(opts)
    if est > lim:
        from .steady import QuantumSizeError, _gib

        raise QuantumSizeError(f"system_spectrum({system.name}, S={S:g}): the Liouvillian needs about {_gib(est)}, "
                               f"more than the limit of {_gib(lim)} (options max_memory_gib)")
    sl = liouvillian_system(system, S, params, cutoffs=cut, options=opts)
    secs = sl.superoperator_sectors()
    biggest = max(b.shape[0] for b in secs.values())
    if method == "auto":
        method = "dense" if biggest <= dense_max else "arnoldi"
    if method == "dense" and biggest > 4 * dense_max:
        raise QuantumSizeError(f"system_spectrum: a sector has {biggest} states, too many for method='dense' "
                               f"(at most {4 * dense_max}); use method='arnoldi'")
    vals, residuals, n_products = {}, {}, {}
    with threadpool_limits(limits=1, user_api="blas"):
        for key, Lb in secs.items():
            n = Lb.shape[0]
            if method == "dense" or n <= max(k + 2, 50):
                ev = np.linalg.eigvals(Lb.toarray())
            elif method == "propagator":
                ev, res, info = propagator_eigenvalues(Lb, k=min(k, n - 2), tau=tau, tol=tol)
                residuals[key] = res
                n_products[key] = info["products"]
            else:
                lu = spla.splu((Lb - sigma * sp.identity(n, format="csc")).tocsc(), permc_spec="COLAMD")
                op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=complex)
                ev = spla.eigs(Lb, k=min(k + 1, n - 2), sigma=sigma, OPinv=op, which="LM",
                               return_eigenvectors=False, maxiter=5000)
            vals[key] = ev[np.argsort(-ev.real, kind="stable")][:k]
    zero_key = tuple(0 for _ in sl.symmetries)
    rest = [v[1:] if key == zero_key else v for key, v in vals.items()]
    rest = np.concatenate(rest) if rest else np.array([])
    gap = float(-rest.real.max()) if len(rest) else math.nan
    mu0 = abs(vals[zero_key][0]) if len(vals.get(zero_key, [])) else math.inf
    status, msg = "ok", f"{method}/{sl.sector}: |mu0| = {mu0:.1e}, gap = {gap:.4g}, {len(vals)} sector(s)"
    if method == "arnoldi":
        msg += (f" (the {k} eigenvalues nearest sigma = {sigma} per sector; slow modes far up the imaginary axis "
                "may be missed)")
    if method == "propagator":
        msg += f" (the {k} slowest per sector: Arnoldi on exp({tau:g} L), Rayleigh quotients)"
    scale = max(1.0, max(float(np.abs(v).max()) for v in vals.values() if len(v)))
    if not mu0 <= 1e-8 * scale:
        status = "warning"
        msg += "; the steady-state eigenvalue is not resolved"
    if residuals:
        worst = max(float(np.max(r)) if len(r) else 0.0 for r in residuals.values())
        norm1 = max(float(abs(Lb).sum(axis=0).max()) for Lb in secs.values())
        msg += f"; worst eigenpair residual {worst:.1e} (||L||_1 = {norm1:.3g})"
        if not worst <= math.sqrt(tol) * norm1:
            status = "warning"
            msg += " (above sqrt(tol) ||L||_1: an eigenvalue is not converged)"
    return SystemSpectrum(name=system.name, S=S, params=sl.params, cutoffs=sl.cutoffs, sectors=vals, gap=gap,
                          method=method, status=status, message=msg,
                          stats={"time_s": time.perf_counter() - t0, "largest_sector": biggest,
                                 "n_sectors": len(vals), "residuals": residuals, "products": n_products})


def _taylor_propagator(L, tau: float, tol: float = 2.0 ** -53):
    """``v -> exp(tau L) v`` for a sparse ``L``: shifted Taylor steps (Al-Mohy & Higham's scheme, simplified).

    ``L`` is shifted by ``mu = tr(L) / n`` (the mean decay rate, often the largest part of ``||L||``);
    ``s`` substeps of length ``tau / s`` with ``tau ||L - mu||_1 / s <= 4``, each a Taylor series summed
    until two consecutive terms fall below ``tol`` times the partial sum (at most 60 terms; a series that
    has not converged by then raises). Returns ``(apply, counter)``, ``counter[0]`` the products so far.
    """
    n = L.shape[0]
    mu = complex(L.diagonal().sum()) / n
    A = (L - mu * sp.identity(n, format="csr", dtype=L.dtype)).tocsr()
    a1 = float(abs(A).sum(axis=0).max()) if A.nnz else 0.0
    s = max(1, int(math.ceil(tau * a1 / 4.0)))
    h = tau / s
    eta = complex(np.exp(mu * h))
    count = [0]

    def apply(v):
        F = np.asarray(v, dtype=complex).copy()
        for _ in range(s):
            term = F.copy()
            c1 = np.linalg.norm(term, np.inf)
            for j in range(1, 61):
                term = (h / j) * (A @ term)
                count[0] += 1
                c2 = np.linalg.norm(term, np.inf)
                F += term
                if c1 + c2 <= tol * np.linalg.norm(F, np.inf):
                    break
                c1 = c2
            else:
                raise RuntimeError(f"Taylor series of exp({h:g} L) not converged in 60 terms")
            F *= eta
        return F

    return apply, count


def propagator_eigenvalues(L, k: int = 6, tau: float = 1.0, tol: float = 1e-10, ncv: int | None = None,
                           maxiter: int = 2000, seed: int = 20240701):
    """The ``k`` eigenvalues of largest real part of a sparse (Liouvillian) matrix ``L``, with residuals.

    Arnoldi (ARPACK ``eigs``, largest modulus, tolerance ``tol``) on ``exp(tau L)`` (:func:`_taylor_propagator`);
    the eigenvalues of ``L`` are the Rayleigh quotients ``mu = v^+ L v / v^+ v`` of the eigenvectors
    (exact for an exact eigenvector, whatever ``Im mu tau``), sorted by decreasing real part.

    Returns ``(mu, residuals, info)``: ``residuals[i] = ||L v_i - mu_i v_i|| / ||v_i||`` and ``info`` with
    ``products`` (sparse products with ``L``), ``tau``, ``substeps``.
    """
    import scipy.sparse.linalg as spla

    L = sp.csr_matrix(L)
    n = L.shape[0]
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= n - 2):
        raise ValueError(f"expected k an integer in [1, {n - 2}], got {k!r}")
    apply, count = _taylor_propagator(L, tau)
    op = spla.LinearOperator((n, n), matvec=apply, dtype=complex)
    v0 = np.random.default_rng(seed).normal(size=n) + 0j
    ncv = ncv or min(n - 1, max(2 * k + 1, 24))
    lam, V = spla.eigs(op, k=k, which="LM", tol=tol, ncv=ncv, v0=v0, maxiter=maxiter)
    LV = L @ V
    nv = np.einsum("ij,ij->j", V.conj(), V).real
    mu = np.einsum("ij,ij->j", V.conj(), LV) / nv
    res = np.linalg.norm(LV - V * mu[None, :], axis=0) / np.sqrt(nv)
    order = np.argsort(-mu.real, kind="stable")
    return mu[order], res[order], {"products": count[0], "tau": tau}
