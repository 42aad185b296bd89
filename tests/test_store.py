"""The resumable store: keys, metadata, caching, failures recorded, and a real SIGKILL mid-sweep."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import phase_diagrams as pdmod
from analysis.phase_diagrams import evaluate_chunk, phase_diagram
from analysis.store import ResultStore, input_key

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(t_end=100.0, census=False, progress=False)
GRID = {"J": np.linspace(-1.2, 1.2, 6), "lam": np.array([0.1, 0.3, 0.9, 1.2])}


def slow_evaluate(model, chunk, options):
    """evaluate_chunk, slowed down so that a sweep can be killed in the middle of it."""
    time.sleep(0.4)
    return evaluate_chunk(model, chunk, options)


def test_input_key_is_stable_and_sensitive():
    a = {"grid": [0.1, 0.2], "seed": 1}
    assert input_key(a) == input_key({"seed": 1, "grid": [0.1, 0.2]})
    assert input_key(a) != input_key({"grid": [0.1, 0.2], "seed": 2})
    assert input_key(a) != input_key({"grid": [0.1, 0.2000001], "seed": 1})


def test_repeated_call_returns_cached_table_with_metadata(lmg_dimer, tmp_path):
    first = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    assert first.n_computed == 24 and first.n_cached == 0
    again = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    assert again.n_computed == 0 and again.n_cached == 24 and again.key == first.key
    pd.testing.assert_frame_equal(first.to_frame(), again.to_frame())
    sweep = Path(first.path)
    meta = json.loads((sweep / "metadata.json").read_text())
    assert meta["complete"] is True and meta["key"] == first.key
    for k in ("version", "git_commit", "seeds", "options", "model_params", "inputs"):
        assert k in meta
    assert meta["seeds"]["entropy"] == 5 and meta["model_params"]["gamma"] == 0.5
    assert (sweep / "table.parquet").exists() and not list((sweep / "parts").glob("*"))
    # different inputs, different directory
    other = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=6, store=tmp_path, **FAST)
    assert other.key != first.key and other.n_computed == 24
    assert sorted(ResultStore(tmp_path).keys()) == sorted([first.key, other.key])


def test_one_failing_point_is_a_row_not_an_exception(lmg_dimer, tmp_path, monkeypatch):
    real = pdmod._find_equilibria()

    def flaky(model, params):
        if abs(params["J"] - GRID["J"][2]) < 1e-12 and params["lam"] == 0.3:
            raise FloatingPointError("synthetic failure")
        return real(model, params=params)

    monkeypatch.setattr(pdmod, "_find_equilibria", lambda: flaky)
    res = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    df = res.to_frame()
    bad = df[df["status"] != 0]
    assert len(bad) == 1 and bad["status"].iloc[0] == -1
    assert "synthetic failure" in bad["message"].iloc[0]
    assert res.status == 1 and "1 of 24" in res.failure_summary()
    # the failure is stored like any finished point: the rerun returns it without recomputing
    monkeypatch.undo()
    again = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    assert again.n_computed == 0
    pd.testing.assert_frame_equal(df, again.to_frame())


def test_sigkill_mid_sweep_then_resume(lmg_dimer, tmp_path):
    """Kill the driving process for real (SIGKILL) after some chunks are stored; rerun completes
    with no finished point recomputed and none lost, and equals an uninterrupted sweep."""
    script = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from analysis.phase_diagrams import phase_diagram
        from bifurcate.models import LMG_DIMER
        from tests.test_store import slow_evaluate, GRID, FAST
        phase_diagram(LMG_DIMER, GRID, n_initial=2, seed=9, store={str(tmp_path)!r}, chunk_size=2,
                      evaluate=slow_evaluate, **FAST)
    """)
    err = tmp_path.parent / f"{tmp_path.name}-stderr.txt"
    with open(err, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=fh)
    deadline = time.monotonic() + 60
    parts: list[Path] = []
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            parts = list(tmp_path.glob("*/parts/part-*.parquet"))
            if len(parts) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, err.read_text()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    sweep_dir = next(tmp_path.iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in (sweep_dir / "parts").glob("part-*.parquet")}
    done = set(pd.concat([pd.read_parquet(sweep_dir / "parts" / n) for n in before])["point"])
    assert 0 < len(done) < 24

    res = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=9, store=tmp_path, chunk_size=2, evaluate=slow_evaluate,
                        **FAST)
    assert res.n_cached == len(done)
    assert res.computed_points == frozenset(range(24)) - done  # nothing recomputed, nothing lost
    assert Path(res.path) == sweep_dir and json.loads((sweep_dir / "metadata.json").read_text())["complete"]
    reference = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=9, **FAST)
    pd.testing.assert_frame_equal(res.to_frame(), reference.to_frame())


def test_a_changed_census_default_does_not_reuse_the_store(lmg_dimer, tmp_path, monkeypatch):
    """The key holds the census every point runs, defaults resolved: a sweep stored under one default of
    ``CensusOptions`` is not served back after that default changes (the options as given, an empty
    ``census_options``, are the same both times)."""
    from dataclasses import replace

    first = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    orig = pdmod.PhaseDiagramOptions.census_settings

    def new_default(self):   # what a release that doubles the default t_cap resolves to
        co = orig(self)
        return replace(co, t_cap=2 * co.t_cap)

    monkeypatch.setattr(pdmod.PhaseDiagramOptions, "census_settings", new_default)
    again = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    assert again.key != first.key and again.n_computed == 24 and again.n_cached == 0
    monkeypatch.setattr(pdmod.PhaseDiagramOptions, "census_settings", orig)
    back = phase_diagram(lmg_dimer, GRID, n_initial=2, seed=5, store=tmp_path, **FAST)
    assert back.key == first.key and back.n_computed == 0
