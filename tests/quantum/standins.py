"""Stand-in open systems with exactly the interface of ``bifurcate.spec.OpenSystem`` that the exact
engine uses (``name``, ``modes``, ``parameters``, ``hamiltonian_terms()``, ``jump_terms()``), written
independently of the specification class so the engine is tested on its own."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

S = sympy.Symbol("S")


@dataclass(frozen=True)
class Mode:
    name: str
    kind: str


class StandIn:
    def __init__(self, name, modes, parameters, H, jumps):
        self.name = name
        self.modes = tuple(Mode(n, k) for n, k in modes)
        self.parameters = dict(parameters)
        self._H = H
        self._jumps = jumps

    def hamiltonian_terms(self):
        return list(self._H)

    def jump_terms(self):
        return [(r, list(t)) for r, t in self._jumps]


def lmg_dimer():
    g, gamma, J, lam = sympy.symbols("g gamma J lam")
    H = [(-J / S, (("A", "x"), ("A", "x"))), (-g, (("A", "z"),)),
         (-J / S, (("B", "x"), ("B", "x"))), (-g, (("B", "z"),)),
         (lam / (2 * S), (("A", "p"), ("B", "m"))), (lam / (2 * S), (("A", "m"), ("B", "p")))]
    jumps = [(gamma / S, [(1, (("A", "m"),))]), (gamma / S, [(1, (("B", "p"),))])]
    return StandIn("lmg_dimer", [("A", "spin"), ("B", "spin")], {"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0},
                   H, jumps)


def boundary_time_crystal():
    omega, kappa = sympy.symbols("omega kappa")
    return StandIn("btc", [("A", "spin")], {"omega": 0.5, "kappa": 1.0},
                   [(omega, (("A", "x"),))], [(kappa / S, [(1, (("A", "m"),))])])


def open_dicke():
    omega, omega0, lam, kappa = sympy.symbols("omega omega0 lam kappa")
    c = 2 * lam / sympy.sqrt(2 * S)
    H = [(omega, (("a", "dag"), ("a", "a"))), (omega0, (("A", "z"),)),
         (c, (("a", "a"), ("A", "x"))), (c, (("a", "dag"), ("A", "x")))]
    return StandIn("dicke", [("a", "boson"), ("A", "spin")],
                   {"omega": 1.0, "omega0": 1.0, "lam": 0.3, "kappa": 1.0}, H, [(2 * kappa, [(1, (("a", "a"),))])])
