"""The ``bifurcate`` command line.

Subcommands register themselves in :data:`COMMANDS` with :func:`command`; each gets an argparse
sub-parser and a function taking the parsed arguments. Parameters can be given as ``--param
J=1.5 --param lam=0.3`` or in a TOML file (``--config run.toml``, table ``[params]``).
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Callable

__all__ = ["main", "command", "COMMANDS", "parse_params", "ensure_out_dir"]

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}


class CLIError(Exception):
    """A user error: printed as ``bifurcate: error: ...`` with exit code 2."""


def command(name: str, help: str):
    """Decorator registering ``configure(parser)`` and ``run(args)`` for a subcommand."""
    def deco(cls):
        COMMANDS[name] = (cls.configure, cls.run, help)
        return cls
    return deco


def parse_params(pairs: list[str] | None, config: str | None = None, model=None) -> dict[str, float]:
    """``["J=1.5", "lam=0.3"]`` and/or a TOML file's ``[params]`` table -> dict, checked against
    the model's parameter names."""
    out: dict[str, float] = {}
    if config:
        path = Path(config)
        if not path.is_file():
            raise CLIError(f"config file {config!r} does not exist")
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        out.update({k: float(v) for k, v in data.get("params", {}).items()})
    for item in pairs or []:
        if "=" not in item:
            raise CLIError(f"parameters are given as NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise CLIError(f"parameter {k.strip()!r} needs a number, got {v!r}") from None
    if model is not None:
        unknown = [k for k in out if k not in model.param_names]
        if unknown:
            raise CLIError(f"unknown parameter(s) {unknown} for model {model.name!r}; expected names from "
                           f"{list(model.param_names)}")
    return out


def parse_range(text: str) -> "list[float]":
    """``"0:1.5:31"`` (start:stop:count, inclusive) or ``"0.1,0.2,0.5"`` -> list of floats."""
    import numpy as np

    try:
        if ":" in text:
            a, b, n = text.split(":")
            n = int(n)
            if n < 1:
                raise CLIError(f"a range needs at least one point, got {text!r}")
            return list(np.linspace(float(a), float(b), n))
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"expected a range START:STOP:COUNT or a list A,B,C, got {text!r}") from None
    if not vals:
        raise CLIError(f"empty range {text!r}")
    return vals


def ensure_out_dir(path: str | Path) -> Path:
    """Create the output directory, with a clear error if it cannot be written."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"output directory {str(p)!r} is not writable ({exc.strerror or exc})") from None
    return p


def _model(name: str):
    from bifurcate import get_model

    try:
        return get_model(name)
    except KeyError as exc:
        raise CLIError(str(exc.args[0])) from None


@command("models", "list the shipped models with their state and parameters")
class _Models:
    @staticmethod
    def configure(p):
        pass

    @staticmethod
    def run(a):
        import bifurcate.models  # noqa: F401
        from bifurcate.model import _REGISTRY

        for name, m in sorted(_REGISTRY.items()):
            print(f"{name:14s} state={','.join(m.state_names)}  params={dict(m.params())}  {m.description}")
        return 0


@command("integrate", "integrate an ensemble of initial conditions and write a parquet table")
class _Integrate:
    @staticmethod
    def configure(p):
        p.add_argument("--model", default="lmg_dimer")
        p.add_argument("--param", action="append", metavar="NAME=VALUE", help="parameter value (repeatable)")
        p.add_argument("--config", help="TOML file with a [params] table")
        p.add_argument("--n-initial", type=int, default=16)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--t-end", type=float, default=500.0)
        p.add_argument("--out", default="results/integrate")

    @staticmethod
    def run(a):
        from analysis.provenance import write_metadata
        from bifurcate import integrate_ensemble

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        if a.n_initial < 1:
            raise CLIError(f"--n-initial must be >= 1, got {a.n_initial}")
        out = ensure_out_dir(a.out)
        ens = integrate_ensemble(model, params, n_initial=a.n_initial, seed=a.seed, t_end=a.t_end)
        path = out / "ensemble.parquet"
        ens.to_frame().to_parquet(path)
        write_metadata(out, command="integrate", model=model.name, params=model.params(params), seed=a.seed,
                       n_initial=a.n_initial, t_end=a.t_end, options=ens.options)
        print(f"wrote {path} ({ens.n_initial} trajectories, {(ens.status != 0).sum()} failed)")
        return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="bifurcate", description="Bifurcation analysis of driven-dissipative "
                                 "mean-field models (flagship: the PT-symmetric LMG dimer).")
    from bifurcate import __version__

    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name, (configure, _, help_) in COMMANDS.items():
        configure(sub.add_parser(name, help=help_, description=help_))
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    if not a.command:
        ap.print_help()
        return 0
    try:
        return int(COMMANDS[a.command][1](a) or 0)
    except CLIError as exc:
        ap.exit(2, f"bifurcate: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
