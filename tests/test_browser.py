"""A real browser runs every course notebook with widgets in JupyterLab, and the controls respond.

The other notebook tests execute cells without a frontend, so they cannot see a widget that the
browser fails to display ("Error displaying widget", a frontend/backend version mismatch), or a
control whose callback never reaches the kernel. This test starts JupyterLab from this environment
on 127.0.0.1 (free port, random token, fast mode) on a temporary copy of ``notebooks/``, reading
the repository's ``results/`` (``$BBAL_RESULTS_DIR`` if set). For each notebook with widgets (one
case each) it opens the notebook in headless Debian Chromium driven by Playwright, runs all cells,
checks that no cell shows an error and that every widget view renders, then acts as a student:

* ``00``: moves the K slider of the first panel; its printed line changes to the new K;
* ``01``: moves the BALD panel's "disagreement" slider one step (0.05); the kernel redraws the
  figure (the image's bytes change);
* ``02``: moves the batch-picks panel's "acquisition size b" slider; new figure, new b printed;
* ``03``: moves the score-spread panel's "K samples" slider; new figure;
* ``06``: moves the learning-curves panel's "acquisition size b" slider, whose options are the
  sizes of the finished runs in ``results/`` (a warning instead when there are fewer than two);
* ``04``, ``05``, ``06``: in the live re-run panel (which fast mode has already run once during
  "run all"), clicks Run; the button is disabled while the kernel runs, the log is rewritten and
  ends with "done:", and the plot is redrawn (an image different from the one before the click).

Sliders are moved with the keyboard, one step (to the right, or to the left from the last
option), after checking that a mouse could reach them (not covered by another element). A new
figure must also be a picture: decoded, with at least half the non-white pixels of the one before
(a blank redraw has new bytes too). After a live run every control of its panel must still be
reachable (the log beside them once covered them).

Needs: Playwright from PyPI (in the ``dev`` extra) and a Chromium: ``$BBAL_CHROMIUM``, else
``/usr/bin/chromium``, else Playwright's own download (``tests/browser_path.py``; ``make test``
gets one first). Screenshots go to ``out/browser/``:
``<notebook>.png`` on success (``<notebook>-live-run.png`` for 06's second panel),
``<test>-failure.png`` (plus the server log) on failure. Run one case with ``-k 02``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_path import chromium_path

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = REPO / "out" / "browser"
# The cached runs the notebooks read (06's curves panel has one slider position per cached b).
RESULTS_DIR = Path(os.environ.get("BBAL_RESULTS_DIR") or REPO / "results")
INSTALL_HINT = (
    "Get one with `make browser-deps` (Debian's chromium through apt-get, else Playwright's own "
    "download: `python -m playwright install chromium`), or point BBAL_CHROMIUM at a Chromium "
    "binary; Playwright itself comes with `make setup` (`pip install -e .[dev]`)."
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
# load of 8, JupyterLab took a minute to start and "run all" of 01 about 110 s; idle, about 20 s).
SERVER_START_S = 120
PAGE_READY_S = 180
RUN_ALL_S = 420
WIDGET_UPDATE_S = 90
LIVE_RUN_S = 180  # one click on a live panel's Run: a tiny training run in fast mode
SCREENSHOT_S = 60
# A redraw shows the same kind of figure for another value, so about as much ink (non-white
# pixels) as before; below this fraction of the figure before, it is blank or half drawn.
MIN_INK_RATIO = 0.5

# Each case is one test with its own timeout; the module's default fits the lighter notebooks.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class SliderMove:
    """Move one slider of a panel by one keyboard step; the panel's output must change."""

    cell: str  # a substring of the source of the cell that builds the panel
    label: str  # the slider's description
    step: float | None = None  # the readout's change for one step (None: just another option)
    sliders: int | None = None  # how many sliders the panel has, if that is to be checked
    figure: bool = True  # the panel shows a figure whose bytes must change (else: its text)
    prints: str | None = None  # text the redrawn output must hold; {value}: the new readout
    # options from the cached runs in results/: the text the cell prints instead of the panel
    # when there are none; then, or with one option only, a warning instead of the check
    no_runs_note: str | None = None
    screenshot: str = ""  # suffix of the screenshot's name
    # the new figure's non-white pixels, at least this fraction of the old one's
    ink_ratio: float = MIN_INK_RATIO


@dataclass(frozen=True)
class RunClick:
    """Click a live re-run panel's Run button; the kernel must run again and redraw."""

    cell: str
    screenshot: str = ""


LIVE_RUN = RunClick("widgets.live_run_panel(")
# notebook -> what to do in it; each panel found by a substring of its cell's source
CASES: dict[str, list[SliderMove | RunClick]] = {
    "00_start_here.ipynb": [
        SliderMove("widgets.live_panel(", "K", step=1, figure=False, prints="K = {value} equally")
    ],
    "01_information_diagrams.ipynb": [
        SliderMove("bald_venn_panel(", "disagreement", step=0.05, sliders=4)
    ],
    "02_bald_vs_batchbald.ipynb": [
        SliderMove(
            "batch_picks_panel(", "acquisition size b", step=1, sliders=1, prints="b = {value}:"
        )
    ],
    "03_consistent_mc_dropout.ipynb": [
        # one K less: the same curves, slightly moved (a redraw run in the kernel, not from the
        # slider, has 0.99 of the ink); a stricter ratio, since this figure has come back blank
        # or half drawn from the slider
        SliderMove("score_spread_panel(", "K samples", step=1, sliders=1, ink_ratio=0.8)
    ],
    "04_repeated_mnist.ipynb": [LIVE_RUN],
    "05_emnist_class_diversity.ipynb": [LIVE_RUN],
    "06_acquisition_size.ipynb": [
        SliderMove(
            "acquisition_size_curves_panel(",
            "acquisition size b",
            sliders=1,
            prints="(b={value})",
            no_runs_note="no cached BALD or BatchBALD runs yet",
        ),
        RunClick("widgets.live_run_panel(", screenshot="-live-run"),
    ],
}
# the heavier notebooks (sections that train small models, and a live run) get longer
CASE_TIMEOUT_S = {
    "04_repeated_mnist.ipynb": 1200,
    "05_emnist_class_diversity.ipynb": 1200,
    "06_acquisition_size.ipynb": 1500,
}


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
            # the notebooks' copy is elsewhere: read the cached runs from the repository's results/
            BBAL_RESULTS_DIR=str(RESULTS_DIR),
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
            data=b"" if method in ("POST", "DELETE") else None,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End the kernels of the notebooks opened so far (each case opens its own)."""
        try:
            for kernel in self.api("/api/kernels"):
                self.api(f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass  # stop() kills whatever is left

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
    chromium, looked_at = chromium_path()
    if chromium is None:
        # `make test` gets a browser first (or stops saying why); run through pytest directly
        # without one, this test is skipped with the reason, unless told that it must run (CI).
        message = f"No Chromium (looked at {looked_at}). {INSTALL_HINT}"
        if os.environ.get("BBAL_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
    except Exception as error:
        playwright.stop()
        pytest.fail(f"Chromium at {chromium} did not start: {error}. {INSTALL_HINT}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture(scope="module")
def lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One JupyterLab server for all cases (each case opens its notebook in a fresh page and
    ends its kernel); after ``browser``, so that a missing Chromium skips before starting it."""
    tmp_path = tmp_path_factory.mktemp("lab")
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
    """Scroll cell ``index`` into view, for the user's actions and the screenshots."""
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
        page.wait_for_timeout(500)  # let the cell paint; only for the screenshots
    except Exception:
        pass  # a help, not the verdict


def figure_ink(page: Any, outputs: Any) -> float:
    """The fraction of non-white pixels of the (one) figure in a panel's ``outputs``, decoded and
    drawn on a white canvas: a figure whose bytes changed can still be blank (seen in a redraw
    from a widget callback), which the src alone does not show. Fails if it is no valid image."""
    ink = page.evaluate(
        """async (el) => {
             const img = el.querySelector('.widget-output img');
             if (img === null) return null;
             await img.decode();
             const canvas = document.createElement('canvas');
             canvas.width = img.naturalWidth;
             canvas.height = img.naturalHeight;
             const ctx = canvas.getContext('2d');
             ctx.fillStyle = 'white';
             ctx.fillRect(0, 0, canvas.width, canvas.height);
             ctx.drawImage(img, 0, 0);
             const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
             let inked = 0;
             for (let i = 0; i < px.length; i += 4) {
               if (Math.min(px[i], px[i + 1], px[i + 2]) < 240) inked++;
             }
             return inked / Math.max(1, canvas.width * canvas.height);
           }""",
        outputs.element_handle(),
    )
    assert ink is not None, "the panel shows no figure"
    return ink


def assert_inked(new: float, old: float, what: str, ratio: float = MIN_INK_RATIO) -> str:
    assert new > 0 and new >= ratio * old, (
        f"{what} is blank or partly drawn: {new:.1%} of its pixels are not white, against "
        f"{old:.1%} in the figure before (at least {ratio:.0%} of that expected)"
    )
    return f"ink {old:.1%} -> {new:.1%}"


def save_screenshot(page: Any, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    # Chromium rasterizes a just-decoded large image asynchronously (a blank placeholder until
    # then): give it a moment. Only for the picture; the checks are done.
    page.wait_for_timeout(1500)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_S * 1000)
    return path


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

# A slider panel's output: the image (if any) and the text of its Output widget(s).
# The controls in ``outputs`` that a user cannot reach with the mouse: zero-sized, or with
# another element (e.g. a neighbouring output area) on top of their middle. Off-screen controls
# are not judged.
JS_UNREACHABLE_CONTROLS = """(outputs) => {
  const bad = [];
  outputs.querySelectorAll('.widget-slider, .widget-dropdown, .widget-text, .widget-button')
    .forEach(widget => {
      const target = widget.querySelector('.noUi-handle, select, input') || widget;
      const label = (widget.querySelector('.widget-label') || widget).textContent.trim();
      const r = target.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) { bad.push(label + ': zero size'); return; }
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      if (x < 0 || y < 0 || x > window.innerWidth || y > window.innerHeight) return;
      const hit = document.elementFromPoint(x, y);
      if (!hit || !widget.contains(hit)) {
        bad.push(label + ': covered by ' + (hit ? hit.className || hit.tagName : 'nothing'));
      }
    });
  return bad;
}"""

JS_PANEL_OUTPUT = """(outputs) => {
  const imgs = outputs.querySelectorAll('.widget-output img');
  return {src: imgs.length ? imgs[0].getAttribute('src') : null, images: imgs.length,
          text: Array.from(outputs.querySelectorAll('.widget-output'))
                  .map(node => node.textContent).join('\\n')};
}"""

# A live re-run panel, found from its Run button: VBox[HBox[VBox[controls, Run], log], plot].
# Its state, and a MutationObserver that records every state it passes through after a click
# (the button disabled while the kernel runs, the log rewritten, each redraw of the plot), so a
# short-lived state is seen even when no poll lands on it. Images are kept as a hash of the src.
JS_LIVE_PANEL = """
  const hash = (s) => { let h = 2166136261;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0).toString(16) + ':' + s.length; };
  const find = (outputs) => {
    const button = Array.from(outputs.querySelectorAll('button'))
      .find(b => b.textContent.trim() === 'Run');
    const hbox = button && button.closest('.widget-hbox');
    const panel = hbox && hbox.parentElement;
    if (!panel) return null;
    return {button: button, panel: panel,
            log: hbox.querySelector(':scope > .widget-output'),
            plot: panel.querySelector(':scope > .widget-output')};
  };
  const state = (p) => {
    const imgs = p.plot ? p.plot.querySelectorAll('img') : [];
    return {disabled: p.button.disabled, log: p.log ? p.log.textContent : null,
            image: imgs.length ? hash(imgs[0].getAttribute('src') || '') : null,
            images: imgs.length, plot: !!p.plot};
  };
"""
JS_LIVE_STATE = f"""(outputs) => {{ {JS_LIVE_PANEL}
  const p = find(outputs);
  return p && state(p);
}}"""
JS_LIVE_WATCH = f"""(outputs) => {{ {JS_LIVE_PANEL}
  const p = find(outputs);
  const seen = [state(p)];
  const watch = {{seen: seen, disabledSeen: false}};
  watch.observer = new MutationObserver((records) => {{
    if (records.some(r => r.target === p.button && r.attributeName === 'disabled')) {{
      watch.disabledSeen = true;
    }}
    const now = state(p);
    if (now.disabled) watch.disabledSeen = true;
    const last = seen[seen.length - 1];
    if (now.log !== last.log || now.image !== last.image || now.disabled !== last.disabled) {{
      seen.push(now);
    }}
  }});
  watch.observer.observe(p.panel, {{subtree: true, childList: true, attributes: true,
                                    characterData: true}});
  window.__bbalLive = watch;
  return seen[0];
}}"""
# The watched run is over: the button was disabled and is enabled again, the log was rewritten
# (a state without "done:" after the click) and says "done:" again.
JS_LIVE_DONE = """() => {
  const w = window.__bbalLive;
  const now = w.seen[w.seen.length - 1];
  return w.disabledSeen && !now.disabled && now.log !== null && now.log.includes('done:')
    && w.seen.slice(1).some(s => !s.log.includes('done:'));
}"""


def run_notebook(page: Any, lab: LabServer, notebook: str, console: list[str]) -> dict:
    """Open ``notebook``, run all cells, check that each ran without an error and that every
    widget view rendered. Returns the cell summary and timings."""
    start = time.perf_counter()
    page.goto(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}", timeout=PAGE_READY_S * 1000)
    page.wait_for_function(JS_NOTEBOOK_READY, timeout=PAGE_READY_S * 1000)
    ready_s = time.perf_counter() - start

    # Run all cells and wait for JupyterLab to report them done (not a fixed sleep).
    page.evaluate(JS_RUN_ALL)
    page.wait_for_function("() => window.__bbalRunAll !== undefined", timeout=RUN_ALL_S * 1000)
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

    # Widgets render asynchronously: wait (bounded) until every widget view is drawn, or one
    # shows an error. That includes the views nested in a panel's Output widget (the progress
    # bars in a live re-run panel's log), which JS_BAD_WIDGET_VIEWS does not see: each shows
    # "Loading widget..." until its model resolves, and the last ones arrive just before the run
    # ends.
    try:
        page.wait_for_function(
            f"() => {{ const bad = ({JS_BAD_WIDGET_VIEWS})();"
            f" const text = ({JS_OUTPUT_TEXT})();"
            " if (bad.some(b => b.final) || text.includes('Error displaying widget')) return true;"
            " return bad.length === 0 && !text.includes('Loading widget'); }",
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
    assert "Loading widget" not in output_text, (
        f"a widget (a nested one, e.g. a progress bar in a panel's log) still shows "
        f"'Loading widget...' after {WIDGET_UPDATE_S} s"
    )
    assert "Traceback" not in output_text, "an output (or a panel) shows a traceback"
    widget_errors = [m for m in console if "widget" in m.lower() or "module" in m.lower()]
    assert not widget_errors, f"the browser console reports widget errors: {widget_errors}"
    return {"cells": summary["cells"], "ready_s": ready_s, "run_all_s": run_all_s}


def panel_cell(page: Any, cells: list[dict], source: str) -> tuple[int, Any]:
    """The index and locator of the one code cell whose source contains ``source``."""
    matches = [c["index"] for c in cells if source in c["source"]]
    assert len(matches) == 1, f"expected one cell containing {source!r}, found cells {matches}"
    show_cell(page, matches[0])
    cell = page.locator(".jp-Notebook .jp-Cell").nth(matches[0])
    cell.scroll_into_view_if_needed()
    return matches[0], cell


def move_slider(page: Any, cells: list[dict], check: SliderMove) -> str:
    """Move ``check.label`` one keyboard step (right, or left from the last option) and check
    that the kernel redrew the panel's output with the new value. Returns what was done."""
    _, cell = panel_cell(page, cells, check.cell)
    outputs = cell.locator(".jp-Cell-outputArea")
    if check.no_runs_note is not None and check.no_runs_note in (outputs.text_content() or ""):
        warnings.warn(
            f"no {check.cell!r} panel: no cached runs in {RESULTS_DIR} (`make reproduce`), so "
            "it is not checked",
            pytest.PytestWarning,
            stacklevel=1,
        )
        return f"{check.cell}: no cached runs, no panel, not checked"
    handles = outputs.locator(".widget-slider .noUi-handle")
    if check.sliders is not None:
        assert handles.count() == check.sliders, (
            f"{check.sliders} slider(s) expected, found {handles.count()}"
        )
    label = re.compile(rf"^\s*{re.escape(check.label)}\s*$")
    slider = outputs.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=label)
    )
    assert slider.count() == 1, f"the {check.label!r} slider is missing"
    handle = slider.locator(".noUi-handle")
    readout = slider.locator(".widget-readout")
    aria = {
        name: float(handle.get_attribute(f"aria-value{name}", timeout=WIDGET_UPDATE_S * 1000))
        for name in ("min", "max", "now")
    }
    if check.no_runs_note is not None and aria["min"] == aria["max"]:
        warnings.warn(
            f"the {check.label!r} slider has one position only (cached runs in {RESULTS_DIR} "
            f"for one size): nothing to move to, so the {check.cell!r} panel is not checked",
            pytest.PytestWarning,
            stacklevel=1,
        )
        return f"{check.cell}: one option only, not checked"
    assert aria["min"] < aria["max"], f"the {check.label!r} slider cannot move: {aria}"
    old_readout = readout_text(readout)
    # right, unless already at the end; the handle's aria values are rounded to 0.1, so a
    # numeric slider's position is its readout (a selection slider's: the option's index)
    now = aria["now"] if check.step is None else float(old_readout)
    direction = 1 if now < aria["max"] else -1

    before = page.evaluate(JS_PANEL_OUTPUT, outputs.element_handle())
    ink = "no figure"
    if check.figure:
        assert before["images"] == 1, f"the panel should show one figure: {before['images']}"
        assert before["src"] and before["src"].startswith("data:image/png;base64,")
        old_ink = figure_ink(page, outputs)
        assert old_ink > 0, "the panel's first figure is blank"
    else:
        assert before["text"].strip(), "the panel's output is empty"

    # One step with the keyboard, as a user can; the kernel callback must redraw the output
    # (the image's bytes, or the printed text, change; not just the readout).
    # the control must be where a student can grab it: on screen, not under another element
    handle.scroll_into_view_if_needed()
    unreachable = page.evaluate(JS_UNREACHABLE_CONTROLS, slider.element_handle())
    assert not unreachable, f"the slider cannot be reached with the mouse: {unreachable}"
    handle.focus()
    page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
    try:
        page.wait_for_function(
            f"""([el, old, figure]) => {{
                  const now = ({JS_PANEL_OUTPUT})(el);
                  return figure ? (now.src !== null && now.src !== old.src)
                                : (now.text.trim() !== '' && now.text !== old.text);
                }}""",
            arg=[outputs.element_handle(), before, check.figure],
            timeout=WIDGET_UPDATE_S * 1000,
        )
    except Exception as error:
        raise AssertionError(
            f"moving {check.label!r} from {old_readout} (readout now {readout_text(readout)}) "
            f"did not redraw the panel within {WIDGET_UPDATE_S} s: the slider's callback never "
            "reached the output"
        ) from error
    new_readout = readout_text(readout)
    assert new_readout != old_readout, f"the readout stayed at {old_readout}"
    if check.step is None:  # a selection slider: its handle moves over option indices
        new_now = float(handle.get_attribute("aria-valuenow"))
        assert new_now == aria["now"] + direction, (
            f"the handle went from option {aria['now']:g} to {new_now:g}, not one step"
        )
    if check.step is not None:
        assert float(new_readout) == pytest.approx(float(old_readout) + direction * check.step), (
            f"{check.label} went from {old_readout} to {new_readout}, not one step "
            f"({direction * check.step:+g})"
        )
    if check.prints is not None:
        expected = check.prints.format(value=new_readout)
        try:
            page.wait_for_function(
                f"([el, text]) => ({JS_PANEL_OUTPUT})(el).text.includes(text)",
                arg=[outputs.element_handle(), expected],
                timeout=WIDGET_UPDATE_S * 1000,
            )
        except Exception as error:
            text = page.evaluate(JS_PANEL_OUTPUT, outputs.element_handle())["text"]
            raise AssertionError(
                f"after the move the panel should print {expected!r}: {text[:1000]!r}"
            ) from error
    after = page.evaluate(JS_PANEL_OUTPUT, outputs.element_handle())
    if check.figure:
        assert after["src"].startswith("data:image/png;base64,") and after["src"] != before["src"]
        assert after["images"] == 1, "the redraw should replace the figure, not add one"
        ink = assert_inked(
            figure_ink(page, outputs), old_ink, "the redrawn figure", check.ink_ratio
        )
    assert "Traceback" not in after["text"], f"the redraw failed: {after['text'][:2000]}"
    return f"{check.label!r}: {old_readout} -> {new_readout}, output redrawn ({ink})"


def click_run(page: Any, cells: list[dict], check: RunClick) -> str:
    """Check a live re-run panel after "run all" (fast mode ran it once), click Run, and check
    that the kernel ran again: button disabled then enabled, log rewritten, plot redrawn, and
    every control still reachable."""
    index, cell = panel_cell(page, cells, check.cell)
    outputs = cell.locator(".jp-Cell-outputArea")
    element = outputs.element_handle()
    before = page.evaluate(JS_LIVE_STATE, element)
    assert before is not None, "no live re-run panel (a 'Run' button in a box) in the cell"
    assert before["plot"] and before["log"] is not None, f"the panel lacks its outputs: {before}"
    # fast mode's run during "run all" has drawn the plot and logged its end
    assert "done:" in before["log"], f"the run during 'run all' did not finish: {before['log']!r}"
    assert before["images"] == 1, f"the run during 'run all' drew no plot: {before}"
    assert not before["disabled"], "the Run button is still disabled after 'run all'"
    old_ink = figure_ink(page, outputs)
    assert old_ink > 0, "the plot of the run during 'run all' is blank"

    button = outputs.locator("button", has_text=re.compile(r"^\s*Run\s*$"))
    assert button.count() == 1, f"expected one Run button, found {button.count()}"
    page.evaluate(JS_LIVE_WATCH, element)
    start = time.perf_counter()
    button.click()
    try:
        page.wait_for_function(JS_LIVE_DONE, timeout=LIVE_RUN_S * 1000)
    except Exception as error:
        watch = page.evaluate(
            "() => ({disabled: window.__bbalLive.disabledSeen, seen: window.__bbalLive.seen})"
        )
        raise AssertionError(
            f"clicking Run did not complete a new run within {LIVE_RUN_S} s (button disabled "
            f"seen: {watch['disabled']}; states seen: {watch['seen'][-5:]})"
        ) from error
    run_s = time.perf_counter() - start
    watch = page.evaluate(
        "() => { window.__bbalLive.observer.disconnect(); return window.__bbalLive.seen; }"
    )
    after = watch[-1]
    rewritten = [s["log"] for s in watch[1:] if "done:" not in s["log"]]
    assert any(log.strip() for log in rewritten), (
        f"the log was not rewritten by the new run (states: {watch})"
    )
    assert "Traceback" not in after["log"], f"the run failed: {after['log'][:2000]}"
    frames = {s["image"] for s in watch[1:] if s["image"] is not None}
    assert frames - {before["image"]}, (
        "the plot was never redrawn with a new image during the run "
        f"({len(frames)} image(s) seen after the click)"
    )
    assert after["images"] == 1, f"the panel should end with one plot: {after}"
    ink = assert_inked(figure_ink(page, outputs), old_ink, "the plot after the new run")
    # The log (progress bar, messages) grows beside the controls: it once covered them.
    show_cell(page, index)
    unreachable = page.evaluate(JS_UNREACHABLE_CONTROLS, element)
    assert not unreachable, f"controls a user cannot reach after the run: {unreachable}"
    return (
        f"Run clicked: {run_s:.1f} s, {len(frames)} plot frame(s), {ink}, log now "
        f"{after['log'].strip().splitlines()[-1]!r}"
    )


@pytest.mark.parametrize(
    "notebook",
    [
        pytest.param(
            name,
            id=name.split("_")[0],
            marks=[pytest.mark.timeout(CASE_TIMEOUT_S[name])] if name in CASE_TIMEOUT_S else [],
        )
        for name in CASES
    ],
)
def test_notebook_widgets_render_and_respond_in_jupyterlab(
    browser: Any, lab: LabServer, notebook: str, request: pytest.FixtureRequest
) -> None:
    name = Path(notebook).stem
    start = time.perf_counter()
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        with screenshot_on_failure(page, request.node.name, lab, console):
            ran = run_notebook(page, lab, notebook, console)
            for check in CASES[notebook]:
                check_start = time.perf_counter()
                if isinstance(check, SliderMove):
                    done = move_slider(page, ran["cells"], check)
                else:
                    done = click_run(page, ran["cells"], check)
                shot = save_screenshot(page, name + check.screenshot)
                print(f"{notebook}: {done} ({time.perf_counter() - check_start:.1f} s); {shot}")
            total_s = time.perf_counter() - start
            print(
                f"{notebook}: lab and kernel ready {ran['ready_s']:.1f} s, run-all "
                f"{ran['run_all_s']:.1f} s, whole browser check {total_s:.1f} s"
            )
    finally:
        context.close()
        lab.shutdown_kernels()
