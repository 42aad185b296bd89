"""The :class:`OpenSystem`: a Hamiltonian and jump operators, validated once.

Interface for the exact-quantum engine (:mod:`bifurcate.quantum`), fixed:

* ``modes`` - tuple of modes in declaration order, each with ``.name`` and ``.kind``
  (``"spin"`` or ``"boson"``);
* ``parameters`` - dict name -> default (declaration order); ``param_symbols`` - name -> Symbol;
* ``hamiltonian_terms()`` - list of ``(coeff, ops)``: ``coeff`` a sympy expression in the
  parameters and ``S``, ``ops`` a tuple of ``(mode_name, op)`` (op in x, y, z, p, m for spins:
  unnormalised S^x, S^y, S^z, S^+, S^-; a, dag for bosons), an ordered product read left to
  right; H = sum coeff * prod(ops) (identity for ``ops == ()``);
* ``jump_terms()`` - list of ``(rate, terms)``, meaning ``rate * D[L]`` with
  L = sum coeff * prod(ops) over ``terms`` as above.
"""
from __future__ import annotations

import hashlib
import math
import sys
from typing import Sequence

import sympy as sp

from bifurcate.spec.operators import S, Mode, Operator, Parameter, canonical

__all__ = ["OpenSystem"]


def _zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


class OpenSystem:
    """An open quantum system ``d rho/dt = -i[H, rho] + sum_k rate_k D[L_k] rho``.

    Parameters
    ----------
    H : Operator
        Hermitian Hamiltonian (built from :func:`spin`, :func:`boson`, numbers and parameters).
    jumps : sequence of (rate, L)
        ``rate`` a real expression in the parameters and ``S`` (non-negative at the defaults), ``L``
        an operator; ``(rate, L)`` stands for ``rate * D[L]``, D[L] rho = L rho L^+ - {L^+ L, rho}/2.
    name : str
    modes : sequence of modes, optional
        Declares the modes and their order; an operator of another mode is then an error. By
        default the modes of H and the jumps, in the order they were created.
    """

    def __init__(self, H, jumps: Sequence = (), name: str = "open_system", modes: Sequence[Mode] | None = None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        # the defining module, to pickle models built from this system by reference
        self._origin = sys._getframe(1).f_globals.get("__name__")
        if isinstance(H, Operator):
            self.H = H
        else:
            try:
                self.H = Operator.coerce(H, "H")
            except TypeError:
                raise TypeError(f"H must be an operator built from spin()/boson(), numbers and parameters, "
                                f"got {H!r} of type {type(H).__name__}") from None
        if isinstance(jumps, (Operator, str)) or not hasattr(jumps, "__iter__"):
            raise TypeError(f"jumps must be a list of (rate, operator) pairs, got {jumps!r}")
        self.jumps = []
        for k, item in enumerate(jumps):
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise TypeError(f"jumps[{k}] must be a pair (rate, operator), got {item!r}")
            rate, L = item
            if isinstance(rate, Operator):
                raise TypeError(f"jumps[{k}]: the rate must be a number or a parameter expression, got the "
                                f"operator {rate!r} (the pair is (rate, operator))")
            if not isinstance(L, Operator) or L.is_zero() or all(w == () for w in L.terms):
                raise TypeError(f"jumps[{k}]: the jump must be a non-trivial operator, got {L!r}")
            try:
                rate = sp.sympify(rate, strict=True)
            except (sp.SympifyError, TypeError):
                raise TypeError(f"jumps[{k}]: the rate must be a number or a parameter expression, "
                                f"got {rate!r}") from None
            self.jumps.append((rate, L))

        # -- modes ---------------------------------------------------------------------------
        used: dict = {}
        for op in [self.H] + [L for _, L in self.jumps]:
            for m in op.modes:
                used.setdefault(id(m), m)
        if modes is not None:
            modes = tuple(modes)
            bad = [m for m in modes if not isinstance(m, Mode)]
            if bad:
                raise TypeError(f"modes must be spins or bosons (from spin()/boson()), got {bad}")
            declared = {id(m) for m in modes}
            undeclared = [m for m in used.values() if id(m) not in declared]
            if undeclared:
                raise ValueError(f"system {name!r}: operator(s) of undeclared mode(s) "
                                 f"{[m.name for m in undeclared]}; declared modes are {[m.name for m in modes]}")
            self.modes = modes
        else:
            self.modes = tuple(sorted(used.values(), key=lambda m: m.order))
        if not self.modes:
            raise ValueError(f"system {name!r}: H and the jumps act on no mode; build them from spin() or boson()")
        names = [m.name for m in self.modes]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"system {name!r}: two different modes share the name(s) {dup}; mode names must be unique")

        # -- parameters ----------------------------------------------------------------------
        symbols = set(self.H.free_symbols())
        for rate, L in self.jumps:
            symbols |= rate.free_symbols | L.free_symbols()
        symbols.discard(S)
        unknown = sorted(str(s) for s in symbols if not isinstance(s, Parameter))
        if unknown:
            raise ValueError(f"system {name!r}: unknown parameter(s) {unknown}; declare every parameter with "
                             f"bifurcate.spec.parameters(name=default) (the spin length is bifurcate.spec.S)")
        for s in list(symbols):
            symbols |= set(getattr(s, "group", ()))
        params = sorted(symbols, key=lambda s: s._order)
        seen: dict = {}
        for s in params:
            if s.name in seen:
                raise ValueError(f"system {name!r}: parameter {s.name!r} declared twice (defaults "
                                 f"{seen[s.name].default} and {s.default}); declare each parameter once")
            seen.setdefault(s.name, s)
        clash = [n for n in seen if n in {f"{c}{m.name}" for m in self.modes for c in "XYZ"}
                 | {f"{m.name}_{c}" for m in self.modes for c in ("re", "im")}]
        if clash:
            raise ValueError(f"system {name!r}: parameter name(s) {clash} clash with state names")
        self._param_symbols = dict(seen)

        # -- physics checks ------------------------------------------------------------------
        diff = canonical(self.H - self.H.dagger())
        bad = {k: v for k, v in diff.items() if not _zero(v)}
        if bad:
            raise ValueError(f"system {name!r}: the Hamiltonian is not Hermitian: H - H^dagger has the terms "
                             f"{_describe(bad)}")
        at = {s: s.default for s in self.param_symbols.values()}
        for k, (rate, _) in enumerate(self.jumps):
            for s_val in (1, 10):
                try:
                    v = complex(rate.subs(at).subs(S, s_val))
                except TypeError:
                    raise ValueError(f"system {name!r}: jumps[{k}] rate {rate} is not a number at the defaults") from None
                if abs(v.imag) > 1e-14 * max(1.0, abs(v)) or not math.isfinite(v.real):
                    raise ValueError(f"system {name!r}: jumps[{k}] rate {rate} must be real and finite, got {v} "
                                     f"at the defaults {dict(self.parameters)} and S = {s_val}")
                if v.real < 0:
                    raise ValueError(f"system {name!r}: jumps[{k}] rate {rate} is negative ({v.real:g}) at the "
                                     f"defaults {dict(self.parameters)} and S = {s_val}; a rate must be >= 0")
        self._mean_field = None

    # ------------------------------------------------------------------------------------------
    # the interface of the exact engine
    # ------------------------------------------------------------------------------------------
    @property
    def parameters(self) -> dict:
        """{name: default} in declaration order (a fresh dict)."""
        return {n: s.default for n, s in self._param_symbols.items()}

    @property
    def param_symbols(self) -> dict:
        """{name: sympy Symbol} in declaration order (a fresh dict)."""
        return dict(self._param_symbols)

    @staticmethod
    def _terms(op: Operator) -> list:
        return [(c, tuple((m.name, l) for m, l in w)) for w, c in op.terms.items()]

    def hamiltonian_terms(self) -> list:
        """H as ``[(coeff, ((mode_name, op), ...)), ...]`` (see the module docstring)."""
        return self._terms(self.H)

    def jump_terms(self) -> list:
        """The jumps as ``[(rate, [(coeff, ((mode_name, op), ...)), ...]), ...]``."""
        return [(rate, self._terms(L)) for rate, L in self.jumps]

    def mode(self, name: str) -> Mode:
        for m in self.modes:
            if m.name == name:
                return m
        raise KeyError(f"system {self.name!r} has no mode {name!r}; modes are {[m.name for m in self.modes]}")

    def __repr__(self) -> str:
        return (f"OpenSystem({self.name!r}, modes={[f'{m.kind} {m.name}' for m in self.modes]}, "
                f"params={dict(self.parameters)}, jumps={len(self.jumps)})")

    def key(self) -> str:
        """A hash of the specification (modes, parameter order, H and jumps)."""
        parts = [repr([(m.name, m.kind, str(getattr(m, "scale", ""))) for m in self.modes]),
                 repr(list(self.parameters))]

        def enc(op):
            return sorted((tuple((m.name, l) for m, l in w), sp.srepr(c)) for w, c in op.terms.items())
        parts.append(repr(enc(self.H)))
        parts += [repr((sp.srepr(r), enc(L))) for r, L in self.jumps]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    # ------------------------------------------------------------------------------------------
    # mean field and the exact steady state
    # ------------------------------------------------------------------------------------------
    def derive(self):
        """The derived :class:`bifurcate.spec.meanfield.MeanField` (computed once)."""
        if self._mean_field is None:
            from bifurcate.spec.meanfield import derive

            self._mean_field = derive(self)
        return self._mean_field

    def equations(self) -> dict:
        """Mean-field equations ``{state name: d state/dt}`` as sympy expressions on the phase space
        (spheres for spins, planes for bosons; no radial damping). See :mod:`bifurcate.spec.meanfield`."""
        mf = self.derive()
        return dict(zip(mf.state_names, mf.field))

    def state_names(self) -> tuple:
        from bifurcate.spec.meanfield import state_symbols

        return tuple(n for _, syms in state_symbols(self.modes) for n, _ in syms)

    def _locate(self):
        """(module, attribute) under which this system is defined at module level, or None."""
        mod = sys.modules.get(self._origin or "")
        if mod is None:
            return None
        for k, v in list(vars(mod).items()):
            if v is self:
                return self._origin, k
        return None

    def mean_field(self, name: str | None = None, **kwargs):
        """The mean-field :class:`bifurcate.Model` with generated kernels (see
        :func:`bifurcate.spec.kernels.build_model` for the keyword arguments)."""
        from bifurcate.spec.kernels import build_model

        return build_model(self, name=name, **kwargs)

    def steady_state(self, S, params=None, **kw):
        """Exact steady state at spin length ``S`` (see :func:`bifurcate.quantum.steady_state_system`)."""
        from bifurcate.quantum import steady_state_system

        return steady_state_system(self, S, params, **kw)


def _describe(canon: dict) -> str:
    parts = []
    for key, c in canon.items():
        word = " ".join(f"{m.name}.{''.join(w)}" for m, w in key) or "1"
        parts.append(f"({sp.simplify(c)}) {word}")
    return " + ".join(parts)
