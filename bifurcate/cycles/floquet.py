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
about ``eps * |mu_max|``.

Product-free multipliers (:func:`floquet_condensed`, :func:`cycle_floquet`). As AUTO-07p's FLOWKM
(Fairgrieve and Jepson's "O.K. Floquet multipliers"): the interior collocation unknowns of each
interval are condensed away, leaving ``A_j y_j + C_j y_{j+1} = 0``; on spheres the normal component
of ``y_{j+1}`` is eliminated from these rows (exactly the tangent projection above); the mesh
values ``y_1 .. y_{K-1}`` are then eliminated by orthogonal (Householder) steps, leaving the
pencil ``P0 y_0 + P1 y_K = 0`` whose generalised eigenvalues (QZ) are the multipliers. No product
of transfer matrices is formed, so a multiplier of 1e-12 next to one of 1e6 keeps its relative
accuracy, and huge multipliers come out as ``alpha / beta`` without overflow (``log_moduli``
from ``log|alpha| - log|beta|``). The trivial multiplier is deflated exactly as above (left and
right orthonormal bases whose first vectors are ``f(x_0)`` and ``P1 f(x_0)``). On spheres the full
embedding pencil is solved as well: its ``n - dim`` multipliers left after matching the tangent
ones are the radial ones and must be inside the unit circle: checked on every call (``status`` -2
otherwise); how well the tangent multipliers match is reported (``radial_mismatch``), not required
(near a homoclinic orbit the embedding pencil is the less accurate of the two).

Status of a :class:`Floquet` result: 0 trusted; -1 the trivial multiplier is off 1 by more than
``tol`` (discretisation or rounding has eaten the accuracy: refine the mesh); -2 the radial check
failed (a radial multiplier is not inside the unit circle: the spheres are not attracting, so
excluding them is not justified).

References
----------
T. F. Fairgrieve, A. D. Jepson, O.K. Floquet multipliers, SIAM J. Numer. Anal. 28 (1991) 1446-1462;
E. Doedel et al., AUTO-07p manual (FLOWKM).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["transfer_blocks", "Floquet", "floquet_multipliers", "interval_propagators", "floquet_condensed",
           "cycle_floquet", "FLOQUET_STATUS"]

#: Status codes of :class:`Floquet` results.
FLOQUET_STATUS = {
    0: "success",
    -1: "trivial multiplier off 1 beyond tol: accuracy lost",
    -2: "radial check failed: a radial multiplier is not inside the unit circle",
}


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
    M : ndarray (d, d) or None
        Scaled deflated monodromy ``Q^T M Q / scale``; ``log_scale`` the logarithm of the scale
        (None for the product-free method, which never forms it).
    status : int
        0 trusted, -1 trivial multiplier off 1 beyond ``tol``, -2 radial check failed
        (:data:`FLOQUET_STATUS`); ``message`` says why.
    method : str
        ``"product"`` (:func:`floquet_multipliers`) or ``"pencil"`` (:func:`floquet_condensed`).
    radial : ndarray (n - d,), complex
        The radial (embedding) multipliers excluded from ``multipliers`` (pencil method on spheres).
    radial_mismatch : float
        Largest relative distance between a tangent multiplier and its partner in the embedding
        spectrum (0 when there is no normal space).
    pencil : tuple (Ah, Bh) or None
        The deflated tangent pencil, multipliers ``mu`` with ``(Ah + mu Bh) v = 0``.
    """

    trivial: complex
    multipliers: np.ndarray
    log_moduli: np.ndarray
    n_unstable: int
    basis: np.ndarray = field(repr=False)
    Q: np.ndarray = field(repr=False)
    M: np.ndarray | None = field(repr=False)
    log_scale: float = 0.0
    status: int = 0
    message: str = "success"
    method: str = "product"
    radial: np.ndarray = field(default_factory=lambda: np.zeros(0, complex), repr=False)
    radial_mismatch: float = 0.0
    pencil: tuple | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status == 0

    @property
    def trivial_error(self) -> float:
        """|trivial - 1|: the discretisation / rounding error the multipliers carry."""
        return float(abs(self.trivial - 1.0))

    @property
    def all(self) -> np.ndarray:
        """Trivial multiplier first, then the nontrivial ones."""
        return np.concatenate([[self.trivial], self.multipliers])

    def eigenvector(self, mu: complex) -> np.ndarray:
        """Embedding eigenvector (n,) of the monodromy for the nontrivial multiplier nearest ``mu``."""
        if self.pencil is not None:
            return self._pencil_eigenvector(mu)
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


    def _pencil_eigenvector(self, mu: complex) -> np.ndarray:
        import scipy.linalg as sla

        Ah, Bh = self.pencil
        al, V = sla.eig(Ah[1:, 1:], -Bh[1:, 1:], homogeneous_eigvals=True)
        a_, b_ = al
        with np.errstate(divide="ignore", invalid="ignore"):
            w = a_ / b_
        k = int(np.nanargmin(np.abs(w - mu)))
        v2 = V[:, k]
        lam = w[k]
        denom = Ah[0, 0] + lam * Bh[0, 0]
        a = -((Ah[0, 1:] + lam * Bh[0, 1:]) @ v2) / denom if abs(denom) > 1e-14 else 0.0
        v = self.basis @ (self.Q @ np.concatenate([[a], v2]))
        if np.all(np.abs(v.imag) < 1e-12 * np.max(np.abs(v))):
            v = v.real
        return v / np.linalg.norm(v)


#: Largest log modulus taken from the pencil; beyond (|mu| > 1e8) the multipliers come from the
#: scaled monodromy product, accurate for the largest ones (see :func:`floquet_condensed`).
_LOG_PENCIL_MAX = np.log(1e8)


def _householder_with_first(v: np.ndarray) -> np.ndarray:
    """Orthonormal (d, d) matrix whose first column is the unit vector ``v``."""
    d = v.size
    e0 = np.zeros(d)
    e0[0] = 1.0
    u = v - e0
    nu = np.linalg.norm(u)
    if nu < 1e-14:
        return np.eye(d)
    u /= nu
    return np.eye(d) - 2.0 * np.outer(u, u)


def _pencil_eigenvalues(P0: np.ndarray, P1: np.ndarray):
    """Multipliers mu with (P0 + mu P1) v = 0: (mu, log|mu|), mu = alpha / beta (inf when beta = 0)."""
    from scipy.linalg.lapack import dggev

    if P0.shape[0] == 0:
        return np.zeros(0, complex), np.zeros(0)
    if not (np.all(np.isfinite(P0)) and np.all(np.isfinite(P1))):
        raise FloatingPointError("non-finite periodic pencil")
    # QZ directly from LAPACK (the scipy wrapper's checks cost more than the 6 x 6 problem)
    ar, ai, b, _, _, _, info = dggev(P0, -P1, compute_vl=0, compute_vr=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"QZ (dggev) failed with info = {info}")
    a = ar + 1j * ai
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logm = np.log(np.abs(a)) - np.log(np.abs(b))
        mu = a / b
    return mu, logm


def floquet_condensed(B: np.ndarray, bases: np.ndarray, f0: np.ndarray, *, tol: float = 1e-4,
                      radial_tol: float = 1e-6, normals: np.ndarray | None = None,
                      condensed: tuple | None = None) -> Floquet:
    """Tangent-space Floquet multipliers from the collocation blocks, product-free (a periodic
    pencil reduced by orthogonal steps, then QZ; see the module docstring).

    Parameters
    ----------
    B : (K, m, n, m + 1, n) collocation Jacobian blocks of the converged cycle.
    bases : (K, n, d) orthonormal tangent bases at the mesh points (``d == n``: identity).
    f0 : (n,) the vector field at the first mesh point (the phase direction).
    tol : float
        The result has status -1 when the trivial multiplier is off 1 by more than this.
    radial_tol : float
        On spheres (``d < n``): largest distance (in log modulus plus angle, beyond
        ``10 |trivial - 1|``) between a tangent multiplier and its partner in the embedding spectrum.
    normals : (K, n, n - d), optional
        Orthonormal complements of ``bases`` (computed by QR if None).
    condensed : (A, C), optional
        The condensed blocks (K, n, n) of ``B`` if already computed (:func:`condense_blocks`).

    Returns
    -------
    Floquet
        ``method="pencil"``; ``M`` is None, ``pencil`` holds the deflated tangent pencil.

    Notes
    -----
    Accuracy. A multiplier comes out of the pencil as ``alpha / beta`` with absolute errors of
    about ``eps`` in ``alpha`` and ``beta`` (rows of norm ~1): relative accuracy about
    ``eps / |mu|`` for small and ``eps |mu|`` for large multipliers. Small ones keep their digits
    (1e-12 to about 1e-4 relative, where the product loses them all); multipliers beyond 1e8 are
    taken from the scaled monodromy product instead, whose error ``eps |mu_max|`` is relative for
    the largest ones (so e^800 is still resolved in log modulus). A multiplier both far above 1e8
    and far below the largest one is resolved by neither (a periodic Schur decomposition would).
    """
    from scipy.optimize import linear_sum_assignment

    from bifurcate.cycles.collocation import condense_blocks
    from bifurcate.kernels.condensation import periodic_pencil, tangent_pencil_blocks

    B = np.asarray(B, dtype=float)
    bases = np.asarray(bases, dtype=float)
    K, m, n = B.shape[:3]
    if bases.ndim != 3 or bases.shape[:2] != (K, n):
        raise ValueError(f"bases must have shape (K, n, d) = ({K}, {n}, d), got {bases.shape}")
    d = bases.shape[2]
    if condensed is None:
        c = condense_blocks(B)
        A, C = c["A"], c["C"]
    else:
        A, C = condensed
    A, C = np.ascontiguousarray(A), np.ascontiguousarray(C)
    if d < n:
        # eliminate the normal component of y_{j+1}: keep the rows orthogonal to C_j N_{j+1}
        if normals is None:
            Nrm = np.linalg.qr(bases, mode="complete")[0][:, :, d:]  # (K, n, n - d)
        else:
            Nrm = np.asarray(normals, dtype=float)
            if Nrm.shape != (K, n, n - d):
                raise ValueError(f"normals must have shape {(K, n, n - d)}, got {Nrm.shape}")
        Ah, Ch = np.empty((K, d, d)), np.empty((K, d, d))
        if tangent_pencil_blocks(A, C, np.ascontiguousarray(bases), np.ascontiguousarray(Nrm), Ah, Ch) != 0:
            raise np.linalg.LinAlgError("C_j N_{j+1} is rank deficient: the normal directions are not eliminable")
    else:
        nxt = np.roll(np.arange(K), -1)
        Ah, Ch = np.ascontiguousarray(A @ bases), np.ascontiguousarray(C @ bases[nxt])
    P0, P1 = np.empty((d, d)), np.empty((d, d))
    if periodic_pencil(Ah, Ch, P0, P1) != 0:
        raise np.linalg.LinAlgError("the periodic pencil reduction met an exactly singular column")
    T0 = bases[0]
    v = T0.T @ np.asarray(f0, dtype=float)
    nv = np.linalg.norm(v)
    if not nv > 0:
        raise ValueError("the vector field vanishes at the base point: the orbit is an equilibrium")
    Q = _householder_with_first(v / nv)
    u = P1 @ Q[:, 0]
    nu = np.linalg.norm(u)
    if not nu > 0:
        raise np.linalg.LinAlgError("P1 annihilates the phase direction: the pencil is singular")
    Zm = _householder_with_first(u / nu)
    Ahd = Zm.T @ P0 @ Q
    Bhd = Zm.T @ P1 @ Q
    trivial = -Ahd[0, 0] / Bhd[0, 0]
    mult, logm = _pencil_eigenvalues(Ahd[1:, 1:], Bhd[1:, 1:])
    order = np.argsort(-logm, kind="stable")
    mult, logm = mult[order], logm[order]
    mult = np.where(np.abs(mult.imag) <= 1e-13 * np.maximum(np.abs(mult), 1e-300), mult.real + 0j, mult)
    n_big = int(np.sum(~(logm <= _LOG_PENCIL_MAX)))
    if n_big:
        # the pencil resolves a multiplier |mu| to about eps |mu| (beta has an absolute error):
        # the largest ones are taken from the scaled product, whose error eps |mu_max| is
        # relative for them
        prod = floquet_multipliers(transfer_blocks(B), bases, f0)
        mult = np.concatenate([prod.multipliers[:n_big], mult[n_big:]])
        logm = np.concatenate([prod.log_moduli[:n_big], logm[n_big:]])
    triv_err = abs(trivial - 1.0)
    status, message = 0, FLOQUET_STATUS[0]
    radial = np.zeros(0, complex)
    mismatch = 0.0
    if d < n:
        P0f, P1f = np.empty((n, n)), np.empty((n, n))
        if periodic_pencil(np.ascontiguousarray(A), np.ascontiguousarray(C), P0f, P1f) != 0:
            raise np.linalg.LinAlgError("the periodic pencil reduction met an exactly singular column")
        full, logf = _pencil_eigenvalues(P0f, P1f)
        tang = np.concatenate([[trivial], mult])
        logt = np.concatenate([[np.log(abs(trivial))], logm])
        # relative distance in (log modulus, angle): robust for tiny and huge multipliers
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ut, uf = tang / np.abs(tang), full / np.abs(full)
            dist = np.abs(logt[:, None] - logf[None, :]) + np.abs(np.angle(ut[:, None] * np.conj(uf[None, :])))
        dist = np.where(np.isfinite(dist), dist, 1e300)
        ri, ci = linear_sum_assignment(dist)
        mismatch = float(np.max(dist[ri, ci])) if ri.size else 0.0
        rest = np.ones(n, dtype=bool)
        rest[ci] = False
        radial = full[rest]
        # the radial multipliers must be inside the unit circle (the spheres attract). The agreement
        # of the tangent multipliers with the embedding pencil's is reported (``radial_mismatch``) but
        # not required: near a homoclinic orbit the embedding pencil, whose radial multipliers are ~0,
        # is the less accurate of the two (measured on the flagship's J = 1 branch: 1 vs
        # 1.00684 - 0.019i and 1.07e-8 vs 1.09e-11, with the trivial multiplier within 3e-6)
        if not np.all(logf[rest] < 0.0):
            status = -2
            message = (f"{FLOQUET_STATUS[-2]} (radial |mu| = {np.round(np.abs(radial), 6).tolist()}; largest "
                       f"mismatch of the tangent multipliers in the embedding spectrum {mismatch:.2g})")
    if status == 0 and not triv_err <= tol:
        status = -1
        message = f"{FLOQUET_STATUS[-1]} (|mu_0 - 1| = {triv_err:.2g} > {tol:g})"
    return Floquet(trivial=complex(trivial), multipliers=mult.astype(complex), log_moduli=logm,
                   n_unstable=int(np.sum(logm > 0)), basis=T0, Q=Q, M=None, log_scale=0.0, status=status,
                   message=message, method="pencil", radial=radial, radial_mismatch=mismatch, pencil=(Ahd, Bhd))


def cycle_floquet(coll, X: np.ndarray, B: np.ndarray | None = None, *, tol: float = 1e-4) -> Floquet:
    """Product-free Floquet multipliers of the converged cycle ``X`` of the collocation problem
    ``coll`` (:class:`~bifurcate.cycles.collocation.Collocation`); ``B`` its Jacobian blocks at
    ``X`` (evaluated if None). Same tangent bases and phase direction as the product method of the
    continuation driver; see :func:`floquet_condensed`."""
    from bifurcate.kernels.condensation import tangent_bases

    if B is None:
        B = coll.evaluate(X)[1]
    U = coll.split(X)[0]
    starts = np.ascontiguousarray(U[np.arange(coll.ntst) * coll.m])
    geom = coll.model.geometry
    bases = np.empty((coll.ntst, coll.n, geom.dim))
    tangent_bases(starts, geom.sphere_blocks, geom.free_idx, bases)
    normals = None
    if geom.n_spheres:
        normals = np.zeros((coll.ntst, coll.n, geom.n_spheres))
        for k, blk in enumerate(geom.sphere_blocks):
            r = starts[:, blk]
            normals[:, blk, k] = r / np.linalg.norm(r, axis=1, keepdims=True)
        if geom.n - geom.dim != geom.n_spheres:
            normals = None
    f0 = np.empty(coll.n)
    coll.model.rhs(np.ascontiguousarray(U[0]), coll.params_of(X), f0)
    cache = coll.__dict__.get("_condensed_cache")
    condensed = cache[1:] if cache is not None and cache[0] is B else None
    return floquet_condensed(B, bases, f0, tol=tol, normals=normals, condensed=condensed)


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
