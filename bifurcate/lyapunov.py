"""Lyapunov spectra from the variational equations, on the tangent space of the phase space.

For a model on S^2 x S^2 (the LMG dimer) the state lives in R^6 but the phase space has
dimension 4: the kernels evolve ``dim`` tangent vectors started in the tangent basis and remove
their radial components at every re-orthonormalisation, so the spectrum has ``model.dim``
exponents and the radial (damping) exponents of the embedding never appear. For Euclidean models
the tangent basis is the identity and this is the classical Benettin algorithm.

The Python functions validate, draw initial conditions, allocate and call the per-model compiled
kernels generated from :mod:`bifurcate.kernels.lyapunov_template` (fixed-step RK4 on the joint
state + tangent system, modified Gram-Schmidt). A failing trajectory comes back with ``status``
and ``message``; bad input raises at once.

References
----------
G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, Meccanica 15, 9 (1980).
K. Geist, U. Parlitz, W. Lauterborn, Prog. Theor. Phys. 83, 875 (1990).
Kothe & Kirton, mean-field Eqs. (6)-(11) (the LMG dimer).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from bifurcate.integrate import _as_param_table, ensemble_initial_states
from bifurcate.kernels import codegen
from bifurcate.model import Model

__all__ = ["LyapunovOptions", "LyapunovSpectrum", "LyapunovEnsemble", "lyapunov_spectrum", "lyapunov_spectra",
           "lyapunov_spectrum_reference", "kaplan_yorke",
           "lyapunov_kernels", "LYAPUNOV_STATUS"]

codegen.TEMPLATES["lyapunov"] = Path(codegen.__file__).resolve().parent / "lyapunov_template.py"

LYAPUNOV_STATUS = {
    0: "success",
    -3: "diverged (non-finite state or beyond div_bound)",
    -4: "degenerate tangent vector (norm zero or non-finite)",
}


def lyapunov_kernels(model: Model):
    """The generated Lyapunov kernel module of ``model`` (cached by numba on disk)."""
    return codegen.model_kernels(model, "lyapunov")


@dataclass(frozen=True)
class LyapunovOptions:
    """Options of the Lyapunov kernels (frozen; change with :func:`dataclasses.replace`).

    Attributes
    ----------
    t_transient : float
        Time integrated (state only) before the tangent vectors start.
    t_align : float
        Time the tangent vectors evolve (re-orthonormalised, growth discarded) before the
        measured segment, so that they have turned towards the Lyapunov vectors.
    t_total : float
        Length of the measured segment; rounded up to whole blocks.
    dt : float
        Fixed RK4 step of the joint system. 0.01 is converged to ~1e-7 on the LMG dimer at
        gamma = 0.5 (RK4's local error ~ (omega dt)^5 / 120 with omega ~ 3).
    dt_ortho : float
        Time between re-orthonormalisations (rounded to whole steps); short enough that the
        ratio of the largest to the smallest growth factor (~exp((l1 - ld) dt_ortho)) stays far
        from 1 / machine epsilon.
    n_blocks : int
        The segment is cut into this many blocks; the spread of the block exponents gives the
        convergence estimate ``stderr = std(blocks) / sqrt(n_blocks)``.
    sample_dt : float
        Interval at which the state is stored over the measured segment (0: none).
    div_bound : float
        A state component beyond this magnitude counts as divergence.
    """

    t_transient: float = 200.0
    t_align: float = 20.0
    t_total: float = 500.0
    dt: float = 0.01
    dt_ortho: float = 0.1
    n_blocks: int = 20
    sample_dt: float = 0.05
    div_bound: float = 1e8

    def __post_init__(self):
        for name in ("t_transient", "t_align", "sample_dt"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {v}")
        for name in ("t_total", "dt", "dt_ortho", "div_bound"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v}")
        if self.dt_ortho < self.dt:
            raise ValueError(f"dt_ortho must be >= dt, got dt_ortho={self.dt_ortho}, dt={self.dt}")
        if int(self.n_blocks) < 2:
            raise ValueError(f"n_blocks must be >= 2, got {self.n_blocks}")

    # step bookkeeping -----------------------------------------------------------------------
    @property
    def steps_per_ortho(self) -> int:
        return max(1, int(round(self.dt_ortho / self.dt)))

    @property
    def orthos_per_block(self) -> int:
        per_block = self.t_total / self.n_blocks
        return max(1, int(np.ceil(per_block / (self.steps_per_ortho * self.dt) - 1e-9)))

    @property
    def n_steps(self) -> int:
        return int(self.n_blocks) * self.orthos_per_block * self.steps_per_ortho

    @property
    def n_transient(self) -> int:
        return int(round(self.t_transient / self.dt))

    @property
    def n_align(self) -> int:
        return int(round(self.t_align / (self.steps_per_ortho * self.dt)))

    @property
    def sample_every(self) -> int:
        return max(1, int(round(self.sample_dt / self.dt))) if self.sample_dt > 0 else self.n_steps + 1

    @property
    def n_samples(self) -> int:
        return self.n_steps // self.sample_every + 1 if self.sample_dt > 0 else 0

    @property
    def block_time(self) -> float:
        return self.orthos_per_block * self.steps_per_ortho * self.dt


def _options(options: LyapunovOptions | None, overrides: Mapping[str, Any]) -> LyapunovOptions:
    opts = options or LyapunovOptions()
    if not isinstance(opts, LyapunovOptions):
        raise TypeError(f"options must be a LyapunovOptions, got {type(opts).__name__}")
    return replace(opts, **overrides) if overrides else opts


def _summarise(block_logs: np.ndarray, n_done: int, block_time: float):
    """Exponents (sorted, descending), stderr, running estimates from block sums (n_blocks, d)."""
    d = block_logs.shape[-1]
    if n_done < 1:
        nan = np.full(d, np.nan)
        return nan, nan.copy(), np.full((0, d), np.nan), np.zeros((0, d))
    bl = block_logs[:n_done] / block_time
    expo = bl.mean(axis=0)
    order = np.argsort(-expo, kind="stable")
    bl = bl[:, order]
    expo = expo[order]
    err = bl.std(axis=0, ddof=1) / np.sqrt(n_done) if n_done > 1 else np.full(d, np.nan)
    running = np.cumsum(bl, axis=0) / np.arange(1, n_done + 1)[:, None]
    return expo, err, running, bl


@dataclass(frozen=True, eq=False)
class LyapunovSpectrum:
    """Lyapunov spectrum of one trajectory.

    Attributes
    ----------
    exponents : ndarray (dim,)
        Descending. ``dim`` is the phase-space dimension (4 on S^2 x S^2).
    stderr : ndarray (dim,)
        Standard error from the spread of the block estimates (blocks are correlated for
        short blocks, so read it as an order of magnitude).
    block_exponents : ndarray (n_blocks, dim)
        Exponent estimate of each block.
    running : ndarray (n_blocks, dim)
        Running estimate at the end of each block (convergence plot).
    running_t : ndarray (n_blocks,)
        Time since the start of the measured segment at the end of each block.
    status : int
        0 on success, negative on failure (``LYAPUNOV_STATUS``).
    message : str
    params : dict
    y0, y_final : ndarray (n,)
    mean, std, min, max : ndarray (n,)
        Time statistics of the state over the measured segment.
    sample_t : ndarray (k,)
    samples : ndarray (k, n)
        The state every ``options.sample_dt`` over the measured segment (t measured from its start).
    radial_leak : float
        Largest fraction of a tangent vector's norm removed as radial component at a
        re-orthonormalisation (0 for Euclidean models).
    sphere_error : float
        Largest ``| |r|^2 - 1 |`` seen after a step before renormalisation.
    options : LyapunovOptions
    model : Model
    """

    exponents: np.ndarray
    stderr: np.ndarray
    block_exponents: np.ndarray
    running: np.ndarray
    running_t: np.ndarray
    status: int
    message: str
    params: dict
    y0: np.ndarray
    y_final: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    sample_t: np.ndarray
    samples: np.ndarray
    radial_leak: float
    sphere_error: float
    options: LyapunovOptions = field(repr=False)
    model: Model = field(repr=False)

    @property
    def success(self) -> bool:
        return self.status == 0

    @property
    def largest(self) -> float:
        return float(self.exponents[0])

    @property
    def sum(self) -> float:
        """Sum of the exponents: the time-averaged divergence of the flow on the phase space."""
        return float(np.sum(self.exponents))

    @property
    def kaplan_yorke_dimension(self) -> float:
        """D_KY = j + (l_1 + ... + l_j) / |l_{j+1}|, j the largest index with a non-negative partial sum."""
        return kaplan_yorke(self.exponents)

    def to_frame(self) -> pd.DataFrame:
        """One row per exponent: ``index``, ``exponent``, ``stderr``, status and the parameters."""
        df = pd.DataFrame({"index": np.arange(self.exponents.size), "exponent": self.exponents,
                           "stderr": self.stderr})
        df["status"] = self.status
        df["message"] = self.message
        for k, v in self.params.items():
            df[k] = v
        return df

    def running_frame(self) -> pd.DataFrame:
        """Long table of the running estimates: ``t``, ``index``, ``exponent``."""
        nb, d = self.running.shape
        return pd.DataFrame({"t": np.repeat(self.running_t, d), "index": np.tile(np.arange(d), nb),
                             "exponent": self.running.ravel()})


def kaplan_yorke(exponents: np.ndarray) -> float:
    """Kaplan-Yorke dimension of a descending spectrum (0 if the largest exponent is negative)."""
    lam = np.sort(np.asarray(exponents, dtype=float))[::-1]
    if not np.all(np.isfinite(lam)) or lam[0] < 0:
        return 0.0
    cs = np.cumsum(lam)
    j = int(np.nonzero(cs >= 0)[0][-1])
    if j == lam.size - 1:
        return float(lam.size)
    return float(j + 1 + cs[j] / abs(lam[j + 1]))


@dataclass(frozen=True, eq=False)
class LyapunovEnsemble:
    """Lyapunov spectra of P parameter points x N initial conditions (flattened to M = P N rows).

    Attributes
    ----------
    params : DataFrame (P rows)
    point, ic : ndarray (M,) of int
        Parameter-point and initial-condition index of each row.
    y0, y_final : ndarray (M, n)
    exponents, stderr : ndarray (M, dim)
    block_exponents : ndarray (M, n_blocks, dim)
    mean, std, min, max : ndarray (M, n)
    samples : ndarray (M, k, n) or None; sample_t : ndarray (k,)
    status : ndarray (M,) of int
    radial_leak, sphere_error : ndarray (M,)
    wall_time : float
        Seconds spent in the compiled kernel.
    options, model, seed
    """

    params: pd.DataFrame
    point: np.ndarray
    ic: np.ndarray
    y0: np.ndarray
    y_final: np.ndarray
    exponents: np.ndarray
    stderr: np.ndarray
    block_exponents: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    samples: np.ndarray | None
    sample_t: np.ndarray
    status: np.ndarray
    radial_leak: np.ndarray
    sphere_error: np.ndarray
    wall_time: float
    options: LyapunovOptions = field(repr=False)
    model: Model = field(repr=False)
    seed: Any = None

    def __len__(self) -> int:
        return self.status.size

    @property
    def message(self) -> np.ndarray:
        return np.array([LYAPUNOV_STATUS.get(int(s), f"status {int(s)}") for s in self.status], dtype=object)

    @property
    def throughput(self) -> float:
        """Trajectories per second of kernel wall time."""
        return len(self) / self.wall_time if self.wall_time > 0 else np.inf

    def spectrum(self, i: int) -> LyapunovSpectrum:
        """Row ``i`` as a :class:`LyapunovSpectrum`."""
        o = self.options
        bl = self.block_exponents[i]
        nb = bl.shape[0]
        ok = np.all(np.isfinite(bl), axis=1)
        n_done = int(np.argmin(ok)) if not ok.all() else nb
        running = np.cumsum(bl[:n_done], axis=0) / np.arange(1, n_done + 1)[:, None]
        return LyapunovSpectrum(
            exponents=self.exponents[i], stderr=self.stderr[i], block_exponents=bl[:n_done], running=running,
            running_t=o.block_time * np.arange(1, n_done + 1), status=int(self.status[i]),
            message=self.message[i], params=self.params.iloc[int(self.point[i])].to_dict(), y0=self.y0[i],
            y_final=self.y_final[i], mean=self.mean[i], std=self.std[i], min=self.min[i], max=self.max[i],
            sample_t=self.sample_t, samples=self.samples[i] if self.samples is not None else np.zeros((0, self.model.n)),
            radial_leak=float(self.radial_leak[i]), sphere_error=float(self.sphere_error[i]), options=o,
            model=self.model)

    def to_frame(self) -> pd.DataFrame:
        """One row per trajectory: point, ic, parameters, status, ``lyap_0..``, ``lyap_err_0..``,
        ``lyap_sum``, time means ``mean_<state>``, std ``std_<state>``."""
        df = self.params.iloc[self.point].reset_index(drop=True)
        df.insert(0, "point", self.point)
        df.insert(1, "ic", self.ic)
        df["status"] = self.status
        df["message"] = self.message
        cols = {}
        for k in range(self.exponents.shape[1]):
            cols[f"lyap_{k}"] = self.exponents[:, k]
        for k in range(self.exponents.shape[1]):
            cols[f"lyap_err_{k}"] = self.stderr[:, k]
        cols["lyap_sum"] = self.exponents.sum(axis=1)
        for j, s in enumerate(self.model.state_names):
            cols[f"mean_{s}"] = self.mean[:, j]
        for j, s in enumerate(self.model.state_names):
            cols[f"std_{s}"] = self.std[:, j]
        return pd.concat([df, pd.DataFrame(cols)], axis=1)


def _run(model: Model, Y0: np.ndarray, Pm: np.ndarray, opts: LyapunovOptions, keep_samples: bool):
    import time

    kern = lyapunov_kernels(model)
    M, n = Y0.shape
    d = model.dim
    nb = int(opts.n_blocks)
    ns = opts.n_samples if keep_samples else 0
    YF = np.empty((M, n))
    BL = np.empty((M, nb, d))
    S = np.full((M, ns, n), np.nan)
    ST = np.empty((M, 4, n))
    INFO = np.empty((M, 4))
    STATUS = np.empty(M, dtype=np.int64)
    geo = model.geometry
    t0 = time.perf_counter()
    kern.lyapunov_batch(Y0, Pm, float(opts.dt), opts.n_transient, opts.n_align, nb, opts.orthos_per_block, opts.steps_per_ortho,
                        opts.sample_every if ns else opts.n_steps + 1, geo.sphere_blocks, geo.free_idx,
                        float(opts.div_bound), YF, BL, S, ST, INFO, STATUS)
    wall = time.perf_counter() - t0
    return YF, BL, S, ST, INFO, STATUS, wall


def lyapunov_spectra(model: Model, params=None, y0=None, *, n_initial: int | None = None,
                     seed: int | np.random.Generator | None = None, options: LyapunovOptions | None = None,
                     keep_samples: bool = True, **option_overrides) -> LyapunovEnsemble:
    """Lyapunov spectra of every (parameter point, initial condition) pair, in parallel.

    Parameters
    ----------
    model : Model
    params : dict of scalars/arrays, list of dicts or DataFrame, optional
        P parameter points (as in :func:`bifurcate.integrate_ensemble`).
    y0 : array_like (N, n) or (P, N, n), optional
        Initial conditions; if omitted ``n_initial`` are drawn uniformly on the phase space from
        ``seed``, before any parallel work (results do not depend on the thread count).
    n_initial : int, optional
    seed : int or Generator, optional
    options : LyapunovOptions, optional
    keep_samples : bool
        Store the sampled states (M x k x n floats).
    **option_overrides
        Fields of :class:`LyapunovOptions`, e.g. ``t_total=1000``.

    Returns
    -------
    LyapunovEnsemble
    """
    opts = _options(options, option_overrides)
    table = _as_param_table(model, params)
    P = len(table)
    Y = ensemble_initial_states(model, P, y0, n_initial, seed)
    N = Y.shape[1]
    Y0 = np.ascontiguousarray(Y.reshape(P * N, model.n), dtype=float)
    if model.geometry.n_spheres:
        Y0 = np.ascontiguousarray(model.geometry.project(Y0))
    Pm = np.ascontiguousarray(np.repeat(table[list(model.param_names)].to_numpy(float), N, axis=0))
    YF, BL, S, ST, INFO, STATUS, wall = _run(model, Y0, Pm, opts, keep_samples)
    M, d = Y0.shape[0], model.dim
    expo = np.full((M, d), np.nan)
    err = np.full((M, d), np.nan)
    blocks = np.full_like(BL, np.nan)
    for i in range(M):
        n_done = int(INFO[i, 2])
        e, s, _, bl = _summarise(BL[i], n_done, opts.block_time)
        expo[i], err[i] = e, s
        blocks[i, :n_done] = bl
    T = opts.n_steps * opts.dt
    with np.errstate(invalid="ignore"):
        mean = ST[:, 0] / T
        std = np.sqrt(np.maximum(ST[:, 1] / T - mean ** 2, 0.0))
    bad = STATUS != 0
    mean[bad] = np.nan
    std[bad] = np.nan
    mn, mx = ST[:, 2].copy(), ST[:, 3].copy()
    mn[bad] = np.nan
    mx[bad] = np.nan
    sample_t = np.arange(S.shape[1]) * opts.sample_every * opts.dt
    return LyapunovEnsemble(
        params=table, point=np.repeat(np.arange(P), N), ic=np.tile(np.arange(N), P), y0=Y0, y_final=YF,
        exponents=expo, stderr=err, block_exponents=blocks, mean=mean, std=std, min=mn, max=mx,
        samples=S if keep_samples else None, sample_t=sample_t, status=STATUS, radial_leak=INFO[:, 1],
        sphere_error=INFO[:, 3], wall_time=wall, options=opts, model=model,
        seed=seed if not isinstance(seed, np.random.Generator) else None)


def lyapunov_spectrum(model: Model, y0, params: Mapping[str, float] | None = None, *,
                      options: LyapunovOptions | None = None, **option_overrides) -> LyapunovSpectrum:
    """Lyapunov spectrum of one trajectory from the variational equations.

    Parameters
    ----------
    model : Model
    y0 : array_like (n,)
        Initial state (projected onto the spheres of the phase space).
    params : dict, optional
    options : LyapunovOptions, optional
    **option_overrides
        Fields of :class:`LyapunovOptions`: ``t_transient``, ``t_total``, ``dt``, ``dt_ortho``,
        ``n_blocks``, ``sample_dt``, ``div_bound``.

    Returns
    -------
    LyapunovSpectrum
        ``exponents`` (model.dim,) descending, ``stderr``, running estimates, status.

    Examples
    --------
    >>> from bifurcate.models import STUART_LANDAU
    >>> ls = lyapunov_spectrum(STUART_LANDAU, [1.0, 0.0], {"mu": 0.5}, t_total=200)
    >>> ls.exponents.round(4)                 # (0, -2 mu)
    array([ 0., -1.])
    """
    y = model.check_state(y0)
    ens = lyapunov_spectra(model, [model.params(params)], y[None, :], options=options, **option_overrides)
    return ens.spectrum(0)


def lyapunov_spectrum_reference(model: Model, y0, params: Mapping[str, float] | None = None, *,
                                t_transient: float = 0.0, t_total: float = 100.0, dt_ortho: float = 0.1,
                                rtol: float = 1e-10, atol: float = 1e-12, t_align: float = 0.0) -> np.ndarray:
    """The plain SciPy/numpy twin of the compiled kernels (tests and benchmarks only).

    ``solve_ivp`` (DOP853) on the joint state + tangent system between re-orthonormalisations,
    radial components removed by an explicit projector, ``numpy.linalg.qr``. Same algorithm,
    independent code; slow (a Python call per right-hand side evaluation).

    Returns
    -------
    ndarray (dim,), descending.
    """
    from scipy.integrate import solve_ivp

    y = model.geometry.project(model.check_state(y0))
    p = model.pack_params(params)
    n, d = model.n, model.dim
    f = np.empty(n)
    J = np.empty((n, n))

    def field_(t, z):
        yy = z[:n]
        model.rhs(yy, p, f)
        model.jac(yy, p, J)
        return np.concatenate([f, (J @ z[n:].reshape(n, d)).ravel()])

    def state_only(t, yy):
        out = np.empty(n)
        model.rhs(yy, p, out)
        return out

    if t_transient > 0:
        y = solve_ivp(state_only, (0, t_transient), y, method="DOP853", rtol=rtol, atol=atol).y[:, -1]
        y = model.geometry.project(y)
    Q = model.geometry.tangent_basis(y)
    logs = np.zeros(d)
    n_align = int(round(t_align / dt_ortho))
    n_ortho = int(round(t_total / dt_ortho))
    for k in range(n_align + n_ortho):
        z = solve_ivp(field_, (0, dt_ortho), np.concatenate([y, Q.ravel()]), method="DOP853", rtol=rtol,
                      atol=atol).y[:, -1]
        y = model.geometry.project(z[:n])
        Q = z[n:].reshape(n, d)
        for blk in model.geometry.sphere_blocks:
            u = y[blk] / np.linalg.norm(y[blk])
            Q[blk] -= np.outer(u, u @ Q[blk])
        Q, R = np.linalg.qr(Q)
        if k >= n_align:
            logs += np.log(np.abs(np.diag(R)))
    return np.sort(logs / (n_ortho * dt_ortho))[::-1]
