"""Minimally augmented collocation systems for folds (LPC), flips (PD) and tori (NS) of cycles.

A curve of cycle bifurcations in two parameters ``(p1, p2)`` is the zero set of

    F(U, T; p1, p2) = 0          the collocation equations of the periodic orbit (see
                                 :mod:`bifurcate.cycles.collocation`), N n equations
    int <u, u_ref'> dt = 0       the integral phase condition against the previous orbit
    G(U, T; p1, p2) = 0          the test function of the bifurcation

(N n + 2 equations, N n + 3 unknowns: a curve). ``G`` is the last component of the solution of a
bordered linear system built on the collocation matrix (Doedel, Govaerts, Kuznetsov 2003; MatCont's
``limitcycleL``, ``perioddoubling`` and ``neimarksacker`` curves):

LPC   ``[[M_per, -h f, b], [phase, 0, .], [c^T, 0]] (v, v_T, G) = (0, 0, 1)`` where ``M_per`` is
      the collocation Jacobian in ``U`` (periodic) and ``-h f`` its ``T`` column: the Jacobian of
      the periodic problem with respect to the orbit and the period is singular exactly at a fold.
PD    ``[[M_anti, b], [c^T, 0]] (v, G) = (0, 1)`` with ``M_anti`` the same collocation matrix for
      an *antiperiodic* v (v(1) = -v(0)): singular exactly when -1 is a Floquet multiplier.
NS    ``M_kappa`` for v on two consecutive periods glued by ``v(2) - 2 kappa v(1) + v(0) = 0`` (a
      multiplier pair ``exp(+-i theta)`` with ``kappa = cos theta``; an extra unknown), bordered
      twice: the curve is ``G_11 = G_22 = 0`` of the 2 x 2 Schur complement.

The derivatives of ``G`` come from the left and right bordered solutions ``w``, ``v``:
``G_x = -w^T (dM/dx) v``; ``dM/dx`` needs the second derivative of the vector field along ``v``,
which is a central difference of the model's Jacobian, ``d/de J(u + e y)`` (the Hessian is
symmetric, so ``grad_u (w^T J(u) y) = (d/de J(u + e y))^T w``). The borders ``b``, ``c`` are
refreshed to the current null vectors after every accepted step (:meth:`update`), as is the
reference orbit of the phase condition.

Unknowns are scaled so that the Euclidean norm of ``x`` is the L2-in-time norm of the orbit plus
the period and the two parameters (the pseudo-arclength core measures steps in that norm):
``x = (sqrt(w) U, T, p1, p2)`` with ``w`` the quadrature weights of the nodes.

Problems follow the interface of :func:`bifurcate.continuation.pseudo_arclength.continue_curve`
(``residual``, ``jacobian``, ``update``).

References
----------
E. J. Doedel, W. Govaerts, Yu. A. Kuznetsov, Computation of periodic solution bifurcations in ODEs
using bordered systems, SIAM J. Numer. Anal. 41 (2003) 401-435.
W. Govaerts, Numerical methods for bifurcations of dynamical equilibria (SIAM 2000), Ch. 3-4.
A. Dhooge et al., MatCont: a MATLAB package for numerical bifurcation analysis of ODEs (2003).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from bifurcate.cycles.collocation import Collocation
from bifurcate.model import Model

__all__ = ["CycleCurveProblem", "LPCProblem", "PDProblem", "NSProblem", "bordered_null_vectors"]


def bordered_null_vectors(M: sp.spmatrix, n_iter: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Approximate right and left null vectors of a nearly singular sparse square ``M`` (inverse
    iteration with one LU factorisation). Returns unit vectors (v, w)."""
    k = M.shape[0]
    rng = np.random.default_rng(seed)
    Mc = sp.csc_matrix(M)
    try:
        lu = spla.splu(Mc)
    except RuntimeError:  # exactly singular: shift slightly
        scale = max(abs(Mc).max(), 1.0)
        lu = spla.splu(sp.csc_matrix(Mc + 1e-12 * scale * sp.identity(k)))
    v = rng.standard_normal(k)
    w = rng.standard_normal(k)
    for _ in range(n_iter):
        v = lu.solve(v)
        v /= np.linalg.norm(v)
        w = lu.solve(w, trans="T")
        w /= np.linalg.norm(w)
    return v, w


class CycleCurveProblem:
    """Common part of the cycle bifurcation curves: the collocation system in two parameters.

    Parameters
    ----------
    model : Model
    p : (n_params,) parameter vector at the start
    i1, i2 : int, indices of the two free parameters
    mesh : (ntst + 1,) mesh of the starting orbit; ncol : int
    U0 : (N, n) the starting orbit's node values
    fd_step : float, relative step of the central differences in the parameters

    Unknowns ``x = (sqrt(w) U, T, p1, p2)`` (see the module docstring).
    """

    kind = "cycle"
    on_update = None  # optional callback after each update (e.g. references of test functions)
    n_extra = 0  # extra unknowns between T and the parameters (kappa for NS)

    def __init__(self, model: Model, p, i1: int, i2: int, mesh, ncol: int, U0, fd_step: float = 1e-6):
        self.model = model
        self.i1, self.i2 = int(i1), int(i2)
        self.coll = Collocation(model, np.array(p, float), self.i1, np.asarray(mesh, float), int(ncol))
        c = self.coll
        self.n, self.N, self.ntst, self.m = c.n, c.N, c.ntst, c.m
        self.Nn = self.N * self.n
        self.s = np.sqrt(np.repeat(c.node_w, self.n))
        self.fd = float(fd_step)
        self.phase_c = c.phase_row(np.asarray(U0, float))
        self._J = np.empty((self.n, self.n))
        self._J2 = np.empty((self.n, self.n))
        self._f = np.empty(self.n)
        self._f2 = np.empty(self.n)
        ntst, m, n = self.ntst, self.m, self.n
        # node index of (interval j, local node l)
        self._node = (np.arange(ntst)[:, None] * m + np.arange(m + 1)[None, :]) % self.N

    # -- packing -------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.Nn + 3 + self.n_extra

    def pack(self, U, T, p1, p2, extra=()) -> np.ndarray:
        return np.concatenate([np.asarray(U, float).ravel() * self.s, [T], list(extra), [p1, p2]])

    def orbit(self, x) -> np.ndarray:
        return (x[: self.Nn] / self.s).reshape(self.N, self.n)

    def period(self, x) -> float:
        return float(x[self.Nn])

    def extra(self, x) -> np.ndarray:
        return x[self.Nn + 1: self.Nn + 1 + self.n_extra]

    def pvec(self, x) -> np.ndarray:
        p = self.coll.p.copy()
        p[self.i1] = x[-2]
        p[self.i2] = x[-1]
        return p

    def state(self, x) -> np.ndarray:
        return self.orbit(x)[0]

    # -- collocation pieces --------------------------------------------------------------------
    def _evaluate(self, x):
        """R, B, BT, BP1, BP2 at x (R (ntst, m, n), B the blocks, B* the T / parameter columns)."""
        U = self.orbit(x)
        T = self.period(x)
        self.coll.p[self.i2] = x[-1]
        X1 = np.concatenate([U.ravel(), [T, x[-2]]])
        R, B, BT, BP1 = self.coll.evaluate(X1)
        h = self.fd * max(1.0, abs(x[-1]))
        self.coll.p[self.i2] = x[-1] + h
        Rp = self.coll.evaluate(X1)[0]
        self.coll.p[self.i2] = x[-1] - h
        Rm = self.coll.evaluate(X1)[0]
        self.coll.p[self.i2] = x[-1]
        return R, B, BT, BP1, (Rp - Rm) / (2 * h)

    def _matrix(self, B, sign_wrap: float = 1.0) -> sp.csc_matrix:
        """The collocation matrix in U (Nn x Nn); ``sign_wrap = -1`` for antiperiodic vectors."""
        data = B.copy()
        if sign_wrap != 1.0:
            data[-1, :, :, -1, :] *= sign_wrap
        return sp.csc_matrix((data.ravel(), (self.coll._rows_B, self.coll._cols_B)), shape=(self.Nn, self.Nn))

    def _periodic_jacobian(self, x, R, B, BT, BP1, BP2) -> sp.csr_matrix:
        """Sparse Jacobian (Nn + 1, size) of [collocation; phase] in the scaled unknowns."""
        Nn, c = self.Nn, self.coll
        r = np.arange(Nn)
        rows = [c._rows_B, r, r, r, np.full(Nn, Nn)]
        cols = [c._cols_B, np.full(Nn, Nn), np.full(Nn, self.size - 2), np.full(Nn, self.size - 1), r]
        data = [B.ravel() / self.s[c._cols_B], BT.ravel(), BP1.ravel(), BP2.ravel(), self.phase_c / self.s]
        return sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(Nn + 1, self.size))

    def _grad_terms(self, x, v_loc, vT, w_rows, with_params=True):
        """Gradient of ``-w^T M(x) v`` for the collocation rows (see the module docstring).

        v_loc : (ntst, m + 1, n) the vector on each interval's local nodes (signs applied)
        vT : float, the period component of v (LPC), else 0
        w_rows : (ntst, m, n) the collocation-row part of the left vector
        Returns (g_U (N, n), g_T, g_p1, g_p2).
        """
        c = self.coll
        U = self.orbit(x)
        T = self.period(x)
        p = self.pvec(x)
        ntst, m, n = self.ntst, self.m, self.n
        Uloc = U[self._node]                                   # (ntst, m + 1, n)
        u = np.einsum("kl,jln->jkn", c.L, Uloc)                # (ntst, m, n)
        Lv = np.einsum("kl,jln->jkn", c.L, v_loc)
        gU_pts = np.empty((ntst, m, n))
        gT = g1 = g2 = 0.0
        J, J2, f, f2 = self._J, self._J2, self._f, self._f2
        jac, rhs = self.model.jac, self.model.rhs
        hp = {i: self.fd * max(1.0, abs(p[i])) for i in (self.i1, self.i2)}
        pp = {i: (p.copy(), p.copy()) for i in (self.i1, self.i2)}
        for i in (self.i1, self.i2):
            pp[i][0][i] += hp[i]
            pp[i][1][i] -= hp[i]
        for j in range(ntst):
            hj = c.h[j]
            for k in range(m):
                uk = np.ascontiguousarray(u[j, k])
                y = Lv[j, k]
                wk = w_rows[j, k]
                ny = np.linalg.norm(y)
                jac(uk, p, J)
                Ay = J @ y
                g = np.zeros(n)
                if ny > 0:
                    e = 1e-5 * max(1.0, np.linalg.norm(uk)) / ny
                    jac(np.ascontiguousarray(uk + e * y), p, J2)
                    Jp = J2.copy()
                    jac(np.ascontiguousarray(uk - e * y), p, J2)
                    g = ((Jp - J2) / (2 * e)).T @ wk
                gU_pts[j, k] = hj * (T * g + vT * (J.T @ wk))
                gT += hj * float(wk @ Ay)
                if with_params:
                    vals = []
                    for i in (self.i1, self.i2):
                        jac(uk, pp[i][0], J2)
                        Ap = J2 @ y
                        jac(uk, pp[i][1], J2)
                        Am = J2 @ y
                        term = T * (Ap - Am)
                        if vT != 0.0:
                            rhs(uk, pp[i][0], f)
                            rhs(uk, pp[i][1], f2)
                            term = term + vT * (f - f2)
                        vals.append(hj * float(wk @ term) / (2 * hp[i]))
                    g1 += vals[0]
                    g2 += vals[1]
        gU = np.zeros((self.N, n))
        np.add.at(gU, self._node.ravel(), np.einsum("kl,jkn->jln", c.L, gU_pts).reshape(-1, n))
        return gU, gT, g1, g2

    def _gradient_row(self, x, v_loc, vT, w_rows) -> np.ndarray:
        """(1, size) gradient of a singly bordered test function ``G = -w^T M(x) v`` in the scaled
        unknowns (see :meth:`_grad_terms`)."""
        gU, gT, g1, g2 = self._grad_terms(x, v_loc, vT, w_rows)
        row = np.zeros(self.size)
        row[: self.Nn] = gU.ravel() / self.s
        row[self.Nn] = gT
        row[-2], row[-1] = g1, g2
        return row[None, :]

    def update(self, x):
        """New phase reference and borders (the current null vectors) at the accepted point ``x``
        (singly bordered problems; :class:`NSProblem` has its own)."""
        self.phase_c = self.coll.phase_row(self.orbit(x))
        v, _, w = self._solve(x)
        self.border.refresh(v, w)
        if self.on_update is not None:
            self.on_update(x)

    def save_state(self) -> dict:
        """Copies of the borders and the phase reference (to restart from the same point)."""
        keep = {"phase_c": self.phase_c.copy()}
        for k in ("Bb", "Cb"):
            if hasattr(self, k):
                keep[k] = getattr(self, k).copy()
        if hasattr(self, "border"):
            keep["b"], keep["c"] = self.border.b.copy(), self.border.c.copy()
        return keep

    def restore_state(self, keep: dict) -> None:
        self.phase_c = keep["phase_c"].copy()
        for k in ("Bb", "Cb"):
            if k in keep:
                setattr(self, k, keep[k].copy())
        if "b" in keep:
            self.border.b, self.border.c = keep["b"].copy(), keep["c"].copy()

    # -- interface of the continuation core ----------------------------------------------------
    def residual(self, x) -> np.ndarray:
        R = self._evaluate_R(x)
        U = self.orbit(x)
        return np.concatenate([R.ravel(), [self.phase_c @ U.ravel()], np.atleast_1d(self.test_residual(x))])

    def _evaluate_R(self, x):
        U = self.orbit(x)
        self.coll.p[self.i2] = x[-1]
        return self.coll.evaluate(np.concatenate([U.ravel(), [self.period(x), x[-2]]]))[0]

    def jacobian(self, x) -> sp.csr_matrix:
        """Sparse Jacobian (Nn + 2 (+ extra), size): collocation and phase rows, then the test rows."""
        R, B, BT, BP1, BP2 = self._evaluate(x)
        top = self._periodic_jacobian(x, R, B, BT, BP1, BP2)
        return sp.vstack([top, sp.csr_matrix(self.test_jacobian(x, B))], format="csr")

    def floquet(self, x):
        """Tangent-space Floquet multipliers at x (:class:`bifurcate.cycles.floquet.Floquet`)."""
        from bifurcate.cycles.continuation import _floquet

        U = self.orbit(x)
        self.coll.p[self.i2] = x[-1]
        X1 = np.concatenate([U.ravel(), [self.period(x), x[-2]]])
        B = self.coll.evaluate(X1)[1]
        return _floquet(self.coll, X1, B)


class _Bordered1:
    """One bordered system [[M, b], [c^T, 0]] (v, G) = (0, 1) and its transpose."""

    def __init__(self, k: int):
        self.b = np.zeros(k)
        self.c = np.zeros(k)

    def solve(self, M: sp.spmatrix):
        k = M.shape[0]
        A = sp.bmat([[M, sp.csc_matrix(self.b[:, None])], [sp.csr_matrix(self.c[None, :]), None]], format="csc")
        lu = spla.splu(A)
        e = np.zeros(k + 1)
        e[-1] = 1.0
        sol = lu.solve(e)
        solT = lu.solve(e, trans="T")
        return sol[:k], sol[k], solT[:k]

    def refresh(self, v, w):
        nv, nw = np.linalg.norm(v), np.linalg.norm(w)
        if nv > 0 and nw > 0 and np.all(np.isfinite(v)) and np.all(np.isfinite(w)):
            self.c = v / nv
            self.b = w / nw


class PDProblem(CycleCurveProblem):
    """Period doubling of cycles in two parameters: ``G = 0`` with the antiperiodic bordered matrix."""

    kind = "PD"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.border = _Bordered1(self.Nn)

    def init_borders(self, x):
        B = self._evaluate(x)[1]
        v, w = bordered_null_vectors(self._matrix(B, -1.0))
        self.border.refresh(v, w)

    def _solve(self, x, B=None):
        if B is None:
            B = self._evaluate(x)[1]
        return self.border.solve(self._matrix(B, -1.0))

    def test_residual(self, x):
        return [self._solve(x)[1]]

    def test_jacobian(self, x, B):
        v, G, w = self._solve(x, B)
        v_loc = v.reshape(self.N, self.n)[self._node].copy()
        v_loc[-1, -1] *= -1.0  # antiperiodic: the wrap node of the last interval is -v(0)
        w_rows = w.reshape(self.ntst, self.m, self.n)
        return self._gradient_row(x, v_loc, 0.0, w_rows)

    def critical_multiplier(self):
        return -1.0


class LPCProblem(CycleCurveProblem):
    """Fold of cycles in two parameters: ``G = 0`` with the bordered Jacobian of the periodic
    problem in (U, T) (collocation and phase rows)."""

    kind = "LPC"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.border = _Bordered1(self.Nn + 1)

    def _lpc_matrix(self, B, BT) -> sp.csc_matrix:
        M = self._matrix(B)
        col = sp.csc_matrix(BT.ravel()[:, None])
        row = sp.csr_matrix(self.phase_c[None, :])
        return sp.bmat([[M, col], [row, None]], format="csc")

    def init_borders(self, x):
        _, B, BT, _, _ = self._evaluate(x)
        v, w = bordered_null_vectors(self._lpc_matrix(B, BT))
        self.border.refresh(v, w)

    def _solve(self, x, B=None, BT=None):
        if B is None:
            _, B, BT, _, _ = self._evaluate(x)
        return self.border.solve(self._lpc_matrix(B, BT))

    def test_residual(self, x):
        return [self._solve(x)[1]]

    def test_jacobian(self, x, B):
        U = self.orbit(x)
        self.coll.p[self.i2] = x[-1]
        BT = self.coll.evaluate(np.concatenate([U.ravel(), [self.period(x), x[-2]]]))[2]
        v, G, w = self._solve(x, B, BT)
        vU, vT = v[: self.Nn], float(v[self.Nn])
        v_loc = vU.reshape(self.N, self.n)[self._node]
        w_rows = w[: self.Nn].reshape(self.ntst, self.m, self.n)
        return self._gradient_row(x, v_loc, vT, w_rows)

    def critical_multiplier(self):
        return 1.0



class NSProblem(CycleCurveProblem):
    """Neimark-Sacker (torus) bifurcation of cycles in two parameters.

    With a pair of multipliers ``exp(+-i theta)`` and ``kappa = cos theta`` (an extra unknown), the
    operator ``v' - T f_x(u(t)) v`` on two consecutive periods with the boundary condition
    ``v(0) - 2 kappa v(1) + v(2) = 0`` is singular with a two-dimensional kernel (the real
    invariant subspace of ``M^2 - 2 kappa M + I``, M the monodromy). Bordered by two columns and two
    rows, its Schur complement ``G`` (2 x 2) vanishes; two of its four entries (picked at the start
    for the best-conditioned pair) close the system: unknowns ``(U, T, kappa, p1, p2)``.
    """

    kind = "NS"
    n_extra = 1

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.K = (2 * self.N + 1) * self.n
        self.Bb = np.zeros((self.K, 2))
        self.Cb = np.zeros((self.K, 2))
        self.entries = ((0, 0), (1, 1))
        ntst, m, n = self.ntst, self.m, self.n
        jj, kk, ii, ll, i2_ = np.meshgrid(np.arange(ntst), np.arange(m), np.arange(n), np.arange(m + 1),
                                          np.arange(n), indexing="ij")
        self._rows_nw = ((jj * m + kk) * n + ii).ravel()
        self._cols_nw = ((jj * m + ll) * n + i2_).ravel()
        self._node_nw = np.arange(ntst)[:, None] * m + np.arange(m + 1)[None, :]

    def kappa(self, x) -> float:
        return float(x[self.Nn + 1])

    def _ns_matrix(self, B, kappa) -> sp.csc_matrix:
        Nn, n, N = self.Nn, self.n, self.N
        rows = [self._rows_nw, self._rows_nw + Nn]
        cols = [self._cols_nw, self._cols_nw + N * n]
        data = [B.ravel(), B.ravel()]
        r = 2 * Nn + np.arange(n)
        rows += [r, r, r]
        cols += [np.arange(n), N * n + np.arange(n), 2 * N * n + np.arange(n)]
        data += [np.ones(n), np.full(n, -2.0 * kappa), np.ones(n)]
        return sp.csc_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.K, self.K))

    def _B(self, x):
        U = self.orbit(x)
        self.coll.p[self.i2] = x[-1]
        return self.coll.evaluate(np.concatenate([U.ravel(), [self.period(x), x[-2]]]))[1]

    def _solve(self, x, B=None):
        if B is None:
            B = self._B(x)
        M = self._ns_matrix(B, self.kappa(x))
        A = sp.bmat([[M, sp.csc_matrix(self.Bb)], [sp.csr_matrix(self.Cb.T), None]], format="csc")
        lu = spla.splu(A)
        E = np.zeros((self.K + 2, 2))
        E[self.K:, :] = np.eye(2)
        sol = lu.solve(E)
        solT = lu.solve(E, trans="T")
        return sol[: self.K], sol[self.K:], solT[: self.K]

    def init_borders(self, x):
        B = self._B(x)
        M = sp.csc_matrix(self._ns_matrix(B, self.kappa(x)))
        lu = spla.splu(M)
        rng = np.random.default_rng(0)
        V = rng.standard_normal((self.K, 2))
        W = rng.standard_normal((self.K, 2))
        for _ in range(5):
            V = np.linalg.qr(lu.solve(V))[0]
            W = np.linalg.qr(lu.solve(W, trans="T"))[0]
        self.Cb, self.Bb = V, W
        # the best-conditioned pair of entries of G
        V2, G, W2 = self._solve(x, B)
        grads = {e: self._entry_grad(x, V2, W2, e) for e in ((0, 0), (0, 1), (1, 0), (1, 1))}
        best, score = None, -1.0
        keys = list(grads)
        for a in range(4):
            for b in range(a + 1, 4):
                ga, gb = grads[keys[a]], grads[keys[b]]
                s = np.linalg.svd(np.vstack([ga, gb]), compute_uv=False)[-1]
                if s > score:
                    best, score = (keys[a], keys[b]), s
        self.entries = best

    def _entry_grad(self, x, V, W, e):
        i, j = e
        Nn, n, N = self.Nn, self.n, self.N
        v, w = V[:, j], W[:, i]
        row = np.zeros(self.size)
        for c in range(2):
            v_loc = v[c * N * n: (2 * N + 1) * n].reshape(-1, n)[self._node_nw]
            w_rows = w[c * Nn: (c + 1) * Nn].reshape(self.ntst, self.m, n)
            gU, gT, g1, g2 = self._grad_terms(x, v_loc, 0.0, w_rows)
            row[: Nn] += gU.ravel() / self.s
            row[Nn] += gT
            row[-2] += g1
            row[-1] += g2
        w_bc = w[2 * Nn:]
        row[Nn + 1] = 2.0 * float(w_bc @ v[N * n: (N + 1) * n])
        return row

    def test_residual(self, x):
        _, G, _ = self._solve(x)
        return [G[e] for e in self.entries]

    def test_jacobian(self, x, B):
        V, G, W = self._solve(x, B)
        return np.vstack([self._entry_grad(x, V, W, e) for e in self.entries])

    def update(self, x):
        self.phase_c = self.coll.phase_row(self.orbit(x))
        V, _, W = self._solve(x)
        if np.all(np.isfinite(V)) and np.all(np.isfinite(W)):
            self.Cb = np.linalg.qr(V)[0]
            self.Bb = np.linalg.qr(W)[0]
        if self.on_update is not None:
            self.on_update(x)

    def critical_multiplier(self):
        return None
