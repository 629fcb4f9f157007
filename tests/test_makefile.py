"""The Makefile's user-facing targets behave as the README says (``make lab`` really starts)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((address, port)) == 0


def _other_addresses() -> list[str]:
    """This host's IPv4 addresses other than loopback (``hostname -I``; none if unavailable)."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [a for a in found.stdout.split() if "." in a and not a.startswith("127.")]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_make_lab_starts_jupyterlab_on_localhost_with_a_token_even_as_root(tmp_path):
    if not (REPO / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv/ with JupyterLab here (make setup creates it)")
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    }
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_ARGS=--no-browser --port={port}"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        url = f"http://127.0.0.1:{port}/lab?token="
        while url not in log.read_text():
            assert process.poll() is None, f"make lab exited early:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {url} in the log:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        text = log.read_text()
        as_root = os.geteuid() == 0 if sys.platform != "win32" else False
        warning = "make lab: running as root"
        assert (warning in text) == as_root, text[-3000:]
        # bound to localhost only: the port answers there, and not on the host's other addresses
        assert _answers("127.0.0.1", port)
        for address in _other_addresses():
            assert not _answers(address, port), f"JupyterLab also listens on {address}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
