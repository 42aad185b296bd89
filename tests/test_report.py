"""The attractor classification report renders: content checks, and a headless-Chromium screenshot."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report_attractors import branch_name, cut_report, point_report
from bifurcate.models import LMG_DIMER, NORMAL_STATE

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def screenshot(html: Path, png: Path, tmp: Path, size=(1200, 2000)) -> Path:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'chromium'}",
           f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", html.resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if not png.exists():
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            # Chromium reserves tens of GiB of address space: under `ulimit -v` it cannot start
            pytest.skip(f"chromium cannot start under an address-space limit (ulimit -v {soft // 1024} KiB)")
        tail = (run.stderr or b"").decode(errors="replace")[-800:]
        pytest.fail(f"chromium wrote no screenshot (exit {run.returncode}): {tail}")
    return png


def ink_fraction(png: Path) -> float:
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    return float((img.mean(axis=2) < 0.9).mean())


@pytest.fixture(scope="module")
def normal_point_report():
    # normal phase: a single fixed point, exact comparison at S = 1, 2
    return point_report({"J": 0.0, "lam": 0.3}, model=LMG_DIMER, n_initial=8, seed=1, S_values=(1, 2),
                        census_options={"t_total": 100.0, "t_transient": 100.0},
                        ranges={"J": (-2.0, 2.0), "lam": (0.0, 1.5)}, known_states={"normal state": NORMAL_STATE})


def test_point_report_content(normal_point_report, tmp_path):
    rep, tabs = normal_point_report
    att = tabs["attractors"]
    assert list(att.kind) == ["FP"] and np.isclose(att.basin_fraction.iloc[0], 1.0)
    assert np.isclose(att.ZB.iloc[0], 1.0) and att.lyap_0.iloc[0] < 0
    br = tabs["branches"]
    assert set(br.parameter) == {"J", "lam"} and br.branch.str.startswith("normal state").all()
    # on the normal branch at J = 0 the stability ends at the Hopf point lam = g/2 and at the
    # pitchforks of Eq. (12) at lam = 0.3
    lam_row = br[br.parameter == "lam"].iloc[0]
    assert abs(lam_row.stable_to - 0.5) < 0.02 and "HB lam=0.5" in lam_row.special_points
    ex = tabs["exact"]
    # finite S smooths the step: Z_B below 1 at lam = 0.3, approaching the mean-field 1 with S
    assert (ex.status == 0).all() and (ex.ZB > 0.75).all() and np.all(np.diff(ex.sort_values("S").ZB) > 0)
    path = rep.write(tmp_path / "point.html")
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "data:image/png;base64," in html
    assert "Provenance" in html and "git_commit" in html and "Exact quantum comparison" in html
    assert "http://" not in html and "https://" not in html       # self-contained
    assert html.count("git_commit") == 1 and html.count(">Provenance</h2>") == 1    # provenance once
    assert 'id="contents"' in html and 'href="#attractors"' in html                # table of contents
    _assert_clean_html(html)


def _assert_clean_html(html: str):
    """No raw reStructuredText, no long float reprs, no absurd error bars."""
    import re

    text = re.sub(r'src="data:[^"]+"', "", html)
    assert ":func:`" not in text and ":data:`" not in text and "``" not in text
    long_floats = re.findall(r"(?<![\w.])-?\d\.\d{5,}e[-+]\d+", text)
    assert not long_floats, long_floats[:5]
    assert not re.findall(r"± \d[.\d]*e-(?:1[3-9]|[2-9]\d)", text), "errors below 1e-12 must read '< 1e-12'"


def test_point_report_needs_a_model():
    with pytest.raises(TypeError, match="model"):
        point_report({"J": 0.0, "lam": 0.3})


def test_number_formatting():
    from analysis.report import format_error, format_number, format_value_error

    assert format_number(6.54205e-18) == "0" and format_number(3.0) == "3" and format_number(0.123456) == "0.1235"
    assert format_number(2.5e-5) == "2.5e-05" and format_number(float("nan")) == ""
    assert format_error(2.5e-50) == "< 1e-12" and format_error(0.01234) == "0.012"
    assert format_value_error(0.93123, 0.00412) == "0.9312 ± 0.0041"
    assert format_value_error(1.0, 2.5e-50) == "1 (± < 1e-12)"
    assert format_value_error(0.5, 0.25) == "0.50 ± 0.25"


def test_markup_rendered_not_shown():
    from analysis.report import Report, rst_to_html

    h = rst_to_html("See :func:`analysis.quantum.spin_wigner` and ``x``:\n\n(a) one;\n(b) two.\n\n* item *em*")
    assert "<code>analysis.quantum.spin_wigner</code>" in h and "<code>x</code>" in h
    assert "(a) one;<br/>(b) two." in h and "<li>item <em>em</em></li>" in h and "`" not in h
    rep = Report("t")
    rep.heading("A")
    rep.heading("B", 3)
    rep.provenance(seed=1)
    rep.provenance(section="point 1", seed=2)
    html = rep.to_html()
    assert html.count("<h2") == 2 and html.count("git_commit") == 1 and "&quot;point 1&quot;" in html
    assert html.index('id="contents"') < html.index('<h2 id="a">')


def test_branch_names():
    # names come from the model's state names and geometry; known states are named by the caller
    assert branch_name(LMG_DIMER, NORMAL_STATE, known={"normal state": NORMAL_STATE}) == "normal state"
    assert branch_name(LMG_DIMER, NORMAL_STATE) == "poles (ZA = -1, ZB = +1)"
    assert "spin B" in branch_name(LMG_DIMER, [0, 0, -1, 0.9, 0.1, np.sqrt(1 - 0.82)])
    assert "spin A" in branch_name(LMG_DIMER, [0.9, 0.1, -np.sqrt(1 - 0.82), 0, 0, 1])


def test_cut_report_errors_and_content(tmp_path):
    df = pd.DataFrame({"lam": [0.0, 0.5, 1.0], "J": 0.0, "phase": ["FP", "NEUTRAL", "NEUTRAL"], "ZB": [1.0, 0.2, 0.0],
                       "n_stable_fp": [1, 0, 0]})
    with pytest.raises(KeyError, match="unknown cut parameter"):
        cut_report(df, "mu")
    html = cut_report(df, "lam", observable="ZB").to_html()
    assert "NEUTRAL" in html and "<img" in html
    # without observable: the table's own varying state column (here ZB; J is constant)
    assert "ZB along the cut" in cut_report(df, "lam").to_html()
    with pytest.raises(KeyError, match="unknown observable"):
        cut_report(df, "lam", observable="QQ")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(normal_point_report, tmp_path):
    rep, _ = normal_point_report
    html = rep.write(tmp_path / "point.html")
    png = screenshot(html, tmp_path / "shot.png", tmp_path)
    assert png.exists() and png.stat().st_size > 10_000
    frac = ink_fraction(png)
    assert 0.01 < frac < 0.9, f"screenshot looks blank or broken (ink fraction {frac:.3f})"
    # the embedded figure is decoded: a region of the page is strongly coloured (plot lines, bars)
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    sat = img.max(axis=2) - img.min(axis=2)
    assert (sat > 0.3).mean() > 1e-3


def page_width(html: Path, tmp: Path, window=(1280, 900)) -> int:
    """The laid-out width of the page in Chromium (``scrollWidth``), read back with --dump-dom."""
    import re

    probe = tmp / "probe.html"
    probe.write_text(html.read_text().replace(
        "</body>", '<script>document.body.setAttribute("data-scroll-width", '
                   "document.documentElement.scrollWidth)</script></body>"))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={tmp / 'chromium-dom'}", f"--window-size={window[0]},{window[1]}", "--dump-dom",
           probe.resolve().as_uri()]
    out = subprocess.run(cmd, capture_output=True, timeout=120, check=False, text=True).stdout
    m = re.search(r'data-scroll-width="(\d+)"', out)
    assert m, "chromium did not lay out the page"
    return int(m.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("height", [900, 3000, 9000])
def test_flagship_report_renders(tmp_path, height):
    """The whole report screenshotted at several heights (top of the page with the table of
    contents, the paper's figures, deep into the reports): each renders, and the page is no wider
    than the window (tables wrap, images scale)."""
    from tests._flagship_run import flagship_quick

    out, _ = flagship_quick()
    html = (out / "report.html").read_text()
    assert 'id="contents"' in html
    _assert_clean_html(html)
    # the paper's order: Fig. 1(b), 1(d), 2, 3, 4, then the studies beyond the paper
    pos = [html.index(f' id="{k}') for k in ("fig-1-b", "fig-1-d", "fig-2", "fig-3", "fig-4", "beyond-the-paper")]
    assert pos == sorted(pos)
    png = screenshot(out / "report.html", tmp_path / f"flagship_{height}.png", tmp_path, size=(1280, height))
    assert png.exists() and 0.02 < ink_fraction(png) < 0.9
    if height == 900:       # tables wrap or scroll inside themselves, images scale: no page-wide scrolling
        assert page_width(out / "report.html", tmp_path) <= 1280
