"""Shipped models. Each lives in a file of its own; importing this package registers them.

The physical models (LMG dimer, LMG, boundary time crystal, open Dicke, LMG ring) are specifications
(:mod:`bifurcate.spec`): H and jump operators, with generated kernels."""
from bifurcate.models.brusselator import BRUSSELATOR
from bifurcate.models.btc import BTC
from bifurcate.models.dicke import DICKE
from bifurcate.models.lmg import LMG
from bifurcate.models.lmg_dimer import LMG_DIMER, NORMAL_STATE, PT_DIMER
from bifurcate.models.lmg_ring import LMG_RING
from bifurcate.models.lorenz import LORENZ
from bifurcate.models.normal_forms import LINEAR3, PITCHFORK, SADDLE_NODE
from bifurcate.models.stuart_landau import STUART_LANDAU

__all__ = ["LMG_DIMER", "PT_DIMER", "LMG", "NORMAL_STATE", "STUART_LANDAU", "BRUSSELATOR", "LORENZ",
           "SADDLE_NODE", "PITCHFORK", "LINEAR3", "BTC", "DICKE", "LMG_RING"]
from bifurcate.models.torus import TORUS  # noqa: E402,F401  (attracting 2-torus, exact exponents)
