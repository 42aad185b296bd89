"""Generic operators of the exact quantum engine: collective spins, bosons, the Liouvillian.

Conventions
-----------
A collective spin of length ``S`` (integer or half-integer) lives in the ``n = 2S + 1`` dimensional
space with basis ``|m>``, ``m = S, S-1, ..., -S`` (QuTiP's ``jmat`` order, so index 0 is "up").
A boson truncated at ``cutoff`` levels has the Fock basis ``|0>, ..., |cutoff - 1>`` (QuTiP's
``destroy`` order). Products of modes are ordered as declared (``qutip.tensor`` order: the last mode
varies fastest). Superoperators act on column-stacked ``vec(rho)`` (QuTiP's convention).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

__all__ = ["validate_spin", "SpinOperators", "spin_operators", "boson_operators", "to_qobj", "liouvillian"]


def validate_spin(S) -> float:
    """Check that ``S`` is a positive integer or half-integer and return it as a float.

    Raises
    ------
    ValueError
        "expected S a positive integer or half-integer, got ..." otherwise (also for bools, NaN,
        strings that are not numbers and values such as 1.3).
    """
    msg = f"expected S a positive integer or half-integer (1/2, 1, 3/2, ...), got {S!r}"
    if isinstance(S, (bool, np.bool_)) or isinstance(S, (str, bytes)):
        raise ValueError(msg)
    try:
        f = float(S)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if not math.isfinite(f) or f <= 0 or (2 * f) != round(2 * f):
        raise ValueError(msg)
    if isinstance(S, Fraction) and (2 * S).denominator != 1:
        raise ValueError(msg)
    return f


@dataclass(frozen=True, eq=False)
class SpinOperators:
    """Collective spin operators of length ``S`` as sparse CSR matrices, shape ``(n, n)``, ``n = 2S+1``.

    ``x, z, plus, minus`` are real; ``y`` is complex. ``m`` holds the magnetic quantum numbers of the
    basis, ``S, S-1, ..., -S``.
    """

    S: float
    m: np.ndarray
    x: sp.csr_matrix
    y: sp.csr_matrix
    z: sp.csr_matrix
    plus: sp.csr_matrix
    minus: sp.csr_matrix

    @property
    def n(self) -> int:
        return len(self.m)


def spin_operators(S) -> SpinOperators:
    """Collective spin operators ``Sx, Sy, Sz, S+, S-`` for spin length ``S``.

    ``S+ |m> = sqrt(S(S+1) - m(m+1)) |m+1>`` in the basis ``m = S, ..., -S`` (identical to
    ``qutip.jmat(S)``, checked in the tests).
    """
    S = validate_spin(S)
    n = int(round(2 * S)) + 1
    m = S - np.arange(n, dtype=float)
    # S+ |m_{i+1}> -> |m_i>: entry (i, i+1) with m = m_{i+1}
    mp = m[1:]
    amp = np.sqrt(S * (S + 1) - mp * (mp + 1))
    plus = sp.csr_matrix((amp, (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    minus = plus.T.tocsr()
    x = ((plus + minus) * 0.5).tocsr()
    y = ((plus - minus) * (-0.5j)).tocsr()
    z = sp.diags(m).tocsr()
    return SpinOperators(S, m, x, y, z, plus, minus)


def boson_operators(cutoff: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(a, a^+)`` truncated to the Fock states ``0 .. cutoff - 1`` (sparse CSR, real; ``qutip.destroy`` order)."""
    if isinstance(cutoff, (bool, np.bool_)) or not isinstance(cutoff, (int, np.integer)) or cutoff < 1:
        raise ValueError(f"expected cutoff a positive integer, got {cutoff!r}")
    n = int(cutoff)
    amp = np.sqrt(np.arange(1, n, dtype=float))
    a = sp.csr_matrix((amp, (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    return a, a.T.tocsr()


def to_qobj(op, S, *, n_spins: int = 2):
    """Wrap a sparse/dense operator on ``A (x) B`` (or one spin) as a ``qutip.Qobj`` with tensor dims."""
    import qutip

    n = int(round(2 * validate_spin(S))) + 1
    dims = [[n] * n_spins, [n] * n_spins]
    return qutip.Qobj(op, dims=dims)


def liouvillian(H: sp.spmatrix, c_ops) -> sp.csr_matrix:
    """Sparse Liouvillian acting on column-stacked ``vec(rho)`` (QuTiP's convention).

    ``L = -i (I (x) H - H^T (x) I) + sum_k [conj(c_k) (x) c_k - (I (x) c_k^+ c_k + (c_k^+ c_k)^T (x) I) / 2]``,
    shape ``(d^2, d^2)``.
    """
    d = H.shape[0]
    eye = sp.identity(d, format="csr")
    L = -1j * (sp.kron(eye, H) - sp.kron(H.T, eye))
    for c in c_ops:
        cdc = (c.conj().T @ c)
        L = L + sp.kron(c.conj(), c) - 0.5 * (sp.kron(eye, cdc) + sp.kron(cdc.T, eye))
    return sp.csr_matrix(L)
