"""The CLI's analysis commands: small real runs, TOML configs, results in the store, clear errors."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main


def test_continue_normal_state_with_switching(tmp_path, capsys):
    assert main(["continue", "--param", "lam=0.1", "--free", "J", "--range=-2:2", "--switch",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "BP" in out
    br = pd.read_parquet(tmp_path / "branches.parquet")
    sp = pd.read_parquet(tmp_path / "special_points.parquet")
    from analysis.plots_phase import eq12_Jc

    bps = np.sort(np.abs(sp[sp.kind == "BP"].J.astype(float).unique()))
    assert np.allclose(bps, eq12_Jc(0.1), atol=1e-4)
    assert br.branch.str.startswith("switched").any()
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["command"] == "continue" and meta["tables"]["branches.parquet"] == "branch"


def test_census_command(tmp_path, capsys):
    assert main(["census", "--param", "J=1.5", "--param", "lam=0", "--n-initial", "6", "--t-total", "60",
                 "--t-transient", "100", "--out", str(tmp_path)]) == 0
    att = pd.read_parquet(tmp_path / "attractors.parquet")
    assert list(att.kind) == ["FP", "FP"] and np.isclose(att.basin_fraction.sum(), 1.0)
    assert "FP" in capsys.readouterr().out


def test_phase_diagram_from_toml_uses_the_store(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[params]\ngamma = 0.5\n\n[grid]\nJ = "-1.5:1.5:4"\nlam = "0:1.2:3"\n')
    argv = ["phase-diagram", "--config", str(cfg), "--n-initial", "3", "--no-census", "--no-progress",
            "--out", str(tmp_path / "pd")]
    assert main(argv) == 0
    df = pd.read_parquet(tmp_path / "pd" / "phase_diagram.parquet")
    assert len(df) == 12 and set(df.J.round(6)) == {-1.5, -0.5, 0.5, 1.5}
    assert df.loc[(df.J == 0.5) & (df.lam == 0), "n_stable_fp"].item() == 1
    assert (tmp_path / "pd" / "phase_diagram.png").exists()
    capsys.readouterr()
    assert main(argv) == 0                       # the second run reads the store
    assert "0 computed, 12 from the store" in capsys.readouterr().out


def test_quantum_command(tmp_path):
    assert main(["quantum", "--param", "J=0", "--sweep", "lam=0:1:3", "--S", "1,2", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    ex = pd.read_parquet(tmp_path / "exact.parquet")
    assert len(ex) == 6 and np.allclose(ex[ex.lam == 0].ZB, 1.0) and ex.purity.between(0, 1 + 1e-12).all()


def test_study_command(tmp_path, capsys):
    assert main(["study", "fig1d", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fig1d_lmg" / "fig1d_lmg.png").exists()
    assert "figure_png" in capsys.readouterr().out


def test_report_command_point_and_table(tmp_path):
    assert main(["report", "--param", "J=0", "--param", "lam=0.2", "--n-initial", "4", "--no-branches",
                 "--S", "1", "--out", str(tmp_path / "point.html")]) == 0
    html = (tmp_path / "point.html").read_text()
    assert "<img" in html and "Exact quantum comparison" in html
    pd.DataFrame({"J": 0.0, "lam": [0.0, 0.5, 1.0], "phase": ["FP", "LC", "NEUTRAL"], "ZB": [1.0, 0.5, 0.0]}).to_parquet(
        tmp_path / "cut.parquet")
    assert main(["report", "--table", str(tmp_path / "cut.parquet"), "--out", str(tmp_path / "cut.html")]) == 0
    assert "NEUTRAL" in (tmp_path / "cut.html").read_text()


@pytest.mark.parametrize("argv, msg", [
    (["census", "--param", "mu=1"], "unknown parameter"),
    (["phase-diagram", "--grid", "J=1:0:5"], "empty or decreasing range"),
    (["phase-diagram", "--grid", "J=0:1:0"], "at least one point"),
    (["phase-diagram", "--grid", "Jx=0:1:3"], "unknown parameter"),
    (["phase-diagram"], "at least one --grid"),
    (["continue", "--range=1:1"], "empty range"),
    (["continue", "--free", "mu"], "unknown parameter"),
    (["quantum", "--S", "0.3"], "half-integer"),
    (["quantum", "--param", "J=1", "--out", "/proc/forbidden/x"], "not writable"),
    (["census", "--out", "/proc/forbidden/x"], "not writable"),
    (["study", "fig9"], "unknown study"),
    (["report", "--out", "x.txt"], ".html"),
    (["report", "--table", "/nonexistent/t.parquet"], "does not exist"),
    (["phase-diagram", "--config", "/nonexistent.toml", "--grid", "J=0:1:2"], "does not exist"),
])
def test_errors(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert msg in capsys.readouterr().err
