"""Closed forms for the normal state of the LMG dimer (references for tests and plots).

Linearising Eqs. (6)-(11) at the normal state (X = Y = 0, Z_A = -1, Z_B = 1) in the tangent
coordinates (X_A, X_B | Y_A, Y_B) gives M = -gamma I + [[0, P], [Q, 0]] with
P = [[g, -lam], [lam, g]], Q = [[-(g + 2J), lam], [-lam, -(g - 2J)]]; the eigenvalues are
-gamma +- sqrt(s), s the roots of s^2 - 2 (lam^2 - g^2) s + (lam^2 + g^2)(lam^2 + g^2 - 4 J^2) = 0.

* A zero eigenvalue (s = gamma^2) gives exactly the paper's Eq. (12).
* A Hopf pair (Re sqrt(s) = gamma, s complex) gives exactly
  J^2 (lam^2 + g^2) = (g^2 + gamma^2)(lam^2 - gamma^2), i.e.
  lam_H^2 = (gamma^2 (g^2 + gamma^2) + J^2 g^2) / (g^2 + gamma^2 - J^2),
  valid for lam^2 < g^2 + gamma^2; lam_H = gamma + J^2 / (2 gamma) + O(J^4), which at gamma = g/2
  is the paper's Eq. (13). The next term: lam_H - (gamma + J^2/(2 gamma)) =
  J^4 (1/(2 gamma (g^2 + gamma^2)) - 1/(8 gamma^3)) + O(J^6), i.e. -J^4/5 at g = 1, gamma = 1/2
  (1.9e-5 at J = 0.1, 9.5e-4 at J = 0.3).
* The two curves meet at the Bogdanov-Takens point lam^2 = g^2 + gamma^2,
  J^2 = g^2 (g^2 + gamma^2) / (2 g^2 + gamma^2) ((J, lam) = (sqrt(5)/3, sqrt(5)/2) at g = 1,
  gamma = 1/2).

References
----------
S. Kothe and P. Kirton, Eqs. (12) and (13).
"""
from __future__ import annotations

import numpy as np

__all__ = ["eq12_Jc", "eq13_lam_c", "hopf_lam_exact", "hopf_J_exact", "bt_point"]


def eq12_Jc(lam, g: float = 1.0, gamma: float = 0.5):
    """|J_c| of the normal state's BP, Eq. (12) (exact)."""
    lam = np.asarray(lam, dtype=float)
    return np.sqrt(((gamma ** 2 - lam ** 2 + g ** 2) ** 2 + 4 * lam ** 2 * g ** 2) / (4 * (lam ** 2 + g ** 2)))


def eq13_lam_c(J, g: float = 1.0):
    """lam_c of the normal state's Hopf point to lowest order in J, Eq. (13) (for gamma = g/2)."""
    J = np.asarray(J, dtype=float)
    return 0.5 * g * (1 + 2 * J ** 2 / g ** 2)


def hopf_lam_exact(J, g: float = 1.0, gamma: float = 0.5):
    """Exact lam of the normal state's Hopf point at given J (nan beyond the BT point)."""
    J = np.asarray(J, dtype=float)
    lam2 = (gamma ** 2 * (g ** 2 + gamma ** 2) + J ** 2 * g ** 2) / (g ** 2 + gamma ** 2 - J ** 2)
    ok = (lam2 > 0) & (lam2 < g ** 2 + gamma ** 2)
    return np.where(ok, np.sqrt(np.where(ok, lam2, 1.0)), np.nan)


def hopf_J_exact(lam, g: float = 1.0, gamma: float = 0.5):
    """Exact |J| of the normal state's Hopf point at given lam, for gamma <= lam < sqrt(g^2 + gamma^2)."""
    lam = np.asarray(lam, dtype=float)
    J2 = (g ** 2 + gamma ** 2) * (lam ** 2 - gamma ** 2) / (lam ** 2 + g ** 2)
    ok = (J2 >= 0) & (lam ** 2 < g ** 2 + gamma ** 2)
    return np.where(ok, np.sqrt(np.where(ok, J2, 0.0)), np.nan)


def bt_point(g: float = 1.0, gamma: float = 0.5) -> tuple[float, float]:
    """(|J|, lam) of the Bogdanov-Takens point where the Hopf and BP curves of the normal state meet."""
    lam2 = g ** 2 + gamma ** 2
    return float(np.sqrt(g ** 2 * lam2 / (2 * g ** 2 + gamma ** 2))), float(np.sqrt(lam2))
