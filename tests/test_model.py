"""The core engine's promises: reproducibility, common random numbers, and the
direction of each mechanism's effect. Each test's docstring states the lesson."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation import ReputationModel, ScenarioError
from simulation.metrics import CONFUSION_COLUMNS, METRICS

SMALL = {"population.n_citizens": 1000}


def run(scenario: str, seed: int, steps: int, **overrides) -> pd.DataFrame:
    model = ReputationModel(scenario, rng=seed, **{**SMALL, "run.steps": steps, **overrides})
    return model.run()


def mean_over_seeds(scenario: str, metric: str, seeds=range(4), steps=120, start=0, **overrides) -> float:
    return float(np.mean([run(scenario, s, steps, **overrides)[metric].iloc[start:].mean() for s in seeds]))


def test_same_seed_same_table_other_seed_other_table():
    """One seed determines a run exactly; another seed gives another run."""
    a = run("patchwork", 7, 40)
    b = run("patchwork", 7, 40)
    c = run("patchwork", 8, 40)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_table_has_every_metric_and_step_zero():
    """The DataCollector table has a row per step from 0 and every documented column."""
    df = run("patchwork", 1, 5)
    assert list(df.index) == [0, 1, 2, 3, 4, 5]
    assert set(METRICS) | set(CONFUSION_COLUMNS) == set(df.columns)
    assert np.isfinite(df.to_numpy(dtype=float)).all()


def test_scenarios_share_population_and_network():
    """Common random numbers: two scenarios with one seed start from the same people and ties."""
    a = ReputationModel("baseline", rng=3, **SMALL)
    b = ReputationModel("patchwork", rng=3, **SMALL)
    for name in ("urban", "education", "base_income", "honesty", "speech_inclination", "wealth"):
        np.testing.assert_array_equal(getattr(a.citizens, name), getattr(b.citizens, name))
    np.testing.assert_array_equal(a.ties.u, b.ties.u)
    np.testing.assert_array_equal(a.ties.v, b.ties.v)
    np.testing.assert_array_equal(a.firms.quality, b.firms.quality)
    c = ReputationModel("baseline", rng=4, **SMALL)
    assert not np.array_equal(a.citizens.honesty, c.citizens.honesty)


def test_rules_that_change_nothing_change_no_draw():
    """Common random numbers: a rule set whose effect is switched off leaves the run as
    it was, so differences between scenarios come from the rules."""
    base = run("baseline", 5, 30)
    inert = run("rongcheng", 5, 30, **{
        "rules.points.minor_deduction": 0, "rules.points.serious_deduction": 0,
        "rules.points.default_deduction": 0, "rules.points.prosocial_bonus": 0,
        "rules.points.reward_high": 0, "rules.points.cost_low": 0,
        "behaviour.record_stigma": 0,
    })
    for metric in ("infraction_rate", "default_rate", "trust_generalized", "fraud_rate", "gini_wealth"):
        pd.testing.assert_series_equal(base[metric], inert[metric])


def no_errors(**extra):
    out = {**extra, "regulators.courts.failure_to_record_rate": 0.0}
    for dept in ("courts", "transport", "market", "tax", "civil_affairs", "public_security"):
        out[f"regulators.{dept}.false_positive_rate"] = 0.0
    return out


def test_without_errors_no_innocent_is_listed():
    """With no false positives and every compliance recorded, nobody innocent is listed,
    at any step, in any group."""
    model = ReputationModel("high_error", rng=2, **{**SMALL, **no_errors(), "run.steps": 150})
    df = model.run()
    assert df["share_listed"].max() > 0, "the check is empty unless someone is listed"
    assert df["wrongful_listings_active"].max() == 0
    assert df["share_listed_innocent"].max() == 0
    assert model.events.count("listed_wrongly") == 0


def test_false_positive_rate_raises_wrongful_listings():
    """Raising the false-positive rate raises wrongful listings (mean over seeds)."""
    low = mean_over_seeds("blacklist", "wrongful_listings_active", **{
        "regulators.courts.false_positive_rate": 0.001, "regulators.transport.false_positive_rate": 0.001})
    high = mean_over_seeds("blacklist", "wrongful_listings_active", **{
        "regulators.courts.false_positive_rate": 0.02, "regulators.transport.false_positive_rate": 0.02})
    assert high > 2 * low > 0


def test_publication_costs_listed_citizens_ties():
    """Naming and shaming: with lists published, listed citizens keep fewer ties."""
    off = mean_over_seeds("no_publication", "listed_degree_ratio", start=40)
    on = mean_over_seeds("blacklist", "listed_degree_ratio", start=40)
    assert on < off - 0.05


def test_friends_scores_raise_assortativity():
    """Counting friends' scores sorts the network: standing correlates across ties."""
    without = mean_over_seeds("sesame", "score_assortativity", start=60)
    with_friends = mean_over_seeds("friends_in_score", "score_assortativity", start=60)
    assert with_friends > without + 0.05


def test_points_deter_infractions():
    """Deterrence: under points with coverage > 0 infractions fall below baseline; with
    the same seed the baseline's draws are shared, so the fall is the rules' doing."""
    base = mean_over_seeds("baseline", "infraction_rate", start=20)
    points = mean_over_seeds("rongcheng", "infraction_rate", start=20)
    blind = mean_over_seeds("rongcheng", "infraction_rate", start=20, **{
        "regulators.transport.coverage": 0.0})
    assert points < 0.97 * base
    assert points < blind


def test_patchwork_approval_follows_benefits():
    """The survey pattern (002): approval ends higher among urban and high-income
    citizens, because they receive more usable rewards and fewer sanctions; no group
    is told what to think."""
    urban = mean_over_seeds("patchwork", "approval_urban", start=150, steps=200)
    rural = mean_over_seeds("patchwork", "approval_rural", start=150, steps=200)
    high = mean_over_seeds("patchwork", "approval_high_income", start=150, steps=200)
    low = mean_over_seeds("patchwork", "approval_low_income", start=150, steps=200)
    assert urban > rural + 0.02
    assert high > low + 0.01


def test_approval_gap_vanishes_when_benefits_reach_everyone():
    """The urban/rural approval gap comes from where rewards can be used: equal reach
    closes most of it."""
    equal = {"services.benefit_reach_rural": 1.0}
    gap_equal = (mean_over_seeds("patchwork", "approval_urban", start=150, steps=200, **equal)
                 - mean_over_seeds("patchwork", "approval_rural", start=150, steps=200, **equal))
    gap = (mean_over_seeds("patchwork", "approval_urban", start=150, steps=200)
           - mean_over_seeds("patchwork", "approval_rural", start=150, steps=200))
    assert gap_equal < gap / 2


def test_intervention_changes_only_the_future():
    """A scheduled rise of the false-positive rate at step t leaves steps before t as
    they were and raises wrongful listings after t."""
    t = 60
    plain = run("blacklist", 11, 160)
    model = ReputationModel("blacklist", rng=11, **{**SMALL, "run.steps": 160, "interventions": [
        {"step": t, "path": "regulators.courts.false_positive_rate", "value": 0.05},
        {"step": t, "path": "regulators.transport.false_positive_rate", "value": 0.05}]})
    changed = model.run()
    pd.testing.assert_frame_equal(plain.loc[: t - 1], changed.loc[: t - 1])
    assert changed["wrongful_listings_active"].loc[t + 20:].mean() > \
        plain["wrongful_listings_active"].loc[t + 20:].mean() + 5
    assert model.config.regulators.courts.false_positive_rate == 0.05


def test_publication_can_start_mid_run():
    """'Publication starts at step 50': ties of listed citizens thin only afterwards."""
    model = ReputationModel("no_publication", rng=4, **{**SMALL, "run.steps": 150, "interventions": [
        {"step": 50, "path": "regulators.courts.publishes_lists", "value": True}]})
    df = model.run()
    cut = model.events.who("ties_cut")
    assert cut.size > 0
    first_cut = min(e["step"] for i in cut for e in model.events.for_citizen(int(i)) if e["event"] == "ties_cut")
    assert first_cut >= 50
    assert df["listed_degree_ratio"].loc[120:].mean() < df["listed_degree_ratio"].loc[30:49].mean()


def test_citizen_story_is_inspectable():
    """One citizen's attributes and events can be told: records, listing, appeals."""
    model = ReputationModel("high_error", rng=1, **{**SMALL, "run.steps": 150})
    model.run()
    listed_ever = np.union1d(model.events.who("listed"), model.events.who("listed_wrongly"))
    assert listed_ever.size
    who = int(listed_ever[0])
    story = model.citizen(who)
    assert {"urban", "education", "income_tercile", "wealth", "approval", "ties", "events"} <= set(story)
    assert any(ev["event"] in ("listed", "listed_wrongly") for ev in story["events"])
    steps = [ev["step"] for ev in story["events"]]
    assert steps == sorted(steps)
    with pytest.raises(IndexError, match="numbered 0 to 999"):
        model.citizen(1000)


def test_confusion_matrix_adds_up_per_group():
    """The per-group confusion matrix counts every citizen of the group exactly once."""
    model = ReputationModel("patchwork", rng=2, **{**SMALL, "run.steps": 30})
    model.run()
    table = model.confusion_table()
    last = table[table.step == 30].set_index("group")
    sizes = {name: int(mask.sum()) for name, mask in model.groups.items()}
    for group, row in last.iterrows():
        assert row[["tp", "fp", "fn", "tn"]].sum() == sizes[group]
    assert last.loc["urban", "tp"] + last.loc["rural", "tp"] == last.loc["all", "tp"]


def test_batch_run_sweeps_dotted_parameters():
    """mesa.batch_run rebuilds the model from keyword arguments, dotted paths included."""
    results = mesa.batch_run(
        ReputationModel,
        parameters={"scenario": "blacklist", "population.n_citizens": 300,
                    "regulators.courts.false_positive_rate": [0.0, 0.05]},
        rng=[1, 2], max_steps=5, number_processes=1, data_collection_period=1, display_progress=False,
    )
    df = pd.DataFrame(results)
    assert len(df) == 2 * 2 * 6
    assert set(df["regulators.courts.false_positive_rate"]) == {0.0, 0.05}
    assert df.groupby(["RunId"])["Step"].max().eq(5).all()


def test_bad_override_names_the_field():
    """A typo in an override fails with the field, a suggestion and the allowed names."""
    with pytest.raises(ScenarioError, match="Did you mean 'n_citizens'") as err:
        ReputationModel("baseline", rng=1, **{"population.n_citizen": 10})
    assert "Traceback" not in str(err.value)
    with pytest.raises(ScenarioError, match="n_citizens.*greater than or equal to 10"):
        ReputationModel("baseline", rng=1, **{"population.n_citizens": 3})
    with pytest.raises(ScenarioError, match="no rule set of kind 'points'"):
        ReputationModel("baseline", rng=1, **{"rules.points.base": 900})


def test_firm_and_network_are_inspectable():
    """A firm's state and the network (as networkx) can be looked at on demand."""
    model = ReputationModel("blacklist", rng=3, **{**SMALL, "run.steps": 30})
    model.run()
    firm = model.firm(0)
    assert {"quality", "tax_compliance", "reputation", "price", "revenue", "listed"} <= set(firm)
    assert 0 <= firm["quality"] <= 1
    with pytest.raises(IndexError, match="firms are numbered"):
        model.firm(model.firms.n)
    g = model.graph()
    assert g.number_of_nodes() == model.citizens.n
    u, v = model.ties.active_ends()
    pairs = {(min(a, b), max(a, b)) for a, b in zip(u.tolist(), v.tolist(), strict=True)}
    assert g.number_of_edges() == len(pairs)  # networkx keeps one edge per pair
