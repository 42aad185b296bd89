"""Bad input at the boundaries owned by the validation layer: every error names the argument,
what was expected and what came; counts are integers; memory is estimated before allocating;
the ensemble integrator returns to Python in segments (Ctrl-C, progress, wall-time limit)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from bifurcate import integrate, integrate_ensemble
from bifurcate.integrate import IntegrationOptions
from bifurcate.models import LMG_DIMER, NORMAL_STATE
from bifurcate import validation as V


# ---------------------------------------------------------------------------------------------
# the helpers
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, exc, match", [
    ("1", TypeError, "n must be an integer, got '1'"),
    (2.0, TypeError, "n must be an integer, got 2.0"),
    (True, TypeError, "n must be an integer"),
    (0, ValueError, "n must be an integer >= 1, got 0"),
    (None, TypeError, "n must be an integer, got None"),
])
def test_check_count_refuses(value, exc, match):
    with pytest.raises(exc, match=match):
        V.check_count("n", value)


def test_check_count_accepts_numpy_integers():
    assert V.check_count("n", np.int64(3)) == 3 and type(V.check_count("n", np.int32(3))) is int


@pytest.mark.parametrize("value, exc, match", [
    ("1e-6", TypeError, "rtol must be a real number, got '1e-6'"),
    (float("nan"), ValueError, "rtol must be a finite number, got nan"),
    (float("inf"), ValueError, "rtol must be a finite number, got inf"),
    (1j, TypeError, "rtol must be a real number"),
    (None, TypeError, "rtol must be a real number, got None"),
])
def test_check_real_refuses(value, exc, match):
    with pytest.raises(exc, match=match):
        V.check_real("rtol", value)


def test_check_range_and_interval():
    assert V.check_range("x", 0.5, 0, 1) == 0.5
    with pytest.raises(ValueError, match=r"x must lie in \(0, 1\], got 0.0"):
        V.check_range("x", 0.0, 0, 1, lo_open=True)
    with pytest.raises(ValueError, match=r"bounds must satisfy low < high, got \(1.0, 0.0\)"):
        V.check_interval("bounds", (1.0, 0.0))
    with pytest.raises(ValueError, match=r"bounds\[1\] must be a finite number, got nan"):
        V.check_interval("bounds", (0.0, float("nan")))
    with pytest.raises(TypeError, match="bounds must be a pair"):
        V.check_interval("bounds", "0:1")


def test_check_array():
    with pytest.raises(ValueError, match=r"t must be finite, got nan at index \(1,\)"):
        V.check_array("t", [0, np.nan])
    with pytest.raises(ValueError, match="t must be strictly increasing"):
        V.check_array("t", [0, 1, 1], sorted_=True, strictly=True)
    with pytest.raises(ValueError, match=r"y must have shape \(any, 3\), got \(2, 2\)"):
        V.check_array("y", np.zeros((2, 2)), shape=(None, 3))
    with pytest.raises(TypeError, match="t must be an array of real numbers, got dtype"):
        V.check_array("t", ["a", "b"])
    with pytest.raises(ValueError, match="at least 1 element"):
        V.check_array("t", [])


def test_check_params_and_mapping():
    assert V.check_params(LMG_DIMER, {"J": 1})["J"] == 1.0
    with pytest.raises(TypeError, match=r"params must be a mapping.*not 'J=1.5'"):
        V.check_params(LMG_DIMER, "J=1.5")
    with pytest.raises(KeyError, match=r"unknown parameter\(s\) \['K'\]"):
        V.check_params(LMG_DIMER, {"K": 1})
    with pytest.raises(ValueError, match=r"params\['J'\] must be a finite number, got nan"):
        V.check_params(LMG_DIMER, {"J": float("nan")})
    with pytest.raises(TypeError, match=r"params\['J'\] must be a real number, got '1'"):
        V.check_params(LMG_DIMER, {"J": "1"})


def test_check_seed():
    assert V.check_seed("seed", None) is None and V.check_seed("seed", 3) == 3
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        V.check_seed("seed", -1)
    with pytest.raises(TypeError, match="seed must be None"):
        V.check_seed("seed", 1.5)


def test_check_memory_refuses_with_estimate_and_limit(monkeypatch):
    monkeypatch.setenv("BIFURCATE_MAX_BYTES", str(1 << 20))
    assert V.memory_limit() == 1 << 20
    with pytest.raises(ValueError, match=r"steady state would need about 29 TiB, more than the limit of 1 MiB"):
        V.check_memory("steady state", 29 * (1 << 40))
    assert V.estimate_bytes((10, 10), (5,)) == 105 * 8


# ---------------------------------------------------------------------------------------------
# the model and the integrators
# ---------------------------------------------------------------------------------------------
def test_params_must_be_a_mapping():
    with pytest.raises(TypeError, match=r"params must be a mapping.*got 'J=1.5' \(str\)"):
        integrate(LMG_DIMER, NORMAL_STATE, (0, 5), "J=1.5")
    with pytest.raises(TypeError, match=r"parameter 'J' must be a real number, got '1.5'"):
        LMG_DIMER.params({"J": "1.5"})
    with pytest.raises(TypeError, match=r"parameter 'J' must be a real number"):
        LMG_DIMER.params({"J": True})


def test_options_types():
    with pytest.raises(TypeError, match="rtol must be a real number, got '1e-6'"):
        integrate(LMG_DIMER, NORMAL_STATE, (0, 5), rtol="1e-6")
    with pytest.raises(TypeError, match="max_steps must be an integer, got 1000.5"):
        IntegrationOptions(max_steps=1000.5)
    with pytest.raises(TypeError, match="method must be one of"):
        IntegrationOptions(method=5)
    with pytest.raises(TypeError, match="project must be True or False"):
        IntegrationOptions(project="no")


def test_t_eval_and_span():
    with pytest.raises(ValueError, match=r"t_eval must be finite, got nan at index \(1,\)"):
        integrate(LMG_DIMER, NORMAL_STATE, (0, 5), t_eval=[0, np.nan, 1])
    with pytest.raises(ValueError, match="t_eval must be finite"):
        integrate_ensemble(LMG_DIMER, n_initial=1, t_end=5, t_eval=[np.nan])
    with pytest.raises(TypeError, match=r"t_span\[1\] must be a real number, got '5'"):
        integrate(LMG_DIMER, NORMAL_STATE, (0, "5"))
    with pytest.raises(TypeError, match="t_span must be a pair"):
        integrate(LMG_DIMER, NORMAL_STATE, 5)
    with pytest.raises(TypeError, match="t_end must be a real number"):
        integrate_ensemble(LMG_DIMER, n_initial=1, t_end="10")


def test_zero_length_spin_refused_not_replaced():
    y = NORMAL_STATE.copy()
    y[:3] = 0.0
    with pytest.raises(ValueError, match=r"y0 for model 'lmg_dimer': the spin \(XA, YA, ZA\) has length 0"):
        integrate(LMG_DIMER, y, (0, 5), {"gamma": 0.5})
    with pytest.raises(ValueError, match=r"y0 .*has length 0"):
        integrate_ensemble(LMG_DIMER, y0=np.stack([NORMAL_STATE, y]), t_end=5)
    # the vector field itself is defined off the spheres
    assert np.all(np.isfinite(LMG_DIMER.f(y)))


def test_counts_are_integers_and_memory_is_estimated(monkeypatch):
    with pytest.raises(TypeError, match="n_initial must be an integer, got 2.5"):
        integrate_ensemble(LMG_DIMER, n_initial=2.5)
    with pytest.raises(ValueError, match="n_initial must be an integer >= 1, got 0"):
        integrate_ensemble(LMG_DIMER, n_initial=0)
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        integrate_ensemble(LMG_DIMER, n_initial=2, seed=-1)
    monkeypatch.setenv("BIFURCATE_MAX_BYTES", str(1 << 30))
    with pytest.raises(ValueError, match=r"integrate_ensemble \(1 points x 1000 initial conditions, 1000000 samples\) "
                                         r"would need about"):
        integrate_ensemble(LMG_DIMER, n_initial=1000, t_end=10, t_eval=np.linspace(0, 10, 1_000_000))


def test_model_type_is_checked():
    with pytest.raises(TypeError, match="model must be a bifurcate Model, got str"):
        integrate("lmg_dimer", NORMAL_STATE, (0, 1))


def test_segmented_run_is_bitwise_identical(monkeypatch):
    I = sys.modules["bifurcate.integrate"]

    kw = dict(params={"J": [1.5, 0.3], "lam": 1.0}, n_initial=3, seed=4, t_end=60.0, t_eval=np.linspace(0, 60, 7))
    calls = []
    ref = integrate_ensemble(LMG_DIMER, progress=lambda d, t: calls.append((d, t)), **kw)
    assert calls[-1] == (6, 6)
    monkeypatch.setattr(I, "_seg_steps_next", lambda seg, elapsed, target=0.2: 5)
    monkeypatch.setattr(I, "_first_segment", lambda m: 3)
    calls.clear()
    seg = integrate_ensemble(LMG_DIMER, progress=lambda d, t: calls.append((d, t)), **kw)
    assert len(calls) > 20          # many small segments
    for a in ("y_final", "mean", "std", "min", "max", "samples", "n_steps", "status"):
        np.testing.assert_array_equal(getattr(seg, a), getattr(ref, a), err_msg=a)
    tr_ref = integrate(LMG_DIMER, ref.y0[0, 0], (0, 60), {"J": 1.5, "lam": 1.0})
    monkeypatch.undo()
    tr = integrate(LMG_DIMER, ref.y0[0, 0], (0, 60), {"J": 1.5, "lam": 1.0})
    np.testing.assert_array_equal(tr.y, tr_ref.y)
    assert len(tr.t) > 20 and tr.success


def test_wall_time_limit_gives_a_status():
    ens = integrate_ensemble(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=2, seed=0, t_end=1e9,
                             max_steps=10 ** 12, max_wall_time=0.5)
    assert np.all(ens.status == -4)
    assert "wall-time limit" in ens.message[0, 0]
    assert np.all(np.isnan(ens.mean)) and np.all(np.isnan(ens.y_final))


def _default_sigint():
    """In the child, SIGINT back to its default disposition: a test run started in the background of a
    non-interactive shell inherits SIGINT *ignored*, and Python would then never raise KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_stops_an_absurd_integration_within_seconds(tmp_path):
    code = textwrap.dedent("""
        import sys
        from bifurcate import integrate_ensemble
        from bifurcate.models import LMG_DIMER
        integrate_ensemble(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=2, seed=0, t_end=10.0)  # warm
        print("start", flush=True)
        integrate_ensemble(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=4, seed=0, t_end=1e12, max_steps=10**15)
        print("finished", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint,
                            env=env)
    try:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        t0 = time.perf_counter()
        out, err = proc.communicate(timeout=20)
        waited = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in err and "finished" not in out
    assert waited < 5.0, waited


def test_census_checks_its_legacy_window_keywords():
    """``t_total`` / ``n_blocks`` (the fixed-window spellings the census still accepts) are checked
    under their own names: a string or a boolean used to run a census and report success."""
    from analysis import census
    from bifurcate.models import LMG_DIMER

    with pytest.raises(TypeError, match="t_total must be a real number"):
        census(LMG_DIMER, {"J": 0.0, "lam": 0.3}, n_initial=2, t_total="1.0")
    with pytest.raises(TypeError, match="t_total must be a real number"):
        census(LMG_DIMER, {"J": 0.0, "lam": 0.3}, n_initial=2, t_total=True)
    with pytest.raises(ValueError, match=r"t_total must lie in \(0, inf\)"):
        census(LMG_DIMER, {"J": 0.0, "lam": 0.3}, n_initial=2, t_total=0.0)
    with pytest.raises(TypeError, match="n_blocks must be an integer"):
        census(LMG_DIMER, {"J": 0.0, "lam": 0.3}, n_initial=2, t_total=100.0, n_blocks=2.5)
