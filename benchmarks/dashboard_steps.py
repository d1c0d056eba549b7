"""Steps per second the dashboard shows in a real browser (a benchmark, not a test).

Starts the dashboard with its launcher on a free port of 127.0.0.1, opens it in
headless Debian Chromium (Playwright), sets the run length and speed, presses Play and
watches the page: the step counter as the browser shows it, and every new drawing of
the figures. Reports, for each speed asked for:

- steps/s: steps shown by the browser per second of wall time, from the click on Play
  to the counter showing the last step;
- frames/s: new drawings of the Run page's figures that reached the browser per second;
- the time from the last step to its figures in the browser.

    .venv/bin/python benchmarks/dashboard_steps.py                 # 2,000 citizens, 300 steps
    .venv/bin/python benchmarks/dashboard_steps.py --citizens 10000 --steps 200 --speeds 0 10

Target (issue 3): at least 10 steps/s at 2,000 citizens. Speed 0 means "as fast as
possible".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
SPEED_LABELS = {0: "as fast as possible"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/"}
    proc = subprocess.Popen([sys.executable, "-m", "simulation.dashboard", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise TimeoutError("the dashboard did not start")


@contextlib.contextmanager
def dashboard_page(chromium: str, ready: str):
    """A page of headless Chromium on a dashboard started for it (offline, on a free
    port), once the selector ``ready`` shows; the browser and server stop on exit."""
    from playwright.sync_api import sync_playwright

    from simulation.dashboard import offline

    offline.ensure()
    port = free_port()
    proc = start_server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(ready).first.wait_for(timeout=120_000)
            yield page
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def set_input(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def measure(page, citizens: int, steps: int, speed: float) -> dict:
    page.get_by_role("button", name="Reset").click()
    set_input(page, "N citizens", str(citizens))
    page.locator(".scoresim-step", has_text="Step 0 of").wait_for(timeout=120_000)
    set_input(page, "Run length (steps)", str(steps))
    page.locator(".scoresim-step", has_text=f"Step 0 of {steps}").wait_for(timeout=60_000)
    label = SPEED_LABELS.get(speed, f"{speed:g} steps/s")
    page.locator(".v-select").filter(has_text="Speed").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    page.locator(".v-select").filter(has_text="Speed").filter(has_text=label).first.wait_for()
    page.wait_for_timeout(300)

    # watch from inside the page: every change of the counter and of the figures
    page.evaluate("""() => {
        window.__bench = {start: performance.now(), steps: [], frames: []};
        const seen = new Set();
        const tick = () => {
            const now = performance.now();
            const text = document.querySelector('.scoresim-step')?.textContent || '';
            const m = text.match(/Step (\\d+) of/);
            if (m) window.__bench.steps.push([now, +m[1]]);
            const img = document.querySelector("img[alt='network view']");
            const v = img && img.getAttribute('data-version');
            if (v && !seen.has(v)) { seen.add(v); window.__bench.frames.push([now, v]); }
            window.__bench.raf = requestAnimationFrame(tick);
        };
        tick();
    }""")
    t0 = page.evaluate("performance.now()")
    page.get_by_role("button", name="Play").click()
    page.locator(".scoresim-step", has_text=f"Step {steps} of {steps}").wait_for(timeout=600_000)
    page.locator(f"img[alt='network view'][data-version$='-{steps}']").wait_for(timeout=120_000)
    data = page.evaluate("() => { cancelAnimationFrame(window.__bench.raf); return window.__bench; }")
    last_step_at = next(t for t, s in data["steps"] if s >= steps)
    last_frame_at = next(t for t, v in data["frames"] if v.endswith(f"-{steps}"))
    frames = [t for t, _ in data["frames"] if t > t0]
    elapsed = (last_step_at - t0) / 1000.0
    return {"citizens": citizens, "steps": steps, "speed_asked": speed or "max",
            "steps_per_s": round(steps / elapsed, 1), "seconds": round(elapsed, 2),
            "frames_per_s": round(len(frames) / ((last_frame_at - t0) / 1000.0), 2),
            "last_figures_after_s": round((last_frame_at - last_step_at) / 1000.0, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--speeds", type=float, nargs="+", default=[0, 20, 10])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    results = []
    with dashboard_page(args.chromium, "img[alt='network view']") as page:
        for speed in args.speeds:
            result = measure(page, args.citizens, args.steps, speed)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(f"{'speed asked':>14} {'steps/s shown':>14} {'frames/s':>9} {'last figures after':>19}")
    for r in results:
        print(f"{r['speed_asked']!s:>14} {r['steps_per_s']:>14} {r['frames_per_s']:>9} "
              f"{r['last_figures_after_s']:>17} s")
    ok = results and max(r["steps_per_s"] for r in results) >= 10
    print(f"\ntarget >= 10 steps/s at {args.citizens:,} citizens: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
