"""One browser tab's state: reactive values and the actions that change them.

An :class:`AppState` is made inside the page component (``solara.use_memo``), never at
module level, so every browser tab has its own model, its own settings and its own
comparison. Actions never raise into the page: a value that cannot be used becomes a
message (``error`` or a control's own message), never a traceback.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

import solara

from ..catalog import load_scenario, scenario_names
from ..overrides import ScenarioError, apply_overrides
from .compare import COMPARISON_BY_KEY, DEFAULT_METRICS, CompareResult, Variant
from .params import NO_FILES, POPULATION_PATH, check_override, shipped_only
from .session import RunSession

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "blacklist"
DEFAULT_SEED = 1
SPEEDS = (1, 2, 5, 10, 20, 50, 0)
"""Steps per second offered; 0 means as fast as the machine allows."""
BUILD_IN_BACKGROUND = 200_000
"""Populations above this size are built in a background thread (a million takes seconds)."""
TABS = ("Run", "Compare", "Follow a citizen", "About this model")


def speed_label(speed: float) -> str:
    return "as fast as possible" if speed == 0 else f"{speed:g} steps/s"


class CompareState:
    """The Compare page: which runs, on what population, and the result."""

    def __init__(self) -> None:
        self.variants: solara.Reactive[list[Variant]] = solara.reactive(
            [Variant("blacklist"), Variant("high_error")])
        self.preset: solara.Reactive[str | None] = solara.reactive("error_rate")
        self.seed = solara.reactive(DEFAULT_SEED)
        self.n_citizens = solara.reactive(2000)
        self.steps = solara.reactive(100)
        self.metrics: solara.Reactive[list[str]] = solara.reactive(
            list(COMPARISON_BY_KEY["error_rate"].metrics))
        self.result: solara.Reactive[CompareResult | None] = solara.reactive(None)
        self.progress: solara.Reactive[float | None] = solara.reactive(None)
        self.error: solara.Reactive[str | None] = solara.reactive(None)
        self.run_id = solara.reactive(0)
        self.stop_event = threading.Event()

    def load_preset(self, key: str) -> None:
        comparison = COMPARISON_BY_KEY[key]
        self.preset.value = key
        self.variants.value = list(comparison.variants)
        self.metrics.value = list(comparison.metrics)
        self.result.value = None
        self.error.value = None

    def set_variant(self, index: int, scenario: str | None) -> None:
        if scenario is not None and (refused := shipped_only(scenario)) is not None:
            self.error.value = refused
            return
        variants = list(self.variants.value)
        if scenario is None:
            if index < len(variants) and len(variants) > 2:
                variants.pop(index)
        elif index < len(variants):
            variants[index] = Variant(scenario)
        else:
            variants.append(Variant(scenario))
        self.variants.value = variants
        self.preset.value = None
        self.result.value = None

    def start(self) -> None:
        names = [v.name for v in self.variants.value]
        if len(set(names)) != len(names):
            self.error.value = "Choose different scenarios: each run in a comparison must differ."
            return
        if not self.metrics.value:
            self.metrics.value = list(DEFAULT_METRICS)
        self.error.value = None
        self.stop_event = threading.Event()
        self.progress.value = 0.0
        self.run_id.value += 1

    def stop(self) -> None:
        self.stop_event.set()


class AppState:
    """Everything one browser tab shows and changes."""

    def __init__(self, scenario: str = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED,
                 overrides: dict[str, Any] | None = None) -> None:
        self.scenario = solara.reactive(scenario)
        self.seed = solara.reactive(seed)
        self.overrides: solara.Reactive[dict[str, Any]] = solara.reactive(dict(overrides or {}))
        self.run_length: solara.Reactive[int | None] = solara.reactive(None)
        self.session: solara.Reactive[RunSession | None] = solara.reactive(None)
        self.error: solara.Reactive[str | None] = solara.reactive(None)
        self.notice: solara.Reactive[str | None] = solara.reactive(None)
        self.control_errors: solara.Reactive[dict[str, str]] = solara.reactive({})
        self.building: solara.Reactive[str | None] = solara.reactive(None)
        self.version = solara.reactive(0)
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(10.0)
        self.rate: float | None = None  # measured steps/s while playing (shown with each frame)
        self.frame_drawn = threading.Event()  # set by the page after drawing a frame
        self.progress = solara.reactive(0)  # bumped while playing: refreshes the step counter only
        self.shown = None  # the Snapshot whose figures the painter drew last (while playing)
        self.difference = solara.reactive(False)  # time series as scenario minus its no-rules twin
        self.live_figures: dict = {}  # this tab's time-series figures (timeseries.LiveFigure) by panel
        self.tab = solara.reactive(0)
        self.followed: solara.Reactive[int | None] = solara.reactive(None)
        self.colour_by = solara.reactive("score")
        self.compare = CompareState()
        self.rebuild()

    # ---------------------------------------------------------------- building

    def rebuild(self, notice: str | None = None) -> None:
        """A fresh model from the current settings (step 0)."""
        self.playing.value = False
        overrides = dict(self.overrides.value)
        n = int(overrides.get(POPULATION_PATH, 0) or 0)
        args = (self.scenario.value, int(self.seed.value), overrides, self.run_length.value)
        if n > BUILD_IN_BACKGROUND:
            self.building.value = f"Building a population of {n:,} citizens ..."
            threading.Thread(target=self._build, args=(*args, notice), daemon=True).start()
        else:
            self._build(*args, notice)

    def _build(self, scenario: str, seed: int, overrides: dict, run_length: int | None,
               notice: str | None) -> None:
        try:
            # never a path from the page, never a file read (the controls check this too)
            refused = shipped_only(scenario)
            if refused is None and apply_overrides(load_scenario(scenario), overrides).network.kind == "edge_list":
                refused = NO_FILES
            if refused is not None:
                raise ScenarioError(refused)
            session = RunSession(scenario, seed, overrides, run_length)
        except (ScenarioError, ValueError, MemoryError) as exc:
            self.error.value = str(exc)
        except Exception as exc:  # never a traceback on the page; the server log has it
            log.exception("building the model failed")
            self.error.value = f"The model could not be built: {type(exc).__name__}: {exc}"
        else:
            self.session.value = session
            self.error.value = None
            self.notice.value = notice
            if self.followed.value is not None and self.followed.value >= session.model.citizens.n:
                self.followed.value = None
        finally:
            self.building.value = None
            self.version.value += 1

    # ---------------------------------------------------------------- settings

    def set_scenario(self, name: str) -> None:
        if name not in scenario_names():
            self.error.value = f"no shipped scenario named '{name}'."
            return
        kept = {k: v for k, v in self.overrides.value.items() if k == POPULATION_PATH}
        changed = len(kept) != len(self.overrides.value)
        self.scenario.value = name
        self.overrides.value = kept
        self.control_errors.value = {}
        self.rebuild("Other changed values were reset to this scenario's own." if changed else None)

    def set_seed(self, text: str | int | None) -> None:
        try:
            seed = int(str(text).strip())
            if not 0 <= seed < 2**63:
                raise ValueError
        except ValueError:
            self._control_error("seed", f"The seed must be a whole number from 0 to 2**63-1, got {text!r}.")
            return
        self._control_error("seed", None)
        self.seed.value = seed
        self.rebuild()

    def new_seed(self) -> None:
        self.set_seed(random.SystemRandom().randrange(1, 1_000_000))

    def set_value(self, path: str, value: Any) -> bool:
        """Set one scenario value (validated against the schema); False and a message
        next to the control if it is refused."""
        message = check_override(self.scenario.value, self.overrides.value, path, value)
        if message is not None:
            self._control_error(path, message)
            return False
        self._control_error(path, None)
        base = load_scenario(self.scenario.value)
        overrides = dict(self.overrides.value)
        from .params import value_at

        try:
            same = value_at(base, path) == value
        except (KeyError, AttributeError):
            same = False
        if same:
            overrides.pop(path, None)
        else:
            overrides[path] = value
        self.overrides.value = overrides
        self.rebuild()
        return True

    def set_run_length(self, steps: int) -> None:
        """The step at which play stops; changing it keeps the run going (it does not
        change the model, only how far it is run)."""
        self.run_length.value = steps
        session = self.session.value
        if session is not None:
            with session.lock:
                session.target = steps
                session._snapshot = None
        self.version.value += 1

    def _control_error(self, key: str, message: str | None) -> None:
        errors = dict(self.control_errors.value)
        if message is None:
            errors.pop(key, None)
        else:
            errors[key] = message
        self.control_errors.value = errors

    def load_setting(self, scenario: str, overrides: dict[str, Any], notice: str | None = None) -> None:
        """Load a scenario with changed values (a 'thing to try') and show the Run page."""
        refused = shipped_only(scenario)
        if refused is not None:
            self.error.value = refused
            return
        population = {k: v for k, v in self.overrides.value.items() if k == POPULATION_PATH}
        merged = {**population, **overrides}
        for path, value in merged.items():
            message = check_override(scenario, {}, path, value)
            if message is not None:
                self.error.value = message
                return
        self.scenario.value = scenario
        self.overrides.value = merged
        self.control_errors.value = {}
        self.tab.value = 0
        self.rebuild(notice)

    # ---------------------------------------------------------------- running

    def play(self) -> None:
        session = self.session.value
        if session is None or self.building.value:
            return
        if session.finished:
            self.notice.value = ("The run has reached its length. Raise the run length to go on, "
                                 "or press Reset to start again.")
            return
        self.notice.value = None
        self.rate = None
        self.playing.value = True

    def pause(self) -> None:
        self.playing.value = False

    def step_once(self) -> None:
        session = self.session.value
        if session is None or self.playing.value:
            return
        if session.finished:
            self.notice.value = "The run has reached its length. Raise the run length to go on."
            return
        self._safe_step(session, 1)
        self.shown = None
        self.version.value += 1

    def reset(self) -> None:
        self.rebuild()

    def _safe_step(self, session: RunSession, n: int) -> int:
        try:
            return session.step(n)
        except Exception as exc:  # a model failure stops the run with a message
            log.exception("step failed")
            self.playing.value = False
            self.error.value = f"The model stopped at step {session.steps}: {type(exc).__name__}: {exc}"
            return 0

    def follow(self, citizen: int | None, show: bool = True) -> None:
        session = self.session.value
        if citizen is None or session is None:
            return
        if not 0 <= citizen < session.model.citizens.n:
            self._control_error("citizen", f"Citizens are numbered 0 to {session.model.citizens.n - 1}.")
            return
        self._control_error("citizen", None)
        session.follow(citizen)
        self.followed.value = citizen
        if show:
            self.tab.value = 2
