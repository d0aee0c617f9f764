"""mypy over core/ at the level pyproject.toml's [tool.mypy] sets passes (no module of core/ is let off)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_over_core():
    try:
        import mypy  # noqa: F401
    except ImportError:
        raise AssertionError("mypy is not installed: install the test extra (pip install -e '.[test]')") from None
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
