"""The flagship study: the LMG dimer's dynamics at the paper's representative points.

This is the main job (``make study``). It grows with the suite: today it integrates ensembles of
initial conditions at the four regimes of the paper's Fig. 2 (normal, LMG, PT, chaotic), writes
the tidy table (parquet), the X_B-Y_B trajectory figure (PNG and PDF), ``metadata.json`` and a
short report.

Run: ``python -m studies.flagship --out results [--quick]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.provenance import write_metadata  # noqa: E402
from bifurcate import integrate_ensemble  # noqa: E402
from bifurcate.models import LMG_DIMER  # noqa: E402

#: the regimes of Fig. 2 (gamma = 0.5 g)
POINTS = {
    "normal (J=0, lam=0.3)": {"J": 0.0, "lam": 0.3},
    "LMG (J=1.5, lam=0)": {"J": 1.5, "lam": 0.0},
    "PT (J=0, lam=0.7)": {"J": 0.0, "lam": 0.7},
    "chaotic (J=1.5, lam=1.0)": {"J": 1.5, "lam": 1.0},
}


def main(out_dir: str | Path = "results", *, quick: bool = False, seed: int = 2025) -> dict:
    """Run the study; returns a dict of the paths written."""
    out = Path(out_dir) / "flagship"
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    n_initial = 6 if quick else 24
    t_end = 200.0 if quick else 2000.0
    params = {"J": [p["J"] for p in POINTS.values()], "lam": [p["lam"] for p in POINTS.values()]}
    t_eval = np.linspace(t_end - 40.0, t_end, 800)
    ens = integrate_ensemble(LMG_DIMER, params, n_initial=n_initial, seed=seed, t_end=t_end, t_eval=t_eval)
    table = ens.to_frame()
    table.insert(0, "regime", np.repeat(list(POINTS), n_initial))
    paths = {"table": out / "ensemble.parquet"}
    table.to_parquet(paths["table"])

    fig, axes = plt.subplots(1, len(POINTS), figsize=(4 * len(POINTS), 4), constrained_layout=True)
    for k, (name, ax) in enumerate(zip(POINTS, axes)):
        for i in range(n_initial):
            s = ens.samples[k, i]
            ax.plot(s[:, 3], s[:, 4], lw=0.8)
            ax.plot(s[-1, 3], s[-1, 4], "o", ms=3, color="k")
        ax.set(title=name, xlabel="$X_B$", ylabel="$Y_B$", xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), aspect="equal")
    for ext in ("png", "pdf"):
        paths[f"figure_{ext}"] = out / f"trajectories_XB_YB.{ext}"
        fig.savefig(paths[f"figure_{ext}"], dpi=130)
    plt.close(fig)

    summary = table.groupby("regime", sort=False)[["mean_ZA", "mean_ZB", "std_ZB"]].mean()
    lines = ["# Flagship study: LMG dimer (quick)" if quick else "# Flagship study: LMG dimer", "",
             f"{n_initial} initial conditions per point, uniform on S^2 x S^2 (seed {seed}); "
             f"t in [0, {t_end:g}], averages over [{ens.t_transient:g}, {t_end:g}].", "",
             "| regime | <ZA> | <ZB> | std ZB |", "|---|---|---|---|"]
    lines += [f"| {r} | {v.mean_ZA:.4f} | {v.mean_ZB:.4f} | {v.std_ZB:.4f} |" for r, v in summary.iterrows()]
    lines += ["", f"Failures: {(table.status != 0).sum()} of {len(table)} trajectories.",
              f"Wall time: {time.perf_counter() - t_start:.1f} s.", "",
              "![trajectories](trajectories_XB_YB.png)"]
    paths["report"] = out / "report.md"
    paths["report"].write_text("\n".join(lines) + "\n")
    write_metadata(out, study="flagship", quick=quick, seed=seed, n_initial=n_initial, t_end=t_end,
                   points=POINTS, model=LMG_DIMER.name, defaults=dict(LMG_DIMER.defaults),
                   options=ens.options, outputs={k: str(v) for k, v in paths.items()})
    return paths


def cli(argv=None):
    ap = argparse.ArgumentParser(description="Flagship study of the LMG dimer")
    ap.add_argument("--out", default="results")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=2025)
    a = ap.parse_args(argv)
    paths = main(a.out, quick=a.quick, seed=a.seed)
    for k, v in paths.items():
        print(f"{k:>12}: {v}")


if __name__ == "__main__":
    cli()
