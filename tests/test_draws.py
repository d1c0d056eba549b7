"""Draw-ahead (simulation.draws): the numbers a run draws are the same with and without it."""

from __future__ import annotations

import copy
import os
import pickle
import select
import signal
import threading
import time

import numpy as np
import pytest

import simulation.deferred
import simulation.model
from simulation import ReputationModel, draws, parallel
from simulation.deferred import deferred
from simulation.draws import DrawAhead

N = 3000


def in_fork(call, timeout: float = 60.0):
    """``call()`` run in a forked child and its result sent back by pipe; None (the
    child killed) when no result came within ``timeout`` seconds, so that a child
    waiting for a thread it does not have fails the test instead of hanging it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, pickle.dumps(call()))
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read() if ready else b""
    os.waitpid(pid, 0)
    return pickle.loads(data) if data else None


def build(monkeypatch, ahead: bool, scenario: str = "patchwork", **overrides) -> ReputationModel:
    """A model drawing in place on one core, or drawing ahead and computing parts of a
    step at once (in blocks of 256 and deferring the draws it reads for a few, so that
    this small run is split and drawn as a large one is)."""
    monkeypatch.setattr(simulation.model, "wanted", lambda n: ahead)
    monkeypatch.setattr(simulation.deferred, "DEFER_FROM", 0)
    monkeypatch.setattr(simulation.model, "PARALLEL_FROM", 0)
    monkeypatch.setattr(parallel, "BLOCK", 256)
    model = ReputationModel(scenario, rng=7, **{"population.n_citizens": N, "run.steps": 40, **overrides})
    assert (model._ahead is not None) is ahead is model.two_cores
    return model


def state(model: ReputationModel) -> dict:
    """Every array of the model's state, the streams' states and the metrics."""
    out = {}
    for prefix, obj in [("citizens", model.citizens), ("firms", model.firms), ("ties", model.ties),
                        *((f"rule {r.kind}", r) for r in model.rules)]:
        out.update({f"{prefix}.{k}": v.copy() for k, v in vars(obj).items() if isinstance(v, np.ndarray)})
    out.update({f"stream {k}": s.bit_generator.state for k, s in model.streams.items()})
    out["metrics"] = model.metrics_frame().to_numpy(float)
    return out


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert np.array_equal(a[key], b[key], equal_nan=True), key
        else:
            assert a[key] == b[key], key


SHAMING_OFF_AND_ON = [{"step": 8, "path": "behaviour.shaming_avoidance", "value": 0.0},
                      {"step": 14, "path": "behaviour.shaming_avoidance", "value": 0.4}]


@pytest.mark.parametrize("scenario, overrides", [
    ("patchwork", {"interventions": SHAMING_OFF_AND_ON}),  # the ties stream's draws stop and restart
    ("sesame", {}),  # tie pruning draws a different number each step
    ("friends_in_score", {}),
    ("blacklist", {}),
    ("rongcheng", {}),
])
def test_a_run_draws_the_same_numbers_ahead_or_in_place(monkeypatch, scenario, overrides):
    in_place = build(monkeypatch, False, scenario, **overrides)
    ahead = build(monkeypatch, True, scenario, **overrides)
    in_place.run()
    ahead.run()
    assert ahead._ahead.drawn_ahead > 100  # the worker really drew most arrays
    assert_same(state(in_place), state(ahead))


def test_a_tight_memory_window_changes_no_number(monkeypatch):
    monkeypatch.setattr(draws, "WINDOW_BYTES", 1)  # two arrays at a time
    in_place, ahead = build(monkeypatch, False), build(monkeypatch, True)
    in_place.run(15)
    ahead.run(15)
    assert ahead._ahead.drawn_ahead > 0
    assert_same(state(in_place), state(ahead))


def test_a_step_that_fails_leaves_the_streams_where_drawing_in_place_would(monkeypatch):
    in_place, ahead = build(monkeypatch, False), build(monkeypatch, True)
    in_place.run(5)
    ahead.run(5)
    real = simulation.model.observe

    def fails(model, acts):
        real(model, acts)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulation.model, "observe", fails)
    for model in (in_place, ahead):
        with pytest.raises(RuntimeError, match="disk on fire"):
            model.step()
    assert {k: s.bit_generator.state for k, s in in_place.streams.items()} == \
        {k: s.bit_generator.state for k, s in ahead.streams.items()}


@pytest.mark.parametrize("duplicate", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy])
def test_a_model_copied_while_drawing_ahead_goes_on_with_the_same_numbers(monkeypatch, duplicate):
    in_place, ahead = build(monkeypatch, False), build(monkeypatch, True)
    in_place.run(6)
    ahead.run(6)  # the seventh step's draws are under way now
    twin = duplicate(ahead)
    assert twin._ahead in draws._planners  # a forked child would put its streams back too
    for model in (in_place, ahead, twin):
        model.run(6)
    assert_same(state(in_place), state(ahead))
    assert_same(state(in_place), state(twin))


def test_the_thread_that_draws_ahead_yields_the_core_to_the_model(monkeypatch):
    """It runs at a lower priority, so that it fills the gaps the model's threads leave."""
    build(monkeypatch, True).run(3)
    thread = draws._WORKER._thread
    assert thread is not None and thread.is_alive()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(own + draws.DRAW_NICE, 19)


def test_a_model_built_off_the_main_thread_draws_in_place(monkeypatch):
    """Dask workers and dashboard tabs share the cores with others."""
    monkeypatch.setattr(draws, "AHEAD_FROM", 0)
    built = []
    thread = threading.Thread(target=lambda: built.append(ReputationModel("blacklist", rng=1, **{
        "population.n_citizens": 200})))
    thread.start()
    thread.join()
    assert built[0]._ahead is None
    monkeypatch.setattr(draws, "AHEAD_FROM", None)
    assert not draws.wanted(10**9)


# ----------------------------------------------------------------- one stream, call by call

STEP = [("random", 50), ("deferred", 5000), ("random", 50), ("random", None), ("random", (4, 3)), ("integers", 1)]
"""The calls a stream gets every step in the scripts below (the last leaves half of a
64-bit output for the next 32-bit draw, which putting a stream back must keep; a
deferred call, simulation.deferred, leaves the worker nothing to draw)."""

READ = np.array([4999, 0, 4096, 4095, 17, 17])
"""The positions of a deferred array that :func:`play` reads (unsorted, repeated, across
the tables' boundary of 4,096)."""


def play(generator, calls) -> list:
    out = []
    for method, arg in calls:
        if method == "random":
            out.append(generator.random(arg))
        elif method == "float32":
            out.append(generator.random(arg, dtype=np.float32))
        elif method == "integers":
            out.append(generator.integers(0, 100, arg))
        elif method == "deferred":
            out.append(deferred(generator, arg)[READ])
        elif method == "next_step":
            generator.next_step()
    return out


class Stepper:
    """A DrawAhead over one stream, stepped by a script: ("next_step", None) entries.
    ``wait``: the worker has drawn what it may before the step asks (else the step may
    claim planned draws first and draw them in place)."""

    def __init__(self, seed: int, wait: bool = True) -> None:
        self.ahead = DrawAhead({"s": np.random.default_rng(seed)})
        self.stream = self.ahead.streams["s"]
        self.wait = wait

    def random(self, size=None, **kwargs):
        return self.stream.random(size, **kwargs)

    def integers(self, *args):
        return self.stream.integers(*args)

    def deferred(self, size):
        return self.stream.deferred(size)

    def next_step(self) -> None:
        self.ahead.next_step()
        for draw in list(self.stream.planned) if self.wait else ():
            if draw.submitted:
                draw.done.wait()


@pytest.mark.parametrize("this_step", [
    STEP,  # as planned
    [("random", 50), ("deferred", 5000), ("random", 49), ("random", None), ("random", (4, 3))],  # another size
    [("random", 50), ("deferred", 5001), ("random", 50)],  # another deferred size
    [("random", 50), ("random", 5000), ("random", 50)],  # drawn where the plan had it deferred
    [("deferred", 6000), ("deferred", 5000), ("random", 50)],  # deferred where the plan had it drawn
    [("random", 50), ("deferred", 5000), ("integers", 10), ("random", 50)],  # another method
    [("random", 50)],  # fewer draws than planned
    [("random", 50), ("deferred", 5000), ("random", 50), ("random", None), ("random", (4, 3)), ("random", 50)],  # more
    [("float32", 50), ("random", 50)],  # another kind of number
    [],  # none at all
])
@pytest.mark.parametrize("wait", [True, False])
def test_one_stream_gives_the_numbers_drawing_in_place_gives(this_step, wait):
    script = [*STEP, ("next_step", None), *STEP, ("next_step", None), *this_step, ("next_step", None), *STEP]
    reference = np.random.default_rng(3)
    expected = play(reference, [c for c in script if c[0] != "next_step"])
    stepper = Stepper(3, wait)
    got = play(stepper, script)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert np.array_equal(a, b)
    stepper.ahead.settle()
    assert stepper.stream.bit_generator.state == reference.bit_generator.state
    if wait:
        assert stepper.ahead.drawn_ahead > 0


def test_an_array_drawn_in_pieces_by_both_threads_has_the_numbers_of_one_draw(monkeypatch):
    """The step asks for an array the worker is drawing: it draws the pieces the worker
    has not taken yet itself, each from the plan's state advanced to the piece."""
    monkeypatch.setattr(draws, "PIECE", 10)
    real = draws.generator_at

    def slow_on_the_worker(*args):
        if draws._WORKER.is_current():
            time.sleep(0.002)
        return real(*args)

    monkeypatch.setattr(draws, "generator_at", slow_on_the_worker)
    reference = np.random.default_rng(0)
    reference.integers(0, 10, dtype=np.uint32)  # leaves a spare 32-bit half, which random does not use
    ahead = DrawAhead({"s": np.random.default_rng(0)})
    stream = ahead.streams["s"]
    stream.integers(0, 10, dtype=np.uint32)
    for _ in range(2):  # two steps with the same call: it is planned
        ahead.next_step()
        for generator in (reference, stream):
            generator.random(1000)
    ahead.next_step()
    time.sleep(0.02)  # the worker has drawn a few pieces of the next array by now
    start = time.perf_counter()
    assert np.array_equal(stream.random(1000), reference.random(1000))
    assert time.perf_counter() - start < 0.1  # it did not wait for the slow worker's hundred pieces
    assert ahead.drawn_ahead == 1  # the worker drew some of them
    ahead.settle()
    assert stream.bit_generator.state == reference.bit_generator.state


def test_draws_ahead_by_default_for_a_large_run_in_the_main_thread():
    cores = len(os.sched_getaffinity(0))
    assert draws.wanted(draws.AHEAD_FROM) is (cores > 1)
    assert not draws.wanted(draws.AHEAD_FROM - 1)


def test_only_calls_that_repeat_are_drawn_ahead():
    """A size that changes from step to step (tie pruning) is not drawn ahead in vain."""
    stepper = Stepper(5)
    for size in (10, 11, 12, 13):
        play(stepper, [("random", 50), ("random", size), ("next_step", None)])
    assert [d.size for d in stepper.stream.planned] == [50]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_goes_on_with_the_same_numbers(monkeypatch):
    """mesa.batch_run forks its workers; the parent's worker thread is not in the child."""
    in_place, ahead = build(monkeypatch, False), build(monkeypatch, True)
    in_place.run(6)
    ahead.run(6)  # the seventh step's draws are under way now

    def child():  # step on, send the metrics back
        ahead.run(6)
        return ahead.metrics_frame().to_numpy(float), ahead._ahead.drawn_ahead

    reply = in_fork(child)
    assert reply is not None, "the forked child did not finish its steps within 60 s"
    child_metrics, child_drawn_ahead = reply
    in_place.run(6)
    assert np.array_equal(child_metrics, in_place.metrics_frame().to_numpy(float))
    assert child_drawn_ahead > ahead._ahead.drawn_ahead  # the child had a worker of its own


def test_putting_a_stream_back_keeps_the_spare_half_of_a_64_bit_output():
    """integers() below 2**32 leaves half an output for the next such draw; random() keeps it."""
    reference, stepper = np.random.default_rng(1), Stepper(1)
    for generator in (reference, stepper.stream):
        generator.random(50)
        generator.integers(0, 100, 1)
    stepper.next_step()  # drawn ahead, then unused: the stream is put back
    assert np.array_equal(stepper.stream.integers(0, 100, 5), reference.integers(0, 100, 5))
