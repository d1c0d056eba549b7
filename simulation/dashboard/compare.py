"""Scenarios side by side on common random numbers, and the ready-made workshop sets.

Every run of a comparison uses the same seed and the same population size, so the
model's separate random streams give all of them the same citizens, network and every
draw their rules do not change: differences come from the rules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..model import ReputationModel


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: a shipped scenario and optional dotted-path changes."""

    scenario: str
    overrides: tuple[tuple[str, Any], ...] = ()
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if not self.overrides:
            return self.scenario
        return self.scenario + " (" + ", ".join(f"{k.split('.')[-1]}={v}" for k, v in self.overrides) + ")"


@dataclass(frozen=True)
class Comparison:
    """A ready-made workshop comparison and the question it asks."""

    key: str
    title: str
    question: str
    variants: tuple[Variant, ...]
    metrics: tuple[str, ...]


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "error_rate", "Low vs high error rate",
        "Ten times more recording mistakes: who ends up wrongly listed, for how long, "
        "and what happens to approval?",
        (Variant("blacklist"), Variant("high_error")),
        ("wrongful_listings_active", "share_listed_innocent", "mean_wrongful_days", "share_listed",
         "approval_mean", "approval_low_income")),
    Comparison(
        "publication", "Publication on vs off",
        "Naming and shaming: does publishing the lists deter more, and what does it do to the ties "
        "of the listed?",
        (Variant("blacklist"), Variant("no_publication")),
        ("listed_degree_ratio", "isolated_share", "infraction_rate", "default_rate", "watched_mean",
         "trust_generalized")),
    Comparison(
        "friends", "Friends' scores on vs off",
        "When friends' scores count in your own, do people sort themselves by score?",
        (Variant("sesame"), Variant("friends_in_score")),
        ("score_assortativity", "cross_group_tie_share", "isolated_share", "mean_commercial_score",
         "gini_wealth", "approval_mean")),
    Comparison(
        "rule_sets", "Blacklist vs points vs commercial",
        "Three ways to score: which changes behaviour, which costs whom, and who approves?",
        (Variant("blacklist"), Variant("rongcheng"), Variant("sesame")),
        ("share_sanctioned", "infraction_rate", "trust_generalized", "gini_wealth", "approval_mean",
         "score_assortativity")),
    Comparison(
        "appeals", "Slow vs fast appeals",
        "More appeal capacity: do wrongful listings clear faster, and for whom?",
        (Variant("blacklist"), Variant("fast_appeals")),
        ("wrongful_listings_active", "mean_days_to_clear_wrongful", "appeals_pending",
         "share_listed_innocent", "approval_mean", "approval_low_income")),
    Comparison(
        "sanctions", "Mild vs harsh sanctions",
        "Harsher sanctions: more deterrence, or more inequality?",
        (Variant("blacklist"), Variant("harsh_sanctions")),
        ("default_rate", "infraction_rate", "gini_income", "wealth_ratio_urban_rural", "approval_mean",
         "trust_generalized")),
    Comparison(
        "control", "No scoring vs the patchwork",
        "Everything at once against the control: what do supporters and critics each see?",
        (Variant("baseline"), Variant("patchwork")),
        ("trust_generalized", "fraud_rate", "substandard_share", "share_sanctioned", "gini_wealth",
         "approval_mean")),
    Comparison(
        "speech", "Speech free vs speech scored",
        "When critical posts cost points and commercial score, do people stop speaking, and what "
        "does the town lose? Notice that nothing is banned and nobody is listed for a post, yet fewer "
        "posts are made from the first weeks, a few critics slip to low grades and fewer people join "
        "the commercial score; in the patchwork without the speech penalties people post exactly as "
        "often as with no rules at all.",
        (Variant("patchwork"), Variant("chilled_speech")),
        ("speech_rate", "share_low_grade", "opted_in_commercial", "mean_commercial_score",
         "approval_mean", "watched_mean")),
    Comparison(
        "redlist", "Redlist empty vs working",
        "Rewarding the exemplary: who gets the perks, and does anyone behave better for them? Notice "
        "that the redlist fills at once when its first year has passed, that approval then rises, "
        "more in the city than in the countryside, where perks are harder to use, and that "
        "volunteering does not change.",
        (Variant("blacklist"), Variant("redlist")),
        ("share_redlisted", "approval_mean", "approval_urban", "approval_rural", "prosocial_rate",
         "gini_income")),
)
COMPARISON_BY_KEY = {c.key: c for c in COMPARISONS}
DEFAULT_METRICS = ("trust_generalized", "gini_wealth", "share_listed", "wrongful_listings_active",
                   "approval_mean", "score_assortativity")


@dataclass(eq=False)
class CompareResult:
    """The metrics tables of each run, and the settings they shared."""

    frames: dict[str, pd.DataFrame]
    seed: int
    n_citizens: int
    steps: int
    days_per_step: int = 7
    scenario_yaml: dict[str, str] = field(default_factory=dict)

    def same_start(self) -> bool:
        """True when all runs began from the same population (identical step-0 wealth
        distribution and network), the promise of common random numbers."""
        firsts = [f.loc[0, ["gini_wealth", "wealth_ratio_urban_rural", "cross_group_tie_share"]]
                  for f in self.frames.values() if 0 in f.index]
        return all(a.equals(firsts[0]) for a in firsts)

    def long_csv(self) -> str:
        """All runs in one table: step, run, seed, then every metric."""
        parts = []
        for name, frame in self.frames.items():
            table = frame.copy()
            table.insert(0, "seed", self.seed)
            table.insert(0, "run", name)
            parts.append(table.reset_index())
        return pd.concat(parts, ignore_index=True).to_csv(index=False)

    def summary(self, metrics: list[str]) -> pd.DataFrame:
        """Each metric at the last step, per run, and each run's difference from the first."""
        names = list(self.frames)
        rows = []
        for m in metrics:
            row: dict[str, Any] = {"metric": m}
            base = float(self.frames[names[0]][m].iloc[-1])
            for name in names:
                row[name] = float(self.frames[name][m].iloc[-1])
            for name in names[1:]:
                row[f"{name} - {names[0]}"] = row[name] - base
            rows.append(row)
        return pd.DataFrame(rows)


def run_comparison(variants: list[Variant], seed: int, n_citizens: int, steps: int,
                   on_progress: Callable[[float], None] | None = None,
                   cancel: threading.Event | None = None) -> CompareResult | None:
    """Run each variant for ``steps`` steps from the same seed and population size,
    stepping them in turn; None if cancelled. Raises ScenarioError for bad settings."""
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError("choose different scenarios: each run in a comparison must differ.")
    models = [ReputationModel(v.scenario, rng=seed, **{**dict(v.overrides), "population.n_citizens": n_citizens})
              for v in variants]
    last = time.perf_counter()
    for step in range(steps):
        for model in models:
            if cancel is not None and cancel.is_set():
                return None
            model.step()
        now = time.perf_counter()
        if on_progress is not None and (now - last > 0.2 or step == steps - 1):
            on_progress((step + 1) / steps)
            last = now
    import yaml

    return CompareResult(
        frames={name: m.metrics_frame().copy() for name, m in zip(names, models, strict=True)},
        seed=seed, n_citizens=n_citizens, steps=steps,
        days_per_step=models[0].config.run.days_per_step,
        scenario_yaml={name: yaml.safe_dump(m.initial_config.model_dump(mode="json"), sort_keys=False)
                       for name, m in zip(names, models, strict=True)},
    )
