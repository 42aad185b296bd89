"""Small shared helpers: seeds."""
from __future__ import annotations

import numpy as np

__all__ = ["as_generator", "spawn_seeds"]


def as_generator(seed: int | np.random.Generator | np.random.SeedSequence | None) -> np.random.Generator:
    """One entry point for randomness: an int, a SeedSequence, a Generator or None."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy Generator, a SeedSequence or None, got {type(seed).__name__}")


def spawn_seeds(seed: int | np.random.SeedSequence | None, n: int) -> list[np.random.SeedSequence]:
    """Independent child streams (``SeedSequence.spawn``), independent of the number of workers."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(n)
