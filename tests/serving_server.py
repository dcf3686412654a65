"""A real ``transformers serve`` process on 127.0.0.1 for the served-model tests (not a test module).

``start_server(folder)`` starts transformers' own OpenAI-compatible server on a free port, offline
(``HF_HUB_OFFLINE=1``), in its own process group, and waits for ``/health`` (the failure message
carries the server's log); ``ServedModel.stop()`` kills the whole group. ``shared_server()`` is the
one server of a test session (the embedded SmolLM2 folder), started on first use and stopped by the
session fixture ``served_smollm2`` in ``tests/conftest.py`` — also when tests fail — and, as a last
resort, at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds the server may take to answer /health (loading the model on 2 busy cores).
START_TIMEOUT_S = 240.0
#: Runs transformers' CLI with this interpreter (no dependence on PATH).
_CLI = (
    "import sys; from transformers.cli.transformers import main; "
    "sys.argv[0] = 'transformers'; sys.exit(main())"
)


@dataclass
class ServedModel:
    """A running server: where it listens, what it serves, its process and its log."""

    base_url: str
    model: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    args: tuple[str, ...] = field(default=())

    def log(self, tail: int = 4000) -> str:
        """The end of the server's output."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Kill the server's process group (idempotent)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


def start_server(folder: str | Path, *extra_args: str, timeout_s: float = START_TIMEOUT_S) -> ServedModel:
    """Start ``transformers serve FOLDER --host 127.0.0.1 --port N`` and wait for ``/health``.

    Raises:
        RuntimeError: the server exited or did not become healthy in time (with its log).
    """
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="hfbench-serve-", suffix=".log")[1])
    args = ("serve", str(folder), "--host", "127.0.0.1", "--port", str(port), *extra_args)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _CLI, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stop() kills everything it started
        )
    server = ServedModel(f"http://127.0.0.1:{port}/v1", str(folder), port, process, log_path, args)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"transformers serve exited with {process.returncode}; its log:\n{server.log()}"
            )
        if _healthy(f"http://127.0.0.1:{port}/health"):
            return server
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(
        f"transformers serve did not answer /health within {timeout_s:.0f} s; its log:\n{server.log()}"
    )


_shared: ServedModel | None = None


def shared_server() -> ServedModel:
    """The session's server of the embedded SmolLM2 folder (started on first use)."""
    global _shared
    if _shared is None or _shared.process.poll() is not None:
        import hfbench

        folder = hfbench.prepare_model("embedded:smollm2-135m-instruct", progress=False).path
        _shared = start_server(folder)
        atexit.register(_shared.stop)
    return _shared


def stop_shared() -> None:
    """Stop the session's server, if one was started."""
    if _shared is not None:
        _shared.stop()
