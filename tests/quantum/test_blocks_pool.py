"""The preconditioner's thread pool: one per process and worker count, safe across fork."""
import multiprocessing as mp
import os

import pytest

from bifurcate.quantum._blocks import _thread_pool


def test_the_pool_is_made_once_per_worker_count():
    assert _thread_pool(2) is _thread_pool(2)
    assert _thread_pool(3) is not _thread_pool(2)
    assert sorted(_thread_pool(2).map(lambda x: x * x, range(5))) == [0, 1, 4, 9, 16]


def _child_uses_pool(_):
    return os.getpid(), _thread_pool(2).submit(sum, (1, 2, 3)).result(timeout=20)


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method")
def test_a_forked_child_makes_its_own_pool():
    """A forked child inherits the parent's pool object but none of its threads: reusing it would hang."""
    list(_thread_pool(2).map(abs, [-1, -2, -3]))  # the parent's threads exist
    with mp.get_context("fork").Pool(1) as pool:
        pid, total = pool.apply_async(_child_uses_pool, (0,)).get(timeout=60)
    assert pid != os.getpid() and total == 6
