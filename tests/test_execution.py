"""Execution backends: the same seed gives the same table with 1 and 2 workers, locally and on a real
Dask LocalCluster (processes, loopback); a Dask worker killed mid-sweep loses nothing."""
from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.execution import DaskExecutor, LocalExecutor, default_chunk_size, get_executor
from analysis.phase_diagrams import SWEEP_CENSUS, evaluate_chunk, phase_diagram

GRID = {"J": np.linspace(-1.2, 1.2, 5), "lam": np.array([0.2, 0.8])}
# FP points take the shortcut, the lam = 0.8 row runs a short census (Lyapunov + grouping)
OPTS = dict(n_initial=3, seed=21, t_end=60.0, progress=False, chunk_size=2,
            census_options=dict(SWEEP_CENSUS, t_align=2.0, t_total=20.0, dt=0.05, n_blocks=5))


@pytest.fixture(scope="module")
def reference(lmg_dimer):
    return phase_diagram(lmg_dimer, GRID, **OPTS).to_frame()


def test_local_process_pool_matches_in_process(lmg_dimer, reference):
    two = phase_diagram(lmg_dimer, GRID, n_workers=2, **OPTS)
    assert two.backend["n_workers"] == 2 and two.backend["numba_threads"] >= 1
    pd.testing.assert_frame_equal(two.to_frame(), reference)
    # status 1 is the census's honest bookkeeping (issue 11): with 3 initial conditions and short
    # windows a point may leave a trajectory undecided; no point may fail
    assert reference["phase"].str.contains("FP").any() and (reference["status"] >= 0).all()


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # LocalCluster start-up on a shared CI box may warn about ports / memory limits; only
        # these start-up warnings are silenced, not those of the sweep itself
        warnings.filterwarnings("ignore", category=UserWarning, module=r"distributed\..*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"distributed\..*")
        cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, silence_logs=40)
        client = distributed.Client(cl)
    yield client
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"distributed\..*")
        client.close()
        cl.close()


def test_dask_one_and_two_workers_match_local(lmg_dimer, reference, cluster):
    res2 = phase_diagram(lmg_dimer, GRID, scheduler=cluster, **OPTS)
    assert res2.backend["backend"] == "dask" and res2.backend["n_workers"] == 2
    pd.testing.assert_frame_equal(res2.to_frame(), reference)
    # the same through a scheduler address (the executor opens and closes its own client)
    with DaskExecutor(cluster.scheduler.address) as ex:
        assert ex.n_workers == 2
        pd.testing.assert_frame_equal(phase_diagram(lmg_dimer, GRID, scheduler=ex, **OPTS).to_frame(), reference)
    # one worker: restrict every task to the first worker
    first = sorted(cluster.scheduler_info()["workers"])[0]

    class OneWorker(DaskExecutor):
        def map_chunks(self, fn, model, chunks, options):
            from distributed import as_completed

            from analysis.execution import _dask_run_chunk
            futs = {self.client.submit(_dask_run_chunk, fn, model, c, options, None, pure=False, workers=[first]): i
                    for i, c in enumerate(chunks)}
            for f in as_completed(list(futs)):
                yield futs[f], f.result(), None

    res1 = phase_diagram(lmg_dimer, GRID, scheduler=OneWorker(cluster), **OPTS)
    pd.testing.assert_frame_equal(res1.to_frame(), reference)


def slow_evaluate(model, chunk, options):
    time.sleep(0.5)
    return evaluate_chunk(model, chunk, options)


def test_dask_worker_killed_mid_sweep(lmg_dimer, reference, cluster, tmp_path):
    """SIGKILL one worker process while chunks run: Dask reruns its chunk, nothing is lost."""
    pids = cluster.run(os.getpid)
    victim = sorted(pids.values())[0]
    stop = threading.Event()

    def killer():
        # wait until the first chunk has been written to the store, then kill a worker
        while not stop.is_set():
            if list(tmp_path.glob("*/parts/part-*.parquet")):
                os.kill(victim, signal.SIGKILL)
                return
            time.sleep(0.02)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    try:
        res = phase_diagram(lmg_dimer, GRID, scheduler=cluster, store=tmp_path, evaluate=slow_evaluate, **OPTS)
    finally:
        stop.set()
        th.join(timeout=5)
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # the worker really died
    # no row lost (-2) or failed (-1); status 1 rows are the census's bookkeeping (issue 11)
    assert res.n_computed == len(reference) and (res.to_frame()["status"] >= 0).all()
    pd.testing.assert_frame_equal(res.to_frame(), reference)
    # a second call reads everything from the store
    again = phase_diagram(lmg_dimer, GRID, scheduler=cluster, store=tmp_path, evaluate=slow_evaluate, **OPTS)
    assert again.n_computed == 0 and again.n_cached == len(reference)


def test_get_executor_and_chunking():
    assert isinstance(get_executor(None), LocalExecutor) and get_executor(None).n_workers == 1
    assert get_executor("processes", 2).n_workers == 2
    ex = LocalExecutor(1)
    assert get_executor(ex) is ex
    with pytest.raises(ValueError, match="scheduler must be"):
        get_executor("nowhere")
    with pytest.raises(TypeError, match="scheduler must be"):
        get_executor(3.5)
    with pytest.raises(ValueError, match="n_workers"):
        LocalExecutor(0)
    # chunks: about 8 per worker, at least ~2048 trajectories when the sweep allows, at most 256 points
    assert default_chunk_size(40401, 1, 16) == 256
    assert default_chunk_size(100, 2, 16) == 100
    assert default_chunk_size(2_000, 4, 1024) == 63
