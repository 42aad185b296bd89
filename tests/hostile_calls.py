"""Count how the public API answers hostile but fair calls (not a test: a survey).

Run ``python -m tests.hostile_calls`` (a few minutes; ``--first`` for the first set only, ``--fresh``
for the second only). For each public function and argument
a fixed list of bad values is tried (NaN, infinities, strings, booleans, non-integral counts,
negative counts, reversed intervals, wrong shapes, zero-length spins ...), the other arguments
valid and small. Each call is classified as

``clear``     ValueError / TypeError / KeyError whose message names the argument;
``unnamed``   one of those types, but the message does not name the argument;
``deep``      any other exception (from numpy, scipy, numba ...);
``status``    a result whose status is not success (the result says why it is not trusted);
``accepted``  a result with status success for a bad value: nonsense reported as success;
``timeout``   no answer within the time limit (SIGALRM; compiled code may not be interruptible);
``valid``     a result with status success for a value that is not bad after all (listed in
              :data:`DOCUMENTED` with the reason: documented, e.g. ``n_seeds=0`` means "pole seeds
              only", or a result checked independently).

A status is trusted when it is ``0``, ``"ok"`` or ``"success"`` (the quantum results use strings). The
second half of the calls (``fresh_targets``) is a set written after the first survey's fixes, over
every public entry point (integrate ... spectral_correspondence).

The summary prints, per function, bad calls tried and each class, then the calls that were not
clear, so that the owner of each function can fix them.
"""
from __future__ import annotations

import signal
import sys
import time
from collections import Counter, defaultdict

import numpy as np

TIMEOUT = 30
BAD_REAL = [np.nan, np.inf, -np.inf, "1.0", True, 1j, [1.0], None]
BAD_COUNT = [0, -1, 2.5, 2.0, "3", np.nan, True, None, 10 ** 30]
BAD_SEED = [-1, 1.5, "1", [1, 2]]
BAD_PARAMS = ["J=1.5", {"J": np.nan}, {"J": "1"}, {"Jx": 1.0}, {"J": np.inf}, [1.0, 2.0], {"J": True}]
BAD_STATE = [np.zeros(6), np.full(6, np.nan), np.ones(5), "normal", [[1, 0, 0, 0, 0, 1]], np.array([0, 0, -1, 0, 0, 1j])]
#: bad for functions taking a batch of states (m, n): a (1, 6) array is a valid batch there
BAD_BATCH = [np.zeros((2, 6)), np.full((1, 6), np.nan), np.ones((2, 5)), "normal", np.zeros((2, 2, 2, 6)),
             np.array([[0, 0, -1, 0, 0, 1j]])]


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


#: (function, argument, repr(value)) -> why the value is valid (documented), not a bad call
DOCUMENTED = {
    ("find_equilibria", "n_seeds", "0"): "n_seeds=0: no random seeds, only the pole seeds (documented minimum 0)",
    ("continue_equilibria", "p_min/p_max", "(0.0, inf)"): "an unbounded side: the branch is bounded by max_steps",
    ("census", "t_total", "None"): "t_total=None: not given (the converged census's own window rules)",
    ("steady_state", "params", "{'gamma': 1e-08}"): "at J = lam = 0 the steady state is the normal state (Z_A = -1, "
                                                    "Z_B = 1) for every gamma > 0: returned exactly, as by qutip",
}


def _trusted(status) -> bool:
    st = np.asarray(status)
    if st.dtype.kind in "USO":
        return bool(np.all(np.isin(st.astype(str), ["ok", "success", "0"])))
    return bool(np.all(st == 0))


def _status_of(res):
    if hasattr(res, "status"):
        return "accepted" if _trusted(res.status) else "status"
    return "accepted"


def classify(call, names, value=None):
    if isinstance(value, dict):        # an error naming the offending key of a dict names the argument
        names = tuple(names) + tuple(str(k) for k in value)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        res = call()
    except _Timeout:
        return "timeout", "no answer in time"
    except (ValueError, TypeError, KeyError) as exc:
        msg = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        return ("clear" if any(n in msg for n in names) else "unnamed"), f"{type(exc).__name__}: {msg[:160]}"
    except Exception as exc:  # noqa: BLE001 - the survey records every kind
        return "deep", f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        signal.alarm(0)
    return _status_of(res), "returned"


def targets():
    from analysis.attractor_census import census
    from analysis.phase_diagrams import phase_diagram
    from bifurcate import integrate, integrate_ensemble
    from bifurcate.continuation import continue_codim2, continue_equilibria
    from bifurcate.equilibria import find_equilibria
    from bifurcate.lyapunov import lyapunov_spectra
    from bifurcate.models import LMG_DIMER as M
    from bifurcate.models import NORMAL_STATE as N

    T = []

    def add(fn, arg, values, call, names=None):
        for v in values:
            T.append((fn, arg, v, (lambda v=v: call(v)), names or (arg,)))

    add("integrate", "y0", BAD_STATE, lambda v: integrate(M, v, (0, 1)))
    add("integrate", "t_span", [(1, 0), (0, np.nan), "0,1", (0,), {0: 1, 1: 2}, (0, np.inf)],
        lambda v: integrate(M, N, v))
    add("integrate", "params", BAD_PARAMS, lambda v: integrate(M, N, (0, 1), v), ("params", "parameter"))
    add("integrate", "t_eval", [[0, np.nan], [1, 0], [-1], "0,1", [[0, 1]], []], lambda v: integrate(M, N, (0, 1), t_eval=v))
    add("integrate", "rtol", BAD_REAL + [0, 2.0, -1e-6], lambda v: integrate(M, N, (0, 1), rtol=v))
    add("integrate", "max_steps", BAD_COUNT, lambda v: integrate(M, N, (0, 1), max_steps=v))
    add("integrate_ensemble", "n_initial", BAD_COUNT[:-2], lambda v: integrate_ensemble(M, n_initial=v, t_end=1))
    add("integrate_ensemble", "seed", BAD_SEED, lambda v: integrate_ensemble(M, n_initial=2, seed=v, t_end=1))
    add("integrate_ensemble", "t_end", BAD_REAL + [-1.0, 0.0], lambda v: integrate_ensemble(M, n_initial=2, t_end=v),
        ("t_end", "t_start"))
    add("integrate_ensemble", "params", BAD_PARAMS, lambda v: integrate_ensemble(M, v, n_initial=2, t_end=1),
        ("params", "parameter"))
    add("integrate_ensemble", "y0", BAD_STATE[:4] + BAD_STATE[5:], lambda v: integrate_ensemble(M, y0=v, t_end=1))
    add("integrate_ensemble", "y0 (batch)", BAD_BATCH, lambda v: integrate_ensemble(M, y0=v, t_end=1), ("y0",))
    add("find_equilibria", "params", BAD_PARAMS, lambda v: find_equilibria(M, v, n_seeds=8), ("params", "parameter"))
    add("find_equilibria", "n_seeds", BAD_COUNT, lambda v: find_equilibria(M, n_seeds=v))
    add("find_equilibria", "maxiter", BAD_COUNT, lambda v: find_equilibria(M, n_seeds=8, maxiter=v))
    add("find_equilibria", "tol", BAD_REAL + [0.0, -1.0], lambda v: find_equilibria(M, n_seeds=8, tol=v))
    add("find_equilibria", "seed", BAD_SEED, lambda v: find_equilibria(M, n_seeds=8, seed=v))
    add("find_equilibria", "seeds", BAD_BATCH, lambda v: find_equilibria(M, n_seeds=8, seeds=v))
    add("continue_equilibria", "y0", BAD_STATE, lambda v: continue_equilibria(M, v, "J", {"lam": 0.1}, max_steps=20))
    add("continue_equilibria", "param", ["Jx", 1, "", None], lambda v: continue_equilibria(M, N, v, max_steps=20))
    add("continue_equilibria", "params", BAD_PARAMS, lambda v: continue_equilibria(M, N, "J", v, max_steps=20),
        ("params", "parameter"))
    add("continue_equilibria", "p_min/p_max", [(1.0, 0.0), (np.nan, 1.0), (0.0, np.inf), ("0", 1.0)],
        lambda v: continue_equilibria(M, N, "J", {"lam": 0.1}, p_min=v[0], p_max=v[1], max_steps=20),
        ("p_min", "p_max"))
    add("continue_equilibria", "ds", BAD_REAL + [0.0], lambda v: continue_equilibria(M, N, "J", {"lam": 0.1}, ds=v,
                                                                                   max_steps=20))
    add("continue_equilibria", "max_steps", BAD_COUNT[:-1],
        lambda v: continue_equilibria(M, N, "J", {"lam": 0.1}, max_steps=v))

    def bp():
        br = continue_equilibria(M, N, "J", {"lam": 0.1}, p_min=0, p_max=1)
        return br.special("BP")[0]
    add("continue_codim2", "bounds", [{"lam": (1.0, 0.0)}, {"lam": (np.nan, 1.0)}, {"lam": "0:1"}, {"mu": (0, 1)},
                                      {"lam": (0.0,)}],
        lambda v: continue_codim2(M, bp(), "lam", bounds=v, max_steps=30))
    add("continue_codim2", "param2", ["mu", 3, "J"], lambda v: continue_codim2(M, bp(), v, max_steps=30))
    add("census", "n_initial", BAD_COUNT[:-2], lambda v: census(M, {"J": 1.5, "lam": 0.0}, n_initial=v, t_total=20,
                                                                 t_transient=20))
    add("census", "params", BAD_PARAMS, lambda v: census(M, v, n_initial=2, t_total=20, t_transient=20),
        ("params", "parameter"))
    add("census", "seed", BAD_SEED, lambda v: census(M, n_initial=2, seed=v, t_total=20, t_transient=20))
    add("census", "y0", BAD_BATCH, lambda v: census(M, y0=v, t_total=20, t_transient=20))
    add("census", "t_total", BAD_REAL + [0.0, -1.0], lambda v: census(M, n_initial=2, t_total=v, t_transient=20))
    add("lyapunov_spectra", "n_initial", BAD_COUNT[:-2],
        lambda v: lyapunov_spectra(M, {"J": 1.5, "lam": 1.0}, n_initial=v, t_total=10, t_transient=0))
    add("lyapunov_spectra", "t_total", BAD_REAL + [0.0, -1.0],
        lambda v: lyapunov_spectra(M, {"J": 1.5, "lam": 1.0}, n_initial=2, t_total=v, t_transient=0))
    add("lyapunov_spectra", "params", BAD_PARAMS,
        lambda v: lyapunov_spectra(M, v, n_initial=2, t_total=10, t_transient=0), ("params", "parameter"))
    add("phase_diagram", "grid", [{"J": [np.nan, 1]}, {"J": [1, 0]}, {"J": []}, {"Jx": [0, 1]}, {"J": "0:1:3"}, "J"],
        lambda v: phase_diagram(M, v, n_initial=2, census=False, progress=False, t_end=10), ("grid",))
    add("phase_diagram", "n_initial", BAD_COUNT[:-2],
        lambda v: phase_diagram(M, {"J": [0, 1]}, n_initial=v, census=False, progress=False, t_end=10))
    add("phase_diagram", "seed", BAD_SEED,
        lambda v: phase_diagram(M, {"J": [0, 1]}, n_initial=2, seed=v, census=False, progress=False, t_end=10))
    add("phase_diagram", "chunk_size", BAD_COUNT[:-2],
        lambda v: phase_diagram(M, {"J": [0, 1]}, n_initial=2, chunk_size=v, census=False, progress=False, t_end=10))
    add("phase_diagram", "n_workers", [0, -1, 2.5, "2"],
        lambda v: phase_diagram(M, {"J": [0, 1]}, n_initial=2, n_workers=v, census=False, progress=False, t_end=10))
    try:
        from analysis.quantum import steady_state
    except ImportError:  # pragma: no cover
        steady_state = None
    if steady_state is not None:
        add("steady_state", "S", [0, -1, 0.3, np.nan, "2", 1000, True], lambda v: steady_state(v, {"J": 0.5}))
        add("steady_state", "params", BAD_PARAMS + [{"gamma": 0.0}, {"gamma": 1e-8}],
            lambda v: steady_state(2, v), ("params", "parameter", "gamma"))
        add("steady_state", "method", ["nope", 3, None], lambda v: steady_state(1, {"J": 0.5}, method=v))
    return T


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rows = []
    t0 = time.perf_counter()
    calls = (fresh_targets() if "--fresh" in argv else targets() + fresh_targets()) if "--first" not in argv \
        else targets()
    for fn, arg, v, call, names in calls:
        kind, msg = classify(call, names, v)
        if kind == "accepted" and (fn, arg, repr(v)) in DOCUMENTED:
            kind, msg = "valid", DOCUMENTED[(fn, arg, repr(v))]
        rows.append((fn, arg, v, kind, msg))
    by_fn: dict[str, Counter] = defaultdict(Counter)
    for fn, _, _, kind, _ in rows:
        by_fn[fn][kind] += 1
    kinds = ["clear", "status", "valid", "unnamed", "deep", "accepted", "timeout"]
    print(f"{'function':22s} {'tried':>5s} " + " ".join(f"{k:>8s}" for k in kinds))
    total = Counter()
    for fn, c in by_fn.items():
        total.update(c)
        print(f"{fn:22s} {sum(c.values()):5d} " + " ".join(f"{c[k]:8d}" for k in kinds))
    print(f"{'all':22s} {sum(total.values()):5d} " + " ".join(f"{total[k]:8d}" for k in kinds))
    print(f"\n({time.perf_counter() - t0:.0f} s) calls that were not a clear error or an explained status:")
    for fn, arg, v, kind, msg in rows:
        if kind not in ("clear", "status", "valid"):
            print(f"  {kind:8s} {fn}({arg}={v!r}): {msg}")
    return 0


def fresh_targets():
    """The second set: bad calls not in :func:`targets`, over every public entry point."""
    import pandas as pd

    from analysis.attractor_census import census
    from analysis.attractors.tracking import track_attractors
    from analysis.phase_diagrams import phase_diagram
    from analysis.spectral import spectral_correspondence
    from bifurcate import integrate, integrate_ensemble
    from bifurcate.continuation import continue_codim2, continue_equilibria
    from bifurcate.cycles import continue_cycles
    from bifurcate.integrate import param_grid
    from bifurcate.equilibria import find_equilibria
    from bifurcate.lyapunov import lyapunov_spectra
    from bifurcate.models import LMG_DIMER as M
    from bifurcate.models import LORENZ
    from bifurcate.models import NORMAL_STATE as N
    from bifurcate.models.btc import BTC_SYSTEM as BTC
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM as SYS
    from bifurcate.quantum import system_spectrum
    from bifurcate.twa import truncated_wigner

    from analysis.quantum import steady_state

    T = []

    def add(fn, arg, v, call, names=None):
        T.append((fn, arg, v, call, names or (arg,)))

    y_rand = M.random_states(1, 0)[0]
    pv = ("params", "parameter")
    add("integrate", "t_span", (1e20, 1e20 + 1e5), lambda: integrate(M, N, (1e20, 1e20 + 1e5)))
    add("integrate", "params", {"gamma": 1e300}, lambda: integrate(M, y_rand, (0, 5), {"gamma": 1e300}), pv)
    add("integrate", "y0", "[1e200, 1, 1] (lorenz)", lambda: integrate(LORENZ, [1e200, 1.0, 1.0], (0, 1)))
    add("integrate", "options", {"method": "RK4"}, lambda: integrate(M, N, (0, 1), options={"method": "RK4"}))
    add("integrate", "y0", "(1, 6)", lambda: integrate(M, N[None, :], (0, 1)))
    add("integrate_ensemble", "y0", "(0, 6)", lambda: integrate_ensemble(M, y0=np.zeros((0, 6)), t_end=1))
    add("integrate_ensemble", "params", {"gamma": [0.5, 1e300]},
        lambda: integrate_ensemble(M, {"gamma": [0.5, 1e300]}, n_initial=2, t_end=1), pv)
    add("integrate_ensemble", "params", "DataFrame J='a'",
        lambda: integrate_ensemble(M, pd.DataFrame({"J": ["a"]}), n_initial=2, t_end=1), pv)
    add("integrate_ensemble", "n_initial", 30_000_000, lambda: integrate_ensemble(M, n_initial=30_000_000, t_end=1))
    add("integrate_ensemble", "t_eval", "1e7 samples x 1e3",
        lambda: integrate_ensemble(M, n_initial=1000, t_end=1, t_eval=np.linspace(0, 1, 10 ** 7)))
    add("integrate_ensemble", "progress", 3, lambda: integrate_ensemble(M, n_initial=2, t_end=1, progress=3))
    add("find_equilibria", "use_symmetries", "no", lambda: find_equilibria(M, n_seeds=8, use_symmetries="no"))
    add("find_equilibria", "scale", np.nan, lambda: find_equilibria(M, n_seeds=8, scale=np.nan))
    add("find_equilibria", "J", np.nan, lambda: find_equilibria(M, n_seeds=8, J=np.nan))
    add("continue_equilibria", "p_min/p_max", (0.0, 0.0),
        lambda: continue_equilibria(M, N, "J", {"lam": 0.1}, p_min=0.0, p_max=0.0, max_steps=20), ("p_min", "p_max"))
    add("continue_equilibria", "params", {"J": 5.0, "lam": 0.1},
        lambda: continue_equilibria(M, N, "J", {"J": 5.0, "lam": 0.1}, p_min=0.0, p_max=1.0, max_steps=20),
        ("J", "p_min", "p_max"))
    add("continue_cycles", "start", "HB", lambda: continue_cycles(M, "HB", param="lam"))
    add("continue_codim2", "point", "BP", lambda: continue_codim2(M, "BP", "lam"))
    add("census", "options", {"bogus": 1}, lambda: census(M, {"J": 1.5}, n_initial=2, options={"bogus": 1}),
        ("options", "option"))
    add("census", "n_initial", 10 ** 7, lambda: census(M, {"J": 1.5}, n_initial=10 ** 7, seed=0))
    add("lyapunov_spectra", "sample_dt", 1e-3,
        lambda: lyapunov_spectra(M, {"J": 1.5, "lam": 1.0}, n_initial=2, t_total=1e9, sample_dt=1e-3))
    add("lyapunov_spectra", "params", {"gamma": 1e300},
        lambda: lyapunov_spectra(M, {"gamma": 1e300}, n_initial=2, t_total=5, t_transient=1), pv)
    add("track_attractors", "values", "0:1", lambda: track_attractors(M, "lam", "0:1", {"J": 1.5}, n_initial=2))
    add("track_attractors", "values", [0.1, np.nan],
        lambda: track_attractors(M, "lam", [0.1, np.nan], {"J": 1.5}, n_initial=2))
    add("phase_diagram", "base", {"J": 5.0},
        lambda: phase_diagram(M, {"J": [0, 1]}, base={"J": 5.0}, n_initial=2, census=False, progress=False, t_end=10))
    big = {"J": np.linspace(0, 1, 10 ** 5), "lam": np.linspace(0, 1, 10 ** 5)}
    add("phase_diagram", "grid", "1e5 x 1e5", lambda: phase_diagram(M, big, n_initial=2, census=False, progress=False))
    add("param_grid", "grid", "1e5 x 1e5", lambda: param_grid(M, big))
    add("phase_diagram", "evaluate", 3,
        lambda: phase_diagram(M, {"J": [0, 1]}, n_initial=2, census=False, progress=False, t_end=10, evaluate=3))
    add("system_spectrum", "sigma", np.nan, lambda: system_spectrum(SYS, 1, sigma=np.nan, method="arnoldi"))
    add("system_spectrum", "dense_max", -1, lambda: system_spectrum(SYS, 1, dense_max=-1))
    add("system_spectrum", "k", 2.5, lambda: system_spectrum(SYS, 1, k=2.5))
    add("truncated_wigner", "n_traj", 10 ** 12, lambda: truncated_wigner(BTC, 2, n_traj=10 ** 12, t_end=5))
    add("truncated_wigner", "dt", 1e-9, lambda: truncated_wigner(BTC, 2, n_traj=4, t_end=1e6, dt=1e-9))
    add("truncated_wigner", "seed", -1, lambda: truncated_wigner(BTC, 2, n_traj=4, t_end=5, seed=-1))
    add("truncated_wigner", "params", "J=1", lambda: truncated_wigner(BTC, 2, "J=1", n_traj=4, t_end=5))
    add("spectral_correspondence", "S_values", [2, np.nan], lambda: spectral_correspondence(BTC, [2, np.nan]))
    add("spectral_correspondence", "fp_order", 0, lambda: spectral_correspondence(BTC, [2], fp_order=0))
    add("spectral_correspondence", "S_values", "abc", lambda: spectral_correspondence(BTC, "abc"))
    # the example, a small gap: must not be "ok" unless certified (the gap ~5e-10 here)
    add("steady_state", "params", {"gamma": 1e-8, "J": 1.5, "lam": 0.5},
        lambda: steady_state(4, {"gamma": 1e-8, "J": 1.5, "lam": 0.5}), ("params", "parameter", "gamma"))
    return [(fn, arg, v, call, names) for fn, arg, v, call, names in T]


if __name__ == "__main__":
    sys.exit(main())
