"""Two cores for one step (simulation.parallel): the same numbers as one core, errors kept."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from test_draws import assert_same, in_fork, state

import simulation.deferred
import simulation.model
from simulation import ReputationModel, parallel
from simulation.parallel import blocks, together


def build(monkeypatch, two_cores: bool, scenario: str, **overrides) -> ReputationModel:
    """A model that uses a second core for its parallel parts or not, drawing in place
    (in blocks of 256 citizens or ties and deferring the draws it reads for a few, so
    that a small run is split and drawn as a large one is)."""
    monkeypatch.setattr(simulation.model, "wanted", lambda n: False)
    monkeypatch.setattr(parallel, "BLOCK", 256)
    monkeypatch.setattr(simulation.deferred, "DEFER_FROM", 0)
    model = ReputationModel(scenario, rng=11, **{"population.n_citizens": 2500, "run.steps": 30, **overrides})
    model.two_cores = two_cores
    return model


def events(model: ReputationModel) -> list[np.ndarray]:
    return [np.concatenate(column) for column in zip(*model.events._chunks, strict=True)]


@pytest.mark.parametrize("scenario", ["patchwork", "sesame", "friends_in_score", "blacklist", "rongcheng",
                                      "baseline"])
def test_a_run_on_two_cores_gives_the_numbers_of_one(monkeypatch, scenario):
    one, two = build(monkeypatch, False, scenario), build(monkeypatch, True, scenario)
    one.run()
    two.run()
    assert_same(state(one), state(two))
    assert {k: r.counts for k, r in one.regulators.items()} == {k: r.counts for k, r in two.regulators.items()}
    if scenario != "baseline":  # no rule set: nothing to log
        for a, b in zip(events(one), events(two), strict=True):
            assert np.array_equal(a, b)


def test_together_returns_results_in_order_computed_on_two_threads():
    threads = []

    def task(value):
        threads.append(threading.get_ident())
        time.sleep(0.05)  # both run at once: the pair takes one sleep, not two
        return value

    start = time.perf_counter()
    assert together(True, lambda: task("first"), lambda: task("second")) == ["first", "second"]
    assert len(set(threads)) == 2
    assert time.perf_counter() - start < 0.095
    threads.clear()
    assert together(False, lambda: task(1), lambda: task(2)) == [1, 2]
    assert threads == [threading.get_ident()] * 2


@pytest.mark.parametrize("failing", [0, 1])
def test_an_error_in_either_task_reaches_the_caller_after_both_ended(failing):
    finished = []

    def task(i):
        time.sleep(0.05 if i != failing else 0.0)
        if i == failing:
            raise ValueError(f"task {i} failed")
        finished.append(i)

    with pytest.raises(ValueError, match=f"task {failing} failed"):
        together(True, lambda: task(0), lambda: task(1))
    assert finished == [1 - failing]  # the other task was not left running on the arrays


def test_a_task_on_the_worker_that_splits_again_runs_its_parts_there():
    """The one worker never waits for itself (that would hang)."""
    results = []

    def nested() -> None:
        inner = lambda: together(True, threading.get_ident, threading.get_ident)  # noqa: E731
        results.append(together(True, threading.get_ident, inner))

    caller = threading.Thread(target=nested, daemon=True)
    caller.start()
    caller.join(timeout=10)
    assert results, "a split inside a task on the worker never finished"
    outer, (first, second) = results[0]
    assert first == second != outer


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
@pytest.mark.parametrize("enabled", [True, False])
def test_blocks_cover_every_element_once_and_return_in_order(monkeypatch, n, enabled):
    monkeypatch.setattr(parallel, "BLOCK", 3)
    seen = np.zeros(n, int)

    def count(part: slice) -> int:
        seen[part] += 1
        return part.start

    starts = blocks(enabled, n, count)
    assert (seen == 1).all()
    assert starts == sorted(starts) and starts[0] == 0  # results in the parts' order
    assert len(starts) == max(2 if enabled and n > 1 else 1, n // 3)


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
@pytest.mark.parametrize("enabled", [True, False])
def test_indices_are_flatnonzero_of_the_mask_part_by_part(monkeypatch, n, enabled):
    monkeypatch.setattr(parallel, "BLOCK", 3)
    mask = np.random.default_rng(n).random(n) < 0.3
    got = parallel.indices(enabled, n, lambda part: mask[part])
    assert np.array_equal(got, np.flatnonzero(mask))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_a_worker_of_its_own():
    """The parent's worker thread is not in a forked child (mesa.batch_run forks)."""
    together(True, lambda: None, lambda: None)  # the parent's worker exists
    result = in_fork(lambda: [os.getpid(), *together(True, lambda: "child", lambda: os.getpid())], timeout=10)
    assert result is not None, "the child waited for a worker that is not there"
    pid, *parts = result
    assert parts == ["child", pid]


def test_a_department_counts_the_acts_it_detected_and_its_false_records():
    """Counted from the whole population after its records were made in blocks."""
    model = ReputationModel("high_error", rng=3, **{"population.n_citizens": 3000})
    regulator = model.regulators["transport"]
    acts = np.zeros(3000, bool)
    acts[:1000] = True
    detect_u, error_u = np.linspace(0, 1, 3000), np.linspace(1, 0, 3000)
    records, false = regulator.record(acts, detect_u, error_u, 30)
    caught = acts & (detect_u < regulator.config.coverage * (1 - regulator.config.false_negative_rate))
    assert regulator.counts == {"detected": np.count_nonzero(caught), "false_records": np.count_nonzero(false)}
    assert np.array_equal(records, caught | false) and not (false & acts).any() and false.any()
