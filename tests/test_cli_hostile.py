"""The CLI keeps its promise under a hostile but fair user: every bad call ends in
`bifurcate: error: ...` with exit code 2 and no traceback; a run whose rows failed exits 1 and says
how many and why; options refuse repetition; negative ranges work; --model takes any module."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]

#: (argv, text the error must contain): each is a user error, exit 2
BAD_CALLS = [
    (["integrate", "--param", "J=nan"], "parameter 'J' must be a finite number"),
    (["integrate", "--param", "J=inf"], "must be a finite number"),
    (["integrate", "--param", "J=1", "--param", "J=2"], "given twice"),
    (["integrate", "--seed", "-1"], "argument --seed"),
    (["integrate", "--seed", "1.5"], "argument --seed"),
    (["integrate", "--n-initial", "0"], "argument --n-initial"),
    (["integrate", "--n-initial", "2.5"], "argument --n-initial"),
    (["integrate", "--t-end", "nan"], "argument --t-end"),
    (["integrate", "--t-end", "-5"], "argument --t-end"),
    (["integrate", "--seed", "1", "--seed", "2"], "--seed given more than once"),
    (["integrate", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["integrate", "--model", "nosuch.module:X"], "cannot import module 'nosuch.module'"),
    (["integrate", "--model", "bifurcate.models:NOPE"], "has no attribute 'NOPE'"),
    (["integrate", "--model", "bifurcate.models:NORMAL_STATE"], "expected a bifurcate Model"),
    (["integrate", "--model", ":X"], "package.module:OBJECT"),
    (["integrate", "--bogus"], "unrecognized arguments"),
    (["phase-diagram", "--n-workers", "0", "--grid", "J=0:1:2"], "argument --n-workers"),
    (["phase-diagram", "--grid", "J=0:1:2", "--grid", "J=0:1:3"], "--grid J=... given twice"),
    (["phase-diagram", "--grid", "J=0:1:nan"], "must be an integer"),
    (["phase-diagram", "--grid", "J=nan:1:3"], "must be a finite number"),
    (["phase-diagram", "--grid", "J=0:1"], "START:STOP:COUNT"),
    (["phase-diagram", "--grid", "J=0:1:2:3"], "START:STOP:COUNT"),
    (["phase-diagram", "--grid", "J=1:1:3"], "START equals STOP"),
    (["phase-diagram", "--grid", "J=0:1:100000000"], "more than the limit"),
    (["phase-diagram", "--grid", "J"], "NAME=START:STOP:COUNT"),
    (["phase-diagram", "--grid", "J=0:1:3", "--chunk-seconds", "0"], "argument --chunk-seconds"),
    (["quantum", "--S", "nan"], "--S value must be a finite number"),
    (["quantum", "--S", "-1"], "half-integer"),
    (["quantum", "--S", "1000"], "more than the limit"),
    (["quantum", "--sweep", "lam"], "NAME=START:STOP:COUNT"),
    (["quantum", "--sweep", "mu=0:1:3"], "unknown parameter 'mu'"),
    (["quantum", "--model", "lorenz", "--wigner", "--S", "1"], "model 'lorenz' has none"),
    (["quantum", "--wigner", "--spin", "C", "--S", "1"], "unknown spin 'C' for --spin; model 'lmg_dimer' has the spins"),
    (["quantum", "--spin", "A", "--S", "1"], "--spin chooses the spin of --wigner"),
    (["quantum", "--wigner", "--spin", "A", "--spin", "B"], "--spin given more than once"),
    (["quantum", "--wigner", "--sweep", "lam=0:1:3", "--S", "1"], "at one parameter point; got 3 points"),
    (["quantum", "--S", "1,1"], "--S lists 1 more than once"),
    (["phase-diagram", "--grid", "J=0,0.5,0.5"], "--grid J lists 0.5 more than once"),
    (["phase-diagram", "--grid", "J=0:1:3", "--store", "/proc/forbidden/x"], "--store: output directory"),
    (["phase-diagram", "--grid", "J=0:1:3", "--param", "J=1", "--no-progress"], "which are grid axes"),
    (["integrate", "--n-initial", "100000000000"], "initial conditions (n_initial)"),
    (["integrate", "--t-end", "1e-300"], "time resolution"),
    (["continue", "--model", "btc", "--free", "gamma", "--range", "0:1"], "unknown parameter 'gamma' for --free"),
    (["continue", "--free", "J", "--range", "0:nan"], "--range must be a finite number"),
    (["continue", "--free", "J", "--range", "0"], "expected --range LO:HI"),
    (["continue", "--range", "0:1"], "give the continuation parameter with --free"),
    (["continue", "--free", "J", "--range", "-1:1", "--start", "1,2"], "expected a state of 6 numbers"),
    (["continue", "--free", "J", "--range", "-1:1", "--start", "0,0,0,0,0,1"], "has length 0"),
    (["continue", "--free", "J", "--range", "-1:1", "--start", "abc"], "expected --start stable"),
    (["census", "--t-total", "0"], "argument --t-total"),
    (["census", "--t-transient", "-1"], "argument --t-transient"),
    (["report", "--n-initial", "-3"], "argument --n-initial"),
    (["study"], "the following arguments are required"),
]


def _config(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return str(p)


CONFIG_CALLS = [
    ("[params]\nJ = ", "is not valid TOML"),
    ("[params]\nJ = \"abc\"\n", "parameter 'J' needs a number"),
    ("[params]\nJ = nan\n", "must be finite"),
    ("[params]\nJ = true\n", "needs a number"),
    ("[parms]\nJ = 1\n", "unknown table(s) ['parms']"),
    ("params = 3\n", "[params] must be a table"),
    ("[grid]\nJ = [0, \"a\"]\n", "a list of numbers expected"),
    ("[grid]\nJ = \"0:1:nan\"\n", "must be an integer"),
]


def _run_bad(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    return e.value.code, err


@pytest.mark.parametrize("argv, msg", BAD_CALLS)
def test_bad_call_is_a_clear_error(argv, msg, capsys, tmp_path):
    code, err = _run_bad(argv + (["--out", str(tmp_path / "o")] if argv[0] != "study" and "--bogus" not in argv
                                 and argv[0] != "report" else argv[:0]), capsys)
    assert code == 2, err
    assert "bifurcate: error:" in err and msg in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("text, msg", CONFIG_CALLS)
def test_bad_config_is_a_clear_error(text, msg, capsys, tmp_path):
    cmd = "phase-diagram" if "[grid]" in text else "integrate"
    code, err = _run_bad([cmd, "--config", _config(tmp_path, text), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "bifurcate: error:" in err and msg in err, err


def test_unexpected_library_error_is_an_error_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    import bifurcate

    def boom(*a, **k):
        raise RuntimeError("deep failure")

    monkeypatch.setattr(bifurcate, "integrate_ensemble", boom)
    code, err = _run_bad(["integrate", "--out", str(tmp_path)], capsys)
    assert code == 2 and "bifurcate: error: RuntimeError: deep failure (run with --debug" in err
    with pytest.raises(RuntimeError, match="deep failure"):
        main(["--debug", "integrate", "--out", str(tmp_path)])


def test_no_traceback_in_a_real_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for argv in (["integrate", "--param", "J=nan"], ["quantum", "--S", "nan"], ["integrate", "--seed", "-1"]):
        r = subprocess.run([sys.executable, "-m", "analysis.cli", *argv, "--out", str(tmp_path)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "bifurcate: error:" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_failed_rows_exit_1_and_say_why(tmp_path, capsys):
    assert main(["quantum", "--param", "gamma=0", "--S", "1", "--no-progress", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "1 of 1 exact steady states failed" in err and "gamma" in err
    df = pd.read_parquet(tmp_path / "exact.parquet")
    assert (df.status != 0).all()          # written, but marked: nothing silently wrong


def test_negative_ranges_and_output_locations(tmp_path, capsys):
    assert main(["continue", "--param", "lam=0.1", "--free", "J", "--range", "-2:2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("branches.parquet", "special_points.parquet", "metadata.json"):
        assert f"wrote {tmp_path / name}" in out
    br = pd.read_parquet(tmp_path / "branches.parquet")
    assert br.J.min() < -1.9 and br.J.max() > 1.9


def test_every_option_has_help_with_its_default():
    ap = build_parser()
    sub = next(a for a in ap._actions if a.dest == "command")
    for name, p in sub.choices.items():
        for act in p._actions:
            if act.dest in ("help",) or not act.option_strings:
                continue
            assert act.help, f"{name} {act.option_strings} has no help"
        text = p.format_help()
        if any(a.option_strings and a.default not in (None, False) for a in p._actions if a.dest != "help"):
            assert "(default:" in text, name


def test_model_from_a_module_and_from_mean_field(tmp_path, monkeypatch, capsys):
    mod = tmp_path / "my_open_system.py"
    mod.write_text(textwrap.dedent("""
        from bifurcate.models import LORENZ

        class OpenSystem:
            def mean_field(self):
                return LORENZ

        SYSTEM = OpenSystem()
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    for spec in ("bifurcate.models:LORENZ", "my_open_system:SYSTEM"):
        out = tmp_path / spec.replace(":", "_")
        assert main(["integrate", "--model", spec, "--n-initial", "2", "--t-end", "1", "--out", str(out)]) == 0
        df = pd.read_parquet(out / "ensemble.parquet")
        from bifurcate.models import LORENZ

        assert {*LORENZ.state_names, *LORENZ.param_names} <= set(df.columns)
        assert "J" not in df.columns
    code, err = _run_bad(["integrate", "--model", "bifurcate.models:LORENZ", "--param", "J=1"], capsys)
    assert code == 2 and "unknown parameter(s) ['J'] for model 'lorenz'" in err


def test_no_flagship_constants_in_the_cli():
    """Defaults, states and names come from the model (the quantum command's Z_A/Z_B table is the
    exact engine's own schema)."""
    src = (ROOT / "analysis" / "cli.py").read_text()
    for needle in ('"g": 1.0', '"gamma": 0.5', "from bifurcate.models import NORMAL_STATE", '== "lmg_dimer"',
                   '"ZA", "ZB") if c in att', "model.n != 6"):
        assert needle not in src, needle


def _default_sigint():
    """In the child, SIGINT back to its default disposition: a test run started in the background of a
    non-interactive shell inherits SIGINT *ignored*, and Python would then never raise KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_a_long_cli_run_within_seconds(tmp_path):
    """SIGINT to `bifurcate integrate` with an absurd end time: exit 130 with a message, no traceback."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "analysis.cli", "integrate", "--t-end", "1e12", "--n-initial", "4",
            "--out", str(tmp_path)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        line = proc.stdout.readline()         # printed just before the integration starts
        assert line.startswith("integrating 4 trajectories"), (line, proc.poll())
        time.sleep(2.0)                       # kernels loaded, deep in the integration
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        t0 = time.perf_counter()
        out, err = proc.communicate(timeout=30)
        waited = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "bifurcate: interrupted" in err and "Traceback" not in err, err[-2000:]
    assert waited < 5.0, waited


def test_quantum_command_solves_any_specified_model(tmp_path, capsys):
    """`bifurcate quantum --model btc` solves the boundary time crystal from its specification
    (not the LMG dimer) and writes the model's own observables: Z = -sqrt(1 - (omega/kappa)^2)
    is approached as S grows below the transition (omega/kappa = 0.5: -0.866)."""
    import pandas as pd

    assert main(["quantum", "--model", "btc", "--S", "2,4", "--no-progress", "--out", str(tmp_path)]) == 0
    df = pd.read_parquet(tmp_path / "exact.parquet")
    assert "ZB" not in df and list(df["S"]) == [2.0, 4.0] and (df["status"] == 0).all()
    assert abs(df["ZA"].iat[1] + np.sqrt(1 - 0.5 ** 2)) < abs(df["ZA"].iat[0] + np.sqrt(1 - 0.5 ** 2)) < 0.01


def _moments(w: pd.DataFrame, S: float) -> tuple[float, float, float]:
    """Normalisation and <S_y>/S, <S_z>/S of a spin Wigner function on its (theta, phi) grid: in the
    Stratonovich-Weyl correspondence the symbol of S_a is sqrt(S(S+1)) n_a, and
    (2S+1)/(4 pi) * integral W dOmega = 1."""
    from scipy.integrate import trapezoid

    g = w[w["S"] == S]
    th, ph = np.sort(g["theta"].unique()), np.sort(g["phi"].unique())
    W = g.pivot(index="theta", columns="phi", values="W").to_numpy()
    TH, PH = np.meshgrid(th, ph, indexing="ij")

    def mean(F):
        return (2 * S + 1) / (4 * np.pi) * trapezoid(trapezoid(F * W * np.sin(TH), ph, axis=1), th)

    r = np.sqrt(S * (S + 1)) / S
    return mean(1.0), mean(r * np.sin(TH) * np.sin(PH)), mean(r * np.cos(TH))


def test_quantum_wigner_of_any_specified_model(tmp_path):
    """`quantum --model btc --wigner`: the boundary time crystal's only spin (A), from its own
    specification; the Wigner function integrates to 1 and reproduces the exact <S_y>/S, <S_z>/S
    of the same steady state (independent: the table's moments come from rho, not from W).
    Tolerance: the trapezoidal rule on the 91 x 181 grid, about 3e-4 measured."""
    import json

    assert main(["quantum", "--model", "btc", "--wigner", "--S", "1,2", "--no-progress", "--out", str(tmp_path)]) == 0
    w = pd.read_parquet(tmp_path / "wigner.parquet")
    ex = pd.read_parquet(tmp_path / "exact.parquet")
    assert set(w["spin"]) == {"A"} and (w["status"] == 0).all() and set(w["S"]) == {1.0, 2.0}
    for S in (1.0, 2.0):
        norm, y, z = _moments(w, S)
        row = ex[ex["S"] == S].iloc[0]
        assert abs(norm - 1) < 1e-3 and abs(y - row["YA"]) < 1e-3 and abs(z - row["ZA"]) < 1e-3, (S, norm, y, z)
    assert json.loads((tmp_path / "metadata.json").read_text())["wigner_spin"] == "A"


def test_quantum_wigner_chooses_the_spin_by_name(tmp_path):
    """The LMG dimer: the default is its last spin, B (the paper's Fig. 4), identical to the Wigner
    function of the reduced state of the quantum module's own dimer solver; --spin A gives spin A,
    whose moments are Z_A (loss: below the equator), not Z_B."""
    from analysis.quantum import spin_wigner, steady_state

    base = ["quantum", "--param", "J=1.5", "--param", "lam=0.5", "--S", "2", "--wigner", "--no-progress"]
    assert main(base + ["--out", str(tmp_path / "b")]) == 0
    assert main(base + ["--spin", "A", "--out", str(tmp_path / "a")]) == 0
    wb, wa = pd.read_parquet(tmp_path / "b" / "wigner.parquet"), pd.read_parquet(tmp_path / "a" / "wigner.parquet")
    ex = pd.read_parquet(tmp_path / "b" / "exact.parquet").iloc[0]
    assert set(wb["spin"]) == {"B"} and set(wa["spin"]) == {"A"}
    th, ph = np.linspace(0, np.pi, 91), np.linspace(0, 2 * np.pi, 181)
    ref = spin_wigner(steady_state(2, {"J": 1.5, "lam": 0.5}).reduced("B"), th, ph).W
    np.testing.assert_allclose(wb["W"].to_numpy().reshape(ref.shape), ref, atol=1e-8)
    assert abs(_moments(wb, 2.0)[2] - ex["ZB"]) < 1e-3 and abs(_moments(wa, 2.0)[2] - ex["ZA"]) < 1e-3
    assert ex["ZA"] < 0 < ex["ZB"]


def test_overflowing_parameters_are_failed_rows_not_a_kernel_error(tmp_path, capsys):
    """`integrate --param gamma=1e300` ended in "SystemError: CPUDispatcher(...) returned a result with
    an exception set" (the first-step estimate divided by zero): now every row says why, exit 1."""
    code = main(["integrate", "--param", "gamma=1e300", "--n-initial", "2", "--t-end", "5", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "2 of 2 trajectories failed" in err and "vector field at the initial state" in err, err
    assert "SystemError" not in err and "Traceback" not in err


def test_quantum_wigner_of_a_model_without_spins_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """A driven lossy cavity (one boson, no spin) from its own specification: the exact table is
    solved, but --wigner has no spin to show and says so (exit 2, before any work)."""
    (tmp_path / "my_cavity.py").write_text(textwrap.dedent("""
        from bifurcate.spec import OpenSystem, boson, parameters

        omega, kappa = parameters(omega=1.0, kappa=0.5)
        a = boson("a")
        CAVITY = OpenSystem(omega * a.dag * a.a + 0.3 * (a.a + a.dag), jumps=[(kappa, a.a)], name="my_cavity")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    code, err = _run_bad(["quantum", "--model", "my_cavity:CAVITY", "--S", "1", "--wigner", "--no-progress",
                          "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "--wigner: model 'my_cavity' has no spin (its modes: ['a'])" in err, err
    assert not (tmp_path / "o" / "exact.parquet").exists()
