"""One quick flagship run per test session, shared by test_studies.py and test_report.py."""
from __future__ import annotations

import tempfile
from pathlib import Path

_CACHE: dict = {}


def flagship_quick() -> tuple[Path, dict]:
    """Run ``studies.flagship.main(quick=True)`` once (every study + the HTML report, ~2 min on 2
    cores) and return (output directory, result)."""
    if "res" not in _CACHE:
        from studies import flagship

        out = Path(tempfile.mkdtemp(prefix="flagship-quick-"))
        _CACHE["out"] = out
        _CACHE["res"] = flagship.main(out, quick=True)
    return _CACHE["out"], _CACHE["res"]
