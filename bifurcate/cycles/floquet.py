"""Floquet multipliers of a collocation orbit, on the tangent space of the phase space.

The Jacobian blocks of the collocation equations (one per mesh interval) condense to transfer
matrices ``Phi_j`` (n x n) from the first node of interval ``j`` to its last: the discrete
variational flow. The monodromy is ``M = Phi_{ntst-1} ... Phi_0``.

Tangent space. On a product of spheres the (radially damped) flow maps tangent vectors to
tangent vectors, so ``P_j = T(x_{j+1})^T Phi_j T(x_j)`` (``T`` the orthonormal tangent basis)
compose to the tangent-space monodromy ``T(x_0)^T M T(x_0)``; the radial multipliers of the
embedding (artefacts of the damping) never enter.

Stability of the product. The product is accumulated with a running scale factor (kept as a
logarithm) so that strongly unstable cycles do not overflow, and the trivial multiplier is
deflated exactly: in an orthonormal basis whose first vector is f(x_0) (the eigenvector of the
multiplier 1), ``M`` is block upper triangular, ``[[mu_0, c], [0, M22]]``; the nontrivial
multipliers are the eigenvalues of ``M22`` and ``mu_0`` (1 up to discretisation error) is reported
as the trivial multiplier. Accuracy of small multipliers next to very large ones is limited to
about ``eps * |mu_max|`` (no periodic Schur decomposition).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["transfer_blocks", "Floquet", "floquet_multipliers", "interval_propagators"]


def transfer_blocks(B: np.ndarray) -> np.ndarray:
    """Transfer matrices (ntst, n, n) from the collocation blocks B (ntst, m, n, m + 1, n)."""
    ntst, m, n = B.shape[:3]
    Bm = B.reshape(ntst, m * n, (m + 1) * n)
    X = -np.linalg.solve(Bm[:, :, n:], Bm[:, :, :n])  # (ntst, m n, n): nodes 1..m from node 0
    return X[:, -n:, :]


def interval_propagators(B: np.ndarray) -> np.ndarray:
    """Node values (ntst, m, n, n) of the variational solutions in each interval from node 0."""
    ntst, m, n = B.shape[:3]
    Bm = B.reshape(ntst, m * n, (m + 1) * n)
    return (-np.linalg.solve(Bm[:, :, n:], Bm[:, :, :n])).reshape(ntst, m, n, n)


@dataclass(frozen=True, eq=False)
class Floquet:
    """Floquet multipliers of one cycle.

    Attributes
    ----------
    trivial : complex
        The multiplier of the phase direction f(x_0) (1 up to discretisation error).
    multipliers : ndarray (d - 1,), complex
        Nontrivial tangent-space multipliers, sorted by decreasing modulus.
    log_moduli : ndarray (d - 1,)
        log |mu| (finite even when |mu| overflows a float).
    n_unstable : int
        Nontrivial multipliers with |mu| > 1.
    basis : ndarray (n, d)
        Tangent basis at x_0 (columns).
    Q : ndarray (d, d)
        Orthonormal basis of the tangent coordinates, first column f(x_0) / |f(x_0)|.
    M : ndarray (d, d)
        Scaled deflated monodromy ``Q^T M Q / scale``; ``log_scale`` the logarithm of the scale.
    """

    trivial: complex
    multipliers: np.ndarray
    log_moduli: np.ndarray
    n_unstable: int
    basis: np.ndarray = field(repr=False)
    Q: np.ndarray = field(repr=False)
    M: np.ndarray = field(repr=False)
    log_scale: float = 0.0

    @property
    def all(self) -> np.ndarray:
        """Trivial multiplier first, then the nontrivial ones."""
        return np.concatenate([[self.trivial], self.multipliers])

    def eigenvector(self, mu: complex) -> np.ndarray:
        """Embedding eigenvector (n,) of the monodromy for the nontrivial multiplier nearest ``mu``."""
        M22 = self.M[1:, 1:]
        w, V = np.linalg.eig(M22)
        scale = np.exp(self.log_scale)
        k = int(np.argmin(np.abs(w * scale - mu)))
        lam = w[k]
        v2 = V[:, k]
        # first component from the block triangular form [[m00, c], [0, M22]]
        denom = lam - self.M[0, 0]
        a = (self.M[0, 1:] @ v2) / denom if abs(denom) > 1e-14 else 0.0
        vt = self.Q @ np.concatenate([[a], v2])
        v = self.basis @ vt
        if np.all(np.abs(v.imag) < 1e-12 * np.max(np.abs(v))):
            v = v.real
        return v / np.linalg.norm(v)


def floquet_multipliers(Phi: np.ndarray, bases: np.ndarray, f0: np.ndarray) -> Floquet:
    """Tangent-space Floquet multipliers from transfer matrices.

    Parameters
    ----------
    Phi : (ntst, n, n) transfer matrices over the mesh intervals
    bases : (ntst, n, d) tangent bases at the first node of each interval (identity in R^n)
    f0 : (n,) the vector field at the first node (the phase direction)
    """
    ntst, n, _ = Phi.shape
    d = bases.shape[2]
    T0 = bases[0]
    v = T0.T @ f0
    nv = np.linalg.norm(v)
    if not nv > 0:
        raise ValueError("the vector field vanishes at the base point: the orbit is an equilibrium")
    v = v / nv
    # Householder reflection mapping e0 to v gives an orthonormal Q with first column v
    e0 = np.zeros(d)
    e0[0] = 1.0
    u = v - e0
    if np.linalg.norm(u) < 1e-14:
        Q = np.eye(d)
    else:
        u /= np.linalg.norm(u)
        Q = np.eye(d) - 2.0 * np.outer(u, u)
    A = T0 @ Q  # (n, d) in the embedding
    log_scale = 0.0
    for j in range(ntst):
        A = Phi[j] @ A
        s = np.max(np.abs(A))
        if not (s > 0 and np.isfinite(s)):
            raise FloatingPointError("non-finite monodromy block")
        A /= s
        log_scale += np.log(s)
    Mt = Q.T @ (T0.T @ A)  # scaled deflated monodromy
    w = np.linalg.eigvals(Mt[1:, 1:]) if d > 1 else np.zeros(0, complex)
    with np.errstate(over="ignore", divide="ignore"):
        logm = np.log(np.abs(w)) + log_scale
        mult = w * np.exp(log_scale)
        trivial = Mt[0, 0] * np.exp(log_scale)
    order = np.argsort(-logm, kind="stable")
    w, logm, mult = w[order], logm[order], mult[order]
    # tolerate -0 imaginary parts of real multipliers
    mult = np.where(np.abs(mult.imag) <= 1e-13 * np.maximum(np.abs(mult), 1e-300), mult.real + 0j, mult)
    return Floquet(trivial=complex(trivial), multipliers=mult.astype(complex), log_moduli=logm,
                   n_unstable=int(np.sum(logm > 0)), basis=T0, Q=Q, M=Mt, log_scale=float(log_scale))
