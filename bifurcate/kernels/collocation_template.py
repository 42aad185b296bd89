"""Template of the per-model orthogonal-collocation kernels (see :mod:`bifurcate.kernels.codegen`).

The generated module binds ``_rhs``/``_jac`` to one model's kernels by global name so that numba
caches the machine code. :func:`colloc_eval` evaluates, for every mesh interval ``j`` and
collocation point ``k``, the residual of the time-rescaled boundary-value problem

    sum_l D[k, l] u_{j,l} - h_j T f(sum_l L[k, l] u_{j,l}; p) = 0,        t in [0, 1],

and its derivatives with respect to the node values (dense blocks), the period ``T`` and the
continuation parameter ``p[ip]`` (central difference of ``f``). The numpy twin is
:func:`bifurcate.cycles.collocation.colloc_eval_numpy`.

Status codes: ``0`` success, ``-1`` a non-finite value.
"""
# --- template starts ---
import math

import numpy as np

from bifurcate._numba import njit


@njit
def colloc_eval(U, T, p, ip, h, L, D, eps_p, R, B, BT, BP):
    """Residual and Jacobian blocks of the collocation equations.

    U : (N, n) node values, N = ntst * m (periodic: node N is node 0)
    T : float, period;  p : (n_params,);  ip : index of the continuation parameter
    h : (ntst,) interval widths (sum 1);  L, D : (m, m + 1) basis values / derivatives at the
    collocation points;  eps_p : finite-difference step for d f / d p
    R : (ntst, m, n) out;  B : (ntst, m, n, m + 1, n) out;  BT, BP : (ntst, m, n) out
    """
    ntst = h.shape[0]
    m = L.shape[0]
    n = U.shape[1]
    N = U.shape[0]
    x = np.empty(n)
    fx = np.empty(n)
    fp = np.empty(n)
    fm = np.empty(n)
    Jx = np.empty((n, n))
    pp = p.copy()
    for j in range(ntst):
        hj = h[j]
        for k in range(m):
            for i in range(n):
                x[i] = 0.0
            for l in range(m + 1):
                g = (j * m + l) % N
                for i in range(n):
                    x[i] += L[k, l] * U[g, i]
            _rhs(x, p, fx)  # noqa: F821
            _jac(x, p, Jx)  # noqa: F821
            pp[ip] = p[ip] + eps_p
            _rhs(x, pp, fp)  # noqa: F821
            pp[ip] = p[ip] - eps_p
            _rhs(x, pp, fm)  # noqa: F821
            pp[ip] = p[ip]
            for i in range(n):
                s = 0.0
                for l in range(m + 1):
                    g = (j * m + l) % N
                    s += D[k, l] * U[g, i]
                R[j, k, i] = s - hj * T * fx[i]
                BT[j, k, i] = -hj * fx[i]
                BP[j, k, i] = -hj * T * (fp[i] - fm[i]) / (2.0 * eps_p)
                if not math.isfinite(R[j, k, i]):
                    return -1
                for l in range(m + 1):
                    for i2 in range(n):
                        v = -hj * T * L[k, l] * Jx[i, i2]
                        if i2 == i:
                            v += D[k, l]
                        B[j, k, i, l, i2] = v
    return 0
