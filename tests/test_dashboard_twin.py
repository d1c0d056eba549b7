"""The dashboard's no-rules twin: the session runs it beside the scenario (same seed,
stepped in lockstep), the Run page draws it on every time-series figure (or the
differences from it), and Follow shows the same citizen in it. Under a scenario without
rules the run is its own twin and no second model is run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import solara

from simulation import ReputationModel
from simulation.dashboard import components as c
from simulation.dashboard import timeseries
from simulation.dashboard.plots import PANELS
from simulation.dashboard.session import RunSession
from simulation.dashboard.state import AppState
from simulation.twin import has_rules

SMALL = {"population.n_citizens": 300}


def test_the_twin_is_the_scenario_without_rules_on_the_same_seed_in_lockstep():
    session = RunSession("blacklist", 4, SMALL)
    assert session.twin is not None and not has_rules(session.twin.config)
    assert session.twin.seed == session.model.seed
    for n in (1, 3, 5):
        session.step(n)
        assert session.twin.steps == session.model.steps
    alone = ReputationModel(session.model.initial_config.without_rules(), rng=4)
    alone.run(9)
    pd.testing.assert_frame_equal(session.twin.metrics_frame(), alone.metrics_frame())
    snap = session.snapshot()
    assert list(snap.twin_frame.index) == list(snap.frame.index)
    assert not np.allclose(snap.frame["share_listed"], snap.twin_frame["share_listed"])


def test_the_twin_does_not_change_the_run():
    session = RunSession("blacklist", 4, SMALL)
    session.step(6)
    plain = ReputationModel("blacklist", rng=4, **SMALL)
    plain.run(6)
    pd.testing.assert_frame_equal(session.model.metrics_frame(), plain.metrics_frame())


def test_a_scenario_without_rules_is_its_own_twin():
    session = RunSession("baseline", 4, SMALL)
    assert session.twin is None and session.twin_history is None
    session.step(3)
    assert session.snapshot().twin_frame is None
    assert session.twin_citizen(5) is None


def test_the_snapshots_tables_are_the_models_metrics():
    session = RunSession("rongcheng", 2, SMALL)
    session.step(7)
    snap = session.snapshot()
    pd.testing.assert_frame_equal(snap.frame, session.model.metrics_frame(), check_dtype=False)
    pd.testing.assert_frame_equal(snap.twin_frame, session.twin.metrics_frame(), check_dtype=False)


def test_the_same_citizen_in_the_twin():
    session = RunSession("blacklist", 4, SMALL)
    session.step(12)
    info, history = session.citizen(7)
    twin_info, twin_history = session.twin_citizen(7)
    assert twin_info["id"] == 7 and twin_info["urban"] == info["urban"]  # the same person
    assert list(twin_history.index) == list(history.index)
    assert twin_history["wealth"].iloc[-1] == pytest.approx(twin_info["wealth"], rel=1e-6)
    assert twin_history["trust"].iloc[-1] == pytest.approx(twin_info["trust_generalized"], rel=1e-6)
    assert not twin_info["listed"] and not twin_history["listed"].any()  # nobody is listed without rules


# --------------------------------------------------------------------------- figures


def test_a_figure_draws_the_twin_faintly_or_the_difference():
    session = RunSession("blacklist", 4, SMALL)
    session.step(10)
    snap = session.snapshot()
    figure = timeseries.LiveFigure(PANELS[2], 7)  # listings: the blacklist's own panel
    assert figure.update(("run",), snap.frame, snap.twin_frame, False, 200)
    main, ghost = figure.widget.data[0], figure.widget.data[1]
    assert ghost.visible and ghost.line.dash == timeseries.TWIN_DASH and ghost.opacity < 1
    assert ghost.line.color == main.line.color
    assert figure.widget.data[-1].visible and figure.widget.data[-1].name == timeseries.TWIN_LEGEND
    assert not np.allclose(main.y, ghost.y)
    assert not figure.update(("run",), snap.frame, snap.twin_frame, False, 200)  # the same picture: nothing sent
    figure.update(("run",), snap.frame, snap.twin_frame, True, 200)
    assert not figure.widget.data[1].visible and not figure.widget.data[-1].visible
    expected = snap.frame["share_listed"] - snap.twin_frame["share_listed"]
    np.testing.assert_allclose(figure.widget.data[0].y, expected.to_numpy())
    assert figure.widget.layout.shapes[0].visible  # the zero line


@pytest.fixture
def page():
    holder: dict[str, AppState] = {}

    def make(scenario: str):
        @solara.component
        def Harness():
            state = solara.use_memo(lambda: AppState(scenario=scenario), [])
            holder["state"] = state
            c.DashboardBody(state)

        box, rc = solara.render(Harness(), handle_error=False)
        holder["rc"] = rc
        return holder["state"], rc

    yield make
    holder["rc"].close()


def texts(rc) -> str:
    import ipyvuetify as v

    return " ".join(ch for w in rc.find(v.Html).widgets for ch in w.children if isinstance(ch, str))


def test_the_run_page_draws_the_twin_and_switches_to_differences(page):
    state, rc = page("blacklist")
    state.session.value.step(5)
    state.version.value += 1
    figures = rc.find(go.FigureWidget).widgets
    assert len(figures) == len(PANELS)
    assert all(f.data[1].visible and len(f.data[1].y) == 6 for f in figures)
    state.difference.value = True
    assert not any(f.data[1].visible for f in figures)
    assert all(f.layout.yaxis.title.text == "scenario minus without rules" for f in figures)


def test_under_baseline_no_twin_is_drawn_and_the_page_says_why(page):
    state, rc = page("baseline")
    state.session.value.step(3)
    state.version.value += 1
    figures = rc.find(go.FigureWidget).widgets
    assert not any(f.data[1].visible or f.data[-1].visible for f in figures)
    assert "its own no-rules twin" in texts(rc)
    state.follow(5)
    assert "this citizen's no-rules twin is the citizen themself" in texts(rc)


def test_follow_shows_the_citizen_without_the_rules(page):
    import ipyvuetify as v

    state, rc = page("blacklist")
    state.session.value.step(8)
    state.follow(11)
    titles = " ".join(t for w in rc.find(v.CardTitle).widgets for t in w.children if isinstance(t, str))
    assert "The same citizen without the rules" in titles
    from ipyvue import VueTemplate

    assert "citizen without rules" in {getattr(w, "alt", None) for w in rc.find(VueTemplate).widgets}
    assert "Events without the rules" in texts(rc)


def test_the_run_page_makes_its_figures_anew_when_a_tab_comes_back(page):
    """The figures are the page's widgets (closed with it, so a closed tab lets its run
    go); back from another page, new ones show the run at once."""
    state, rc = page("blacklist")
    state.session.value.step(4)
    state.version.value += 1
    state.tab.value = 3
    assert not state.live_figures
    state.tab.value = 0
    figures = rc.find(go.FigureWidget).widgets
    assert len(state.live_figures) == len(PANELS) == len(figures)
    assert all(len(f.data[0].x) == 5 and f.data[1].visible for f in figures)
