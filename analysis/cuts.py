"""The cuts of the paper's Fig. 3 through the (J, lam) plane: one definition for every module.

The text of the paper gives only the kind of each cut (a: fixed small lam, J swept; b: J = 0, lam
swept; c: fixed lam large enough to cross the limit-cycle region, J swept; d: fixed J in the LMG
phase, lam swept); the fixed values below are our reading of the inset of Fig. 3(b) and of Fig. 4
(J = 1.5 appears in Fig. 4(b, c)) -- an assumption, not a quotation:

* (a) lam = 0.1 g: the LMG transitions barely shifted;
* (b) J = 0: the PT transition at lam = g/2;
* (c) lam = g: crosses the oscillating region around J = 0 (|J| < 0.685 g, exact Hopf curve of the
  normal state) and the irregular region at large |J|;
* (d) J = 1.5 g (LMG phase at lam = 0): through the broken states' Hopf point, the cycles and the
  chaotic region.

Everything in units of g, gamma = 0.5 g. No import of the engine (the quantum package uses this too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

__all__ = ["Cut", "CUTS"]


@dataclass(frozen=True)
class Cut:
    """A straight cut through the (J, lam) plane: ``param`` swept over ``[lo, hi]``, ``fixed`` held."""

    name: str
    param: str
    lo: float
    hi: float
    fixed: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        if self.param not in ("J", "lam"):
            raise ValueError(f"param must be 'J' or 'lam', got {self.param!r}")
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"expected finite lo < hi, got lo={self.lo!r}, hi={self.hi!r}")
        if self.param in self.fixed:
            raise ValueError(f"the swept parameter {self.param!r} cannot also be fixed ({dict(self.fixed)})")

    def values(self, n: int) -> np.ndarray:
        return np.linspace(self.lo, self.hi, int(n))

    def points(self, n: int) -> list[dict[str, float]]:
        return [{**dict(self.fixed), self.param: float(v)} for v in self.values(n)]

    def segment(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((J0, J1), (lam0, lam1)) of the cut, for drawing it on a phase diagram."""
        if self.param == "J":
            lam = float(self.fixed["lam"])
            return (self.lo, self.hi), (lam, lam)
        J = float(self.fixed["J"])
        return (J, J), (self.lo, self.hi)


#: Fig. 3's four cuts (see the module docstring)
CUTS = {
    "a": Cut("a", "J", -2.0, 2.0, {"lam": 0.1}, r"$\lambda = 0.1g$, $J$ swept"),
    "b": Cut("b", "lam", 0.0, 1.5, {"J": 0.0}, r"$J = 0$, $\lambda$ swept"),
    "c": Cut("c", "J", -2.0, 2.0, {"lam": 1.0}, r"$\lambda = g$, $J$ swept"),
    "d": Cut("d", "lam", 0.0, 1.5, {"J": 1.5}, r"$J = 1.5g$, $\lambda$ swept"),
}
