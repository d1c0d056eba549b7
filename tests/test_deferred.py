"""Deferred draws (simulation.deferred): the numbers ``random`` gives, computed only where read."""

from __future__ import annotations

import numpy as np
import pytest
from test_draws import assert_same, state

from simulation import ReputationModel
from simulation import deferred as later
from simulation.deferred import below_where, deferred


@pytest.fixture(autouse=True)
def defer_all(monkeypatch):
    """Defer arrays of any size (small ones are drawn, see ``DEFER_FROM``)."""
    monkeypatch.setattr(later, "DEFER_FROM", 0)


def twins(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two generators in the same state, one that has left the spare half of a 64-bit
    output (which ``random`` keeps and ``advance`` would drop)."""
    pair = np.random.default_rng(seed), np.random.default_rng(seed)
    for g in pair:
        g.random(seed * 1001)
        g.integers(0, 10, dtype=np.uint32)
    return pair


@pytest.mark.parametrize("size", [1, 2, 4095, 4096, 4097, 3 * 8192 + 5, 300_000])
def test_deferred_numbers_are_the_numbers_random_draws_and_the_stream_moves_on_alike(size):
    g, reference = twins(size % 7)
    u, expected = deferred(g, size), reference.random(size)
    assert g.bit_generator.state == reference.bit_generator.state
    rng = np.random.default_rng(size)
    sparse = rng.integers(0, size, max(1, size // 50))  # unsorted, with repeats
    edges = np.array([0, size - 1, min(4095, size - 1), min(4096, size - 1)])
    for who in (sparse, edges, np.sort(sparse), np.arange(size)):  # the last is dense: drawn whole
        assert np.array_equal(u[who], expected[who])
    assert u[np.array([], int)].size == 0
    part = u[size // 3:size // 2 + 1]
    assert len(part) == len(expected[size // 3:size // 2 + 1])
    inner = np.array([0, len(part) - 1, len(part) // 2])
    assert np.array_equal(part[inner], expected[size // 3:size // 2 + 1][inner])
    if len(part) > 1:  # a slice of a slice
        assert np.array_equal(part[1:][np.array([0])], expected[size // 3 + 1:][:1])


def test_a_stream_that_is_not_pcg64_gets_its_numbers_drawn():
    g, reference = np.random.Generator(np.random.Philox(3)), np.random.Generator(np.random.Philox(3))
    u = deferred(g, 100)
    assert isinstance(u, np.ndarray)
    assert np.array_equal(u, reference.random(100))
    assert np.array_equal(g.random(10), reference.random(10))


def test_numbers_after_a_state_and_an_offset_are_the_numbers_drawn_there():
    """What a stream drawing ahead hands over for a deferred call it planned."""
    g = np.random.default_rng(11)
    state = g.bit_generator.state
    g.random(12345)
    expected = g.random(9000)
    u = later.numbers_after(np.random.PCG64, state, 12345, 9000)
    who = np.array([0, 8999, 4000, 77])
    assert np.array_equal(u[who], expected[who])
    dxsm = np.random.Generator(np.random.PCG64DXSM(2))  # the other kind a stream drawing ahead may have
    begin = dxsm.bit_generator.state
    dxsm.random(10)
    assert np.array_equal(later.numbers_after(np.random.PCG64DXSM, begin, 10, 5), dxsm.random(5))


@pytest.mark.parametrize("key, message", [
    (np.array([100]), "out of range"),
    (np.array([-1]), "out of range"),
    (np.array([0.5]), "integer positions"),
    (slice(0, 10, 2), "step 1"),
])
def test_a_deferred_array_refuses_what_it_cannot_give(key, message):
    u = deferred(np.random.default_rng(0), 100)
    with pytest.raises(IndexError, match=message):
        u[key]


@pytest.mark.parametrize("lazy", [True, False])
def test_below_where_is_the_mask_and_the_comparison(lazy):
    n = 20_000
    reference = np.random.default_rng(4).random(n)
    u = deferred(np.random.default_rng(4), n) if lazy else reference
    mask = np.random.default_rng(5).random(n) < 0.03
    assert np.array_equal(below_where(mask, u, 0.4), mask & (reference < 0.4))
    assert not below_where(np.zeros(n, bool), u, 1.0).any()


def test_a_small_array_is_drawn(monkeypatch):
    monkeypatch.setattr(later, "DEFER_FROM", 1000)
    g, reference = twins(2)
    assert np.array_equal(deferred(g, 999), reference.random(999))
    assert not isinstance(deferred(g, 1000), np.ndarray)


@pytest.mark.parametrize("scenario", ["patchwork", "high_error", "sesame"])
def test_a_run_with_deferred_draws_is_the_run_with_every_number_drawn(monkeypatch, scenario):
    """Every deferred draw of a step (detection, seriousness, compliance, appeals, the
    platform's view, leaving a scheme) reads the numbers drawing them would give."""
    runs = []
    for defer_from in (0, 10**12):
        monkeypatch.setattr(later, "DEFER_FROM", defer_from)
        model = ReputationModel(scenario, rng=5, **{"population.n_citizens": 3000, "run.steps": 40})
        model.run()
        runs.append(state(model))
    assert_same(*runs)
