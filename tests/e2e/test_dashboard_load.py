"""A class at once: twenty browser sessions on one dashboard server.

Twenty Playwright browser contexts (twenty separate browser profiles, as twenty
pupils' machines: each its own cookies, so its own Solara session and kernel) open
the page in one headless Chromium, each sets its own seed, steps its run twice and
downloads its data. The test checks that each sees only its own run, that a fresh
page and a step still answer while the others load the server, and that once all
close the server lets go of every tab's kernel, model and figure drawers and gives
memory back.

The server is this module's own, started like the shared one but with
``SCORESIM_DASHBOARD_STATS`` (the counts of live kernels and runs printed to its log;
see simulation/dashboard/stats.py) and a short ``SOLARA_KERNEL_CULL_TIMEOUT``, so that
a tab whose connection dropped without a goodbye is released in seconds, not 24 h.
"""

from __future__ import annotations

import io
import os
import threading
import time

import pandas as pd
import psutil
import pytest
from conftest import NetworkGuard, serve

from simulation.dashboard import stats
from simulation.dashboard.session import RunSession

pytestmark = [pytest.mark.e2e]

SESSIONS = int(os.environ.get("SCORESIM_LOAD_SESSIONS", "20"))
"""Sessions at once: a class of twenty (about 7 minutes on two idle cores, the longest
test of the suite); ``SCORESIM_LOAD_SESSIONS`` sets another number (docs/reliability.md)."""
STEPS = 2
SEED0 = 100
VIEWPORT = {"width": 1100, "height": 760}
CULL = "2s"
LOAD_BOUND = 90.0
"""Most seconds a fresh page may take to show its run while the others load the server
(it takes a few seconds on an idle one; CI machines are shared and slow)."""
STEP_BOUND = 60.0
"""Most seconds one step may take to show while the others load the server."""
WAIT = 600_000
"""Most milliseconds any one page may take to show what it was asked for under the load:
a limit against a hang, not a performance bound (twenty new runs' figures are drawn in
turn; on a shared two-core machine that has taken minutes)."""
RETURNED = 0.5
"""After all sessions close, the server must hold no kernel and no run and give back at
least half of what it grew by (resident memory at most the peak less half the growth
from the baseline). Measured: 72% given back with twenty sessions, 73% with eight; the
rest is mostly the drawn images' cache, kept on purpose (docs/reliability.md)."""
SETTLED = 30.0
"""Most seconds, after the last run is released, for the memory to go back."""


@pytest.fixture(scope="module")
def load_server(dashboard_assets, tmp_path_factory):
    """(url, process, log path) of a dashboard server of this module's own."""
    log_path = tmp_path_factory.mktemp("load-server") / "server.log"
    with serve(log_path, **{stats.ENV: "0.5", "SOLARA_KERNEL_CULL_TIMEOUT": CULL}) as (url, proc):
        yield url, proc, log_path


class Sampler:
    """The server's resident memory, sampled every 0.2 s in a thread [MB]."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        return self.proc.memory_info().rss / 2**20

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def server_counts(log_path) -> dict[str, float]:
    rows = stats.parse(log_path.read_text(errors="replace"))
    return rows[-1] if rows else {}


def wait_counts(log_path, kernels: int, runs: int | None, timeout: float) -> dict[str, float]:
    """Wait until the server reports ``kernels`` open kernels (and ``runs`` live runs)."""
    deadline = time.monotonic() + timeout
    while True:
        now = server_counts(log_path)
        if now.get("kernels") == kernels and (runs is None or now.get("runs") == runs):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the server still holds {now} after {timeout:.0f} s (wanted kernels={kernels}, "
                                 f"runs={runs})")
        time.sleep(0.25)


def settled_rss(pid: int, bound: float) -> float:
    """The server's resident memory [MB] once it is at most ``bound`` and has not moved
    for two seconds (the drawers of closed runs are dropped a moment after release),
    or at ``SETTLED`` seconds."""
    deadline = time.monotonic() + SETTLED
    samples = []
    while True:
        samples.append(psutil.Process(pid).memory_info().rss / 2**20)
        steady = len(samples) >= 5 and max(samples[-5:]) - min(samples[-5:]) < 1.0
        if steady and samples[-1] <= bound or time.monotonic() > deadline:
            return samples[-1]
        time.sleep(0.5)


def new_context(browser):
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    ctx.route("**/*", NetworkGuard.route)
    return ctx


def shown(page, timeout: float = WAIT) -> None:
    page.locator(".scoresim-step").wait_for(timeout=timeout)
    page.locator("img[alt='network view']").wait_for(timeout=timeout)


def version(page) -> str:
    return page.locator("img[alt='network view']").get_attribute("data-version") or ""


def wait_version(page, pattern: str, timeout: float = WAIT) -> None:
    """Wait until the figures show ``pattern`` (a CSS attribute test on data-version)."""
    page.locator(f"img[alt='network view'][data-version{pattern}]").wait_for(timeout=timeout)


def open_and_step(browser, url: str) -> tuple[float, float]:
    """Seconds for a fresh page to show its run, then for one step to show."""
    ctx = new_context(browser)
    try:
        page = ctx.new_page()
        t0 = time.monotonic()
        page.goto(url, wait_until="commit")
        shown(page)
        loaded = time.monotonic() - t0
        before = version(page)
        t0 = time.monotonic()
        page.get_by_role("button", name="Step", exact=True).click()
        page.locator(".scoresim-step", has_text="Step 1 of").wait_for(timeout=WAIT)
        wait_version(page, "$='-1'")
        stepped = time.monotonic() - t0
        assert version(page) != before
        assert page.locator("input[type=file]").count() == 0, "the page offers an upload"
        return loaded, stepped
    finally:
        ctx.close()


def expected_csv(seed: int) -> pd.DataFrame:
    session = RunSession("blacklist", seed)
    session.step(STEPS)
    return pd.read_csv(io.StringIO(session.csv_text()), index_col="step")


def test_twenty_sessions_each_see_their_own_run_and_the_server_lets_go(browser, load_server, tmp_path):
    url, proc, log_path = load_server
    figures: dict[str, float] = {}

    # an idle server, warmed up (the first page imports the plotting stack): baseline
    idle_load, idle_step = open_and_step(browser, url)
    wait_counts(log_path, 0, 0, timeout=60)
    sampler = Sampler(proc.pid)
    baseline = sampler.now()
    t_start = time.monotonic()

    contexts, pages = [], []
    with sampler:
        try:
            for _ in range(SESSIONS):
                ctx = new_context(browser)
                contexts.append(ctx)
                pages.append(ctx.new_page())
            for page in pages:  # all at once: the server answers twenty page loads together
                page.goto(url, wait_until="commit")
            for page in pages:
                shown(page)
            figures["open_s"] = time.monotonic() - t_start
            wait_counts(log_path, SESSIONS + 0, None, timeout=60)
            first = [version(page) for page in pages]

            for i, page in enumerate(pages):  # each its own run: a new seed rebuilds it
                box = page.get_by_label("Seed", exact=True)
                box.fill(str(SEED0 + i))
                box.press("Enter")
            # while the server rebuilds twenty runs and draws their figures: a newcomer
            figures["load_s"], figures["step_s"] = open_and_step(browser, url)
            for page, old in zip(pages, first, strict=True):
                page.locator(f"img[alt='network view']:not([data-version='{old}'])").wait_for(timeout=WAIT)
            for k in range(1, STEPS + 1):
                for page in pages:
                    page.get_by_role("button", name="Step", exact=True).click()
                for page in pages:
                    wait_version(page, f"$='-{k}'")
            figures["sessions_s"] = time.monotonic() - t_start
            figures["peak_counts"] = server_counts(log_path)

            # each sees its own run only: its seed, its step, its figures, its data
            ids = set()
            for i, page in enumerate(pages):
                assert page.get_by_label("Seed", exact=True).input_value() == str(SEED0 + i)
                assert f"Step {STEPS} of 200" in page.locator(".scoresim-step").inner_text()
                ids.add(version(page).rsplit("-", 1)[0])
                with page.expect_download() as info:
                    page.get_by_role("button", name="Data (CSV)").click()
                assert info.value.suggested_filename == f"scoresim-blacklist-seed{SEED0 + i}-step{STEPS}.csv"
                path = tmp_path / info.value.suggested_filename
                info.value.save_as(path)
                got = pd.read_csv(path, index_col="step")
                assert set(got["seed"]) == {SEED0 + i}
                pd.testing.assert_frame_equal(got, expected_csv(SEED0 + i), check_exact=True)
                assert "Traceback" not in page.locator("body").inner_text()
            assert len(ids) == SESSIONS, "two tabs showed the same run"
            peak_rss = sampler.peak
        finally:
            for ctx in contexts:
                ctx.close()

    # everything released: no kernel, no run; memory back near the baseline
    t0 = time.monotonic()
    after_counts = wait_counts(log_path, 0, 0, timeout=90)
    figures["release_s"] = time.monotonic() - t0
    bound = peak_rss - RETURNED * (peak_rss - baseline)
    after = settled_rss(proc.pid, bound)
    figures["returned_s"] = time.monotonic() - t0
    figures.update(idle_load_s=idle_load, idle_step_s=idle_step, baseline_mb=baseline, peak_mb=peak_rss,
                   after_mb=after)
    report = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"\n{SESSIONS} sessions: {report}")
    assert after_counts["kernels"] == 0 and after_counts["runs"] == 0
    assert figures["load_s"] < LOAD_BOUND, report
    assert figures["step_s"] < STEP_BOUND, report
    assert peak_rss > baseline
    assert after <= bound, report
