"""Execution backends for chunked sweeps: one small interface, a local default and Dask distributed.

A sweep is cut into chunks of parameter points; a backend runs ``fn(model, rows, options)`` on
each chunk and hands the results back *as they complete*, so that the caller can store them at
once (see :mod:`analysis.store`). Everything random is drawn by the caller before the map, so the
result of a chunk does not depend on where, when or next to what it runs.

Backends
--------
``LocalExecutor(n_workers=1)`` (the default)
    Runs the chunks one after another in this process. The compiled integrators are already
    parallel over all (point, initial condition) pairs of a chunk (numba ``prange`` on every
    core), so one in-process worker uses the whole machine with no set-up and no pickling.
``LocalExecutor(n_workers=k)``, k > 1
    ``k`` spawned processes, each with ``cores // k`` numba threads (no oversubscription). Useful
    when the per-point Python work (equilibria, grouping) is a large share of the time.
``DaskExecutor(client)`` or ``get_executor("tcp://host:8786")``
    Chunks become Dask tasks. Inside a worker process one chunk runs at a time (a process-wide
    lock) with as many numba threads as the worker has Dask threads, so a worker started with
    ``--nthreads 8`` runs one 8-thread chunk rather than eight chunks on 8 threads each. Start
    workers with ``--nthreads`` equal to the cores they own. If a worker dies, Dask reruns its
    chunk elsewhere; the caller's store only ever sees finished chunks.

Inside a chunk the thread pools of the libraries (OpenMP of scikit-learn, OpenBLAS) are limited
to one thread: the compiled kernels own the cores, and tiny library calls on many threads only
add wake-up latency (see :func:`_library_threads_one`).

Interface
---------
``executor.map_chunks(fn, model, chunks, options)`` yields ``(chunk_index, result, error)`` in
completion order, with exactly one of ``result`` / ``error`` not None; an infrastructure error
(e.g. ``KilledWorker`` after Dask gave up) is reported, not raised.
"""
from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator, Sequence

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "get_executor", "default_chunk_size", "cpu_count",
           "run_points", "DEFAULT_CHUNK_SECONDS"]

#: target wall time of one chunk when the chunk size is not given: an interrupt loses at most
#: about this much work, and the store and the progress bar move at least this often
DEFAULT_CHUNK_SECONDS = 5.0

_CHUNK_LOCK = threading.Lock()


def cpu_count() -> int:
    """Cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _set_numba_threads(n: int | None) -> None:
    if not n:
        return
    import numba

    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def _library_threads_one():
    """Single-threaded OpenMP/BLAS pools of the libraries (scikit-learn, OpenBLAS) inside a chunk.

    The cores belong to the numba kernels (whose own OpenMP pool is not affected: checked with
    ``numba.get_thread_id``). Left alone, scikit-learn's OpenMP pairwise distances on the census's
    16-point DBSCAN cost ~50 ms per call on a busy 2-core machine (thread wake-up, not work);
    limited to one thread the census of a point takes half the time, with identical labels.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1)


def run_chunk(fn: Callable, model, rows, options, numba_threads: int | None = None):
    """Worker-side entry point: pin the numba thread count, library pools to one thread, one chunk
    per process at a time."""
    with _CHUNK_LOCK, _library_threads_one():
        _set_numba_threads(numba_threads)
        return fn(model, rows, options)


def _dask_run_chunk(fn, model, rows, options, numba_threads=None):
    if numba_threads is None:
        try:
            from distributed import get_worker

            numba_threads = get_worker().state.nthreads
        except (ImportError, ValueError, AttributeError):
            numba_threads = None
    return run_chunk(fn, model, rows, options, numba_threads)


def default_chunk_size(n_points: int, n_workers: int, n_initial: int = 1) -> int:
    """Points per chunk: about 8 chunks per worker, each at least ~2000 trajectories when the sweep
    allows, at most 256 points (so that an interruption loses little and progress moves)."""
    target = math.ceil(n_points / (8 * max(1, n_workers)))
    floor = max(1, math.ceil(2048 / max(1, n_initial)))
    return int(max(1, min(256, max(target, min(floor, n_points)))))


class Executor:
    """Base class of the backends (see the module docstring)."""

    #: number of chunks that can run at the same time
    n_workers: int = 1

    def map_chunks(self, fn: Callable, model, chunks: Sequence[Any], options) -> Iterator[tuple[int, Any, BaseException | None]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self) -> dict:
        return {"backend": type(self).__name__, "n_workers": self.n_workers}


class LocalExecutor(Executor):
    """This machine: in-process (``n_workers=1``, default) or a pool of spawned processes.

    Parameters
    ----------
    n_workers : int, optional
        1 (default): chunks run in this process with numba on all cores. k > 1: k processes.
    numba_threads : int, optional
        Threads of the compiled kernels per worker; default ``cores // n_workers``.
    """

    def __init__(self, n_workers: int | None = None, numba_threads: int | None = None):
        n = 1 if n_workers is None else n_workers
        if not isinstance(n, (int,)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
        self.n_workers = int(n)
        self.numba_threads = int(numba_threads) if numba_threads else max(1, cpu_count() // self.n_workers)
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> dict:
        return {"backend": "local", "n_workers": self.n_workers, "numba_threads": self.numba_threads}

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing as mp

            # spawn, not fork: numba's OpenMP/workqueue thread pools are not fork-safe
            self._pool = ProcessPoolExecutor(max_workers=self.n_workers, mp_context=mp.get_context("spawn"))
        return self._pool

    def map_chunks(self, fn, model, chunks, options):
        if self.n_workers == 1:
            import numba

            before = numba.get_num_threads()
            try:
                for i, rows in enumerate(chunks):
                    try:
                        res = run_chunk(fn, model, rows, options, self.numba_threads)
                    except Exception as exc:  # noqa: BLE001 - reported per chunk, never fatal
                        yield i, None, exc
                    else:
                        yield i, res, None
            finally:
                numba.set_num_threads(before)
            return
        pool = self._get_pool()
        pending: dict[Future, int] = {}
        it = iter(enumerate(chunks))
        # keep a bounded number of chunks in flight (memory; resumability)
        max_in_flight = 2 * self.n_workers

        def fill():
            for i, rows in it:
                pending[pool.submit(run_chunk, fn, model, rows, options, self.numba_threads)] = i
                if len(pending) >= max_in_flight:
                    break

        fill()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                exc = fut.exception()
                yield (i, None, exc) if exc is not None else (i, fut.result(), None)
            fill()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Dask distributed: an existing ``Client`` or a scheduler address.

    Parameters
    ----------
    client : distributed.Client or str
        A client, or a scheduler address such as ``"tcp://10.0.0.1:8786"`` (a client is created
        and closed with this executor).
    numba_threads : int, optional
        Threads of the compiled kernels per chunk; default: the worker's number of Dask threads.
    """

    def __init__(self, client, numba_threads: int | None = None):
        from distributed import Client

        if isinstance(client, str):
            self.client = Client(client)
            self._own = True
        elif isinstance(client, Client):
            self.client = client
            self._own = False
        else:
            raise TypeError(f"expected a distributed.Client or a scheduler address, got {type(client).__name__}")
        self.numba_threads = numba_threads

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def describe(self) -> dict:
        return {"backend": "dask", "scheduler": self.client.scheduler.address, "n_workers": self.n_workers}

    def map_chunks(self, fn, model, chunks, options):
        from distributed import as_completed

        futs = {}
        for i, rows in enumerate(chunks):
            f = self.client.submit(_dask_run_chunk, fn, model, rows, options, self.numba_threads, pure=False)
            futs[f] = i
        try:
            for fut in as_completed(list(futs)):
                i = futs[fut]
                if fut.status == "error":
                    yield i, None, fut.exception()
                else:
                    yield i, fut.result(), None
                fut.release()
        finally:
            for f in futs:
                if not f.done():
                    f.cancel()

    def close(self) -> None:
        if self._own:
            self.client.close()


def get_executor(scheduler=None, n_workers: int | None = None) -> Executor:
    """Pick a backend.

    Parameters
    ----------
    scheduler : None, "local", "processes", str address, distributed.Client or Executor
        None / "local": :class:`LocalExecutor` (in-process unless ``n_workers`` > 1);
        "processes": a local process pool with ``n_workers`` (default: all cores) processes;
        "tcp://...", "tls://...", "inproc://...": Dask scheduler address; a ``Client``; or an
        executor instance, returned as is.
    n_workers : int, optional
        Local workers (ignored for Dask, whose cluster decides).
    """
    if isinstance(scheduler, Executor):
        return scheduler
    if scheduler is None or scheduler == "local":
        return LocalExecutor(n_workers)
    if scheduler == "processes":
        return LocalExecutor(n_workers or cpu_count())
    if isinstance(scheduler, str):
        if "://" not in scheduler:
            raise ValueError(f"scheduler must be None, 'local', 'processes', a Dask address like "
                             f"'tcp://host:8786', a distributed.Client or an Executor, got {scheduler!r}")
        return DaskExecutor(scheduler)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        Client = ()
    if isinstance(scheduler, Client):
        return DaskExecutor(scheduler)
    raise TypeError(f"scheduler must be None, 'local', 'processes', a Dask address, a distributed.Client or an "
                    f"Executor, got {type(scheduler).__name__}")


def run_points(executor: Executor, fn: Callable, model, points: Sequence[int], make_chunk: Callable, options, *,
               store=None, chunk_size: int | None = None, max_chunk_size: int = 256,
               chunk_seconds: float | None = None, poll: float = 0.5) -> Iterator[tuple[list[int], Any, BaseException | None, bool]]:
    """Run ``fn`` over ``points`` in chunks; with a store, claim points first and share the work.

    Parameters
    ----------
    executor : Executor
    fn : callable
        ``fn(model, chunk, options)`` returning a DataFrame with a ``point`` column.
    points : sequence of int
        The points to compute, in the order to compute them.
    make_chunk : callable
        ``make_chunk(list_of_points) -> chunk`` (what ``fn`` receives).
    store : analysis.store.SweepStore, optional
        Finished chunks are written to it as they arrive; points are claimed before they are
        computed, so that several processes on one store share the points (each computed once),
        and points another process stored are read back instead.
    chunk_size : int, optional
        Fixed points per chunk. Default: adaptive, so that one chunk takes about
        ``chunk_seconds`` (first chunk: one point), at most ``max_chunk_size`` (Dask, which
        receives all chunks at once: ``max_chunk_size``).
    chunk_seconds : float, optional
        Target wall time of a chunk (default :data:`DEFAULT_CHUNK_SECONDS`).
    poll : float
        Seconds between looks at the store while waiting for points another process claimed.

    Yields
    ------
    (points, result, error, computed_here)
        ``result`` the chunk's DataFrame (None on error), ``error`` the exception of a chunk the
        backend lost (its points are not retried in this call), ``computed_here`` False for rows
        another process computed (read from the store).
    """
    target = DEFAULT_CHUNK_SECONDS if chunk_seconds is None else float(chunk_seconds)
    if not target > 0:
        raise ValueError(f"chunk_seconds must be > 0, got {chunk_seconds!r}")
    if chunk_size is not None and (not isinstance(chunk_size, (int,)) or isinstance(chunk_size, bool) or chunk_size < 1):
        try:
            import numpy as np

            ok = isinstance(chunk_size, np.integer) and chunk_size >= 1
        except ImportError:  # pragma: no cover
            ok = False
        if not ok:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    remaining = [int(p) for p in points]
    finished: set[int] = set()
    rate = [None]          # seconds per point, from the chunks done so far
    last = [1, None]       # size and wall time of the last finished chunk

    def size() -> int:
        if chunk_size is not None:
            return int(chunk_size)
        if rate[0] is None:
            # a local backend learns the rate from a first one-point chunk; Dask takes every chunk
            # at once, so it gets the capped default size
            return 1 if isinstance(executor, LocalExecutor) else int(max_chunk_size)
        n = target / max(rate[0], 1e-6)
        if last[1] is not None and last[1] < 0.5 * target:
            n = max(n, 2 * last[0])        # per-chunk overhead inflates the rate of small chunks
        return int(max(1, min(max_chunk_size, n)))

    while True:
        todo = [p for p in remaining if p not in finished]
        if not todo:
            return
        issued: list[list[int]] = []
        t_issue: list[float] = []
        queue = list(todo)

        def chunks():
            nonlocal queue
            while queue:
                n = size()
                if store is not None:
                    got = store.claim(queue, n)
                    if not got:
                        return
                    gs = set(got)
                    queue = [p for p in queue if p not in gs and p not in finished]
                else:
                    got, queue = queue[:n], queue[n:]
                issued.append(got)
                t_issue.append(time.perf_counter())
                yield make_chunk(got)

        try:
            for ci, res, err in executor.map_chunks(fn, model, chunks(), options):
                pts = issued[ci]
                elapsed = time.perf_counter() - t_issue[ci]
                per = elapsed / max(1, len(pts)) / max(1, executor.n_workers)
                rate[0] = per if rate[0] is None else 0.5 * rate[0] + 0.5 * per
                last[:] = [len(pts), elapsed / max(1, executor.n_workers)]
                if err is None and store is not None:
                    store.write_part(res, label=f"{min(pts):07d}")
                elif store is not None:
                    store.release(pts)
                finished.update(pts)
                yield pts, res, err, True
        finally:
            if store is not None:
                store.release(p for chunk in issued for p in chunk if p not in finished)
        if store is None:
            return
        # points another process claimed: read what it stored, wait for the rest
        todo = [p for p in remaining if p not in finished]
        if not todo:
            return
        rows = store.rows(todo)
        if len(rows):
            got = [int(p) for p in rows["point"]]
            finished.update(got)
            yield got, rows, None, False
        todo = [p for p in todo if p not in finished]
        if todo and store.claimed_elsewhere(todo) >= set(todo):
            time.sleep(poll)
