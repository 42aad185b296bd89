"""Re-export of :mod:`bifurcate.quantum._krylov` (moved to the engine layer)."""
from bifurcate.quantum._krylov import idrs  # noqa: F401
