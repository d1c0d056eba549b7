"""The vectorised metrics and fast forms agree with their textbook definitions.

Assortativity, the Gini coefficient, the per-group sums and the buyers' choice of
firm are computed in forms chosen for speed (degree-weighted sums, cached ranks, sorts
pre-ordered by radix or reusing a reference's order, one bincount over group cells, a
guide table); these tests hold them to plain implementations and to networkx.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from simulation import ReputationModel, metrics
from simulation.behaviour import guide_table, pick
from simulation.metrics import NearReference, gini_of_sorted, merge_sorted, share, sort
from simulation.network import Ties, assortativity, small_world


def ties_from(graph: nx.Graph) -> Ties:
    edges = np.array(list(graph.edges), dtype=np.intp).reshape(-1, 2)
    return Ties(u=edges[:, 0].copy(), v=edges[:, 1].copy(), active=np.ones(len(edges), bool),
                n=graph.number_of_nodes())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_assortativity_equals_networkx(seed):
    rng = np.random.default_rng(seed)
    graph = nx.gnm_random_graph(300, 900, seed=seed)
    x = rng.random(300) + 0.3 * (np.arange(300) % 3)
    nx.set_node_attributes(graph, dict(enumerate(x)), "x")
    expected = nx.numeric_assortativity_coefficient(graph, "x")
    assert assortativity(x, ties_from(graph)) == pytest.approx(expected, abs=1e-12)


def test_assortativity_leaves_out_unscored_citizens():
    """NaN marks a citizen no rule set scores: the result is that of the graph without them."""
    rng = np.random.default_rng(5)
    graph = nx.gnm_random_graph(200, 700, seed=5)
    x = rng.random(200)
    x[rng.random(200) < 0.3] = np.nan
    scored = graph.subgraph([i for i in graph if np.isfinite(x[i])]).copy()
    nx.set_node_attributes(scored, {i: x[i] for i in scored}, "x")
    expected = nx.numeric_assortativity_coefficient(scored, "x")
    assert assortativity(x, ties_from(graph)) == pytest.approx(expected, abs=1e-12)


def test_assortativity_skips_cut_ties():
    rng = np.random.default_rng(3)
    ties = small_world(400, 6, 0.2, rng)
    ties.active[rng.random(ties.n_ties) < 0.4] = False
    ties.changed()
    x = rng.random(400)
    graph = ties.to_networkx()
    nx.set_node_attributes(graph, dict(enumerate(x)), "x")
    assert assortativity(x, ties) == pytest.approx(nx.numeric_assortativity_coefficient(graph, "x"), abs=1e-12)


def test_assortativity_is_zero_when_undefined():
    graph = nx.path_graph(50)
    assert assortativity(np.full(50, 0.7), ties_from(graph)) == 0.0  # all equal
    assert assortativity(np.arange(2.0), ties_from(nx.path_graph(2))) == 0.0  # one tie


@pytest.mark.parametrize("seed", [0, 1])
def test_gini_equals_mean_absolute_difference(seed):
    """G = sum_ij |x_i - x_j| / (2 n^2 mean), negatives counted as 0."""
    x = np.random.default_rng(seed).lognormal(0, 1, 500)
    x[:10] = -1.0
    y = np.maximum(x, 0.0)
    expected = np.abs(y[:, None] - y[None, :]).sum() / (2 * y.size**2 * y.mean())
    assert gini_of_sorted(np.sort(x)) == pytest.approx(expected, rel=1e-12)
    assert gini_of_sorted(np.zeros(5)) == 0.0 and gini_of_sorted(np.array([])) == 0.0
    assert gini_of_sorted(np.array([0.0, 0.0, 0.0, 3.0])) == pytest.approx(0.75)


def awkward_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values a sort can get wrong: both signs and both zeros, ties, a wide range of
    magnitudes, infinities and NaN."""
    x = rng.lognormal(0, 3, n) * rng.choice([-1.0, 1.0], n, p=[0.2, 0.8])
    x[rng.random(n) < 0.05] = 0.0
    x[rng.random(n) < 0.05] = -0.0
    x[rng.random(n) < 0.1] = 2.5  # ties
    x[rng.integers(0, n, 3)] = [np.inf, -np.inf, np.nan]
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sort_equals_numpys_sort(monkeypatch, seed):
    """The radix pre-order only speeds the last sort up: the result is np.sort's, bit for bit."""
    monkeypatch.setattr(metrics, "PRESORT_FROM", 16)  # small arrays take the large arrays' path
    rng = np.random.default_rng(seed)
    for x in (awkward_values(rng, 5000), rng.lognormal(0, 1, 3001), np.full(100, 7.0), np.zeros(0)):
        expected = np.sort(x)
        got = sort(x)
        assert np.array_equal(got, expected, equal_nan=True)
        assert np.count_nonzero(np.signbit(got[got == 0])) == np.count_nonzero(np.signbit(expected[expected == 0]))
    view = awkward_values(rng, 4000)[::2]  # not contiguous
    assert np.array_equal(sort(view), np.sort(view), equal_nan=True)


def test_merge_sorted_gives_the_sort_of_both():
    rng = np.random.default_rng(8)
    a, b = np.sort(rng.random(700)), np.sort(rng.random(300))
    assert np.array_equal(merge_sorted(a, b), np.sort(np.concatenate((a, b))))
    assert merge_sorted(a, b[:0]) is a and merge_sorted(a[:0], b) is b


@pytest.mark.parametrize("changed", [0.0, 0.01, 0.3, 0.49, 0.51, 1.0])
def test_sort_near_a_reference_equals_numpys_sort(changed):
    """Income equals base income except where this step's losses or rewards changed it."""
    rng = np.random.default_rng(int(changed * 100))
    reference = rng.lognormal(0, 1, 4000)
    reference[:50] = reference[50]  # ties in the reference
    sorter = NearReference(reference, np.argsort(reference))
    for _ in range(3):  # the reference's sorted values are made once, then reused
        x = reference.copy()
        hit = rng.random(x.size) < changed
        x[hit] *= rng.choice([0.0, 0.5, 1.2], hit.sum())
        got = sorter.sort(x)
        assert np.array_equal(got, np.sort(x))
        got[:] = -1.0  # a new array each time: gini_of_sorted may write to it
    assert np.array_equal(sorter.sort(reference), np.sort(reference))


def test_gini_of_a_model_run_equals_the_plain_formula(monkeypatch):
    """The metrics sort wealth on either side of a pivot and income near base income
    (small arrays taking the large arrays' path): the Gini coefficients are the plain ones."""
    monkeypatch.setattr(metrics, "PRESORT_FROM", 16)
    for two_cores in (False, True):
        model = ReputationModel("patchwork", rng=2, **{"population.n_citizens": 3000, "run.steps": 6})
        model.two_cores = two_cores
        model.run()
        out = metrics.compute(model, model.last_acts, None)
        c = model.citizens
        assert 0 < np.count_nonzero(c.income != c.base_income) < c.n  # some incomes changed, not all
        for name, x in (("gini_wealth", c.wealth), ("gini_income", c.income)):
            s = np.sort(np.maximum(x, 0.0))
            plain = 2.0 * np.sum(np.arange(1, s.size + 1) * s) / (s.size * s.sum()) - (s.size + 1) / s.size
            assert out[name] == pytest.approx(plain, rel=1e-12), name


@pytest.mark.parametrize("tied", [0.0, 0.3, 0.9])
def test_wealth_gini_on_two_cores_is_the_one_cores_whatever_the_pivot(monkeypatch, tied):
    """The two parts sort the wealth below and from the pivot: with many citizens
    exactly at the pivot (or all of them), the Gini coefficient is the one core's, bit
    for bit."""
    monkeypatch.setattr(metrics, "PRESORT_FROM", 16)
    model = ReputationModel("patchwork", rng=3, **{"population.n_citizens": 3000, "run.steps": 2})
    model.run()
    rng = np.random.default_rng(int(tied * 10))
    wealth = rng.lognormal(0, 2, model.citizens.n)
    wealth[rng.random(wealth.size) < tied] = np.quantile(wealth, metrics.LOW_WEALTH_SHARE)
    wealth[:200] = 0.0
    model.citizens.wealth[:] = wealth
    gini = {}
    for two_cores in (False, True):
        model.two_cores = two_cores
        gini[two_cores] = metrics.compute(model, model.last_acts, None)["gini_wealth"]
    assert gini[True] == gini[False] > 0
    assert np.array_equal(model.citizens.wealth, wealth)  # the metrics only read the wealth


def test_group_sums_equal_masked_sums():
    model = ReputationModel("baseline", rng=4, **{"population.n_citizens": 900})
    groups, masks = model.group_index, model.groups
    x = np.random.default_rng(4).random(900)
    sums, means = groups.sums(x), groups.means(x)
    cell = np.random.default_rng(5).integers(0, 4, 900)
    cross = groups.cross(cell, 4)
    for name, mask in masks.items():
        assert sums[name] == pytest.approx(x[mask].sum(), rel=1e-12)
        assert means[name] == pytest.approx(x[mask].mean(), rel=1e-12)
        assert groups.sizes[name] == mask.sum()
        assert cross[name].tolist() == np.bincount(cell[mask], minlength=4).tolist()


def test_share_is_the_mean_of_a_mask():
    mask = np.random.default_rng(1).random(1001) < 0.3
    assert share(mask) == mask.mean()
    assert share(np.zeros(0, bool)) == 0.0


@pytest.mark.parametrize("scenario", ["patchwork", "friends_in_score"])
def test_degrees_and_crossing_ties_kept_through_rewiring_equal_a_recount(scenario):
    """Shaming and pruning rewire ties every step; the degrees and the count of
    urban-rural ties they update in place stay equal to counting the active ties again."""
    model = ReputationModel(scenario, rng=3, **{"population.n_citizens": 1500})
    start = model.ties.version
    urban = model.citizens.urban
    for _ in range(40):
        model.step()
        u, v = model.ties.active_ends()
        recount = np.bincount(u, minlength=1500) + np.bincount(v, minlength=1500)
        assert model.ties.degree().tolist() == recount.tolist()
        assert model.ties.crossing() == np.count_nonzero(urban[u] != urban[v])
        assert model.metrics_frame()["cross_group_tie_share"].iloc[-1] == model.ties.crossing() / u.size
    assert model.ties.version > start + 10  # the ties really changed along the way


@pytest.mark.parametrize("firms", [1, 2, 7, 50, 3000])
@pytest.mark.parametrize("sensitivity", [0.0, 5.0, 800.0])
def test_firm_choice_equals_a_binary_search(firms, sensitivity):
    """Buyers pick firms through a guide table; the choice is the binary search's, draw
    for draw, also for equal weights, weights that underflow to 0 (flat steps of the
    cumulative weights) and the extreme draws 0 and the largest double below 1."""
    rng = np.random.default_rng(firms)
    cdf = np.cumsum(np.exp(sensitivity * (rng.random(firms) - 1.0)))
    u = np.concatenate(([0.0, np.nextafter(1.0, 0.0), 0.5], rng.random(100_000),
                        cdf / cdf[-1], np.nextafter(cdf / cdf[-1], 0.0)))  # draws at the steps
    u = u[u < 1.0]
    assert pick(cdf, u, guide_table(cdf)).tolist() == np.searchsorted(cdf, u * cdf[-1], side="right").tolist()


def test_standing_is_computed_once_a_step_and_stays_current():
    """The metrics and the dashboard share one standing array a step: it must be this
    step's, and read-only so that no reader can change what the others see."""
    model = ReputationModel("patchwork", rng=4, **{"population.n_citizens": 800})
    for _ in range(5):
        before = model.standing()
        model.step()
        now = model.standing()
        assert now is model.standing()
        assert now is not before
        np.testing.assert_array_equal(now, model._mean_standing())
        with pytest.raises(ValueError):
            now[0] = 0.5


@pytest.mark.parametrize("sigma", [0.7, 0.0])
def test_income_order_is_a_stable_sort_of_base_income(sigma):
    """The metrics take base income's order from the income ranks instead of sorting
    again; with no income spread most citizens tie, and ties stay in citizen order."""
    model = ReputationModel("patchwork", rng=6, **{"population.n_citizens": 5000,
                                                   "population.income_sigma": sigma})
    c = model.citizens
    assert np.array_equal(c.income_order(), np.argsort(c.base_income, kind="stable"))
    assert (np.unique(c.base_income).size < 10) is (sigma == 0.0)
