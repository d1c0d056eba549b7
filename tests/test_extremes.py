"""Long and extreme runs (issue 7): every metric at every step is finite and within its
documented range, for random valid scenarios and for the corners of the schema.

The ranges come from the unit tag that ends each definition in ``METRICS``: ``[0-1]``
shares and means of shares, ``[-1..1]`` correlations; ratios, counts and days are never
negative. Scores lie on their rule set's scale. A metric that is undefined at a step
(a mean over nobody, a ratio without a denominator) takes the fallback value its
definition states, never NaN; the confusion-matrix cells count citizens and add up to
each group's size.

Random scenarios are drawn by hypothesis (derandomized, so CI runs the same cases)
from the schema's own bounds: a handful of the model's numeric and true/false
parameters, each anywhere in its allowed range, ends included.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_parameters import NOT_MODEL_INPUTS, RICH, bounds, leaves

from simulation.catalog import load_scenario, scenario_names
from simulation.metrics import CONFUSION_CELLS, CONFUSION_COLUMNS, CONFUSION_GROUPS, METRICS
from simulation.model import ReputationModel
from simulation.overrides import ScenarioError, apply_overrides
from simulation.scenario import Scenario

UNIT = re.compile(r"\[([^\]]+)\]\.?$")
RANGES = {"0-1": (0.0, 1.0), "-1..1": (-1.0, 1.0)}
NON_NEGATIVE = {"ratio", "citizens", "appeals", "records", "days", "points"}
FALLBACKS = {
    # metric: (its value when undefined, the words its definition uses for that case)
    "transaction_success_rate": (0.0, "0 if no transaction was trusted"),
    "wealth_ratio_urban_rural": (1.0, "1 if either group is empty"),
    "share_listed_innocent": (0.0, "0 while nobody is listed"),
    "mean_wrongful_days": (0.0, "0 while there is none"),
    "mean_days_to_clear_wrongful": (0.0, "0 until one is removed"),
    "mean_commercial_score": (0.0, "0 while nobody uses it"),
    "substandard_share": (0.0, "0 without purchases"),
    "approval_urban": (0.0, "0 for an empty group"),
    "score_assortativity": (0.0, "0 without any score"),
    "listed_degree_ratio": (1.0, "1 if none"),
    "cross_group_tie_share": (0.0, "0 without active ties"),
}


def definition_unit(name: str) -> str:
    match = UNIT.search(METRICS[name])
    assert match, f"METRICS[{name!r}] does not end with a unit tag"
    return match.group(1)


def test_every_metric_has_a_unit_and_every_fallback_is_documented():
    for name in METRICS:
        assert definition_unit(name) in {*RANGES, *NON_NEGATIVE}, name
    for name, (_value, words) in FALLBACKS.items():
        assert words in METRICS[name], f"METRICS[{name!r}] does not say '{words}'"
    assert "0 for an empty group" in METRICS["approval_rural"]


def check_metrics(frame: pd.DataFrame, model: ReputationModel) -> None:
    """Every cell finite and in range; scores on their scale; the confusion matrix adds up."""
    cfg = model.initial_config
    n = model.citizens.n
    assert list(frame.columns) == [*METRICS, *CONFUSION_COLUMNS]
    assert list(frame.index) == list(range(len(frame)))
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        step, col = np.argwhere(bad)[0]
        raise AssertionError(f"{bad.sum()} cells not finite, first {frame.columns[col]} at step {step}: "
                             f"{values[step, col]!r}")
    for name in METRICS:
        column = frame[name]
        unit = definition_unit(name)
        low, high = RANGES.get(unit, (0.0, np.inf))
        tol = 1e-12
        outside = column[(column < low - tol) | (column > high + tol)]
        assert outside.empty, f"{name} [{unit}] outside [{low}, {high}] at steps {list(outside.index[:5])}: " \
                              f"{list(outside[:5])}"
    points = cfg.rule("points")
    top = points.max_points * (1 + 1e-12) if points else 0.0  # the cap holds from step 0 (a base above it is capped)
    assert frame["mean_points"].between(0.0, top).all(), frame["mean_points"].max()
    commercial = cfg.rule("commercial")
    score = frame["mean_commercial_score"]
    if commercial is None:
        assert (score == 0).all()
    else:
        nobody = frame["opted_in_commercial"] == 0
        assert (score[nobody] == 0).all()
        assert score[~nobody].between(commercial.min_score - 1e-9, commercial.max_score + 1e-9).all()
    assert (frame["wrongful_listings_active"] <= frame["share_listed"] * n + 1e-9).all()
    assert (frame["share_listed_innocent"] * frame["share_listed"] * n
            - frame["wrongful_listings_active"]).abs().max() < 1e-6
    cells = frame[CONFUSION_COLUMNS].to_numpy()
    assert (cells >= 0).all() and (cells == np.round(cells)).all()
    sizes = model.group_index.sizes
    for group in CONFUSION_GROUPS:
        total = frame[[f"cm_{group}_{cell}" for cell in CONFUSION_CELLS]].sum(axis=1)
        assert (total == sizes[group]).all(), group
    assert sizes["all"] == n


def run_checked(scenario: str | Scenario, seed: int = 1, **overrides) -> tuple[pd.DataFrame, ReputationModel]:
    model = ReputationModel(scenario, rng=seed, **overrides)
    frame = model.run()
    assert len(frame) == model.config.run.steps + 1
    check_metrics(frame, model)
    return frame, model


# --------------------------------------------------------------------------- random valid scenarios


NUMERIC = [(path, info, value) for path, info, value in leaves(Scenario, RICH)
           if path not in NOT_MODEL_INPUTS and not path.endswith(".kind")
           and path not in {"population.n_citizens", "run.steps"}
           and isinstance(value, (bool, int, float))]
"""Every plain number or switch of patchwork with all mechanisms on (population size
and run length are the extreme cases below)."""


@st.composite
def scenario_changes(draw) -> dict:
    chosen = draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=8, unique_by=lambda p: p[0]))
    out = {}
    for path, info, value in chosen:
        if isinstance(value, bool):
            out[path] = draw(st.booleans())
            continue
        low, high = bounds(info)
        if isinstance(value, int):
            out[path] = draw(st.integers(int(low), int(min(high, 10_000))))
        else:
            out[path] = draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
    return out


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(changes=scenario_changes(), seed=st.integers(0, 2**63 - 1))
def test_random_valid_scenarios_keep_every_metric_finite_and_in_range(changes, seed):
    overrides = {"population.n_citizens": 60, "run.steps": 25, **changes}
    try:
        scenario = apply_overrides(RICH, overrides)
    except ScenarioError:
        assume(False)  # a combination the schema refuses (e.g. commercial score bounds crossed)
    run_checked(scenario, seed=seed)


# --------------------------------------------------------------------------- the corners


def test_a_base_above_the_cap_starts_at_the_cap():
    """Found by the random scenarios: points started at ``base`` even above
    ``max_points`` and fell to the cap at step 1 without any deduction."""
    frame, _ = run_checked("rongcheng", **{"population.n_citizens": 60, "run.steps": 3, "rules.points.base": 3000.0,
                                           "behaviour.infractions_per_year": 0.0})
    assert frame["mean_points"].iloc[0] == 1100.0


def test_ten_thousand_steps():
    """50 citizens under every rule set for 10,000 weekly steps (about 190 years): no
    drift out of range, no overflow of wealth or counters."""
    frame, model = run_checked("patchwork", **{"population.n_citizens": 50, "run.steps": 10_000,
                                               "run.record_events": False})
    assert model.steps == 10_000
    assert np.isfinite(model.citizens.wealth).all() and (model.citizens.wealth >= 0).all()


@pytest.mark.parametrize("scenario", ["baseline", "patchwork", "blacklist", "rongcheng", "sesame",
                                      "honest_shanghai"])
def test_ten_citizens(scenario):
    """The smallest population the schema allows; groups may be empty."""
    frame, model = run_checked(scenario, **{"population.n_citizens": 10, "run.steps": 150})
    for degree in (0, 200):  # no ties at all, and more ties asked for than there are citizens
        run_checked(scenario, **{"population.n_citizens": 10, "run.steps": 30, "network.mean_degree": degree})


@pytest.mark.parametrize("network", [{"kind": "small_world", "mean_degree": 0},
                                     {"kind": "homophilous", "mean_degree": 0},
                                     {"kind": "homophilous", "mean_degree": 1}, "isolated-edge-list"],
                         ids=["small-world-0", "homophilous-0", "homophilous-1", "edge-list-isolated-nodes"])
def test_a_network_without_ties(network, tmp_path):
    if network == "isolated-edge-list":
        path = tmp_path / "nobody.txt"
        path.write_text("".join(f"citizen{i}\n" for i in range(40)), encoding="utf-8")
        network = {"kind": "edge_list", "path": str(path)}
    frame, model = run_checked("patchwork", network=network, **{"population.n_citizens": 40, "run.steps": 60,
                                                                "rules.commercial.weight_friends": 0.3,
                                                                "rules.commercial.tie_pruning": 0.05})
    assert model.ties.n_ties == 0
    assert (frame["isolated_share"] == 1).all()
    assert (frame["cross_group_tie_share"] == 0).all() and (frame["score_assortativity"] == 0).all()
    assert (frame["default_rate"] == 0).all()  # nobody to cheat


def everyone_watched_and_wrong() -> dict:
    changes = {"population.n_citizens": 200, "run.steps": 80, "regulators.courts.publishes_lists": True,
               "regulators.transport.publishes_lists": True}
    for dept in ("courts", "transport", "market", "tax", "public_security", "civil_affairs"):
        changes[f"regulators.{dept}.coverage"] = 1.0
        if dept != "civil_affairs":
            changes[f"regulators.{dept}.false_positive_rate"] = 1.0
    return changes


def test_everyone_recorded_wrongly_and_listed():
    frame, _ = run_checked("patchwork", **everyone_watched_and_wrong())
    assert frame["share_listed"].iloc[-1] > 0.5 and frame["share_listed_innocent"].iloc[-1] > 0.5
    assert frame["wrongful_listings_active"].iloc[-1] > 0


def test_nobody_opts_in():
    frame, _ = run_checked("patchwork", **{"population.n_citizens": 200, "run.steps": 60,
                                           "behaviour.opt_in_per_year": 0.0})
    assert (frame["opted_in_commercial"] == 0).all() and (frame["opted_in_rating"] == 0).all()
    assert (frame["mean_commercial_score"] == 0).all() and (frame["share_rated_bad"] == 0).all()


def test_everyone_opts_in():
    frame, _ = run_checked("patchwork", **{"population.n_citizens": 200, "run.steps": 60,
                                           "behaviour.opt_in_per_year": 52.0, "behaviour.opt_out_per_year": 0.0,
                                           "run.days_per_step": 365})
    assert frame["opted_in_commercial"].iloc[-1] == 1 and frame["opted_in_rating"].iloc[-1] == 1


def test_extreme_economy_and_time_scale():
    """Incomes spread as far as the schema allows, no savings, whole years per step."""
    frame, model = run_checked("patchwork", **{
        "population.n_citizens": 200, "run.steps": 200, "population.income_sigma": 3.0,
        "population.income_median": 1e6, "population.urban_income_premium": 10.0,
        "population.education_income_premium": 10.0, "population.wealth_days": 0.0,
        "behaviour.stake_days": 365.0, "behaviour.return_rate": 5.0, "behaviour.purchases_per_year": 365.0,
        "behaviour.transactions_per_tie_per_year": 365.0, "behaviour.infractions_per_year": 100.0,
        "run.days_per_step": 365, "run.truth_window_days": 1})
    assert np.isfinite(model.citizens.wealth).all()


def test_every_shipped_scenario_at_its_own_settings_is_in_range():
    for name in scenario_names():
        base = load_scenario(name)
        run_checked(base, **{"population.n_citizens": 300, "run.steps": min(base.run.steps, 60)})
