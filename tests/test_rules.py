"""Each rule set does what its docstring says, and only that."""

from __future__ import annotations

import typing

import numpy as np
import pytest

from simulation import ReputationModel
from simulation.rules import REGISTRY
from simulation.rules.points import GRADES
from simulation.scenario import RuleSet

SMALL = {"population.n_citizens": 1000}


def model(scenario: str, seed: int = 1, steps: int = 100, **overrides) -> ReputationModel:
    m = ReputationModel(scenario, rng=seed, **{**SMALL, "run.steps": steps, **overrides})
    m.run()
    return m


def test_registry_matches_schema():
    """Every rule-set kind of the schema has exactly one registered class, with a
    module docstring stating its rule."""
    union = typing.get_args(typing.get_args(RuleSet)[0])
    kinds = {cls.model_fields["kind"].default for cls in union}
    assert kinds == set(REGISTRY)
    for kind, cls in REGISTRY.items():
        module = __import__(cls.__module__, fromlist=["_"])
        assert module.__doc__ and len(module.__doc__) > 150, kind
        assert cls.kind == kind


def test_rule_sets_combine_freely():
    """Any combination of rule sets runs together."""
    kinds = ["blacklist", "points", "commercial", "rating"]
    for i in range(1, 1 << len(kinds)):
        rules = [{"kind": k} for j, k in enumerate(kinds) if i >> j & 1]
        m = ReputationModel("baseline", rng=0, **{"population.n_citizens": 200, "rules": rules})
        df = m.run(3)
        assert np.isfinite(df.to_numpy(dtype=float)).all()


@pytest.mark.parametrize(("points", "grade"), [
    (1100, "AAA"), (1050, "AAA"), (1049.9, "AA"), (1030, "AA"), (960, "A"), (959, "B"),
    (850, "B"), (849, "C"), (600, "C"), (599.9, "D"), (0, "D"),
])
def test_grade_thresholds_are_lowest_points_of_each_grade(points, grade):
    m = ReputationModel("rongcheng", rng=0, **{"population.n_citizens": 20})
    rule = m.active[0]
    rule.points[:] = points
    assert GRADES[rule._grades(rule.points)[0]] == grade


def test_points_stay_within_bounds_and_recover_to_base_only():
    """Deductions and bonuses move points; recovery lifts them back to the base and no
    further; points never leave [0, max_points]."""
    m = model("rongcheng", steps=150, **{"rules.points.minor_deduction": 200.0})
    rule = m.active[0]
    assert rule.points.min() >= 0 and rule.points.max() <= m.config.rule("points").max_points
    assert (rule.points < 1000).any(), "heavy deductions must bite"
    assert (rule.points > 1000).any(), "prosocial bonuses must lift some above the base"
    assert m.events.count("grade_change") > 0


def test_points_and_blacklist_see_only_shared_records():
    """A city points system sees no infraction a department keeps to itself."""
    m = model("rongcheng", **{"regulators.transport.shares_records": False,
                              "regulators.courts.shares_records": False})
    assert (m.active[0].points >= 1000).all()


def test_joint_punishment_needs_shared_records():
    """Travel, luxury and schooling bans follow a court listing only when the courts
    share their records; the loan ban is the court's own."""
    off = {"regulators.courts.shares_records": False, "rules.blacklist.sector_lists": False}
    m = model("blacklist", steps=120, **off)
    listed = m.listed()
    assert listed.any()
    np.testing.assert_allclose(m.citizens.income[listed], m.citizens.base_income[listed])
    assert m.cons.loan_ban[listed].all()
    m2 = model("blacklist", steps=120, **{**off, "regulators.courts.shares_records": True})
    listed2 = m2.listed()
    assert (m2.citizens.income[listed2] < m2.citizens.base_income[listed2]).all()


def test_firm_listing_lowers_fraud_and_raises_trust_in_firms():
    """The supporters' claim (002, 003): listing firms for substandard goods makes firms
    raise quality; less is counterfeit and citizens trust firms more."""
    with_listing = [model("blacklist", seed=s, steps=150) for s in range(3)]
    without = [model("blacklist", seed=s, steps=150, **{"rules.blacklist.firm_listing": False})
               for s in range(3)]

    def late(ms, metric):
        return np.mean([m.metrics_frame()[metric].iloc[100:].mean() for m in ms])

    assert late(with_listing, "substandard_share") < late(without, "substandard_share") - 0.01
    assert late(with_listing, "trust_in_firms") > late(without, "trust_in_firms")


def test_fast_appeals_clear_wrongful_listings_sooner():
    """More appeal capacity and a shorter delay shorten wrongful listings."""
    slow = np.mean([model("high_error", seed=s, steps=150).metrics_frame()["mean_days_to_clear_wrongful"].iloc[-1]
                    for s in range(3)])
    fast = np.mean([model("high_error", seed=s, steps=150, **{
        "regulators.courts.appeal_capacity_per_10k": 50.0, "regulators.courts.appeal_delay_days": 7.0,
        "regulators.transport.appeal_capacity_per_10k": 50.0, "regulators.transport.appeal_delay_days": 7.0,
    }).metrics_frame()["mean_days_to_clear_wrongful"].iloc[-1] for s in range(3)])
    assert fast < 0.8 * slow


def test_speech_penalty_chills_speech():
    """Chilling (004): when critical posts cost points, fewer people post."""
    free = model("rongcheng", steps=120, **{"regulators.public_security.shares_records": True})
    chilled = model("rongcheng", steps=120, **{"regulators.public_security.shares_records": True,
                                               "rules.points.speech_deduction": 50.0})
    assert chilled.metrics_frame()["speech_rate"].iloc[40:].mean() < \
        0.95 * free.metrics_frame()["speech_rate"].iloc[40:].mean()


def test_commercial_is_opt_in_rewards_only():
    """The commercial score ranges 350-950 for users only, and never costs income."""
    m = model("sesame", steps=120)
    rule = m.active[0]
    assert 0.3 < rule.opted.mean() < 1.0
    used = rule.scores[rule.opted]
    assert used.min() >= 350 and used.max() <= 950
    values, scored = rule.standing()
    assert (scored == rule.opted).all()
    assert np.isnan(m.standing()[~rule.opted]).all(), "who does not use it has no standing"
    assert (m.citizens.income >= m.citizens.base_income).all()
    assert (m.citizens.income > m.citizens.base_income).any(), "rewards raise some incomes"
    assert not m.cons.sanctioned.any()


def test_rating_is_opt_in_three_levels_rewards_only():
    m = model("honest_shanghai", steps=120, **{"regulators.transport.false_positive_rate": 0.05})
    rule = m.active[0]
    assert set(np.unique(rule.level[rule.opted])) <= {0, 1, 2}
    assert len(np.unique(rule.level[rule.opted])) >= 2
    assert (m.citizens.income >= m.citizens.base_income).all()
    assert (m.cons.reward[rule.opted & (rule.level < 2)] == 0).all()
    assert (m.cons.reward[rule.opted & (rule.level == 2)] > 0).all()


def test_control_changes_nobody():
    """Under the control nobody is watched, sanctioned or rewarded, and approval stays
    where it started."""
    df = model("baseline").metrics_frame()
    for metric in ("watched_mean", "share_sanctioned", "share_listed", "opted_in_commercial"):
        assert (df[metric] == 0).all(), metric
    assert (df["approval_mean"] == 0.5).all()
