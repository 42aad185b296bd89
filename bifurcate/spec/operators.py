"""Operators of a specification: collective spins, bosonic modes, parameters and their algebra.

An :class:`Operator` is a finite sum ``sum_w c_w w`` of words ``w`` (ordered products of letters
``(mode_name, op)``) with sympy coefficients ``c_w`` in the parameters and the spin length ``S``.
Products concatenate words (nothing is reordered: ``A.x * A.y`` and ``A.y * A.x`` are different
words); :func:`canonical` brings an operator to a normal-ordered form with the commutation rules

* spin (letters ``x, y, z, p, m`` = S^x, S^y, S^z, S^+, S^-; unnormalised, spin length S):
  x = (p + m)/2, y = (p - m)/(2i); order p < z < m with
  z p = p (z + 1),  m z = (z + 1) m,  m p = p m - 2 z;
* boson (``a``, ``dag``): a dag = dag a + 1 (normal order);
* letters of different modes commute (sorted by mode declaration order).

Two operators are equal iff their canonical forms are (up to the spin Casimir, which is not used:
S^+ S^- and S(S+1) - S_z^2 + S_z are different canonical words).
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from numbers import Number
from typing import Mapping

import sympy as sp

__all__ = ["S", "Parameter", "parameters", "Mode", "Spin", "Boson", "spin", "boson", "Operator",
           "canonical", "SPIN_OPS", "BOSON_OPS"]

#: The spin length (every collective spin of a specification has length S).
S = sp.Symbol("S", positive=True)

SPIN_OPS = ("x", "y", "z", "p", "m")
BOSON_OPS = ("a", "dag")
_COUNTER = itertools.count()


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
class Parameter(sp.Symbol):
    """A real model parameter: a sympy symbol that carries its default value.

    Every declaration makes a distinct symbol; a system that uses two declarations of one name
    is rejected.
    """

    def __new__(cls, name: str, default: float):
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.default = float(default)
        obj._order = next(_COUNTER)
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self.default), {})

    def _hashable_content(self):
        # each declaration is its own symbol (sympy caches expressions by equality: two equal
        # parameters from different declarations would be silently interchanged)
        return (self.name, self._order) + tuple(sorted(self.assumptions0.items()))


def parameters(**defaults: float):
    """Declare parameters with their defaults; returns their symbols in the order given.

    Parameters declared in one call belong together: a system that uses any of them has all of
    them as parameters (in this order), used in its equations or not.
    ``g, gamma = parameters(g=1.0, gamma=0.5)``; one name gives one symbol (not a tuple).
    """
    if not defaults:
        raise ValueError("parameters() expects at least one name=default, got none")
    out = []
    for name, value in defaults.items():
        if name == "S":
            raise ValueError("parameter name 'S' is reserved for the spin length (bifurcate.spec.S)")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"default of parameter {name!r} must be a real number, got {value!r}") from None
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"default of parameter {name!r} must be finite, got {v}")
        out.append(Parameter(name, v))
    for prm in out:
        prm.group = tuple(out)   # declared together: a system using one has them all as parameters
    return out[0] if len(out) == 1 else tuple(out)


# --------------------------------------------------------------------------------------------
# modes
# --------------------------------------------------------------------------------------------
class Mode:
    """A quantum mode of a specification (base class of :class:`Spin` and :class:`Boson`)."""

    kind = ""

    def __init__(self, name: str):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"mode name must be an identifier string, got {name!r}")
        self.name = name
        self.order = next(_COUNTER)

    def _op(self, letter: str) -> "Operator":
        return Operator({((self, letter),): sp.Integer(1)})

    def __repr__(self) -> str:
        return f"{self.kind}({self.name!r})"


class Spin(Mode):
    """A collective spin of length ``S``: ``.x, .y, .z`` (S^x, S^y, S^z), ``.p, .m`` (S^+, S^-).

    Mean field: X = <S^x>/S etc. on the unit sphere; state names ``X<name>, Y<name>, Z<name>``.
    """

    kind = "spin"

    @property
    def x(self):
        return self._op("x")

    @property
    def y(self):
        return self._op("y")

    @property
    def z(self):
        return self._op("z")

    @property
    def p(self):
        return self._op("p")

    @property
    def m(self):
        return self._op("m")


class Boson(Mode):
    """A bosonic mode: ``.a`` (annihilation) and ``.dag`` (creation).

    Mean field: alpha = <a>/scale with ``scale = sqrt(S)`` by default (pass ``scale=1`` for a mode
    that is not scaled with the spins); state names ``<name>_re, <name>_im``.
    """

    kind = "boson"

    def __init__(self, name: str, scale=None):
        super().__init__(name)
        self.scale = sp.sqrt(S) if scale is None else sp.sympify(scale)
        bad = self.scale.free_symbols - {S}
        if bad:
            raise ValueError(f"boson {name!r}: scale must be an expression in S only, got {self.scale}")

    @property
    def a(self):
        return self._op("a")

    @property
    def dag(self):
        return self._op("dag")


def spin(name: str) -> Spin:
    """A collective spin of length ``bifurcate.spec.S`` named ``name``."""
    return Spin(name)


def boson(name: str, scale=None) -> Boson:
    """A bosonic mode named ``name`` (mean field normalised by ``scale``, default sqrt(S))."""
    return Boson(name, scale)


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------
def _scalar(value, what: str):
    if isinstance(value, Operator):
        return None
    if isinstance(value, (Number, sp.Expr)) and not isinstance(value, bool):
        v = sp.sympify(value)
        if v.has(sp.zoo, sp.oo, sp.nan):
            raise ValueError(f"{what}: expected a finite number, got {value!r}")
        return v
    raise TypeError(f"{what}: expected an operator, a number or a parameter expression, got {value!r} "
                    f"of type {type(value).__name__}")


class Operator:
    """A polynomial in mode operators with parameter coefficients (see the module docstring).

    ``terms``: dict word -> sympy coefficient, a word being a tuple of ``(mode, letter)``.
    """

    __slots__ = ("terms",)
    __array_priority__ = 100

    def __init__(self, terms: Mapping | None = None):
        clean = {}
        for w, c in (terms or {}).items():
            c = sp.sympify(c)
            if c != 0:
                clean[tuple(w)] = c
        self.terms = clean

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def identity(cls, coeff=1) -> "Operator":
        return cls({(): coeff})

    @staticmethod
    def coerce(value, what: str = "operand") -> "Operator":
        if isinstance(value, Operator):
            return value
        return Operator.identity(_scalar(value, what))

    # -- arithmetic ------------------------------------------------------------------------
    def __add__(self, other):
        other = Operator.coerce(other, "operator +")
        terms = dict(self.terms)
        for w, c in other.terms.items():
            terms[w] = terms.get(w, 0) + c
        return Operator(terms)

    __radd__ = __add__

    def __neg__(self):
        return Operator({w: -c for w, c in self.terms.items()})

    def __pos__(self):
        return self

    def __sub__(self, other):
        return self + (-Operator.coerce(other, "operator -"))

    def __rsub__(self, other):
        return Operator.coerce(other, "operator -") + (-self)

    def __mul__(self, other):
        if not isinstance(other, Operator):
            s = _scalar(other, "operator *")
            return Operator({w: c * s for w, c in self.terms.items()})
        terms: dict = {}
        for w1, c1 in self.terms.items():
            for w2, c2 in other.terms.items():
                w = w1 + w2
                terms[w] = terms.get(w, 0) + c1 * c2
        return Operator(terms)

    def __rmul__(self, other):
        s = _scalar(other, "operator *")
        return Operator({w: s * c for w, c in self.terms.items()})

    def __truediv__(self, other):
        s = _scalar(other, "operator /")
        if s is None:
            raise TypeError("operator /: division by an operator is not defined; divide by a number or "
                            "a parameter expression")
        if s == 0:
            raise ZeroDivisionError("operator /: division by zero")
        return self * (1 / s)

    def __pow__(self, n):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"operator **: expected a non-negative integer power, got {n!r}")
        out = Operator.identity()
        for _ in range(n):
            out = out * self
        return out

    # -- structure -------------------------------------------------------------------------
    def dagger(self) -> "Operator":
        """Hermitian conjugate (parameters and S are real)."""
        return Operator({tuple((m, _DAG[l]) for m, l in reversed(w)): sp.conjugate(c)
                         for w, c in self.terms.items()})

    @property
    def modes(self) -> tuple:
        seen = {}
        for w in self.terms:
            for m, _ in w:
                seen.setdefault(id(m), m)
        return tuple(sorted(seen.values(), key=lambda m: m.order))

    def free_symbols(self) -> set:
        out = set()
        for c in self.terms.values():
            out |= c.free_symbols
        return out

    def is_zero(self) -> bool:
        return not self.terms

    def __repr__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for w, c in self.terms.items():
            word = "*".join(f"{m.name}.{l}" for m, l in w) or "1"
            parts.append(f"({c})*{word}")
        return " + ".join(parts)


_DAG = {"x": "x", "y": "y", "z": "z", "p": "m", "m": "p", "a": "dag", "dag": "a"}


# --------------------------------------------------------------------------------------------
# normal ordering
# --------------------------------------------------------------------------------------------
_SPIN_RANK = {"p": 0, "z": 1, "m": 2}


@lru_cache(maxsize=None)
def _spin_word(word: tuple) -> tuple:
    """Canonical form of a word in p, z, m: tuple of (coefficient, word) with ordered words."""
    for i in range(len(word) - 1):
        a, b = word[i], word[i + 1]
        if _SPIN_RANK[a] > _SPIN_RANK[b]:
            pre, post = word[:i], word[i + 2:]
            if (a, b) == ("z", "p"):      # z p = p z + p
                repl = [(1, ("p", "z")), (1, ("p",))]
            elif (a, b) == ("m", "z"):    # m z = z m + m
                repl = [(1, ("z", "m")), (1, ("m",))]
            else:                          # m p = p m - 2 z
                repl = [(1, ("p", "m")), (-2, ("z",))]
            acc: dict = {}
            for c, r in repl:
                for c2, w2 in _spin_word(pre + r + post):
                    acc[w2] = acc.get(w2, 0) + c * c2
            return tuple((c, w) for w, c in acc.items() if c != 0)
    return ((1, word),)


@lru_cache(maxsize=None)
def _boson_word(word: tuple) -> tuple:
    for i in range(len(word) - 1):
        if word[i] == "a" and word[i + 1] == "dag":   # a dag = dag a + 1
            pre, post = word[:i], word[i + 2:]
            acc: dict = {}
            for r in (("dag", "a"), ()):
                for c2, w2 in _boson_word(pre + r + post):
                    acc[w2] = acc.get(w2, 0) + c2
            return tuple((c, w) for w, c in acc.items() if c != 0)
    return ((1, word),)


def _expand_xy(letters: tuple) -> list:
    """x = (p + m)/2, y = (p - m)/(2 i): list of (coeff, word in p, z, m)."""
    out = [(sp.Integer(1), ())]
    for l in letters:
        if l == "x":
            opts = [(sp.Rational(1, 2), "p"), (sp.Rational(1, 2), "m")]
        elif l == "y":
            opts = [(-sp.I / 2, "p"), (sp.I / 2, "m")]
        else:
            opts = [(sp.Integer(1), l)]
        out = [(c * c2, w + (l2,)) for c, w in out for c2, l2 in opts]
    return out


def canonical(op: Operator) -> dict:
    """Normal-ordered form: dict {((mode, word), ...) sorted by mode order: coefficient}.

    Spin words use p, z, m in the order p^a z^b m^c; boson words dag^a a^b.
    """
    result: dict = {}
    for w, c in op.terms.items():
        # group letters by mode (different modes commute)
        groups: dict = {}
        for m, l in w:
            groups.setdefault(m, []).append(l)
        modes = sorted(groups, key=lambda m: m.order)
        per_mode = []
        for m in modes:
            letters = tuple(groups[m])
            if m.kind == "spin":
                acc: dict = {}
                for c1, w1 in _expand_xy(letters):
                    for c2, w2 in _spin_word(w1):
                        acc[w2] = acc.get(w2, 0) + c1 * c2
                per_mode.append([(cc, (m, ww)) for ww, cc in acc.items()])
            else:
                per_mode.append([(sp.Integer(cc), (m, ww)) for cc, ww in _boson_word(letters)])
        for combo in itertools.product(*per_mode):
            coeff = c
            key = []
            for cc, (m, ww) in combo:
                coeff = coeff * cc
                if ww:
                    key.append((m, ww))
            key = tuple(key)
            result[key] = result.get(key, 0) + coeff
    out = {}
    for k, v in result.items():
        v = sp.expand(v)
        if v != 0:
            out[k] = v
    return out
