"""First Lyapunov coefficient of a Hopf point (Kuznetsov's invariant formula).

For A q = i omega q, A^T p = -i omega p, <q, q> = 1, <p, q> = 1 (<u, v> = conj(u) . v),

    l1 = 1/(2 omega) Re[ <p, C(q, q, qbar)> - 2 <p, B(q, A^{-1} B(q, qbar))>
                          + <p, B(qbar, (2 i omega - A)^{-1} B(q, q))> ]

(Kuznetsov, Elements of Applied Bifurcation Theory, 3rd ed., Eq. (3.20) and Sec. 10.2). B and C
are the second and third derivatives of the field: the exact generated forms ``d2``/``d3`` of a
model built from a specification (:mod:`bifurcate.spec.kernels`), else central differences of the
analytic Jacobian (exact up to rounding for a quadratic Jacobian).

The formula is applied to the radially damped field in the embedding R^n. Its centre manifold at
an equilibrium on the spheres lies in the invariant product of spheres, so l1 equals the
coefficient of the flow on S^2 x S^2 with the induced (round) metric: an intrinsic quantity.

Normalisation: with <q, q> = 1 the Stuart-Landau oscillator
dz/dt = (mu + i omega) z - (1 + i beta)|z|^2 z has l1 = -2/omega; the planar convention with the
complex coordinate z = x + i y (Kuznetsov Eq. (3.20) for 2-D systems, quoted in
:mod:`bifurcate.models.stuart_landau`) gives half of it, -1/omega. Only the sign (and zeros) of l1
carry meaning, and both agree on them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["first_lyapunov_coefficient", "hopf_eigen"]


def _jac(model, y, p):
    out = np.empty((model.n, model.n))
    model.jac(np.ascontiguousarray(y, dtype=float), p, out)
    return out


def _exact_forms(model):
    """(d2, d3) kernels of a model generated from a specification, else None (finite differences)."""
    from bifurcate.spec.kernels import derivatives

    mod = derivatives(model)
    return None if mod is None else (mod.d2, mod.d3)


def hopf_eigen(A: np.ndarray):
    """The critical pair of ``A``: (omega, q, p) for the eigenvalue closest to the imaginary axis
    among those with positive imaginary part; <q, q> = 1, <p, q> = 1."""
    ev, V = np.linalg.eig(A)
    cand = np.where(ev.imag > 1e-12 * max(1.0, np.max(np.abs(ev))))[0]
    if cand.size == 0:
        raise ValueError(f"expected a complex pair of eigenvalues at a Hopf point, got {ev}")
    k = cand[np.argmin(np.abs(ev[cand].real))]
    lam = ev[k]
    omega = float(lam.imag)
    q = V[:, k] / np.linalg.norm(V[:, k])
    evl, W = np.linalg.eig(A.T)
    kl = np.argmin(np.abs(evl - np.conj(lam)))
    p = W[:, kl]
    p = p / np.conj(np.vdot(p, q))  # <p, q> = conj(p) . q = 1
    return omega, q, p


def first_lyapunov_coefficient(model, y: np.ndarray, p: np.ndarray, h2: float = 1e-4, h3: float = 1e-3):
    """First Lyapunov coefficient l1 and frequency omega at a Hopf point of an equilibrium.

    Parameters
    ----------
    model : Model
    y : (n,) the equilibrium (on the phase space); p : packed parameters.
    h2, h3 : float
        Relative steps of the central differences for B and C.

    Returns
    -------
    l1 : float
    omega : float
    """
    y = np.asarray(y, dtype=float)
    A = _jac(model, y, p)
    omega, q, pv = hopf_eigen(A)
    s = max(1.0, float(np.max(np.abs(y))))
    e2, e3 = h2 * s, h3 * s

    def B_real(u, v):
        return (_jac(model, y + e2 * v, p) - _jac(model, y - e2 * v, p)) @ u / (2 * e2)

    exact = _exact_forms(model)
    if exact is not None:
        # exact second and third derivative forms, generated from a specification (bifurcate.spec)
        d2, d3 = exact
        yc, pc = np.ascontiguousarray(y), np.ascontiguousarray(p, dtype=float)

        def B_real(u, v):  # noqa: F811
            out = np.empty(len(y))
            d2(yc, pc, np.ascontiguousarray(u), np.ascontiguousarray(v), out)
            return out

        def C_real(u, v, w):
            out = np.empty(len(y))
            d3(yc, pc, np.ascontiguousarray(u), np.ascontiguousarray(v), np.ascontiguousarray(w), out)
            return out

    def C_real_fd(u, v, w):
        J1 = _jac(model, y + e3 * (v + w), p)
        J2 = _jac(model, y + e3 * (v - w), p)
        J3 = _jac(model, y - e3 * (v - w), p)
        J4 = _jac(model, y - e3 * (v + w), p)
        return (J1 - J2 - J3 + J4) @ u / (4 * e3 * e3)

    if exact is None:
        C_real = C_real_fd

    def B(u, v):
        ur, ui, vr, vi = u.real, u.imag, v.real, v.imag
        return (B_real(ur, vr) - B_real(ui, vi)) + 1j * (B_real(ur, vi) + B_real(ui, vr))

    def C(u, v, w):
        out = np.zeros(len(y), dtype=complex)
        for a, ca in ((u.real, 1.0), (u.imag, 1j)):
            for b, cb in ((v.real, 1.0), (v.imag, 1j)):
                for c, cc in ((w.real, 1.0), (w.imag, 1j)):
                    out += ca * cb * cc * C_real(a, b, c)
        return out

    qb = np.conj(q)
    n = len(y)
    h11 = np.linalg.solve(A, B(q, qb))
    h20 = np.linalg.solve(2j * omega * np.eye(n) - A, B(q, q))
    val = np.vdot(pv, C(q, q, qb)) - 2 * np.vdot(pv, B(q, h11)) + np.vdot(pv, B(qb, h20))
    return float(val.real / (2 * omega)), omega
