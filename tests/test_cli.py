"""The command line: help, a real run, clear errors."""
import pandas as pd
import pytest

from analysis.cli import main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "integrate" in out and "models" in out


def test_integrate_writes_table(tmp_path, capsys):
    assert main(["integrate", "--param", "J=1.5", "--param", "lam=0", "--n-initial", "4", "--t-end", "50",
                 "--out", str(tmp_path)]) == 0
    df = pd.read_parquet(tmp_path / "ensemble.parquet")
    assert len(df) == 4 and set(df.J) == {1.5} and (tmp_path / "metadata.json").exists()


def test_config_file(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text("[params]\nJ = 0.0\nlam = 0.3\n")
    assert main(["integrate", "--config", str(cfg), "--n-initial", "2", "--t-end", "100", "--out", str(tmp_path)]) == 0
    df = pd.read_parquet(tmp_path / "ensemble.parquet")
    assert (df.lam == 0.3).all() and (abs(df.ZB - 1) < 1e-6).all()


@pytest.mark.parametrize("argv, msg", [
    (["integrate", "--param", "Jx=1"], "unknown parameter"),
    (["integrate", "--param", "J"], "NAME=VALUE"),
    (["integrate", "--param", "J=abc"], "needs a number"),
    (["integrate", "--out", "/proc/forbidden/x"], "not writable"),
])
def test_errors(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and msg in capsys.readouterr().err
