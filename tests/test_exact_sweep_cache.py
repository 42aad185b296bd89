"""The exact sweeps of the figure studies resume from their row cache: rows solved before are reused (no solve),
new ones are written as they come, failed rows are recomputed, a corrupt cache is moved aside and recomputed, and
a run killed while writing leaves the previous cache whole (temporary file and atomic rename)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import studies.common as common
from studies.common import RowCache, exact_sweep

POINTS = [{"J": 0.5, "lam": 0.3}, {"J": 1.5, "lam": 0.0}]


def test_a_second_sweep_reads_every_row_from_the_cache_and_solves_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache_exact.parquet"
    first = exact_sweep(POINTS, [1, 2], cache=cache)
    assert cache.exists() and len(pd.read_parquet(cache)) == 4
    assert (first["status"] >= 0).all()

    def no_solve(S, pt):  # a solve now would mean the cache was not used
        raise AssertionError(f"solved again: S={S}, {pt}")

    monkeypatch.setattr(common, "exact_steady_state", no_solve)
    again = exact_sweep(POINTS, [1, 2], cache=cache)
    cols = ["S", "J", "lam", "ZA", "ZB", "purity", "status"]
    pd.testing.assert_frame_equal(first[cols].reset_index(drop=True), again[cols].reset_index(drop=True))
    # without the cache the same call solves (and here fails, recorded, never fatal)
    fresh = exact_sweep(POINTS[:1], [1])
    assert fresh["status"].tolist() == [-1] and "solved again" in fresh["message"].iloc[0]


def test_an_interrupted_sweep_goes_on_where_it_stopped_and_failed_rows_are_recomputed(tmp_path, monkeypatch):
    cache = tmp_path / "cache_exact.parquet"
    real = common.exact_steady_state
    calls = []

    def dies_at_the_third(S, pt):
        calls.append((S, pt["J"]))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run is stopped here
        return real(S, pt)

    monkeypatch.setattr(common, "exact_steady_state", dies_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        exact_sweep(POINTS, [1, 2], cache=cache)
    assert len(pd.read_parquet(cache)) == 2            # the two rows solved before the stop are kept

    calls.clear()

    def fails_once(S, pt):
        calls.append((S, pt["J"]))
        if len(calls) == 1:
            raise RuntimeError("solver failure")
        return real(S, pt)

    monkeypatch.setattr(common, "exact_steady_state", fails_once)
    out = exact_sweep(POINTS, [1, 2], cache=cache)
    assert len(calls) == 2                              # only the two rows not in the cache were solved
    assert sorted(out["status"].tolist())[0] == -1     # the failure is recorded ...
    monkeypatch.setattr(common, "exact_steady_state", real)
    calls.clear()
    out = exact_sweep(POINTS, [1, 2], cache=cache)      # ... and recomputed by the next run
    assert (out["status"] >= 0).all()
    ref = exact_sweep(POINTS, [1, 2])
    assert np.allclose(out.sort_values(["S", "J"])["ZB"], ref.sort_values(["S", "J"])["ZB"], atol=1e-12)


def test_a_corrupt_cache_is_moved_aside_and_its_rows_recomputed(tmp_path):
    cache = tmp_path / "cache_exact.parquet"
    cache.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.warns(RuntimeWarning, match="could not be used"):
        out = exact_sweep(POINTS[:1], [1], cache=cache)
    assert (out["status"] >= 0).all()
    assert (tmp_path / "cache_exact.parquet.corrupt").read_bytes().startswith(b"PAR1 this")
    assert len(pd.read_parquet(cache)) == 1


def test_a_readable_cache_without_the_key_columns_is_moved_aside_and_recomputed(tmp_path):
    cache = tmp_path / "cache_exact.parquet"
    pd.DataFrame({"S": [1.0], "ZB": [0.3], "status": [0]}).to_parquet(cache)  # another table: no J, lam, g, gamma
    with pytest.warns(RuntimeWarning, match=r"could not be used \(KeyError: .*no key column"):
        out = exact_sweep(POINTS[:1], [1], cache=cache)
    assert (out["status"] >= 0).all() and out["ZB"].iloc[0] != 0.3
    assert list(pd.read_parquet(tmp_path / "cache_exact.parquet.corrupt").columns) == ["S", "ZB", "status"]
    assert len(pd.read_parquet(cache)) == 1


def test_a_failed_row_carries_the_point_and_the_defaults_it_was_solved_at(tmp_path, monkeypatch):
    from bifurcate.models import LMG_DIMER

    def fails(S, pt):
        raise RuntimeError("solver failure")

    monkeypatch.setattr(common, "exact_steady_state", fails)
    out = exact_sweep([{"lam": 0.3, "gamma": 0.7}], [2], cache=tmp_path / "c.parquet")
    row = out.iloc[0]
    assert row["status"] == -1 and "solver failure" in row["message"]
    assert row["lam"] == 0.3 and row["gamma"] == 0.7                      # the point wins over the defaults
    assert row["J"] == LMG_DIMER.defaults["J"] and row["g"] == LMG_DIMER.defaults["g"]


def test_a_write_that_dies_leaves_the_previous_cache_whole(tmp_path, monkeypatch):
    path = tmp_path / "c.parquet"
    store = RowCache(path, ("S", "J"))
    store.put({"S": 1.0, "J": 0.5, "status": 0, "ZB": 0.25})

    def dies(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dies)
    with pytest.raises(KeyboardInterrupt):
        store.put({"S": 2.0, "J": 0.5, "status": 0, "ZB": 0.5})
    monkeypatch.undo()
    back = RowCache(path, ("S", "J"))
    assert len(back.rows) == 1 and back.get({"S": 1.0, "J": 0.5})["ZB"] == 0.25
    assert back.get({"S": 2.0, "J": 0.5}) is None
