"""Options of the continuation algorithms: ONE frozen object for every problem the
pseudo-arclength core continues (equilibria, cycles, two-parameter curves, homoclinic orbits),
changed with ``dataclasses.replace``.

:class:`ContinuationOptions` holds the settings of the core (step control, corrector,
localisation, bounds) and of the equilibrium and two-parameter problems. Problems with settings
of their own subclass it and only *add* fields (and may change defaults):
:class:`bifurcate.cycles.CycleOptions` adds the collocation mesh, the Floquet multipliers and the
stop rules of a cycle branch. Every field keeps one name, one unit and one meaning in every
problem, so an object made for one problem can be read by another.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from bifurcate.validation import check_bool, check_count, check_real

__all__ = ["ContinuationOptions", "canonical_names", "options_with", "RENAMED_OPTIONS", "OPTION_ALIASES"]

#: old spellings of options -> the one canonical spelling shared by equilibria, cycles and
#: codimension-two curves (an old spelling is an error that names the new one, never an alias)
RENAMED_OPTIONS = {
    "max_newton": "newton_maxiter",
    "max_turn_cos": "max_angle (radians between consecutive tangents, not a cosine)",
    "newton_max_iter": "newton_maxiter",
    "maxiter": "newton_maxiter",
}


def _max_points_to_steps(value) -> int:
    return check_count("max_points", value, minimum=1) - 1


#: accepted second spellings that map exactly onto a field: alias -> (field, conversion). Only
#: ``max_points`` (the number of points of a branch, the start included, as cycle branches have
#: always counted): ``max_points = N`` is ``max_steps = N - 1``, on every problem, silently (it is
#: the same setting, not an old one).
OPTION_ALIASES = {"max_points": ("max_steps", _max_points_to_steps)}


def canonical_names(renamed: dict, aliases: dict | None = None):
    """Class decorator for a frozen options dataclass: constructing (or ``dataclasses.replace``-ing)
    it with an old spelling of ``renamed`` raises a ``TypeError`` naming the canonical one; an
    alias of ``aliases`` (name -> (field, conversion)) is converted onto its field.

    Giving an alias and its field with different values is refused, except in
    ``dataclasses.replace`` (which passes every field): there the alias is the change asked for.
    Apply it to every subclass too (a dataclass writes its own ``__init__``)."""
    aliases = dict(aliases or {})

    def wrap(cls):
        init = cls.__init__
        names = frozenset(f.name for f in dataclasses.fields(cls) if f.init)

        def __init__(self, *args, **kwargs):
            old = [k for k in kwargs if k in renamed]
            if old:
                k = old[0]
                raise TypeError(f"{cls.__name__}: option {k!r} is spelled {renamed[k]!r} (one spelling for "
                                f"equilibria, cycles and two-parameter curves); got {k}={kwargs[k]!r}")
            for alias, (name, convert) in aliases.items():
                if alias not in kwargs:
                    continue
                given = kwargs.pop(alias)
                value = convert(given)
                replacing = names <= kwargs.keys()  # dataclasses.replace passes every field
                if name in kwargs and not replacing and kwargs[name] != value:
                    raise TypeError(f"{cls.__name__}: give {name} or its alias {alias}, not both; got "
                                    f"{name}={kwargs[name]!r} and {alias}={given!r} (= {name} {value!r})")
                kwargs[name] = value
            init(self, *args, **kwargs)

        __init__.__doc__ = init.__doc__
        __init__.__wrapped__ = init
        cls.__init__ = __init__
        return cls

    return wrap


@canonical_names(RENAMED_OPTIONS, OPTION_ALIASES)
@dataclass(frozen=True)
class ContinuationOptions:
    """Settings of pseudo-arclength continuation, detection and localisation: the one options
    object of the continuation core, read by every problem (equilibria, cycles, two-parameter
    curves of equilibria and of cycles, homoclinic orbits).

    Problems with settings of their own subclass it (:class:`bifurcate.cycles.CycleOptions`: the
    collocation mesh, Floquet multipliers, stop rules of a cycle branch, and its own defaults of
    ``ds``, ``ds_max``, ``max_steps``, ``newton_tol``, ``locate_tol``, ``max_angle``, ``shrink``,
    ``slow_newton``); a field below has the same name, unit and meaning in all of them.

    Attributes
    ----------
    ds : float
        First step (arclength in the problem's norm: the joint (state, parameter) space; for
        cycles the L2 norm in time of the orbit plus the parameter). Its sign picks the direction:
        ``ds > 0`` starts towards increasing parameter (a cycle branch takes its direction from
        ``CycleOptions.direction`` and needs ``ds > 0``).
    ds_min, ds_max : float
        Range of |ds|. A failed corrector halves the step; below ``ds_min`` the branch ends with a
        negative status.
    max_steps : int
        Accepted continuation steps at most (>= 0): a branch has at most ``max_steps + 1`` points,
        the start included; a bidirectional two-parameter curve allows ``max_steps`` each way.
        Alias: ``max_points = max_steps + 1`` (accepted by the constructor, ``dataclasses.replace``
        and every ``**option_overrides``; also a read-only attribute).
    p_min, p_max : float
        Bounds of the continuation parameter (for two-parameter curves: of the second parameter;
        see ``bounds`` of :func:`~bifurcate.continuation.continue_codim2`). The last point is put
        exactly on the bound.
    newton_tol : float
        Corrector tolerance on the max-norm of the residual and of the Newton update.
    newton_maxiter : int
        Corrector iterations per step.
    max_angle : float
        Largest angle (radians) between consecutive tangents; a larger turn is rejected and the
        step halved (keeps the corrector on the branch it started on).
    growth : float
        Step-size growth factor after an easy step (at most 3 Newton iterations).
    shrink : float
        Step-size factor (< 1) after a slow step (at least ``slow_newton`` iterations).
    slow_newton : int or None
        Corrector iterations from which a step counts as slow (None: ``newton_maxiter - 2``).
    detect_lp, detect_bp, detect_hb : bool
        Which codimension-one test functions to monitor on equilibrium branches.
    detect_codim2 : bool
        Monitor BT, GH, ZH (and HH) on two-parameter curves of equilibria; the codimension-two
        points of cycles (CPC, R1-R4, LPPD, GPD, CH) on LPC / PD / NS curves.
    locate : bool
        Localise detected points (Illinois regula falsi on the test function along the branch);
        otherwise they are only bracketed.
    locate_tol : float
        Width of the final arclength bracket.
    locate_maxiter : int
    stab_tol : float
        Stable: every tangent eigenvalue has Re < -stab_tol; unstable directions: Re > stab_tol.
    fd_step : float
        Relative step of the central differences for parameter derivatives.
    l1_tol : float
        A Hopf point with |l1| below this is labelled degenerate.
    """

    ds: float = 0.01
    ds_min: float = 1e-7
    ds_max: float = 0.05
    max_steps: int = 2000
    p_min: float = -math.inf
    p_max: float = math.inf
    newton_tol: float = 1e-10
    newton_maxiter: int = 10
    max_angle: float = 0.5
    growth: float = 1.5
    shrink: float = 0.7
    slow_newton: int | None = None
    detect_lp: bool = True
    detect_bp: bool = True
    detect_hb: bool = True
    detect_codim2: bool = True
    locate: bool = True
    locate_tol: float = 1e-12
    locate_maxiter: int = 80
    stab_tol: float = 1e-9
    fd_step: float = 1e-6
    l1_tol: float = 1e-6

    @property
    def max_points(self) -> int:
        """Points of a branch at most, the start included: ``max_steps + 1`` (the alias)."""
        return self.max_steps + 1

    def __post_init__(self):
        check_count("max_steps", self.max_steps, minimum=0)   # integers (2.5 or "10" refused); 0: the start only
        for name in ("newton_maxiter", "locate_maxiter"):
            check_count(name, getattr(self, name))   # integers >= 1
        for name in ("p_min", "p_max"):
            check_real(name, getattr(self, name), allow_inf=True)   # NaN bounds refused
        for name in ("detect_lp", "detect_bp", "detect_hb", "detect_codim2", "locate"):
            check_bool(name, getattr(self, name))
        for name in ("ds", "ds_min", "ds_max", "newton_tol", "locate_tol", "fd_step", "l1_tol", "max_angle",
                     "growth", "stab_tol"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
        if self.ds == 0:
            raise ValueError("ds must be nonzero (its sign is the direction), got 0")
        if not self.ds_min > 0:
            raise ValueError(f"ds_min must be > 0, got {self.ds_min}")
        if self.ds_min > self.ds_max:
            raise ValueError(f"expected ds_min <= ds_max, got ds_min={self.ds_min} > ds_max={self.ds_max}")
        if not (self.ds_min <= abs(self.ds) <= self.ds_max):
            raise ValueError(f"expected ds_min <= |ds| <= ds_max, got |ds|={abs(self.ds)} outside "
                             f"[{self.ds_min}, {self.ds_max}]")
        if not self.p_min < self.p_max:
            raise ValueError(f"expected p_min < p_max, got p_min={self.p_min}, p_max={self.p_max}")
        for name in ("newton_tol", "locate_tol", "fd_step"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("l1_tol", "stab_tol"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not (0 < self.max_angle < math.pi):
            raise ValueError(f"max_angle must be in (0, pi), got {self.max_angle}")
        if not self.growth >= 1:
            raise ValueError(f"growth must be >= 1, got {self.growth}")
        if not (isinstance(self.shrink, (int, float)) and 0 < self.shrink < 1):
            raise ValueError(f"shrink must be in (0, 1), got {self.shrink!r}")
        if self.slow_newton is not None:
            check_count("slow_newton", self.slow_newton)


def options_with(options: ContinuationOptions | None, overrides: dict | None = None,
                 default=ContinuationOptions) -> ContinuationOptions:
    """``options`` (``default()`` when None) with the fields in ``overrides`` changed (the alias
    ``max_points`` accepted); a ``TypeError`` naming ``options`` for anything else than a
    :class:`ContinuationOptions` (or a subclass, e.g. ``CycleOptions``)."""
    opts = default() if options is None else options
    if not isinstance(opts, ContinuationOptions):
        raise TypeError(f"options must be a ContinuationOptions (or a subclass such as CycleOptions), got "
                        f"{type(opts).__name__}")
    return dataclasses.replace(opts, **overrides) if overrides else opts
