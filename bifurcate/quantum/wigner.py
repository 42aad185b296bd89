"""Spin Wigner function (Tilma et al., the paper's ref. [37]) of one spin, maps and spheres.

Definition
----------
For a spin ``j`` with state ``rho`` (``(2j+1) x (2j+1)``, basis ``m = j, ..., -j``) ::

    W(theta, phi) = Tr[rho  R(theta, phi) Pi R(theta, phi)^+],   R = exp(-i phi S_z) exp(-i theta S_y),
    Pi = sum_{k=0}^{2j} sqrt((2k + 1) / (2j + 1)) T_k0,

with ``T_k0`` the orthonormal (``Tr T_k0 T_l0 = delta_kl``) zonal multipoles: polynomials of degree
``k`` in ``S_z`` with positive leading coefficient (computed here by a reorthogonalised Lanczos
recurrence on ``diag(m)``, i.e. discrete orthonormal polynomials, stable for any ``j``). This is the
Stratonovich-Weyl kernel of Tilma et al. (their ``Pi`` for a qubit is ``(1 + sqrt(3) sigma_z) / 2``):

* ``(2j + 1) / (4 pi) * integral W dOmega = 1``;
* ``Tr[rho1 rho2] = (2j + 1) / (4 pi) * integral W1 W2 dOmega`` (overlap formula);
* for ``j = 1/2``: ``W = (1 + sqrt(3) n . r) / 2`` with ``r`` the Bloch vector.

Relation to QuTiP
-----------------
``qutip.spin_wigner`` (Agarwal's multipole expansion ``sum rho_kq Y_kq``) returns
``W_qutip = W / sqrt(4 pi / (2j + 1))``, i.e. ``W = sqrt(4 pi / (2j + 1)) * W_qutip``
(agreement to 1e-13 for j = 1/2 ... 5, ``tests/quantum/test_wigner.py``). Consequently
``sqrt((2j + 1) / (4 pi)) * integral W_qutip dOmega = 1``: QuTiP 5.3's docstring states the factor
inverted (``sqrt(4 pi / (2j + 1)) * integral W dOmega = 1``), which is false for every j (measured:
``integral W_qutip dOmega = 2.5066`` for j = 1/2, ``= sqrt(4 pi / 2)``).

Angles: ``theta`` is the polar angle from +z, ``phi`` the azimuth from +x; a spin coherent state
pointing along ``(X, Y, Z) = (sin th cos ph, sin th sin ph, cos th)`` peaks at ``(th, ph)``.

References
----------
T. Tilma, M. J. Everitt, J. H. Samson, W. J. Munro and K. Nemoto, PRL 117, 180401 (2016);
J. C. Varilly and J. M. Gracia-Bondia, Ann. Phys. 190, 107 (1989); the paper's Fig. 4.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .operators import spin_operators

__all__ = ["SpinWigner", "spin_wigner", "parity_kernel", "angles_of"]


def _as_matrix(rho) -> np.ndarray:
    if hasattr(rho, "full"):
        rho = rho.full()
    rho = np.asarray(rho, dtype=complex)
    if rho.ndim == 2 and rho.shape[1] == 1 and rho.shape[0] > 1:  # a ket as a column
        rho = rho[:, 0]
    if rho.ndim == 1:
        rho = np.outer(rho, rho.conj())
    if rho.ndim != 2 or rho.shape[0] != rho.shape[1] or rho.shape[0] < 2:
        raise ValueError(f"expected a square density matrix of dimension 2j + 1 >= 2, got shape {rho.shape}")
    return rho


def parity_kernel(j) -> np.ndarray:
    """Diagonal of the kernel ``Pi`` at the north pole, shape ``(2j + 1,)`` in the basis ``m = j..-j``."""
    n = int(round(2 * float(j))) + 1
    m = float(j) - np.arange(n)
    # Lanczos on diag(m) from the uniform vector: q_k(m) are the orthonormal polynomials
    Q = np.zeros((n, n))
    q = np.full(n, 1.0 / np.sqrt(n))
    Q[:, 0] = q
    for k in range(1, n):
        v = m * Q[:, k - 1]
        for _ in range(2):  # full reorthogonalisation (twice is enough)
            v -= Q[:, :k] @ (Q[:, :k].T @ v)
        Q[:, k] = v / np.linalg.norm(v)
    # sign: positive leading coefficient <=> q_k(m = j) > 0 (all zeros of q_k lie inside (-j, j))
    Q *= np.sign(Q[0, :])[None, :]
    w = np.sqrt((2 * np.arange(n) + 1) / n)
    return Q @ w


@dataclass(frozen=True, eq=False)
class SpinWigner:
    """A spin Wigner function on a ``(theta, phi)`` grid.

    Attributes
    ----------
    theta : ndarray (n_theta,)
        Polar angles (rad).
    phi : ndarray (n_phi,)
        Azimuths (rad).
    W : ndarray (n_theta, n_phi)
        Tilma et al. normalisation: ``(2j+1)/(4 pi) * integral W dOmega = 1``.
    j : float
    """

    theta: np.ndarray
    phi: np.ndarray
    W: np.ndarray
    j: float

    def integral(self) -> float:
        """``(2j + 1) / (4 pi) * integral W sin(theta) dtheta dphi`` by the trapezoidal rule (should be 1)."""
        th, ph = self.theta, self.phi
        inner = np.trapezoid(self.W * np.sin(th)[:, None], th, axis=0)
        return float((2 * self.j + 1) / (4 * np.pi) * np.trapezoid(inner, ph))

    def argmax(self) -> tuple[float, float]:
        """``(theta, phi)`` of the global maximum on the grid."""
        i, k = np.unravel_index(np.argmax(self.W), self.W.shape)
        return float(self.theta[i]), float(self.phi[k])

    def to_frame(self) -> pd.DataFrame:
        """Long table with columns ``theta, phi, X, Y, Z, W``."""
        TH, PH = np.meshgrid(self.theta, self.phi, indexing="ij")
        return pd.DataFrame({"theta": TH.ravel(), "phi": PH.ravel(), "X": (np.sin(TH) * np.cos(PH)).ravel(),
                             "Y": (np.sin(TH) * np.sin(PH)).ravel(), "Z": np.cos(TH).ravel(), "W": self.W.ravel()})


def spin_wigner(rho, theta=None, phi=None, *, n_theta: int = 91, n_phi: int = 181) -> SpinWigner:
    """Spin Wigner function of a single spin (Tilma et al. normalisation).

    Parameters
    ----------
    rho : array ``(2j+1, 2j+1)``, state vector, or ``qutip.Qobj``
        E.g. ``SteadyState.reduced("B")``.
    theta, phi : array_like, optional
        Grid; default ``n_theta`` points in ``[0, pi]`` and ``n_phi`` in ``[-pi, pi]``.

    Returns
    -------
    SpinWigner
    """
    rho = _as_matrix(rho)
    n = rho.shape[0]
    j = (n - 1) / 2
    theta = np.linspace(0.0, np.pi, n_theta) if theta is None else np.atleast_1d(np.asarray(theta, dtype=float))
    phi = np.linspace(-np.pi, np.pi, n_phi) if phi is None else np.atleast_1d(np.asarray(phi, dtype=float))
    s = spin_operators(j)
    # Wigner small-d matrix d(theta) = exp(-i theta S_y) (real) from one eigendecomposition of S_y
    mu, V = np.linalg.eigh(s.y.toarray())
    pik = parity_kernel(j)
    m = s.m
    delta = m[:, None] - m[None, :]                 # a - b for rho_ab
    offsets = np.arange(-(n - 1), n)                # possible values of (m_a - m_b)
    W = np.empty((len(theta), len(phi)))
    phase = np.exp(1j * np.outer(offsets, phi))     # (2n-1, n_phi)
    di = np.rint(delta).astype(int) + (n - 1)
    for i, th in enumerate(theta):
        d = ((V * np.exp(-1j * th * mu)[None, :]) @ V.conj().T).real
        K = (d * pik[None, :]) @ d.T                 # sum_m Pi_m d_am d_bm
        F = np.bincount(di.ravel(), weights=(rho * K).real.ravel(), minlength=2 * n - 1) \
            + 1j * np.bincount(di.ravel(), weights=(rho * K).imag.ravel(), minlength=2 * n - 1)
        # W = sum_ab rho_ab K_ab exp(i phi (a - b))
        W[i] = (F @ phase).real
    return SpinWigner(theta=theta, phi=phi, W=W, j=j)


def angles_of(points) -> tuple[np.ndarray, np.ndarray]:
    """``(theta, phi)`` of points given as an array ``(k, 3)`` of ``(X, Y, Z)`` (any length; 0 -> north)."""
    P = np.atleast_2d(np.asarray(points, dtype=float))
    if P.shape[-1] != 3:
        raise ValueError(f"expected points of shape (k, 3) holding (X, Y, Z), got {P.shape}")
    r = np.linalg.norm(P, axis=1)
    r = np.where(r > 0, r, 1.0)
    theta = np.arccos(np.clip(P[:, 2] / r, -1.0, 1.0))
    phi = np.arctan2(P[:, 1], P[:, 0])
    return theta, phi
