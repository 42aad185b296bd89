"""Loading the suite's tables, and the documented schema of every table it writes.

>>> from analysis import load
>>> df, meta = load("results/fig3_cuts/mean_field.parquet")   # doctest: +SKIP
>>> meta["schema"], meta["git_commit"]                          # doctest: +SKIP
>>> schema_frame("phase_diagram")                               # columns, units, meaning

Every parquet table has a ``metadata.json`` beside it (written by
:func:`analysis.provenance.write_metadata`: versions, commit, seeds, options, and for studies a
``tables`` map from file name to schema name). :func:`load` returns the table and that metadata,
with ``meta["schema"]`` naming the entry of :data:`SCHEMAS` that documents the columns.

Units: all rates and parameters (``g``, ``gamma``, ``J``, ``lam``, Lyapunov exponents, ``omega``)
are in units of g (the paper's convention, g = 1); times in 1/g; spin components are normalised
(``X_A = Tr[S_x^A rho] / S``, in [-1, 1]).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pandas as pd

__all__ = ["load", "LoadedTable", "SCHEMAS", "schema_frame", "infer_schema", "describe_columns"]

_P = {"g": ("g", "field (energy unit; g = 1)"), "gamma": ("g", "loss rate of A = gain rate of B"),
      "J": ("g", "LMG nonlinearity"), "lam": ("g", "PT hopping between the spins")}
_STATE = {f"{c}{s}": ("1", f"normalised {c.lower()}-magnetisation of spin {s}, in [-1, 1]")
          for s in "AB" for c in "XYZ"}

#: schema name -> {column (``*`` a wildcard) -> (unit, meaning)}
SCHEMAS: dict[str, dict[str, tuple[str, str]]] = {
    "phase_diagram": {
        "point": ("-", "grid point index (C order over the grid axes)"),
        "i_<axis>": ("-", "index along each grid axis (i_J, i_lam)"),
        **_P,
        "computed": ("bool", "False where adaptive refinement copied the point from a neighbour"),
        "level": ("-", "adaptive refinement level at which the point entered the sweep (0: the coarse grid)"),
        "n_stable_fp": ("count", "equilibria whose tangent eigenvalues all have Re < 0 (find_equilibria); Fig. 2"),
        "n_attractors": ("count", "attracting sets (FP, LC, QP, dissipative CH), stable equilibria no trajectory reached included"),
        "n_fp_attractors": ("count", "of which fixed points"),
        "phase": ("-", "attracting sets with multiplicity, mirror pairs counted together ('FP', '2FP', 'FP+2LC', 'CH'; 'none')"),
        "kinds": ("-", "kind of every set (attracting or not, DIV, -1), largest share first"),
        "basin_fractions": ("-", "share of each set, same order as kinds"),
        "frac_<kind>": ("fraction", "summed share per kind: FP, LC, QP, CH, NEUTRAL, DIV, unclassified"),
        "frac_attracting, frac_neutral, frac_conservative, frac_saddle": ("fraction", "shares of attracting sets, neutral families, conservative chaos, saddles"),
        "frac_undecided, frac_not_trusted": ("fraction", "undecided at the integration cap / integration accuracy not met (label -1)"),
        "att_<state>, att_<state>_err": ("1", "average over attracting sets only (basin-weighted, renormalised), its error"),
        "<state>_err": ("1", "error of the basin-weighted average"),
        "t_integrated_mean, t_integrated_max": ("1/g", "integration time per trajectory (transient + variational)"),
        **{k: (u, "basin-weighted attractor average of " + m.split(",")[0]) for k, (u, m) in _STATE.items()},
        "RA, RB": ("1", "basin-weighted average in-plane length sqrt(X^2 + Y^2) (when the census ran)"),
        "lyap_max": ("g", "largest Lyapunov exponent over the point's attractors (> 0: chaos)"),
        "dominant_kind": ("-", "attractor_map only: the kind with the largest basin fraction"),
        "fragile": ("bool", "the phase rests on evidence near a threshold (analysis.attractors.fragility; NA: not computed)"),
        "fragile_reason": ("-", "why the phase is fragile, every reason with its numbers ('' if not)"),
        "status": ("-", "0 success, 1 partial, -1 failed, -2 chunk lost (see message)"),
        "message": ("-", "what went wrong, or 'success'"),
        "cut": ("-", "Fig. 3 / Fig. 1(b) tables: the cut's letter (a-d)"),
    },
    "census_summary": {
        "point": ("-", "name of the parameter point (finite_size)"),
        **_P,
        "n_<kind>": ("count", "attractors of each kind: n_FP, n_LC, n_QP, n_CH, n_NEUTRAL"),
        "n_attractors": ("count", "all attractors"),
        "fraction_diverged": ("fraction", "initial conditions whose integration failed"),
        "fraction_unclassified": ("fraction", "initial conditions the classifier could not label"),
        "bw_<state>": ("1", "basin-weighted attractor average of a state component (also bw_RA, bw_RB: in-plane length)"),
        "bw_<state>_err": ("1", "its standard error"),
        "status": ("-", "0 success, 1 warning (see message), -1 failed"),
        "message": ("-", "census message"),
    },
    "census_attractors": {
        **_P,
        "label": ("-", "attractor label at this point"),
        "kind": ("-", "FP, LC, QP, CH, NEUTRAL or SADDLE"),
        "attracting": ("bool", "FP, LC, QP, dissipative CH; not neutral families, conservative chaos, saddles"),
        "lyap_err_<k>": ("g", "standard error of lyap_<k> (0 for FP: exact tangent eigenvalues)"),
        "benettin_<k>": ("g", "FP: Benettin estimate of members that were measured (NaN if none)"),
        "t_integrated": ("1/g", "mean integration time per member (transient + variational)"),
        "status": ("-", "census status of the point (0 success, 1 partial, -1 nothing classified)"),
        "mirror_of": ("-", "label:symmetry of the sets a model symmetry maps this one onto"),
        "flavour": ("-", "dissipative / conservative (CH), conservative (NEUTRAL)"),
        "basin_fraction": ("fraction", "fraction of initial conditions reaching it"),
        "basin_fraction_err": ("fraction", "binomial standard error"),
        "n_members": ("count", "initial conditions reaching it"),
        "lyap_<k>": ("g", "Lyapunov spectrum on the tangent space, decreasing"),
        "lyap_sum": ("g", "sum of the spectrum (phase-space contraction)"),
        "period": ("1/g", "period (LC, periodic NEUTRAL), else NaN"),
        **{k: (u, "time average on the attractor") for k, (u, _) in _STATE.items()},
        "RA, RB": ("1", "time average of the in-plane length sqrt(X^2 + Y^2)"),
        "<state>_err": ("1", "standard error of the time average"),
        "confidence": ("[0, 1]", "mean classification confidence"),
        "nolds_lyap": ("g", "nolds Rosenstein estimate (CH only; a cross-check)"),
        "eq_match, eq_distance": ("-", "FP only: matched to a stable equilibrium, and the distance"),
        "branch": ("-", "report only: the continuation branch the attractor belongs to"),
    },
    "ensemble": {
        "point, ic": ("-", "parameter point and initial-condition index"),
        **_P,
        "status, message, n_steps": ("-", "integrator status (0 ok), message, accepted steps"),
        "<state>": ("1", "final state (X, Y, Z for the single LMG spin; XA..ZB for the dimer)"),
        "mean_<state>, std_<state>, min_<state>, max_<state>": ("1", "over the window [t_transient, t_end]"),
        "<state>_0": ("1", "initial state"),
        "cut": ("-", "bifurcation_diagrams: the cut's letter"),
        "regime": ("-", "flagship: name of the representative point"),
    },
    "trajectory_samples": {
        "point, ic": ("-", "parameter point and initial condition"),
        "t": ("1/g", "time"),
        "<state>": ("1", "sampled state (fig2 insets: all six; fig4: XB, YB, ZB)"),
        "J, lam": ("g", "parameters of the point"),
        "label / panel": ("-", "inset letter / figure panel"),
    },
    "branch": {
        "branch_kind": ("-", "equilibrium, cycle, or a codim-2 label (BP, HB)"),
        "cut, branch": ("-", "bifurcation_diagrams: the cut and a branch name (normal, broken, cycles from HB ...)"),
        **_P,
        "<state>": ("1", "equilibrium state; for cycles one point of the orbit"),
        "stable": ("bool", "all tangent eigenvalues Re < 0 / all nontrivial Floquet multipliers inside the unit circle"),
        "n_unstable": ("count", "unstable directions"),
        "arclength": ("-", "pseudo-arclength"),
        "ev<k>_re, ev<k>_im": ("g / 1", "tangent eigenvalues (equilibria) or Floquet multipliers (cycles, ev0 trivial)"),
        "norm_l2, mu_trivial_err, newton_iters": ("1, 1, count", "cycles: L2 norm of the orbit, error of the trivial "
                                                  "Floquet multiplier, Newton iterations"),
        "floquet_status": ("-", "cycles: 0 multipliers trusted, -1 trivial multiplier off 1 beyond floquet_tol (or none computed), "
                                "-2 a radial multiplier on a sphere not inside the unit circle"),
        "kappa, omega, l1, segment": ("-", "codim-2 Hopf curves: omega^2, frequency, first Lyapunov coefficient, HB/NSad"),
        "period, amplitude, min_<state>, max_<state>, mean_<state>": ("1/g, 1", "cycles only"),
        "label": ("-", "special point just after this row: LP, BP, HB, LPC, PD, NS, BPC"),
        "branch_status": ("-", "0 ended where asked; negative: see the continuation's message"),
    },
    "special_points": {
        "cut, branch": ("-", "where it was found"),
        "kind": ("-", "LP, BP, HB (equilibria); LPC, PD, NS, BPC (cycles); BT, GH, ZH, HH (codim 2)"),
        "located": ("bool", "located by bisection (True) or only bracketed"),
        **_P,
        "<state>": ("1", "state at the point"),
        "omega, l1, criticality": ("g, -, -", "Hopf frequency, first Lyapunov coefficient, sub/supercritical"),
        "param, param_name": ("g, -", "value and name of the continuation parameter at the point"),
        "index, sigma": ("-", "row of the branch just before the point, arclength offset from it"),
        "precision, bracket_lo, bracket_hi": ("g", "width of the final bracket, its ends"),
        "test, also_crossing": ("-", "test function that fired; other crossings in the same step"),
        "period, amplitude, ncol": ("1/g, 1, -", "cycle points: period, amplitude, collocation degree"),
        "nf_coefficient, b, c, d, nf_d_imag": ("g", "cycle points: normal-form coefficient (LPC b, PD c, NS d = Re d; "
                                                    "Im d) of bifurcate.cycles.normal_forms; PD / NS: < 0 supercritical"),
        "nf_status, nf_message, nf_method": ("-", "normal form: status (0 success), message, symbolic or finite differences"),
    },
    "boundaries": {
        "curve": ("-", "BP normal (Eq. 12 exactly), HB normal (Eq. 13 to lowest order), HB broken +/- (LMG phases)"),
        "segment": ("-", "HB or NSad (neutral saddle, not a Hopf point) on Hopf curves; BP on BP curves"),
        "J, lam": ("g", "the curve"),
        "omega": ("g", "Hopf frequency"),
        "l1": ("g", "first Lyapunov coefficient (> 0: subcritical)"),
        "bounds_normal": ("bool", "the row bounds the normal phase (below the Bogdanov-Takens point)"),
    },
    "exact": {
        "cut / point": ("-", "the cut's letter (Fig. 3) or point name (finite_size)"),
        "S": ("hbar", "spin length of each collective spin"),
        **_P,
        "ZA, ZB": ("1", "Tr[S_z rho] / S of the exact steady state of Eq. (5)"),
        "purity": ("1", "Tr rho^2 (1 pure ... 1/(2S+1)^2 maximally mixed)"),
        "residual": ("-", "||L rho|| of the solution"),
        "method": ("-", "solver used"),
        "wall_time": ("s", "solve time"),
        "cpu_time": ("s", "CPU time of the solve (all threads; the wall time also measures the machine's load)"),
        "error_estimate": ("1", "the solver's certified relative error ||rho - rho_exact||_F / ||rho||_F"),
        "ZB_err": ("1", "bound on |Z_B - Z_B exact| from error_estimate (Cauchy-Schwarz)"),
        "matvecs": ("count", "Liouvillian products of the Krylov solve (0 for the LU)"),
        "status, message": ("-", "0 certified, 1 solved and validated but the error not certified (message says why), -1 failed"),
    },
    "wigner": {
        "panel, phase": ("-", "Fig. 4 panel and phase name"),
        "S": ("hbar", "spin length"),
        "J, lam": ("g", "parameters"),
        "theta, phi": ("rad", "polar angle from +z, azimuth from +x"),
        "W": ("1", "spin-B Wigner function (sqrt((2S+1)/(4 pi)) * integral W dOmega = 1)"),
    },
}


class LoadedTable(NamedTuple):
    """``df, meta = load(path)``: the table and the provenance beside it (``meta["schema"]``)."""

    frame: pd.DataFrame
    metadata: dict


# attractors tracked along a path (TrackingResult.to_frame) and the mean field from them
# (TrackingResult.averages); Fig. 3's tables, with ``cut``
SCHEMAS["tracked_attractors"] = {
    **{k: v for k, v in SCHEMAS["census_attractors"].items() if k not in ("branch", "basin_fraction")},
    "cut": ("-", "Fig. 3: the cut's letter (a-d)"),
    "attractor_id": ("-", "ID of the set, stable along the path (seed lineage; mirror images kept distinct)"),
    "basin_fraction": ("fraction", "share of the fresh (uniform) initial conditions reaching it (seeds excluded)"),
    "seeded": ("bool", "a seed carried from the previous value landed in it"),
    "census_period": ("1/g", "the census's return period (LC; may count two turns)"),
    "period_gap": ("-", "relative distance of the first close return (least-period refinement)"),
    "cycle_branch, branch_period, period_mismatch, branch_stable, branch_amplitude, branch_max_multiplier, cycle_match":
        ("-", "LC only: the continued cycle branch it is tied to (empty / NaN when branches were not continued)"),
}
SCHEMAS["tracked_mean_field"] = {
    **_P,
    "cut": ("-", "Fig. 3: the cut's letter (a-d)"),
    "phase": ("-", "the census phase at the value (attracting sets with multiplicity; 'none')"),
    "n_attracting": ("count", "attracting sets at the value (seeded ones included)"),
    "n_fresh, n_seeded": ("count", "fresh uniform initial conditions / seeds carried from the previous value"),
    "attracting_share": ("fraction", "fresh initial conditions in attracting sets"),
    "attracting_ids": ("-", "attractor_id of every attracting set, sorted, comma-separated (the tracked regime)"),
    "att_<state>, att_<state>_err": ("1", "average over the attracting sets, weighted by their fresh basins, and its error"),
    **{k: (u, "average over every classified set (fresh basins) of " + m.split(",")[0]) for k, (u, m) in _STATE.items()},
    "RA, RB": ("1", "same average of the in-plane length sqrt(X^2 + Y^2)"),
    "<state>_err": ("1", "error of that average (basin sampling and the sets' own errors)"),
    "fragile, fragile_reason": ("-", "the census's phase at the value rests on evidence near a threshold "
                                     "(analysis.attractors.fragility), and why"),
    "status": ("-", "census status at the value (0 success, 1 partial)"),
}

# a census summary row is the phase-diagram row of that point plus the census's own counts
SCHEMAS["census_summary"] = {**{k: v for k, v in SCHEMAS["phase_diagram"].items()
                                if k not in ("point", "i_<axis>", "computed", "level", "dominant_kind", "cut")},
                             **SCHEMAS["census_summary"]}

def infer_schema(df: pd.DataFrame) -> str | None:
    """Best-matching schema name from the columns (when the metadata does not name one)."""
    cols = set(df.columns)
    rules = [("wigner", {"theta", "phi", "W"}), ("exact", {"S", "ZB", "purity"}),
             # a census summary carries the phase-diagram row plus fraction_diverged: test it first
             ("census_summary", {"n_attractors", "fraction_diverged"}), ("phase_diagram", {"n_stable_fp", "phase"}),
             ("census_attractors", {"kind", "basin_fraction"}), ("boundaries", {"curve", "bounds_normal"}),
             ("branch", {"branch_kind", "stable"}), ("special_points", {"kind", "located"}),
             ("trajectory_samples", {"t", "ic"}), ("ensemble", {"ic", "n_steps"})]
    for name, need in rules:
        if need <= cols:
            return name
    return None


def schema_frame(name: str) -> pd.DataFrame:
    """The documented columns of a schema: ``column``, ``unit``, ``meaning``."""
    if name not in SCHEMAS:
        raise KeyError(f"unknown schema {name!r}; expected one of {sorted(SCHEMAS)}")
    return pd.DataFrame([(c, u, m) for c, (u, m) in SCHEMAS[name].items()], columns=["column", "unit", "meaning"])


def describe_columns(df: pd.DataFrame, schema: str | None = None) -> pd.DataFrame:
    """For each column of ``df``: its unit and meaning from the schema (wildcards resolved)."""
    import fnmatch

    name = schema or infer_schema(df)
    spec = SCHEMAS.get(name, {})
    pats = []
    for key, val in spec.items():
        for part in key.split(","):
            part = part.strip().replace("<kind>", "*").replace("<axis>", "*").replace("<k>", "[0-9]*")
            for p in part.split(" / "):
                p = p.strip()
                # a state name is one of X, Y, Z (single spin) or XA ... ZB, RA, RB (dimer)
                for q in ([p.replace("<state>", "[XYZR]"), p.replace("<state>", "[XYZR][AB]")]
                          if "<state>" in p else [p]):
                    pats.append((q, val))
    rows = []
    for c in df.columns:
        hit = next((v for p, v in pats if p == c), None) or next((v for p, v in pats if fnmatch.fnmatch(c, p)),
                                                                   ("?", "not documented"))
        rows.append((c, hit[0], hit[1]))
    return pd.DataFrame(rows, columns=["column", "unit", "meaning"])


def _read_meta(path: Path) -> dict:
    for cand in (path.with_name(path.name + ".metadata.json"), path.parent / "metadata.json"):
        if cand.is_file():
            try:
                return json.loads(cand.read_text())
            except (OSError, json.JSONDecodeError):
                return {}
    return {}


def load(path: str | Path) -> LoadedTable:
    """Load a table the suite wrote, with its metadata.

    Parameters
    ----------
    path : str or Path
        * a ``.parquet`` file (its ``metadata.json`` is the sibling ``<file>.metadata.json`` or
          the directory's ``metadata.json``);
        * a study directory (``results/fig3_cuts``): its main table (``outputs["table"]``);
        * a sweep directory of the result store (``table.parquet`` or, for an unfinished sweep, the
          union of its ``parts/``).

    Returns
    -------
    LoadedTable
        ``(frame, metadata)``; ``metadata["schema"]`` names the entry of :data:`SCHEMAS`
        (see :func:`schema_frame`), ``metadata["path"]`` the file read.

    Raises
    ------
    FileNotFoundError
        If nothing loadable is at ``path``.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"expected a parquet file or a results directory, got {str(p)!r} (does not exist)")
    if p.is_dir():
        meta_path = p / "metadata.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        if (p / "table.parquet").is_file():
            f = p / "table.parquet"
        elif (p / "parts").is_dir() and list((p / "parts").glob("*.parquet")):
            parts = sorted((p / "parts").glob("*.parquet"))
            df = pd.concat([pd.read_parquet(x) for x in parts], ignore_index=True)
            if "point" in df:
                df = df.sort_values("point").drop_duplicates("point", keep="last").reset_index(drop=True)
            meta = dict(meta, path=str(p / "parts"), schema=infer_schema(df), complete=False)
            return LoadedTable(df, meta)
        elif "outputs" in meta and "table" in meta["outputs"]:
            f = p / meta["outputs"]["table"]
        else:
            cands = sorted(p.glob("*.parquet"))
            if not cands:
                raise FileNotFoundError(f"no parquet table in directory {str(p)!r}")
            f = cands[0]
        p = f
    if p.suffix != ".parquet":
        raise ValueError(f"expected a .parquet file, got {str(p)!r}")
    df = pd.read_parquet(p)
    meta = _read_meta(p)
    schema = (meta.get("tables") or {}).get(p.name) or infer_schema(df)
    meta = dict(meta, path=str(p), schema=schema)
    return LoadedTable(df, meta)
