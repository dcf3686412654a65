"""The model picker in a real browser: JupyterLab on 127.0.0.1, ``02_pick_a_model.ipynb`` opened
and run in headless Chromium (Debian's ``chromium`` package, driven by Playwright for Python),
the capability changed in the page, the recommendation seen to change, a screenshot saved.

Run it alone with ``pytest -m browser -s`` (``-s`` prints where the screenshot went). It needs
``/usr/bin/chromium`` (``apt-get install -y chromium``, as root); ``playwright install`` is not
needed and cannot download here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "02_pick_a_model.ipynb"
SERVER_START_S = 60
#: Running the whole notebook in CI mode: a kernel, the pickers, one tiny benchmark cell.
RUN_ALL_S = 120
TOKEN = "hfbench-browser-test"
#: The what-if hardware the test selects in the page.
WHAT_IF = "consumer-gpu-24gb"
KERNEL_IDLE = (
    "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
)
#: True once the kernel is idle and no cell is queued or running (a prompt shows ``[*]``).
FINISHED = """() => {
    const kernel = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;
    const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')];
    const busy = prompts.some(p => p.textContent.includes('*'));
    return kernel?.status === 'idle' && prompts.length > 0 && !busy;
}"""

#: The error outputs of the open notebook's cells, ``ename: evalue`` each.
ERRORS = """() => {
    const errors = [];
    for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
        if (cell.model.type !== 'code') continue;
        for (const output of cell.model.outputs.toJSON()) {
            if (output.output_type === 'error') errors.push(`${output.ename}: ${output.evalue}`);
        }
    }
    return errors;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_chromium() -> Path:
    """Debian's chromium; the test fails (never skips) when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium as root with "
            "`apt-get update && apt-get install -y chromium` (.ci/run does it); "
            "`playwright install` cannot download browsers here."
        )
    return CHROMIUM


@contextlib.contextmanager
def jupyterlab(tmp_path: Path, hfbench_cache: Path) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1 serving a folder with a copy of the picker notebook, in
    CI mode; yields its base URL and always stops it."""
    root = tmp_path / "lab"
    root.mkdir()
    # no "get notified about official Jupyter news?" toast over the picker in the screenshot
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}', encoding="utf-8")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = free_port()
    env = {
        **os.environ,
        "HFBENCH_NOTEBOOK_MODE": "ci",
        "HFBENCH_CACHE": str(hfbench_cache),
        # a fresh user: no workspace, settings or extensions of whoever runs the test
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run all cells by command
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}; see {tmp_path / 'jupyterlab.log'}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as answer:
                    json.load(answer)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {SERVER_START_S} s; see {tmp_path}")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def expected_recommendation(capability: str) -> str:
    """What the picker recommends for ``capability`` on ``WHAT_IF`` (a preset: the same answer in
    the kernel and here, whatever this machine's free memory is at either moment)."""
    from hfbench.widgets import ModelPicker

    rec = ModelPicker(capability, hardware=WHAT_IF, results=os.devnull).recommendation
    assert rec is not None
    return rec.model_name


@pytest.mark.browser
@pytest.mark.slow
def test_model_picker_renders_and_reacts_in_jupyterlab_in_headless_chromium(
    tmp_path: Path, hfbench_cache: Path
) -> None:
    chromium = require_chromium()
    from playwright.sync_api import expect, sync_playwright

    chat, embeddings = expected_recommendation("chat"), expected_recommendation("embeddings")
    assert chat != embeddings
    screenshot = tmp_path / "model-picker.png"
    with jupyterlab(tmp_path, hfbench_cache) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            # run all cells once the kernel is up (earlier, JupyterLab asks which kernel to start);
            # the command's promise is not awaited: the test watches the page instead
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

            picker = page.locator(".hfbench-picker").first
            expect(picker).to_be_visible(timeout=RUN_ALL_S * 1000)
            recommendation = picker.locator(".hfbench-recommendation")
            # this machine's answer depends on its free memory: any verdict will do here
            verdict = re.compile("fits|doesn't fit|not suitable")
            expect(picker.locator(".hfbench-fit")).to_contain_text(verdict, timeout=30_000)

            picker.locator(".hfbench-hardware select").select_option(label=f"{WHAT_IF} (what-if)")
            expect(recommendation).to_contain_text(chat, timeout=30_000)
            picker.locator(".hfbench-capability select").select_option("embeddings")
            expect(recommendation).to_contain_text(embeddings, timeout=30_000)
            expect(picker.locator(".hfbench-alternatives")).to_contain_text(embeddings)
            expect(picker.locator(".hfbench-fit")).to_contain_text("fits")

            # let the rest of the notebook finish (the offline picker's benchmark and generation)
            page.wait_for_function(FINISHED, timeout=RUN_ALL_S * 1000)
            assert page.evaluate(ERRORS) == []
            picker.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
            picker.screenshot(path=str(tmp_path / "model-picker-widget.png"))
            measured = page.locator(".hfbench-picker").nth(1)  # the offline picker, benchmarked
            expect(measured.locator(".hfbench-recommendation")).to_contain_text("measured here")
            measured.screenshot(path=str(tmp_path / "model-picker-measured.png"))
        finally:
            browser.close()
    print(f"screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
