"""The ``bifurcate`` command line.

Subcommands register themselves in :data:`COMMANDS` with :func:`command`; each gets an argparse
sub-parser and a function taking the parsed arguments. Parameters can be given as ``--param
J=1.5 --param lam=0.3`` or in a TOML file (``--config run.toml``, table ``[params]``; the command
line wins over the file). Every command takes ``--model NAME`` (a registered model, see
``bifurcate models``) or ``--model package.module:OBJECT`` (a :class:`bifurcate.model.Model`, or any
object with a ``.mean_field()`` method returning one); parameter defaults and state names come
from the model.

The promise: every user error ends in ``bifurcate: error: ...`` on stderr with exit code 2 and no
traceback (``--debug`` shows one); a run some of whose rows failed exits with code 1 and says how
many and why; every file written is printed.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Callable

__all__ = ["main", "command", "COMMANDS", "parse_params", "parse_range", "ensure_out_dir", "CLIError", "STUDY_ALIASES",
           "resolve_model", "build_parser", "EXIT_ERROR", "EXIT_FAILED_ROWS"]

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}

#: exit code of a user error (bad input, unreadable file, ...)
EXIT_ERROR = 2
#: exit code of a run that completed but some of whose rows (points, trajectories, branches) failed
EXIT_FAILED_ROWS = 1

#: top-level tables a ``--config`` TOML file may have
CONFIG_TABLES = ("params", "grid")


class CLIError(Exception):
    """A user error: printed as ``bifurcate: error: ...`` with exit code 2."""


def command(name: str, help: str):
    """Decorator registering ``configure(parser)`` and ``run(args)`` for a subcommand."""
    def deco(cls):
        COMMANDS[name] = (cls.configure, cls.run, help)
        return cls
    return deco


class _Parser(argparse.ArgumentParser):
    """argparse with the promised error line (``bifurcate: error: ...``, exit 2)."""

    def error(self, message):  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"bifurcate: error: {message}\n")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    pass


class _Once(argparse.Action):
    """A single-valued option: giving it twice is refused (argparse would silently keep the last)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"{option_string} given more than once; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


def _number(kind: str, *, minimum: float | None = None, strict: bool = False, integer: bool = False):
    """argparse type: a finite number (an integer with ``integer``) with an optional lower bound."""
    def conv(text: str):
        try:
            v = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not integer and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if minimum is not None and (v < minimum or (strict and v == minimum)):
            raise argparse.ArgumentTypeError(f"expected {kind} {'>' if strict else '>='} {minimum:g}, got {text!r}")
        return v
    conv.__name__ = kind
    return conv


_positive_int = _number("an integer", minimum=1, integer=True)
_seed_int = _number("an integer", minimum=0, integer=True)
_positive_float = _number("a number", minimum=0, strict=True)
_nonneg_float = _number("a number", minimum=0)


def _finite(name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CLIError(f"{name} needs a number, got {text!r}") from None
    if not math.isfinite(v):
        raise CLIError(f"{name} must be a finite number, got {text!r}")
    return v


def _read_config(config: str | None) -> dict:
    """The whole TOML file (checked: readable, valid, known tables only); {} without a file."""
    if not config:
        return {}
    path = Path(config)
    if not path.is_file():
        raise CLIError(f"config file {config!r} does not exist")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CLIError(f"config file {config!r} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"config file {config!r} cannot be read: {exc}") from None
    unknown = [k for k in data if k not in CONFIG_TABLES]
    if unknown:
        raise CLIError(f"config file {config!r}: unknown table(s) {unknown}; expected {list(CONFIG_TABLES)}")
    for k in CONFIG_TABLES:
        if k in data and not isinstance(data[k], dict):
            raise CLIError(f"config file {config!r}: [{k}] must be a table, got {data[k]!r}")
    return data


def parse_params(pairs: list[str] | None, config: str | None = None, model=None) -> dict[str, float]:
    """``["J=1.5", "lam=0.3"]`` and/or a TOML file's ``[params]`` table -> dict, checked against
    the model's parameter names (finite numbers; a name given twice on the command line is refused;
    the command line wins over the file)."""
    out: dict[str, float] = {}
    for k, v in _read_config(config).get("params", {}).items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CLIError(f"config file {config!r}: parameter {k!r} needs a number, got {v!r}")
        if not math.isfinite(v):
            raise CLIError(f"config file {config!r}: parameter {k!r} must be finite, got {v!r}")
        out[k] = float(v)
    seen: set[str] = set()
    for item in pairs or []:
        if "=" not in item:
            raise CLIError(f"parameters are given as NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        k = k.strip()
        if k in seen:
            raise CLIError(f"parameter {k!r} given twice with --param; give it once")
        seen.add(k)
        out[k] = _finite(f"parameter {k!r}", v.strip())
    if model is not None:
        unknown = [k for k in out if k not in model.param_names]
        if unknown:
            raise CLIError(f"unknown parameter(s) {unknown} for model {model.name!r}; expected names from "
                           f"{list(model.param_names)}")
        pinned = [k for k in out if k in model.fixed and out[k] != model.fixed[k]]
        if pinned:
            raise CLIError(f"parameter(s) {pinned} are fixed in model {model.name!r} at "
                           f"{ {k: model.fixed[k] for k in pinned} }")
    return out


def parse_range(text: str, what: str = "range", max_points: int = 1_000_000) -> "list[float]":
    """``"0:1.5:31"`` (start:stop:count, inclusive) or ``"0.1,0.2,0.5"`` -> list of finite floats."""
    import numpy as np

    text = str(text).strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise CLIError(f"expected a {what} START:STOP:COUNT or a list A,B,C, got {text!r}")
        a = _finite(f"{what} start", parts[0])
        b = _finite(f"{what} stop", parts[1])
        try:
            n = int(parts[2])
        except ValueError:
            raise CLIError(f"the count of a {what} must be an integer, got {parts[2]!r} in {text!r}") from None
        if n < 1:
            raise CLIError(f"a {what} needs at least one point, got {text!r}")
        if n > max_points:
            raise CLIError(f"a {what} of {n} points is more than the limit of {max_points}, got {text!r}")
        if n > 1 and a == b:
            raise CLIError(f"empty or decreasing {what} {text!r}: START equals STOP with {n} points")
        return [float(x) for x in np.linspace(a, b, n)]
    vals = [_finite(f"{what} value", v) for v in text.split(",") if v.strip()]
    if not vals:
        raise CLIError(f"empty {what} {text!r}")
    twice = sorted({v for v in vals if vals.count(v) > 1})
    if twice:
        raise CLIError(f"{what} lists {', '.join(f'{v:g}' for v in twice)} more than once, got {text!r}")
    return vals


def ensure_out_dir(path: str | Path, option: str = "--out") -> Path:
    """Create the output directory, with a clear error naming ``option`` if it cannot be written."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"{option}: output directory {str(p)!r} is not writable ({exc.strerror or exc})") from None
    return p


def resolve_model(spec: str):
    """A registered model name, or ``package.module:OBJECT`` (a Model, or an object with a
    ``.mean_field()`` method returning one) -> :class:`bifurcate.model.Model`."""
    import importlib

    from bifurcate import get_model
    from bifurcate.model import Model

    spec = str(spec).strip()
    if ":" in spec:
        mod_name, _, attr = spec.partition(":")
        if not mod_name or not attr:
            raise CLIError(f"expected --model NAME or package.module:OBJECT, got {spec!r}")
        try:
            obj = importlib.import_module(mod_name)
        except Exception as exc:  # noqa: BLE001 - any failure to import the user's file is a user error
            raise CLIError(f"--model {spec!r}: cannot import module {mod_name!r} ({type(exc).__name__}: {exc})") from None
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise CLIError(f"--model {spec!r}: module {mod_name!r} has no attribute {attr!r}") from None
    else:
        try:
            obj = get_model(spec)
        except KeyError as exc:
            raise CLIError(f"{exc.args[0]} (or give --model package.module:OBJECT)") from None
    if not isinstance(obj, Model) and callable(getattr(obj, "mean_field", None)):
        try:
            obj = obj.mean_field()
        except Exception as exc:  # noqa: BLE001
            raise CLIError(f"--model {spec!r}: .mean_field() failed ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, Model):
        raise CLIError(f"--model {spec!r} is a {type(obj).__name__}; expected a bifurcate Model or an object with "
                       f".mean_field() returning one")
    return obj


_model = resolve_model


def _report_failures(n_bad: int, n_total: int, what: str, reasons) -> int:
    """Print the failed-rows summary on stderr; the exit code (0 if none failed)."""
    if not n_bad:
        return 0
    lines = [f"bifurcate: {n_bad} of {n_total} {what} failed:"]
    for reason, count in list(reasons)[:10]:
        lines.append(f"  {count} x {reason}")
    print("\n".join(lines), file=sys.stderr)
    return EXIT_FAILED_ROWS


def _count_reasons(messages) -> list[tuple[str, int]]:
    from collections import Counter

    return Counter(str(m) for m in messages).most_common()


def _wrote(*paths) -> None:
    for p in paths:
        print(f"wrote {p}")


@command("models", "list the shipped models with their state and parameters")
class _Models:
    @staticmethod
    def configure(p):
        p.add_argument("--model", default=None, action=_Once,
                       help="describe only this model (a registered name or package.module:OBJECT)")

    @staticmethod
    def run(a):
        import bifurcate.models  # noqa: F401
        from bifurcate.model import _REGISTRY

        models = [(_model(a.model).name, _model(a.model))] if a.model else sorted(_REGISTRY.items())
        for name, m in models:
            print(f"{name:14s} state={','.join(m.state_names)}  params={dict(m.params())}  {m.description}")
        return 0


@command("integrate", "integrate an ensemble of initial conditions and write a parquet table")
class _Integrate:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--n-initial", type=_positive_int, default=16, action=_Once, help="initial conditions")
        p.add_argument("--seed", type=_seed_int, default=0, action=_Once, help="seed of the initial conditions")
        p.add_argument("--t-end", type=_positive_float, default=500.0, action=_Once, help="end time (1/g)")
        p.add_argument("--out", default="results/integrate", action=_Once, help="output directory")

    @staticmethod
    def run(a):
        from analysis.provenance import write_metadata
        from bifurcate import integrate_ensemble

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        out = ensure_out_dir(a.out)
        print(f"integrating {a.n_initial} trajectories of {model.name} to t = {a.t_end:g}", flush=True)
        ens = integrate_ensemble(model, params, n_initial=a.n_initial, seed=a.seed, t_end=a.t_end)
        path = out / "ensemble.parquet"
        ens.to_frame().to_parquet(path)
        meta = write_metadata(out, command="integrate", model=model.name, params=model.params(params), seed=a.seed,
                              n_initial=a.n_initial, t_end=a.t_end, options=ens.options)
        n_bad = int((ens.status != 0).sum())
        print(f"{ens.n_initial} trajectories, {n_bad} failed")
        _wrote(path, meta)
        return _report_failures(n_bad, ens.status.size, "trajectories",
                                _count_reasons(ens.message[ens.status != 0]))


# --------------------------------------------------------------------------------------------
# continuation, census, phase diagrams, quantum, studies, reports
# --------------------------------------------------------------------------------------------
def _config_section(config: str | None, section: str) -> dict:
    """A table of the TOML file (``[grid]`` ...), {} if absent."""
    return dict(_read_config(config).get(section, {}))


def _add_point_args(p):
    p.add_argument("--model", default="lmg_dimer", action=_Once,
                   help="a registered model (see 'bifurcate models') or package.module:OBJECT")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="parameter value (repeatable, one per name; the rest from the model's defaults)")
    p.add_argument("--config", action=_Once,
                   help="TOML file with a [params] (and [grid]) table; --param wins over it")


def _named_states(model) -> dict:
    """States a model's module names ``<NAME>_STATE`` (e.g. ``NORMAL_STATE`` -> ``normal``), checked
    against the model's dimension; {} if none."""
    import importlib

    import numpy as np

    out = {}
    try:
        mod = importlib.import_module(model.module)
    except Exception:  # noqa: BLE001 - a model without an importable module has no named states
        return out
    for k in dir(mod):
        if k.endswith("_STATE") and k.isupper():
            v = getattr(mod, k)
            if isinstance(v, np.ndarray) and v.shape == (model.n,):
                out[k[:-len("_STATE")].lower()] = v
    return out


def _write_table(df, out: Path, name: str) -> Path:
    path = out / f"{name}.parquet"
    df.reset_index(drop=True).to_parquet(path)
    return path


@command("continue", "continue equilibria (and cycles from Hopf points) in one parameter")
class _Continue:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--free", default=None, action=_Once,
                       help="continuation parameter (required unless the model has one free parameter)")
        p.add_argument("--range", default="-2:2", metavar="LO:HI", action=_Once,
                       help="interval of the free parameter (negative values work: --range -2:2)")
        p.add_argument("--start", default="stable", action=_Once,
                       help="'stable' (every stable equilibrium at the start), the name of a state the model "
                            "defines (e.g. 'normal' for the LMG dimer) or a comma-separated state")
        p.add_argument("--switch", action="store_true", help="switch branches at every BP")
        p.add_argument("--cycles", action="store_true", help="continue limit cycles from every Hopf point")
        p.add_argument("--max-cycle-points", type=_positive_int, default=100, action=_Once,
                       help="points per cycle branch")
        p.add_argument("--out", default="results/continue", action=_Once, help="output directory")

    @staticmethod
    def run(a):
        import numpy as np
        import pandas as pd

        from analysis.provenance import write_metadata
        from bifurcate.continuation import continue_equilibria

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        parts = a.range.split(":")
        if len(parts) != 2:
            raise CLIError(f"expected --range LO:HI, got {a.range!r}")
        lo, hi = (_finite("--range", v) for v in parts)
        if not hi > lo:
            raise CLIError(f"empty range {a.range!r}: expected LO < HI")
        if a.free is None:
            if len(model.free_params) != 1:
                raise CLIError(f"give the continuation parameter with --free, one of {list(model.free_params)}")
            a.free = model.free_params[0]
        if a.free not in model.free_params:
            raise CLIError(f"unknown parameter {a.free!r} for --free; expected one of {list(model.free_params)}")
        if not hi > lo:
            raise CLIError(f"empty range {a.range!r}: expected LO < HI")
        p0 = params.get(a.free, model.params()[a.free])
        if not lo <= p0 <= hi:
            params[a.free] = p0 = lo
        out = ensure_out_dir(a.out)
        named = _named_states(model)
        if a.start in named:
            starts = [named[a.start]]
        elif a.start == "stable":
            from bifurcate.equilibria import find_equilibria

            starts = list(find_equilibria(model, params).stable_states())
            if not starts:
                raise CLIError(f"no stable equilibrium at {params}; give --start as a state "
                               f"({','.join(model.state_names)}){' or one of ' + str(list(named)) if named else ''}")
        else:
            if not re.fullmatch(r"[-+0-9.eE, ]+", a.start):
                raise CLIError(f"expected --start stable, {', '.join(named) + ', ' if named else ''}or {model.n} "
                               f"comma-separated numbers ({','.join(model.state_names)}), got {a.start!r}")
            vals = [_finite("--start", v) for v in a.start.split(",") if v.strip()]
            if len(vals) != model.n:
                raise CLIError(f"expected a state of {model.n} numbers ({','.join(model.state_names)}) for --start, "
                               f"got {len(vals)}")
            try:
                starts = [model.check_state(np.array(vals), name="--start")]
            except ValueError as exc:
                raise CLIError(str(exc)) from None
        branches = []
        for k, y in enumerate(starts):
            for ds in ((0.01,) if p0 <= lo else (0.01, -0.01)):
                try:
                    b = continue_equilibria(model, y, param=a.free, params=params, p_min=lo, p_max=hi, ds=ds)
                except ValueError as exc:
                    raise CLIError(f"continuation could not start: {exc}") from None
                branches.append((f"start {k} ({'+' if ds > 0 else '-'})", b))
        if a.switch:
            from bifurcate.continuation.switching import switch_branch

            for name, b in list(branches):
                for bp in b.special("BP"):
                    for j, nb in enumerate(switch_branch(b, bp, p_min=lo, p_max=hi)):
                        branches.append((f"switched at {a.free}={bp.params[a.free]:.4g}{' mirror' if j else ''}", nb))
        if a.cycles:
            from bifurcate.cycles import continue_cycles

            for name, b in list(branches):
                if b.kind != "equilibrium":
                    continue
                for hb in b.special("HB"):
                    cb = continue_cycles(model, hb, param=a.free, max_points=a.max_cycle_points, p_min=lo, p_max=hi)
                    branches.append((f"cycles from HB {a.free}={hb.params[a.free]:.4g}", cb))
        tabs, pts = [], []
        for name, b in branches:
            df = b.to_frame()
            df.insert(0, "branch", name)
            df["branch_status"] = b.status
            tabs.append(df)
            if b.points:
                pf = b.points_frame()
                pf.insert(0, "branch", name)
                pts.append(pf)
            print(f"{name:32s} {b.kind:11s} {len(b):4d} points  status {b.status}: {b.message}")
            for q in b.points:
                if q.kind != "NSad":
                    print(f"    {q.kind:4s} {a.free} = {q.params[a.free]:.6g}")
        p1 = _write_table(pd.concat(tabs, ignore_index=True), out, "branches")
        if pts:
            sp = pd.concat(pts, ignore_index=True)
            for c in sp.columns:
                if sp[c].dtype == object:
                    sp[c] = sp[c].astype(str)
            _write_table(sp, out, "special_points")
        meta = write_metadata(out, command="continue", model=model.name, params=model.params(params), free=a.free,
                              range=[lo, hi], start=a.start, switch=a.switch, cycles=a.cycles,
                              tables={"branches.parquet": "branch", "special_points.parquet": "special_points"})
        _wrote(p1, *([out / "special_points.parquet"] if pts else []), meta)
        bad = [(n, b) for n, b in branches if b.status < 0]
        return _report_failures(len(bad), len(branches), "branches",
                                _count_reasons(f"{n}: {b.message}" for n, b in bad))


@command("census", "attractor census at one point: kinds, basin fractions, Lyapunov exponents, averages")
class _Census:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--n-initial", type=_positive_int, default=32, action=_Once, help="initial conditions")
        p.add_argument("--seed", type=_seed_int, default=0, action=_Once, help="seed of the initial conditions")
        p.add_argument("--t-total", type=_positive_float, default=500.0, action=_Once,
                       help="measured time after the transient (1/g)")
        p.add_argument("--t-transient", type=_nonneg_float, default=200.0, action=_Once, help="transient (1/g)")
        p.add_argument("--out", default="results/census", action=_Once, help="output directory")

    @staticmethod
    def run(a):
        from analysis.attractor_census import census
        from analysis.provenance import write_metadata

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        out = ensure_out_dir(a.out)
        res = census(model, params, n_initial=a.n_initial, seed=a.seed, t_total=a.t_total, t_transient=a.t_transient)
        att = res.to_frame()
        p1 = _write_table(att, out, "attractors")
        p2 = _write_table(res.summary_frame(), out, "summary")
        meta = write_metadata(out, command="census", model=model.name, params=res.params, seed=a.seed,
                              n_initial=a.n_initial, options=res.options,
                              tables={"attractors.parquet": "census_attractors", "summary.parquet": "census_summary"})
        cols = [c for c in ("label", "kind", "flavour", "basin_fraction", "lyap_0", "lyap_1", *model.state_names)
                if c in att]
        print(att[cols].to_string(index=False) if len(att) else "no attractor classified")
        print(f"status {res.status}: {res.message}")
        _wrote(p1, p2, meta)
        return _report_failures(int(res.status != 0), 1, "census", [(res.message, 1)])


def _grid_axes(model, cli_specs, config, option="--grid") -> dict:
    """``NAME=START:STOP:COUNT`` axes from the command line and the config's ``[grid]`` table
    (the command line wins over the file; a name given twice on the command line is refused)."""
    specs: dict[str, object] = {}
    for k, v in _config_section(config, "grid").items():
        specs[k] = v
    seen: set[str] = set()
    for spec in cli_specs or []:
        if "=" not in spec:
            raise CLIError(f"grid axes are given as NAME=START:STOP:COUNT, got {spec!r}")
        k, v = spec.split("=", 1)
        k = k.strip()
        if k in seen:
            raise CLIError(f"{option} {k}=... given twice; give each axis once")
        seen.add(k)
        specs[k] = v
    grid = {}
    for k, v in specs.items():
        if k not in model.free_params:
            raise CLIError(f"unknown parameter {k!r} in {option}; expected one of {list(model.free_params)}")
        if isinstance(v, list):
            if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v):
                raise CLIError(f"{option} {k}: a list of numbers expected, got {v!r}")
            vals = [_finite(f"{option} {k}", repr(float(x))) for x in v]
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = [_finite(f"{option} {k}", str(v))]
        elif isinstance(v, str):
            vals = parse_range(v, what=f"{option} {k}")
        else:
            raise CLIError(f"{option} {k}: expected START:STOP:COUNT, a list or a number, got {v!r}")
        if len(vals) > 1 and not all(b > x for x, b in zip(vals, vals[1:])):
            raise CLIError(f"empty or decreasing range for {k!r}: {v!r} (expected START < STOP)")
        grid[k] = vals
    return grid


@command("phase-diagram", "sweep a grid: stable fixed points, attractor kinds, exponent, averages (resumable)")
class _PhaseDiagram:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--grid", action="append", metavar="NAME=START:STOP:COUNT",
                       help="grid axis (repeatable, once per name; e.g. --grid J=-2:2:41 --grid lam=0:1.5:31)")
        p.add_argument("--n-initial", type=_positive_int, default=16, action=_Once, help="initial conditions per point")
        p.add_argument("--seed", type=_seed_int, default=2025, action=_Once, help="entropy of the per-point seeds")
        p.add_argument("--t-end", type=_positive_float, default=200.0, action=_Once, help="transient length (1/g)")
        p.add_argument("--no-census", action="store_true", help="count stable fixed points only (fast)")
        p.add_argument("--n-workers", type=_positive_int, default=None, action=_Once,
                       help="local worker processes (default: one, numba on all cores)")
        p.add_argument("--scheduler", default=None, action=_Once, help="Dask scheduler address (tcp://host:port)")
        p.add_argument("--store", default=None, action=_Once, help="result store directory (default <out>/store)")
        p.add_argument("--chunk-seconds", type=_positive_float, default=None, action=_Once,
                       help="target wall time of one chunk: an interrupt loses at most about this much work "
                            "(default: the store's, 5 s)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--out", default="results/phase_diagram", action=_Once, help="output directory")

    @staticmethod
    def run(a):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from analysis.phase_diagrams import phase_diagram
        from analysis.plots_phase import plot_kinds, plot_n_stable
        from analysis.provenance import write_metadata

        model = _model(a.model)
        base = parse_params(a.param, a.config, model)
        grid = _grid_axes(model, a.grid, a.config)
        if not grid:
            raise CLIError("give at least one --grid NAME=START:STOP:COUNT (or a [grid] table in --config)")
        out = ensure_out_dir(a.out)
        store = str(ensure_out_dir(a.store, "--store")) if a.store else str(out / "store")
        extra = {"chunk_seconds": a.chunk_seconds} if a.chunk_seconds is not None else {}
        pdg = phase_diagram(model, grid, base=base, n_initial=a.n_initial, seed=a.seed, t_end=a.t_end,
                            census=not a.no_census, store=store, n_workers=a.n_workers, scheduler=a.scheduler,
                            progress=not a.no_progress, **extra)
        path = _write_table(pdg.to_frame(), out, "phase_diagram")
        written = [path]
        if len(grid) == 2:
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
            plot_n_stable(pdg, axes[0])
            plot_kinds(pdg, axes[1])
            fig.savefig(out / "phase_diagram.png", dpi=130)
            plt.close(fig)
            written.append(out / "phase_diagram.png")
        meta = write_metadata(out, command="phase-diagram", model=model.name, grid=grid, base=model.params(base),
                              seed=pdg.seed, options=pdg.options, store=pdg.path,
                              tables={"phase_diagram.parquet": "phase_diagram"})
        print(pdg.failure_summary())
        print(f"{pdg.n_computed} computed, {pdg.n_cached} from the store {pdg.path}")
        _wrote(*written, meta)
        f = pdg.failures()
        return _report_failures(len(f), len(pdg.table), "points",
                                _count_reasons(f"status {s}: {m}" for s, m in zip(f["status"], f["message"])))


def _spin_lengths(text: str) -> list[float]:
    from bifurcate.validation import check_memory

    S_values = parse_range(text, what="--S")
    bad = [S for S in S_values if S <= 0 or abs(2 * S - round(2 * S)) > 1e-12]
    if bad:
        raise CLIError(f"expected positive integer or half-integer spin lengths for --S, got {text!r}")
    # the dense density matrix of the dimer alone: (2S+1)^4 complex numbers (the solver needs more)
    try:
        check_memory(f"--S {max(S_values):g} (density matrix of the dimer)", 16 * int(2 * max(S_values) + 1) ** 4)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    return S_values


@command("quantum", "exact steady states of the master equation (5): Z_A, Z_B, purity (and spin-B Wigner)")
class _Quantum:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--S", default="1,2,3", action=_Once, help="spin lengths, e.g. 1,2,3 or 1:6:6")
        p.add_argument("--sweep", metavar="NAME=START:STOP:COUNT", action=_Once, help="sweep one parameter")
        p.add_argument("--wigner", action="store_true",
                       help="also write the Wigner function of one spin (--spin) at each S (one point: no --sweep)")
        p.add_argument("--spin", default=None, action=_Once, metavar="NAME",
                       help="the spin of --wigner, by its name in the model's specification (default: the "
                            "model's last spin, B for the LMG dimer)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--out", default="results/quantum", action=_Once, help="output directory")

    @staticmethod
    def run(a):
        import numpy as np
        import pandas as pd
        from tqdm import tqdm

        from analysis.provenance import write_metadata
        from analysis.report_attractors import exact_table

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        S_values = _spin_lengths(a.S)
        points = [dict(params)]
        if a.sweep:
            if "=" not in a.sweep:
                raise CLIError(f"expected --sweep NAME=START:STOP:COUNT, got {a.sweep!r}")
            k, v = a.sweep.split("=", 1)
            k = k.strip()
            if k not in model.free_params:
                raise CLIError(f"unknown parameter {k!r} in --sweep; expected one of {list(model.free_params)}")
            points = [{**params, k: float(x)} for x in parse_range(v, what="--sweep")]
        if a.spin is not None and not a.wigner:
            raise CLIError("--spin chooses the spin of --wigner; give --wigner too")
        wigner = _wigner_spin(model, a.spin, len(points)) if a.wigner else None
        out = ensure_out_dir(a.out)
        # every parameter explicit (the model's defaults), so the table and the solver agree on them
        full = [model.params(pt) for pt in points]
        tabs = [exact_table(pt, S_values, model=model) for pt in tqdm(full, desc="exact steady states", unit="point",
                                                          disable=a.no_progress)]
        df = pd.concat(tabs, ignore_index=True)
        obs = [c for c in model.state_names if c in df] + ["purity"]     # the model's own observables
        bad = (df["status"] != 0) | ~np.isfinite(df[obs].to_numpy(float)).all(axis=1)
        if bad.any():
            df.loc[bad & (df["status"] == 0), "message"] = "non-finite result"
            df.loc[bad & (df["status"] == 0), "status"] = -1
        path = _write_table(df, out, "exact")
        written = [path]
        tables = {"exact.parquet": "exact"}
        n_bad, n_rows, reasons = int(bad.sum()), len(df), list(df.loc[bad, "message"])
        if wigner is not None:
            wdf = _wigner_table(*wigner, full[0], S_values)
            written.append(_write_table(wdf, out, "wigner"))
            tables["wigner.parquet"] = "wigner"
            per_S = wdf.groupby("S", sort=False).first()
            failed = per_S[per_S["status"] != 0]
            n_bad, n_rows = n_bad + len(failed), n_rows + len(per_S)
            reasons += [f"Wigner function of spin {wigner[1]}: {m}" for m in failed["message"]]
        meta = write_metadata(out, command="quantum", model=model.name, params=full[0], S=S_values, sweep=a.sweep,
                              wigner_spin=wigner[1] if wigner else None, tables=tables)
        print(df[[c for c in df.columns if c in ("S", *model.free_params, *obs, "status")]]
              .to_string(index=False))
        _wrote(*written, meta)
        return _report_failures(n_bad, n_rows, "exact steady states" + (" and Wigner functions" if wigner else ""),
                                _count_reasons(reasons))


def _wigner_spin(model, spin: str | None, n_points: int):
    """(specification, spin name) for ``--wigner``: the model's quantum specification and one of its
    spins (default the last one), or a CLIError saying why not."""
    from bifurcate.spec import system_of

    if n_points != 1:
        raise CLIError(f"--wigner writes the Wigner function at one parameter point; got {n_points} points from "
                       f"--sweep (drop --sweep, or run once per point)")
    system = system_of(model)
    if system is None:
        raise CLIError(f"--wigner needs a model built from a quantum specification (bifurcate.spec.OpenSystem); "
                       f"model {model.name!r} has none")
    spins = [m.name for m in system.modes if m.kind == "spin"]
    if not spins:
        raise CLIError(f"--wigner: model {model.name!r} has no spin (its modes: "
                       f"{[m.name for m in system.modes]}); the spin Wigner function needs one")
    name = spins[-1] if spin is None else spin.strip()
    if name not in spins:
        raise CLIError(f"unknown spin {spin!r} for --spin; model {model.name!r} has the spins {spins}")
    return system, name


def _wigner_table(system, spin: str, params: dict, S_values):
    """Long table (S, parameters, spin, theta, phi, W, status, message) of one spin's Wigner function
    at each S; a steady state that fails or is not certified gives rows that say so."""
    import numpy as np
    import pandas as pd

    from analysis.quantum import spin_wigner
    from bifurcate.quantum import steady_state_system

    th, ph = np.linspace(0, np.pi, 91), np.linspace(0, 2 * np.pi, 181)
    TH, PH = np.meshgrid(th, ph, indexing="ij")
    pars = {k: v for k, v in params.items() if k in system.parameters}
    rows = []
    for S in S_values:
        try:
            st = steady_state_system(system, S, pars)
            W = spin_wigner(st.reduced(spin), th, ph).W          # (theta, phi), Tilma normalisation
            status, message = (0, "success") if st.success else (1, f"not certified: {st.message}")
        except Exception as exc:  # noqa: BLE001 - a failed point is a row that says why
            W, status, message = np.full(TH.shape, np.nan), -1, f"{type(exc).__name__}: {exc}"
        rows.append(pd.DataFrame({"S": float(S), **params, "spin": spin, "theta": TH.ravel(), "phi": PH.ravel(),
                                  "W": W.ravel(), "status": status, "message": message}))
    return pd.concat(rows, ignore_index=True)


#: ``bifurcate study NAME`` -> module under studies/
STUDY_ALIASES = {"fig1b": "fig1b_pt_dimer", "fig1d": "fig1d_lmg", "fig2": "fig2_phase_diagram", "fig3": "fig3_cuts",
                 "fig4": "fig4_wigner", "bifurcation": "bifurcation_diagrams", "attractor-map": "attractor_map",
                 "finite-size": "finite_size", "flagship": "flagship", "all": "flagship"}


@command("study", "run a study (fig1b, fig1d, fig2, fig3, fig4, bifurcation, attractor-map, finite-size, all)")
class _Study:
    @staticmethod
    def configure(p):
        p.add_argument("name", help=f"one of {', '.join(STUDY_ALIASES)}")
        p.add_argument("--quick", action="store_true", help="the ~1 minute version")
        p.add_argument("--out", default="results", action=_Once, help="output directory (a sub-directory per study)")

    @staticmethod
    def run(a):
        import importlib

        mod_name = STUDY_ALIASES.get(a.name, a.name)
        if mod_name not in STUDY_ALIASES.values():
            raise CLIError(f"unknown study {a.name!r}; expected one of {list(STUDY_ALIASES)}")
        ensure_out_dir(a.out)
        # studies sit above analysis in the import graph: loaded only when asked for
        mod = importlib.import_module(f"studies.{mod_name}")
        res = mod.main(a.out, quick=a.quick)
        paths = res if mod_name != "flagship" else {"report": res["report"]}
        for k, v in paths.items():
            print(f"{k:>14}: {v}")
        return 0


@command("report", "attractor classification report (HTML) for a point, a cut table or a sweep table")
class _Report:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--table", action=_Once,
                       help="a 1-D sweep table (cut report) or 2-D one (sweep report), or its directory")
        p.add_argument("--cut-param", action=_Once,
                       help="the swept parameter of a cut table (default: the one that varies)")
        p.add_argument("--S", default="", action=_Once,
                       help="spin lengths for the exact comparison at a point, e.g. 1,2,3 (default: none)")
        p.add_argument("--n-initial", type=_positive_int, default=32, action=_Once, help="initial conditions")
        p.add_argument("--seed", type=_seed_int, default=0, action=_Once, help="seed of the initial conditions")
        p.add_argument("--no-branches", action="store_true", help="skip the continuation of the attractors")
        p.add_argument("--out", default="results/report.html", action=_Once, help="HTML file to write")

    @staticmethod
    def run(a):
        out = Path(a.out)
        if out.suffix != ".html":
            raise CLIError(f"expected --out to name an .html file, got {a.out!r}")
        ensure_out_dir(out.parent)
        model = _model(a.model)
        if a.table:
            from analysis.io import load
            from analysis.report_attractors import cut_report

            try:
                df, meta = load(a.table)
            except (FileNotFoundError, ValueError) as exc:
                raise CLIError(str(exc)) from None
            varying = [p for p in model.param_names if p in df and df[p].nunique() > 1]
            if len(varying) == 1 or a.cut_param:
                param = a.cut_param or varying[0]
                if param not in df:
                    raise CLIError(f"unknown --cut-param {param!r}; expected one of {varying}")
                rep = cut_report(df, param, title=f"Cut report: {a.table}")
            elif len(varying) == 2:
                rep = _sweep_from_table(model, df, meta, a.table)
            else:
                raise CLIError(f"expected a table sweeping one or two parameters, got varying {varying}")
        else:
            from analysis.report_attractors import point_report

            params = parse_params(a.param, a.config, model)
            S_values = _spin_lengths(a.S) if a.S else []
            rep, _ = point_report(params, model=model, n_initial=a.n_initial, seed=a.seed, S_values=S_values,
                                  branches=not a.no_branches)
        rep.write(out)
        _wrote(out)
        return 0


def _sweep_from_table(model, df, meta, source):
    """A PhaseDiagram view of a stored 2-D table, for :func:`analysis.report_attractors.sweep_report`."""
    import numpy as np

    from analysis.phase_diagrams import PhaseDiagram, PhaseDiagramOptions
    from analysis.report_attractors import sweep_report

    axes = [p for p in model.param_names if p in df and df[p].nunique() > 1]
    grid = {p: np.unique(df[p].to_numpy(float)) for p in axes}
    df = df.copy()
    for p in axes:
        df[f"i_{p}"] = np.searchsorted(grid[p], df[p].to_numpy(float))
    n_init = int((meta.get("options") or {}).get("n_initial", 16)) if isinstance(meta.get("options"), dict) else 16
    pdg = PhaseDiagram(table=df, grid=grid, model=model, options=PhaseDiagramOptions(n_initial=max(n_init, 1)),
                       seed=int(meta.get("seed", 0) or 0), n_computed=len(df))
    return sweep_report(pdg, title=f"Sweep report: {source}")


#: options whose value may start with "-" (``--range -2:2``): joined as ``--range=-2:2`` before argparse
_NEGATIVE_VALUE = re.compile(r"^-[0-9.]")


def _join_negative_values(argv: list[str]) -> list[str]:
    """argparse takes ``-2:2`` for an option; ``--opt -2:2`` becomes ``--opt=-2:2``."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if (tok.startswith("--") and "=" not in tok and i + 1 < len(argv) and _NEGATIVE_VALUE.match(argv[i + 1])):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="bifurcate", formatter_class=_Formatter,
                 description="Bifurcation analysis of driven-dissipative mean-field models (flagship: the "
                             "PT-symmetric LMG dimer). Errors: 'bifurcate: error: ...', exit 2; runs with failed "
                             "rows exit 1.")
    from bifurcate import __version__

    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    ap.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (configure, _, help_) in COMMANDS.items():
        configure(sub.add_parser(name, help=help_, description=help_, formatter_class=_Formatter))
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = _join_negative_values([t for t in argv if t != "--debug"])
    try:
        ap = build_parser()
        a = ap.parse_args(argv)
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write("bifurcate: interrupted\n")
        return 130
    if not a.command:
        ap.print_help()
        return 0
    try:
        return int(COMMANDS[a.command][1](a) or 0)
    except CLIError as exc:
        if debug:
            raise
        ap.exit(EXIT_ERROR, f"bifurcate: error: {exc}\n")
    except KeyboardInterrupt:
        if debug:
            raise
        ap.exit(130, "bifurcate: interrupted (finished chunks of a sweep are kept in its store)\n")
    except (ValueError, TypeError, KeyError, OSError, ArithmeticError, MemoryError) as exc:
        # raised by the library's own argument checks: they name the argument, expected and got
        if debug:
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        ap.exit(EXIT_ERROR, f"bifurcate: error: {msg}\n")
    except Exception as exc:  # noqa: BLE001 - the promise: no traceback without --debug
        if debug:
            raise
        ap.exit(EXIT_ERROR, f"bifurcate: error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n")


if __name__ == "__main__":
    sys.exit(main())
