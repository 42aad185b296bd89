"""Issue 12's remaining checks on the quick flagship run (shared with tests/test_studies.py): the
finite-size study's mean field has an error bar at every point, and the fragility flag reaches the
tidy tables (the attractor map's sweep and Fig. 3's mean field) consistent with its reasons."""
from __future__ import annotations

import numpy as np
import pytest

from analysis import load
from tests._flagship_run import flagship_quick


@pytest.fixture(scope="module")
def run():
    return flagship_quick()


def _dir(run, name):
    out, res = run
    assert res["studies"][name]["status"] == "ok", res["studies"][name].get("error")
    return out / name


def test_finite_size_mean_field_has_an_error_bar_everywhere(run):
    from studies.common import mean_field_values

    mf, _ = load(_dir(run, "finite_size") / "mean_field.parquet")
    v, err, _ = mean_field_values(mf, "ZB", prefix="bw_")
    assert len(mf) >= 3 and np.isfinite(v).all() and np.isfinite(err).all() and (err >= 0).all()
    # the chaotic point's average has a real spread, not a zero error
    ch = mf["point"].str.startswith("chaotic").to_numpy()
    assert ch.any() and (err[ch] > 1e-4).all()


@pytest.mark.parametrize("study, table", [("attractor_map", "attractor_map.parquet"),
                                          ("fig3_cuts", "mean_field.parquet")])
def test_fragile_flag_in_the_tidy_tables(run, study, table):
    df, meta = load(_dir(run, study) / table)
    assert {"fragile", "fragile_reason"} <= set(df.columns)
    f = df["fragile"].astype("boolean")
    assert f.notna().all()
    # a reason exactly where flagged; every reason one of the documented ones
    assert (df["fragile_reason"].str.len() > 0).to_numpy().tolist() == f.to_numpy(bool).tolist()
    known = ("one initial condition", "undecided", "pooled only", "exponent near the band",
             "sum near the flavour threshold")
    for r in df.loc[f.to_numpy(bool), "fragile_reason"]:
        assert all(part.split(":")[0] in known for part in r.split("; ")), r
