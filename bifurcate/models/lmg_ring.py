"""A ring of three dissipative LMG spins with exchange hopping (a three-site model).

Specification: sites A, B, C, each the dissipative LMG spin of Eq. (3) of Kothe & Kirton (loss
gamma/S D[S^-]), neighbours coupled by the hopping of the paper's H_PT::

    H = sum_s (-J S_x^s^2 / S - g S_z^s) + lam / (2S) sum_<s,t> (S_s^+ S_t^- + S_s^- S_t^+).

State (XA, YA, ZA, XB, YB, ZB, XC, YC, ZC) on (S^2)^3; parameters g, gamma, J, lam.

Closed form: the all-down state (Z_s = -1) is an equilibrium whose tangent eigenvalues are, for the
ring's Fourier modes c in {2, -1, -1} (the eigenvalues of its adjacency matrix),
``-gamma +- sqrt(-(g - lam c)(g - lam c + 2J))``.
Symmetries: the cyclic shift A -> B -> C (Z3) and the spin flip Z2 (X, Y -> -X, -Y on every site).
"""
from __future__ import annotations

import numpy as np

from bifurcate.model import Symmetry
from bifurcate.spec import OpenSystem, S, parameters, spin

__all__ = ["LMG_RING", "LMG_RING_SYSTEM", "rhs", "jac", "normal_state_eigenvalues"]

g, gamma, J, lam = parameters(g=1.0, gamma=0.5, J=0.0, lam=0.2)
_sites = spin("A"), spin("B"), spin("C")

_H = sum(-J * s.x ** 2 / S - g * s.z for s in _sites)
for _i in range(3):
    _s, _t = _sites[_i], _sites[(_i + 1) % 3]
    _H = _H + lam * (_s.p * _t.m + _s.m * _t.p) / (2 * S)

#: The specification.
LMG_RING_SYSTEM = OpenSystem(_H, jumps=[(gamma / S, s.m) for s in _sites], name="lmg_ring")

_SHIFT = np.zeros((9, 9))
for _i in range(3):
    _SHIFT[3 * ((_i + 1) % 3):3 * ((_i + 1) % 3) + 3, 3 * _i:3 * _i + 3] = np.eye(3)

LMG_RING = LMG_RING_SYSTEM.mean_field(
    "lmg_ring", module=__name__, attr="LMG_RING",
    symmetries=(Symmetry("Z3", _SHIFT, False), Symmetry("Z2", np.diag([-1.0, -1.0, 1.0] * 3), False)),
    description="ring of three dissipative LMG spins with exchange hopping",
    references="built from Eqs. (3) and (4) of Kothe & Kirton",
)
rhs, jac = LMG_RING.rhs, LMG_RING.jac


def normal_state_eigenvalues(g: float, gamma: float, J: float, lam: float) -> np.ndarray:
    """Closed-form tangent eigenvalues at the all-down state (6 of them), sorted by real part."""
    out = []
    for c in (2.0, -1.0, -1.0):
        G = g - lam * c
        r = np.sqrt(complex(-G * (G + 2 * J)))
        out += [-gamma + r, -gamma - r]
    out = np.array(out)
    return out[np.argsort(-out.real, kind="stable")]
