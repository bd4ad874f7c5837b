"""Headless Chromium (Debian's package, which .ci/run installs) for pages the tests write.

No network: the flags keep Chromium from calling home, which this machine refuses.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "chromium"
QUIET = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--allow-file-access-from-files",
)


def chromium(*args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium with a profile of its own, removed afterwards."""
    binary = shutil.which(CHROMIUM)
    assert binary, f"{CHROMIUM} is not installed: apt-get install chromium (.ci/run does)"
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [binary, *QUIET, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=180,
        )


def screenshot(page: Path, png: Path, *, width: int, height: int) -> None:
    """A PNG of `page` as a window of width x height pixels shows it."""
    done = chromium(f"--screenshot={png}", f"--window-size={width},{height}", page.as_uri())
    assert png.exists(), f"no screenshot (exit {done.returncode}):\n{done.stderr[-3000:]}"


def dom_after_scripts(page: Path) -> str:
    """The DOM of `page` once its scripts ran (ten seconds of virtual time)."""
    done = chromium("--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
