"""A society at rest before the rules begin: the no-rules spin-up and its cache.

Before step 0 a model runs its scenario with no rule set (``Scenario.without_rules``)
for ``run.spin_up`` steps, so that wealth, trust and firms have reached the rest state
of the society's own mechanisms; rule sets, their records and lists start at step 0.
What a run shows after step 0 is then the rules' doing, not the model settling.

``auto`` runs the spin-up in windows of :data:`WINDOW` steps until no watched quantity
(:data:`WATCHED`) moved by more than :data:`TOLERANCE` (or three standard errors of its
window means, on a small population) between two windows, or :data:`MAX_STEPS` passed.
The spin-up is part of the run: the same seed gives the same rest state, and so do two
scenarios that differ only in their rules (common random numbers). Rest states are kept
in this process (:class:`RestCache`), keyed by everything they depend on, so that the
dashboard, the Compare page, a scenario's no-rules twin and a sweep's runs do not
compute one twice.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import metrics
from .experiment import digest

if TYPE_CHECKING:
    from .behaviour import Acts
    from .model import ReputationModel
    from .scenario import Scenario

WINDOW = 50
"""Steps per window of the automatic stopping rule [steps]."""
TOLERANCE = 0.0025
"""Largest change of a watched quantity's window mean that counts as at rest. With the
slowest relaxation of the defaults (about 100 steps), it leaves a drift of about 0.005
over the next 200 steps."""
MAX_STEPS = 2000
"""Longest automatic spin-up [steps] (about 38 years at 7 days a step)."""
SAMPLE = 20_000
"""Citizens (every k-th) whose state the stopping rule reads: enough for three decimals."""
WATCHED = ("trust_generalized", "trust_in_firms", "gini_wealth", "gini_income", "fraud_rate")
"""The quantities the automatic stopping rule waits on (the stationarity check's own)."""


def _watched(model: ReputationModel, acts: Acts) -> np.ndarray:
    """The watched quantities this step, from every k-th citizen."""
    c = model.citizens
    k = max(1, c.n // SAMPLE)
    return np.array([c.trust_generalized[::k].mean(), c.trust_firms[::k].mean(),
                     metrics.gini_of_sorted(np.sort(c.wealth[::k])),
                     metrics.gini_of_sorted(np.sort(c.income[::k])),
                     (acts.victim[::k] | acts.substandard[::k]).mean()])


def at_rest(previous: np.ndarray, last: np.ndarray) -> bool:
    """Whether two consecutive windows of watched values (rows: steps) agree: each
    quantity's mean moved by at most TOLERANCE or three standard errors."""
    change = np.abs(last.mean(axis=0) - previous.mean(axis=0))
    noise = 3.0 * np.sqrt((previous.var(axis=0) + last.var(axis=0)) / len(last))
    return bool(np.all(change <= np.maximum(TOLERANCE, noise)))


def spin_up(model: ReputationModel, setting: int | str) -> int:
    """Run ``model`` (built, with no rule set in force) with no rules for ``setting``
    steps, or until at rest for ``auto``; returns the number of steps run. The steps are
    numbered as a run's, and their stamps then moved back so that the last one is step 0."""
    fixed = None if setting == "auto" else int(setting)
    limit = MAX_STEPS if fixed is None else fixed
    values = []
    while model.steps < limit:
        model.steps += 1
        acts, _ = model.advance()
        if fixed is not None:
            continue
        values.append(_watched(model, acts))
        n = len(values)
        if n >= 2 * WINDOW and n % WINDOW == 0 and at_rest(np.array(values[-2 * WINDOW:-WINDOW]),
                                                           np.array(values[-WINDOW:])):
            break
    done = model.steps
    model.citizens.shift_clock(-done)
    model.steps = 0
    return done


def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def rest_key(config: Scenario, seed: int) -> str:
    """What a rest state depends on: the seed and the scenario without its rules, title,
    texts, interventions and run length (and an edge list's contents, not only its path)."""
    data = config.without_rules().model_dump(mode="json", exclude={"title", "description", "sources",
                                                                   "interventions"})
    data["run"].pop("steps")
    data["run"].pop("record_events")
    if data["network"]["kind"] == "edge_list":
        data["network"]["contents"] = _file_digest(data["network"]["path"])
    return digest([seed, data])


@dataclass
class RestState:
    """What the spin-up leaves: the people, firms and ties, the departments' state and
    every stream's position."""

    citizens: object
    firms: object
    ties: object
    departments: dict[str, tuple]
    streams: dict[str, dict]
    steps: int


class RestCache:
    """Rest states of this process, least recently used dropped first once they hold
    more than ``capacity`` citizens in all. Models that draw ahead on a second core
    (large populations) are not cached: their streams are not plain generators."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self._states: OrderedDict[str, RestState] = OrderedDict()

    def get(self, key: str) -> RestState | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, key: str, state: RestState) -> None:
        if state.citizens.n > self.capacity:
            return
        self._states[key] = state
        while sum(s.citizens.n for s in self._states.values()) > self.capacity:
            self._states.popitem(last=False)

    def clear(self) -> None:
        self._states.clear()


CACHE = RestCache()


def capture(model: ReputationModel) -> RestState:
    """A copy of ``model``'s rest state, taken right after its spin-up."""
    return RestState(citizens=copy.deepcopy(model.citizens), firms=copy.deepcopy(model.firms),
                     ties=copy.deepcopy(model.ties),
                     departments={name: (r.appeal_queue, dict(r.counts))
                                  for name, r in model.regulators.items()},
                     streams={name: g.bit_generator.state for name, g in model.streams.items()},
                     steps=model.spin_up_steps)


def restore(model: ReputationModel, state: RestState) -> None:
    """Put a copy of ``state`` into ``model`` (built up to its departments)."""
    model.citizens = copy.deepcopy(state.citizens)
    model.firms = copy.deepcopy(state.firms)
    model.ties = copy.deepcopy(state.ties)
    for name, (queue, counts) in state.departments.items():
        model.regulators[name].appeal_queue = queue
        model.regulators[name].counts = dict(counts)
    for name, g in model.streams.items():
        g.bit_generator.state = state.streams[name]
    model.spin_up_steps = state.steps
