"""Periodic normal forms at codimension-one bifurcations of cycles (LPC, PD, NS).

Method: periodic normalisation (Kuznetsov, Govaerts, Doedel & Dhooge 2005). Near a cycle
``x0(tau)`` of period ``T`` the flow on the centre manifold is written in coordinates
``(tau, xi)`` with ``tau`` in ``[0, T]`` (``[0, 2T]`` at PD) and ``xi`` real (PD, LPC) or complex
(NS), ``x = x0(tau) + xi v(tau) + ...``, and the normal forms are

======  =============================================================  ==========================
label   normal form                                                    coefficient reported
======  =============================================================  ==========================
LPC     tau' = 1 - xi + ...,        xi' = b xi^2 + ...                 ``b`` (fold coefficient)
PD      tau' = 1 + alpha xi^2 + ..., xi' = c xi^3 + ...                ``c``
NS      tau' = 1 + a |xi|^2 + ...,  xi' = i theta / T xi + d xi |xi|^2  ``Re d`` (``d`` complex)
======  =============================================================  ==========================

PD and NS are *supercritical* when the coefficient is negative (the bifurcating period-doubled
cycle or invariant torus is stable on the centre manifold), *subcritical* when positive. The
fold coefficient ``b`` is nonzero at a generic fold of cycles; it vanishes at a cusp of cycles.

Normalisation (it fixes the magnitude, never the sign): time is the original time ``tau``, and
the eigenfunction is normalised by ``int_0^T |v(tau)|^2 dtau = 1`` (PD: ``v`` real and
antiperiodic, ``v' = A v``; NS: ``v`` complex and periodic, ``v' = A v - i theta/T v``, with
``theta`` in (0, pi) the angle of the critical multiplier ``exp(i theta)``). At LPC ``v`` is
the generalised eigenfunction ``v' = A v + f(x0)`` orthogonal to ``f(x0)`` (its scale is fixed
by that equation). MatCont's ``nf_PD`` / ``nf_NS`` work in the rescaled time ``s = tau / T`` in
[0, 1] with ``v`` normalised in L2(0, 1), i.e. their ``v`` is ``sqrt(T)`` times ours: their
coefficients have the same sign as these and differ by positive, T-dependent factors (not compared
numerically here: no MatCont run is available to the tests).

The homological equations are linear boundary-value problems; each is solved on the cycle's own
collocation mesh with the collocation blocks of :class:`~bifurcate.cycles.collocation.Collocation`
(the operator ``d/ds - T A(s) + sigma`` for periodic or antiperiodic functions of ``s = tau / T``).
The coefficients are the scalar unknowns of *bordered* systems, so no adjoint eigenfunction is
needed: e.g. at PD

    h2' - A h2 = B(v, v) - 2 alpha f(x0)                      (periodic;  unknowns h2, alpha)
    h3' - A h3 = C(v, v, v) + 3 B(v, h2) - 6 alpha A v - 6 c v (antiperiodic; unknowns h3, c)

each bordered by one column (``f``, resp. ``v``) and one normalising row; the bordered matrix is
regular exactly when the bifurcation is simple, and the scalar is the one that makes the
right-hand side solvable (the Fredholm condition ``int <v*, .> = 0``). At NS

    h11' - A h11 = B(v, vbar) - a f(x0)                       (periodic;  h11, a)
    h20' - A h20 + 2 i theta/T h20 = B(v, v)                  (periodic, regular off 1:2)
    h21' - A h21 + i theta/T h21 = C(v, v, vbar) + 2 B(v, h11) + B(vbar, h20)
                                   - 2 a (A v - i theta/T v) - 2 d v              (h21, d)

and at LPC (``v' - A v = f``, ``int <v, f> = 0``)

    h2' - A h2 = B(v, v) + 2 (A v + f) - 2 b v                 (periodic; h2, b).

Derivatives: ``B`` and ``C`` are the second and third derivatives of the vector field. Models built
from a specification (:mod:`bifurcate.spec`) carry exact symbolic ``d2``/``d3`` kernels, used
when present (``method == "symbolic"``). Otherwise they are finite differences of the model's
Jacobian (``method == "finite differences"``): ``B(u, .) = [J(x + e u) - J(x - e u)] / 2e`` with
``e = 1e-5 max(1, |x|)`` for unit ``u`` (truncation ~1e-10, rounding ~1e-11, relative), and
``C(u, u, .) = [J(x + e u) - 2 J(x) + J(x - e u)] / e^2`` with ``e = 1e-4 max(1, |x|)``
(truncation and rounding both ~1e-8 relative), mixed arguments by polarisation.

Accuracy: the collocation error of the cycle (O(h^ncol) in the interior, better at mesh points)
plus that of the derivatives; the reported ``residual`` is the relative residual of the bordered
solves, and ``status`` is -1 when a bordered matrix is singular (a degenerate point: 1:1 at LPC,
R2 at PD, R2/R4 at NS) or values are not finite.

References
----------
Yu. A. Kuznetsov, W. Govaerts, E. J. Doedel, A. Dhooge, Numerical periodic normalization for
codim 1 bifurcations of limit cycles, SIAM J. Numer. Anal. 43 (2005) 1407-1435.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from bifurcate.cycles.collocation import Collocation
from bifurcate.model import Model

__all__ = ["CycleNormalForm", "cycle_normal_form", "normal_form_of_point", "criticality_of",
           "NORMAL_FORM_STATUS", "annotate_point_data"]

NORMAL_FORM_STATUS = {
    0: "success",
    -1: "a bordered system is singular or a value is not finite (degenerate point)",
    -2: "bad input (no critical multiplier, or not a cycle bifurcation)",
}


@dataclass(frozen=True, eq=False)
class CycleNormalForm:
    """Normal-form coefficient of a cycle bifurcation (see the module docstring).

    Attributes
    ----------
    kind : "LPC", "PD" or "NS"
    coefficient : float
        ``b`` (LPC), ``c`` (PD) or ``Re d`` (NS); NaN when ``status`` != 0.
    d : complex
        NS: the complex coefficient ``d`` (``coefficient`` is its real part); else equal to ``coefficient``.
    alpha : float
        The period coefficient of the normal form (``alpha`` at PD, ``a`` at NS; NaN at LPC).
    theta : float
        NS: the angle in (0, pi) of the critical multiplier; PD: pi; LPC: 0.
    period : float
    criticality : str
        "supercritical" / "subcritical" (PD, NS: sign of the coefficient), "nondegenerate" (LPC,
        b != 0), "degenerate" (|coefficient| below ``tol`` relative to its scale) or "undecided"
        (``status`` != 0).
    method : str
        "symbolic" or "finite differences" (how B and C were evaluated).
    residual : float
        Largest relative residual of the bordered solves.
    status : int
        0 success, else :data:`NORMAL_FORM_STATUS`; ``message`` says why.
    eigenfunction : ndarray (N, n) or None
        The normalised eigenfunction ``v`` at the mesh nodes (complex at NS).
    """

    kind: str
    coefficient: float
    d: complex
    alpha: float
    theta: float
    period: float
    criticality: str
    method: str
    residual: float
    status: int = 0
    message: str = "success"
    eigenfunction: np.ndarray | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status == 0

    def as_data(self) -> dict:
        """The entries a special point's ``data`` carries: ``nf_coefficient`` and, under MatCont's
        letter, ``b`` (LPC), ``c`` (PD) or ``d`` (NS: Re d, and ``nf_d_imag`` = Im d), ``criticality``,
        ``nf_status``, ``nf_message``, ``nf_method`` (plain floats and strings: tables store them)."""
        letter = {"LPC": "b", "PD": "c", "NS": "d"}[self.kind]
        return {"nf_coefficient": float(self.coefficient), letter: float(self.coefficient),
                "criticality": self.criticality, "nf_status": int(self.status), "nf_message": self.message,
                "nf_method": self.method, **({"nf_d_imag": float(np.imag(self.d))} if self.kind == "NS" else {})}


def criticality_of(kind: str, coefficient: float, scale: float = 1.0, tol: float = 1e-8) -> str:
    """"supercritical"/"subcritical" (PD, NS), "nondegenerate" (LPC), "degenerate" or "undecided"."""
    if not np.isfinite(coefficient):
        return "undecided"
    if abs(coefficient) <= tol * max(scale, 1e-300):
        return "degenerate"
    if kind == "LPC":
        return "nondegenerate"
    return "supercritical" if coefficient < 0 else "subcritical"


# ------------------------------------------------------------------------------------------
# multilinear forms
# ------------------------------------------------------------------------------------------
class _Forms:
    """Second and third derivatives of the vector field at one parameter vector (complex
    arguments by multilinearity; exact symbolic kernels when the model has them)."""

    def __init__(self, model: Model, p: np.ndarray, use_symbolic: bool = True):
        from bifurcate.spec import derivatives

        self.model, self.p, self.n = model, np.ascontiguousarray(p, float), model.n
        mod = derivatives(model) if use_symbolic else None
        self.d2 = getattr(mod, "d2", None) if mod is not None else None
        self.d3 = getattr(mod, "d3", None) if mod is not None else None
        self.method = "symbolic" if (self.d2 is not None and self.d3 is not None) else "finite differences"
        self._J = np.empty((self.n, self.n))
        self._out = np.empty(self.n)

    def jac(self, x) -> np.ndarray:
        self.model.jac(np.ascontiguousarray(x, float), self.p, self._J)
        return self._J.copy()

    # real building blocks
    def _B_real(self, x, u, w) -> np.ndarray:
        if self.d2 is not None:
            self.d2(x, self.p, np.ascontiguousarray(u), np.ascontiguousarray(w), self._out)
            return self._out.copy()
        nu = np.linalg.norm(u)
        if nu == 0.0:
            return np.zeros(self.n)
        e = 1e-5 * max(1.0, np.linalg.norm(x))
        d = e * u / nu
        return nu * ((self.jac(x + d) - self.jac(x - d)) @ w) / (2 * e)

    def _Q(self, x, J0, u) -> np.ndarray:
        """Matrix C(u, u, .) (finite differences)."""
        nu = np.linalg.norm(u)
        if nu == 0.0:
            return np.zeros((self.n, self.n))
        e = 1e-4 * max(1.0, np.linalg.norm(x))
        d = e * u / nu
        return nu * nu * (self.jac(x + d) - 2.0 * J0 + self.jac(x - d)) / (e * e)

    def _C_real(self, x, J0, u, w, y) -> np.ndarray:
        if self.d3 is not None:
            self.d3(x, self.p, np.ascontiguousarray(u), np.ascontiguousarray(w), np.ascontiguousarray(y), self._out)
            return self._out.copy()
        return 0.25 * ((self._Q(x, J0, u + w) - self._Q(x, J0, u - w)) @ y)

    def Bmat(self, x, u) -> np.ndarray:
        """The matrix B(u, .) (n, n), complex for complex u (one pair of Jacobians per real part)."""
        u = np.asarray(u)
        parts = [(1.0, u.real.astype(float))] + ([(1j, u.imag.astype(float))] if np.iscomplexobj(u) else [])
        out = np.zeros((self.n, self.n), complex if np.iscomplexobj(u) else float)
        eye = np.eye(self.n)
        for c, r in parts:
            if not r.any():
                continue
            if self.d2 is not None:
                out = out + c * np.stack([self._B_real(x, r, eye[k]) for k in range(self.n)], axis=1)
            else:
                nu = np.linalg.norm(r)
                e = 1e-5 * max(1.0, np.linalg.norm(x))
                d = e * r / nu
                out = out + c * (nu * (self.jac(x + d) - self.jac(x - d)) / (2 * e))
        return out

    # complex forms
    def B(self, x, u, w) -> np.ndarray:
        u, w = np.asarray(u), np.asarray(w)
        ur, ui = u.real.astype(float), (u.imag if np.iscomplexobj(u) else np.zeros(self.n))
        wr, wi = w.real.astype(float), (w.imag if np.iscomplexobj(w) else np.zeros(self.n))
        re = self._B_real(x, ur, wr) - (self._B_real(x, ui, wi) if ui.any() and wi.any() else 0.0)
        im = (self._B_real(x, ur, wi) if wi.any() else 0.0) + (self._B_real(x, ui, wr) if ui.any() else 0.0)
        if np.iscomplexobj(u) or np.iscomplexobj(w):
            return re + 1j * im
        return re

    def C(self, x, J0, u, w, y) -> np.ndarray:
        if self.d3 is None and w is u:
            # C(u, u, .) directly: u = a + i b gives Q(a) - Q(b) + (i/2) (Q(a + b) - Q(a - b))
            if np.iscomplexobj(u):
                a, b = u.real.astype(float), u.imag.astype(float)
                Qm = (self._Q(x, J0, a) - self._Q(x, J0, b)
                      + 0.5j * (self._Q(x, J0, a + b) - self._Q(x, J0, a - b)))
            else:
                Qm = self._Q(x, J0, np.asarray(u, float))
            return Qm @ y
        parts = []
        for a in (u, w, y):
            a = np.asarray(a)
            parts.append([(1.0, a.real.astype(float)), (1j, a.imag.astype(float))] if np.iscomplexobj(a)
                         else [(1.0, a.astype(float))])
        out = np.zeros(self.n, complex)
        for ca, ra in parts[0]:
            for cb, rb in parts[1]:
                for cc, rc in parts[2]:
                    if ra.any() and rb.any() and rc.any():
                        out += ca * cb * cc * self._C_real(x, J0, ra, rb, rc)
        if not any(np.iscomplexobj(np.asarray(a)) for a in (u, w, y)):
            return out.real
        return out


# ------------------------------------------------------------------------------------------
# the discretised operators
# ------------------------------------------------------------------------------------------
class _Operators:
    """Collocation operators ``d/ds - T A(s) + sigma`` on the cycle's mesh, and the values of
    functions at the collocation (Gauss) points."""

    def __init__(self, model: Model, U, T, p, mesh, ncol, use_symbolic: bool = True):
        self.model = model
        self.coll = c = Collocation(model, np.asarray(p, float), 0, np.asarray(mesh, float), int(ncol))
        self.N, self.n, self.ntst, self.m = c.N, c.n, c.ntst, c.m
        self.Nn = self.N * self.n
        self.U = np.asarray(U, float).reshape(self.N, self.n)
        self.T = float(T)
        self.p = np.asarray(p, float)
        X = np.concatenate([self.U.ravel(), [self.T, self.p[0]]])
        _, self.B, BT, _ = c.evaluate(X)
        self.F = -BT / c.h[:, None, None]                       # f(x0) at the Gauss points (ntst, m, n)
        self.node = (np.arange(self.ntst)[:, None] * self.m + np.arange(self.m + 1)[None, :]) % self.N
        self.ug = np.einsum("kl,jln->jkn", c.L, self.U[self.node])  # (ntst, m, n)
        gw = np.polynomial.legendre.leggauss(self.m)[1] / 2.0
        self.qw = c.h[:, None] * gw[None, :]                    # Gauss weights on [0, 1] (ntst, m)
        self.forms = _Forms(model, self.p, use_symbolic)
        self.A = np.empty((self.ntst, self.m, self.n, self.n))
        for j in range(self.ntst):
            for k in range(self.m):
                self.A[j, k] = self.forms.jac(self.ug[j, k])
        self.hT = (c.h * self.T)[:, None, None]                 # h_j T

    def matrix(self, sigma: complex = 0.0, wrap: float = 1.0) -> sp.csc_matrix:
        """``h_j (d/ds - T A + sigma)`` at the Gauss points, on node values (periodic, or
        antiperiodic with ``wrap = -1``)."""
        c = self.coll
        data = self.B.astype(complex) if sigma != 0 else self.B.copy()
        if sigma != 0:
            add = sigma * c.h[:, None, None] * c.L[None, :, :]  # (ntst, m, m + 1)
            for i in range(self.n):
                data[:, :, i, :, i] += add
        if wrap != 1.0:
            data[-1, :, :, -1, :] *= wrap
        return sp.csc_matrix((data.ravel(), (c._rows_B, c._cols_B)), shape=(self.Nn, self.Nn))

    def at_gauss(self, V, wrap: float = 1.0) -> np.ndarray:
        """Node values (N, n) -> values (ntst, m, n) at the Gauss points."""
        loc = np.asarray(V).reshape(self.N, self.n)[self.node].copy()
        if wrap != 1.0:
            loc[-1, -1] *= wrap
        return np.einsum("kl,jln->jkn", self.coll.L, loc)

    def integral(self, g) -> complex:
        """int_0^1 g ds of values at the Gauss points (ntst, m)."""
        return np.sum(self.qw * g)

    def rows(self, G) -> np.ndarray:
        """Collocation right-hand side h_j T g (ravelled) of values g (ntst, m, n) at the Gauss points."""
        return (self.hT * G).ravel()


def _bordered(M, col, row, rhs):
    """Solve [[M, col], [row, 0]] (x, s) = (rhs, 0). Returns (x, s, relative residual)."""
    K = M.shape[0]
    A = sp.bmat([[M, sp.csc_matrix(np.asarray(col).reshape(K, 1))],
                 [sp.csr_matrix(np.asarray(row).reshape(1, K)), None]], format="csc")
    b = np.concatenate([rhs, [0.0]])
    lu = spla.splu(A)
    sol = lu.solve(b.astype(A.dtype) if np.iscomplexobj(A) else b)
    res = np.linalg.norm(A @ sol - b) / max(np.linalg.norm(b), 1e-300)
    return sol[:K], sol[K], float(res)


def _null_vector(M, seed: int = 0, n_iter: int = 4) -> np.ndarray:
    """A unit vector spanning the (numerical) kernel of the nearly singular sparse ``M``."""
    K = M.shape[0]
    Mc = sp.csc_matrix(M)
    try:
        lu = spla.splu(Mc)
    except RuntimeError:
        scale = max(abs(Mc).max(), 1.0)
        lu = spla.splu(sp.csc_matrix(Mc + 1e-13 * scale * sp.identity(K, dtype=Mc.dtype)))
    v = np.random.default_rng(seed).standard_normal(K).astype(Mc.dtype)
    for _ in range(n_iter):
        v = lu.solve(v)
        v = v / np.linalg.norm(v)
    return v


# ------------------------------------------------------------------------------------------
# the three normal forms
# ------------------------------------------------------------------------------------------
def _pd(op: _Operators):
    T, fm = op.T, op.forms
    Manti = op.matrix(0.0, -1.0)
    v = _null_vector(Manti).real
    vg = op.at_gauss(v, -1.0)
    nrm = math.sqrt(T * op.integral(np.sum(vg * vg, axis=2)).real)
    v, vg = v / nrm, vg / nrm
    Bv = np.array([[fm.Bmat(op.ug[j, k], vg[j, k]) for k in range(op.m)] for j in range(op.ntst)])
    Bvv = np.einsum("jkab,jkb->jka", Bv, vg)
    phase = op.coll.phase_row(op.U)
    Mper = op.matrix(0.0, 1.0)
    h2, s, r1 = _bordered(Mper, op.rows(2.0 * op.F), phase, op.rows(Bvv))
    alpha = float(s)
    h2g = op.at_gauss(h2)
    rhs = np.empty_like(vg)
    for j in range(op.ntst):
        for k in range(op.m):
            x = op.ug[j, k]
            J0 = op.A[j, k]
            w = vg[j, k]
            rhs[j, k] = fm.C(x, J0, w, w, w) + 3.0 * (Bv[j, k] @ h2g[j, k]) - 6.0 * alpha * (J0 @ w)
    vrow = (v.reshape(op.N, op.n) * op.coll.node_w[:, None]).ravel()
    _, c, r2 = _bordered(Manti, op.rows(6.0 * vg), vrow, op.rows(rhs))
    return float(c), complex(c), alpha, math.pi, max(r1, r2), v.reshape(op.N, op.n)


def _ns(op: _Operators, theta: float):
    T, fm = op.T, op.forms
    Mth = op.matrix(1j * theta, 1.0)
    v = _null_vector(Mth)
    vg = op.at_gauss(v)
    nrm = math.sqrt(T * op.integral(np.sum(np.abs(vg) ** 2, axis=2)).real)
    v, vg = v / nrm, vg / nrm
    cv = np.conj(vg)
    idx = [(j, k) for j in range(op.ntst) for k in range(op.m)]
    Bv = np.array([[fm.Bmat(op.ug[j, k], vg[j, k]) for k in range(op.m)] for j in range(op.ntst)])
    Bvvb = np.einsum("jkab,jkb->jka", Bv, cv).real
    Bvv = np.einsum("jkab,jkb->jka", Bv, vg)
    phase = op.coll.phase_row(op.U)
    h11, a, r1 = _bordered(op.matrix(0.0, 1.0), op.rows(op.F), phase, op.rows(Bvvb))
    a = float(np.real(a))
    M2 = op.matrix(2j * theta, 1.0)
    lu = spla.splu(M2)
    b2 = op.rows(Bvv)
    h20 = lu.solve(b2)
    r2 = float(np.linalg.norm(M2 @ h20 - b2) / max(np.linalg.norm(b2), 1e-300))
    h11g, h20g = op.at_gauss(h11), op.at_gauss(h20)
    rhs = np.empty_like(vg)
    for j, k in idx:
        x, J0 = op.ug[j, k], op.A[j, k]
        w = vg[j, k]
        rhs[j, k] = (fm.C(x, J0, w, w, cv[j, k]) + 2.0 * (Bv[j, k] @ h11g[j, k]) + (np.conj(Bv[j, k]) @ h20g[j, k])
                     - 2.0 * a * (J0 @ w - 1j * theta / T * w))
    vrow = (np.conj(v).reshape(op.N, op.n) * op.coll.node_w[:, None]).ravel()
    _, d, r3 = _bordered(Mth, op.rows(2.0 * vg), vrow, op.rows(rhs))
    return float(d.real), complex(d), a, float(theta), max(r1, r2, r3), v.reshape(op.N, op.n)


def _lpc(op: _Operators):
    T, fm = op.T, op.forms
    phase = op.coll.phase_row(op.U)
    Mper = op.matrix(0.0, 1.0)
    K = op.Nn
    # the fold's bordered matrix [[M, -h f], [phase, 0]] is singular: its null vector (v, vT)
    Mlpc = sp.bmat([[Mper, sp.csc_matrix(-op.rows(op.F / T).reshape(K, 1))],
                    [sp.csr_matrix(phase.reshape(1, K)), None]], format="csc")
    nv = _null_vector(Mlpc)
    if abs(nv[-1]) < 1e-12 * np.linalg.norm(nv):
        raise np.linalg.LinAlgError("the fold's null vector has no period component (not a generic fold)")
    v = nv[:K] / nv[-1] * T          # M v = h_j T f: v' - A v = f (tau time), phase-orthogonal to f
    vg = op.at_gauss(v)
    rhs = np.empty_like(vg)
    for j in range(op.ntst):
        for k in range(op.m):
            x = op.ug[j, k]
            rhs[j, k] = fm.B(x, vg[j, k], vg[j, k]) + 2.0 * (op.A[j, k] @ vg[j, k] + op.F[j, k])
    _, b, r1 = _bordered(Mper, op.rows(2.0 * vg), phase, op.rows(rhs))
    return float(b), complex(b), math.nan, 0.0, r1, v.reshape(op.N, op.n)


def _ns_theta(multipliers) -> float | None:
    mu = np.asarray(multipliers if multipliers is not None else [], complex)
    cand = mu[np.abs(mu.imag) > 1e-8 * np.maximum(1.0, np.abs(mu))]
    if not cand.size:
        return None
    z = cand[int(np.argmin(np.abs(np.abs(cand) - 1.0)))]
    return float(abs(np.angle(z)))


def cycle_normal_form(model: Model, kind: str, orbit, period: float, params, mesh, ncol: int, *,
                      theta: float | None = None, multipliers=None, degenerate_tol: float = 1e-8,
                      derivatives: str = "auto") -> CycleNormalForm:
    """The normal-form coefficient of a fold (LPC), flip (PD) or torus (NS) bifurcation of a cycle.

    Parameters
    ----------
    model : Model
    kind : "LPC", "PD" or "NS"
    orbit : (N, n) node values of the cycle on ``mesh`` (N = ntst * ncol, the end node omitted)
    period : float
    params : dict or (n_params,) array, all parameters at the point
    mesh : (ntst + 1,) mesh in [0, 1]; ncol : int (the branch's discretisation)
    theta : float, NS only: the angle of the critical multiplier (else from ``multipliers``)
    multipliers : array, NS only: the Floquet multipliers at the point (the pair nearest the
        unit circle gives ``theta``)
    degenerate_tol : float
        ``|coefficient| <= degenerate_tol * scale`` is reported "degenerate" (scale: the largest of
        the terms' magnitudes is not available cheaply; the scale used is ``1 / T``).
    derivatives : {"auto", "finite differences"}
        "auto": the model's symbolic second and third derivatives when it has them, else finite
        differences of its Jacobian; "finite differences" forces the latter (e.g. to cross-check).

    Returns
    -------
    CycleNormalForm
    """
    if not isinstance(model, Model):
        raise TypeError(f"expected a Model, got {type(model).__name__}")
    if kind not in ("LPC", "PD", "NS"):
        raise ValueError(f"kind must be 'LPC', 'PD' or 'NS', got {kind!r}")
    if isinstance(params, dict):
        p = model.pack_params({k: v for k, v in params.items() if k not in model.fixed})
    else:
        p = np.asarray(params, float)
    if p.shape != (len(model.param_names),):
        raise ValueError(f"params: expected {len(model.param_names)} values, got shape {p.shape}")
    mesh = np.asarray(mesh, float)
    U = np.asarray(orbit, float)
    if U.shape != ((mesh.size - 1) * int(ncol), model.n):
        raise ValueError(f"orbit: expected shape ({(mesh.size - 1) * int(ncol)}, {model.n}) for a mesh of "
                         f"{mesh.size - 1} intervals and ncol {ncol}, got {U.shape}")
    if derivatives not in ("auto", "finite differences"):
        raise ValueError(f"derivatives must be 'auto' or 'finite differences', got {derivatives!r}")
    T = float(period)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"period: expected a positive number, got {period!r}")

    def bad(status, msg, method="n/a"):
        return CycleNormalForm(kind, math.nan, complex(math.nan), math.nan, math.nan, T, "undecided", method,
                               math.nan, status, msg)

    if kind == "NS":
        if theta is None:
            theta = _ns_theta(multipliers)
        if theta is None or not (0.0 < theta < math.pi):
            return bad(-2, f"NS: expected the angle theta in (0, pi) of a complex critical multiplier, got {theta!r}")
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            op = _Operators(model, U, T, p, mesh, ncol, derivatives == "auto")
            if kind == "PD":
                out = _pd(op)
            elif kind == "NS":
                out = _ns(op, float(theta))
            else:
                out = _lpc(op)
    except (RuntimeError, np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
        return bad(-1, f"{NORMAL_FORM_STATUS[-1]}: {type(exc).__name__}: {exc}")
    coef, d, alpha, th, res, v = out
    if not (np.isfinite(coef) and np.isfinite(res)):
        return bad(-1, f"{NORMAL_FORM_STATUS[-1]}: non-finite coefficient", op.forms.method)
    crit = criticality_of(kind, coef, 1.0 / T, degenerate_tol)
    msg = "success" if res < 1e-6 else f"success (bordered residual {res:.1e})"
    return CycleNormalForm(kind, coef, d, alpha, th, T, crit, op.forms.method, res, 0, msg, v)


def normal_form_of_point(model: Model, point, **kw) -> CycleNormalForm:
    """:func:`cycle_normal_form` of an LPC, PD or NS point of a cycle branch, or of any point on an
    LPC / PD / NS curve (e.g. its ``UZ`` stops: ``data["curve"]`` names the bifurcation); its ``data``
    carries the orbit, mesh, ``ncol`` and period; NS uses its multipliers."""
    for key in ("orbit", "mesh", "ncol", "period"):
        if key not in point.data:
            raise ValueError(f"expected a point of a cycle branch (data[{key!r}] missing); got a {point.kind!r} point")
    kind = point.kind if point.kind in ("LPC", "PD", "NS") else point.data.get("curve")  # a point on a curve
    if kind not in ("LPC", "PD", "NS"):
        raise ValueError(f"expected an LPC, PD or NS point, or a point on such a curve; got a {point.kind!r} point")
    return cycle_normal_form(model, kind, point.data["orbit"], point.data["period"], point.params,
                             point.data["mesh"], int(point.data["ncol"]), multipliers=point.eigenvalues, **kw)


def annotate_point_data(model: Model, kind: str, data: dict, params, multipliers) -> None:
    """Add the normal form of a located LPC / PD / NS point to its ``data`` (in place): the keys of
    :meth:`CycleNormalForm.as_data` (``nf_coefficient``, ``criticality``, ...). Never raises: a
    failure is recorded as ``nf_status`` and ``criticality`` "undecided"."""
    try:
        nf = cycle_normal_form(model, kind, data["orbit"], data["period"], dict(params), data["mesh"],
                               int(data["ncol"]), multipliers=multipliers)
    except (ValueError, TypeError, KeyError) as exc:
        data.update({"nf_coefficient": math.nan, {"LPC": "b", "PD": "c", "NS": "d"}[kind]: math.nan,
                     "criticality": "undecided", "nf_status": -2, "nf_message": f"{type(exc).__name__}: {exc}",
                     "nf_method": "n/a"})
        return
    data.update(nf.as_data())
