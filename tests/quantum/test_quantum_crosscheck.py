"""Cuts through (J, lam), the mean-field join, finite-size trends; analysis.quantum uses only the quantum engine."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.quantum.crosscheck import PAPER_CUTS, cut, finite_size_trend, merge_meanfield, pt_normal_deficit


def test_cut_over_lam_at_J0_with_meanfield_join():
    lams = np.linspace(0.0, 1.0, 6)
    mf = pd.DataFrame({"J": 0.0, "lam": lams, "ZB": np.where(lams < 0.5, 1.0, 0.0)})
    df = cut([1, 2, 3], lam=lams, params={"J": 0.0}, meanfield=mf)
    assert len(df) == 18 and (df["status"] == "ok").all()
    assert {"S", "g", "gamma", "J", "lam", "ZA", "ZB", "purity", "ZB_mf", "dZB", "residual"} <= set(df.columns)
    np.testing.assert_allclose(df["dZB"], df["ZB"] - df["ZB_mf"])
    first = df[(df["S"] == 3) & (df["lam"] == 0.0)].iloc[0]
    assert first["ZB"] == pytest.approx(1.0) and first["purity"] == pytest.approx(1.0)
    # the finite-S curve approaches mean field away from the transition
    far = df[df["lam"] == 1.0].sort_values("S")
    assert np.all(np.diff(np.abs(far["dZB"].to_numpy())) < 0)


def test_cut_over_J_records_failures_without_dying():
    df = cut([2], J=[0.5, 1.5], params={"lam": 0.5}, options={"max_residual": 1e-300})
    assert list(df["status"]) == ["error", "error"]
    assert df["ZB"].isna().all() and df["message"].str.contains("failed validation").all()


def test_cut_bad_input():
    with pytest.raises(ValueError, match="expected exactly one of J or lam"):
        cut([1], J=[0.0], lam=[0.0])
    with pytest.raises(ValueError, match="expected S a positive"):
        cut([0.3], J=[0.0])
    with pytest.raises(KeyError, match="'lamda'"):
        cut([1], J=[0.0], params={"lamda": 0.1})


def test_merge_meanfield_checks():
    exact = pd.DataFrame({"S": [1.0], "g": [1.0], "gamma": [0.5], "J": [0.1], "lam": [0.2], "ZB": [0.9]})
    out = merge_meanfield(exact, pd.DataFrame({"J": [0.1 + 1e-13], "lam": [0.2], "ZB": [1.0]}))
    assert out["ZB_mf"].iloc[0] == 1.0 and out["dZB"].iloc[0] == pytest.approx(-0.1)
    with pytest.raises(KeyError, match="expected meanfield columns 'J' and 'lam'"):
        merge_meanfield(exact, pd.DataFrame({"J": [0.1], "ZB": [1.0]}))
    with pytest.raises(ValueError, match="duplicates"):
        merge_meanfield(exact, pd.DataFrame({"J": [0.1, 0.1], "lam": [0.2, 0.2], "ZB": [1.0, 0.5]}))
    with pytest.raises(TypeError, match="expected meanfield a pandas DataFrame"):
        merge_meanfield(exact, {"J": 0.1})


def test_finite_size_trend_on_synthetic_data():
    S = np.array([2.0, 4.0, 8.0, 16.0])
    good = pd.DataFrame({"S": S, "J": 0.0, "lam": 0.1, "ZB": 0.7 + 0.3 / S - 0.1 / S ** 2, "ZB_mf": 0.7,
                         "status": "ok"})
    wiggly = pd.DataFrame({"S": S, "J": 1.0, "lam": 0.1, "ZB": [0.5, 0.6, 0.55, 0.62], "ZB_mf": 0.7,
                           "status": "ok"})
    out = finite_size_trend(pd.concat([good, wiggly]), "ZB", reference="ZB_mf").set_index("J")
    assert out.loc[0.0, "extrapolated"] == pytest.approx(0.7, abs=1e-10)
    assert bool(out.loc[0.0, "meaningful"]) and bool(out.loc[0.0, "distance_decreasing"])
    assert not bool(out.loc[1.0, "meaningful"]) and out.loc[1.0, "note"] == "non-monotone in S"
    with pytest.raises(KeyError, match="expected columns"):
        finite_size_trend(good.drop(columns="lam"))


def test_pt_normal_deficit_and_paper_cuts():
    df = pt_normal_deficit([4, 8], 0.25)
    assert (df["rel_error"] < 2e-3).all() and df["rel_error"].iloc[1] < df["rel_error"].iloc[0]
    with pytest.raises(ValueError, match="expected 0 <= lam < gamma"):
        pt_normal_deficit([4], 0.6)
    assert set(PAPER_CUTS) == {"a", "b", "c", "d"}


def test_quantum_package_uses_only_the_quantum_engine():
    # issue 13 moved the exact engine to bifurcate.quantum: analysis.quantum may import it (and what it
    # imports) but nothing else of bifurcate (the mean field comes in as tables), and the engine must
    # never import analysis (imports flow analysis -> bifurcate)
    code = ("import sys, bifurcate.quantum; before = set(sys.modules); "
            "bad = [m for m in sys.modules if m == 'analysis' or m.startswith('analysis.')]; "
            "assert not bad, bad; "
            "import analysis.quantum, analysis.quantum.crosscheck; "
            "new = [m for m in set(sys.modules) - before if m.startswith('bifurcate')]; "
            "assert not new, new")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
