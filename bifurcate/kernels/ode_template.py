"""Template of the per-model integration kernels.

This file is not used as it stands: :mod:`bifurcate.kernels.codegen` copies its text into a
generated module whose header binds ``_rhs`` and ``_jac`` to one model's numba kernels by global
name. numba caches a kernel that calls another by its global name, but never one that receives
the right-hand side as an argument or through a closure (measured: about 5 s of compile per
process and model), hence one generated module per model. The generated file embeds a hash of the
model's source, so editing a model recompiles its integrators.

Status codes (returned by every kernel; :mod:`bifurcate.integrate` turns them into messages):
``SUCCESS = 0``, ``BUFFER_FULL = 1`` (internal: resume), ``MAX_STEPS = -1``,
``STEP_TOO_SMALL = -2``, ``DIVERGED = -3`` (non-finite state or a component beyond ``div_bound``),
``PAUSED = 2`` (internal: the segment's step budget is spent, call again to resume).

Long ensembles run in segments (:func:`integrate_segment`): every call advances each active
trajectory by at most a given number of steps and returns to Python, so that Ctrl-C is seen, a
progress bar moves and a wall-time limit can stop the work. The integrator's whole state lives in
the caller's arrays, so the segmented run is bitwise identical to one long call.
"""
# --- template starts ---
import math

import numpy as np

from bifurcate._numba import njit, prange
from bifurcate.kernels.geometry import project_spheres
from bifurcate.tableaux import DOP853 as _DOP853_T
from bifurcate.tableaux import DP5 as _DP5_T

SUCCESS = 0
BUFFER_FULL = 1
MAX_STEPS = -1
STEP_TOO_SMALL = -2
DIVERGED = -3
PAUSED = 2

# numba freezes module-level arrays into the machine code as constants
DP5_A = _DP5_T.A
DP5_B = _DP5_T.B
DP5_C = _DP5_T.C
DP5_E5 = _DP5_T.E5
DP5_E3 = _DP5_T.E3
DOP_A = _DOP853_T.A
DOP_B = _DOP853_T.B
DOP_C = _DOP853_T.C
DOP_E5 = _DOP853_T.E5
DOP_E3 = _DOP853_T.E3
DOP_AX = _DOP853_T.A_extra
DOP_CX = _DOP853_T.C_extra
DOP_D = _DOP853_T.D

# state vector layout of the resumable integrator
ST_T, ST_H, ST_NSTEPS, ST_KSAMPLE, ST_TWIN, ST_NFEV, ST_NREJ = 0, 1, 2, 3, 4, 5, 6
N_ST = 7


@njit
def rhs(y, p, out):
    """The model's right-hand side (n,)."""
    return _rhs(y, p, out)  # noqa: F821  (bound by the generated header)


@njit
def jac(y, p, out):
    """The model's Jacobian (n, n)."""
    return _jac(y, p, out)  # noqa: F821


@njit
def _initial_step(y, f0, p, t0, t1, order, rtol, atol, work):
    # Hairer, Norsett & Wanner, Sec. II.4 (automatic selection of the first step)
    n = y.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + abs(y[i]) * rtol
        d0 += (y[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = min(h0, abs(t1 - t0))
    y1 = work[0]
    f1 = work[1]
    for i in range(n):
        y1[i] = y[i] + h0 * f0[i]
    _rhs(y1, p, f1)  # noqa: F821
    d2 = 0.0
    for i in range(n):
        sc = atol + abs(y[i]) * rtol
        d2 += ((f1[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / n) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    return min(100 * h0, h1, abs(t1 - t0))


@njit
def _stages(y, p, h, A, C, n_stages, K, ytmp):
    # K[0] holds f(y) on entry; fills K[1..n_stages-1]
    n = y.shape[0]
    for s in range(1, n_stages):
        for i in range(n):
            acc = 0.0
            for j in range(s):
                acc += A[s, j] * K[j, i]
            ytmp[i] = y[i] + h * acc
        _rhs(ytmp, p, K[s])  # noqa: F821


@njit
def _dop853_dense(y, ynew, p, h, K, KX, F, ytmp):
    """Coefficients F (7, n) of DOP853's 7th-order interpolant on the step just taken.

    K (13, n) holds the 12 stages and f(ynew); KX (3, n) receives the three extra stages.
    """
    n = y.shape[0]
    for s in range(3):
        for i in range(n):
            acc = 0.0
            for j in range(13):
                acc += DOP_AX[s, j] * K[j, i]
            for j in range(s):
                acc += DOP_AX[s, 13 + j] * KX[j, i]
            ytmp[i] = y[i] + h * acc
        _rhs(ytmp, p, KX[s])  # noqa: F821
    for i in range(n):
        dy = ynew[i] - y[i]
        F[0, i] = dy
        F[1, i] = h * K[0, i] - dy
        F[2, i] = 2.0 * dy - h * (K[12, i] + K[0, i])
        for r in range(4):
            acc = 0.0
            for j in range(13):
                acc += DOP_D[r, j] * K[j, i]
            for j in range(3):
                acc += DOP_D[r, 13 + j] * KX[j, i]
            F[3 + r, i] = h * acc


@njit
def _dop853_eval(y, F, x, out):
    # Horner-like evaluation of the interpolant, x = (t - t_old) / h in [0, 1]
    n = y.shape[0]
    for i in range(n):
        v = 0.0
        for k in range(6, -1, -1):
            v += F[k, i]
            if (6 - k) % 2 == 0:
                v *= x
            else:
                v *= 1.0 - x
        out[i] = v + y[i]


@njit
def _integrate(y, p, t1, method, rtol, atol, dt, max_steps, div_bound, t_avg,
               sample_t, samples, stats, rec_t, rec_y, state, blocks):
    """Integrate from ``state[ST_T]`` to ``t1``, in place and resumable.

    Parameters
    ----------
    y : (n,) state at state[ST_T]; overwritten with the state reached.
    p : (n_params,)
    t1 : end time.
    method : 0 DP5 (adaptive), 1 DOP853 (adaptive), 2 RK4 (fixed step ``dt``).
    rtol, atol : tolerances of the adaptive methods.
    dt : first step (adaptive; <= 0 selects it) or the fixed step (RK4).
    max_steps : total accepted steps allowed (counted in state[ST_NSTEPS]).
    div_bound : a component beyond this magnitude counts as divergence.
    t_avg : start of the averaging window [t_avg, t1].
    sample_t : (k,) sorted times at which to store the state (DOP853: its 7th-order dense
        output; DP5 and RK4: cubic Hermite interpolation, O(h^4)).
    samples : (k, n) output.
    stats : (4, n) in/out accumulators over the window: integral of y, of y^2, min, max.
    rec_t, rec_y : (cap,), (cap, n) buffers recording every accepted step; cap = 0 to disable.
        state[ST_NSTEPS] counts steps; recording resumes at index nsteps % cap when BUFFER_FULL.
    state : (N_ST,) in/out: t, h, n_steps, next sample index, window length, n_fev, n_rejected.
    blocks : (k, 3) int, sphere blocks renormalised after every accepted step (k = 0: none).
        The step is taken with the radially damped field; the projection only removes the
        O(tolerance) drift off the spheres, so the spin lengths stay 1 to rounding.

    Returns a status code.
    """
    n = y.shape[0]
    if method == 1:
        A = DOP_A
        B = DOP_B
        C = DOP_C
        E5 = DOP_E5
        E3 = DOP_E3
        order = 7.0
        n_stages = 12
    else:
        A = DP5_A
        B = DP5_B
        C = DP5_C
        E5 = DP5_E5
        E3 = DP5_E3
        order = 4.0
        n_stages = 6
    if method == 2:
        n_stages = 4
    K = np.empty((n_stages + 1, n))
    KX = np.empty((3, n))
    F = np.empty((7, n))
    ytmp = np.empty(n)
    ynew = np.empty(n)
    ymid = np.empty(n)
    t = state[ST_T]
    h = state[ST_H]
    nsteps = int(state[ST_NSTEPS])
    ksamp = int(state[ST_KSAMPLE])
    nfev = int(state[ST_NFEV])
    nrej = int(state[ST_NREJ])
    cap = rec_t.shape[0]
    nrec = 0
    _rhs(y, p, K[0])  # noqa: F821
    nfev += 1
    direction = 1.0
    if method != 2 and h <= 0.0:
        h = _initial_step(y, K[0], p, t, t1, order, rtol, atol, K[1:3])
        nfev += 1
    if method == 2:
        h = dt
    status = SUCCESS
    tiny = 1e-14
    while True:
        remaining = t1 - t
        if remaining <= tiny * max(1.0, abs(t1)):
            status = SUCCESS
            break
        if nsteps >= max_steps:
            status = MAX_STEPS
            break
        if cap > 0 and nrec >= cap:
            status = BUFFER_FULL
            break
        hs = min(h, remaining)
        if t < t_avg and t + hs > t_avg:
            hs = t_avg - t
        # -- one step --------------------------------------------------------------------
        if method == 2:
            for i in range(n):
                ytmp[i] = y[i] + 0.5 * hs * K[0, i]
            _rhs(ytmp, p, K[1])  # noqa: F821
            for i in range(n):
                ytmp[i] = y[i] + 0.5 * hs * K[1, i]
            _rhs(ytmp, p, K[2])  # noqa: F821
            for i in range(n):
                ytmp[i] = y[i] + hs * K[2, i]
            _rhs(ytmp, p, K[3])  # noqa: F821
            for i in range(n):
                ynew[i] = y[i] + hs * (K[0, i] + 2 * K[1, i] + 2 * K[2, i] + K[3, i]) / 6.0
            _rhs(ynew, p, K[4])  # noqa: F821
            nfev += 4
            accept = True
            h_next = h
        else:
            _stages(y, p, hs, A, C, n_stages, K, ytmp)
            for i in range(n):
                acc = 0.0
                for j in range(n_stages):
                    acc += B[j] * K[j, i]
                ynew[i] = y[i] + hs * acc
            _rhs(ynew, p, K[n_stages])  # noqa: F821
            nfev += n_stages
            # error norm
            if method == 1:
                e5 = 0.0
                e3 = 0.0
                for i in range(n):
                    sc = atol + max(abs(y[i]), abs(ynew[i])) * rtol
                    a5 = 0.0
                    a3 = 0.0
                    for j in range(n_stages + 1):
                        a5 += E5[j] * K[j, i]
                        a3 += E3[j] * K[j, i]
                    e5 += (a5 / sc) ** 2
                    e3 += (a3 / sc) ** 2
                den = e5 + 0.01 * e3
                err = abs(hs) * e5 / math.sqrt(den * n) if den > 0.0 else 0.0
            else:
                e5 = 0.0
                for i in range(n):
                    sc = atol + max(abs(y[i]), abs(ynew[i])) * rtol
                    a5 = 0.0
                    for j in range(n_stages + 1):
                        a5 += E5[j] * K[j, i]
                    e5 += (hs * a5 / sc) ** 2
                err = math.sqrt(e5 / n)
            if not math.isfinite(err):
                err = 1e10
            if err <= 1.0:
                accept = True
                fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** (-1.0 / (order + 1.0)))
                # a step shortened to land on t_avg or t1 does not shrink the next proposal
                h_next = max(h, hs * fac) if hs < h else hs * fac
            else:
                accept = False
                nrej += 1
                h = hs * max(0.2, 0.9 * err ** (-1.0 / (order + 1.0)))
                if h < 10.0 * 2.2e-16 * max(1.0, abs(t)):
                    status = STEP_TOO_SMALL
                    break
                continue
        # -- accepted: statistics, samples, records ------------------------------------
        fnew = K[n_stages]
        t_new = t + hs
        bad = False
        for i in range(n):
            if not math.isfinite(ynew[i]) or abs(ynew[i]) > div_bound:
                bad = True
        if bad:
            status = DIVERGED
            break
        if t >= t_avg - tiny * max(1.0, abs(t_avg)):
            for i in range(n):
                ymid[i] = 0.5 * (y[i] + ynew[i]) + hs * (K[0, i] - fnew[i]) / 8.0
                stats[0, i] += hs * (y[i] + 4.0 * ymid[i] + ynew[i]) / 6.0
                stats[1, i] += hs * (y[i] * y[i] + 4.0 * ymid[i] * ymid[i] + ynew[i] * ynew[i]) / 6.0
                lo = min(y[i], ynew[i], ymid[i])
                hi = max(y[i], ynew[i], ymid[i])
                if lo < stats[2, i]:
                    stats[2, i] = lo
                if hi > stats[3, i]:
                    stats[3, i] = hi
            state[ST_TWIN] += hs
        dense_ready = False
        while ksamp < sample_t.shape[0] and sample_t[ksamp] <= t_new:
            th = (sample_t[ksamp] - t) / hs
            if method == 1:
                if not dense_ready:
                    _dop853_dense(y, ynew, p, hs, K, KX, F, ytmp)
                    nfev += 3
                    dense_ready = True
                _dop853_eval(y, F, max(th, 0.0), samples[ksamp])
                ksamp += 1
                continue
            if th < 0.0:
                th = 0.0
            h00 = (1.0 + 2.0 * th) * (1.0 - th) ** 2
            h10 = th * (1.0 - th) ** 2
            h01 = th * th * (3.0 - 2.0 * th)
            h11 = th * th * (th - 1.0)
            for i in range(n):
                samples[ksamp, i] = h00 * y[i] + h10 * hs * K[0, i] + h01 * ynew[i] + h11 * hs * fnew[i]
            ksamp += 1
        for i in range(n):
            y[i] = ynew[i]
            K[0, i] = fnew[i]
        if blocks.shape[0] > 0:
            project_spheres(y, blocks)
            _rhs(y, p, K[0])  # noqa: F821  (the FSAL derivative must belong to the projected state)
            nfev += 1
        t = t_new
        nsteps += 1
        if cap > 0:
            rec_t[nrec] = t
            for i in range(n):
                rec_y[nrec, i] = y[i]
            nrec += 1
        h = h_next
    state[ST_T] = t
    state[ST_H] = h
    state[ST_NSTEPS] = nsteps
    state[ST_KSAMPLE] = ksamp
    state[ST_NFEV] = nfev
    state[ST_NREJ] = nrej
    return status


@njit(parallel=True)
def integrate_batch(Y0, P, t0, t1, method, rtol, atol, dt, max_steps, div_bound, t_avg, sample_t,
                    Yf, stats, samples, status, info, blocks):
    """Integrate m independent (state, parameter) pairs in parallel.

    Y0 : (m, n); P : (m, n_params); sample_t : (k,);
    Yf : (m, n) final states; stats : (m, 4, n) (see :func:`_integrate`); samples : (m, k, n);
    status : (m,) int64; info : (m, N_ST) final integrator state (t, h, n_steps, ...).
    """
    m = Y0.shape[0]
    n = Y0.shape[1]
    for i in prange(m):
        y = Y0[i].copy()
        st = np.zeros(N_ST)
        st[ST_T] = t0
        st[ST_H] = dt
        for k in range(n):
            stats[i, 0, k] = 0.0
            stats[i, 1, k] = 0.0
            stats[i, 2, k] = np.inf
            stats[i, 3, k] = -np.inf
        rec_t = np.empty(0)
        rec_y = np.empty((0, n))
        status[i] = _integrate(y, P[i], t1, method, rtol, atol, dt, max_steps, div_bound, t_avg,
                               sample_t, samples[i], stats[i], rec_t, rec_y, st, blocks)
        for k in range(n):
            Yf[i, k] = y[k]
        for k in range(N_ST):
            info[i, k] = st[k]
    return 0


@njit(parallel=True)
def integrate_segment(Y, P, idx, t1, method, rtol, atol, dt, max_steps, seg_steps, div_bound, t_avg,
                      sample_t, stats, samples, status, info, blocks):
    """Advance the trajectories ``idx`` by at most ``seg_steps`` accepted steps each, in parallel.

    Y : (m, n) current states, in place; P : (m, n_params); idx : (a,) int64 rows to advance;
    stats : (m, 4, n) window accumulators (initialised by the caller); samples : (m, k, n);
    status : (m,) int64, set for the rows of ``idx`` (PAUSED if the row must be resumed);
    info : (m, N_ST) integrator state of each row (t, h, n_steps, ...), initialised by the caller
    (t = t0, h = dt) and carried across calls. ``max_steps`` bounds the total steps of a row.
    """
    for q in prange(idx.shape[0]):
        i = idx[q]
        limit = info[i, ST_NSTEPS] + seg_steps
        if limit > max_steps:
            limit = max_steps
        rec_t = np.empty(0)
        rec_y = np.empty((0, Y.shape[1]))
        s = _integrate(Y[i], P[i], t1, method, rtol, atol, dt, int(limit), div_bound, t_avg,
                       sample_t, samples[i], stats[i], rec_t, rec_y, info[i], blocks)
        if s == MAX_STEPS and info[i, ST_NSTEPS] < max_steps:
            s = PAUSED
        status[i] = s
    return 0


@njit
def integrate_one(y, p, t1, method, rtol, atol, dt, max_steps, div_bound, t_avg, sample_t, samples,
                  stats, rec_t, rec_y, state, blocks):
    """Serial entry point for one trajectory (see :func:`_integrate`)."""
    return _integrate(y, p, t1, method, rtol, atol, dt, max_steps, div_bound, t_avg, sample_t, samples,
                      stats, rec_t, rec_y, state, blocks)
