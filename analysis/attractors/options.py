"""One options object for every census caller (point census, batched census, phase-diagram sweeps).

:class:`CensusOptions` is frozen and validated; change it with :func:`dataclasses.replace` or
:meth:`CensusOptions.with_overrides` (which also understands the keyword names of the older
fixed-window census, e.g. ``t_total`` or ``dt``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

import numpy as np

from bifurcate.validation import check_count, check_range
from bifurcate.integrate import IntegrationOptions
from bifurcate.lyapunov import LyapunovOptions

__all__ = ["CensusOptions"]

#: keyword names of the fixed-window census (``LyapunovOptions`` fields) and where they go now
_LYAP_FIELDS = ("dt", "dt_ortho", "div_bound", "method", "rtol", "atol", "max_steps")


@dataclass(frozen=True)
class CensusOptions:
    """Settings of the converged attractor census (frozen; part of a sweep's store key).

    Every trajectory goes through three stages:

    1. *transient*: state only, adaptive DOP853 (``integration``) over ``[0, t_transient]``; a
       trajectory at rest (window standard deviation below ``fp_std_tol``) within ``fp_match_tol`` of an
       equilibrium is settled there: FP if the equilibrium is stable (its exact tangent eigenvalues
       are its exponents), SADDLE (non-attracting) if it is not.
    2. *measurement*: variational integration (:mod:`bifurcate.lyapunov`, ``lyapunov`` options) in
       blocks of ``block_time``, first ``t_min``, then extended (doubling) only for trajectories
       whose label is not decided, until the measured length reaches ``t_cap``.
    3. *decision* (:func:`analysis.attractors.convergence.decide`): stationary block means
       (first vs second half within ``n_sigma_stat`` errors + ``stat_floor``; otherwise the older half
       is dropped as transient), every exponent either clear of the zero band
       ``max(zero_floor, zero_shear ln T / T)`` by ``n_sigma`` standard errors or inside it after at least
       ``t_zero_min``; the exponent sum likewise. Not decided at the cap: "undecided", label -1.

    Attributes
    ----------
    t_transient : float
        Transient stage length (state only, adaptive).
    integration : IntegrationOptions
        Method and tolerances of the transient stage.
    lyapunov : LyapunovOptions or None
        Integrator settings of the variational stage (method, step, tolerances, ``dt_ortho``);
        its ``t_*``, ``n_blocks`` and ``sample_dt`` are set by the census. None: the defaults.
    t_align : float
        Tangent vectors evolve this long before the first measured block.
    t_min, t_cap : float
        First measured length and cap on the measured length per trajectory.
    look_factor : float
        Measured lengths at which the label is looked at: ``t_min``, then each row's length times
        ``look_factor`` (rounded up to whole blocks), up to ``t_cap``. 2 (doubling) looks least
        often; a smaller factor stops a trajectory closer to where its evidence first suffices
        (the same criteria, looked at more often).
    block_time : float
        Length of one block (block exponents and block means are the convergence evidence).
    t_zero_min : float
        Least measured length after which an exponent may be called zero.
    zero_floor, zero_shear : float
        Zero band ``max(zero_floor, zero_shear * ln T / T)``: finite-time exponents of neutral families
        decay like ln T / T (shear of neighbouring orbits; measured ~1.0-1.1 ln T / T on the PT dimer).
    n_sigma : float
        Standard errors required to call an exponent (or sum) clear of, or inside, the band.
    n_sigma_stat : float
        Standard errors of the half-window difference of block means beyond which the window is
        not stationary (tested on every component at every round: a stricter threshold than
        ``n_sigma`` keeps false alarms on chaotic orbits rare).
    stat_floor : float
        Absolute floor of the stationarity test on block means (state units).
    amp_tol : float
        An orbit whose standard deviation over the second half of the kept window is below
        ``1 - amp_tol`` times that over the first half is still contracting (not stationary).
    fp_std_tol, fp_match_tol : float
        At-rest threshold (window standard deviation, max over components) and max-norm distance to
        an equilibrium for the transient-stage settlement.
    sample_dt : float
        Sampling interval of the measured orbit (block means, standard deviations, support).
    cell_frac : float
        Support grid for grouping: each state component's range at the point cut into
        ``1 / cell_frac`` cells.
    overlap_min : float
        Two trajectories of one attracting kind are one set if their occupied cells overlap by at
        least this fraction of the smaller set (linking is transitive: connected components).
    family_cell_frac : float
        Coarser grid for chaos and non-attracting families: chaotic members are linked by
        ``overlap_min`` on it; neutral orbits and conservative chaos form one family per connected
        region (two members linked if their cells are equal or neighbours).
    share_work : bool
        Trajectories whose transient windows agree to ``share_tol`` (means and standard deviations,
        max norm) are one orbit: only the first is measured and the others take its label.
    share_tol : float
    share_attractors : bool
        One measurement per attractor (and point), not one per initial condition. After every
        measurement round each undecided trajectory of a point is compared with the trajectories
        of that point already decided (not those at rest: equilibria match exactly): it
        *inherits* a decided orbit's label (decision ``inherited``) by the rule that joins orbits
        undecided at the cap (chaotic evidence on a dissipative chaotic orbit's coarse support with
        an agreeing sum; otherwise its support shared both ways, ``share_overlap``, with a decided
        LC / QP orbit; not conservative or neutral orbits, whose difference from weakly dissipative
        ones a short run cannot tell), also through a mirror image (symmetries that keep time). An undecided
        trajectory sharing its last window's support both ways with another undecided one
        *follows* it: paused, it inherits the leader's label once that is decided, or resumes its
        own run where it stopped if the leader ends undecided, failed or at rest. A label passes
        only if the trajectory's exponents measured so far agree with the decided run's (every
        exponent and the sum within ``n_sigma`` combined errors). An inherited trajectory's partial
        exponents stay out of its set's spectrum (NaN in the tables); its window still counts for
        support and observables. False: every trajectory measured to its own decision.
    share_overlap : float
        Least two-way shared support (fraction of each orbit's samples in cells the other visits)
        for ``share_attractors``.
    n_keep : int
        Sampled orbits kept per set (plots).
    nolds_check : bool
        nolds' largest exponent beside each chaotic set (cross-check; slow).
    certify : bool
        The certified fast path (:mod:`analysis.attractors.certify`; on by default since it gave the
        answers of the census without it at 90 of 90 sampled Fig. 2 points): after the transient,
        a trajectory whose end point lies in the certified basin ellipsoid of a stable equilibrium
        is decided FP (decision ``certified``, exact exponents), without variational integration;
        the others are integrated (state only) ``certify_probe`` longer with samples, and one whose
        samples return periodically and lie within ``certify_tube`` of a limit cycle polished by
        collocation, with every nontrivial Floquet exponent below minus the zero band at
        ``t_zero_min`` (where the converged census may first call an exponent zero), is decided
        LC (exponents ``log|mu| / T``, observables averaged over the polished orbit); a
        trajectory near a cycle already certified at its point is checked against that orbit
        (proximity) instead of a new collocation. Every trajectory not certified goes on to the
        variational measurement from its transient end point, as without ``certify``.
    certify_probe : float
        Length of the state-only probe (units of 1/g; several periods of the cycles).
    certify_fp_margin : float
        Tangent eigenvalues of a certified equilibrium have real part below minus this.
    certify_tube : float
        Largest distance (relative to the orbit's extent) of a certified trajectory's last period
        from the polished cycle.
    """

    t_transient: float = 200.0
    integration: IntegrationOptions = field(default_factory=lambda: IntegrationOptions(rtol=1e-8, atol=1e-10))
    lyapunov: LyapunovOptions | None = None
    t_align: float = 10.0
    t_min: float = 100.0
    t_cap: float = 1600.0
    look_factor: float = 2.0
    block_time: float = 10.0
    t_zero_min: float = 400.0
    zero_floor: float = 0.005
    zero_shear: float = 1.5
    n_sigma: float = 3.0
    n_sigma_stat: float = 4.0
    stat_floor: float = 2e-3
    amp_tol: float = 0.2
    fp_std_tol: float = 1e-6
    fp_match_tol: float = 1e-4
    sample_dt: float = 0.1
    cell_frac: float = 0.08
    overlap_min: float = 0.3
    family_cell_frac: float = 0.2
    share_work: bool = True
    share_tol: float = 1e-3
    share_attractors: bool = True
    share_overlap: float = 0.6
    n_keep: int = 4
    nolds_check: bool = False
    certify: bool = True
    certify_probe: float = 60.0
    certify_fp_margin: float = 1e-3
    certify_tube: float = 1e-3

    def __post_init__(self):
        pos = ("t_min", "t_cap", "block_time", "zero_floor", "n_sigma", "n_sigma_stat", "stat_floor", "fp_std_tol", "fp_match_tol",
               "sample_dt", "cell_frac", "family_cell_frac", "share_tol")
        for name in pos:   # real (bool, strings, complex refused), finite, > 0
            check_range(name, getattr(self, name), 0, None, lo_open=True)
        for name in ("t_transient", "t_align", "t_zero_min", "zero_shear"):
            check_range(name, getattr(self, name), 0)
        if self.t_cap < self.t_min:
            raise ValueError(f"t_cap must be >= t_min, got t_cap={self.t_cap}, t_min={self.t_min}")
        if self.t_min < 4 * self.block_time:
            raise ValueError(f"t_min must hold at least 4 blocks of block_time={self.block_time}, got {self.t_min}")
        if not (isinstance(self.look_factor, (int, float, np.floating)) and not isinstance(self.look_factor, bool)
                and np.isfinite(self.look_factor) and self.look_factor > 1):
            raise ValueError(f"look_factor must be a real > 1, got {self.look_factor!r}")
        if not (0 < self.amp_tol < 1):
            raise ValueError(f"amp_tol must lie in (0, 1), got {self.amp_tol!r}")
        if not isinstance(self.share_attractors, (bool, np.bool_)):
            raise TypeError(f"share_attractors must be a bool, got {type(self.share_attractors).__name__}")
        if not (isinstance(self.share_overlap, (int, float, np.floating)) and not isinstance(self.share_overlap, bool)
                and 0 < self.share_overlap <= 1):
            raise ValueError(f"share_overlap must be a real in (0, 1], got {self.share_overlap!r}")
        if not (0 < self.overlap_min <= 1):
            raise ValueError(f"overlap_min must lie in (0, 1], got {self.overlap_min!r}")
        if self.cell_frac > 1 or self.family_cell_frac > 1:
            raise ValueError(f"cell_frac and family_cell_frac must be <= 1, got {self.cell_frac}, {self.family_cell_frac}")
        if self.block_time < self.sample_dt * 4:
            raise ValueError(f"block_time must hold at least 4 samples of sample_dt={self.sample_dt}, got {self.block_time}")
        if not isinstance(self.integration, IntegrationOptions):
            raise TypeError(f"integration must be an IntegrationOptions, got {type(self.integration).__name__}")
        if self.lyapunov is not None and not isinstance(self.lyapunov, LyapunovOptions):
            raise TypeError(f"lyapunov must be a LyapunovOptions or None, got {type(self.lyapunov).__name__}")
        if not isinstance(self.certify, (bool, np.bool_)):
            raise TypeError(f"certify must be a bool, got {type(self.certify).__name__}")
        for name in ("certify_probe", "certify_fp_margin", "certify_tube"):
            check_range(name, getattr(self, name), 0, None, lo_open=True)
        if not isinstance(self.n_keep, (int, np.integer)) or self.n_keep < 0:
            raise ValueError(f"n_keep must be an int >= 0, got {self.n_keep!r}")

    # ------------------------------------------------------------------------------------------
    def zero_band(self, T) -> np.ndarray:
        """Half-width of the zero band after a measured length ``T``: max(floor, shear ln T / T)."""
        T = np.asarray(T, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            sh = np.where(T > 1, self.zero_shear * np.log(np.maximum(T, 1.0)) / np.maximum(T, 1e-300), np.inf)
        return np.maximum(self.zero_floor, sh)

    def lyapunov_options(self, t_total: float, *, t_align: float | None = None) -> LyapunovOptions:
        """The variational integrator's options for one measured segment of length ``t_total``."""
        base = self.lyapunov or LyapunovOptions()
        nb = max(2, int(round(t_total / self.block_time)))
        return replace(base, t_transient=0.0, t_align=self.t_align if t_align is None else t_align,
                       t_total=nb * self.block_time, n_blocks=nb, sample_dt=self.sample_dt)

    @classmethod
    def coerce(cls, options: "CensusOptions | Mapping[str, Any] | None" = None, **overrides) -> "CensusOptions":
        """``options`` (a CensusOptions, a mapping of fields / legacy keywords, or None) with ``overrides``."""
        if options is None:
            base = cls()
        elif isinstance(options, cls):
            base = options
        elif isinstance(options, LyapunovOptions):
            base = cls(lyapunov=options)
        elif isinstance(options, Mapping):
            base = cls().with_overrides(**dict(options))
        else:
            raise TypeError(f"options must be a CensusOptions, a mapping or None, got {type(options).__name__}")
        return base.with_overrides(**overrides) if overrides else base

    def with_overrides(self, **kw) -> "CensusOptions":
        """A copy with fields replaced. Keywords of the fixed-window census are translated:
        ``t_total`` -> ``t_min`` (and ``t_cap`` at least that), ``n_blocks`` -> ``block_time = t_total / n_blocks``,
        ``dt``, ``dt_ortho``, ``div_bound`` -> ``lyapunov``. Unknown keywords raise ``TypeError``."""
        own = {f.name for f in fields(self)}
        kw = dict(kw)
        lyap = {k: kw.pop(k) for k in _LYAP_FIELDS if k in kw}
        t_total = kw.pop("t_total", None)
        n_blocks = kw.pop("n_blocks", None)
        for legacy in ("match_equilibria", "classifier"):
            kw.pop(legacy, None)  # always on / superseded by the convergence rules
        bad = sorted(set(kw) - own)
        if bad:
            raise TypeError(f"unknown census option(s) {bad}; expected fields of CensusOptions "
                            f"({sorted(own)}) or t_total, n_blocks, {', '.join(_LYAP_FIELDS)}")
        out = dict(kw)
        if lyap:
            out["lyapunov"] = replace(kw.get("lyapunov") or self.lyapunov or LyapunovOptions(), **lyap)
        if n_blocks is not None:
            n_blocks = check_count("n_blocks", n_blocks, minimum=2)
        if t_total is not None:
            t_total = check_range("t_total", t_total, 0, None, lo_open=True)   # the legacy name, checked as given
            bt = t_total / n_blocks if n_blocks is not None else min(self.block_time, t_total / 4)
            out.setdefault("block_time", bt)
            out.setdefault("t_min", t_total)
            out.setdefault("t_cap", max(self.t_cap, t_total))
            out["sample_dt"] = min(out.get("sample_dt", self.sample_dt), out["block_time"] / 4)
        elif n_blocks is not None:
            out.setdefault("block_time", self.t_min / n_blocks)
        return replace(self, **out)
