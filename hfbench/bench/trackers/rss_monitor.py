"""The RSS monitor process: ``python -m hfbench.bench.trackers.rss_monitor PID PERIOD_S``.

Samples the resident set size of process ``PID`` every ``PERIOD_S`` seconds and keeps the peak.
Commands arrive one per line on stdin: ``reset`` (start a new phase: forget the peak; answers
``ok``) and ``peak`` (answers ``<peak bytes> <samples>`` of the current phase). It prints
``ready`` after its first sample and exits when stdin closes or the process it watches ends.
Imports nothing but psutil, so it starts in a fraction of a second.
"""

from __future__ import annotations

import sys
import threading


def main(pid: int, period_s: float) -> None:
    """Sample ``pid`` until stdin closes."""
    import psutil

    process = psutil.Process(pid)
    lock = threading.Lock()
    state = {"peak": 0, "samples": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                rss = process.memory_info().rss
            except psutil.Error:
                done.set()
                return
            with lock:
                state["peak"] = max(state["peak"], rss)
                state["samples"] += 1
            done.wait(period_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    while state["samples"] == 0 and not done.is_set():
        done.wait(period_s / 10)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        with lock:
            if command == "reset":
                state["peak"], state["samples"] = 0, 0
                answer = "ok"
            elif command == "peak":
                answer = f"{state['peak']} {state['samples']}"
            else:
                answer = f"error unknown command {command!r}"
        print(answer, flush=True)
    done.set()


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
