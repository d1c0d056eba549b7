"""The society at rest before the rules begin (simulation/rest.py): the spin-up is
seeded and shared across scenarios, the rules start at step 0, the baseline does not
drift, and the cache changes nothing but time."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import ReputationModel
from simulation.events import CODE
from simulation.overrides import ScenarioError
from simulation.population import NEVER
from simulation.rest import CACHE, rest_key
from simulation.scenario import Scenario

SMALL = {"population.n_citizens": 600}
SHARED = ("trust_generalized", "trust_in_firms", "gini_wealth", "gini_income", "wealth_ratio_urban_rural",
          "isolated_share", "firm_quality_mean")


def _state(model: ReputationModel) -> dict[str, np.ndarray]:
    c, f = model.citizens, model.firms
    return {"wealth": c.wealth.copy(), "trust": c.trust_generalized.copy(), "trust_firms": c.trust_firms.copy(),
            "due": c.judgement_due.copy(), "quality": f.quality.copy(), "reputation": f.reputation.copy(),
            "active": model.ties.active.copy()}


def test_scenarios_with_one_seed_share_the_identical_rest_state():
    """A workshop compares scenarios on the same society: with one seed, every scenario
    that differs in its rules starts step 0 from the same people, wealth and trust."""
    CACHE.clear()
    states = {name: ReputationModel(scenario=name, rng=11, **SMALL)
              for name in ("baseline", "blacklist", "rongcheng", "sesame", "patchwork")}
    reference = _state(states["baseline"])
    for name, model in states.items():
        assert model.spin_up_steps == states["baseline"].spin_up_steps > 0, name
        for key, values in _state(model).items():
            np.testing.assert_array_equal(values, reference[key], err_msg=f"{name}: {key}")


def test_rules_switched_on_at_step_0_leave_step_0_equal_to_the_baseline():
    """Step 0 is before any rule acted: what the rules change shows from step 1 on."""
    base = ReputationModel(scenario="baseline", rng=5, **SMALL).metrics_frame().iloc[0]
    for name in ("blacklist", "patchwork"):
        row = ReputationModel(scenario=name, rng=5, **SMALL).metrics_frame().iloc[0]
        for metric in SHARED:
            assert row[metric] == base[metric], (name, metric)
        assert row["share_listed"] == 0.0


def test_the_rest_state_is_not_the_constructed_start():
    """The spin-up moves the society away from its drawn start (here wealth spreads by
    trade and trust settles); spin_up: 0 shows the drawn start itself."""
    cold = ReputationModel(scenario="baseline", rng=2, **SMALL, **{"run.spin_up": 0})
    assert cold.spin_up_steps == 0
    assert np.all(cold.citizens.trust_generalized == cold.config.population.initial_trust_generalized)
    np.testing.assert_allclose(cold.citizens.wealth, cold.citizens.base_income * cold.config.population.wealth_days)
    warm = ReputationModel(scenario="baseline", rng=2, **SMALL)
    assert warm.citizens.trust_generalized.std() > 0.05
    assert not np.allclose(warm.citizens.wealth, cold.citizens.wealth)


def test_a_fixed_spin_up_runs_exactly_that_many_steps_and_numbers_them_before_step_0():
    model = ReputationModel(scenario="blacklist", rng=3, **SMALL, **{"run.spin_up": 40})
    assert model.spin_up_steps == 40 and model.steps == 0
    c = model.citizens
    happened = c.last_default[c.last_default != NEVER]
    assert happened.size and happened.max() <= 0 and happened.min() > -40
    assert np.all((c.judgement_due == -1) | (c.judgement_due >= 0))
    chunks = model.events._chunks
    steps = np.concatenate([ch[0] for ch in chunks]) if chunks else np.zeros(0)
    codes = np.concatenate([ch[2] for ch in chunks]) if chunks else np.zeros(0)
    # the record starts at step 0, with the judgements still pending from before it
    assert np.all(steps <= 0) and set(codes.tolist()) <= {CODE["judgement"]}
    assert len(steps) == np.count_nonzero(c.judgement_due >= 0)
    model.run(5)
    assert model.events.count("judgement") > len(steps)


def test_the_cache_changes_nothing_but_time():
    """A rest state taken from the cache gives the same run, bit for bit, as one
    computed afresh."""
    CACHE.clear()
    fresh = ReputationModel(scenario="patchwork", rng=8, **SMALL, **{"run.steps": 30}).run()
    cached = ReputationModel(scenario="patchwork", rng=8, **SMALL, **{"run.steps": 30}).run()
    CACHE.clear()
    again = ReputationModel(scenario="patchwork", rng=8, **SMALL, **{"run.steps": 30}).run()
    assert fresh.equals(cached) and fresh.equals(again)


def test_a_different_seed_gives_a_different_rest_state():
    a = ReputationModel(scenario="baseline", rng=1, **SMALL).citizens.wealth
    b = ReputationModel(scenario="baseline", rng=2, **SMALL).citizens.wealth
    assert not np.array_equal(a, b)


def test_the_rest_key_follows_what_the_rest_state_depends_on(tmp_path):
    base = Scenario()
    assert rest_key(base, 1) == rest_key(base.model_copy(update={"title": "other", "rules": []}), 1)
    assert rest_key(base, 1) != rest_key(base, 2)
    other_people = Scenario.model_validate({"population": {"honesty_mean": 0.7}})
    assert rest_key(base, 1) != rest_key(other_people, 1)
    edges = tmp_path / "net.txt"
    edges.write_text("a b\nb c\n")
    net = Scenario.model_validate({"population": {"n_citizens": 10}, "network": {"kind": "edge_list",
                                                                                  "path": str(edges)}})
    before = rest_key(net, 1)
    edges.write_text("a c\nb c\n")
    assert rest_key(net, 1) != before  # the file's contents, not only its path


@pytest.mark.parametrize("value", [-1, "soon", 1.5])
def test_a_bad_spin_up_is_refused_naming_the_field(value):
    with pytest.raises(ScenarioError, match=r"run\.spin_up"):
        ReputationModel(scenario="baseline", rng=1, **{"run.spin_up": value})


def test_the_baseline_is_stationary_after_the_spin_up():
    """With no rules, nothing should trend: over 200 steps, the mean of the last 20
    steps minus the first 20, averaged over 6 seeds of 2,000 citizens, is within 0.01 for
    trust, the Ginis and fraud (the validation report checks the same over 10 seeds)."""
    metrics = ["trust_generalized", "trust_in_firms", "gini_wealth", "gini_income", "fraud_rate"]
    drift = []
    for seed in range(6):
        df = ReputationModel(scenario="baseline", rng=seed).run()
        drift.append(df[metrics].iloc[-20:].mean() - df[metrics].iloc[1:21].mean())
    mean = sum(drift) / len(drift)
    assert (mean.abs() <= 0.01).all(), mean.to_dict()
