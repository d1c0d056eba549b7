"""Scenario validation: bad input gets a message naming the field and what is allowed;
good input of any shape runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import ReputationModel, ScenarioError, load_scenario
from simulation.metrics import METRICS
from simulation.overrides import validate_scenario


def error_of(data) -> str:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data)
    return str(err.value)


@pytest.mark.parametrize(("data", "expected"), [
    ({"populaton": {}}, "populaton: unknown field. Did you mean 'population'?"),
    ({"population": {"n_citizen": 5}}, "population.n_citizen: unknown field. Did you mean 'n_citizens'?"),
    ({"population": {"n_citizens": 3}}, "population.n_citizens: Input should be greater than or equal to 10 (got 3)"),
    ({"population": {"n_citizens": "many"}}, "population.n_citizens: Input should be a valid integer"),
    ({"population": {"urban_share": 1.5}}, "less than or equal to 1"),
    ({"population": {"urban_share": math.nan}}, "population.urban_share"),
    ({"behaviour": {"stake_days": math.inf}}, "behaviour.stake_days"),
    ({"population": {"education_shares": [0.5, 0.5, 0.5]}}, "population.education_shares must sum to 1"),
    ({"rules": [{"kind": "points", "grade_thresholds": [1000, 1030, 960, 850, 600]}]},
     "grade_thresholds must be strictly decreasing"),
    ({"rules": [{"kind": "sesame"}]}, "'none', 'blacklist', 'points', 'commercial', 'rating'"),
    ({"rules": [{"kind": "points"}, {"kind": "points"}]}, "each rule-set kind may appear once"),
    ({"rules": [{"kind": "none"}, {"kind": "points"}]}, "'none' is the control"),
    ({"rules": [{"kind": "points", "bse": 900}]}, "rules.0.points.bse: unknown field. Did you mean 'base'?"),
    ({"rules": [{"kind": "commercial", "reward_threshold": 200}]}, "min_score < reward_threshold"),
    ({"network": {"kind": "small_world", "homophily": 0.5}}, "network.small_world.homophily: unknown field"),
    ({"regulators": {"transport": {"failure_to_record_rate": 0.1}}},
     "regulators.transport.failure_to_record_rate: unknown field"),
    ({"interventions": [{"step": 5, "path": "regulators.courts.covrage", "value": 0.5}]},
     "Did you mean 'coverage'?"),
    ({"interventions": [{"step": 5, "path": "regulators.courts.coverage", "value": 5}]},
     "less than or equal to 1"),
    ({"interventions": [{"step": 5, "path": "population.n_citizens", "value": 50}]},
     "cannot change during a run"),
    ({"interventions": [{"step": 5, "path": "rules.points.base", "value": 900}]},
     "no rule set of kind 'points'"),
    ([1, 2], "expected a mapping"),
])
def test_bad_scenarios_name_field_and_allowed_values(data, expected):
    message = error_of(data)
    assert expected in message
    assert "Traceback" not in message
    assert "https://errors.pydantic.dev" not in message


def test_yaml_with_python_tag_is_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("population: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_non_utf8_and_huge_files_are_refused(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(latin)
    huge = tmp_path / "huge.yaml"
    huge.write_text("title: x\n" + "#" * 2_000_000)
    with pytest.raises(ScenarioError, match="limit"):
        load_scenario(huge)


def test_unknown_scenario_name_suggests_the_close_one():
    with pytest.raises(ScenarioError, match="Did you mean 'blacklist'"):
        load_scenario("blaklist")


def test_edge_list_with_arbitrary_labels_and_isolated_nodes(tmp_path):
    """An edge list names citizens by any label; lone labels are isolated citizens;
    relative paths are taken from the scenario file's folder."""
    (tmp_path / "village.txt").write_text(
        "# a village\nalice bob\nbob, carol\ncarol\tdave # comment\nzoe\nalice alice\n" +
        "\n".join(f"p{i} p{i + 1}" for i in range(5)) + "\n")
    (tmp_path / "village.yaml").write_text(
        "population: {n_citizens: 11}\nnetwork: {kind: edge_list, path: village.txt}\n"
        "rules: [{kind: blacklist}]\n")
    m = ReputationModel(tmp_path / "village.yaml", rng=1)
    assert m.ties.n_ties == 3 + 5
    degree = m.ties.degree()
    labels = m.ties.labels
    assert degree[labels.index("zoe")] == 0
    assert degree[labels.index("bob")] == 2
    assert m.citizen(labels.index("zoe"))["label"] == "zoe"
    df = m.run(10)
    assert np.isfinite(df.to_numpy(dtype=float)).all()


def test_edge_list_problems_are_explained(tmp_path):
    (tmp_path / "net.txt").write_text("a b\nb c\n")
    with pytest.raises(ScenarioError, match="names 3 nodes but population.n_citizens is 2000; .* at least 10 nodes"):
        ReputationModel("baseline", rng=1, **{"network": {"kind": "edge_list", "path": str(tmp_path / "net.txt")}})
    with pytest.raises(ScenarioError, match="cannot read edge-list file"):
        ReputationModel("baseline", rng=1, **{"network": {"kind": "edge_list", "path": str(tmp_path / "no.txt")}})
    (tmp_path / "bad.txt").write_text("a b c\n")
    with pytest.raises(ScenarioError, match="line 1: expected one or two node labels"):
        ReputationModel("baseline", rng=1, **{"population.n_citizens": 10,
                                               "network": {"kind": "edge_list", "path": str(tmp_path / "bad.txt")}})


def test_population_too_large_for_memory_is_refused_up_front(monkeypatch):
    import simulation.model as model_module

    monkeypatch.setattr(model_module, "BYTES_PER_CITIZEN", 10**9)
    with pytest.raises(ScenarioError, match="GiB of memory is free"):
        ReputationModel("baseline", rng=1, **{"population.n_citizens": 5_000_000})


SHARE_METRICS = [m for m, text in METRICS.items() if "[0-1]" in text]

random_overrides = st.fixed_dictionaries({}, optional={
    "population.urban_share": st.floats(0, 1),
    "population.honesty_mean": st.floats(0, 1),
    "population.speech_mean": st.floats(0, 1),
    "population.wealth_days": st.floats(0, 1000),
    "population.n_firms": st.integers(1, 30),
    "network.mean_degree": st.integers(0, 12),
    "behaviour.transactions_per_tie_per_year": st.floats(0, 50),
    "behaviour.infractions_per_year": st.floats(0, 20),
    "behaviour.deterrence_strength": st.floats(0, 10),
    "regulators.courts.coverage": st.floats(0, 1),
    "regulators.courts.false_positive_rate": st.floats(0, 1),
    "regulators.transport.publishes_lists": st.booleans(),
    "rules.commercial.weight_friends": st.floats(0, 1),
    "rules.commercial.tie_pruning": st.floats(0, 1),
    "rules.points.minor_deduction": st.floats(0, 1000),
    "run.days_per_step": st.integers(1, 365),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=random_overrides, seed=st.integers(0, 2**32))
def test_any_valid_scenario_runs_with_finite_metrics_in_range(overrides, seed):
    """Property: whatever valid values a scenario holds, metrics stay finite and shares
    stay within [0, 1]."""
    m = ReputationModel("patchwork", rng=seed, **{"population.n_citizens": 60, **overrides})
    df = m.run(8)
    assert np.isfinite(df.to_numpy(dtype=float)).all()
    shares = df[SHARE_METRICS]
    assert ((shares >= 0) & (shares <= 1 + 1e-9)).all().all()
