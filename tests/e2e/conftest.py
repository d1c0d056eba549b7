"""Whole-app tests in headless Debian Chromium driven by Playwright.

One dashboard server (``python -m simulation.dashboard``) is started for the session
on a free port of 127.0.0.1, with Solara's CDN pointed at a closed local port so that
any front-end file missing from the local cache fails instead of being fetched. Every
page routes its requests through a guard that refuses anything not addressed to
127.0.0.1 and records it; each test fails if its page tried to leave the machine or
saw a failed request. Screenshots go to the test's own ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("SCORESIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage"]
REPO = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1"}
VIEWPORT = {"width": 1600, "height": 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the dashboard server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@pytest.fixture(scope="session")
def dashboard_assets() -> None:
    """The front-end files in Solara's proxy cache (fetched with npm once if missing)."""
    from simulation.dashboard import offline

    offline.ensure(log=lambda msg: print(msg, file=sys.stderr))
    assert not offline.missing()


@pytest.fixture(scope="session")
def server(server_process) -> str:
    """The dashboard's address."""
    return server_process[0]


@contextlib.contextmanager
def serve(log_path: Path, command: tuple[str, ...] = ("-m", "simulation.dashboard", "--no-fetch"), **extra_env: str):
    """The dashboard served on 127.0.0.1 as a user starts it (by default with its launcher;
    ``command`` is what follows ``python``, without the port), with its output in
    ``log_path``: (url, process); stopped (and its log shown if it had a traceback) on exit."""
    port = free_port()
    env = {**os.environ,
           "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",  # a closed port: a cache miss fails loudly
           "PYTHONUNBUFFERED": "1", **extra_env}
    env.pop("PYTEST_CURRENT_TEST", None)
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, *command, "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc=proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        log.close()
        text = log_path.read_text(errors="replace")
        if "Traceback" in text:
            print(f"--- dashboard server log ({log_path}) ---\n{text[-6000:]}", file=sys.stderr)


@pytest.fixture(scope="session")
def server_process(dashboard_assets, tmp_path_factory):
    """The dashboard served as a user starts it: (url, process)."""
    with serve(tmp_path_factory.mktemp("server") / "server.log") as served:
        yield served


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class NetworkGuard:
    """Records what one page did on the network: requests refused because they left
    127.0.0.1 (the context's route refuses them), failed requests, error statuses."""

    blocked_everywhere: list[str] = []  # filled by the shared context's route

    def __init__(self) -> None:
        self.blocked_before = len(self.blocked_everywhere)
        self.failed: list[str] = []
        self.bad_status: list[str] = []
        self.console_errors: list[str] = []

    @classmethod
    def route(cls, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            cls.blocked_everywhere.append(url)
            route.abort("internetdisconnected")

    def attach(self, page) -> None:
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}")
                if not r.url.startswith(("data:", "blob:")) else None)
        page.on("response", lambda r: self.bad_status.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def check(self) -> None:
        blocked = self.blocked_everywhere[self.blocked_before:]
        assert not blocked, f"the page tried to reach the internet: {blocked}"
        assert not self.bad_status, f"requests answered with errors: {self.bad_status}"
        assert not self.failed, f"requests failed: {self.failed}"


@pytest.fixture(scope="session")
def context(browser):
    """One browser profile for the session (tabs share its cache, as in a real browser);
    every request that leaves 127.0.0.1 is refused and recorded."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    ctx.route("**/*", NetworkGuard.route)
    yield ctx
    ctx.close()


def open_page(context, url: str, guard: NetworkGuard):
    """A new tab on the dashboard, loaded and drawn."""
    page = context.new_page()
    guard.attach(page)
    page.goto(url)
    page.locator(".scoresim-step").wait_for(timeout=60_000)
    page.locator("img[alt='network view']").wait_for(timeout=30_000)
    return page


@pytest.fixture
def guard() -> NetworkGuard:
    g = NetworkGuard()
    yield g
    g.check()


@pytest.fixture
def page(context, server, guard):
    page = open_page(context, server, guard)
    yield page
    page.close()


@pytest.fixture
def shot(tmp_path, request):
    """Save a screenshot under the test's tmp_path: shot(page, 'name')."""
    def take(page, name: str, full_page: bool = False) -> Path:
        path = tmp_path / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        keep = os.environ.get("SCORESIM_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path
    return take


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "e2e: whole-app test in headless Chromium (Playwright)")
