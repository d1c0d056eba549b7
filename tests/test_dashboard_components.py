"""Fast tests of the dashboard's pages and controls, rendered with ``solara.render``
(no browser). The whole app in a real browser is tested in ``tests/e2e``."""

from __future__ import annotations

import time

import ipyvuetify as v
import pytest
import solara

from simulation.dashboard import components as c
from simulation.dashboard.compare import COMPARISON_BY_KEY
from simulation.dashboard.plots import PANELS
from simulation.dashboard.state import AppState


def labels(widget) -> list[str]:
    return [ch for ch in widget.children if isinstance(ch, str)]


def button(rc, label: str):
    found = [b for b in rc.find(v.Btn).widgets if label in labels(b)]
    assert len(found) == 1, f"{len(found)} buttons labelled {label!r}"
    return found[0]


def text_field(rc, label: str):
    found = [t for t in rc.find(v.TextField).widgets if t.label == label]
    assert len(found) == 1, f"{len(found)} text fields labelled {label!r}"
    return found[0]


def type_into(field, text: str) -> None:
    field.v_model = text
    field.fire_event("keyup.enter", None)


def texts(rc) -> str:
    return " ".join(ch for w in rc.find(v.Html).widgets for ch in w.children if isinstance(ch, str))


def images(rc) -> dict[str, object]:
    """The figures shown (PngImage widgets) by their alt text."""
    from ipyvue import VueTemplate

    return {w.alt: w for w in rc.find(VueTemplate).widgets if hasattr(w, "alt") and hasattr(w, "src")}


def series(rc) -> list:
    """The time-series figures shown (plotly FigureWidgets), in page order."""
    import plotly.graph_objects as go

    return rc.find(go.FigureWidget).widgets


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def app():
    """The whole page with its state exposed, as one browser tab sees it."""
    holder: dict[str, AppState] = {}

    @solara.component
    def Harness():
        state = solara.use_memo(AppState, [])
        holder["state"] = state
        c.DashboardBody(state)

    box, rc = solara.render(Harness(), handle_error=False)
    yield holder["state"], rc
    state = holder["state"]
    state.playing.value = False
    rc.close()


def test_run_page_shows_controls_progress_and_all_figures(app):
    state, rc = app
    button(rc, "Play")
    button(rc, "Step")
    button(rc, "Reset")
    assert "Step 0 of 200" in texts(rc)
    shown = images(rc)
    for alt in ("network view", "score distribution by group"):
        assert alt in shown
        assert shown[alt].src.startswith("data:image/png;base64,")
    titles = [f.layout.title.text for f in series(rc)]
    assert titles == [f"<b>{p.title}</b>" for p in PANELS]
    assert "The national, court-based approach" in texts(rc)  # the scenario's classroom description


def test_controls_are_built_from_the_schema(app):
    state, rc = app
    fields = {t.label: t for t in rc.find(v.TextField).widgets}
    fpr = fields["courts: false positive rate"]
    assert fpr.v_model == "0.002"
    assert fpr.messages == ["Allowed: from 0 to 1 [per year]"]
    assert "N citizens" in fields and fields["N citizens"].messages == ["Allowed: from 10 to 5,000,000 [persons]"]
    # rule-set groups follow the scenario: blacklist has no points group
    panel_titles = [ch for w in rc.find(v.ExpansionPanelTitle).widgets for ch in w.children if isinstance(ch, str)]
    assert "Blacklist rules" in panel_titles and "Points rules (Rongcheng)" not in panel_titles
    state.set_scenario("rongcheng")
    panel_titles = [ch for w in rc.find(v.ExpansionPanelTitle).widgets for ch in w.children if isinstance(ch, str)]
    assert "Points rules (Rongcheng)" in panel_titles and "Blacklist rules" not in panel_titles


def test_a_bad_value_gives_a_message_and_keeps_the_run(app):
    state, rc = app
    session = state.session.value
    type_into(text_field(rc, "courts: false positive rate"), "lots")
    assert "'lots' is not a number; allowed: from 0 to 1" in texts(rc)
    type_into(text_field(rc, "courts: false positive rate"), "2")
    assert "2 is out of range" in texts(rc)
    type_into(text_field(rc, "Seed"), "-4")
    assert "The seed must be a whole number" in texts(rc)
    type_into(text_field(rc, "Run length (steps)"), "0")
    assert "out of range" in texts(rc)
    type_into(text_field(rc, "path = value"), "regulators.courts.flase_positive_rate = 0.1")
    assert "Did you mean 'false_positive_rate'?" in texts(rc)
    assert state.session.value is session and state.error.value is None


def test_a_valid_value_restarts_the_run_with_it(app):
    state, rc = app
    button(rc, "Step").click()
    assert state.session.value.steps == 1
    type_into(text_field(rc, "courts: false positive rate"), "0.02")
    session = state.session.value
    assert session.steps == 0
    assert session.model.config.regulators.courts.false_positive_rate == 0.02
    assert state.overrides.value == {"regulators.courts.false_positive_rate": 0.02}
    assert "Step 0 of 200" in texts(rc)
    # switching scenario keeps the population size and drops the other changes
    type_into(text_field(rc, "N citizens"), "500")
    state.set_scenario("high_error")
    assert state.overrides.value == {"population.n_citizens": 500}
    assert state.session.value.model.citizens.n == 500
    assert "reset to this scenario's own" in (state.notice.value or "")


def test_step_reset_and_run_length(app):
    state, rc = app
    first = images(rc)["network view"].src
    button(rc, "Step").click()
    button(rc, "Step").click()
    assert "Step 2 of 200" in texts(rc)
    assert images(rc)["network view"].src != first
    assert list(series(rc)[0].data[0].x) == [0, 1, 2]
    type_into(text_field(rc, "Run length (steps)"), "3")
    assert "Step 2 of 3" in texts(rc) and state.session.value.steps == 2  # the run goes on
    button(rc, "Step").click()
    button(rc, "Step").click()  # refused: the run has reached its length
    assert state.session.value.steps == 3
    assert "reached its length" in (state.notice.value or "")
    button(rc, "Reset").click()
    assert state.session.value.steps == 0


def test_play_steps_in_the_background_and_pause_stops(app):
    state, rc = app
    state.speed.value = 0  # as fast as possible
    type_into(text_field(rc, "Run length (steps)"), "15")
    button(rc, "Play").click()
    wait_until(lambda: not state.playing.value)
    assert state.session.value.steps == 15
    wait_until(lambda: "Step 15 of 15" in texts(rc))
    wait_until(lambda: images(rc)["network view"].version.endswith("-15"))  # the last frame is drawn
    wait_until(lambda: all(len(f.data[0].x) == 16 for f in series(rc)))  # steps 0 to 15
    assert "Finished" in (state.notice.value or "")
    type_into(text_field(rc, "Run length (steps)"), "100000")
    state.speed.value = 20
    button(rc, "Play").click()
    wait_until(lambda: state.session.value.steps >= 20)
    button(rc, "Pause").click()
    wait_until(lambda: not state.playing.value)
    time.sleep(0.3)
    stopped = state.session.value.steps
    time.sleep(0.5)
    assert state.session.value.steps == stopped


def test_follow_a_citizen(app):
    state, rc = app
    state.session.value.step(25)
    state.version.value += 1
    state.follow(42)
    assert state.tab.value == 2
    assert "Citizen 42" in " ".join(t for w in rc.find(v.CardTitle).widgets for t in w.children if isinstance(t, str))
    assert "citizen timeline" in images(rc)
    button(rc, "a listed citizen").click()
    followed = state.followed.value
    assert followed in set(state.session.value.who("listed").tolist())
    assert any(e["event"].startswith("listed") for e in state.session.value.citizen(followed)[0]["events"])
    type_into(text_field(rc, "Citizen number"), "999999")
    assert "Citizens are numbered 0 to 1999" in texts(rc)


def test_network_click_follows_the_nearest_citizen(app):
    from simulation.dashboard import plots

    state, rc = app
    picture = plots.network_picture(state.session.value.snapshot(), "score")
    x, y = picture.fractions[3]
    images(rc)["network view"].vue_event_click({"x": 0.001, "y": 0.999})  # empty corner: nothing happens
    assert state.followed.value is None and state.tab.value == 0
    images(rc)["network view"].vue_event_click({"x": float(x), "y": float(y)})
    assert state.followed.value == int(picture.nodes[3])
    assert state.tab.value == 2


def test_compare_runs_on_common_random_numbers(app):
    state, rc = app
    state.tab.value = 1
    button(rc, "Publication on vs off").click()
    assert [v.scenario for v in state.compare.variants.value] == ["blacklist", "no_publication"]
    assert state.compare.metrics.value == list(COMPARISON_BY_KEY["publication"].metrics)
    type_into(text_field(rc, "Steps"), "15")
    type_into(text_field(rc, "Citizens (same population)"), "400")
    button(rc, "Run comparison").click()
    wait_until(lambda: state.compare.result.value is not None and state.compare.progress.value is None, timeout=60)
    result = state.compare.result.value
    assert result.same_start() and set(result.frames) == {"blacklist", "no_publication"}
    assert len(result.frames["blacklist"]) == 16
    wait_until(lambda: "comparison differences" in images(rc))
    assert "They start from the same population" in " ".join(
        str(getattr(w, "children", "")) for w in rc.find(v.Alert).widgets)
    # the same scenario twice is refused with a message
    state.compare.set_variant(1, "blacklist")
    button(rc, "Run comparison").click()
    assert "Choose different scenarios" in (state.compare.error.value or "")


def test_about_page_sections_and_things_to_try(app):
    state, rc = app
    state.tab.value = 3
    for button_label in ("Make the courts ten times more error-prone", "Let speech cost points"):
        button(rc, button_label)
    button(rc, "Let speech cost points").click()
    assert state.tab.value == 0
    assert state.scenario.value == "rongcheng"
    assert state.overrides.value == {"rules.points.speech_deduction": 20.0}
    assert state.session.value.model.config.rule("points").speech_deduction == 20.0
    state.tab.value = 3
    button(rc, "Compare: low vs high error rate").click()
    assert state.tab.value == 1
    assert [v.scenario for v in state.compare.variants.value] == ["blacklist", "high_error"]
    state.compare.stop()


def test_each_page_instance_has_its_own_model():
    """Two tabs = two Dashboard instances: separate states and models."""
    box_a, rc_a = solara.render(c.Dashboard(), handle_error=False)
    box_b, rc_b = solara.render(c.Dashboard(), handle_error=False)
    try:
        button(rc_a, "Step").click()
        button(rc_a, "Step").click()
        assert "Step 2 of 200" in texts(rc_a)
        assert "Step 0 of 200" in texts(rc_b)
    finally:
        rc_a.close()
        rc_b.close()
