"""The whole dashboard in headless Chromium, as a teacher or facilitator uses it.

Each test states the promise it checks. All run against one server started by the
launcher (``python -m simulation.dashboard``), with the internet refused to the page.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import REPO, NetworkGuard, open_page

from simulation.dashboard.plots import PANELS

pytestmark = [pytest.mark.e2e]


PLOTS = "[...document.querySelectorAll('.js-plotly-plot')].map(el => el.data)"
"""The traces each plotly figure draws, in page order (plotly keeps them on its element)."""
LENGTHS = f"{PLOTS}.map(d => d[0].x.length)"


def series(page) -> list[dict]:
    """Each time-series figure's lines: the scenario's (even traces) and their twins'."""
    return page.evaluate(f"""() => {PLOTS}.map(d => {{
        const lines = d.slice(0, -1);  // the last trace is the legend key of the twins
        const main = lines.filter((t, k) => k % 2 === 0), twin = lines.filter((t, k) => k % 2 === 1);
        return {{x: main.map(t => Array.from(t.x)), y: main.map(t => Array.from(t.y)),
                 twin_y: twin.map(t => Array.from(t.y)), twin_visible: twin.map(t => t.visible !== false),
                 twin_dash: twin.map(t => t.line.dash)}};
    }})""")


def step_text(page) -> str:
    return page.locator(".scoresim-step").inner_text()


def wait_step(page, text: str, timeout: float = 60_000) -> None:
    page.locator(".scoresim-step", has_text=text).wait_for(timeout=timeout)


def set_input(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def run_to(page, steps: int) -> None:
    """Set the run length and play until the run stops there."""
    set_input(page, "Run length (steps)", str(steps))
    wait_step(page, f"Step 0 of {steps}")
    page.get_by_role("button", name="Play").click()
    wait_step(page, f"Step {steps} of {steps}")
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)  # the player has stopped


def test_page_loads_offline_and_looks_right(page, guard, shot):
    """The page loads with every request served by 127.0.0.1 (no CDN), shows the Run
    page with the scenario's description and all eight figures (six plotly time
    series, two PNGs)."""
    assert "Step 0 of 200" in step_text(page)
    assert page.get_by_text("Blacklists with joint punishment").count() >= 1
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
    assert titles == [p.title for p in PANELS]
    for alt in ("network view", "score distribution by group"):
        assert page.locator(f"img[alt='{alt}']").count() == 1, alt
    shot(page, "run-page")
    assert page.evaluate("document.fonts.status") == "loaded"
    assert "Traceback" not in page.locator("body").inner_text()


def test_the_server_listens_on_localhost_only(server_process):
    """Started without --host, the dashboard binds to 127.0.0.1 only."""
    import psutil

    _, proc = server_process
    listening = [c.laddr for c in psutil.Process(proc.pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def test_play_twenty_steps_and_the_plots_change(page, shot):
    """Play runs the model in the background; the step counter and the plots follow."""
    run_to(page, 20)
    page.wait_for_function(f"() => {LENGTHS}.every(n => n === 21)", timeout=30_000)  # steps 0 to 20
    # the network view is redrawn for step 20 (its picture changes only once someone in
    # the sample is listed or their score moves, so only its version is checked)
    assert page.locator("img[alt='network view']").get_attribute("data-version").endswith("-20")
    shot(page, "after-20-steps")


def test_the_counterfactual_is_drawn_and_the_citizens_twin_on_follow(page, shot):
    """Under blacklist every time-series figure draws the no-rules twin (a second,
    dotted line per metric) and it differs from the scenario's where the rules act; the
    switch shows the differences instead; Follow shows the same citizen without rules."""
    run_to(page, 30)
    page.wait_for_function(f"() => {LENGTHS}.every(n => n === 31)", timeout=30_000)
    figures = series(page)
    assert len(figures) == len(PANELS)
    for figure in figures:
        assert all(figure["twin_visible"]), "a metric's twin line is not drawn"
        assert figure["twin_dash"] == ["dot"] * len(figure["twin_dash"])
    listings = figures[[p.key for p in PANELS].index("listings")]
    assert listings["y"][0] != listings["twin_y"][0], "the blacklist's listed share equals its no-rules twin's"
    assert page.get_by_text("without rules (dotted)").count() == len(PANELS)  # each legend names the twin
    shot(page, "with-twin")
    page.get_by_text("show difference from no rules").click()
    page.wait_for_function(f"() => {PLOTS}.every(d => d.filter((t, k) => k % 2 === 1 && k < d.length - 1)"
                           ".every(t => t.visible === false))", timeout=30_000)
    shot(page, "difference")
    page.get_by_role("tab", name="Follow a citizen").click()
    page.get_by_role("button", name="a listed citizen").click()
    page.get_by_text("The same citizen without the rules").wait_for(timeout=30_000)
    page.locator("img[alt='citizen without rules']").wait_for(timeout=30_000)
    assert page.get_by_text("Events without the rules").count() == 1
    shot(page, "follow-twin", full_page=True)


def test_pause_keeps_the_page_responsive(page):
    """During a long run the page answers: Pause stops it within a moment."""
    set_input(page, "Run length (steps)", "100000")
    wait_step(page, "of 100000")
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=15_000)
    time.sleep(1.5)
    t0 = time.monotonic()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=15_000)
    assert time.monotonic() - t0 < 10
    # the last frame drawn before the pause may still arrive: let the counter settle
    stopped, deadline = step_text(page), time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = step_text(page)
        if now == stopped:
            break
        stopped = now
    time.sleep(2.0)
    assert step_text(page) == stopped, "the run went on after Pause"
    assert int(stopped.split()[1]) > 0


def test_compare_two_scenarios(page, shot):
    """A ready-made comparison runs two scenarios on the same seed and population and
    shows them side by side and as differences."""
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Publication on vs off").click()
    set_input(page, "Steps", "40")
    page.get_by_role("button", name="Run comparison").click()
    page.locator(".scoresim-crn").wait_for(timeout=60_000)
    assert "same population" in page.locator(".scoresim-crn").inner_text()
    page.locator("img[alt='comparison side by side']").wait_for()
    page.locator("img[alt='comparison differences']").wait_for()
    assert page.get_by_text("At step 40").count() == 1
    shot(page, "compare", full_page=True)


def test_click_a_citizen_in_the_network_and_see_their_timeline(page, shot):
    """Clicking a citizen in the network view opens their story on the Follow page."""
    from simulation.dashboard import plots
    from simulation.dashboard.session import RunSession

    run_to(page, 30)
    # the same run, rebuilt here, says where each citizen is drawn
    session = RunSession("blacklist", 1, {}, 30)
    session.step(30)
    picture = plots.network_picture(session.snapshot(), "score")
    k = 7
    citizen = int(picture.nodes[k])
    fx, fy = picture.fractions[k]
    image = page.locator("img[alt='network view']")
    box = image.bounding_box()
    image.click(position={"x": fx * box["width"], "y": fy * box["height"]})
    page.get_by_text(f"Citizen {citizen}", exact=True).first.wait_for(timeout=30_000)
    page.locator("img[alt='citizen timeline']").wait_for()
    assert page.get_by_role("tab", name="Follow a citizen").get_attribute("aria-selected") == "true"
    shot(page, "citizen-clicked")
    page.get_by_role("button", name="a listed citizen").click()
    page.get_by_text(re.compile(r"Events so far: .*listed")).wait_for(timeout=30_000)
    page.locator("img[alt='citizen timeline']").wait_for()
    shot(page, "citizen-listed")


def test_download_csv_and_rerun_its_yaml_with_the_cli(page, tmp_path):
    """The CSV and YAML downloads: re-running the YAML with the CLI and the same seed
    reproduces the CSV's numbers exactly."""
    run_to(page, 20)
    with page.expect_download() as csv_info:
        page.get_by_role("button", name="Data (CSV)").click()
    with page.expect_download() as yaml_info:
        page.get_by_role("button", name="Scenario + seed (YAML)").click()
    csv_path = tmp_path / csv_info.value.suggested_filename
    yaml_path = tmp_path / yaml_info.value.suggested_filename
    csv_info.value.save_as(csv_path)
    yaml_info.value.save_as(yaml_path)
    with page.expect_download() as png_info:
        page.get_by_role("button", name="Figures (PNG)").click()
    png_path = tmp_path / png_info.value.suggested_filename
    png_info.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "cli.csv"
    subprocess.run([sys.executable, "-m", "simulation", "run", str(yaml_path), "--seed", "1", "--out", str(out),
                    "--quiet"], check=True, cwd=REPO, capture_output=True, text=True)
    dashboard = pd.read_csv(csv_path, index_col="step").drop(columns="scenario")
    cli = pd.read_csv(out, index_col="step").drop(columns="scenario")
    assert len(dashboard) == 21
    pd.testing.assert_frame_equal(dashboard, cli, check_exact=True)


def test_two_tabs_have_their_own_models(context, server, shot):
    """Each browser tab has its own model: playing or changing one leaves the other."""
    guard_a, guard_b = NetworkGuard(), NetworkGuard()
    a = open_page(context, server, guard_a)
    b = open_page(context, server, guard_b)
    try:
        run_to(a, 12)
        assert "Step 0 of 200" in step_text(b)
        set_input(b, "Seed", "5")
        b.get_by_role("button", name="Step").click()
        wait_step(b, "Step 1 of 200")
        assert "Step 12 of 12" in step_text(a)
        assert a.get_by_label("Seed", exact=True).input_value() == "1"
        shot(a, "tab-a")
        shot(b, "tab-b")
    finally:
        a.close()
        b.close()
    guard_a.check()
    guard_b.check()


def test_a_bad_value_shows_a_message_not_a_traceback(page, shot):
    """A value out of range or not a number is refused with a message naming the
    allowed values; the run is untouched."""
    set_input(page, "Seed", "minus one")
    page.get_by_text("The seed must be a whole number").wait_for()
    set_input(page, "N citizens", "3")
    page.get_by_text("3 is out of range").first.wait_for()
    page.get_by_text("Any other value (dotted path = value)").click()
    set_input(page, "path = value", "regulators.courts.flase_positive_rate = 0.1")
    page.get_by_text("Did you mean 'false_positive_rate'?").first.wait_for()
    assert "Traceback" not in page.locator("body").inner_text()
    assert "Step 0 of 200" in step_text(page)
    shot(page, "bad-values")


def test_about_page_things_to_try_load_their_setting(page, shot):
    """The About page has the Info-tab sections; a 'thing to try' loads its setting."""
    page.get_by_role("tab", name="About this model").click()
    for section in ("What is it?", "How it works", "How to use it", "Things to notice", "Things to try",
                    "Extending the model", "Related models", "Credits and references"):
        page.get_by_role("heading", name=section).wait_for()
    shot(page, "about")
    page.get_by_role("button", name="Let speech cost points").click()
    page.get_by_text("Loaded: Let speech cost points").wait_for()
    assert page.get_by_label("Scenario").first.input_value() == "rongcheng" or \
        page.get_by_text("Rongcheng").count() >= 1
    assert "rules.points.speech_deduction = 20.0" in page.content()
