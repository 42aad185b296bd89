"""Lyapunov spectra from the variational equations, on the tangent space of the phase space.

For a model on S^2 x S^2 (the LMG dimer) the state lives in R^6 but the phase space has
dimension 4: the kernels evolve ``dim`` tangent vectors started in the tangent basis and remove
their radial components at every re-orthonormalisation, so the spectrum has ``model.dim``
exponents and the radial (damping) exponents of the embedding never appear. For Euclidean models
the tangent basis is the identity and this is the classical Benettin algorithm.

The Python functions validate, draw initial conditions, allocate and call the per-model compiled
kernels generated from :mod:`bifurcate.kernels.lyapunov_template`: by default adaptive DOP853 on
the joint state + tangent system, with the local error controlled over the state AND the tangent
vectors (rtol 1e-8, atol 1e-10) and steps landing on the re-orthonormalisation times; or
fixed-step RK4 checked by step doubling once per block. Modified Gram-Schmidt. A failing
trajectory comes back with ``status`` and ``message``; bad input raises at once.

Statuses (:data:`LYAPUNOV_STATUS`; negative = not trusted, the exponents of such a row are over
the blocks completed before the failure, or NaN):

* ``0`` success: every step met rtol/atol (DOP853) or the step-doubling check passed (RK4);
* ``-1`` max steps reached: ``max_steps`` accepted steps were spent (a stiff or extreme point);
* ``-2`` accuracy not met: the DOP853 step fell below the rounding floor, or ``rtol`` is below
  100 eps (not integrated);
* ``-3`` diverged; ``-4`` degenerate tangent vector;
* ``-5`` accuracy not met: the RK4 step ``dt`` is too large for rtol/atol.

Cost (LMG dimer, chaotic point J = 1.5, lam = 1, T = 500 + 220 of transient and alignment): see
``studies/benchmarks/bench_lyapunov.py``. Measured (8 trajectories, 2 threads, one run): DOP853
at the default tolerance spends 1.0e5 joint field evaluations per trajectory (6.5e3 steps; at
dt_ortho = 0.1 the interval, not the tolerance, caps the step) against 3.4e5 for RK4 at
dt = 0.01, 1.6-1.9 times less kernel time, and is 45 times more accurate (2e-7 against 1e-5 on
a T = 20 window against the rtol-1e-12 SciPy twin); RK4 needs dt = 0.0025 (6.6 times the
DOP853 time) for the same accuracy.

Segments and blocks: the measured time is cut into blocks of equal length; every result carries
the log growth and the state means of each block, the state and orthonormal tangent frame
reached and the kernels' integrator state, so :func:`lyapunov_extend` continues any subset of
trajectories exactly where they stopped (a convergence loop integrates until each trajectory is
decided). A kernel call never runs more than ``LyapunovOptions.steps_per_call`` steps per
trajectory; the wrapper calls again, so Ctrl-C is served between calls.

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

from bifurcate.integrate import _as_param_table, _field_overflows, check_ensemble_memory, ensemble_initial_states
from bifurcate.kernels import codegen
from bifurcate.model import Model
from bifurcate.validation import check_count, check_memory, check_range

__all__ = ["LyapunovOptions", "LyapunovSpectrum", "LyapunovEnsemble", "lyapunov_spectrum", "lyapunov_spectra",
           "lyapunov_extend", "lyapunov_spectrum_reference", "kaplan_yorke",
           "lyapunov_kernels", "LYAPUNOV_STATUS", "LYAPUNOV_METHODS"]

codegen.TEMPLATES["lyapunov"] = Path(codegen.__file__).resolve().parent / "lyapunov_template.py"

LYAPUNOV_STATUS = {
    0: "success",
    -1: "max steps reached (max_steps accepted steps before the end)",
    -2: "accuracy not met: step size below the floor set by rounding (rtol/atol cannot be met)",
    -3: "diverged (non-finite state or beyond div_bound)",
    -4: "degenerate tangent vector (norm zero or non-finite)",
    -5: "accuracy not met: the RK4 step dt is too large for rtol/atol (step-doubling check)",
}

#: the integration methods of the variational equations
LYAPUNOV_METHODS = ("dop853", "rk4")

#: below this rtol the rounding of a step exceeds the tolerance and no error estimate can see it
#: (SciPy's solve_ivp clamps to the same floor); such a run gets status -2 without integrating
RTOL_FLOOR = 100 * np.finfo(float).eps


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
    method : {"dop853", "rk4"}
        ``"dop853"`` (default): adaptive Dormand-Prince 8(5,3) on the joint state + tangent
        system, local error <= rtol/atol in a norm over the state and the tangent vectors, steps
        landing on the re-orthonormalisation times. ``"rk4"``: classical RK4 with the fixed step
        ``dt`` (deterministic step sequence), checked by step doubling on the first
        re-orthonormalisation interval of every block; status -5 if it misses rtol/atol.
    rtol, atol : float
        Local error tolerances (per step): state component i is scaled by
        ``atol + rtol |y_i|``, tangent vector k (unit length after each re-orthonormalisation)
        by ``atol + rtol |q_k|``. Defaults 1e-9 / 1e-12: at the chaotic point of the LMG dimer
        the exponents then agree with a solve_ivp twin at rtol 1e-12 to ~1e-8 (see the tests).
    dt : float
        ``"rk4"``: the fixed step. 0.01 is converged to ~1e-7 on the LMG dimer at gamma = 0.5
        (RK4's local error ~ (omega dt)^5 / 120 with omega ~ 3). ``"dop853"`` chooses its own
        steps (``dt`` only sets the sampling grid of :attr:`n_steps` kept for old callers).
    dt_ortho : float
        Time between re-orthonormalisations (``"rk4"``: rounded to whole steps); short enough that
        the ratio of the largest to the smallest growth factor (~exp((l1 - ld) dt_ortho)) stays
        far from 1 / machine epsilon. ``"dop853"`` also re-orthonormalises early when that ratio
        exceeds ``growth_bound``.
    n_blocks : int
        The segment is cut into this many blocks; the spread of the block exponents gives the
        convergence estimate ``stderr = std(blocks) / sqrt(n_blocks)``.
    sample_dt : float
        Interval at which the state is stored over the measured segment (0: none); ``"dop853"``
        samples from its 7th-order dense output.
    div_bound : float
        A state component beyond this magnitude counts as divergence.
    max_steps : int
        Accepted steps allowed per trajectory over all its phases and extensions (status -1).
    growth_bound : float
        ``"dop853"``: re-orthonormalise within an interval when the longest tangent vector
        exceeds the shortest by this factor.
    steps_per_call : int
        Cap on the steps one compiled-kernel call takes per trajectory; the Python wrapper calls
        again until every trajectory is done, so Ctrl-C is served between calls (at ~1-5 us per
        joint step of the LMG dimer, a call lasts about ``steps_per_call * N / threads`` us).
        Calls end at re-orthonormalisation times, so the result does not depend on this cap.
    """

    t_transient: float = 200.0
    t_align: float = 20.0
    t_total: float = 500.0
    dt: float = 0.01
    dt_ortho: float = 0.1
    n_blocks: int = 20
    sample_dt: float = 0.05
    div_bound: float = 1e8
    steps_per_call: int = 20000
    method: str = "dop853"
    rtol: float = 1e-8
    atol: float = 1e-10
    max_steps: int = 1_000_000
    growth_bound: float = 1e3

    def __post_init__(self):
        if self.method not in LYAPUNOV_METHODS:
            raise ValueError(f"method must be one of {LYAPUNOV_METHODS}, got {self.method!r}")
        for name in ("t_transient", "t_align", "sample_dt"):
            check_range(name, getattr(self, name), 0)                 # real, finite, >= 0 (bool refused)
        for name in ("t_total", "dt", "dt_ortho", "div_bound", "rtol", "atol"):
            check_range(name, getattr(self, name), 0, None, lo_open=True)
        if self.dt_ortho < self.dt:
            raise ValueError(f"dt_ortho must be >= dt, got dt_ortho={self.dt_ortho}, dt={self.dt}")
        if not (np.isfinite(self.growth_bound) and self.growth_bound > 1):
            raise ValueError(f"growth_bound must be finite and > 1, got {self.growth_bound}")
        for name, lo in (("n_blocks", 2), ("steps_per_call", 1), ("max_steps", 1)):
            check_count(name, getattr(self, name), minimum=lo)

    # step bookkeeping -----------------------------------------------------------------------
    @property
    def adaptive(self) -> bool:
        return self.method != "rk4"

    @property
    def steps_per_ortho(self) -> int:
        """RK4 steps per re-orthonormalisation interval."""
        return max(1, int(round(self.dt_ortho / self.dt)))

    @property
    def ortho_time(self) -> float:
        """Length of one re-orthonormalisation interval (``"rk4"``: whole steps)."""
        return self.dt_ortho if self.adaptive else self.steps_per_ortho * self.dt

    @property
    def orthos_per_block(self) -> int:
        per_block = self.t_total / self.n_blocks
        return max(1, int(np.ceil(per_block / self.ortho_time - 1e-9)))

    @property
    def n_steps(self) -> int:
        """RK4 steps of the measured segment (``n_steps * dt`` is its length for ``"rk4"``)."""
        return int(self.n_blocks) * self.orthos_per_block * self.steps_per_ortho

    @property
    def n_transient(self) -> int:
        return int(round(self.t_transient / self.dt))

    @property
    def n_align(self) -> int:
        return int(round(self.t_align / self.ortho_time))

    @property
    def sample_every(self) -> int:
        return max(1, int(round(self.sample_dt / self.dt))) if self.sample_dt > 0 else self.n_steps + 1

    @property
    def n_samples(self) -> int:
        return self.samples_for(int(self.n_blocks))

    def samples_for(self, n_blocks: int) -> int:
        """Samples stored over a segment of ``n_blocks`` blocks (its start included)."""
        if self.sample_dt <= 0:
            return 0
        if self.adaptive:
            return int(np.floor(n_blocks * self.block_time / self.sample_dt + 1e-9)) + 1
        return (n_blocks * self.orthos_per_block * self.steps_per_ortho) // self.sample_every + 1

    @property
    def sample_interval(self) -> float:
        """Time between samples (``"rk4"``: whole steps)."""
        return self.sample_dt if self.adaptive else self.sample_every * self.dt

    @property
    def block_time(self) -> float:
        return self.orthos_per_block * self.ortho_time

    @property
    def t_measured(self) -> float:
        """Length of the measured segment (``t_total`` rounded up to whole blocks)."""
        return int(self.n_blocks) * self.block_time


def _options(options: LyapunovOptions | None, overrides: Mapping[str, Any]) -> LyapunovOptions:
    opts = options or LyapunovOptions()
    if not isinstance(opts, LyapunovOptions):
        raise TypeError(f"options must be a LyapunovOptions, got {type(opts).__name__}")
    return replace(opts, **overrides) if overrides else opts


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

    The measured time of every row is cut into blocks of equal length ``block_time``; the
    exponents and their errors are over all the blocks measured so far (a row extended by
    :func:`lyapunov_extend` carries the blocks of every segment). Completed blocks form a prefix
    of the block axis: blocks a row has not measured (failure, or not extended) are NaN.

    Attributes
    ----------
    params : DataFrame (P rows)
    point, ic : ndarray (M,) of int
        Parameter-point and initial-condition index of each row.
    y0 : ndarray (M, n)
        Initial conditions (projected on the spheres).
    y_final : ndarray (M, n)
        State reached (where the next segment starts).
    q_final : ndarray (M, n, dim)
        Orthonormal tangent frame reached (Gram-Schmidt column order, see ``gs_order``).
    t_final : ndarray (M,)
        Time integrated since the initial condition (transient and alignment included).
    exponents, stderr : ndarray (M, dim)
        Exponents, descending, and ``std(block exponents) / sqrt(n_blocks_done)``, over all
        measured blocks of each row.
    gs_order : ndarray (M, dim) of int
        ``exponents[i] = block_logs`` sums in Gram-Schmidt column ``gs_order[i]``: column k of
        ``block_logs``/``block_exponents``/``exponents`` is column ``gs_order[i, k]`` of ``q_final``.
    block_logs : ndarray (M, B, dim)
        Sum of log |R_kk| of each measured block (columns ordered as ``exponents``); B is the
        largest number of blocks over the rows.
    block_exponents : ndarray (M, B, dim)
        ``block_logs / block_time``.
    block_means : ndarray (M, B, n)
        Time mean of each state component over each block.
    block_time : float
        Length of one block (a whole number of re-orthonormalisation intervals).
    n_blocks_done : ndarray (M,) of int
        Completed blocks of each row.
    t_measured : ndarray (M,)
        ``n_blocks_done * block_time``.
    n_steps, n_fev : ndarray (M,) of int
        Integration steps and right-hand side evaluations spent on the row so far (transient,
        alignment and every measured segment).
    mean, std, min, max : ndarray (M, n)
        Time statistics of the state over all measured time (NaN for failed rows).
    samples : ndarray (M, k, n) or None
        The state every ``options.sample_dt`` over the NEWEST measured segment only (rows not
        integrated in that segment are NaN); ``sample_t`` (k,) is the time since its start.
    sample_rows : ndarray (m,) of int or None
        With ``lyapunov_extend(..., keep_samples="active")``: the rows whose samples ``samples``
        (m, k, n) holds, in order (None: ``samples`` covers every row).
    segment_start : ndarray (M,)
        Measured time at the start of the newest segment of each row.
    status : ndarray (M,) of int
    radial_leak, sphere_error : ndarray (M,)
    wall_time : float
        Seconds spent in the compiled kernels (this call only).
    options, model, seed
    err_ratio : ndarray (M,)
        ``"rk4"``: largest step-doubling estimate of the local error per step over the tolerance
        (> 1 gives status -5); 0 for ``"dop853"`` (every step is controlled).
    h_min : ndarray (M,)
        ``"dop853"``: smallest step taken over the measured time (steps cut short to land on a
        re-orthonormalisation time excluded); 0 for ``"rk4"``.
    kernel_state : ndarray (M, N_ST)
        The kernels' resumable integrator state (internal).
    stats_raw : ndarray (M, 4, n)
        Integrals of y and y^2, min and max over the measured time (internal, for resuming).
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
    block_logs: np.ndarray = field(default=None, repr=False)
    block_means: np.ndarray = field(default=None, repr=False)
    block_time: float = np.nan
    n_blocks_done: np.ndarray = field(default=None, repr=False)
    t_measured: np.ndarray = field(default=None, repr=False)
    n_steps: np.ndarray = field(default=None, repr=False)
    n_fev: np.ndarray = field(default=None, repr=False)
    q_final: np.ndarray = field(default=None, repr=False)
    t_final: np.ndarray = field(default=None, repr=False)
    gs_order: np.ndarray = field(default=None, repr=False)
    segment_start: np.ndarray = field(default=None, repr=False)
    kernel_state: np.ndarray = field(default=None, repr=False)
    stats_raw: np.ndarray = field(default=None, repr=False)
    err_ratio: np.ndarray = field(default=None, repr=False)
    h_min: np.ndarray = field(default=None, repr=False)
    sample_rows: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.status.size

    @property
    def message(self) -> np.ndarray:
        """(M,) str: what each status means, with the time it happened at for failures."""
        out = []
        for i, s in enumerate(self.status):
            s = int(s)
            if s == 0 or self.t_final is None:
                out.append(LYAPUNOV_STATUS.get(s, f"status {s}"))
                continue
            t = float(self.t_final[i])
            if s == -2 and self.options.rtol < RTOL_FLOOR:
                out.append(f"accuracy not met: rtol = {self.options.rtol:g} is below the rounding floor "
                           f"{RTOL_FLOOR:.2g}; not integrated")
            elif s == -2:
                h = float(self.kernel_state[i, 1])
                out.append(f"accuracy not met: step size below {h:.3g} (rounding floor) at t = {t:.6g} "
                           f"(rtol={self.options.rtol:g}, atol={self.options.atol:g})")
            elif s == -5:
                out.append(f"accuracy not met: RK4 step dt = {self.options.dt:g} too large for rtol="
                           f"{self.options.rtol:g}, atol={self.options.atol:g} (step-doubling error "
                           f"{float(self.err_ratio[i]):.3g} x tolerance) at t = {t:.6g}")
            elif s == -1:
                out.append(f"max steps reached ({self.options.max_steps}) at t = {t:.6g}")
            else:
                out.append(f"{LYAPUNOV_STATUS.get(s, f'status {s}')} at t = {t:.6g}")
        return np.array(out, dtype=object)

    @property
    def success(self) -> np.ndarray:
        """(M,) bool: status 0."""
        return self.status == 0

    @property
    def throughput(self) -> float:
        """Trajectories per second of kernel wall time."""
        return len(self) / self.wall_time if self.wall_time > 0 else np.inf

    def _samples_of(self, i: int) -> np.ndarray:
        if self.samples is None:
            return np.zeros((0, self.model.n))
        if self.sample_rows is None:
            return self.samples[i]
        k = np.nonzero(self.sample_rows == (i % len(self)))[0]
        return self.samples[int(k[0])] if k.size else np.full((self.samples.shape[1], self.model.n), np.nan)

    def spectrum(self, i: int) -> LyapunovSpectrum:
        """Row ``i`` as a :class:`LyapunovSpectrum`."""
        bl = self.block_exponents[i]
        n_done = int(self.n_blocks_done[i])
        running = np.cumsum(bl[:n_done], axis=0) / np.arange(1, n_done + 1)[:, None]
        return LyapunovSpectrum(
            exponents=self.exponents[i], stderr=self.stderr[i], block_exponents=bl[:n_done], running=running,
            running_t=self.block_time * np.arange(1, n_done + 1), status=int(self.status[i]),
            message=self.message[i], params=self.params.iloc[int(self.point[i])].to_dict(), y0=self.y0[i],
            y_final=self.y_final[i], mean=self.mean[i], std=self.std[i], min=self.min[i], max=self.max[i],
            sample_t=self.sample_t, samples=self._samples_of(i),
            radial_leak=float(self.radial_leak[i]), sphere_error=float(self.sphere_error[i]), options=self.options,
            model=self.model)

    def to_frame(self) -> pd.DataFrame:
        """One row per trajectory: point, ic, parameters, status, ``lyap_0..``, ``lyap_err_0..``,
        ``lyap_sum``, time means ``mean_<state>``, std ``std_<state>``, ``t_measured``, ``n_steps``."""
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
        cols["t_measured"] = self.t_measured
        cols["n_steps"] = self.n_steps
        return pd.concat([df, pd.DataFrame(cols)], axis=1)


# -- the driver: phases, resumable calls -----------------------------------------------------------

def _drive(kern, phase: int, Y, Q, Pm, rows: np.ndarray, n_target: np.ndarray, opts: LyapunovOptions, model: Model,
           BL, BM, S, STATS, ST, status: np.ndarray) -> float:
    """Run ``phase`` on the rows (bool mask) with status 0 until each is done or failed.

    The kernel returns at most every ``opts.steps_per_call`` steps (at a re-orthonormalisation
    time), so a KeyboardInterrupt is served between calls. Failures are written into ``status``.
    Returns the kernel wall time.
    """
    import time

    geo = model.geometry
    run = np.where(rows & (status == 0), kern.PAUSED, 0).astype(np.int64)
    se = opts.sample_every if S.shape[1] else opts.n_steps + 1
    method = kern.METHOD_DOP853 if opts.adaptive else kern.METHOD_RK4
    wall = 0.0
    while np.any(run == kern.PAUSED):
        t0 = time.perf_counter()
        kern.lyapunov_batch(phase, method, Y, Q, Pm, n_target, float(opts.t_transient), float(opts.dt),
                            float(opts.dt_ortho), float(opts.rtol), float(opts.atol), int(opts.max_steps),
                            int(opts.steps_per_call), float(opts.growth_bound), opts.steps_per_ortho,
                            opts.orthos_per_block, se, float(opts.sample_dt), geo.sphere_blocks, geo.free_idx,
                            float(opts.div_bound), BL, BM, S, STATS, ST, run)
        wall += time.perf_counter() - t0
    bad = run < 0
    status[bad] = run[bad]
    return wall


def _measure(kern, model: Model, Y, Q, Pm, rows: np.ndarray, n_blocks: int, opts: LyapunovOptions, keep_samples: bool,
             STATS, ST, status, compact: bool = False):
    """One measured segment of ``n_blocks`` blocks on the selected rows; returns the segment's
    block logs (M, n_blocks, d) (NaN beyond the completed blocks), block integrals, samples, wall.

    ``compact``: the kernel runs on copies of the selected rows only (rows are independent: the
    same numbers), written back afterwards; the samples come back for those rows only (m, k, n),
    so a few active rows of a large ensemble do not allocate samples for all of them."""
    if compact:
        idx = np.nonzero(rows)[0]
        Yc, Qc, Pmc = Y[idx], Q[idx], np.ascontiguousarray(Pm[idx])
        STATSc, STc, stc = STATS[idx], ST[idx], status[idx]
        BLc, BMc, Sc, donec, wall = _measure(kern, model, Yc, Qc, Pmc, np.ones(idx.size, dtype=bool), n_blocks, opts,
                                             keep_samples, STATSc, STc, stc)
        Y[idx], Q[idx], STATS[idx], ST[idx], status[idx] = Yc, Qc, STATSc, STc, stc
        M = Y.shape[0]
        BL = np.full((M, n_blocks, model.dim), np.nan)
        BM = np.full((M, n_blocks, Y.shape[1]), np.nan)
        BL[idx], BM[idx] = BLc, BMc
        done = np.zeros(M, dtype=np.int64)
        done[idx] = donec
        return BL, BM, Sc, done, wall
    M, n = Y.shape
    d = model.dim
    BL = np.zeros((M, n_blocks, d))
    BM = np.zeros((M, n_blocks, n))
    ns = opts.samples_for(n_blocks) if keep_samples else 0
    S = np.full((M, ns, n), np.nan)
    ST[rows, kern.ST_KPHASE] = 0.0
    ST[rows, kern.ST_KSEG] = 0.0
    ST[rows, kern.ST_KSAMP] = 0.0
    ST[rows, kern.ST_TSEG] = 0.0
    target = np.full(M, n_blocks * opts.orthos_per_block, dtype=np.int64)
    wall = _drive(kern, kern.PHASE_MEASURE, Y, Q, Pm, rows, target, opts, model, BL, BM, S, STATS, ST, status)
    done = np.where(rows, ST[:, kern.ST_KPHASE].astype(np.int64) // opts.orthos_per_block, 0)
    blk = np.arange(n_blocks)[None, :]
    incomplete = blk >= done[:, None]
    BL[incomplete] = np.nan
    BM[incomplete] = np.nan
    S[~rows] = np.nan
    return BL, BM / opts.block_time, S if ns else None, done, wall


def _assemble(model: Model, table: pd.DataFrame, point, ic, Y0, Y, Q, raw_logs, block_means, n_done, S, sample_t,
              segment_start, STATS, ST, status, opts: LyapunovOptions, wall: float, seed,
              sample_rows=None) -> LyapunovEnsemble:
    """The ensemble from raw (Gram-Schmidt ordered) block logs (M, B, d) with completed prefixes ``n_done``."""
    M, B, d = raw_logs.shape
    bt = opts.block_time
    # all rows at once (a per-row loop costs ~75 us a row on every extension of a large ensemble)
    k = np.asarray(n_done, dtype=np.int64)
    valid = np.arange(B)[None, :] < k[:, None]                       # (M, B)
    X = np.where(valid[:, :, None], raw_logs / bt, 0.0)
    kk = np.maximum(k, 1)[:, None].astype(float)
    e = X.sum(axis=1) / kk
    dev = np.where(valid[:, :, None], X - e[:, None, :], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt((dev ** 2).sum(axis=1) / np.maximum(k - 1, 1)[:, None]) / np.sqrt(kk)
    order = np.argsort(-e, axis=1, kind="stable")
    order[k < 1] = np.arange(d)
    expo = np.take_along_axis(e, order, axis=1)
    err = np.take_along_axis(sd, order, axis=1)
    expo[k < 1] = np.nan
    err[k < 2] = np.nan
    logs = np.take_along_axis(raw_logs, order[:, None, :], axis=2)
    logs = np.where(valid[:, :, None], logs, np.nan)
    T = n_done * bt
    bad = status != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = STATS[:, 0] / T[:, None]
        std = np.sqrt(np.maximum(STATS[:, 1] / T[:, None] - mean ** 2, 0.0))
    mean[bad] = np.nan
    std[bad] = np.nan
    mn, mx = STATS[:, 2].copy(), STATS[:, 3].copy()
    mn[bad] = np.nan
    mx[bad] = np.nan
    return LyapunovEnsemble(
        params=table, point=point, ic=ic, y0=Y0, y_final=Y, exponents=expo, stderr=err, block_exponents=logs / bt,
        mean=mean, std=std, min=mn, max=mx, samples=S, sample_t=sample_t, status=status,
        radial_leak=ST[:, 8].copy(), sphere_error=ST[:, 9].copy(), wall_time=wall, options=opts, model=model,
        seed=seed, block_logs=logs, block_means=block_means, block_time=bt, n_blocks_done=n_done.astype(np.int64),
        t_measured=T, n_steps=ST[:, 2].astype(np.int64), n_fev=ST[:, 3].astype(np.int64), q_final=Q,
        t_final=ST[:, 0].copy(), gs_order=order, segment_start=segment_start, kernel_state=ST, stats_raw=STATS,
        err_ratio=ST[:, 11].copy(), h_min=ST[:, 12].copy(), sample_rows=sample_rows)


def lyapunov_spectra(model: Model, params=None, y0=None, *, n_initial: int | None = None,
                     seed: int | np.random.Generator | None = None, options: LyapunovOptions | None = None,
                     keep_samples: bool = True, **option_overrides) -> LyapunovEnsemble:
    """Lyapunov spectra of every (parameter point, initial condition) pair, in parallel.

    Each trajectory runs ``t_transient`` (state only), ``t_align`` (tangent vectors turn
    towards the Lyapunov vectors, growth discarded), then ``t_total`` measured, in
    ``n_blocks`` blocks. The result can be continued with :func:`lyapunov_extend`.

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
    check_ensemble_memory(model, P, y0, n_initial, what="lyapunov_spectra",
                          samples_name="t_total, sample_dt or n_blocks",
                          n_samples=opts.n_samples if keep_samples else 0,
                          extra_words=2 * model.n * model.dim + 4 * int(opts.n_blocks) * (model.n + model.dim))
    Y = ensemble_initial_states(model, P, y0, n_initial, seed)
    N = Y.shape[1]
    Y0 = np.ascontiguousarray(Y.reshape(P * N, model.n), dtype=float)
    if model.geometry.n_spheres:
        Y0 = np.ascontiguousarray(model.geometry.project(Y0))
    Pm = np.ascontiguousarray(np.repeat(table[list(model.param_names)].to_numpy(float), N, axis=0))
    kern = lyapunov_kernels(model)
    M, n, d = Y0.shape[0], model.n, model.dim
    Yw = Y0.copy()
    Q = np.zeros((M, n, d))
    ST = np.zeros((M, kern.N_ST))
    STATS = np.zeros((M, 4, n))
    STATS[:, 2] = np.inf
    STATS[:, 3] = -np.inf
    status = np.zeros(M, dtype=np.int64)
    if opts.rtol < RTOL_FLOOR:
        status[:] = -2
    status[_field_overflows(model, Y0, Pm)] = -3   # a field overflowing at the start: diverged (kernels divide by 0)
    rows = np.ones(M, dtype=bool)
    e2, e3 = np.zeros((M, 0, d)), np.zeros((M, 0, n))
    wall = _drive(kern, kern.PHASE_TRANSIENT, Yw, Q, Pm, rows, np.full(M, opts.n_transient, dtype=np.int64), opts,
                  model, e2, e3, e3, STATS, ST, status)
    ST[:, kern.ST_KPHASE] = 0.0
    wall += _drive(kern, kern.PHASE_ALIGN, Yw, Q, Pm, rows, np.full(M, opts.n_align, dtype=np.int64), opts, model,
                   e2, e3, e3, STATS, ST, status)
    BL, BM, S, done, w = _measure(kern, model, Yw, Q, Pm, status == 0, int(opts.n_blocks), opts, keep_samples,
                                  STATS, ST, status)
    sample_t = np.arange(S.shape[1] if S is not None else 0) * opts.sample_interval
    return _assemble(model, table, np.repeat(np.arange(P), N), np.tile(np.arange(N), P), Y0, Yw, Q, BL, BM, done, S,
                     sample_t, np.zeros(M), STATS, ST, status, opts, wall + w,
                     seed if not isinstance(seed, np.random.Generator) else None)


def _active_rows(active, M: int) -> np.ndarray:
    if active is None:
        return np.ones(M, dtype=bool)
    a = np.asarray(active)
    if a.dtype == bool:
        if a.shape != (M,):
            raise ValueError(f"active as a mask must have shape ({M},), got {a.shape}")
        return a.copy()
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"active must be a bool mask ({M},) or an array of row indices, got dtype {a.dtype} "
                        f"shape {a.shape}")
    if a.size and (a.min() < -M or a.max() >= M):
        raise ValueError(f"active indices must lie in [-{M}, {M}), got range [{a.min()}, {a.max()}]")
    mask = np.zeros(M, dtype=bool)
    mask[a] = True
    return mask


def lyapunov_extend(model: Model, ens: LyapunovEnsemble, t_more: float, *, active=None,
                    keep_samples: bool | str = True) -> LyapunovEnsemble:
    """Continue the selected trajectories of ``ens`` for ``t_more`` more measured time.

    Each selected row resumes exactly where ``ens`` stopped (state ``y_final``, tangent frame
    ``q_final``, integrator state): no new transient, no re-alignment. ``t_more`` is rounded up
    to whole blocks of ``ens.block_time``. Extending by t1 then t2 gives the same exponents (to
    rounding) as one run of t1 + t2 with the same block length.

    Parameters
    ----------
    model : Model
        The model ``ens`` was computed with.
    ens : LyapunovEnsemble
    t_more : float
        Measured time to add (> 0).
    active : bool array (M,) or int array of row indices, optional
        Rows to continue (default: all). Rows that failed (status != 0) are never continued.
    keep_samples : bool or "active"
        Store the states of the new segment: for every row (True; inactive rows NaN), or
        (``"active"``) for the continued rows only, ``samples`` (m, k, n) in the order of
        ``sample_rows`` (the kernel then also runs on those rows only: same numbers, no
        allocation for the others).

    Returns
    -------
    LyapunovEnsemble
        Over the same M rows, with parameters, options and seed of ``ens``. ``exponents``,
        ``stderr``, ``block_*``, ``mean``/``std``/``min``/``max``, ``n_steps`` are over ALL measured
        blocks of each row; inactive rows are unchanged (their new blocks are NaN). ``samples``
        cover the NEW segment only (NaN rows for inactive rows), ``sample_t`` is measured from its
        start and ``segment_start`` gives where it started; ``wall_time`` is this call's.
    """
    if not isinstance(ens, LyapunovEnsemble):
        raise TypeError(f"ens must be a LyapunovEnsemble, got {type(ens).__name__}")
    if ens.model is not model and ens.model.module != model.module:
        raise ValueError(f"ens was computed with model {ens.model.name!r}, got {model.name!r}")
    if ens.kernel_state is None:
        raise ValueError("ens carries no integrator state (built by hand?); it cannot be extended")
    t_more = float(t_more)
    if not (np.isfinite(t_more) and t_more > 0):
        raise ValueError(f"t_more must be finite and > 0, got {t_more}")
    opts = ens.options
    M = len(ens)
    rows = _active_rows(active, M) & (ens.status == 0)
    nb_new = max(1, int(np.ceil(t_more / ens.block_time - 1e-9)))
    check_memory(f"lyapunov_extend (t_more={t_more:g}: {nb_new} blocks x {M} rows)",
                 8 * M * (4 * (nb_new + int(np.max(ens.n_blocks_done, initial=0))) * (model.n + model.dim)
                          + (opts.samples_for(nb_new) * model.n if keep_samples else 0)), fix="a smaller t_more")
    kern = lyapunov_kernels(model)
    Y = ens.y_final.copy()
    Q = ens.q_final.copy()
    ST = ens.kernel_state.copy()
    STATS = ens.stats_raw.copy()
    status = ens.status.copy()
    Pm = np.ascontiguousarray(ens.params[list(model.param_names)].to_numpy(float)[ens.point])
    if keep_samples not in (True, False, "active"):
        raise ValueError(f"keep_samples must be True, False or 'active', got {keep_samples!r}")
    compact = keep_samples == "active"
    BL, BM, S, done, wall = _measure(kern, model, Y, Q, Pm, rows, nb_new, opts, bool(keep_samples), STATS, ST, status,
                                     compact=compact)
    # back to Gram-Schmidt column order for the old blocks, then append
    d = model.dim
    inv = np.argsort(ens.gs_order, axis=1)
    old_raw = np.take_along_axis(ens.block_logs, inv[:, None, :], axis=2)
    n_old = ens.n_blocks_done
    B = int(max(1, np.max(n_old + done)))
    raw = np.full((M, B, d), np.nan)
    means = np.full((M, B, model.n), np.nan)
    B0 = old_raw.shape[1]
    kb = min(B0, B)
    keep = np.arange(kb)[None, :] < n_old[:, None]
    raw[:, :kb] = np.where(keep[:, :, None], old_raw[:, :kb], np.nan)
    means[:, :kb] = np.where(keep[:, :, None], ens.block_means[:, :kb], np.nan)
    r_, j_ = np.nonzero(np.arange(BL.shape[1])[None, :] < done[:, None])   # the new blocks, after the old
    raw[r_, n_old[r_] + j_] = BL[r_, j_]
    means[r_, n_old[r_] + j_] = BM[r_, j_]
    sample_t = np.arange(S.shape[1] if S is not None else 0) * opts.sample_interval
    seg0 = np.where(rows, ens.t_measured, ens.segment_start)
    return _assemble(model, ens.params, ens.point, ens.ic, ens.y0, Y, Q, raw, means, n_old + done, S, sample_t, seg0,
                     STATS, ST, status, opts, wall, ens.seed, sample_rows=np.nonzero(rows)[0] if compact else None)


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
