"""What every browser test shares: Debian's Chromium driven by Playwright, its flags, the
wait for a screen to show something, and the ``browser_path`` fixture (tests/e2e/conftest.py
makes it available to every e2e test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 30_000

try:
    import playwright.async_api as pw
except ImportError:  # reported by the browser fixture: a skip here, a failure in CI
    pw = None  # type: ignore[assignment]  # the fixture below turns this into a skip or a failure


def chromium_path() -> Path:
    """Debian's chromium, driven by Playwright. Outside CI a machine without them skips this
    test; in CI (``CI=true``, where ``make install`` installs chromium) it fails instead,
    so a broken install can never pass as a skip."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (apt-get install chromium fonts-wqy-zenhei)")
    if pw is None:
        missing.append("playwright is not importable (make install adds it)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the console's browser test cannot run: {reason}")
        pytest.skip(reason)
    return CHROMIUM
