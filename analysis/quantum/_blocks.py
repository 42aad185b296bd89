"""Re-export of :mod:`bifurcate.quantum._blocks` (moved to the engine layer)."""
from bifurcate.quantum._blocks import BlockLiouvillian  # noqa: F401
