"""Every harm and benefit the sources name shows in a shipped scenario.

Each test runs the scenario that shows one mechanism against its no-rules twin
(:meth:`Scenario.without_rules`, the same seed: the same people, network and every draw
the rules do not change), or against the shipped scenario it varies, and checks that
the outcome the mechanism names moves the way the mechanism says. The margins are
directions over a few seeds, not pinned numbers, so they hold while the model's
numbers move. Each test's docstring states the lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from simulation import ReputationModel, load_scenario

N_CITIZENS = 2000
STEPS = 100
SEEDS = (1, 2, 3)
TAIL = 40
"""Steps at the end of a run over which a rate is averaged."""


@cache
def run(name: str, seed: int, twin: bool = False, **overrides) -> ReputationModel:
    """A shipped scenario (or its no-rules twin) run for STEPS steps."""
    scenario = load_scenario(name)
    if twin:
        scenario = scenario.without_rules()
    model = ReputationModel(scenario, rng=seed, **{"population.n_citizens": N_CITIZENS, "run.steps": STEPS,
                                                   **overrides})
    model.run()
    return model


def late(model: ReputationModel, metric: str) -> float:
    """A metric's mean over the last TAIL steps of a run."""
    return float(model.metrics_frame()[metric].iloc[-TAIL:].mean())


def over_seeds(name: str, metric: str, twin: bool = False, **overrides) -> np.ndarray:
    """``late`` of a metric, one value per seed."""
    return np.array([late(run(name, s, twin, **overrides), metric) for s in SEEDS])


def vs_twin(name: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``late`` of a metric under a scenario and under its twin, one value per seed."""
    return over_seeds(name, metric), over_seeds(name, metric, twin=True)


def own_vs_twin(name: str, seed: int, attribute: Callable[[ReputationModel], np.ndarray],
                who: Callable[[ReputationModel], np.ndarray]) -> float:
    """Mean of a per-citizen quantity (``attribute(model)``) over the citizens
    ``who(model)`` picks at the end of a run, divided by the same citizens' mean in the twin."""
    model, twin = run(name, seed), run(name, seed, twin=True)
    mask = who(model)
    assert mask.any(), f"{name}, seed {seed}: nobody to compare"
    mine, theirs = attribute(model)[mask], attribute(twin)[mask]
    return float(mine.mean() / theirs.mean())


def rule(model: ReputationModel, kind: str):
    """The model's active rule set of this kind."""
    return next(r for r in model.active if r.kind == kind)


def income(model: ReputationModel) -> np.ndarray:
    """Each citizen's income this step."""
    return model.citizens.income


def ties(model: ReputationModel) -> np.ndarray:
    """Each citizen's number of active ties."""
    return model.ties.degree()


# --------------------------------------------------------------------------- benefits


def test_sanctions_deter_infractions_and_defaults():
    """Deterrence (the panopticon effect, 002): under the patchwork people feel
    watched, and fewer commit infractions or cheat their contacts than the same people
    with no rules."""
    for metric in ("infraction_rate", "default_rate"):
        scored, free = vs_twin("patchwork", metric)
        assert (scored < 0.95 * free).all(), (metric, scored, free)
    assert (over_seeds("patchwork", "watched_mean") > 0.2).all()


def test_published_lists_deter_more_than_silent_ones():
    """Naming and shaming also deters: with the same sanctions, fewer cheat their
    contacts when the lists are published than when they are not."""
    published, silent = over_seeds("blacklist", "default_rate"), over_seeds("no_publication", "default_rate")
    assert published.mean() < 0.95 * silent.mean(), (published, silent)
    assert (over_seeds("blacklist", "watched_mean") > over_seeds("no_publication", "watched_mean")).all()


def test_firm_listing_raises_quality():
    """Firms keep their word when listing bites (002, 003): under blacklist firms sell
    better goods, and fewer purchases are substandard, than with no rules."""
    quality, free_quality = vs_twin("blacklist", "firm_quality_mean")
    bad, free_bad = vs_twin("blacklist", "substandard_share")
    assert (quality > free_quality + 0.005).all(), (quality, free_quality)
    assert (bad < free_bad).all(), (bad, free_bad)


def test_redlist_rewards_the_exemplary_without_making_more_of_them():
    """Redlist perks (002) need civil affairs to pass on who volunteers: in blacklist
    nobody is redlisted; in redlist many are, their income is above the same people's
    with no rules and approval rises, more in the city, where perks are easier to use,
    than in the countryside; but volunteering does not change."""
    assert (over_seeds("blacklist", "share_redlisted") == 0).all()
    assert (over_seeds("redlist", "share_redlisted") > 0.05).all()
    for seed in SEEDS:
        ratio = own_vs_twin("redlist", seed, income, lambda m: rule(m, "blacklist").redlisted)
        assert ratio > 1.0, (seed, ratio)
    assert (over_seeds("redlist", "approval_mean") > over_seeds("blacklist", "approval_mean")).all()
    gained = {group: over_seeds("redlist", f"approval_{group}") - over_seeds("blacklist", f"approval_{group}")
              for group in ("urban", "rural")}
    assert (gained["urban"] > gained["rural"]).all(), gained  # perks are harder to use in the countryside
    np.testing.assert_allclose(over_seeds("redlist", "prosocial_rate"), over_seeds("blacklist", "prosocial_rate"))


def test_benefits_reach_the_city_more_than_the_countryside():
    """The urban-rural reach of benefits (002): rewards under the commercial score are
    harder to use in the countryside, so urban citizens come to approve more than rural
    ones, a gap the same people do not show with no rules; where rewards reach rural
    citizens as well (services.benefit_reach_rural = 1) the gap shrinks."""
    def gap(twin=False, **overrides):
        return (over_seeds("sesame", "approval_urban", twin, **overrides)
                - over_seeds("sesame", "approval_rural", twin, **overrides))

    assert (gap() > 0.03).all(), gap()
    assert (np.abs(gap(twin=True)) < 0.01).all()
    assert gap(**{"services.benefit_reach_rural": 1.0}).mean() < 0.5 * gap().mean()


# --------------------------------------------------------------------------- harms


def test_penalties_on_speech_chill_it():
    """Chilling of critical speech (004): where critical posts cost points and
    commercial score (chilled_speech), fewer people post than the same people with no
    rules; in the patchwork, which has no penalty on speech, they post exactly as often
    as with no rules."""
    chilled, free = vs_twin("chilled_speech", "speech_rate")
    assert (chilled < 0.9 * free).all(), (chilled, free)
    patchwork, patchwork_free = vs_twin("patchwork", "speech_rate")
    np.testing.assert_allclose(patchwork, patchwork_free)


def test_recording_errors_list_the_innocent_and_appeals_take_time():
    """Wrongful listings (Liu Hu's case, 002): with ten times the recording errors
    many innocent citizens are listed, where the twin lists nobody; more appeal
    capacity (fast_appeals) clears them sooner, so fewer are in force at a time."""
    wrongful, free = vs_twin("high_error", "wrongful_listings_active")
    assert (wrongful > 5).all() and (free == 0).all(), (wrongful, free)
    assert (wrongful > over_seeds("blacklist", "wrongful_listings_active")).all()
    slow = [run("blacklist", s).metrics_frame()["mean_days_to_clear_wrongful"].iloc[-1] for s in SEEDS]
    fast = [run("fast_appeals", s).metrics_frame()["mean_days_to_clear_wrongful"].iloc[-1] for s in SEEDS]
    assert 0 < np.mean(fast) < np.mean(slow), (fast, slow)
    assert (over_seeds("fast_appeals", "wrongful_listings_active")
            < over_seeds("blacklist", "wrongful_listings_active")).all()


def test_the_poor_clear_wrongful_listings_less_often():
    """Who can afford to appeal (002): of the wrongly listed under high_error, those
    in the top income tercile file appeals and get off the list more often than those
    in the bottom tercile."""
    shares = {}
    for tercile in (0, 2):
        cleared = listed = 0
        for seed in SEEDS:
            model = run("high_error", seed)
            wrong = model.events.who("listed_wrongly")
            wrong = wrong[model.citizens.income_tercile[wrong] == tercile]
            cleared += np.isin(wrong, model.events.who("delisted_appeal")).sum()
            listed += wrong.size
        assert listed > 20, (tercile, listed)
        shares[tercile] = cleared / listed
    assert shares[2] > shares[0] + 0.05, shares


def test_sanctions_exclude_the_listed_from_travel_and_services():
    """Exclusion from travel, luxury and schooling (002): under blacklist the listed
    earn less than the same people with no rules."""
    for seed in SEEDS:
        ratio = own_vs_twin("blacklist", seed, income, lambda m: m.cons.sanctioned)
        assert ratio < 0.95, (seed, ratio)


def test_naming_and_shaming_isolates_the_listed():
    """Naming and shaming (002): contacts cut ties to citizens on a published list, so
    the listed have fewer ties than others and more citizens end up alone than with no
    rules; without publication (no_publication) the listed keep their ties."""
    shamed, kept = over_seeds("blacklist", "listed_degree_ratio"), over_seeds("no_publication", "listed_degree_ratio")
    assert (shamed < 0.95).all() and shamed.mean() < 0.85, shamed
    assert (np.abs(kept - 1) < 0.1).all() and (shamed < kept).all(), (shamed, kept)
    isolated, free = vs_twin("blacklist", "isolated_share")
    assert (isolated >= free).all() and isolated.mean() > free.mean(), (isolated, free)


def test_friends_in_score_sorts_society_by_score():
    """Social sorting (Lyon, 002): when friends' scores count and users drop
    lower-scored contacts, ties come to link people of similar score, far more than
    under the same score without friends (sesame), and fewer ties cross the
    urban-rural line than with no rules."""
    sorted_, plain = over_seeds("friends_in_score", "score_assortativity"), over_seeds("sesame", "score_assortativity")
    assert (sorted_ > 0.1).all() and (sorted_ > plain + 0.1).all(), (sorted_, plain)
    across, free = vs_twin("friends_in_score", "cross_group_tie_share")
    assert across.mean() < free.mean(), (across, free)


def test_friends_in_score_isolates_the_low_scored():
    """The pariah fear (004): when friends' scores count, the lowest-scored tenth of the
    platform's users lose ties: they have fewer than the same people with no rules."""
    def lowest_scored(model):
        standing = model.standing()
        scored = np.isfinite(standing)
        return scored & (standing <= np.quantile(standing[scored], 0.1))

    for seed in SEEDS:
        ratio = own_vs_twin("friends_in_score", seed, ties, lowest_scored)
        assert ratio < 0.9, (seed, ratio)
