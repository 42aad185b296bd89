"""Generated numba kernels of a mean-field model, and the :class:`~bifurcate.Model` built on them.

For a system with spheres s (one per spin) the kernels integrate the radially damped field ::

    F_i(y) = f_i(y) - kappa_s (|r_s|^2 - 1) y_i          (i in sphere s; bosons: F_i = f_i)

where f is the derived field (:mod:`bifurcate.spec.meanfield`) and kappa_s = 1 + 2 B_s, B_s a bound
of |h_s| on the spheres, h_s being defined by r_s . f_s = (|r_s|^2 - 1) h_s (for the LMG dimer
h_A = gamma Z_A and kappa = 1 + 2|gamma|, exactly the hand-written kernels' choice). The added
term vanishes on the spheres, so the flow there is unchanged, and the radial eigenvalue at an
equilibrium becomes 2 h_s - 2 kappa_s < -2: the spheres attract.

The generated module (one file per specification, named by a hash of the specification and of the
generator's source, written into :func:`bifurcate.kernels.codegen.cache_dir`) defines

* ``rhs(y, p, out)`` - F (n,);
* ``jac(y, p, out)`` - dF/dy (n, n), exact;
* ``dparams(y, p, out)`` - dF/dp (n, n_params), exact;
* ``d2(y, p, u, v, out)`` - sum_jk d^2F_i/dy_j dy_k u_j v_k (n,);
* ``d3(y, p, u, v, w, out)`` - sum_jkl d^3F_i/dy_j dy_k dy_l u_j v_k w_l (n,);

all ``@njit(cache=True)``; a new process imports the same file and numba serves the machine code
from its disk cache (no sympy derivation, no compilation).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["build_model", "kernel_module", "generated_source"]

_LOCK = threading.Lock()
_LOADED: dict[str, ModuleType] = {}
_HERE = Path(__file__).resolve().parent


class _Printer(PythonCodePrinter):
    def _print_sign(self, expr):
        a = self._print(expr.args[0])
        return f"(1.0 if {a} > 0 else (-1.0 if {a} < 0 else 0.0))"

    def _print_Rational(self, expr):
        return f"({float(expr.p)}/{float(expr.q)})"

    def _print_Integer(self, expr):
        return str(int(expr))

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if e.is_Integer and 2 <= int(e) <= 4:
            bb = self.parenthesize(b, sp.printing.precedence.PRECEDENCE["Mul"] + 1)
            return "*".join([bb] * int(e))
        if e == -1:
            return f"(1.0/{self.parenthesize(b, sp.printing.precedence.PRECEDENCE['Pow'])})"
        return super()._print_Pow(expr, rational=rational)


def _printer():
    return _Printer({"fully_qualified_modules": True, "standard": "python3"})


class _PlainPrinter(_Printer):
    """Plain arithmetic (``+ - * / **``, parentheses, ``abs``): the text of the equations that
    AUTO problems and the symmetry check evaluate without any module."""

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if e == sp.Rational(1, 2):
            return f"({self._print(b)})**0.5"
        if e == -sp.Rational(1, 2):
            return f"({self._print(b)})**(-0.5)"
        return super()._print_Pow(expr, rational=rational)


def _plain(expr) -> str:
    text = _PlainPrinter({"fully_qualified_modules": True, "standard": "python3"}).doprint(expr)
    if "math." in text:
        raise ValueError(f"cannot write {expr} as plain arithmetic (for AUTO-07p)")
    return text


def _block(name: str, args: str, exprs: list, shape: tuple, subs: dict, head: list) -> list:
    """Lines of one kernel writing ``exprs`` (flat, row-major for 2-D) into ``out``."""
    pr = _printer()
    exprs = [sp.sympify(e).xreplace(subs) for e in exprs]
    repl, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_c"), optimizations="basic")
    lines = ["@njit", f"def {name}({args}):"] + head
    for s, e in repl:
        lines.append(f"    {s} = {pr.doprint(e)}")
    for k, e in enumerate(reduced):
        idx = str(k) if len(shape) == 1 else f"{k // shape[1]}, {k % shape[1]}"
        lines.append(f"    out[{idx}] = {pr.doprint(e) if e != 0 else '0.0'}")
    lines.append("    return 0")
    return lines + ["", ""]


def generated_source(system) -> tuple[str, dict]:
    """Source of the kernel module of ``system`` and metadata (state names, spheres, equations)."""
    mf = system.derive()
    n = len(mf.states)
    params = list(system.param_symbols.values())
    ys = [sp.Symbol(f"_y{i}", real=True) for i in range(n)]
    ps = [sp.Symbol(f"_p{j}", real=True) for j in range(len(params))]
    us = [sp.Symbol(f"_u{i}", real=True) for i in range(n)]
    vs = [sp.Symbol(f"_v{i}", real=True) for i in range(n)]
    ws = [sp.Symbol(f"_w{i}", real=True) for i in range(n)]
    subs = dict(zip(mf.states, ys))
    subs.update(dict(zip(params, ps)))

    F = list(mf.field)
    for (i, j, k), kap in zip(mf.spheres, mf.kappa):
        c = kap * (mf.states[i] ** 2 + mf.states[j] ** 2 + mf.states[k] ** 2 - 1)
        for q in (i, j, k):
            F[q] = F[q] - c * mf.states[q]
    F = [f.xreplace(subs) for f in F]
    J = [sp.diff(f, y) for f in F for y in ys]
    DP = [sp.diff(f, p) for f in F for p in ps]
    Ju = [sum((sp.diff(f, y) * u for y, u in zip(ys, us)), sp.Integer(0)) for f in F]
    D2 = [sp.expand(sum((sp.diff(g, y) * v for y, v in zip(ys, vs)), sp.Integer(0))) for g in Ju]
    D3 = [sp.expand(sum((sp.diff(g, y) * w for y, w in zip(ys, ws)), sp.Integer(0))) for g in D2]

    def unpack(prefix, count):
        return [f"    _{prefix}{i} = {prefix}[{i}]" for i in range(count)]

    head = unpack("y", n) + unpack("p", len(ps))
    # a kernel only unpacks what it uses (numba drops dead loads anyway; this keeps the text short)
    lines = ["# generated by bifurcate.spec.kernels; do not edit",
             f"# system: {system.name}",
             "import math",
             "",
             "from bifurcate._numba import njit",
             "",
             f"STATE_NAMES = {tuple(mf.state_names)!r}",
             f"PARAM_NAMES = {tuple(system.parameters)!r}",
             f"SPHERES = {tuple(tuple(s) for s in mf.spheres)!r}",
             f"EQUATIONS = {tuple(_plain(f) for f in mf.field)!r}",
             f"KAPPA = {tuple(_plain(k) for k in mf.kappa)!r}",
             "", ""]
    lines += _block("rhs", "y, p, out", F, (n,), {}, head)
    lines += _block("jac", "y, p, out", J, (n, n), {}, head)
    lines += _block("dparams", "y, p, out", DP, (n, len(ps)), {}, head)
    lines += _block("d2", "y, p, u, v, out", D2, (n,), {}, head + unpack("u", n) + unpack("v", n))
    lines += _block("d3", "y, p, u, v, w, out", D3, (n,), {},
                    head + unpack("u", n) + unpack("v", n) + unpack("w", n))
    src = "\n".join(lines)
    return src, {"state_names": mf.state_names, "spheres": mf.spheres}


def _generator_hash() -> str:
    h = hashlib.sha256()
    for f in ("kernels.py", "meanfield.py", "operators.py"):
        h.update((_HERE / f).read_bytes())
    import numba

    h.update(numba.__version__.encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def kernel_module(system) -> ModuleType:
    """Import (deriving and writing it first if needed) the generated kernel module of ``system``."""
    from bifurcate.kernels.codegen import cache_dir

    digest = hashlib.sha256((system.key() + _generator_hash()).encode()).hexdigest()[:16]
    safe = "".join(ch if ch.isalnum() else "_" for ch in system.name)[:40]
    modname = f"_bk_spec_{safe}_{digest}"
    with _LOCK:
        if modname in _LOADED:
            return _LOADED[modname]
        path = cache_dir() / f"{modname}.py"
        if not path.exists():
            src, _ = generated_source(system)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(src)
            os.replace(tmp, path)   # atomic: concurrent processes never import half a file
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        _LOADED[modname] = mod
        return mod


def build_model(system, name: str | None = None, *, module: str | None = None, attr: str | None = None,
                symmetries=(), state_names=None, description: str = "", references: str = "",
                check: bool = True):
    """The mean-field :class:`bifurcate.Model` of ``system``.

    Parameters
    ----------
    name : str, default ``system.name``
    module, attr : str
        Where the model is defined (``module=__name__, attr="MY_MODEL"``), so that the model pickles
        by reference to other processes; that module must also export the kernels as ``rhs`` and
        ``jac`` (``rhs, jac = MY_MODEL.rhs, MY_MODEL.jac``). By default: the module attribute that
        holds ``system`` if it is defined at module level (a worker then rebuilds the model from it),
        else the generated module (the model then works in this process only).
    symmetries : sequence of :class:`bifurcate.Symmetry`
        Declared symmetries; each is verified on the derived field at random points of the phase
        space (a ``ValueError`` names the one that fails).
    state_names : sequence of str, optional
        Names replacing the derived ones (``XA, YA, ZA`` for spin A, ``a_re, a_im`` for boson a),
        in the same order.
    check : bool
        Verify the declared symmetries (default True).
    """
    from bifurcate.model import Model, Symmetry, SphereProduct

    mod = kernel_module(system)
    n = len(mod.STATE_NAMES)
    if state_names is None:
        state_names = mod.STATE_NAMES
    elif len(tuple(state_names)) != n or not all(isinstance(s, str) for s in state_names):
        raise ValueError(f"state_names must be {n} strings (for {mod.STATE_NAMES}), got {state_names!r}")
    symmetries = tuple(symmetries)
    for s in symmetries:
        if not isinstance(s, Symmetry):
            raise TypeError(f"symmetries must be bifurcate.Symmetry objects, got {s!r}")
        if np.shape(s.matrix) != (n, n):
            raise ValueError(f"symmetry {s.name!r}: expected an ({n}, {n}) matrix for states {mod.STATE_NAMES}, "
                             f"got shape {np.shape(s.matrix)}")
    if module is None:
        # a system defined at module level pickles as that module's attribute (get_model calls
        # its mean_field() in the worker); otherwise the model lives in this process only
        module, attr = system._locate() or (mod.__name__, "MODEL")
    model = Model(
        name=name or system.name,
        state_names=tuple(state_names),
        param_names=mod.PARAM_NAMES,
        defaults=dict(system.parameters),
        rhs=mod.rhs,
        jac=mod.jac,
        geometry=SphereProduct(mod.SPHERES, n=n),
        module=module,
        attr=attr or "MODEL",
        symmetries=symmetries,
        description=description or f"mean field of the open system {system.name!r} (generated)",
        references=references,
    )
    _DERIVATIVES[mod.rhs] = mod
    _SYSTEMS[mod.rhs] = system
    if check and symmetries:
        failed = _verify_symmetries(mod, model)
        if failed:
            raise ValueError(f"model {model.name!r}: declared symmetry does not hold: {'; '.join(failed)}")
    return model


def _verify_symmetries(mod, model, n_points: int = 12, seed: int = 12345, rtol: float = 1e-10) -> list:
    """Messages for the declared symmetries that fail f(M y) = s M f(y) on the derived field (no
    radial damping), at random points of the phase space and random parameters near the defaults.

    Evaluated from the generated equations in plain Python (no compilation at import)."""
    import math

    code = [compile(e, f"<equation {k}>", "eval") for k, e in enumerate(mod.EQUATIONS)]
    names = list(mod.STATE_NAMES) + list(mod.PARAM_NAMES)

    def field(y, p):
        env = dict(zip(names, list(y) + list(p)))
        return np.array([eval(c, {"__builtins__": {}, "math": math, "abs": abs}, env) for c in code], dtype=float)

    rng = np.random.default_rng(seed)
    p0 = np.array([model.defaults[k] for k in model.param_names])
    failed = []
    for sym in model.symmetries:
        M = np.asarray(sym.matrix, dtype=float)
        sgn = -1.0 if sym.reverses_time else 1.0
        worst = 0.0
        for _ in range(n_points):
            y = model.geometry.random_points(1, rng, scale=1.0)[0]
            p = p0 + rng.normal(size=p0.size)
            lhs, rhs = field(M @ y, p), sgn * (M @ field(y, p))
            worst = max(worst, float(np.max(np.abs(lhs - rhs))) / max(1.0, float(np.max(np.abs(rhs)))))
        if not worst <= rtol:
            failed.append(f"{'time-reversing ' if sym.reverses_time else ''}symmetry {sym.name!r}: "
                          f"f(M y) != {'-' if sgn < 0 else ''}M f(y) (relative error {worst:.2e} at random points)")
    return failed


_DERIVATIVES: dict = {}
_SYSTEMS: dict = {}


def derivatives(model):
    """The generated module (``dparams``, ``d2``, ``d3``) of a model built from a specification, or None."""
    return _DERIVATIVES.get(model.rhs)


def system_of(model):
    """The :class:`OpenSystem` a model was built from, or None for a hand-written model."""
    return _SYSTEMS.get(model.rhs)


def auto_problem(model_or_system, name: str | None = None):
    """The AUTO-07p problem (:class:`bifurcate.backends.auto07p.AutoProblem`) of a specification.

    The equations are the radially damped field of the engine's kernels, with one derived
    parameter ``kappa_<spin>`` per sphere (held fixed during an AUTO run, like the hand-written
    problem's ``kappa``). Accepts an :class:`OpenSystem` or a model built from one.
    """
    from bifurcate.backends.auto07p import AutoProblem
    from bifurcate.spec.system import OpenSystem

    system = model_or_system if isinstance(model_or_system, OpenSystem) else system_of(model_or_system)
    if system is None:
        raise TypeError(f"auto_problem expects an OpenSystem or a model built from one (OpenSystem.mean_field()), "
                        f"got {model_or_system!r}")
    if name is None:
        name = system.name if isinstance(model_or_system, OpenSystem) else model_or_system.name
    mod = kernel_module(system)
    eqs = list(mod.EQUATIONS)
    kappas = {}
    for (i, j, k), kap in zip(mod.SPHERES, mod.KAPPA):
        kname = f"kappa_{mod.STATE_NAMES[i][1:]}"
        kappas[kname] = kap
        sq = f"({mod.STATE_NAMES[i]}**2 + {mod.STATE_NAMES[j]}**2 + {mod.STATE_NAMES[k]}**2 - 1)"
        for q in (i, j, k):
            eqs[q] = f"{eqs[q]} - {kname}*{sq}*{mod.STATE_NAMES[q]}"
    return AutoProblem(name=name, state_names=mod.STATE_NAMES, param_names=tuple(mod.PARAM_NAMES) + tuple(kappas),
                       equations=tuple(eqs), defaults=dict(system.parameters), derived=kappas,
                       description=f"mean field of the open system {system.name!r} (generated), radially damped")
