"""The PT-symmetric dimer of dissipative LMG spins (Kothe & Kirton), from its specification.

Master equation (5) of the paper with the Hamiltonian (4)::

    H = sum_{s=A,B} (-J S_x^s^2 / S - g S_z^s) + lam (S_A^+ S_B^- + S_A^- S_B^+) / (2S),
    jumps: (gamma / S) D[S_A^-] (loss on A), (gamma / S) D[S_B^+] (gain on B).

The mean field derived from it (:mod:`bifurcate.spec.meanfield`) is Eqs. (6)-(11) letter for letter
(checked in ``tests/test_spec.py``). State ``(XA, YA, ZA, XB, YB, ZB)``: normalised magnetisations of
spin A (loss) and spin B (gain). Parameters ``g`` (field), ``gamma`` (loss/gain rate), ``J`` (LMG
nonlinearity), ``lam`` (hopping).

Radial damping
--------------
The raw field keeps each spin on its unit sphere, but ``d|r_A|^2/dt = 2 gamma Z_A (|r_A|^2 - 1)``
and ``d|r_B|^2/dt = -2 gamma Z_B (|r_B|^2 - 1)``: off-sphere errors grow where Z_A > 0 or
Z_B < 0, and the 6-D Jacobian carries the radial eigenvalues 2 gamma Z_A and -2 gamma Z_B. The
generated kernels integrate instead ::

    f_s(r) - kappa (|r_s|^2 - 1) r_s,      kappa = 1 + 2 |gamma|      (s = A, B)

which is identical on S^2 x S^2 (the added term vanishes there) and makes the spheres attracting
in the normal direction at rate at least ``2 (kappa - |gamma|) > 2`` (the radial eigenvalue at an
equilibrium becomes ``2 gamma Z_A - 2 kappa`` and ``-2 gamma Z_B - 2 kappa``). Stability is read
on the tangent space (:meth:`bifurcate.model.Model.tangent_jacobian`), where kappa drops out.

Symmetries (declared, and verified on the derived equations when the model is built)
-----------------------------------------------------------------------------------
* Z2: (XA, YA, XB, YB) -> -(XA, YA, XB, YB) maps solutions to solutions.
* PT (time-reversing): (XA, YA, ZA, XB, YB, ZB) -> (XB, -YB, ZB, XA, -YA, ZA) with t -> -t
  swaps the spins and turns loss into gain; with Z2 it generates the reversing group.

References
----------
S. Kothe and P. Kirton, "PT-symmetry breaking phase transitions in an LMG dimer", Eqs. (1)-(11).
"""
from __future__ import annotations

import numpy as np

from bifurcate.model import Symmetry
from bifurcate.spec import OpenSystem, S, parameters, spin

__all__ = ["LMG_DIMER", "PT_DIMER", "LMG_DIMER_SYSTEM", "NORMAL_STATE", "rhs", "jac", "kappa_of"]

g, gamma, J, lam = parameters(g=1.0, gamma=0.5, J=0.0, lam=0.0)
A, B = spin("A"), spin("B")

#: The specification: Eqs. (4)-(5) of the paper.
LMG_DIMER_SYSTEM = OpenSystem(
    -J * A.x ** 2 / S - g * A.z - J * B.x ** 2 / S - g * B.z + lam * (A.p * B.m + A.m * B.p) / (2 * S),
    jumps=[(gamma / S, A.m), (gamma / S, B.p)],
    name="lmg_dimer",
)

_Z2 = np.diag([-1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
_PT = np.zeros((6, 6))
for _i, (_j, _s) in enumerate([(3, 1), (4, -1), (5, 1), (0, 1), (1, -1), (2, 1)]):
    _PT[_i, _j] = _s

#: Normal state: spin A down, spin B up (always an equilibrium).
NORMAL_STATE = np.array([0.0, 0.0, -1.0, 0.0, 0.0, 1.0])

LMG_DIMER = LMG_DIMER_SYSTEM.mean_field(
    "lmg_dimer", module=__name__, attr="LMG_DIMER",
    symmetries=(Symmetry("Z2", _Z2, False), Symmetry("PT", _PT, True)),
    description="PT-symmetric dimer of dissipative LMG spins, mean-field Eqs. (6)-(11), radially damped",
    references="Kothe & Kirton, PT-symmetry breaking phase transitions in an LMG dimer, Eqs. (6)-(11)",
)
#: the generated kernels, exported by name (per-model integrators import them from here)
rhs, jac = LMG_DIMER.rhs, LMG_DIMER.jac


def kappa_of(gamma: float) -> float:
    """Radial damping rate used by the kernels (must exceed |gamma|)."""
    return 1.0 + 2.0 * abs(gamma)


#: The PT dimer of Eq. (1): the LMG dimer at J = 0.
PT_DIMER = LMG_DIMER.fix(name="pt_dimer", J=0.0)
