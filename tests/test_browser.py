"""A real browser runs notebook 01 in JupyterLab, and its ipywidgets controls render and respond.

The other notebook tests execute cells without a frontend, so they cannot see a widget that the
browser fails to display ("Error displaying widget", a frontend/backend version mismatch) or a
slider whose callback never reaches the kernel. This test starts JupyterLab from this environment
on 127.0.0.1 (free port, random token, fast mode) on a temporary copy of ``notebooks/``, opens
``01_information_diagrams.ipynb`` in headless Debian Chromium driven by Playwright, runs all cells,
checks that there is no error output and that the BALD panel's sliders render, moves the
"disagreement" slider and checks that the kernel redraws the figure under it.

Needs: Playwright from PyPI (in the ``dev`` extra) and Chromium at ``/usr/bin/chromium`` (or
``$BBAL_CHROMIUM``); Playwright never downloads a browser. Screenshots go to ``out/browser/``:
``01_information_diagrams.png`` on success, ``<test>-failure.png`` (plus the server log) on failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_information_diagrams.ipynb"
CHROMIUM = Path(os.environ.get("BBAL_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT_DIR = REPO / "out" / "browser"
INSTALL_HINT = (
    "Install Chromium with `make browser-deps` (Debian: `sudo apt-get install chromium`) "
    "or point BBAL_CHROMIUM at a Chromium binary, and Playwright with `make setup` "
    "(`pip install -e .[dev]`). Do not run `playwright install`: the test uses the system browser."
)
# Chromium otherwise keeps trying to reach Google's hosts, which CI machines often cannot.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Bounded waits, generous because CI machines can be slow and busy (on 2 shared cores with a
# load of 8, JupyterLab took a minute to start and "run all" about 110 s; idle, about 20 s).
SERVER_START_S = 120
PAGE_READY_S = 180
RUN_ALL_S = 240
WIDGET_UPDATE_S = 90
SCREENSHOT_S = 60

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.25)


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (here: this test's private runtime folder)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(proc.name))
    return pids


class LabServer:
    """A JupyterLab server on a private copy of the notebooks, stopped by :meth:`stop`."""

    def __init__(self, root: Path, runtime: Path, log_path: Path) -> None:
        self.root = root
        self.runtime = runtime
        self.log_path = log_path
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            BBAL_FAST="1",
            BBAL_OFFLINE="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            TQDM_DISABLE="1",
            # keep the user's lab settings, workspaces and running-server files out of it
            JUPYTER_RUNTIME_DIR=str(runtime),
            JUPYTERLAB_SETTINGS_DIR=str(runtime / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(runtime / "workspaces"),
        )
        env.pop("MPLBACKEND", None)  # the notebook asks for %matplotlib inline itself
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.password=",
            "--LabApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={root}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self._log = log_path.open("w")
        # own process group, so that stop() can signal the server and anything it spawned
        self.proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_until_up(self) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                self.api("/api/status")
                return True
            except OSError:
                return False

        _wait_for(up, SERVER_START_S, f"JupyterLab on port {self.port}")

    def stop(self) -> None:
        """Shut kernels and server down politely, then by signal; kill stray kernels."""
        if self.proc.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        # kernels run in their own sessions; theirs are the only command lines that name our
        # private runtime folder (the connection file), so this ends only what the test started
        for pid in _processes_mentioning(str(self.runtime)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.fail(f"Playwright is not installed ({error}). {INSTALL_HINT}", pytrace=False)
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        # `make test` installs Chromium where it can (root, or sudo without a password); where
        # it cannot, this test is skipped with the reason, unless told that it must run (CI).
        message = f"No Chromium at {CHROMIUM}. {INSTALL_HINT}"
        if os.environ.get("BBAL_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception as error:
        playwright.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}. {INSTALL_HINT}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabServer]:
    root = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    runtime = tmp_path / "runtime"
    # no "fetch Jupyter news?" toast over the notebook, and no request for it
    notification = runtime / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    server = LabServer(root, runtime, tmp_path / "jupyterlab.log")
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def readout_text(readout: Any) -> str:
    """The text of a slider's readout, read from the DOM rather than from what is painted:
    JupyterLab 4 skips painting cells outside the viewport (windowing), and on a slow machine
    a just-scrolled-to cell can still be unpainted, when innerText reads as ''."""
    text = (readout.text_content(timeout=WIDGET_UPDATE_S * 1000) or "").strip()
    assert text, "the slider's readout is empty: the slider widget did not render its value"
    return text


@contextmanager
def screenshot_on_failure(page: Any, name: str, lab: LabServer, console: list[str]) -> Iterator:
    """On any failure: full-page screenshot and server log in out/browser/, then re-raise."""
    try:
        yield
    except BaseException as error:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOT_DIR / f"{name}-failure.png"
        log = SCREENSHOT_DIR / f"{name}-failure-jupyterlab.log"
        try:
            page.screenshot(path=str(shot), full_page=True, timeout=SCREENSHOT_S * 1000)
        except Exception as shot_error:  # a dead page must not hide the real failure
            shot = Path(f"<no screenshot: {shot_error}>")
        log.write_text(lab.log_tail(200_000))
        raise AssertionError(
            f"{error}\n\nscreenshot: {shot}\nserver log: {log}\n"
            f"browser console errors: {console[-10:]}\nserver log tail:\n{lab.log_tail(1500)}"
        ) from error


def show_cell(page: Any, index: int) -> None:
    """Scroll cell ``index`` into view, so that the failure screenshot shows it."""
    try:
        # JupyterLab's own scrolling: the notebook lays out offscreen cells lazily, so a plain
        # DOM scroll can land elsewhere
        page.evaluate(
            """async (index) => {
                 const notebook = window.jupyterapp.shell.currentWidget.content;
                 notebook.activeCellIndex = index;
                 await notebook.scrollToItem(index, 'start');
               }""",
            index,
        )
        page.wait_for_timeout(500)  # let the cell paint; only for the failure screenshot
    except Exception:
        pass  # the screenshot is a help, not the verdict


# JavaScript run in the page. `jupyterapp` is JupyterLab itself (expose_app_in_browser).
JS_NOTEBOOK_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!(panel && panel.content && panel.content.model && kernel
            && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}"""

JS_RUN_ALL = """() => {
  window.__bbalRunAll = undefined;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__bbalRunAll = {ok: ok}; },
    err => { window.__bbalRunAll = {ok: false, error: String(err)}; });
}"""

# one entry per code cell: execution count, output types and output text (errors included)
JS_CELL_SUMMARY = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = [];
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const out = cell.model.outputs.get(i).toJSON();
      outputs.push({type: out.output_type, json: JSON.stringify(out).slice(0, 2000)});
    }
    cells.push({index: index, source: cell.model.sharedModel.getSource(),
                count: cell.model.executionCount, outputs: outputs});
  });
  return {cells: cells, kernel: panel.sessionContext.session.kernel.status};
}"""

# Every output that asks for a widget view, whatever the cell, must show a rendered widget: not
# the "Loading widget..." placeholder, not "Error displaying widget". Outputs map one to one onto
# the output area's children. Returns the cells whose widgets are not (yet) fine.
JS_BAD_WIDGET_VIEWS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const bad = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const data = cell.model.outputs.get(i).data || {};
      const view = data['application/vnd.jupyter.widget-view+json'];
      if (!view || !view.model_id) continue;
      const child = cell.outputArea.widgets[i];
      const node = child && child.node;
      const text = node ? node.textContent : '<no output node>';
      if (!node || !node.querySelector('[class*="widget-"]')
          || text.includes('Loading widget') || text.includes('Error displaying widget')) {
        // the placeholder may still resolve; an error message (the widget manager's, or
        // JupyterLab's "Click to show javascript error") will not
        const final = text.includes('Error displaying widget') || text.includes('javascript error');
        bad.push({cell: index, output: i, final: final, text: text.slice(0, 200)});
      }
    }
  });
  return bad;
}"""
# All output text, offscreen cells included (innerText skips cells JupyterLab has not laid out).
JS_OUTPUT_TEXT = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell-outputArea'))
  .map(node => node.textContent).join('\\n')"""


def test_notebook_widgets_render_and_respond_in_jupyterlab(
    browser: Any, lab: LabServer, request: pytest.FixtureRequest
) -> None:
    name = Path(NOTEBOOK).stem
    start = time.perf_counter()
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        with screenshot_on_failure(page, request.node.name, lab, console):
            page.goto(
                f"{lab.url}/lab/tree/{NOTEBOOK}?reset&token={lab.token}",
                timeout=PAGE_READY_S * 1000,
            )
            page.wait_for_function(JS_NOTEBOOK_READY, timeout=PAGE_READY_S * 1000)
            ready_s = time.perf_counter() - start

            # Run all cells and wait for JupyterLab to report them done (not a fixed sleep).
            page.evaluate(JS_RUN_ALL)
            page.wait_for_function(
                "() => window.__bbalRunAll !== undefined", timeout=RUN_ALL_S * 1000
            )
            outcome = page.evaluate("() => window.__bbalRunAll")
            page.wait_for_function(JS_NOTEBOOK_READY, timeout=RUN_ALL_S * 1000)
            summary = page.evaluate(JS_CELL_SUMMARY)
            errors = [
                (cell["index"], out["json"])
                for cell in summary["cells"]
                for out in cell["outputs"]
                if out["type"] == "error" or "Traceback (most recent call last)" in out["json"]
            ]
            if errors:
                show_cell(page, errors[0][0])
                raise AssertionError(f"cells with error output: {errors[:3]}")
            not_run = [c["index"] for c in summary["cells"] if c["count"] is None]
            assert not not_run, f"cells that did not run: {not_run}"
            assert outcome.get("ok") is True, f"run-all-cells reported failure: {outcome}"
            run_all_s = time.perf_counter() - start - ready_s

            # Widgets render asynchronously: wait (bounded) until every widget view is drawn, or
            # one shows an error.
            try:
                page.wait_for_function(
                    f"() => {{ const bad = ({JS_BAD_WIDGET_VIEWS})();"
                    " return bad.length === 0 || bad.some(b => b.final); }",
                    timeout=WIDGET_UPDATE_S * 1000,
                )
            except Exception:
                pass  # reported below, with the culprits
            bad = page.evaluate(JS_BAD_WIDGET_VIEWS)
            if bad:
                show_cell(page, bad[0]["cell"])
                raise AssertionError(f"widgets that did not render: {bad}")
            output_text = page.evaluate(JS_OUTPUT_TEXT)
            assert "Error displaying widget" not in output_text
            assert "Loading widget" not in output_text
            assert "Traceback" not in output_text, "an output (or a panel) shows a traceback"
            widget_errors = [m for m in console if "widget" in m.lower() or "module" in m.lower()]
            assert not widget_errors, f"the browser console reports widget errors: {widget_errors}"

            # The BALD panel: the output area of the cell that builds bald_venn_panel().
            panel_index = next(
                c["index"] for c in summary["cells"] if "bald_venn_panel(" in c["source"]
            )
            cell = page.locator(".jp-Notebook .jp-Cell").nth(panel_index)
            cell.scroll_into_view_if_needed()
            outputs = cell.locator(".jp-Cell-outputArea")
            assert outputs.locator(".widget-slider .noUi-handle").count() == 4, "4 sliders expected"
            assert outputs.locator(".widget-output img").count() == 1, "the panel has no figure"

            slider = cell.locator(".widget-slider", has_text="disagreement")
            assert slider.count() == 1, "the 'disagreement' slider is missing"
            readout = slider.locator(".widget-readout")
            image = outputs.locator(".widget-output img")
            old_readout = readout_text(readout)
            old_src = image.first.get_attribute("src")
            assert old_src and old_src.startswith("data:image/png;base64,")

            # Move the slider one step with the keyboard, as a user can; the kernel callback
            # must redraw the figure (the image's bytes change, not just the readout).
            slider.locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight")
            try:
                page.wait_for_function(
                    """([el, old]) => {
                         const img = el.querySelector('.widget-output img');
                         return img !== null && img.getAttribute('src') !== old;
                       }""",
                    arg=[outputs.element_handle(), old_src],
                    timeout=WIDGET_UPDATE_S * 1000,
                )
            except Exception as error:
                raise AssertionError(
                    f"moving 'disagreement' from {old_readout} (readout now "
                    f"{readout_text(readout)}) did not redraw the figure within "
                    f"{WIDGET_UPDATE_S} s: the slider's callback never reached the output"
                ) from error
            new_readout = readout_text(readout)
            assert float(new_readout) == pytest.approx(float(old_readout) + 0.05), (
                f"disagreement went from {old_readout} to {new_readout}, not one step (0.05) up"
            )
            new_src = image.first.get_attribute("src")
            assert new_src.startswith("data:image/png;base64,") and new_src != old_src
            assert image.count() == 1, "the redraw should replace the figure, not add one"
            panel_text = outputs.text_content()
            assert "Traceback" not in panel_text, f"the redraw failed: {panel_text[:2000]}"

            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            cell.scroll_into_view_if_needed()
            page.screenshot(
                path=str(SCREENSHOT_DIR / f"{name}.png"),
                full_page=True,
                timeout=SCREENSHOT_S * 1000,
            )
            total_s = time.perf_counter() - start
            print(
                f"{NOTEBOOK}: lab and kernel ready {ready_s:.1f} s, run-all {run_all_s:.1f} s, "
                f"whole browser check {total_s:.1f} s"
            )
            print(f"screenshot: {SCREENSHOT_DIR / (name + '.png')}")
    finally:
        context.close()
