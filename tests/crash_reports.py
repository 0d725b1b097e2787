"""A test worker that dies, or hangs where pytest-timeout cannot reach, leaves a readable trace.

pytest-timeout's signal method fails a test that hangs in Python code, but a call blocked in C
(a SANE read, a GL call) never returns to Python to hear the signal; and when a worker process
crashes, its faulthandler dump goes to the worker's stderr, which execnet does not pass on: CI
printed only "node down: Not properly terminated". So each worker writes its faulthandler dumps
to a file of its own, a test that outlives its timeout by a minute has every thread's stack
dumped and its worker ended (the Makefile allows no worker restart, so the run ends too
instead of hanging in pytest-xdist's rescheduling), and the controller prints what the workers
wrote at the end of the run.
"""

from __future__ import annotations

import faulthandler
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

FOLDER_VARIABLE = "DENGJI_TEST_CRASH_DIR"
GRACE_S = 60.0  # past the test's own timeout: pytest-timeout gets the first chance
DUMP = pytest.StashKey[IO[str]]()


@pytest.hookimpl(trylast=True)  # after pytest's own faulthandler plugin points at stderr
def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller: workers inherit the variable
        os.environ.setdefault(FOLDER_VARIABLE, tempfile.mkdtemp(prefix="dengji-crashes-"))
        return
    folder = Path(os.environ.get(FOLDER_VARIABLE) or tempfile.mkdtemp(prefix="dengji-crashes-"))
    worker = config.workerinput.get("workerid", "gw")
    dump = (folder / f"{worker}-{os.getpid()}.txt").open("w", buffering=1)
    config.stash[DUMP] = dump
    faulthandler.enable(file=dump, all_threads=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    dump = item.config.stash.get(DUMP, None)
    if dump is None:
        yield
        return
    dump.write(f"\n== running {item.nodeid}\n")
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else _ini_timeout(item.config)
    faulthandler.dump_traceback_later(limit + GRACE_S, exit=True, file=dump)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _ini_timeout(config: pytest.Config) -> float:
    try:
        return float(config.getini("timeout") or 120)
    except (ValueError, KeyError):
        return 120.0


def pytest_terminal_summary(terminalreporter: Any) -> None:
    folder = os.environ.get(FOLDER_VARIABLE)
    if not folder or hasattr(terminalreporter.config, "workerinput"):
        return
    for path in sorted(Path(folder).glob("*.txt")):
        text = path.read_text(errors="replace")
        if "Fatal Python error" in text or "Timeout (" in text or "Thread 0x" in text:
            terminalreporter.write_sep("=", f"a test worker died or hung: {path.name}")
            terminalreporter.write_line(_last_test_and_dump(text))


def _last_test_and_dump(text: str) -> str:
    """The last test the worker started, and what was dumped after it."""
    start = text.rfind("\n== running ")
    return text[start + 1 :] if start >= 0 else text
