"""One browser tab's run: the model, what the dashboard keeps of it, and its exports.

Plain Python (no Solara), so it can be tested and benchmarked on its own. A
:class:`RunSession` owns one :class:`~simulation.model.ReputationModel`, built from a
shipped scenario, a seed and dotted-path overrides exactly as the CLI builds it, and
steps it under a lock so that a worker thread can advance it while the page reads
consistent :class:`Snapshot` copies.

Beside the chosen scenario a session runs its **no-rules twin**
(:meth:`~simulation.scenario.Scenario.without_rules`, the same seed), stepped in
lockstep: the same society and every draw the rules do not change, so the difference
between the two is the rules' doing. A scenario without rules (``baseline``) is its
own twin and no second model is run.

The dashboard never draws from the model's random streams (that would change the run
and break its reproduction by the CLI); the network sample uses its own generator.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import yaml

from .. import __version__
from ..catalog import load_scenario
from ..events import EVENT_CODES
from ..model import ReputationModel
from ..twin import no_rules_twin

HISTORY_ALL_MAX = 20_000
"""Populations up to this size keep every citizen's per-step history (standing,
listing, ties); larger ones keep it for the network sample and followed citizens."""
SAMPLE_SIZE = 160
"""Citizens drawn in the network view."""
SAMPLE_SEED_OFFSET = 0x5C0
"""The network sample's own generator is seeded with the run's seed plus this; it never
touches the model's streams."""
LIVE_RUNS: weakref.WeakSet = weakref.WeakSet()
"""Every :class:`RunSession` still alive (read by :mod:`.stats`): it empties as closed
tabs are released, which the load tests check."""
RELEASED: queue.SimpleQueue = queue.SimpleQueue()
"""The key of each :class:`RunSession` as it is released (put by a finalizer, which may
run inside the garbage collector and so takes no lock); the dashboard then drops what it
kept for runs no live session has (see ``plots.DrawerCache``)."""


# --------------------------------------------------------------------------- per-citizen history


def native_scores(model: ReputationModel) -> dict[str, np.ndarray]:
    """Each active rule set's own score per citizen (NaN where it scores nobody).

    The core keeps these as rule-set attributes but exposes per-step values only through
    ``citizen(i)``; reading the arrays here avoids a Python loop over citizens each step.
    """
    out: dict[str, np.ndarray] = {}
    for rule in model.active:
        if rule.kind == "points" and hasattr(rule, "points"):
            out["points"] = np.asarray(rule.points, dtype=np.float32)
            out["grade"] = np.asarray(rule.grade, dtype=np.float32)
        elif rule.kind == "commercial" and hasattr(rule, "scores"):
            out["commercial_score"] = np.where(rule.opted, rule.scores, np.nan).astype(np.float32)
        elif rule.kind == "rating" and hasattr(rule, "level"):
            out["rating_level"] = np.where(rule.opted, rule.level, np.nan).astype(np.float32)
    return out


class History:
    """What each tracked citizen looked like at every step: standing, native scores,
    listing, sanction, active ties, income, wealth and trust in others."""

    def __init__(self, model: ReputationModel, tracked: np.ndarray) -> None:
        self.tracked = np.asarray(tracked, dtype=np.int64)
        self._pos = {int(c): k for k, c in enumerate(self.tracked)}
        self.steps: list[int] = []
        self.columns: dict[str, list[np.ndarray]] = {}
        self.extra: dict[int, list[dict[str, float]]] = {}
        self.record(model)

    def _rows(self, model: ReputationModel) -> dict[str, np.ndarray]:
        standing = model.standing()
        n = model.citizens.n
        cols = {
            "standing": (standing if standing is not None else np.full(n, np.nan)).astype(np.float32),
            "listed": model.listed(),
            "sanctioned": model.cons.sanctioned.copy(),
            "ties": model.ties.degree().astype(np.int32),
            "income": model.citizens.income.astype(np.float32),
            "wealth": model.citizens.wealth.astype(np.float32),
            "trust": model.citizens.trust_generalized.astype(np.float32),
        }
        cols.update(native_scores(model))
        return cols

    def record(self, model: ReputationModel) -> None:
        cols = self._rows(model)
        self.steps.append(int(model.steps))
        for name, values in cols.items():
            self.columns.setdefault(name, []).append(values[self.tracked])
        for i, rows in self.extra.items():
            rows.append({"step": int(model.steps), **{k: float(v[i]) for k, v in cols.items()}})

    def follow(self, model: ReputationModel, i: int) -> None:
        """Start keeping the history of a citizen who is not tracked (from now on)."""
        if i not in self._pos and i not in self.extra:
            cols = self._rows(model)
            self.extra[i] = [{"step": int(model.steps), **{k: float(v[i]) for k, v in cols.items()}}]

    def has_full(self, i: int) -> bool:
        return i in self._pos

    def series(self, i: int) -> pd.DataFrame:
        """The citizen's history, indexed by step (empty if never tracked)."""
        if i in self._pos:
            k = self._pos[i]
            data = {name: [float(row[k]) for row in rows] for name, rows in self.columns.items()
                    if len(rows) == len(self.steps)}
            return pd.DataFrame(data, index=pd.Index(self.steps, name="step"))
        if i in self.extra:
            return pd.DataFrame(self.extra[i]).set_index("step")
        return pd.DataFrame(index=pd.Index([], name="step"))


class MetricsTable:
    """A model's metrics table (``model.metrics_frame()``), kept up to date step by step
    as one numeric block: the figures read it several times a second, and making it
    anew from Mesa's lists each time costs about 16 ms at 150 steps."""

    def __init__(self, model: ReputationModel) -> None:
        self.columns = list(model.datacollector.model_vars)
        self.rows = np.empty((256, len(self.columns)))
        self.n = 0
        self.extend(model)

    def extend(self, model: ReputationModel) -> None:
        """Add the rows the model has collected since the last call."""
        collected = model.datacollector.model_vars
        total = len(collected[self.columns[0]])
        if total > len(self.rows):
            self.rows = np.concatenate([self.rows, np.empty((max(total, 2 * len(self.rows)) - len(self.rows),
                                                             len(self.columns)))])
        for k in range(self.n, total):
            self.rows[k] = [collected[c][k] for c in self.columns]
        self.n = total

    def frame(self) -> pd.DataFrame:
        """The table as ``model.metrics_frame()`` gives it (a copy)."""
        return pd.DataFrame(self.rows[:self.n].copy(), columns=self.columns, index=pd.RangeIndex(self.n, name="step"))


# --------------------------------------------------------------------------- network sample


@dataclass(eq=False)
class NetworkSample:
    """A fixed set of citizens drawn as a snowball over the initial network, with a
    fixed layout (positions in [0, 1]^2), so that the picture changes only as scores
    change and ties are cut."""

    nodes: np.ndarray
    pos: np.ndarray

    @classmethod
    def draw(cls, model: ReputationModel, size: int = SAMPLE_SIZE) -> NetworkSample:
        n = model.citizens.n
        rng = np.random.default_rng(model.seed + SAMPLE_SEED_OFFSET)
        t = model.ties
        a = t.active
        u, v = t.u[a].astype(np.int64), t.v[a].astype(np.int64)
        if n <= size:
            nodes = np.arange(n)
        else:
            adj_order = np.argsort(np.concatenate([u, v]), kind="stable")
            ends = np.concatenate([v, u])[adj_order]
            starts = np.searchsorted(np.concatenate([u, v])[adj_order], np.arange(n + 1))
            chosen: list[int] = []
            seen = np.zeros(n, bool)
            frontier: list[int] = []
            while len(chosen) < size:
                if not frontier:
                    start = int(rng.integers(n))
                    if seen[start]:
                        continue
                    frontier = [start]
                    seen[start] = True
                node = frontier.pop(0)
                chosen.append(node)
                neighbours = ends[starts[node]:starts[node + 1]]
                rng.shuffle(neighbours := neighbours.copy())
                for m in neighbours[:3]:  # a thin snowball: a few contacts each, many branches
                    if not seen[m]:
                        seen[m] = True
                        frontier.append(int(m))
            nodes = np.array(sorted(chosen[:size]))
        g = nx.Graph()
        g.add_nodes_from(range(len(nodes)))
        index = {int(c): k for k, c in enumerate(nodes)}
        inside = np.isin(u, nodes) & np.isin(v, nodes)
        g.add_edges_from((index[int(x)], index[int(y)]) for x, y in zip(u[inside], v[inside], strict=True))
        layout = nx.spring_layout(g, seed=int(rng.integers(2**31)), iterations=60)
        pos = np.array([layout[k] for k in range(len(nodes))])
        lo, hi = pos.min(axis=0), pos.max(axis=0)
        pos = (pos - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
        return cls(nodes=nodes, pos=pos)


# --------------------------------------------------------------------------- snapshots


@dataclass(eq=False)
class Snapshot:
    """A consistent copy of what the page shows at one step."""

    step: int
    target: int
    frame: pd.DataFrame
    twin_frame: pd.DataFrame | None  # the no-rules twin's metrics; None when the run is its own twin
    standing: np.ndarray | None
    listed: np.ndarray
    sanctioned: np.ndarray
    urban: np.ndarray
    income_tercile: np.ndarray
    education: np.ndarray
    grade: np.ndarray | None
    sample_nodes: np.ndarray
    sample_pos: np.ndarray
    sample_edges: np.ndarray  # pairs of positions in sample_nodes, active ties now
    kinds: tuple[str, ...]
    n_citizens: int
    session_id: int = 0


# --------------------------------------------------------------------------- the session


@dataclass(eq=False)
class RunSession:
    """A model run owned by one browser tab. Compared by identity: a rebuilt session
    with the same settings is a new run (solara only re-renders on a changed value)."""

    scenario_name: str
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)
    target: int | None = None

    def __post_init__(self) -> None:
        base = load_scenario(self.scenario_name)
        self.model = ReputationModel(base, rng=self.seed, **self.overrides)
        self.twin: ReputationModel | None = no_rules_twin(self.model)
        """The no-rules twin, stepped with the model; None when the scenario has no rules."""
        if self.target is None:
            self.target = self.model.config.run.steps
        self.lock = threading.RLock()
        self.sample = NetworkSample.draw(self.model)
        n = self.model.citizens.n
        tracked = np.arange(n) if n <= HISTORY_ALL_MAX else self.sample.nodes
        self.history = History(self.model, tracked)
        self.twin_history = History(self.twin, tracked) if self.twin is not None else None
        self.table = MetricsTable(self.model)
        self.twin_table = MetricsTable(self.twin) if self.twin is not None else None
        self._snapshot: Snapshot | None = None
        self.step_seconds = 0.0  # running mean wall time of one step
        self.key = (self.scenario_name, int(self.model.seed),
                    tuple(sorted((k, repr(v)) for k, v in self.overrides.items())))
        """What fixes this run: two sessions with the same key are at the same state at the
        same step (the model draws only from its seeded streams)."""
        LIVE_RUNS.add(self)
        weakref.finalize(self, RELEASED.put, self.key)

    # ---------------------------------------------------------------- stepping

    @property
    def steps(self) -> int:
        return int(self.model.steps)

    @property
    def finished(self) -> bool:
        return self.steps >= self.target

    def step(self, n: int = 1) -> int:
        """Advance up to ``n`` steps (never past the target); return how many were run."""
        done = 0
        with self.lock:
            for _ in range(n):
                if self.model.steps >= self.target:
                    break
                t0 = time.perf_counter()
                self.model.step()
                self.history.record(self.model)
                self.table.extend(self.model)
                if self.twin is not None:
                    self.twin.step()
                    self.twin_history.record(self.twin)
                    self.twin_table.extend(self.twin)
                dt = time.perf_counter() - t0
                self.step_seconds = dt if self.step_seconds == 0 else 0.8 * self.step_seconds + 0.2 * dt
                done += 1
        return done

    def follow(self, i: int) -> None:
        with self.lock:
            self.history.follow(self.model, i)
            if self.twin is not None:
                self.twin_history.follow(self.twin, i)

    # ---------------------------------------------------------------- reading

    def snapshot(self) -> Snapshot:
        """The state now (cached per step)."""
        with self.lock:
            m = self.model
            if self._snapshot is not None and self._snapshot.step == m.steps and self._snapshot.target == self.target:
                return self._snapshot
            t = m.ties
            nodes = self.sample.nodes
            index = np.full(m.citizens.n, -1, np.int64)
            index[nodes] = np.arange(len(nodes))
            a = t.active
            iu, iv = index[t.u[a]], index[t.v[a]]
            keep = (iu >= 0) & (iv >= 0)
            scores = native_scores(m)
            standing = m.standing()
            self._snapshot = Snapshot(
                step=int(m.steps), target=int(self.target), frame=self.table.frame(),
                twin_frame=None if self.twin is None else self.twin_table.frame(),
                standing=None if standing is None else standing.copy(),
                listed=m.listed().copy(), sanctioned=m.cons.sanctioned.copy(),
                urban=m.citizens.urban.copy(), income_tercile=m.citizens.income_tercile.copy(),
                education=m.citizens.education.copy(),
                grade=scores.get("grade"), sample_nodes=nodes, sample_pos=self.sample.pos,
                sample_edges=np.column_stack([iu[keep], iv[keep]]), kinds=m.config.active_kinds,
                n_citizens=int(m.citizens.n), session_id=id(self))
            return self._snapshot

    def citizen(self, i: int) -> tuple[dict, pd.DataFrame]:
        """A citizen's attributes and event record, and their per-step history."""
        with self.lock:
            return self.model.citizen(i), self.history.series(i)

    def twin_citizen(self, i: int) -> tuple[dict, pd.DataFrame] | None:
        """The same citizen in the no-rules twin (attributes, events, history); None when
        the run is its own twin."""
        if self.twin is None:
            return None
        with self.lock:
            return self.twin.citizen(i), self.twin_history.series(i)

    def who(self, event: str) -> np.ndarray:
        with self.lock:
            return self.model.events.who(event)

    # ---------------------------------------------------------------- exports

    def csv_text(self, label: str | None = None) -> str:
        """The metrics table as the CLI's ``run --out FILE.csv`` writes it (index 'step',
        then 'seed' and 'scenario' columns, then every metric)."""
        with self.lock:
            table = self.model.metrics_frame().copy()
            seed = self.model.seed
        table.insert(0, "scenario", label or self.scenario_name)
        table.insert(0, "seed", seed)
        return table.to_csv()

    def scenario_yaml(self, filename: str = "scenario.yaml") -> str:
        """The scenario exactly as run, in the CLI's re-runnable form, with ``run.steps``
        set to the steps run so far: ``python -m simulation run FILE --seed S`` repeats
        this run and writes the same numbers as :meth:`csv_text`."""
        with self.lock:
            data = self.model.initial_config.model_dump(mode="json")
            seed, steps = self.model.seed, self.model.steps
        if steps > 0:
            data.setdefault("run", {})["steps"] = int(steps)
        network = data.get("network")
        if isinstance(network, dict) and network.get("kind") == "edge_list" and network.get("path"):
            network["path"] = str(Path(network["path"]).resolve())
        sets = " ".join(f"{k}={v}" for k, v in sorted(self.overrides.items()))
        header = [
            f"Scenario '{self.scenario_name}' exactly as run by the scoresim {__version__} dashboard "
            f"with seed {seed}, for {steps} steps.",
            f"Changed from the shipped scenario: {sets}" if sets else "Unchanged from the shipped scenario.",
            "Re-run it (identical numbers) with:",
            f"  python -m simulation run {filename} --seed {seed} --out {Path(filename).stem}.csv",
        ]
        comment = "".join(f"# {line}\n" for line in header)
        return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def base_filename(self) -> str:
        return f"scoresim-{self.scenario_name}-seed{self.seed}-step{self.steps}"


EVENT_LABELS: dict[str, str] = {
    "recorded": "recorded (true)",
    "recorded_wrongly": "recorded wrongly",
    "listed": "listed",
    "listed_wrongly": "listed wrongly",
    "appealed": "appealed",
    "delisted_appeal": "removed on appeal",
    "delisted_expiry": "listing expired",
    "ties_cut": "ties cut",
    "opted_in_commercial": "joined commercial score",
    "opted_out_commercial": "left commercial score",
    "opted_in_rating": "joined rating app",
    "opted_out_rating": "left rating app",
    "grade_change": "grade changed",
    "redlisted": "redlisted",
    "judgement": "court judgement",
    "complied": "complied with judgement",
}
"""Plain words for each event code of the model's event log."""

assert set(EVENT_LABELS) == set(EVENT_CODES), "every event code needs a label"
