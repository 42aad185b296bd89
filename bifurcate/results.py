"""Result objects shared by continuation, cycles and two-parameter curves.

A :class:`Branch` is a column table (one row per continuation point) plus its special points
(:class:`BifurcationPoint`). Labels follow AUTO-07p / MatCont; :data:`CROSSWALK` maps them to the
names AUTO-07p, MatCont and BifurcationKit.jl use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["BifurcationPoint", "Branch", "LABELS", "CROSSWALK", "crosswalk_frame"]

#: canonical labels and their meaning
LABELS = {
    "LP": "limit point (fold) of equilibria",
    "BP": "branch point of equilibria (here the Z2 pitchfork)",
    "HB": "Andronov-Hopf point",
    "NSad": "neutral saddle (real pair l1 + l2 = 0; not a Hopf point)",
    "LPC": "limit point (fold) of cycles",
    "PD": "period doubling (flip) of cycles",
    "NS": "Neimark-Sacker (torus) bifurcation of cycles",
    "BPC": "branch point of cycles",
    "BT": "Bogdanov-Takens",
    "GH": "generalised Hopf (Bautin): first Lyapunov coefficient vanishes",
    "ZH": "zero-Hopf (fold-Hopf, or pitchfork-Hopf with symmetry)",
    "HH": "double Hopf",
    "CP": "cusp",
    "EP": "end point of a branch",
    "UZ": "user-defined point",
    "CPC": "cusp of cycles (on an LPC curve)",
    "R1": "1:1 resonance of cycles (a double multiplier at +1)",
    "R2": "1:2 resonance of cycles (a double multiplier at -1)",
    "R3": "1:3 resonance of cycles (multipliers exp(+-2 pi i / 3))",
    "R4": "1:4 resonance of cycles (multipliers +-i)",
    "LPPD": "fold-flip of cycles (multipliers +1 and -1)",
    "LPNS": "fold-Neimark-Sacker of cycles (+1 and a complex pair on the unit circle)",
    "PDNS": "flip-Neimark-Sacker of cycles (-1 and a complex pair on the unit circle)",
    "GPD": "generalised period doubling (the PD normal-form coefficient vanishes)",
    "CH": "Chenciner point (the NS normal-form coefficient Re d vanishes)",
    "HOM": "homoclinic orbit to a saddle",
    "NSS": "neutral saddle homoclinic orbit (saddle quantity sigma = lambda_s + lambda_u = 0)",
}

#: label -> (AUTO-07p, MatCont, BifurcationKit.jl)
CROSSWALK = {
    "LP": ("LP", "LP", ":fold"),
    "BP": ("BP", "BP", ":bp"),
    "HB": ("HB", "H", ":hopf"),
    "NSad": ("-", "H (neutral saddle)", ":hopf (filtered)"),
    "LPC": ("LP", "LPC", ":fold"),
    "PD": ("PD", "PD", ":pd"),
    "NS": ("TR", "NS", ":ns"),
    "BPC": ("BP", "BPC", ":bp"),
    "BT": ("BT", "BT", ":bt"),
    "GH": ("GH", "GH", ":gh"),
    "ZH": ("ZH", "ZH", ":zh"),
    "HH": ("HH", "HH", ":hh"),
    "CP": ("CP", "CP", ":cusp"),
    "EP": ("EP", "-", ":endpoint"),
    "UZ": ("UZ", "-", ":user"),
    "CPC": ("-", "CPC", ":cusp"),
    "R1": ("-", "R1", ":R1"),
    "R2": ("-", "R2", ":R2"),
    "R3": ("-", "R3", ":R3"),
    "R4": ("-", "R4", ":R4"),
    "LPPD": ("-", "LPPD", ":foldFlip"),
    "LPNS": ("-", "LPNS", ":foldNS"),
    "PDNS": ("-", "PDNS", ":pdNS"),
    "GPD": ("-", "GPD", ":gpd"),
    "CH": ("-", "CH", ":ch"),
    "HOM": ("HomCont", "Hom", "-"),
    "NSS": ("NS (HomCont)", "NSS", "-"),
}


def crosswalk_frame() -> pd.DataFrame:
    """The label crosswalk as a table (label, meaning, AUTO-07p, MatCont, BifurcationKit)."""
    rows = [(k, LABELS[k], *CROSSWALK[k]) for k in LABELS]
    return pd.DataFrame(rows, columns=["label", "meaning", "AUTO-07p", "MatCont", "BifurcationKit"])


@dataclass(frozen=True, eq=False)
class BifurcationPoint:
    """A special point on a branch.

    Attributes
    ----------
    kind : str
        Canonical label (see :data:`LABELS`).
    param : float
        Value of the continuation parameter at the point.
    state : ndarray (n,)
        State (for cycles: a point of the cycle; the full orbit is in ``data["orbit"]``).
    params : dict
        All parameter values at the point (for codim-2 points both parameters vary).
    index : int
        Row of the branch after which the point lies.
    located : bool
        True if localised (bisection / Newton on the test function) to ``precision``; False if
        only bracketed between rows ``index`` and ``index + 1``.
    precision : float
        Width of the final parameter bracket (or the residual of the defining system).
    bracket : (float, float)
        Parameter values of the two rows bracketing the point.
    eigenvalues : ndarray or None
        Tangent-space eigenvalues (equilibria) or Floquet multipliers (cycles) at the point.
    data : dict
        Extra information: e.g. ``omega`` and ``l1`` (first Lyapunov coefficient) and
        ``criticality`` for Hopf points, ``period`` for cycles, ``test`` values.
    """

    kind: str
    param: float
    state: np.ndarray
    params: dict
    index: int
    located: bool
    precision: float
    bracket: tuple
    eigenvalues: np.ndarray | None = None
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in LABELS:
            raise ValueError(f"unknown bifurcation label {self.kind!r}; expected one of {sorted(LABELS)}")

    def __repr__(self) -> str:
        loc = "located" if self.located else "bracketed"
        extra = ""
        if "criticality" in self.data:
            extra = f", {self.data['criticality']}"
        return f"BifurcationPoint({self.kind} at {self.param:.10g}, {loc} to {self.precision:.1e}{extra})"

    def to_dict(self, state_names=None) -> dict:
        """Flat dictionary (one row of :meth:`Branch.points_frame`)."""
        d = {"kind": self.kind, "param": self.param, "index": self.index, "located": self.located,
             "precision": self.precision, "bracket_lo": self.bracket[0], "bracket_hi": self.bracket[1]}
        d.update(self.params)
        names = state_names or [f"y{i}" for i in range(len(self.state))]
        d.update({k: float(v) for k, v in zip(names, self.state)})
        for k, v in self.data.items():
            if np.isscalar(v) or isinstance(v, str):
                d[k] = v
        return d


@dataclass(frozen=True, eq=False)
class Branch:
    """A continued branch as columns.

    Attributes
    ----------
    model : Model
    param : str
        Name of the continuation parameter (for two-parameter curves, the first one).
    kind : str
        "equilibrium", "cycle", or the label of a two-parameter curve ("BP", "HB", "LPC", ...).
    params : dict
        Parameter values held fixed (the base point).
    param_values : ndarray (m,)
    states : ndarray (m, n)
        Equilibrium states; for cycles, one point of each cycle (see ``columns``).
    eigenvalues : ndarray (m, d), complex
        Tangent-space eigenvalues (equilibria) or Floquet multipliers (cycles).
    stable : ndarray (m,) of bool
    n_unstable : ndarray (m,) of int
        Number of unstable directions (eigenvalues with positive real part, or multipliers
        outside the unit circle, the trivial one excluded).
    points : tuple of BifurcationPoint
    columns : dict of str -> ndarray (m,)
        Extra columns, e.g. ``period``, the second parameter of a codim-2 curve, arclength.
    status : int
        0 if the branch ended where asked, negative otherwise.
    message : str
    options : Any
    stats : dict
        Run statistics (steps, rejected steps, Newton iterations, wall time).
    """

    model: Any = field(repr=False)
    param: str
    kind: str
    params: dict
    param_values: np.ndarray
    states: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    points: tuple = ()
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    status: int = 0
    message: str = "success"
    options: Any = None
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.param_values)

    @property
    def success(self) -> bool:
        return self.status == 0

    def special(self, kind: str) -> list[BifurcationPoint]:
        """Special points of one kind, in branch order."""
        return [p for p in self.points if p.kind == kind]

    def to_frame(self) -> pd.DataFrame:
        """One row per continuation point: the parameters (the continued one varying), the
        state names, ``stable``, ``n_unstable``, extra columns, and ``label`` (the special point
        lying just after the row, if any)."""
        m = len(self)
        df = pd.DataFrame({k: np.full(m, v) for k, v in self.params.items()})
        df[self.param] = self.param_values
        for k, v in self.columns.items():
            df[k] = v
        st = pd.DataFrame(self.states, columns=list(self.model.state_names))
        df = pd.concat([df.reset_index(drop=True), st], axis=1)
        df["stable"] = self.stable
        df["n_unstable"] = self.n_unstable
        for j in range(self.eigenvalues.shape[1] if self.eigenvalues.ndim == 2 else 0):
            df[f"ev{j}_re"] = self.eigenvalues[:, j].real
            df[f"ev{j}_im"] = self.eigenvalues[:, j].imag
        label = np.full(m, "", dtype=object)
        for p in self.points:
            if 0 <= p.index < m:
                label[p.index] = p.kind if not label[p.index] else label[p.index] + "," + p.kind
        df["label"] = label
        df.insert(0, "branch_kind", self.kind)
        return df

    def points_frame(self) -> pd.DataFrame:
        """One row per special point."""
        return pd.DataFrame([p.to_dict(list(self.model.state_names)) for p in self.points])
