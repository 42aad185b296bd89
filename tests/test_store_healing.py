"""The store heals and shares: every kind of file truncated or garbled -> the right table, with a
StoreRepairWarning; rows missing from a table are computed; two processes on one store compute
each point once and end with identical tables; a CLI sweep killed at a random moment loses at
most about one chunk of work."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.phase_diagrams import phase_diagram
from analysis.store import ResultStore, StoreRepairWarning

ROOT = Path(__file__).resolve().parents[1]
GRID = {"J": np.linspace(-1.0, 1.0, 6), "lam": np.array([0.1, 0.5, 0.9])}
CALLS: list[int] = []          # points evaluated in this process (fake_evaluate)
FAIL: set[int] = set()         # points whose chunk raises (an infrastructure failure)


def fake_evaluate(model, chunk, options):
    """A cheap, deterministic stand-in for evaluate_chunk (no compiled kernels): the store does
    not care what the rows hold."""
    tab = chunk.table.reset_index(drop=True).copy()
    pts = [int(p) for p in tab["point"]]
    if FAIL & set(pts):
        raise RuntimeError("synthetic lost chunk")
    CALLS.extend(pts)
    delay = float(os.environ.get("FAKE_EVALUATE_DELAY", "0"))
    if delay:
        time.sleep(delay * len(pts))
        log = os.environ.get("FAKE_EVALUATE_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write("".join(f"{p}\n" for p in pts))
    tab["n_stable_fp"] = (tab["point"] % 3).astype(np.int64)
    tab["ZB"] = np.cos(tab["J"]) * tab["lam"] + chunk.y0[:, 0, 2]
    tab["status"] = 0
    tab["message"] = ""
    return tab


def run(store, **kw):
    return phase_diagram(_model(), GRID, n_initial=2, seed=3, store=store, census=False, progress=False,
                         evaluate=fake_evaluate, chunk_size=kw.pop("chunk_size", 4), **kw)


def _model():
    from bifurcate.models import LMG_DIMER

    return LMG_DIMER


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    FAIL.clear()
    yield
    CALLS.clear()
    FAIL.clear()


@pytest.fixture(scope="module")
def reference():
    CALLS.clear()
    return run(None).to_frame()


def _sweep_dir(root: Path) -> Path:
    (d,) = [p for p in root.iterdir() if p.is_dir()]
    return d


def _partial_store(tmp_path):
    """A store with parts but no table: the chunk holding point 0 was lost."""
    FAIL.add(0)
    first = run(tmp_path)
    assert first.status == 1 and not (_sweep_dir(tmp_path) / "table.parquet").exists()
    FAIL.clear()
    CALLS.clear()
    return _sweep_dir(tmp_path)


def _truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble(path: Path):
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8] = bytes(255 - b for b in data[mid:mid + 8])   # same size, different content
    path.write_bytes(bytes(data))


def _assert_same(res, reference):
    pd.testing.assert_frame_equal(res.to_frame().drop(columns=["computed"]),
                                  reference.drop(columns=["computed"]), check_like=True)


@pytest.mark.parametrize("damage", [_truncate, _garble])
def test_damaged_part_is_quarantined_and_recomputed(tmp_path, reference, damage):
    d = _partial_store(tmp_path)
    victim = sorted((d / "parts").glob("part-*.parquet"))[-1]
    lost_points = set(pd.read_parquet(victim)["point"])
    damage(victim)
    with pytest.warns(StoreRepairWarning, match=rf"{victim.name} is corrupt"):
        res = run(tmp_path)
    _assert_same(res, reference)
    assert set(CALLS) == lost_points | {0, 1, 2, 3} and len(CALLS) == len(set(CALLS))
    assert list((d / "quarantine").glob(f"{victim.name}.*"))          # moved aside, not deleted
    assert json.loads((d / "metadata.json").read_text())["complete"]


@pytest.mark.parametrize("damage", [_truncate, _garble])
def test_damaged_table_is_quarantined_and_recomputed(tmp_path, reference, damage):
    run(tmp_path)
    d = _sweep_dir(tmp_path)
    damage(d / "table.parquet")
    CALLS.clear()
    with pytest.warns(StoreRepairWarning, match="table.parquet is corrupt"):
        res = run(tmp_path)
    _assert_same(res, reference)
    assert sorted(CALLS) == list(range(18))
    assert list((d / "quarantine").glob("table.parquet.*"))
    CALLS.clear()
    again = run(tmp_path)                       # healed: read back, nothing computed, no warning
    assert CALLS == [] and again.n_cached == 18


def test_deleted_table_and_checksum_side_file(tmp_path, reference):
    run(tmp_path)
    d = _sweep_dir(tmp_path)
    (d / "table.parquet.sha256").unlink()
    _garble(d / "table.parquet")                 # the metadata keeps a copy of the checksum
    CALLS.clear()
    with pytest.warns(StoreRepairWarning, match="table.parquet is corrupt"):
        _assert_same(run(tmp_path), reference)
    (d / "table.parquet").unlink()
    CALLS.clear()
    with pytest.warns(StoreRepairWarning, match="table.parquet of a complete sweep is missing"):
        _assert_same(run(tmp_path), reference)
    assert sorted(CALLS) == list(range(18))


def test_table_with_rows_missing_is_completed(tmp_path, reference):
    from analysis.store import file_sha256

    run(tmp_path)
    d = _sweep_dir(tmp_path)
    tab = pd.read_parquet(d / "table.parquet")
    tab[~tab["point"].isin([4, 11])].to_parquet(d / "table.parquet", index=False)
    (d / "table.parquet.sha256").write_text(file_sha256(d / "table.parquet"))   # a consistent but short table
    CALLS.clear()
    with pytest.warns(StoreRepairWarning, match="has 16 rows, expected 18"):
        res = run(tmp_path)
    _assert_same(res, reference)
    assert sorted(CALLS) == [4, 11] and (res.to_frame()["status"] == 0).all()


@pytest.mark.parametrize("damage", [_truncate, _garble, lambda p: p.write_text("not json {")])
def test_damaged_metadata_is_quarantined(tmp_path, reference, damage):
    run(tmp_path)
    d = _sweep_dir(tmp_path)
    damage(d / "metadata.json")
    CALLS.clear()
    with pytest.warns(StoreRepairWarning, match="metadata.json is corrupt"):
        res = run(tmp_path)
    _assert_same(res, reference)
    assert CALLS == []                                  # the table was intact: nothing recomputed
    meta = json.loads((d / "metadata.json").read_text())
    assert meta["complete"] and meta["key"] == res.key
    assert list((d / "quarantine").glob("metadata.json.*"))


def test_damaged_metadata_of_a_partial_sweep(tmp_path, reference):
    d = _partial_store(tmp_path)
    (d / "metadata.json").write_text('{"key": "x", "checksum": "0"}')
    with pytest.warns(StoreRepairWarning, match="metadata.json is corrupt"):
        res = run(tmp_path)
    _assert_same(res, reference)
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_damaged_claims_file(tmp_path, reference):
    d = _partial_store(tmp_path)
    (d / "claims.json").write_text("[[[")
    with pytest.warns(StoreRepairWarning, match="claims.json is corrupt"):
        res = run(tmp_path)
    _assert_same(res, reference)


def test_claims_of_a_dead_process_are_taken_over(tmp_path, reference):
    d = _partial_store(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    import socket

    (d / "claims.json").write_text(json.dumps({str(p): {"host": socket.gethostname(), "pid": pid, "token": "t",
                                                        "time": time.time()} for p in range(4)}))
    res = run(tmp_path)
    _assert_same(res, reference)
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_two_processes_share_one_store(tmp_path, reference):
    """Two concurrent sweeps on one store: every point computed exactly once, identical tables."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_store_healing import run
        res = run({str(tmp_path / 'store')!r}, chunk_size=2)
        res.to_frame().to_parquet(sys.argv[1])
        print(res.n_computed, res.n_cached)
    """)
    log = tmp_path / "calls.txt"
    env = {**os.environ, "FAKE_EVALUATE_DELAY": "0.15", "FAKE_EVALUATE_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"out{i}.parquet")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    calls = [int(x) for x in log.read_text().split()]
    assert sorted(calls) == list(range(18))              # each point once, none twice
    counts = [tuple(map(int, out.split())) for out, _ in outs]
    assert sum(c[0] for c in counts) == 18 and all(c[0] + c[1] == 18 for c in counts)
    a, b = (pd.read_parquet(tmp_path / f"out{i}.parquet") for i in range(2))
    pd.testing.assert_frame_equal(a.drop(columns=["computed"]), b.drop(columns=["computed"]))
    pd.testing.assert_frame_equal(a.drop(columns=["computed"]), reference.drop(columns=["computed"]),
                                  check_like=True)
    d = _sweep_dir(tmp_path / "store")
    assert (d / "table.parquet").exists() and not list((d / "parts").glob("*.parquet"))


@pytest.mark.slow
def test_cli_sweep_killed_at_a_random_moment_loses_at_most_about_one_chunk(tmp_path):
    """SIGKILL a `bifurcate phase-diagram` at a random moment: the newest stored part is at most
    about one chunk (--chunk-seconds) older than the kill; the rerun computes only what is missing."""
    chunk_s = 1.0
    out = tmp_path / "pd"
    argv = [sys.executable, "-m", "analysis.cli", "phase-diagram", "--grid", "J=-1.5:1.5:24", "--grid",
            "lam=0:1.2:10", "--n-initial", "8", "--t-end", "300", "--no-census", "--no-progress",
            "--chunk-seconds", str(chunk_s), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not list(out.glob("store/*/parts/part-*")):
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        time.sleep(random.Random(os.getpid()).uniform(0.5, 3.0))
        assert proc.poll() is None, "the sweep finished before the kill: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
        t_kill = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
    parts = list(out.glob("store/*/parts/part-*.parquet"))
    newest = max(p.stat().st_mtime for p in parts)
    done = set(pd.concat([pd.read_parquet(p) for p in parts])["point"])
    lost_seconds = t_kill - newest
    # one chunk is planned to take chunk_s; allow the adaptive sizing's overshoot and a busy machine
    assert lost_seconds < 3 * chunk_s + 1.0, (lost_seconds, len(parts))
    assert 0 < len(done) < 240
    res = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"{240 - len(done)} computed, {len(done)} from the store" in res.stdout
