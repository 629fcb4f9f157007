"""Which Chromium tests/test_browser.py drives, found the same way by the test and by the
Makefile's ``browser-deps`` target.

In order: ``$BBAL_CHROMIUM`` if set (and nothing else: a path the user named is not second-guessed),
else Debian's ``/usr/bin/chromium``, else the Chromium that Playwright downloaded with
``python -m playwright install chromium`` (under ``~/.cache/ms-playwright``).

    python tests/browser_path.py               # print the browser's path; exit 1 if there is none
    python tests/browser_path.py --playwright  # only Playwright's own download
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> Path | None:
    """The Chromium Playwright downloaded, or None (not downloaded, or no Playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = Path(playwright.chromium.executable_path)
    return path if _executable(path) else None


def chromium_path() -> tuple[Path | None, str]:
    """The browser to drive, and where it was looked for (for an error message)."""
    named = os.environ.get("BBAL_CHROMIUM")
    if named:
        return (Path(named) if _executable(Path(named)) else None), f"BBAL_CHROMIUM={named}"
    if _executable(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM, str(SYSTEM_CHROMIUM)
    return playwright_chromium(), f"{SYSTEM_CHROMIUM} and Playwright's own download"


def main(argv: list[str]) -> int:
    path = playwright_chromium() if "--playwright" in argv else chromium_path()[0]
    if path is None:
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
