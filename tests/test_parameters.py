"""Every scenario parameter is read by the model: changing it changes some output.

The test walks the schema, so a parameter added later is checked without editing this
file; a parameter nothing reads makes it fail.
"""

from __future__ import annotations

import typing

import annotated_types
import pandas as pd
import pytest
from pydantic import BaseModel

from simulation import ReputationModel, load_scenario
from simulation.scenario import HomophilousNetwork, Scenario

NOT_MODEL_INPUTS = {"title", "description", "sources", "interventions", "network.kind"}
"""Text shown to people, lists handled by their own tests, and discriminators."""


def rich_scenario() -> Scenario:
    """Patchwork with every mechanism switched on, so every parameter has work to do."""
    overrides = {
        "rules.commercial.weight_friends": 0.3, "rules.commercial.tie_pruning": 0.05,
        "rules.commercial.weight_speech": 0.2, "rules.points.speech_deduction": 20.0,
        "rules.blacklist.court_list_days": 180, "rules.blacklist.firm_list_days": 90,
        "rules.blacklist.sanctions.loans": False,
        "regulators.transport.publishes_lists": True, "regulators.courts.publishes_lists": True,
        "regulators.courts.coverage": 0.3, "behaviour.rightful_appeal_share": 0.5,
        "population.n_citizens": 1000, "run.steps": 100,
    }
    for dept in ("courts", "transport", "market", "tax", "public_security"):
        overrides[f"regulators.{dept}.false_positive_rate"] = 0.05
    for dept in ("courts", "transport", "civil_affairs", "public_security"):
        overrides[f"regulators.{dept}.shares_records"] = True
    return ReputationModel("patchwork", rng=0, **overrides).config


def leaves(model: type[BaseModel], value: BaseModel, prefix: str = ""):
    """(dotted path, field info, current value) of every plain parameter."""
    for name, info in type(value).model_fields.items():
        path = f"{prefix}{name}"
        current = getattr(value, name)
        if isinstance(current, BaseModel):
            yield from leaves(type(current), current, path + ".")
        elif isinstance(current, list) and name == "rules":
            for rule in current:
                yield from leaves(type(rule), rule, f"{path}.{rule.kind}.")
        else:
            yield path, info, current


def bounds(info) -> tuple[float, float]:
    low, high = -float("inf"), float("inf")
    metadata = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        metadata += getattr(arg, "__metadata__", ())
    for item in metadata:
        for m in getattr(item, "metadata", [item]):
            if isinstance(m, (annotated_types.Ge, annotated_types.Gt)):
                low = float(getattr(m, "ge", getattr(m, "gt", low)))
            if isinstance(m, (annotated_types.Le, annotated_types.Lt)):
                high = float(getattr(m, "le", getattr(m, "lt", high)))
    return low, high


SPECIAL = {
    "population.education_shares": (0.2, 0.4, 0.4),
    "population.age_shares": (0.6, 0.2, 0.2),
    "rules.points.grade_thresholds": (1080.0, 1040.0, 990.0, 980.0, 900.0),
    "network.mean_degree": 4,
    "rules.commercial.min_score": 300.0,
    "rules.commercial.reward_threshold": 800.0,
    "run.truth_window_days": 100,
    "regulators.courts.appeal_success_rightful": 0.9,
    "regulators.transport.appeal_success_rightful": 0.9,
    "regulators.courts.appeal_success_wrongful": 0.0,
    "regulators.transport.appeal_success_wrongful": 0.0,
    "regulators.courts.failure_to_record_rate": 0.9,
    "regulators.transport.appeal_capacity_per_10k": 0.0,
    "run.spin_up": 40,
}


def changed(path: str, info, value):
    """A different valid value for the parameter at ``path``."""
    if path in SPECIAL:
        return SPECIAL[path]
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        low, high = bounds(info)
        candidate = value * 2 if value else (high if high < float("inf") else 1)
        if candidate > high:
            candidate = (value + low) / 2 if low > -float("inf") else value / 2
        return type(value)(candidate) if type(value)(candidate) != value else type(value)(value + 1)
    raise AssertionError(f"no rule to change {path}={value!r}")


RICH = rich_scenario()
PARAMETERS = [(p, i, v) for p, i, v in leaves(Scenario, RICH)
              if p not in NOT_MODEL_INPUTS and not p.endswith(".kind")]


def outputs(scenario: Scenario, **overrides) -> pd.DataFrame:
    return ReputationModel(scenario, rng=0, **overrides).run()


BASE = outputs(RICH)


@pytest.mark.parametrize(("path", "info", "value"), PARAMETERS, ids=[p for p, _, _ in PARAMETERS])
def test_parameter_changes_some_output(path, info, value):
    """Changing this parameter changes the metrics table or, for the event switch, the
    event record."""
    new = changed(path, info, value)
    model = ReputationModel(RICH, rng=0, **{path: new})
    df = model.run()
    if path == "run.record_events":
        assert model.events.count("recorded") == 0
        return
    assert not df.equals(BASE), f"{path}: {value!r} -> {new!r} changed no output"


@pytest.mark.parametrize("path", ["homophily", "group_by", "mean_degree"])
def test_homophilous_network_parameters_matter(path):
    """The homophilous network's parameters shape the network and so the outputs."""
    net = HomophilousNetwork()
    value = getattr(net, path)
    new = {"homophily": 0.2, "group_by": "education", "mean_degree": 4}[path]
    assert new != value
    scenario = load_scenario("patchwork")
    base = ReputationModel(scenario, rng=0, **{"network": {"kind": "homophilous"}, "population.n_citizens": 500,
                                               "run.steps": 30}).run()
    other = ReputationModel(scenario, rng=0, **{"network": {"kind": "homophilous", path: new},
                                                "population.n_citizens": 500, "run.steps": 30}).run()
    assert not base.equals(other)
