"""Figure updates per second on the Run page in a real browser (a benchmark, not a test).

Starts the dashboard with its launcher on a free port of 127.0.0.1 (offline: Solara's
CDN pointed at a closed port), opens it in headless Debian Chromium, sets the speed
(20 steps/s by default) and a run long enough not to end, presses Play and counts, in
the browser, every redraw of each time-series figure: a MutationObserver on each plotly
figure notes a change, counted once per animation frame (one update on screen). Reports, after a warm-up:

- updates/s of each figure (the figures' frame rate) and their sum over all figures;
- steps/s the step counter shows over the same window.

    .venv/bin/python benchmarks/figure_updates.py                   # 2,000 citizens, 20 steps/s
    .venv/bin/python benchmarks/figure_updates.py --speed 50 --seconds 20

Target (issue 17): at least 10 updates per second of the Run page's figures at 2,000
citizens playing at 20 steps/s.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dashboard_steps import dashboard_page, set_input

COUNT = """() => {
    const figures = [...document.querySelectorAll('.js-plotly-plot')];
    const changed = figures.map(() => false);
    window.__updates = figures.map(() => 0);
    window.__observers = figures.map((figure, k) => {
        const observer = new MutationObserver(() => { changed[k] = true; });
        observer.observe(figure, {subtree: true, childList: true, attributes: true, characterData: true});
        return observer;
    });
    const frame = () => {  // a figure changed in this animation frame: one update on screen
        changed.forEach((c, k) => { if (c) { window.__updates[k] += 1; changed[k] = false; } });
        window.__raf = requestAnimationFrame(frame);
    };
    frame();
    return figures.length;
}"""
STOP = """() => {
    cancelAnimationFrame(window.__raf);
    window.__observers.forEach(o => o.disconnect());
    return window.__updates;
}"""
STEP = """() => +((document.querySelector('.scoresim-step')?.textContent || '').match(/Step (\\d+)/) || [0, 0])[1]"""


def measure(page, citizens: int, speed: float, seconds: float, warmup: float) -> dict:
    set_input(page, "N citizens", str(citizens))
    page.locator(".scoresim-step", has_text="Step 0 of").wait_for(timeout=120_000)
    set_input(page, "Run length (steps)", "2000")
    page.locator(".scoresim-step", has_text="Step 0 of 2000").wait_for(timeout=60_000)
    label = "as fast as possible" if speed == 0 else f"{speed:g} steps/s"
    page.locator(".v-select").filter(has_text="Speed").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    page.locator(".v-select").filter(has_text="Speed").filter(has_text=label).first.wait_for()
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(warmup * 1000)
    figures = page.evaluate(COUNT)
    step0, t0 = page.evaluate(STEP), page.evaluate("performance.now()")
    page.wait_for_timeout(seconds * 1000)
    counts = page.evaluate(STOP)
    step1, t1 = page.evaluate(STEP), page.evaluate("performance.now()")
    page.get_by_role("button", name="Pause").click()
    elapsed = (t1 - t0) / 1000.0
    per_figure = [c / elapsed for c in counts]
    return {"citizens": citizens, "speed_asked": speed or "max", "figures": figures, "seconds": round(elapsed, 1),
            "updates_per_s_each": [round(r, 1) for r in per_figure],
            "updates_per_s_least": round(min(per_figure), 1) if per_figure else 0.0,
            "updates_per_s_all_figures": round(sum(per_figure), 1),
            "steps_per_s": round((step1 - step0) / elapsed, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=20, help="steps per second asked (0: as fast as possible)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to count")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of play before counting")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()

    with dashboard_page(args.chromium, ".js-plotly-plot") as page:
        result = measure(page, args.citizens, args.speed, args.seconds, args.warmup)
    print(json.dumps(result))
    print(f"\n{result['figures']} time-series figures, {result['citizens']:,} citizens, "
          f"{result['speed_asked']} steps/s asked, {result['steps_per_s']} steps/s shown")
    print(f"updates per second: least {result['updates_per_s_least']} per figure, "
          f"{result['updates_per_s_all_figures']} over all figures")
    ok = result["updates_per_s_least"] >= 10
    print(f"target >= 10 updates/s of every figure: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
