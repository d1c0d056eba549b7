"""The dashboard's Solara components: the page with its four tabs and their parts.

``Dashboard`` is the whole page. It makes the tab's :class:`~.state.AppState` with
``use_memo`` (so each browser tab has its own model) and runs two background loops:
the player, which steps the model in small chunks at the chosen speed while the page
stays responsive, and the comparison runner. While the player runs, a
:class:`Plotter` sends each new step to the time-series figures (plotly, redrawn in the
browser) and a :class:`Painter` redraws the PNG figures (network view, scores by group).
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara

from ..catalog import load_scenario, scenario_names
from ..metrics import METRICS
from ..overrides import ScenarioError, parse_value
from . import about, plots, timeseries
from .compare import COMPARISONS, CompareResult, run_comparison
from .params import POPULATION_PATH, RUN_LENGTH_PATH, ParamSpec, key_groups, spec_for, value_at
from .session import EVENT_LABELS, RunSession, Snapshot
from .state import SPEEDS, TABS, AppState, speed_label

log = logging.getLogger(__name__)

HERE = Path(__file__).parent

CSS = """
.scoresim-page { font-size: 17px; }
.scoresim-page .v-btn { font-size: 15px; letter-spacing: 0.02em; }
.scoresim-page .v-label, .scoresim-page input, .scoresim-page .v-select__selection { font-size: 16px !important; }
.scoresim-step { font-size: 26px; font-weight: 600; }
.scoresim-help { font-size: 14px; color: #555; line-height: 1.3; }
.scoresim-description { font-size: 16px; line-height: 1.45; }
.scoresim-card { padding: 6px; }
.scoresim-figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px;
                    padding-right: 12px; }
.scoresim-about { font-size: 17px; line-height: 1.5; max-width: 980px; padding: 0 12px; }
.scoresim-about .solara-markdown p, .scoresim-about .solara-markdown li { font-size: 17px; }
.scoresim-about h2 { margin-top: 18px; }
.scoresim-events td, .scoresim-events th { padding: 2px 10px; font-size: 15px; }
"""


# --------------------------------------------------------------------------- small parts


@solara.component_vue(str(HERE / "png_image.vue"))
def PngImage(src: str, alt: str = "", hint: str = "", version: str = "", clickable: bool = False,
             max_width: str = "100%", event_click: Callable[[dict], None] | None = None):
    """A PNG shown at the width of its container; when clickable, reports where it was
    clicked as fractions of its width and height."""


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


@solara.component
def FigureImage(make: Callable[[], bytes], dependencies: list, alt: str, version: str = "",
                max_width: str = "100%"):
    """A figure drawn only when its dependencies change."""
    data = solara.use_memo(make, dependencies)
    PngImage(src=_data_url(data), alt=alt, version=version, max_width=max_width)


def guarded(state: AppState | None, action: Callable[..., Any]) -> Callable[..., Any]:
    """An event handler that shows a message instead of raising into the page."""

    def handler(*args: Any) -> Any:
        try:
            return action(*args)
        except (ScenarioError, ValueError) as exc:
            if state is not None:
                state.error.value = str(exc)
        except Exception as exc:
            log.exception("dashboard action failed")
            if state is not None:
                state.error.value = f"Something went wrong: {type(exc).__name__}: {exc}"
        return None

    return handler


def parsed_input(state: AppState, spec: ParamSpec, key: str, apply: Callable[[Any], Any]) -> Callable[[Any], None]:
    """A control's ``on_value``: the entry read with ``spec.parse`` goes to ``apply``; an
    entry it refuses is shown next to the control as the error under ``key``."""

    def on_value(raw: Any) -> None:
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            state._control_error(key, str(exc))
            return
        apply(value)

    return on_value


@solara.component
def Messages(state: AppState):
    if state.error.value:
        with solara.Row(classes=["scoresim-error"]):
            solara.Error(state.error.value, text=False, style={"white-space": "pre-wrap", "flex-grow": "1"})
            solara.Button("Dismiss", on_click=lambda: state.error.set(None), text=True)
    if state.notice.value:
        with solara.Row():
            solara.Info(state.notice.value, text=False, style={"flex-grow": "1"})
            solara.Button("OK", on_click=lambda: state.notice.set(None), text=True)


# --------------------------------------------------------------------------- background loops


FRAME_GAP = 0.4
"""Least pause between two redraws of the PNG figures (and of the page) while playing [s]."""
PLOT_GAP = 0.05
"""Pause between two updates of the time-series figures while playing [s]: about 12 a
second, which the browser draws without falling behind (benchmarks/figure_updates.py)."""
PROGRESS_EVERY = 0.2
"""How often the step counter and progress bar are refreshed while playing [s]."""


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the Run page at one step: its cache key, its alt text and how to
    draw it (PNG bytes, or a NetworkPicture for the clickable network view)."""

    key: tuple
    alt: str
    make: Callable[[], Any]
    version: str = ""


def run_figure_specs(session: RunSession, snap: Snapshot, colour_by: str, followed: int | None) -> list[FigureSpec]:
    """The Run page's PNG figures for ``snap``, in the order they are shown (the
    time-series figures are plotly's, see :func:`plot_series`)."""
    run = (session.key, snap.target)
    base = (session.key, snap.step, snap.target)
    version = f"{id(session)}-{snap.step}"
    return [
        FigureSpec(base + ("network", colour_by, followed), "network view",
                   lambda: plots.live(run + ("network", colour_by, followed),
                                      lambda: plots.LiveNetwork(snap, colour_by, followed),
                                      lambda d: d.picture(snap)),
                   version),
        FigureSpec(base + ("distribution",), "score distribution by group",
                   lambda: plots.live(run + ("distribution",), lambda: plots.LiveDistribution(snap),
                                      lambda d: d.png(snap)),
                   version),
    ]


class FigureCache:
    """Drawn figures by content key, shared by all tabs of this server: a run is fixed
    by its scenario, values, seed and step, so every tab that shows the same step of
    the same run (a class opening the same scenario) reuses one drawing. It holds only
    finished images, never a model."""

    def __init__(self, size: int = 400) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


FIGURES = FigureCache()


def plot_series(state: AppState, session: RunSession, snap: Snapshot) -> int:
    """Send ``snap``'s metrics (and its twin's) to this tab's time-series figures; how
    many figures were updated."""
    updated = 0
    for figure in list(state.live_figures.values()):
        updated += figure.update((id(session), session.key), snap.frame, snap.twin_frame, state.difference.value,
                                 snap.target)
    return updated


class _PageThread:
    """A daemon thread working for one tab's run until stopped or the run is cancelled."""

    name = "scoresim-page-thread"

    def __init__(self, state: AppState, session: RunSession, cancel: threading.Event) -> None:
        self.state, self.session, self.cancel = state, session, cancel
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        raise NotImplementedError


class Plotter(_PageThread):
    """Sends each new step to the time-series figures in its own thread, every
    ``PLOT_GAP`` seconds."""

    name = "scoresim-plotter"

    def _run(self) -> None:
        while not (self.done.is_set() or self.cancel.is_set()):
            try:
                if self.state.tab.value == 0:
                    plot_series(self.state, self.session, self.session.snapshot())
            except Exception:
                log.exception("updating the time-series figures failed")
                self.cancel.wait(1.0)
            self.cancel.wait(PLOT_GAP)


def cached(state: AppState, spec: FigureSpec) -> Any:
    """A figure from the cache, drawn now if it is not there."""
    value = FIGURES.get(spec.key)
    if value is None:
        value = spec.make()
        FIGURES.put(spec.key, value)
    return value


class Painter(_PageThread):
    """Draws the Run page's PNG figures for the latest step in its own thread, outside
    the page's render, then asks the page to show them (and waits until it has)."""

    name = "scoresim-painter"

    def __init__(self, state: AppState, session: RunSession, cancel: threading.Event) -> None:
        self.wanted = threading.Event()
        super().__init__(state, session, cancel)

    def _run(self) -> None:
        state = self.state
        while not (self.done.is_set() or self.cancel.is_set()):
            if not self.wanted.wait(0.05):
                continue
            self.wanted.clear()
            try:
                snap = self.session.snapshot()
                if state.tab.value == 0:  # only the Run page shows these figures
                    for spec in run_figure_specs(self.session, snap, state.colour_by.value, state.followed.value):
                        if self.cancel.is_set():
                            return
                        cached(state, spec)
                state.shown = snap
                if not publish_frame(state, self.cancel):
                    return
                self.cancel.wait(FRAME_GAP)
            except Exception:
                log.exception("drawing the figures failed")
                self.cancel.wait(1.0)


def play_loop(state: AppState, session: RunSession, cancel: threading.Event) -> None:
    """Step ``session`` at ``state.speed`` steps per second (0: as fast as possible) in
    small chunks until paused, cancelled or finished. The step counter is refreshed a
    few times a second; a :class:`Plotter` sends each step to the time-series figures
    and a :class:`Painter` redraws the PNG figures, each in its own thread. When drawing
    lags, stepping goes on: the step rate holds and only the figures' frame rate drops;
    the page's render stays short, so it always answers."""
    painter, plotter = Painter(state, session, cancel), Plotter(state, session, cancel)
    painter.start()
    plotter.start()
    try:
        _step_until_stopped(state, session, cancel, painter)
    finally:
        plotter.stop()
        painter.stop()
    if state.session.value is session:  # the last step's figures, drawn here too
        snap = session.snapshot()
        if state.tab.value == 0:
            for spec in run_figure_specs(session, snap, state.colour_by.value, state.followed.value):
                cached(state, spec)
            plot_series(state, session, snap)
        state.shown = snap
        state.version.value += 1


def _step_until_stopped(state: AppState, session: RunSession, cancel: threading.Event, painter: Painter) -> None:
    t0 = time.perf_counter()
    steps0 = session.steps
    speed = state.speed.value
    start, done = t0, 0
    last_progress = 0.0
    painter.wanted.set()
    while not cancel.is_set() and state.playing.value and state.session.value is session:
        if session.finished:
            state.playing.value = False
            state.notice.value = f"Finished: the run reached step {session.steps}."
            break
        if state.speed.value != speed:
            speed, start, done = state.speed.value, time.perf_counter(), 0
        now = time.perf_counter()
        if speed == 0:
            n = max(1, int(0.1 / session.step_seconds)) if session.step_seconds > 0 else 1
        else:
            due = int((now - start) * speed) + 1 - done
            if due <= 0:
                cancel.wait(min(0.05, max(0.001, (done - (now - start) * speed) / speed)))
                continue
            n = min(due, max(1, int(speed)))
        ran = state._safe_step(session, n)
        done += ran
        if ran == 0:
            break
        painter.wanted.set()
        now = time.perf_counter()
        state.rate = (session.steps - steps0) / (now - t0) if now > t0 else None
        if now - last_progress >= PROGRESS_EVERY:
            last_progress = now
            state.progress.value += 1  # a cheap render: the counter and the progress bar
        if speed == 0:
            cancel.wait(0.005)  # let the painter and the page have the interpreter too


def publish_frame(state: AppState, cancel: threading.Event, timeout: float = 60.0) -> bool:
    """Ask the page to redraw and wait until it has (``FrameDrawn`` acknowledges), so
    that redraws are never queued faster than the page shows them. False if cancelled."""
    state.frame_drawn.clear()
    state.version.value += 1
    deadline = time.perf_counter() + timeout
    while not state.frame_drawn.wait(0.02):
        if cancel.is_set():
            return False
        if time.perf_counter() > deadline:  # nobody is drawing (e.g. the tab was closed)
            return False
    return True


@solara.component
def FrameDrawn(state: AppState):
    """Acknowledges each drawn frame to the painter (effects run after the render)."""
    version = state.version.value
    solara.use_effect(lambda: state.frame_drawn.set(), [version])


@solara.component
def Player(state: AppState):
    """Runs :func:`play_loop` in a thread while ``state.playing`` is true."""
    playing = state.playing.value
    session = state.session.value

    def run(cancel: threading.Event) -> None:
        if playing and session is not None:
            try:
                play_loop(state, session, cancel)
            except Exception as exc:
                log.exception("play loop failed")
                state.playing.value = False
                state.error.value = f"The run stopped: {type(exc).__name__}: {exc}"

    solara.use_thread(run, dependencies=[playing, session], intrusive_cancel=False)


@solara.component
def CompareRunner(state: AppState):
    """Runs a comparison in a thread when ``compare.run_id`` changes."""
    cmp = state.compare
    run_id = cmp.run_id.value

    def run() -> None:
        if run_id == 0:
            return
        stop = cmp.stop_event
        try:
            result = run_comparison(list(cmp.variants.value), int(cmp.seed.value), int(cmp.n_citizens.value),
                                    int(cmp.steps.value), on_progress=cmp.progress.set, cancel=stop)
        except (ScenarioError, ValueError) as exc:
            cmp.error.value = str(exc)
            result = None
        except Exception as exc:
            log.exception("comparison failed")
            cmp.error.value = f"The comparison failed: {type(exc).__name__}: {exc}"
            result = None
        if result is None and stop.is_set():
            cmp.error.value = "Comparison stopped."
        cmp.result.value = result
        cmp.progress.value = None

    solara.use_thread(run, dependencies=[run_id], intrusive_cancel=False)


# --------------------------------------------------------------------------- controls


@solara.component
def ParameterControl(state: AppState, path: str, value: Any, scenario=None):
    """One scenario value as a control, with its bounds and help from the schema."""
    spec = spec_for(path, scenario)
    error = state.control_errors.value.get(path)
    help_text = spec.help
    hint = f"Allowed: {spec.bounds_text}" + (f" [{spec.unit}]" if spec.unit else "")
    commit = parsed_input(state, spec, path, lambda parsed: state.set_value(path, parsed))

    with solara.Column(gap="0px", classes=["scoresim-control"]):
        if spec.kind == "bool":
            with solara.Tooltip(help_text):
                solara.Switch(label=spec.label, value=bool(value), on_value=guarded(state, commit))
        elif spec.kind == "choice":
            solara.Select(label=spec.label, values=list(spec.choices), value=str(value),
                          on_value=guarded(state, commit))
        else:
            with solara.Tooltip(help_text):
                solara.InputText(label=spec.label, value=spec.format(value), on_value=guarded(state, commit),
                                 error=bool(error), message=None if error else hint,
                                 classes=[f"scoresim-input-{path.replace('.', '-')}"])
        if error:
            solara.Text(error, classes=["scoresim-control-error"], style={"color": "#b00020", "font-size": "14px",
                                                                        "white-space": "pre-wrap"})


@solara.component
def ParameterControls(state: AppState):
    session = state.session.value
    scenario = session.model.initial_config if session is not None else load_scenario(state.scenario.value)
    groups = key_groups(scenario)
    other, set_other = solara.use_state("")
    for title, specs in groups:
        changed = sum(1 for s in specs if s.path in state.overrides.value)
        label = title + (f"  ({changed} changed)" if changed else "")
        with solara.Details(label, expand=False):
            for spec in specs:
                ParameterControl(state, spec.path, value_at(scenario, spec.path), scenario)
    with solara.Details("Any other value (dotted path = value)", expand=False):
        solara.Text("Like the command line's --set, e.g. regulators.market.coverage = 0.5. "
                    "Every value is checked against the scenario schema.", classes=["scoresim-help"])

        def commit(text: str) -> None:
            set_other(text)
            path, sep, raw = (text or "").partition("=")
            if not sep or not path.strip():
                state._control_error("other", "Write it as path = value, e.g. behaviour.trust_learning = 0.2")
                return
            state._control_error("other", None)
            if state.set_value(path.strip(), parse_value(raw.strip())):
                state._control_error("other", None)
            else:
                state._control_error("other", state.control_errors.value.get(path.strip(), "refused"))

        solara.InputText("path = value", value=other, on_value=guarded(state, commit),
                         error=bool(state.control_errors.value.get("other")))
        if state.control_errors.value.get("other"):
            solara.Text(state.control_errors.value["other"], style={"color": "#b00020", "font-size": "14px",
                                                                   "white-space": "pre-wrap"})
    if state.overrides.value:
        changed = ", ".join(f"{k} = {v}" for k, v in state.overrides.value.items())
        solara.Text(f"Changed from the scenario: {changed}", classes=["scoresim-help"])
        solara.Button("Back to the scenario's values", text=True, icon_name="mdi-undo",
                      on_click=guarded(state, lambda: (state.overrides.set({}), state.rebuild())))


@solara.component
def RunButtons(state: AppState):
    session = state.session.value
    playing = state.playing.value
    busy = session is None or state.building.value is not None
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        if playing:
            solara.Button("Pause", icon_name="mdi-pause", on_click=state.pause, color="warning")
        else:
            solara.Button("Play", icon_name="mdi-play", on_click=guarded(state, state.play), color="primary",
                          disabled=busy)
        solara.Button("Step", icon_name="mdi-step-forward", on_click=guarded(state, state.step_once),
                      disabled=busy or playing)
        solara.Button("Reset", icon_name="mdi-restart", on_click=guarded(state, state.reset), disabled=busy)


@solara.component
def RunProgress(state: AppState):
    session = state.session.value
    _ = state.version.value, state.progress.value
    if state.building.value:
        solara.Text(state.building.value)
        solara.ProgressLinear(True)
        return
    if session is None:
        return
    steps, target = session.steps, session.target
    rate = state.rate
    with solara.Row(style={"align-items": "center", "gap": "18px", "flex-wrap": "wrap"}):
        RunButtons(state)
        solara.Select(label="Speed", values=[speed_label(s) for s in SPEEDS], value=speed_label(state.speed.value),
                      on_value=lambda label: state.speed.set(SPEEDS[[speed_label(s) for s in SPEEDS].index(label)]),
                      style={"max-width": "220px"}, dense=True)
        solara.Text(f"Step {steps} of {target}", classes=["scoresim-step"])
        days = steps * session.model.config.run.days_per_step
        solara.Text(f"({days / 365:.1f} years)", classes=["scoresim-help"])
        if state.playing.value:
            solara.Text("Running" + (f", about {rate:.1f} steps/s" if rate else "") + ": press Pause to stop.",
                        classes=["scoresim-help"])
    solara.ProgressLinear(value=100.0 * steps / max(target, 1), color="success" if steps >= target else "primary")


@solara.component
def RunSettings(state: AppState):
    names = scenario_names()
    errors = state.control_errors.value
    session = state.session.value
    scenario = load_scenario(state.scenario.value)
    solara.Select(label="Scenario", values=names, value=state.scenario.value,
                  on_value=guarded(state, state.set_scenario))
    solara.Markdown(f"**{scenario.title}**")
    with solara.Details("What this scenario shows", expand=True):
        solara.Text(" ".join(scenario.description.split()), classes=["scoresim-description"])
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Seed", value=str(state.seed.value), on_value=guarded(state, state.set_seed),
                         error=bool(errors.get("seed")), style={"max-width": "180px"},
                         classes=["scoresim-seed"])
        solara.Button("New seed", icon_name="mdi-dice-5", text=True, on_click=guarded(state, state.new_seed))
    if errors.get("seed"):
        solara.Text(errors["seed"], style={"color": "#b00020", "font-size": "14px"})
    population = (session.model.initial_config.population.n_citizens if session is not None
                  else scenario.population.n_citizens)
    ParameterControl(state, POPULATION_PATH, population)
    run_spec = spec_for(RUN_LENGTH_PATH)
    length_error = errors.get(RUN_LENGTH_PATH)

    def set_length(steps: int) -> None:
        state._control_error(RUN_LENGTH_PATH, None)
        state.set_run_length(steps)

    with solara.Tooltip(run_spec.help):
        solara.InputText("Run length (steps)", value=str(session.target if session else scenario.run.steps),
                         on_value=guarded(state, parsed_input(state, run_spec, RUN_LENGTH_PATH, set_length)),
                         error=bool(length_error),
                         message=None if length_error else f"Allowed: {run_spec.bounds_text}; play stops there")
    if length_error:
        solara.Text(length_error, style={"color": "#b00020", "font-size": "14px"})


@solara.component
def ExportPanel(state: AppState, snapshot_png: Callable[[], bytes]):
    session = state.session.value
    _ = state.version.value  # the file names carry the step
    if session is None:
        return
    base = session.base_filename()
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.FileDownload(lambda: session.csv_text(), filename=f"{base}.csv", label="Data (CSV)",
                            mime_type="text/csv")
        solara.FileDownload(lambda: session.scenario_yaml(f"{base}.scenario.yaml"),
                            filename=f"{base}.scenario.yaml", label="Scenario + seed (YAML)",
                            mime_type="application/x-yaml")
        solara.FileDownload(snapshot_png, filename=f"{base}-figures.png", label="Figures (PNG)",
                            mime_type="image/png")
    solara.Text(f"Re-run the YAML exactly: python -m simulation run {base}.scenario.yaml --seed {session.seed}",
                classes=["scoresim-help"])


# --------------------------------------------------------------------------- pages


def shown_snapshot(state: AppState, session: RunSession) -> Snapshot:
    """The step the figures show: the last one the player drew, if any (so the page
    never draws while answering Pause), else the model's current step."""
    shown = state.shown
    if shown is not None and shown.session_id == id(session) and shown.target == session.target:
        return shown
    return session.snapshot()


@solara.component
def NetworkView(state: AppState, session: RunSession, spec: FigureSpec):
    picture = solara.use_memo(lambda: cached(state, spec), [spec.key])

    def clicked(where: dict) -> None:
        citizen = picture.citizen_at(float(where.get("x", -1)), float(where.get("y", -1)))
        if citizen is not None:
            state.follow(citizen)

    with solara.Column(gap="2px"):
        PngImage(src=_data_url(picture.image), alt=spec.alt, version=spec.version,
                 clickable=True, hint="Click a citizen to follow them", event_click=guarded(state, clicked))
        values = list(plots.COLOUR_BY) if "points" in session.model.config.active_kinds else ["score", "urban or rural"]
        colour_by = state.colour_by.value
        solara.ToggleButtonsSingle(value=colour_by if colour_by in values else "score", values=values,
                                   on_value=state.colour_by.set, dense=True)


@solara.component
def CachedImage(state: AppState, spec: FigureSpec):
    data = solara.use_memo(lambda: cached(state, spec), [spec.key])
    PngImage(src=_data_url(data), alt=spec.alt, version=spec.version)


@solara.component
def SeriesFigure(state: AppState, panel: plots.Panel, days_per_step: int):
    """One time-series figure (plotly), fed new data: between plays it shows the page's
    step, while a run plays the :class:`Plotter` feeds it."""
    element = timeseries.SharedScriptFigure.element()  # made and closed by the page, like any widget
    session = state.session.value
    _ = state.version.value
    snap = shown_snapshot(state, session)
    difference = state.difference.value

    def attach():
        state.live_figures[panel.key] = timeseries.LiveFigure(panel, days_per_step, solara.get_widget(element))
        return lambda: state.live_figures.pop(panel.key, None)

    def show() -> None:
        if not state.playing.value and panel.key in state.live_figures:
            plot_series(state, session, snap)

    solara.use_effect(attach, [])
    solara.use_effect(show, [id(session), snap.step, snap.target, difference])
    solara.Div(children=[element], classes=["scoresim-series"])


@solara.component
def TwinSwitch(state: AppState, session: RunSession):
    """The difference switch, or a quiet note that the scenario is its own twin."""
    if session.twin is None:
        solara.Text("This scenario has no rules: it is its own no-rules twin, so no second line is drawn.",
                    classes=["scoresim-help", "scoresim-no-twin"])
        return
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="12px"):
        solara.Switch(label="show difference from no rules", value=state.difference.value,
                      on_value=state.difference.set, classes=["scoresim-difference"])
        solara.Text("Dotted faint lines: the same society, same seed, without the rules (its no-rules twin)."
                    if not state.difference.value else
                    "Each line: this scenario minus its no-rules twin (0: the rules change nothing).",
                    classes=["scoresim-help"])


@solara.component
def RunFigures(state: AppState):
    session = state.session.value
    _ = state.version.value
    if session is None:
        return
    snap = shown_snapshot(state, session)
    specs = run_figure_specs(session, snap, state.colour_by.value, state.followed.value)
    dps = session.model.config.run.days_per_step
    TwinSwitch(state, session)
    with solara.Div(classes=["scoresim-figures"]):
        for panel in plots.PANELS:
            with solara.Card(margin=0, classes=["scoresim-card", f"scoresim-series-{panel.key}"]):
                SeriesFigure(state, panel, dps)
        for spec in specs:
            with solara.Card(margin=0, classes=["scoresim-card"]):
                if spec.alt == "network view":
                    NetworkView(state, session, spec)
                else:
                    CachedImage(state, spec)


@solara.component
def RunPage(state: AppState):
    session = state.session.value

    def figures_png() -> bytes:
        if session is None:
            raise ValueError("no run to export")
        snap = session.snapshot()
        dps = session.model.config.run.days_per_step
        images = [plots.png(plots.panel_figure(p, snap.frame, dps, snap.target, twin=snap.twin_frame,
                                               difference=state.difference.value)) for p in plots.PANELS]
        for spec in run_figure_specs(session, snap, state.colour_by.value, state.followed.value):
            value = cached(state, spec)
            images.append(value.image if isinstance(value, plots.NetworkPicture) else value)
        title = (f"scoresim: {session.scenario_name}, seed {session.seed}, step {session.steps}, "
                 f"{session.model.citizens.n:,} citizens")
        return plots.contact_sheet(images, columns=2, title=title)

    with solara.Columns([1, 3], classes=["scoresim-run"]):
        with solara.Column(gap="8px"):
            RunSettings(state)
            with solara.Card("Key parameters", margin=0):
                solara.Text("Changing a value restarts the run from step 0 with the same seed.",
                            classes=["scoresim-help"])
                ParameterControls(state)
            with solara.Card("Export", margin=0):
                ExportPanel(state, figures_png)
        with solara.Column(gap="8px"):
            RunProgress(state)
            RunFigures(state)


@solara.component
def CitizenPage(state: AppState):
    session = state.session.value
    _ = state.version.value
    errors = state.control_errors.value
    if session is None:
        solara.Info("No run yet.")
        return
    followed = state.followed.value
    n = session.model.citizens.n

    def pick(event: str | None) -> None:
        rng = random.Random(session.seed * 1_000_003 + session.steps)
        if event is None:
            state.follow(rng.randrange(n), show=False)
            return
        who = session.who(event)
        if len(who) == 0:
            state.notice.value = f"Nobody has been '{EVENT_LABELS[event]}' yet in this run: play on, or pick another."
            return
        state.follow(int(rng.choice(list(who))), show=False)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
        solara.InputText("Citizen number", value="" if followed is None else str(followed),
                         on_value=guarded(state, lambda t: state.follow(int(str(t).strip()), show=False)
                                          if str(t).strip().lstrip("-").isdigit()
                                          else state._control_error("citizen", f"Type a number from 0 to {n - 1}.")),
                         error=bool(errors.get("citizen")), style={"max-width": "200px"},
                         classes=["scoresim-citizen-input"])
        solara.Text("or pick:")
        for label, event in (("a wrongly listed citizen", "listed_wrongly"), ("a listed citizen", "listed"),
                             ("someone who appealed", "appealed"), ("someone who lost ties", "ties_cut"),
                             ("anyone", None)):
            solara.Button(label, outlined=True, on_click=guarded(state, lambda event=event: pick(event)))
    if errors.get("citizen"):
        solara.Text(errors["citizen"], style={"color": "#b00020"})
    Messages(state)
    if followed is None:
        solara.Info("Choose a citizen above, or click one in the network view on the Run page.")
        return
    info, history = session.citizen(followed)
    events = info["events"]
    dps = session.model.config.run.days_per_step
    with solara.Columns([1, 3]):
        CitizenCard(session, followed, info)
        with solara.Column():
            FigureImage(lambda: plots.png(plots.citizen_figure(history, events, followed, dps, session.target)),
                        [id(session), session.steps, followed], alt="citizen timeline",
                        version=f"{followed}-{session.steps}")
            EventList(events, dps)
    CitizenTwin(session, followed, info, history)


@solara.component
def EventList(events: list[dict], dps: int, label: str = "Events so far"):
    counts: dict[str, int] = {}
    for e in events:
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    summary = ", ".join(f"{EVENT_LABELS[k]}: {v}" for k, v in counts.items()) or "no events yet"
    solara.Text(f"{label}: {summary}", classes=["scoresim-help"])
    recent = events[-40:][::-1]
    if recent:
        lines = ["<table class='scoresim-events'><tr><th>step</th><th>day</th><th>event</th></tr>"]
        for e in recent:
            lines.append(f"<tr><td>{e['step']}</td><td>{e['step'] * dps}</td>"
                         f"<td>{EVENT_LABELS[e['event']]}</td></tr>")
        lines.append("</table>")
        with solara.Details(f"The last {len(recent)} events, newest first", expand=False):
            solara.HTML(tag="div", unsafe_innerHTML="".join(lines))


TWIN_ROWS = (("wealth", "wealth", "{:,.0f}"), ("income", "income now (per day)", "{:.1f}"),
             ("trust_generalized", "trust in others", "{:.2f}"), ("trust_firms", "trust in firms", "{:.2f}"),
             ("ties", "active ties", "{}"), ("listed", "listed now", "{}"), ("sanctioned", "sanctioned now", "{}"))
"""The values shown with and without the rules: (key of ``model.citizen``, label, format)."""


def _shown(value: Any, fmt: str) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else fmt.format(value)


@solara.component
def CitizenTwin(session: RunSession, followed: int, info: dict, history):
    """The same person in the no-rules twin: current values side by side, their wealth,
    trust and ties with and without the rules, and the events they had without them."""
    twin = session.twin_citizen(followed)
    if twin is None:
        solara.Text("This scenario has no rules: this citizen's no-rules twin is the citizen themself.",
                    classes=["scoresim-help", "scoresim-no-twin"])
        return
    twin_info, twin_history = twin
    dps = session.model.config.run.days_per_step
    with solara.Card("The same citizen without the rules", margin=0, classes=["scoresim-twin"]):
        solara.Text("The no-rules twin: the same society and seed with no rule set, stepped alongside this run.",
                    classes=["scoresim-help"])
        with solara.Columns([1, 3]):
            with solara.Column():
                rows = [f"| {label} | **{_shown(info[key], fmt)}** | {_shown(twin_info[key], fmt)} |"
                        for key, label, fmt in TWIN_ROWS]
                solara.Markdown("\n".join(["| | with rules | without rules |", "|---|---|---|", *rows]))
            with solara.Column():
                FigureImage(lambda: plots.png(plots.citizen_twin_figure(history, twin_history, followed, dps,
                                                                        session.target)),
                            [id(session), session.steps, followed, "twin"], alt="citizen without rules",
                            version=f"{followed}-{session.steps}-twin")
                EventList(twin_info["events"], dps, label="Events without the rules")


@solara.component
def CitizenCard(session: RunSession, followed: int, info: dict):
    """Who the citizen is and how they stand now."""
    with solara.Card(f"Citizen {followed}", margin=0):
        rows = [
            ("lives", "in a city" if info["urban"] else "in the countryside"),
            ("income third", info["income_tercile"]), ("education", info["education"]),
            ("age group", info["age_group"]), ("honesty", f"{info['honesty']:.2f}"),
            ("wealth", f"{info['wealth']:,.0f}"), ("income now", f"{info['income']:.1f} per day"),
            ("trust in others", f"{info['trust_generalized']:.2f}"),
            ("approval of the system", f"{info['approval']:.2f}"),
            ("active ties", str(info["ties"])), ("listed now", "yes" if info["listed"] else "no"),
            ("sanctioned now", "yes" if info["sanctioned"] else "no"),
        ]
        for key in ("points", "grade", "commercial_score", "rating"):
            if info.get(key) is not None:
                value = info[key]
                rows.append((key.replace("_", " "), f"{value:.0f}" if isinstance(value, float) else str(value)))
        if info.get("court_listed_wrongly") or info.get("sector_listed_wrongly"):
            rows.append(("listed wrongly", "yes"))
        solara.Markdown("\n".join(["| | |", "|---|---|"] + [f"| {k} | **{v}** |" for k, v in rows]))
        if not session.history.has_full(followed):
            solara.Text("This population is large: this citizen's history is kept from when you chose them.",
                        classes=["scoresim-help"])


@solara.component
def CompareSettings(state: AppState):
    cmp = state.compare
    names = scenario_names()
    running = cmp.progress.value is not None
    solara.Text("Ready-made workshop comparisons:", style={"font-weight": "600"})
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        for comparison in COMPARISONS:
            solara.Button(comparison.title, outlined=cmp.preset.value != comparison.key,
                          color="primary" if cmp.preset.value == comparison.key else None, disabled=running,
                          on_click=guarded(state, lambda key=comparison.key: cmp.load_preset(key)))
    if cmp.preset.value:
        from .compare import COMPARISON_BY_KEY

        solara.Text(COMPARISON_BY_KEY[cmp.preset.value].question, classes=["scoresim-description"])
    variants = cmp.variants.value
    with solara.Row(gap="12px", style={"flex-wrap": "wrap"}):
        for k, letter in enumerate("ABC"):
            current = variants[k].scenario if k < len(variants) else "(none)"
            options = names + (["(none)"] if k == 2 else [])
            solara.Select(label=f"Run {letter}", values=options, value=current, disabled=running,
                          on_value=guarded(state, lambda v, k=k: cmp.set_variant(k, None if v == "(none)" else v)),
                          style={"min-width": "220px"})
    errors, set_errors = solara.use_state({})

    def setter(name: str, reactive: solara.Reactive, spec_path: str | None, lo: int, hi: int):
        def commit(text: str) -> None:
            try:
                value = spec_for(spec_path).parse(text) if spec_path else int(str(text).strip())
                if not lo <= value <= hi:
                    raise ValueError(f"{name}: must be from {lo:,} to {hi:,}, got {value}.")
            except ValueError as exc:
                set_errors({**errors, name: str(exc)})
                return
            set_errors({k: v for k, v in errors.items() if k != name})
            reactive.value = value
            cmp.result.value = None
        return commit

    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        solara.InputText("Seed (shared by all runs)", value=str(cmp.seed.value), disabled=running,
                         on_value=setter("seed", cmp.seed, None, 0, 2**63 - 1), error=bool(errors.get("seed")))
        solara.InputText("Citizens (same population)", value=str(cmp.n_citizens.value), disabled=running,
                         on_value=setter("citizens", cmp.n_citizens, POPULATION_PATH, 10, 200_000),
                         error=bool(errors.get("citizens")))
        solara.InputText("Steps", value=str(cmp.steps.value), disabled=running,
                         on_value=setter("steps", cmp.steps, RUN_LENGTH_PATH, 1, 2000), error=bool(errors.get("steps")))
    for message in errors.values():
        solara.Text(message, style={"color": "#b00020"})
    solara.SelectMultiple("Metrics to plot", values=cmp.metrics.value, all_values=list(METRICS),
                          on_value=cmp.metrics.set, disabled=running)
    with solara.Row(gap="8px", style={"align-items": "center"}):
        if running:
            solara.Button("Stop", icon_name="mdi-stop", color="warning", on_click=cmp.stop)
        else:
            solara.Button("Run comparison", icon_name="mdi-play", color="primary",
                          on_click=guarded(state, cmp.start))
        if running:
            solara.Text(f"Running: {100 * (cmp.progress.value or 0):.0f}%")
    if running:
        solara.ProgressLinear(value=100 * (cmp.progress.value or 0))
    if cmp.error.value:
        solara.Error(cmp.error.value)


@solara.component
def CompareResults(result: CompareResult, metrics: list[str]):
    names = list(result.frames)
    metrics = [m for m in metrics if m in result.frames[names[0]]] or ["trust_generalized"]
    same = result.same_start()
    note = (f"All {len(names)} runs: seed {result.seed}, {result.n_citizens:,} citizens, {result.steps} steps. "
            + ("They start from the same population (identical at step 0), so the differences come from the rules."
               if same else "Warning: the runs do not start from the same population."))
    (solara.Success if same else solara.Warning)(note, classes=["scoresim-crn"])
    key = [id(result), tuple(metrics)]
    FigureImage(lambda: plots.png(plots.compare_figure(result.frames, metrics, False, result.days_per_step)),
                key + ["side"], alt="comparison side by side", version=str(id(result)))
    FigureImage(lambda: plots.png(plots.compare_figure(result.frames, metrics, True, result.days_per_step)),
                key + ["diff"], alt="comparison differences", version=str(id(result)))
    table = result.summary(metrics)
    header = "| metric | " + " | ".join(table.columns[1:]) + " |"
    lines = [header, "|" + "---|" * len(table.columns)]
    for _, row in table.iterrows():
        lines.append(f"| {row['metric']} | " + " | ".join(f"{row[c]:.4g}" for c in table.columns[1:]) + " |")
    solara.Markdown(f"**At step {result.steps}:**\n\n" + "\n".join(lines))

    def png_all() -> bytes:
        images = [plots.png(plots.compare_figure(result.frames, metrics, d, result.days_per_step))
                  for d in (False, True)]
        title = f"scoresim comparison: {', '.join(names)}; seed {result.seed}"
        return plots.contact_sheet(images, columns=1, title=title)

    base = f"scoresim-compare-{'-vs-'.join(n.split(' ')[0] for n in names)}-seed{result.seed}"
    with solara.Row(gap="6px"):
        solara.FileDownload(result.long_csv, filename=f"{base}.csv", label="Data (CSV)", mime_type="text/csv")
        solara.FileDownload(png_all, filename=f"{base}.png", label="Figures (PNG)", mime_type="image/png")


@solara.component
def ComparePage(state: AppState):
    cmp = state.compare
    with solara.Column(gap="10px"):
        CompareSettings(state)
        if cmp.result.value is not None:
            CompareResults(cmp.result.value, list(cmp.metrics.value))
        elif cmp.progress.value is None:
            solara.Info("Pick a ready-made comparison or two or three scenarios, then press Run comparison.")


@solara.component
def AboutPage(state: AppState):
    def try_it(thing: about.ThingToTry) -> None:
        if thing.comparison:
            state.compare.load_preset(thing.comparison)
            state.tab.value = 1
            state.compare.start()
        else:
            state.load_setting(thing.scenario, dict(thing.overrides), notice=f"Loaded: {thing.title}. Press Play.")

    with solara.Column(classes=["scoresim-about"]):
        for title, text in about.SECTIONS:
            solara.Markdown(f"## {title}")
            if text:
                solara.Markdown(text)
            else:
                for thing in about.THINGS_TO_TRY:
                    with solara.Row(style={"align-items": "center"}, gap="12px"):
                        solara.Button(thing.title, color="primary", outlined=True,
                                      on_click=guarded(state, lambda thing=thing: try_it(thing)),
                                      classes=["scoresim-try"], style={"min-width": "360px"})
                        solara.Text(thing.text)


@solara.component
def Dashboard(scenario: str | None = None, seed: int | None = None):
    """The whole page. Its state, and so its model, is made here, once per page
    instance: every browser tab has its own."""
    state = solara.use_memo(lambda: AppState(**({"scenario": scenario} if scenario else {}),
                                             **({"seed": seed} if seed is not None else {})), [])
    DashboardBody(state)


@solara.component
def DashboardBody(state: AppState):
    """The four tabs of one state, with the player and the comparison runner."""
    solara.Style(CSS)
    solara.Title("scoresim: reputation scoring in the classroom")
    Player(state)
    CompareRunner(state)
    FrameDrawn(state)
    with solara.Column(classes=["scoresim-page"], gap="4px"):
        TabBar(state)
        label = TABS[state.tab.value]
        if label != "Follow a citizen":
            Messages(state)
        if label == "Run":
            RunPage(state)
        elif label == "Compare":
            ComparePage(state)
        elif label == "Follow a citizen":
            CitizenPage(state)
        else:
            AboutPage(state)


@solara.component
def TabBar(state: AppState):
    """The four tabs; only the chosen page is drawn below them (so a hidden page costs
    nothing while a run plays)."""
    with solara.v.Tabs(v_model=state.tab.value, on_v_model=lambda i: state.tab.set(int(i or 0)),
                       color="primary", show_arrows=True, class_="scoresim-tabs"):
        for k, label in enumerate(TABS):
            solara.v.Tab(children=[label], value=k, class_="scoresim-tab")
