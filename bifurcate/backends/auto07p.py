"""AUTO-07p as an independent oracle, driven through the PyPI package ``bifpy``.

Nothing here is needed by the engine: this module imports ``bifpy`` lazily, so importing it
without ``bifpy`` (or without a Fortran compiler) works, and every call then raises a
:class:`RuntimeError` that says what to install::

    apt-get install -y gfortran        # bifpy compiles AUTO-07p from source at pip-install time
    pip install bifpy                  # 0.3.0 tested (AUTO-07p vendored inside the sdist)

What it does
------------
* :func:`auto_equilibria` - one branch of equilibria in one parameter (AUTO ``IPS=1``), with
  AUTO's special points (LP, BP, HB, UZ, EP).
* :func:`auto_switch_branch` - branch switching at a BP of equilibria or at a PD of cycles
  (AUTO ``ISW=-1``).
* :func:`auto_cycles_from_hopf` - the periodic orbits born at a Hopf point (AUTO ``IPS=2``,
  orthogonal collocation on ``NTST x NCOL``), with periods, Floquet multipliers and the cycle
  special points (LP -> LPC, PD, TR -> NS, BP -> BPC).
* :func:`auto_codim2` - a curve of BP (Z2-symmetric pitchfork: AUTO's non-generic ``ISW=2`` BP
  continuation), LP or HB points in two parameters; on Hopf curves AUTO's "GH function" (its
  first-Lyapunov-coefficient test function) is read back from ``fort.9``, and rows where the
  "Hopf" curve is really a neutral saddle are flagged.
* :func:`reference_numbers` - the numbers the test tier stores in ``tests/data/auto_reference.json``
  and that the engine's own continuation core is compared with.

Every run returns an :class:`AutoRun`: a frozen result with ``status``/``message``, the AUTO
constants used, timings, and two pandas tables (``.to_frame()``: the branch, one row per AUTO
step; ``.points_frame()``: the labelled points with AUTO's type translated to the house labels).

The problems AUTO sees are kept here as data (:data:`AUTO_PROBLEMS`): the right-hand sides as
expression text in the model's own names, turned into a Python function that bifpy's transpiler
traces with sympy into a Fortran ``FUNC`` (with the exact Jacobian, ``JAC=1``) which it compiles
and links against AUTO-07p (``transpile=True``). ``native=False`` uses bifpy's ctypes callback
path instead (finite-difference Jacobians, slower, no compiler needed at run time).

The LMG dimer is given to AUTO radially damped, exactly as the engine integrates it
(``f_s - kappa (|r_s|^2 - 1) r_s`` with ``kappa = 1 + 2|gamma|``): identical on S^2 x S^2, but the
two radial eigenvalues become ``2 gamma Z_A - 2 kappa`` and ``-2 gamma Z_B - 2 kappa`` (< 0), so
AUTO's test functions in the 6-D embedding see only the tangent-space bifurcations.

Label crosswalk (AUTO ``TY`` -> house label)
--------------------------------------------
equilibria: LP->LP, BP->BP, HB->HB, UZ->UZ, EP->EP, MX->EP (status < 0)
cycles:     LP->LPC, BP->BPC, PD->PD, TR->NS, UZ->UZ, EP->EP, MX->EP
two-parameter curves: BT, CP, ZH, GH keep their names; AUTO's LP/BP/HB *on a curve* are turning
or branch points of the curve's defining system, not bifurcations of the model: they get an
empty house label and a ``note``.

References
----------
E. J. Doedel et al., AUTO-07p: Continuation and bifurcation software for ODEs (manual).
S. Kothe and P. Kirton, "PT-symmetry breaking phase transitions in an LMG dimer", Eqs. (6)-(13).
"""
from __future__ import annotations

import keyword
import math
import pathlib
import re
import shutil
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "AutoProblem", "AutoRun", "AUTO_PROBLEMS", "LMG_DIMER_AUTO", "BRUSSELATOR_AUTO",
    "STUART_LANDAU_AUTO", "EQUILIBRIUM_SETTINGS", "CYCLE_SETTINGS", "available", "get_problem",
    "auto_label", "auto_equilibria", "auto_switch_branch", "auto_cycles_from_hopf", "auto_codim2",
    "auto_cycle_codim2", "AutoToleranceWarning",
    "newton_equilibrium", "reference_numbers", "eq12_J", "hopf_curve_J", "INSTALL_HINT",
]

INSTALL_HINT = ("the AUTO-07p backend needs the PyPI package 'bifpy' (which compiles AUTO-07p with "
                "gfortran when installed): run 'apt-get install -y gfortran' and then "
                "'pip install bifpy' (or 'pip install -e .[auto]')")

#: AUTO reserves PAR(11) for the period of periodic orbits (and PAR(10), PAR(12..) for other
#: problem types): model parameters go to PAR(1..9).
PERIOD_INDEX = 11
_MAX_PARAMS = 9


# --------------------------------------------------------------------------------------------
# lazy import
# --------------------------------------------------------------------------------------------
def _bifpy():
    """``bifpy.auto``, or a RuntimeError saying what to install."""
    try:
        from bifpy import auto
    except ImportError as exc:  # pragma: no cover - exercised only without bifpy
        raise RuntimeError(INSTALL_HINT) from exc
    return auto


def available(native: bool = True) -> bool:
    """True if bifpy imports (and, for ``native``, gfortran is on PATH)."""
    try:
        _bifpy()
    except RuntimeError:
        return False
    return (not native) or shutil.which("gfortran") is not None


def _check_compiler(native: bool) -> None:
    if native and shutil.which("gfortran") is None:
        raise RuntimeError("native=True compiles each AUTO problem with gfortran, which is not on PATH: "
                           "run 'apt-get install -y gfortran', or pass native=False")


# --------------------------------------------------------------------------------------------
# problems as data
# --------------------------------------------------------------------------------------------
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AutoProblem:
    """An ODE system for AUTO, as text.

    Attributes
    ----------
    name : str
        Name of the matching engine model (``bifurcate.models``), e.g. ``"lmg_dimer"``.
    state_names : tuple of str
        State variables, in the order of ``U(1..n)``.
    param_names : tuple of str
        Parameters, in the order of ``PAR(1..)`` (at most 9: PAR(11) is AUTO's period).
    equations : tuple of str
        ``d state_i / dt`` as arithmetic expressions in the state and parameter names
        (``+ - * / **`` and parentheses: valid Python and valid Fortran).
    defaults : mapping
        Default parameter values.
    derived : mapping
        Parameters computed from the others when not given, as expressions
        (e.g. ``kappa = 1 + 2*abs(gamma)``); they are held fixed during a run.
    """

    name: str
    state_names: tuple
    param_names: tuple
    equations: tuple
    defaults: Mapping[str, float]
    derived: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    references: str = ""

    def __post_init__(self):
        object.__setattr__(self, "state_names", tuple(self.state_names))
        object.__setattr__(self, "param_names", tuple(self.param_names))
        object.__setattr__(self, "equations", tuple(self.equations))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "derived", MappingProxyType(dict(self.derived)))
        names = self.state_names + self.param_names
        bad = [n for n in names if not _IDENT.match(n) or keyword.iskeyword(n)]
        if bad:
            raise ValueError(f"AUTO problem {self.name!r}: names must be identifiers, got {bad}")
        if len(set(names)) != len(names):
            raise ValueError(f"AUTO problem {self.name!r}: state and parameter names must be distinct, got {names}")
        if len(self.equations) != len(self.state_names):
            raise ValueError(f"AUTO problem {self.name!r}: expected {len(self.state_names)} equations "
                             f"(one per state), got {len(self.equations)}")
        if len(self.param_names) > _MAX_PARAMS:
            raise ValueError(f"AUTO problem {self.name!r}: expected at most {_MAX_PARAMS} parameters "
                             f"(PAR(11) is the period), got {len(self.param_names)}")
        unknown = [k for k in list(self.defaults) + list(self.derived) if k not in self.param_names]
        if unknown:
            raise ValueError(f"AUTO problem {self.name!r}: unknown parameter(s) {unknown}; expected names "
                             f"from {list(self.param_names)}")
        missing = [k for k in self.param_names if k not in self.defaults and k not in self.derived]
        if missing:
            raise ValueError(f"AUTO problem {self.name!r}: no default for parameter(s) {missing}")

    @property
    def n(self) -> int:
        return len(self.state_names)

    def par_index(self, name: str) -> int:
        """AUTO's 1-based PAR index of a parameter (``"period"`` -> 11)."""
        if name == "period":
            return PERIOD_INDEX
        if name not in self.param_names:
            raise KeyError(f"unknown parameter {name!r} for AUTO problem {self.name!r}; expected one of "
                           f"{list(self.param_names)}")
        return self.param_names.index(name) + 1

    def params(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        """Full parameter dictionary: defaults, then ``params``, then derived ones not given."""
        given = dict(params or {})
        unknown = [k for k in given if k not in self.param_names]
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown} for AUTO problem {self.name!r}; expected names "
                           f"from {list(self.param_names)}")
        out = {k: float(v) for k, v in self.defaults.items()}
        for k, v in given.items():
            fv = float(v)
            if not math.isfinite(fv):
                raise ValueError(f"parameter {k!r} must be finite, got {fv}")
            out[k] = fv
        for k, expr in self.derived.items():
            if k not in given:
                out[k] = float(eval(expr, {"__builtins__": {}, "abs": abs, "sqrt": math.sqrt}, dict(out)))
        return out

    def source(self) -> str:
        """Python source of ``func(u, p)``, the function bifpy traces into AUTO's ``FUNC``."""
        lines = ["def func(u, p):"]
        lines += [f"    {s} = u[{i}]" for i, s in enumerate(self.state_names)]
        lines += [f"    {q} = p[{i}]" for i, q in enumerate(self.param_names)]
        lines.append("    return [")
        lines += [f"        {e}," for e in self.equations]
        lines.append("    ]")
        return "\n".join(lines) + "\n"

    def func(self):
        """``func(u, p) -> list`` (u, p indexable; works on floats and on sympy symbols)."""
        ns: dict = {}
        exec(compile(self.source(), f"<AUTO problem {self.name}>", "exec"), {"__builtins__": {}}, ns)
        return ns["func"]

    def rhs(self, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """The vector field at ``y`` in plain floats (a twin of the engine model's ``f``)."""
        y = np.asarray(y, dtype=float)
        if y.shape != (self.n,):
            raise ValueError(f"state for AUTO problem {self.name!r} must have shape ({self.n},), got {y.shape}")
        p = self.params(params)
        return np.array(self.func()([float(v) for v in y], [p[k] for k in self.param_names]), dtype=float)


_SA = "(XA**2 + YA**2 + ZA**2 - 1)"
_SB = "(XB**2 + YB**2 + ZB**2 - 1)"

#: The LMG dimer, Eqs. (6)-(11) of the paper, radially damped like the engine's kernels.
LMG_DIMER_AUTO = AutoProblem(
    name="lmg_dimer",
    state_names=("XA", "YA", "ZA", "XB", "YB", "ZB"),
    param_names=("g", "gamma", "J", "lam", "kappa"),
    equations=(
        f"g*YA + lam*ZA*YB + gamma*XA*ZA - kappa*{_SA}*XA",
        f"-g*XA + 2*J*ZA*XA - lam*ZA*XB + gamma*YA*ZA - kappa*{_SA}*YA",
        f"-2*J*YA*XA - lam*(XA*YB - YA*XB) - gamma*(1 - ZA**2) - kappa*{_SA}*ZA",
        f"g*YB + lam*ZB*YA - gamma*XB*ZB - kappa*{_SB}*XB",
        f"-g*XB + 2*J*ZB*XB - lam*ZB*XA - gamma*YB*ZB - kappa*{_SB}*YB",
        f"-2*J*YB*XB + lam*(XA*YB - YA*XB) + gamma*(1 - ZB**2) - kappa*{_SB}*ZB",
    ),
    defaults={"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0},
    derived={"kappa": "1 + 2*abs(gamma)"},
    description="PT-symmetric LMG dimer, mean-field Eqs. (6)-(11), radially damped (kappa = 1 + 2|gamma|)",
    references="Kothe & Kirton, PT-symmetry breaking phase transitions in an LMG dimer, Eqs. (6)-(11)",
)

#: Brusselator; Hopf at b = 1 + a^2 with period 2 pi / a.
BRUSSELATOR_AUTO = AutoProblem(
    name="brusselator",
    state_names=("x", "y"),
    param_names=("a", "b"),
    equations=("a - (b + 1)*x + x**2*y", "b*x - x**2*y"),
    defaults={"a": 1.0, "b": 1.5},
    description="Brusselator",
)

#: Stuart-Landau / Hopf normal form dz/dt = (mu + i omega) z - (1 + i beta) |z|^2 z.
STUART_LANDAU_AUTO = AutoProblem(
    name="stuart_landau",
    state_names=("x", "y"),
    param_names=("mu", "omega", "beta"),
    equations=("mu*x - omega*y - (x**2 + y**2)*(x - beta*y)",
               "omega*x + mu*y - (x**2 + y**2)*(beta*x + y)"),
    defaults={"mu": 0.5, "omega": 1.0, "beta": 0.0},
    description="Hopf normal form; cycle radius sqrt(mu), period 2 pi / (omega - beta mu)",
)

AUTO_PROBLEMS = MappingProxyType({p.name: p for p in (LMG_DIMER_AUTO, BRUSSELATOR_AUTO, STUART_LANDAU_AUTO)})


def get_problem(problem: Any) -> AutoProblem:
    """An :class:`AutoProblem` from itself, its name, or an engine ``Model`` of the same name."""
    if isinstance(problem, AutoProblem):
        return problem
    name = problem if isinstance(problem, str) else getattr(problem, "name", None)
    if name not in AUTO_PROBLEMS and not isinstance(problem, str):
        from bifurcate.spec import auto_problem, system_of

        if system_of(problem) is not None or type(problem).__name__ == "OpenSystem":
            if getattr(problem, "fixed", None):
                raise ValueError(f"model {name!r} has pinned parameters {dict(problem.fixed)}: pass them in "
                                 f"params instead")
            return auto_problem(problem)   # derived from the model's specification
    if name not in AUTO_PROBLEMS:
        raise KeyError(f"no AUTO problem for {problem!r}; expected an AutoProblem or one of {sorted(AUTO_PROBLEMS)}")
    fixed = getattr(problem, "fixed", None)
    if fixed:
        raise ValueError(f"model {name!r} has pinned parameters {dict(fixed)}: pass them in params instead")
    return AUTO_PROBLEMS[name]


# --------------------------------------------------------------------------------------------
# AUTO constants
# --------------------------------------------------------------------------------------------
#: AUTO constants for equilibrium runs (tight: these runs produce the reference numbers).
EQUILIBRIUM_SETTINGS = MappingProxyType(dict(
    ntst=20, ncol=4, ds=0.01, dsmin=1e-6, dsmax=0.05, nmx=500, npr=0,
    epsl=1e-10, epsu=1e-10, epss=1e-10, itmx=9, itnw=7, nwtn=3,
    ilp=1, isp=2, mxbf=0, iad=3, iads=1, iid=2,
))
#: AUTO constants for periodic orbits. NCOL=4 Gauss collocation is superconvergent: the
#: periods and special points of the LMG cycles agree to 1e-11 between NTST=40 and NTST=160;
#: EPSS (the localisation tolerance) sets their precision.
CYCLE_SETTINGS = MappingProxyType(dict(EQUILIBRIUM_SETTINGS, ntst=60, ncol=4, ds=0.01, dsmax=0.1,
                                       nmx=600, epss=1e-9))


def _merge_settings(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict:
    _bifpy()
    from bifpy.auto import _capi

    allowed = set(_capi._SETTINGS_DEFAULTS) - {"ips", "ndim", "npar", "jac", "nicu", "use_dat"}
    out = dict(base)
    for k, v in dict(override or {}).items():
        key = k.lower()
        if key not in allowed:
            raise KeyError(f"unknown or reserved AUTO constant {k!r}; expected one of {sorted(allowed)}")
        out[key] = v
    if out.get("dsmin", 0) > out.get("dsmax", np.inf):
        raise ValueError(f"expected dsmin <= dsmax, got dsmin={out['dsmin']}, dsmax={out['dsmax']}")
    return out


# --------------------------------------------------------------------------------------------
# AUTO's point types
# --------------------------------------------------------------------------------------------
# support.f90 LBTYPE of the AUTO-07p that bifpy 0.3.0 vendors (read from its library's strings):
# ATYPES(-9:9) indexed by MOD(ITP,10), with a few two-parameter exceptions.
_ATYPES = dict(zip(range(-9, 10), ["MX", "R4", "R3", "R2", "R1", "UZ", "ZH", "CP", "BT", "",
                                    "BP", "LP", "HB", "", "LP", "BP", "PD", "TR", "EP"]))
_ATYPES_SPECIAL = {-32: "GH", 23: "LTR", 83: "LTR", 77: "PTR", 87: "PTR", 28: "LPD", 78: "LPD", 88: "TTR"}


def auto_label(code: int) -> str:
    """AUTO's two/three-letter type for its numeric ``TY`` code (``""`` for a regular point).

    bifpy's own ``PointType`` disagrees with AUTO for some codes on two-parameter curves (it calls
    code 12, a turning point of a BP curve, ``FOLD_TORUS``): this follows AUTO's ``LBTYPE``.
    """
    code = int(code)
    if code in _ATYPES_SPECIAL:
        return _ATYPES_SPECIAL[code]
    return _ATYPES[int(math.fmod(code, 10))]


_KIND_EQ = {"BP": "BP", "LP": "LP", "HB": "HB", "UZ": "UZ", "EP": "EP", "MX": "EP"}
_KIND_CYCLE = {"BP": "BPC", "LP": "LPC", "PD": "PD", "TR": "NS", "UZ": "UZ", "EP": "EP", "MX": "EP"}
_KIND_CURVE = {"BT": "BT", "CP": "CP", "ZH": "ZH", "GH": "GH", "UZ": "UZ", "EP": "EP", "MX": "EP",
               "R1": "R1", "R2": "R2", "R3": "R3", "R4": "R4"}
_CURVE_NOTES = {"LP": "turning point of the curve in its first parameter",
                "BP": "branch point of the curve's defining system",
                "HB": "Hopf test function zero on the curve"}


def _kind(family: str, atype: str) -> tuple[str, str]:
    if family == "equilibrium":
        return _KIND_EQ.get(atype, ""), ""
    if family == "cycle":
        return _KIND_CYCLE.get(atype, ""), ""
    kind = _KIND_CURVE.get(atype, "")
    return kind, ("" if kind else _CURVE_NOTES.get(atype, ""))


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class AutoRun:
    """One AUTO-07p run.

    Attributes
    ----------
    problem : AutoProblem
    family : str
        ``"equilibrium"``, ``"cycle"`` or the curve type ``"BP"``, ``"LP"``, ``"HB"``.
    params : dict
        Parameter values at the start (all of them, the continued ones included).
    cont_params : tuple of str
        The free parameters, in AUTO's ICP order (``"period"`` for PAR(11)).
    branch : DataFrame
        One row per AUTO step (see :meth:`to_frame`).
    points : DataFrame
        One row per labelled point (see :meth:`points_frame`).
    settings : dict
        The AUTO constants used (lower-case names, as in a ``c.*`` file), plus ICP/ISW/IRS.
    status : int
        0 if AUTO ended normally (EP, a UZ stop or NMX), -1 if AUTO failed, -2 if the branch
        ended with MX (no convergence).
    message : str
    stats : dict
        ``wall_time`` (s, compilation included), ``n_points``, ``auto_time`` (AUTO's own).
    raw : bifpy ContinuationResult (for restarts; not part of the table)
    """

    problem: AutoProblem = field(repr=False)
    family: str
    params: dict
    cont_params: tuple
    branch: pd.DataFrame = field(repr=False)
    points: pd.DataFrame = field(repr=False)
    settings: dict = field(repr=False)
    status: int = 0
    message: str = "success"
    stats: dict = field(default_factory=dict)
    raw: Any = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status == 0

    def to_frame(self) -> pd.DataFrame:
        """The branch: ``branch``/``point`` (AUTO's numbering), the parameters (continued ones
        varying), the state (equilibria) or per-component maxima ``<name>_max`` (cycles; AUTO's
        fort.7 holds only the first few components when several parameters are free - missing
        ones are NaN), ``period`` (cycles, Hopf curves), ``l2_norm``, ``stable``, ``n_unstable``,
        eigenvalues ``ev<j>_re/_im`` or Floquet multipliers ``fm<j>_re/_im`` (6 significant
        digits: AUTO prints them so), ``auto_type`` and ``kind`` (house label, empty if regular)."""
        return self.branch.copy()

    def points_frame(self) -> pd.DataFrame:
        """Labelled points: ``kind`` (house label), ``auto_type``, ``auto_code``, ``auto_label``
        (AUTO's LAB), ``located`` (AUTO labels a special point only after locating it to EPSS),
        all parameters, the full state (cycles: ``<name>_min/_max/_mean`` over the orbit's
        collocation mesh points - not the exact extrema, which fall between them),
        ``period`` (cycles; for HB, ``2 pi / omega``), eigenvalues or multipliers, ``note``."""
        return self.points.copy()

    def special(self, kind: str) -> pd.DataFrame:
        """Labelled points of one house kind (e.g. ``"HB"``, ``"LPC"``), in branch order."""
        return self.points[self.points["kind"] == kind].reset_index(drop=True)

    def solution_point(self, kind: str | None = None, index: int = 0, *, label: int | None = None):
        """The bifpy ``SolutionPoint`` of a labelled point (``index``-th of ``kind``, or AUTO ``label``)."""
        if self.raw is None:
            raise ValueError(f"this run has no AUTO output (status {self.status}: {self.message})")
        if label is None:
            sel = self.special(kind) if kind is not None else self.points
            if not 0 <= index < len(sel):
                raise IndexError(f"expected index in [0, {len(sel)}) for kind {kind!r}, got {index}")
            label = int(sel["auto_label"].iloc[index])
        for br in self.raw.branches:
            for pt in br.points:
                if pt.label == label:
                    return pt
        raise KeyError(f"no AUTO point with label {label}; labels are {list(self.points['auto_label'])}")

    def orbit(self, label: int) -> pd.DataFrame:
        """The cycle at AUTO label ``label``: columns ``t`` (time, 0..period) and the states."""
        pt = self.solution_point(label=label)
        orb = pt.periodic_orbit
        if orb is None:
            raise ValueError(f"AUTO point {label} is not a periodic orbit")
        df = pd.DataFrame(np.asarray(orb.state, dtype=float), columns=list(self.problem.state_names))
        df.insert(0, "t", np.asarray(orb.normalized_time, dtype=float) * float(orb.period))
        return df


def _empty_run(problem, family, params, cont_params, settings, status, message, wall):
    return AutoRun(problem=problem, family=family, params=dict(params), cont_params=tuple(cont_params),
                   branch=pd.DataFrame(), points=pd.DataFrame(), settings=dict(settings), status=status,
                   message=message, stats={"wall_time": wall, "n_points": 0}, raw=None)


def _index_of(name: str) -> int:
    m = re.search(r"\((\d+)\)", str(name))
    return int(m.group(1)) if m else -1


def _named_state(problem, values) -> dict:
    names = getattr(values, "names", None)
    if names is None:
        return {problem.state_names[i]: float(v) for i, v in enumerate(values) if i < problem.n}
    out = {}
    for nm, v in zip(names, values):
        i = _index_of(nm) - 1
        if 0 <= i < problem.n:
            out[problem.state_names[i]] = float(v)
    return out


def _n_unstable_eq(ev) -> int:
    ev = np.asarray(ev, dtype=complex)
    # AUTO prints eigenvalues with 6 significant digits; at a located point the critical real
    # part is ~1e-9, below that resolution.
    return int(np.sum(ev.real > 1e-6 * max(1.0, float(np.max(np.abs(ev))))))


def _n_unstable_cycle(fm) -> int:
    fm = np.asarray(fm, dtype=complex)
    if fm.size == 0:
        return 0
    trivial = int(np.argmin(np.abs(fm - 1.0)))
    rest = np.delete(fm, trivial)
    return int(np.sum(np.abs(rest) > 1.0 + 1e-5))


class AutoToleranceWarning(UserWarning):
    """AUTO-07p detected a sign change of a test function but could not localise it within its
    tolerances (EPSS, ITMX) and dropped the point without a label."""


def _possible_special_points(fort9: pathlib.Path) -> list[tuple[int, int]]:
    """(branch, point) of every 'NOTE:Possible special point' AUTO wrote to fort.9: a test function
    changed sign but the secant/Mueller localisation did not reach EPSS in ITMX iterations, and
    AUTO went on without labelling the point."""
    out = []
    if not fort9.exists():
        return out
    pat = re.compile(r"^\s*(-?\d+)\s+(\d+)\s+NOTE:\s*Possible special point", re.IGNORECASE)
    for line in fort9.read_text(errors="replace").splitlines():
        m = pat.match(line)
        if m:
            out.append((abs(int(m.group(1))), int(m.group(2))))
    return out


def _warn_dropped(dropped, settings, family, icu_names) -> None:
    if not dropped:
        return
    import warnings

    warnings.warn(f"AUTO-07p dropped {len(dropped)} special point(s) on this {family} run in {list(icu_names)} "
                  f"(fort.9 'Possible special point' at (branch, point) {dropped[:5]}): a test function changed "
                  f"sign but its localisation did not converge to EPSS={settings.get('epss')} within "
                  f"ITMX={settings.get('itmx')} iterations, so the point is missing from the labels; loosen EPSS or "
                  f"raise ITMX before using this run as a reference", AutoToleranceWarning, stacklevel=3)


def _gh_functions(fort9: pathlib.Path) -> dict:
    """(branch, point) -> last 'GH Function' value printed in fort.9 for that point."""
    out = {}
    if not fort9.exists():
        return out
    pat = re.compile(r"^\s*(-?\d+)\s+(\d+)\s+GH\s+Function:\s*(\S+)")
    for line in fort9.read_text(errors="replace").splitlines():
        m = pat.match(line)
        if m:
            try:
                out[(abs(int(m.group(1))), int(m.group(2)))] = float(m.group(3))
            except ValueError:
                pass
    return out


def _auto_time(stdout: pathlib.Path) -> float:
    if not stdout.exists():
        return float("nan")
    m = re.search(r"Total Time\s+(\S+)", stdout.read_text(errors="replace"))
    try:
        return float(m.group(1)) if m else float("nan")
    except ValueError:
        return float("nan")


def _tables(problem: AutoProblem, family: str, result, params: dict, icu_names: Sequence[str],
            gh: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int, str]:
    cycle = family == "cycle"
    rows, prow = [], []
    status, message = 0, "success"
    for br in result.branches:
        for pt in br.points:
            code = int(pt.point_type_code)
            atype = auto_label(code)
            kind, note = _kind(family, atype)
            row = {"branch": int(br.branch_number), "point": int(pt.point_number)}
            row.update(params)
            for name, v in zip(icu_names, pt.parameters):
                row[name] = float(v)
            st = _named_state(problem, pt.state)
            for s in problem.state_names:
                row[f"{s}_max" if cycle else s] = st.get(s, np.nan)
            row["l2_norm"] = float(pt.solution_measure)
            stab = pt.stability.name
            row["stable"] = {"STABLE": True, "UNSTABLE": False}.get(stab, None)
            ev = pt.floquet_multipliers if cycle else pt.eigenvalues
            prefix = "fm" if cycle else "ev"
            if ev is not None:
                ev = np.asarray(ev, dtype=complex)
                row["n_unstable"] = _n_unstable_cycle(ev) if cycle else _n_unstable_eq(ev)
                for j, z in enumerate(ev):
                    row[f"{prefix}{j}_re"] = z.real
                    row[f"{prefix}{j}_im"] = z.imag
            else:
                row["n_unstable"] = -1
            if family == "HB" and ev is not None:
                # a "Hopf" curve continues through kappa = omega^2 < 0 as a neutral saddle
                crit = np.abs(ev.real) < 1e-4 * max(1.0, float(np.max(np.abs(ev))))
                row["neutral_saddle"] = not bool(np.any(crit & (np.abs(ev.imag) > 1e-4)))
            if gh is not None:
                row["gh_function"] = gh.get((int(br.branch_number), int(pt.point_number)), np.nan)
            row["auto_type"] = atype
            row["kind"] = kind
            rows.append(row)
            if atype == "MX":
                status, message = -2, (f"AUTO ended the branch with MX (no convergence) at "
                                       f"{icu_names[0]}={row[icu_names[0]]:.10g}")
            if pt.is_labeled:
                prow.append(_point_row(problem, family, pt, row, atype, kind, note, icu_names))
    branch = pd.DataFrame(rows)
    points = pd.DataFrame(prow)
    return branch, points, status, message


def _point_row(problem, family, pt, row, atype, kind, note, icu_names) -> dict:
    d = {"kind": kind, "auto_type": atype, "auto_code": int(pt.point_type_code), "auto_label": int(pt.label),
         "branch": row["branch"], "point": row["point"],
         "located": bool(atype not in ("", "EP", "MX")), "stable": row["stable"],
         "n_unstable": row["n_unstable"]}
    allp = pt.all_parameters
    for i, q in enumerate(problem.param_names):
        d[q] = float(allp[i]) if allp is not None and i < len(allp) else row.get(q, np.nan)
    for name in icu_names:  # the continued values as AUTO printed them (fort.7)
        d[name] = row[name]
    if family == "cycle":
        orb = pt.periodic_orbit
        d["period"] = float(orb.period) if orb is not None else row.get("period", np.nan)
        if orb is not None:
            y = np.asarray(orb.state, dtype=float)
            t = np.asarray(orb.normalized_time, dtype=float)
            for j, s in enumerate(problem.state_names):
                d[f"{s}_min"] = float(y[:, j].min())
                d[f"{s}_max"] = float(y[:, j].max())
                d[f"{s}_mean"] = float(np.trapezoid(y[:, j], t))
    else:
        full = pt.extended_state if pt.extended_state is not None else pt.state
        for j, s in enumerate(problem.state_names):
            d[s] = float(full[j]) if j < len(full) else row.get(s, np.nan)
        if atype == "HB" or family == "HB":
            # AUTO stores 2 pi / omega of the critical pair in PAR(11)
            per = row.get("period", np.nan)
            if allp is not None and len(allp) >= PERIOD_INDEX:
                per = float(allp[PERIOD_INDEX - 1])
            d["period"] = per
            d["omega"] = 2 * math.pi / per if per and math.isfinite(per) else np.nan
    for c in ("gh_function", "neutral_saddle"):
        if c in row:
            d[c] = row[c]
    ev = pt.floquet_multipliers if family == "cycle" else pt.eigenvalues
    if ev is not None:
        for j, z in enumerate(np.asarray(ev, dtype=complex)):
            pre = "fm" if family == "cycle" else "ev"
            d[f"{pre}{j}_re"] = z.real
            d[f"{pre}{j}_im"] = z.imag
    d["note"] = note
    return d


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------
def _execute(problem: AutoProblem, family: str, params: dict, icu_names: Sequence[str], settings: dict,
             *, ips: int, start_state=None, restart_point=None, isw: int = 1, source_ips: int | None = None,
             uzr=None, uzstop=None, stop=None, native: bool = True, gh: bool = False) -> AutoRun:
    auto = _bifpy()
    _check_compiler(native)
    func = problem.func()
    pvec = [params[k] for k in problem.param_names]

    def stpnt(u, p, t):
        if start_state is not None:
            for i, v in enumerate(start_state):
                u[i] = float(v)
        for i, v in enumerate(pvec):
            p[i] = float(v)

    icu = [problem.par_index(n) for n in icu_names]
    s = dict(settings, ips=ips, ndim=problem.n, npar=PERIOD_INDEX, jac=1 if native else 0)
    record = dict(settings, ips=ips, ndim=problem.n, icp=list(icu), icp_names=list(icu_names), isw=isw,
                  native=native, uzr=uzr, uzstop=uzstop, stop=stop)
    kw = dict(uzr=uzr, uzstop=uzstop, stop=stop, keep_output=True, transpile=native)
    if native:
        kw["jac"] = auto.AUTO_JACOBIAN
    t0 = time.perf_counter()
    try:
        if restart_point is None:
            res = auto.run(func, stpnt, s, icu=icu, **kw)
        else:
            record["irs"] = int(restart_point.label)
            res = auto.restart(func, s, restart_point, icu=icu, isw=isw, stpnt=stpnt,
                               source_ips=source_ips, **kw)
    except auto.AutoError as exc:
        wall = time.perf_counter() - t0
        msg = str(exc).strip().splitlines()
        return _empty_run(problem, family, params, icu_names, record, -1,
                          "AUTO-07p failed: " + " | ".join(msg[:3]), wall)
    wall = time.perf_counter() - t0
    out_dir = pathlib.Path(res.output_directory) if res.output_directory else None
    try:
        ghs = _gh_functions(out_dir / "fort.9") if (gh and out_dir) else None
        dropped = _possible_special_points(out_dir / "fort.9") if out_dir else []
        auto_time = _auto_time(out_dir / "stdout.txt") if out_dir else float("nan")
        branch, points, status, message = _tables(problem, family, res, params, icu_names, ghs)
    finally:
        if out_dir is not None:
            shutil.rmtree(out_dir, ignore_errors=True)
    _warn_dropped(dropped, s, family, icu_names)
    stats = {"wall_time": wall, "auto_time": auto_time, "n_points": len(branch), "dropped_special_points": dropped}
    return AutoRun(problem=problem, family=family, params=dict(params), cont_params=tuple(icu_names),
                   branch=branch, points=points, settings=record, status=status, message=message,
                   stats=stats, raw=res)


def _bounds(bounds, name) -> tuple[float, float]:
    if bounds is None:
        return -1e300, 1e300
    lo, hi = (float(b) for b in bounds)
    if not lo < hi:
        raise ValueError(f"expected bounds (lo, hi) with lo < hi for {name!r}, got {bounds}")
    return lo, hi


def _uz(problem, uz: Mapping[str, Any] | None) -> dict | None:
    if not uz:
        return None
    out = {}
    for k, v in uz.items():
        vals = [float(x) for x in np.atleast_1d(v)]
        out[problem.par_index(k)] = vals if len(vals) > 1 else vals[0]
    return out


def auto_equilibria(problem, start_state, params: Mapping[str, float] | None, cont_param: str, *,
                    bounds: tuple[float, float] | None = None, direction: int = 1,
                    uz: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
                    native: bool = True) -> AutoRun:
    """Continue a branch of equilibria in one parameter with AUTO-07p (``IPS=1``).

    Parameters
    ----------
    problem : AutoProblem, its name, or the engine Model of the same name
    start_state : array (n,)
        An equilibrium (AUTO corrects it by Newton at the first step).
    params : dict
        Parameter values (defaults for the rest).
    cont_param : str
        The parameter to continue.
    bounds : (lo, hi), optional
        Stop when ``cont_param`` leaves this interval (AUTO's RL0, RL1).
    direction : +1 or -1
        Sign of the first step (AUTO's DS).
    uz : dict name -> value(s), optional
        User points (AUTO's UZR): labelled rows at these parameter values.
    settings : dict, optional
        AUTO constants overriding :data:`EQUILIBRIUM_SETTINGS` (e.g. ``{"nmx": 200}``).
    native : bool
        Compile the problem with gfortran (exact Jacobian) instead of Python callbacks.

    Returns
    -------
    AutoRun
        ``family="equilibrium"``. Special points: LP, BP (the Z2 pitchfork shows up as BP), HB
        (with ``period`` = 2 pi / omega), UZ, EP. MXBF=0: no automatic branch switching.
    """
    prob = get_problem(problem)
    p = prob.params(params)
    prob.par_index(cont_param)
    y0 = np.asarray(start_state, dtype=float)
    if y0.shape != (prob.n,) or not np.all(np.isfinite(y0)):
        raise ValueError(f"start_state for {prob.name!r} must be finite with shape ({prob.n},), got {y0}")
    if direction not in (1, -1):
        raise ValueError(f"expected direction +1 or -1, got {direction!r}")
    s = _merge_settings(EQUILIBRIUM_SETTINGS, settings)
    s["ds"] = abs(float(s["ds"])) * direction
    s["rl0"], s["rl1"] = _bounds(bounds, cont_param)
    return _execute(prob, "equilibrium", p, [cont_param], s, ips=1, start_state=y0, uzr=_uz(prob, uz),
                    native=native)


def _restart_source(run: AutoRun, kind: str, index: int):
    if not isinstance(run, AutoRun):
        raise TypeError(f"expected an AutoRun, got {type(run).__name__}")
    if run.raw is None:
        raise ValueError(f"cannot restart from a failed run (status {run.status}: {run.message})")
    return run.solution_point(kind, index)


def auto_switch_branch(run: AutoRun, at: str = "BP", index: int = 0, *, bounds=None, direction: int = 1,
                       uz=None, settings=None, stop: Sequence[str] | None = None, native: bool = True) -> AutoRun:
    """Switch branches at a BP of equilibria or at a PD or BPC of cycles (AUTO ``ISW=-1``).

    Parameters
    ----------
    run : AutoRun
        An equilibrium run (``at="BP"``) or a cycle run (``at="PD"``: the period-doubled cycles;
        ``at="BPC"``: the cycles crossing the branch at a branch point of cycles).
    at, index : which labelled point (house label and its order on the branch).
    bounds, direction, uz, settings, native : as in :func:`auto_equilibria`.
    stop : list of str, optional
        AUTO STOP entries, e.g. ``["PD1"]`` (stop at the first period doubling).
    """
    if at not in ("BP", "PD", "BPC"):
        raise ValueError(f"expected at='BP' (equilibria) or at='PD' or 'BPC' (cycles), got {at!r}")
    family = "equilibrium" if at == "BP" else "cycle"
    if run.family != family:
        raise ValueError(f"at={at!r} needs a {family} run, got a {run.family} run")
    pt = _restart_source(run, at, index)
    prob = run.problem
    base = EQUILIBRIUM_SETTINGS if family == "equilibrium" else CYCLE_SETTINGS
    s = _merge_settings({k: run.settings[k] for k in base if k in run.settings}, settings)
    s["ds"] = abs(float(s["ds"])) * direction
    s["rl0"], s["rl1"] = _bounds(bounds, run.cont_params[0])
    params = {q: float(pt.all_parameters[i]) for i, q in enumerate(prob.param_names)}
    return _execute(prob, family, params, list(run.cont_params), s, ips=1 if family == "equilibrium" else 2,
                    restart_point=pt, isw=-1, uzr=_uz(prob, uz), stop=list(stop) if stop else None,
                    native=native)


def auto_cycles_from_hopf(run: AutoRun, index: int = 0, *, bounds=None, direction: int = 1,
                          max_period: float | None = None, uz=None, settings=None,
                          stop: Sequence[str] | None = None, native: bool = True) -> AutoRun:
    """Continue the periodic orbits born at a Hopf point of an equilibrium run (AUTO ``IPS=2``).

    Parameters
    ----------
    run : AutoRun
        An equilibrium run with at least ``index + 1`` HB points.
    index : int
        Which HB point (in branch order).
    bounds : (lo, hi), optional
        Interval of the continuation parameter.
    direction : +1 or -1
        Sign of the first step. From a Hopf point both signs give the same family (AUTO's
        initial orbit is the critical eigenvector with either sign: a half-period phase shift).
    max_period : float, optional
        Stop when the period exceeds this (a homoclinic limit sends it to infinity and the
        multipliers lose meaning there).
    uz : dict, optional
        User points, e.g. ``{"lam": [0.55, 0.6]}``: labelled cycles (with full orbits) there.
    settings : dict, optional
        Overrides of :data:`CYCLE_SETTINGS` (NTST, NCOL, EPSS, NMX, ...).
    stop : list of str, optional
        AUTO STOP entries, e.g. ``["PD1"]``.

    Returns
    -------
    AutoRun
        ``family="cycle"``; columns ``period``, ``<state>_max``, Floquet multipliers ``fm<j>``;
        labelled cycles carry ``<state>_min/_max/_mean`` and the orbit (:meth:`AutoRun.orbit`).
        Special points: LPC, PD, NS, BPC. In the 6-D embedding of the LMG dimer two multipliers
        are radial (about ``exp(-10 T)``): they are tiny and never cross the unit circle.
    """
    if run.family != "equilibrium":
        raise ValueError(f"expected an equilibrium run, got a {run.family} run")
    auto = _bifpy()
    pt = _restart_source(run, "HB", index)
    prob = run.problem
    s = _merge_settings(CYCLE_SETTINGS, settings)
    s["ds"] = abs(float(s["ds"])) * direction
    name = run.cont_params[0]
    s["rl0"], s["rl1"] = _bounds(bounds, name)
    uzstop = None
    if max_period is not None:
        if not max_period > 0:
            raise ValueError(f"expected max_period > 0, got {max_period}")
        uzstop = {PERIOD_INDEX: float(max_period)}
    params = {q: float(pt.all_parameters[i]) for i, q in enumerate(prob.param_names)}
    return _execute(prob, "cycle", params, [name, "period"], s, ips=2, restart_point=pt,
                    isw=auto.ISW_HOPF_TO_PERIODIC_ORBIT, source_ips=1, uzr=_uz(prob, uz), uzstop=uzstop,
                    stop=list(stop) if stop else None, native=native)


def _codim2_start(run: AutoRun, kind: str, index: int, param2: str, keys, settings, bounds, bounds2,
                  direction: int):
    """The restart point, problem, first parameter, settings and UZSTOP of a two-parameter run
    started at the ``index``-th ``kind`` point of ``run`` (shared by :func:`auto_codim2` and
    :func:`auto_cycle_codim2`)."""
    pt = _restart_source(run, kind, index)
    prob = run.problem
    p1 = run.cont_params[0]
    prob.par_index(param2)
    if param2 == p1:
        raise ValueError(f"expected param2 different from the run's parameter {p1!r}, got {param2!r}")
    s = _merge_settings({k: run.settings[k] for k in keys if k in run.settings}, settings)
    s["ds"] = abs(float(s["ds"])) * direction
    s["rl0"], s["rl1"] = _bounds(bounds, p1)
    s["a0"], s["a1"] = -1e300, 1e300
    lo2, hi2 = _bounds(bounds2, param2)
    uzstop = {prob.par_index(param2): [v for v in (lo2, hi2) if abs(v) < 1e299]} if bounds2 else None
    return pt, prob, p1, s, uzstop


def auto_codim2(run: AutoRun, kind: str, param2: str, index: int = 0, *,
                bounds: tuple[float, float] | None = None, bounds2: tuple[float, float] | None = None,
                direction: int = 1, uz=None, settings=None, native: bool = True) -> AutoRun:
    """Continue a BP, LP or HB point of an equilibrium run in two parameters (AUTO ``ISW=2``).

    Parameters
    ----------
    run : AutoRun
        The equilibrium run holding the point.
    kind : "BP", "LP" or "HB"
        For BP this is AUTO's *non-generic* BP continuation (two free parameters, for branch
        points forced by a symmetry: the Z2 pitchfork of the LMG dimer's normal state).
    param2 : str
        The second free parameter.
    index : int
        Which point of that kind.
    bounds, bounds2 : (lo, hi), optional
        Intervals for the first (the run's) and second parameter; the curve stops at either.
    direction : +1 or -1
        Sign of the first step along the curve.
    uz : dict, optional
        User points in either parameter, e.g. ``{"lam": [0.2, 0.4]}``.

    Returns
    -------
    AutoRun
        ``family=kind``. Both parameters are columns; Hopf curves also carry ``period``
        (AUTO's PAR(11); frozen where the curve is a neutral saddle), ``neutral_saddle`` and
        ``gh_function`` (AUTO's generalised-Hopf test function: > 0 subcritical, < 0
        supercritical, noisy at the 1e-6 level). Codimension-two points: BT, CP, ZH, GH; AUTO's
        LP/BP on a curve are kept with an empty ``kind`` and a ``note``.
    """
    if kind not in ("BP", "LP", "HB"):
        raise ValueError(f"expected kind 'BP', 'LP' or 'HB', got {kind!r}")
    if run.family != "equilibrium":
        raise ValueError(f"expected an equilibrium run, got a {run.family} run")
    pt, prob, p1, s, uzstop = _codim2_start(run, kind, index, param2, EQUILIBRIUM_SETTINGS, settings, bounds, bounds2,
                                            direction)
    icu = [p1, param2] + (["period"] if kind == "HB" else [])
    params = {q: float(pt.all_parameters[i]) for i, q in enumerate(prob.param_names)}
    return _execute(prob, kind, params, icu, s, ips=1, restart_point=pt, isw=2, uzr=_uz(prob, uz),
                    uzstop=uzstop, native=native, gh=(kind == "HB"))


def auto_cycle_codim2(run: AutoRun, kind: str, param2: str, index: int = 0, *,
                      bounds: tuple[float, float] | None = None, bounds2: tuple[float, float] | None = None,
                      direction: int = 1, uz=None, settings=None, native: bool = True) -> AutoRun:
    """Continue an LPC or PD point of a cycle run in two parameters (AUTO ``IPS=2``, ``ISW=2``).

    AUTO frees the period itself (``ICP = [p1, 11, p2]`` internally) and solves its extended
    boundary-value problems for folds and flips of periodic orbits (doubled dimension). Two AUTO
    runs: the first generates the starting data (and ends at an EP label), the second continues.

    Parameters
    ----------
    run : AutoRun
        A cycle run (:func:`auto_cycles_from_hopf`) with at least ``index + 1`` points of ``kind``.
    kind : "LPC" or "PD"
    param2 : str, the second free parameter
    bounds, bounds2, direction, uz, settings, native : as in :func:`auto_codim2`.

    Returns
    -------
    AutoRun
        ``family=kind``; both parameters and ``period`` are columns. Codimension-two points keep
        AUTO's names (R1, R2, ...; bifpy 0.3 / AUTO-07p report few of them on these curves).
    """
    if kind not in ("LPC", "PD"):
        raise ValueError(f"expected kind 'LPC' or 'PD', got {kind!r}")
    if run.family != "cycle":
        raise ValueError(f"expected a cycle run, got a {run.family} run")
    pt, prob, p1, s, uzstop = _codim2_start(run, kind, index, param2, CYCLE_SETTINGS, settings, bounds, bounds2,
                                            direction)
    params = {q: float(pt.all_parameters[i]) for i, q in enumerate(prob.param_names)}
    # AUTO first only generates the starting data of the extended system (ending with an EP
    # label: "Generating starting data: Restart at EP label below"), then continues from it
    gen = _execute(prob, kind, params, [p1, param2], s, ips=2, restart_point=pt, isw=2, native=native)
    if gen.raw is None or gen.special("EP").empty:
        return gen
    pt2 = gen.solution_point("EP", len(gen.special("EP")) - 1)
    return _execute(prob, kind, params, [p1, param2], s, ips=2, restart_point=pt2, isw=2,
                    uzr=_uz(prob, uz), uzstop=uzstop, native=native)


def newton_equilibrium(problem, guess, params: Mapping[str, float] | None = None, *, tol: float = 1e-13,
                       max_iter: int = 50) -> np.ndarray:
    """An equilibrium of the AUTO problem near ``guess`` by damped Newton (finite-difference
    Jacobian) on its own equations: independent of the engine, used to seed AUTO runs."""
    prob = get_problem(problem)
    p = prob.params(params)
    y = np.asarray(guess, dtype=float).copy()
    if y.shape != (prob.n,):
        raise ValueError(f"guess for {prob.name!r} must have shape ({prob.n},), got {y.shape}")
    for _ in range(max_iter):
        fy = prob.rhs(y, p)
        if np.max(np.abs(fy)) < tol:
            return y
        jac = np.empty((prob.n, prob.n))
        for j in range(prob.n):
            h = 1e-7 * max(1.0, abs(y[j]))
            e = np.zeros(prob.n)
            e[j] = h
            jac[:, j] = (prob.rhs(y + e, p) - prob.rhs(y - e, p)) / (2 * h)
        step = np.linalg.lstsq(jac, -fy, rcond=None)[0]
        t = 1.0
        while t > 1e-4 and np.max(np.abs(prob.rhs(y + t * step, p))) > np.max(np.abs(fy)):
            t *= 0.5
        y = y + t * step
    fy = prob.rhs(y, p)
    if np.max(np.abs(fy)) > 1e3 * tol:
        raise RuntimeError(f"Newton did not converge from {guess}: residual {np.max(np.abs(fy)):.3e}")
    return y


# --------------------------------------------------------------------------------------------
# reference numbers for the engine's tests
# --------------------------------------------------------------------------------------------
#: the symmetry-broken fixed point at J = 1, lam = 0 is found by Newton from this guess
#: (spin A down, spin B tilted: the ferromagnetic state of the gain spin)
BROKEN_GUESS = (0.0, 0.0, -1.0, 0.6, 0.2, 0.77)
NORMAL = (0.0, 0.0, -1.0, 0.0, 0.0, 1.0)


def _first(run: AutoRun, kind: str, what: str) -> pd.Series:
    sel = run.special(kind)
    if sel.empty:
        raise RuntimeError(f"AUTO found no {kind} on {what} (status {run.status}: {run.message})")
    return sel.iloc[0]


def _settings_subset(run: AutoRun) -> dict:
    keys = ("ntst", "ncol", "epsl", "epsu", "epss", "ds", "dsmin", "dsmax", "nmx", "itmx", "itnw", "nwtn",
            "isp", "ilp", "icp_names", "isw")
    return {k: run.settings[k] for k in keys if k in run.settings}


def eq12_J(lam, g: float = 1.0, gamma: float = 0.5):
    """Eq. (12) of the paper: J at the pitchfork (BP) of the normal state (exact)."""
    lam = np.asarray(lam, dtype=float)
    return np.sqrt(((gamma**2 - lam**2 + g**2) ** 2 + 4 * lam**2 * g**2) / (4 * (lam**2 + g**2)))


def hopf_curve_J(lam, g: float = 1.0, gamma: float = 0.5):
    """|J| on the Hopf curve of the normal state, for gamma <= lam <= sqrt(g^2 + gamma^2).

    The tangent Jacobian of the normal state is ``-gamma + K`` with ``s = k^2`` solving
    ``s^2 + 2 (g^2 - lam^2) s + (g^2 + lam^2)^2 - 4 J^2 (g^2 + lam^2) = 0``; an eigenvalue
    ``i omega`` needs ``s = (gamma + i omega)^2``, which gives
    ``J^2 = (g^2 + gamma^2)(lam^2 - gamma^2)/(g^2 + lam^2)`` and
    ``omega^2 = g^2 + gamma^2 - lam^2`` (to lowest order in J: Eq. (13),
    lam = gamma (1 + 2 J^2 / g^2) at gamma = g/2). At ``lam^2 = g^2 + gamma^2`` omega vanishes:
    the Bogdanov-Takens point where the Hopf curve ends on the BP curve (J = sqrt(5)/3,
    lam = sqrt(5)/2 at g = 1, gamma = 1/2). AUTO reproduces this to 1e-10.
    """
    lam = np.asarray(lam, dtype=float)
    return np.sqrt((g**2 + gamma**2) * (lam**2 - gamma**2) / (g**2 + lam**2))


def _lpc_summary(cyc: AutoRun, hopf_lam: float) -> dict:
    """The fold of the cycles born at the J = 0.2 Hopf point of the normal state.

    AUTO also prints "LP" (and "BP") where the branch passes through zero amplitude at a Hopf
    point (the normal state's, or the anti-normal state's at the same lam: the family joins
    the two PT images): those are dropped by asking for an orbit of finite amplitude.
    """
    pts = cyc.points_frame()
    lp = pts[pts["kind"] == "LPC"]
    amp = (lp["ZA_max"] - lp["ZA_min"]) + (lp["ZB_max"] - lp["ZB_min"])
    real = lp[amp > 1e-2]
    art = lp[amp <= 1e-2]
    out = {"hopf_lam": hopf_lam, "settings": _settings_subset(cyc), "status": cyc.status,
           "n_points": int(len(cyc.branch)),
           "n_zero_amplitude_lp_labels": int(len(art)),
           "n_bp_labels": int(len(pts[pts["kind"] == "BPC"]))}
    out["lpc"] = []  # a list (in branch order) of the folds at finite amplitude
    for _, x in real.iterrows():
        fm = np.array([complex(x[f"fm{j}_re"], x[f"fm{j}_im"]) for j in range(cyc.problem.n)
                       if f"fm{j}_re" in x and pd.notna(x[f"fm{j}_re"])])
        out["lpc"].append({"lam": float(x["lam"]), "period": float(x["period"]), "auto_label": int(x["auto_label"]),
                           "ZA_range": [float(x["ZA_min"]), float(x["ZA_max"])],
                           "ZB_range": [float(x["ZB_min"]), float(x["ZB_max"])],
                           "abs_multipliers": sorted((float(abs(z)) for z in fm), reverse=True)})
    out["zero_amplitude_lp"] = [{"lam": float(x["lam"]), "period": float(x["period"])} for _, x in art.iterrows()]
    br = cyc.to_frame()
    out["lam_min_on_branch"] = float(br["lam"].min())
    return out


def reference_numbers(*, native: bool = True, full: bool = True) -> dict:
    """Run AUTO-07p on the problems of issues 3 and 4 and collect the reference numbers.

    Returns a JSON-serialisable dict (see ``tests/data/auto_reference.json``). With
    ``full=False`` only the equilibrium/Hopf numbers and the J = 1 cycle branch are computed
    (what the test tier re-runs). :class:`AutoToleranceWarning` s raised by the runs (special
    points AUTO detected but could not localise) are collected in
    ``out["meta"]["auto_tolerance_warnings"]`` instead of being raised.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AutoToleranceWarning)
        out = _reference_numbers(native=native, full=full)
    out["meta"]["auto_tolerance_warnings"] = [str(w.message) for w in caught
                                              if issubclass(w.category, AutoToleranceWarning)]
    for w in caught:  # anything else goes on as usual
        if not issubclass(w.category, AutoToleranceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _reference_numbers(*, native: bool = True, full: bool = True) -> dict:
    """The runs of :func:`reference_numbers`."""
    import bifpy

    prob = LMG_DIMER_AUTO
    base = {"g": 1.0, "gamma": 0.5}
    out: dict = {"meta": {"bifpy": getattr(bifpy, "__version__", "0.3.0"), "problem": prob.description,
                          "equations": list(prob.equations), "params": dict(prob.params(base)),
                          "native": native, "timings_s": {}}}
    timings = out["meta"]["timings_s"]

    # -- BP (pitchfork) of the normal state in J, Eq. (12)
    bps = []
    for lam in (0.0, 0.2, 0.4):
        r = auto_equilibria(prob, NORMAL, dict(base, lam=lam), "J", bounds=(-0.01, 1.5), native=native)
        pt = _first(r, "BP", f"the normal state at lam={lam}")
        bps.append({"lam": lam, "J": float(pt["J"]), "eq12": float(eq12_J(lam))})
        timings[f"bp_lam{lam}"] = r.stats["wall_time"]
    out["normal_bp_in_J"] = {"points": bps, "settings": _settings_subset(r)}

    # -- Hopf of the normal state in lam at J = 0.2, Eq. (13); cycles from it
    r = auto_equilibria(prob, NORMAL, dict(base, J=0.2), "lam", bounds=(-0.01, 1.5), native=native)
    timings["hopf_J0.2"] = r.stats["wall_time"]
    hb = _first(r, "HB", "the normal state at J=0.2")
    hb_run = r
    out["normal_hopf_in_lam"] = {"J": 0.2, "lam": float(hb["lam"]), "period": float(hb["period"]),
                                 "omega": float(hb["omega"]), "eq13": 0.5 * (1 + 2 * 0.2**2),
                                 "settings": _settings_subset(r)}
    c = auto_codim2(hb_run, "HB", "J", bounds=(-0.01, 1.5), bounds2=(0.0, 1.0), direction=-1,
                    settings={"nmx": 3}, native=native)
    ghv = c.to_frame()["gh_function"].dropna()
    out["normal_hopf_in_lam"]["gh_function"] = float(ghv.iloc[0]) if len(ghv) else None
    out["normal_hopf_in_lam"]["criticality"] = ("subcritical" if len(ghv) and ghv.iloc[0] > 0 else
                                                "supercritical" if len(ghv) else "unknown")

    if full:
        t0 = time.perf_counter()
        cyc = auto_cycles_from_hopf(hb_run, bounds=(0.0, 1.5), settings={"nmx": 600}, native=native)
        timings["cycles_J0.2"] = time.perf_counter() - t0
        out["normal_cycles_J0.2"] = _lpc_summary(cyc, float(hb["lam"]))

    # -- the symmetry-broken fixed point at J = 1, lam = 0, continued in lam
    y_b = newton_equilibrium(prob, BROKEN_GUESS, dict(base, J=1.0, lam=0.0))
    r = auto_equilibria(prob, y_b, dict(base, J=1.0, lam=0.0), "lam", bounds=(-0.01, 1.5), native=native)
    timings["broken_equilibria"] = r.stats["wall_time"]
    hb = _first(r, "HB", "the symmetry-broken branch at J=1")
    out["broken_J1"] = {
        "fixed_point_lam0": dict(zip(prob.state_names, map(float, y_b))),
        "hopf": {"lam": float(hb["lam"]), "period": float(hb["period"]), "omega": float(hb["omega"]),
                 "state": {s: float(hb[s]) for s in prob.state_names}},
        "settings_equilibria": _settings_subset(r),
    }
    c = auto_codim2(r, "HB", "J", bounds=(-0.01, 1.5), bounds2=(0.0, 2.0), settings={"nmx": 3}, native=native)
    ghv = c.to_frame()["gh_function"].dropna()
    out["broken_J1"]["hopf"]["gh_function"] = float(ghv.iloc[0]) if len(ghv) else None
    t0 = time.perf_counter()
    cyc = auto_cycles_from_hopf(r, bounds=(0.0, 1.5), uz={"lam": [0.55, 0.6, 0.65]}, stop=["PD1"], native=native)
    timings["broken_cycles_to_PD"] = time.perf_counter() - t0
    pd1 = _first(cyc, "PD", "the cycles of the symmetry-broken branch")
    uzs = cyc.special("UZ")
    out["broken_J1"]["cycles"] = {
        "pd": {"lam": float(pd1["lam"]), "period": float(pd1["period"])},
        "uz": [{"lam": float(x["lam"]), "period": float(x["period"]),
                **{f"{s}_max": float(x[f"{s}_max"]) for s in ("XB", "YB", "ZB")},
                **{f"{s}_min": float(x[f"{s}_min"]) for s in ("XB", "YB", "ZB")}} for _, x in uzs.iterrows()],
        "stable_before_pd": bool(cyc.to_frame()["stable"].iloc[1:-1].all()),
        "settings": _settings_subset(cyc),
    }
    if full:
        # the doubled branch needs a finer mesh and short steps: with DSMAX = 0.05 AUTO jumps
        # between the two halves of the doubled family and never reaches the next PD
        t0 = time.perf_counter()
        dbl = auto_switch_branch(cyc, "PD", bounds=(0.0, 1.5), stop=["PD1"],
                                 settings={"ntst": 120, "dsmax": 0.02, "nmx": 300}, native=native)
        timings["broken_cycles_PD2"] = time.perf_counter() - t0
        pd2 = dbl.special("PD")
        out["broken_J1"]["cycles"]["pd2"] = (
            {"lam": float(pd2["lam"].iloc[0]), "period": float(pd2["period"].iloc[0]),
             "settings": _settings_subset(dbl)} if len(pd2) else None)
        # past the PD the branch snakes (folds of cycles) into a homoclinic orbit: the period
        # grows without bound as lam -> lam_hom; stop at period 200
        t0 = time.perf_counter()
        long = auto_cycles_from_hopf(r, bounds=(0.0, 1.5), max_period=200.0, settings={"nmx": 400}, native=native)
        timings["broken_cycles_to_homoclinic"] = time.perf_counter() - t0
        uzp = long.special("UZ")
        out["broken_J1"]["cycles"]["homoclinic_limit"] = (
            {"lam_at_period_200": float(uzp["lam"].iloc[-1]), "period": float(uzp["period"].iloc[-1]),
             "n_lpc_seen": int(len(long.special("LPC")))} if len(uzp) else None)

    # -- codimension two: BP curve and Hopf curve of the normal state in (J, lam)
    r0 = auto_equilibria(prob, NORMAL, dict(base, lam=0.0), "J", bounds=(-0.01, 1.5), native=native)
    lam_grid = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    bpc = auto_codim2(r0, "BP", "lam", bounds=(0.0, 3.0), bounds2=(-0.001, 1.5), direction=-1,
                      uz={"lam": lam_grid[1:-1]}, native=native)
    timings["bp_curve"] = bpc.stats["wall_time"]
    pts = bpc.points_frame()
    curve = [{"lam": 0.0, "J": float(_first(r0, "BP", "the normal state at lam=0")["J"])}]
    curve += [{"lam": float(x["lam"]), "J": float(x["J"])} for _, x in pts.iterrows()
              if x["auto_type"] == "UZ" and np.any(np.isclose(float(x["lam"]), lam_grid, atol=1e-8))]
    out["bp_curve"] = {
        "points": curve,
        "turning_point": [{"lam": float(x["lam"]), "J": float(x["J"])} for _, x in pts.iterrows()
                          if x["auto_type"] == "LP"],
        "max_abs_dev_eq12": float(np.max(np.abs(bpc.to_frame()["J"] - eq12_J(bpc.to_frame()["lam"])))),
        "settings": _settings_subset(bpc),
    }
    hbc = []
    j_grid = [0.1, 0.3, 0.5, 0.7]
    for direction in (-1, 1):
        h = auto_codim2(hb_run, "HB", "J", bounds=(-0.01, 1.5), bounds2=(-0.001, 1.0), direction=direction,
                        uz={"J": j_grid}, native=native)
        timings[f"hopf_curve_{direction:+d}"] = h.stats["wall_time"]
        hbc.append(h)
    hpts = pd.concat([h.points_frame() for h in hbc], ignore_index=True)
    hrows = pd.concat([h.to_frame() for h in hbc], ignore_index=True)
    hrows = hrows[~hrows["neutral_saddle"].astype(bool)]
    out["hopf_curve"] = {
        "closed_form": "J^2 = (g^2 + gamma^2)(lam^2 - gamma^2)/(g^2 + lam^2), omega^2 = g^2 + gamma^2 - lam^2",
        "max_abs_dev_closed_form_J": float(np.max(np.abs(np.abs(hrows["J"]) - hopf_curve_J(hrows["lam"])))),
        "points": [{"J": float(x["J"]), "lam": float(x["lam"]), "period": float(x["period"]),
                    "gh_function": float(x["gh_function"]) if pd.notna(x.get("gh_function")) else None,
                    "eq13": 0.5 * (1 + 2 * float(x["J"]) ** 2)}
                   for _, x in hpts.iterrows() if x["auto_type"] == "UZ" and not x.get("neutral_saddle", False)
                   and np.any(np.isclose(float(x["J"]), j_grid, atol=1e-8))],
        "labels": [{"auto_type": str(x["auto_type"]), "kind": str(x["kind"]), "note": str(x["note"]),
                    "J": float(x["J"]), "lam": float(x["lam"])}
                   for _, x in hpts.iterrows() if x["auto_type"] not in ("UZ", "EP", "")],
        "settings": _settings_subset(hbc[0]),
    }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bifurcate.backends.auto07p --write tests/data/auto_reference.json``"""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--write", type=pathlib.Path, default=None, help="write the reference JSON here")
    ap.add_argument("--quick", action="store_true", help="skip the long cycle runs")
    a = ap.parse_args(argv)
    ref = reference_numbers(full=not a.quick)
    text = json.dumps(ref, indent=1, sort_keys=False, default=float)
    if a.write:
        a.write.parent.mkdir(parents=True, exist_ok=True)
        a.write.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
