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

__all__ = ["main", "command", "COMMANDS", "parse_params", "parse_range", "ensure_out_dir", "CLIError", "STUDY_ALIASES"]

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


# --------------------------------------------------------------------------------------------
# continuation, census, phase diagrams, quantum, studies, reports
# --------------------------------------------------------------------------------------------
def _config_section(config: str | None, section: str) -> dict:
    """A table of the TOML file (``[grid]``, ``[options]`` ...), {} if absent."""
    if not config:
        return {}
    path = Path(config)
    if not path.is_file():
        raise CLIError(f"config file {config!r} does not exist")
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get(section, {}))


def _add_point_args(p, model_default: str = "lmg_dimer"):
    p.add_argument("--model", default=model_default)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="parameter value (repeatable)")
    p.add_argument("--config", help="TOML file with [params] (and [grid], [options]) tables")


def _write_table(df, out: Path, name: str) -> Path:
    path = out / f"{name}.parquet"
    df.reset_index(drop=True).to_parquet(path)
    return path


@command("continue", "continue equilibria (and cycles from Hopf points) in one parameter")
class _Continue:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--free", default="J", help="continuation parameter (default J)")
        p.add_argument("--range", default="-2:2", metavar="LO:HI", help="interval of the free parameter")
        p.add_argument("--start", default="normal",
                       help="'normal' (the normal state), 'stable' (every stable equilibrium at the start) or a "
                            "comma-separated state")
        p.add_argument("--switch", action="store_true", help="switch branches at every BP")
        p.add_argument("--cycles", action="store_true", help="continue limit cycles from every Hopf point")
        p.add_argument("--max-cycle-points", type=int, default=100)
        p.add_argument("--out", default="results/continue")

    @staticmethod
    def run(a):
        import numpy as np
        import pandas as pd

        from analysis.provenance import write_metadata
        from bifurcate.continuation import continue_equilibria

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        if a.free not in model.param_names:
            raise CLIError(f"unknown parameter {a.free!r} for --free; expected one of {list(model.param_names)}")
        try:
            lo, hi = (float(v) for v in a.range.split(":"))
        except ValueError:
            raise CLIError(f"expected --range LO:HI, got {a.range!r}") from None
        if not hi > lo:
            raise CLIError(f"empty range {a.range!r}: expected LO < HI")
        p0 = params.get(a.free, model.params()[a.free])
        if not lo <= p0 <= hi:
            params[a.free] = p0 = lo
        out = ensure_out_dir(a.out)
        if a.start == "normal":
            if "NORMAL_STATE" not in dir(__import__("bifurcate.models", fromlist=["NORMAL_STATE"])) or model.n != 6:
                raise CLIError("--start normal is defined for the LMG dimer; give --start stable or a state")
            from bifurcate.models import NORMAL_STATE

            starts = [NORMAL_STATE]
        elif a.start == "stable":
            from bifurcate.equilibria import find_equilibria

            starts = list(find_equilibria(model, params).stable_states())
            if not starts:
                raise CLIError(f"no stable equilibrium at {params}; use --start normal or a state")
        else:
            try:
                starts = [np.array([float(v) for v in a.start.split(",")])]
            except ValueError:
                raise CLIError(f"expected --start normal, stable or comma-separated numbers, got {a.start!r}") from None
            if starts[0].size != model.n:
                raise CLIError(f"expected a state of {model.n} numbers for --start, got {starts[0].size}")
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
        write_metadata(out, command="continue", model=model.name, params=model.params(params), free=a.free,
                       range=[lo, hi], start=a.start, switch=a.switch, cycles=a.cycles,
                       tables={"branches.parquet": "branch", "special_points.parquet": "special_points"})
        print(f"wrote {p1}")
        return 0


@command("census", "attractor census at one point: kinds, basin fractions, Lyapunov exponents, averages")
class _Census:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--n-initial", type=int, default=32)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--t-total", type=float, default=500.0, help="measured time after the transient")
        p.add_argument("--t-transient", type=float, default=200.0)
        p.add_argument("--out", default="results/census")

    @staticmethod
    def run(a):
        from analysis.attractor_census import census
        from analysis.provenance import write_metadata

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        params.update({k: float(v) for k, v in _config_section(a.config, "options").items() if k in ()})
        if a.n_initial < 1:
            raise CLIError(f"--n-initial must be >= 1, got {a.n_initial}")
        if not (a.t_total > 0 and a.t_transient >= 0):
            raise CLIError(f"expected --t-total > 0 and --t-transient >= 0, got {a.t_total}, {a.t_transient}")
        out = ensure_out_dir(a.out)
        res = census(model, params, n_initial=a.n_initial, seed=a.seed, t_total=a.t_total, t_transient=a.t_transient)
        att = res.to_frame()
        _write_table(att, out, "attractors")
        _write_table(res.summary_frame(), out, "summary")
        write_metadata(out, command="census", model=model.name, params=res.params, seed=a.seed, n_initial=a.n_initial,
                       options=res.options, tables={"attractors.parquet": "census_attractors",
                                                    "summary.parquet": "census_summary"})
        cols = [c for c in ("label", "kind", "flavour", "basin_fraction", "lyap_0", "lyap_1", "ZA", "ZB") if c in att]
        print(att[cols].to_string(index=False) if len(att) else "no attractor classified")
        print(f"status {res.status}: {res.message}; wrote {out / 'attractors.parquet'}")
        return 0


@command("phase-diagram", "sweep a grid: stable fixed points, attractor kinds, exponent, averages (resumable)")
class _PhaseDiagram:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--grid", action="append", metavar="NAME=START:STOP:COUNT",
                       help="grid axis (repeatable; e.g. --grid J=-2:2:41 --grid lam=0:1.5:31)")
        p.add_argument("--n-initial", type=int, default=16)
        p.add_argument("--seed", type=int, default=2025)
        p.add_argument("--t-end", type=float, default=200.0)
        p.add_argument("--no-census", action="store_true", help="count stable fixed points only (fast)")
        p.add_argument("--n-workers", type=int, default=None, help="local worker processes")
        p.add_argument("--scheduler", default=None, help="Dask scheduler address")
        p.add_argument("--store", default=None, help="result store directory (default <out>/store)")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--out", default="results/phase_diagram")

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
        specs = list(a.grid or []) + [f"{k}={v}" for k, v in _config_section(a.config, "grid").items()]
        if not specs:
            raise CLIError("give at least one --grid NAME=START:STOP:COUNT (or a [grid] table in --config)")
        grid = {}
        for s in specs:
            if "=" not in s:
                raise CLIError(f"grid axes are given as NAME=START:STOP:COUNT, got {s!r}")
            k, v = s.split("=", 1)
            k = k.strip()
            if k not in model.param_names:
                raise CLIError(f"unknown parameter {k!r} in --grid; expected one of {list(model.param_names)}")
            vals = parse_range(v)
            if len(vals) > 1 and not all(b > x for x, b in zip(vals, vals[1:])):
                raise CLIError(f"empty or decreasing range for {k!r}: {v!r} (expected START < STOP)")
            grid[k] = vals
        if a.n_initial < 1:
            raise CLIError(f"--n-initial must be >= 1, got {a.n_initial}")
        out = ensure_out_dir(a.out)
        store = a.store or str(out / "store")
        pdg = phase_diagram(model, grid, base=base, n_initial=a.n_initial, seed=a.seed, t_end=a.t_end,
                            census=not a.no_census, store=store, n_workers=a.n_workers, scheduler=a.scheduler,
                            progress=not a.no_progress)
        path = _write_table(pdg.to_frame(), out, "phase_diagram")
        if len(grid) == 2:
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
            plot_n_stable(pdg, axes[0])
            plot_kinds(pdg, axes[1])
            fig.savefig(out / "phase_diagram.png", dpi=130)
            plt.close(fig)
        write_metadata(out, command="phase-diagram", model=model.name, grid=grid, base=model.params(base), seed=pdg.seed,
                       options=pdg.options, store=pdg.path, tables={"phase_diagram.parquet": "phase_diagram"})
        print(pdg.failure_summary())
        print(f"wrote {path} ({pdg.n_computed} computed, {pdg.n_cached} from the store {pdg.path})")
        return 0


@command("quantum", "exact steady states of the master equation (5): Z_A, Z_B, purity (and spin-B Wigner)")
class _Quantum:
    @staticmethod
    def configure(p):
        _add_point_args(p)
        p.add_argument("--S", default="1,2,3", help="spin lengths, e.g. 1,2,3 or 1:6:6")
        p.add_argument("--sweep", metavar="NAME=START:STOP:COUNT", help="sweep one parameter")
        p.add_argument("--wigner", action="store_true", help="also write spin B's Wigner function (one point only)")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--out", default="results/quantum")

    @staticmethod
    def run(a):
        import numpy as np
        import pandas as pd
        from tqdm import tqdm

        from analysis.provenance import write_metadata
        from analysis.report_attractors import exact_table

        model = _model(a.model)
        params = parse_params(a.param, a.config, model)
        S_values = parse_range(a.S)
        if any(S <= 0 or abs(2 * S - round(2 * S)) > 1e-12 for S in S_values):
            raise CLIError(f"expected positive integer or half-integer spin lengths, got {a.S!r}")
        points = [dict(params)]
        if a.sweep:
            if "=" not in a.sweep:
                raise CLIError(f"expected --sweep NAME=START:STOP:COUNT, got {a.sweep!r}")
            k, v = a.sweep.split("=", 1)
            if k not in model.param_names:
                raise CLIError(f"unknown parameter {k!r} in --sweep; expected one of {list(model.param_names)}")
            points = [{**params, k: float(x)} for x in parse_range(v)]
        out = ensure_out_dir(a.out)
        tabs = [exact_table(pt, S_values) for pt in tqdm(points, desc="exact steady states", unit="point",
                                                            disable=a.no_progress)]
        df = pd.concat(tabs, ignore_index=True)
        path = _write_table(df, out, "exact")
        tables = {"exact.parquet": "exact"}
        if a.wigner:
            from analysis.quantum import spin_wigner, steady_state

            rows = []
            th, ph = np.linspace(0, np.pi, 91), np.linspace(0, 2 * np.pi, 181)
            for S in S_values:
                st = steady_state(S, {"g": 1.0, "gamma": 0.5, **points[0]})
                W = spin_wigner(st.reduced("B"), th, ph).W          # (theta, phi), Tilma normalisation
                TH, PH = np.meshgrid(th, ph, indexing="ij")
                rows.append(pd.DataFrame({"S": S, **points[0], "theta": TH.ravel(), "phi": PH.ravel(),
                                          "W": W.ravel()}))
            _write_table(pd.concat(rows, ignore_index=True), out, "wigner")
            tables["wigner.parquet"] = "wigner"
        write_metadata(out, command="quantum", params=params, S=S_values, sweep=a.sweep, tables=tables)
        print(df[[c for c in df.columns if c in ("S", "J", "lam", "ZA", "ZB", "purity", "status")]].to_string(index=False))
        print(f"wrote {path}")
        return 0


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
        p.add_argument("--out", default="results")

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
        p.add_argument("--table", help="a 1-D sweep table (cut report) or 2-D one (sweep report), or its directory")
        p.add_argument("--cut-param", help="the swept parameter of a cut table (default: the one that varies)")
        p.add_argument("--S", default="", help="spin lengths for the exact comparison at a point, e.g. 1,2,3")
        p.add_argument("--n-initial", type=int, default=32)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-branches", action="store_true", help="skip the continuation of the attractors")
        p.add_argument("--out", default="results/report.html", help="HTML file to write")

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
            S_values = parse_range(a.S) if a.S else []
            rep, _ = point_report(params, model=model, n_initial=a.n_initial, seed=a.seed, S_values=S_values,
                                  branches=not a.no_branches)
        rep.write(out)
        print(f"wrote {out}")
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
