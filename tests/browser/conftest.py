"""Browser tests: `frontdesk playground` as a real process, driven through Debian's chromium.

Without chromium (or Playwright) the tests are skipped, except in CI (CI=true), where that
is a failure. A failing test leaves a screenshot of the page in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
START_TIMEOUT = 180.0  # seconds for the command to print its URL (imports on a busy machine)
WAIT_MS = 30_000  # how long the page may take to show what a step awaits


def _need_browser() -> None:
    """Skip without chromium or Playwright, unless in CI, where that fails the test."""
    missing = None
    if not CHROMIUM.is_file():
        missing = f"no chromium at {CHROMIUM}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python is not installed"
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing}: the browser tests cannot run in CI", pytrace=False)
    pytest.skip(missing)


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PlaygroundProcess:
    """`frontdesk playground` in a process of its own; `url` once it said where it listens."""

    def __init__(self, data: Path, port: int, *extra: str) -> None:
        frontdesk = Path(sys.executable).parent / "frontdesk"
        env = {key: value for key, value in os.environ.items()
               if key not in {"BOT_TOKEN", "STAFF_CHAT_ID", "DATABASE_URL", "FRONTDESK_CONFIG"}}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(frontdesk), "playground", "--port", str(port), "--data", str(data), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        self.port = port
        self.url = ""
        self.output: list[str] = []

    def read_line(self, timeout: float) -> str | None:
        """The next line the command prints, or None at its end or after `timeout`."""
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                return None
        line = self.process.stdout.readline()
        if line:
            self.output.append(line)
        return line or None

    def wait_for_url(self) -> str:
        """Block until the command prints its URL; return it."""
        deadline = time.monotonic() + START_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            line = self.read_line(remaining)
            if line is None:
                break
            if "http://" in line:
                self.url = "http://" + line.split("http://", 1)[1].split()[0]
                return self.url
        self.stop()
        pytest.fail("the playground did not start:\n" + "".join(self.output), pytrace=False)
        raise AssertionError  # not reached

    def stop(self) -> int:
        """Ctrl+C, as a person stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        assert self.process.stdout is not None
        self.output.append(self.process.stdout.read())
        self.process.stdout.close()
        return self.process.returncode


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaygroundProcess]:
    """A playground on a free port with a fresh desk; stopped with Ctrl+C afterwards."""
    _need_browser()
    running = PlaygroundProcess(tmp_path_factory.mktemp("playground"), free_port(), "--fresh")
    running.wait_for_url()
    yield running
    status = running.stop()
    assert status == 0, "".join(running.output)


@pytest.fixture(scope="module")
def browser(playground: PlaygroundProcess) -> Iterator[Any]:
    """Debian's chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, for the screenshot on failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, playground: PlaygroundProcess,
         request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab (laptop-sized) on the playground; a screenshot if the test fails."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    tab.goto(playground.url)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, each in enumerate(context.pages):
            each.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{number}.png"),
                            full_page=True)
    context.close()
