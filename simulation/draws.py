"""Draw-ahead: a step's regular random draws made on a second core while the model computes.

Most streams are asked for the same draws in the same order every step: ``purchases``
for three arrays of one uniform number per citizen, ``errors`` for seven, and so on. A
:class:`DrawAhead` learns that order from the steps just run (the calls whose sizes
repeated). Once a step has ended (its metrics, which use both cores themselves, are
computed), one worker thread starts making the next step's arrays while the model
steps on; a stream's ``random(size)`` then hands over the array already drawn. numpy's generators
release the interpreter lock while they fill an array, so two cores really work at once.

The numbers do not change. Each stream still yields the same numbers in the same order,
whichever thread draws them. When a step asks a stream for anything else (another size,
another method, fewer draws than planned), or anyone looks at a stream's state or
pickles the model, the stream is first put back exactly where drawing in place would
have left it: its state when the plan started, advanced by the numbers handed over
(``random`` takes one 64-bit output per number). From there it draws in place.

It pays only for large populations (handing an array over costs some microseconds), so
:func:`wanted` switches it on from ``AHEAD_FROM`` citizens on a machine with two cores or
more, together with the parts of a step computed at once (:mod:`simulation.parallel`);
results are identical either way.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import weakref
from collections import deque

import numpy as np

AHEAD_FROM: int | None = 100_000
"""Citizens from which a model uses a second core, to draw ahead and to compute parts
of a step at once (below it a step is too short to gain); None never does (a sweep's
worker processes already keep every core busy)."""
WINDOW_BYTES = 128 * 2**20
"""Memory that arrays drawn ahead and not yet handed over may hold at once [bytes]
(16 arrays of a million numbers; always at least two arrays)."""

_NEW, _QUEUED, _RUNNING, _DONE, _DROPPED = range(5)
_lock = threading.Lock()
_jobs: queue.SimpleQueue = queue.SimpleQueue()
_worker: list[threading.Thread] = []  # one for the process, started with its first draw
_planners: weakref.WeakSet[DrawAhead] = weakref.WeakSet()


def _forget_parent() -> None:
    """In a forked child: the parent's worker, its queue and its lock are not ours, and
    no one will finish the draws it had under way: put every stream back in place."""
    global _lock, _jobs
    _lock, _jobs = threading.Lock(), queue.SimpleQueue()
    _worker.clear()
    for planner in list(_planners):
        planner.settle(wait=False)


os.register_at_fork(after_in_child=_forget_parent)


def wanted(n_citizens: int) -> bool:
    """Whether a model of ``n_citizens`` built in this thread should use a second core: a large
    population, in a process's main thread (not a Dask worker or a dashboard tab, which
    share the cores with others), on a machine with two cores or more."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (AHEAD_FROM is not None and n_citizens >= AHEAD_FROM
            and threading.current_thread() is threading.main_thread() and cores > 1)


def _numbers(size) -> int:
    """64-bit outputs that ``Generator.random(size)`` takes."""
    return 1 if size is None else math.prod(size) if isinstance(size, tuple) else size


def _plannable(size) -> bool:
    return size is None or isinstance(size, int) or (isinstance(size, tuple) and all(isinstance(k, int) for k in size))


class _Draw:
    """One planned ``random(size)`` call of one stream; ``previous`` is the stream's
    planned call before it (None for its first)."""

    __slots__ = ("generator", "size", "previous", "status", "submitted", "value", "error", "done")

    def __init__(self, generator: np.random.Generator, size, previous: _Draw | None) -> None:
        self.generator, self.size, self.previous = generator, size, previous
        self.status, self.submitted, self.value, self.error = _NEW, False, None, None
        self.done = threading.Event()

    def run(self) -> None:
        with _lock:
            if self.status != _QUEUED:
                return
            if self.previous is not None and self.previous.status != _DONE:
                # the model drew the one before in place (or will): drawing this one now
                # could take that one's numbers, so the model draws it in place too
                self.status = _DROPPED
                return
            self.status = _RUNNING
        try:
            self.value = self.generator.random(self.size)
        except BaseException as error:  # handed to the model's thread, which raises it
            self.error = error
        self.status = _DONE
        self.done.set()

    def claim(self, wait: bool = True) -> bool:
        """Keep the worker off this draw; True if it is (being) drawn already (then,
        with ``wait``, once it is drawn)."""
        with _lock:
            if self.status in (_NEW, _QUEUED, _DROPPED):
                self.status = _DROPPED
                return False
        if wait:
            self.done.wait()
        return True


def _work() -> None:
    while True:
        _jobs.get().run()


def _submit(draw: _Draw) -> None:
    with _lock:
        if not _worker:
            thread = threading.Thread(target=_work, name="scoresim-draw-ahead", daemon=True)
            thread.start()
            _worker.append(thread)
        draw.status, draw.submitted = _QUEUED, True
    _jobs.put(draw)


class AheadStream:
    """A stream's generator that hands over draws made ahead; any other use of it
    (another size, ``integers``, ``bit_generator``) first puts the stream back in place.
    So use it through its attributes each time: a method or ``bit_generator`` kept from
    an earlier look would bypass that."""

    def __init__(self, name: str, generator: np.random.Generator, ahead: DrawAhead) -> None:
        if type(generator.bit_generator) not in (np.random.PCG64, np.random.PCG64DXSM):
            raise TypeError(f"stream {name!r}: drawing ahead needs a PCG64 generator (one output per number, "
                            f"advance), not {type(generator.bit_generator).__name__}")
        self.name, self._generator, self._ahead = name, generator, ahead
        self.planned: deque[_Draw] = deque()
        self.start_state: dict | None = None
        self.handed = 0  # numbers handed over this step, drawn ahead or in place
        self.ahead = False  # whether the worker drew any number this step
        self.calls: list = []  # sizes of this step's random() calls, until an unplannable one
        self.broken = False

    def random(self, size=None, dtype=np.float64, out=None):
        plain = out is None and dtype is np.float64 and _plannable(size)
        if plain and self.planned and type(self.planned[0].size) is type(size) and self.planned[0].size == size:
            return self._hand_over(self.planned.popleft())
        self.settle()
        self._record(size, plannable=plain)
        return self._generator.random(size, dtype, out)

    def __getstate__(self) -> dict:
        self._ahead.settle()
        return self.__dict__

    def __getattr__(self, name: str):
        if name.startswith("__"):  # copy and pickle look for hooks on an empty instance
            raise AttributeError(name)
        self.settle()
        self._record(None, plannable=False)
        return getattr(self._generator, name)

    def _record(self, size, plannable: bool) -> None:
        if self.broken:
            return
        if plannable and _plannable(size):
            self.calls.append(size)
            self._ahead.note_call(self)
        else:
            self.broken = True

    def _hand_over(self, draw: _Draw):
        if draw.claim():
            self.ahead = True
            if draw.error is not None:  # e.g. memory ran short on the worker: draw in place instead
                self.planned.appendleft(draw)
                self.settle()
                self._record(draw.size, plannable=True)
                return self._generator.random(draw.size)
            value = draw.value
            self._ahead.drawn_ahead += 1
        else:
            value = self._generator.random(draw.size)
        draw.value = None
        self.handed += _numbers(draw.size)
        self._record(draw.size, plannable=True)
        self._ahead.handed_over(draw)
        return value

    def settle(self, wait: bool = True) -> None:
        """Drop the draws planned and not handed over; put the stream where drawing in
        place would have left it (``wait`` for a draw under way to end first)."""
        if not self.planned:
            return
        for draw in self.planned:  # all claimed first, so that none is handed to the worker now
            if draw.claim(wait):
                self.ahead = True
                if not draw.done.is_set():  # under way in a parent's worker: its lock stays taken here
                    bits = self._generator.bit_generator
                    self._generator = np.random.Generator(type(bits)(bits.seed_seq))
            draw.value = None
        for draw in self.planned:
            self._ahead.handed_over(draw)
        self.planned.clear()
        if self.ahead:
            bits = self._generator.bit_generator
            bits.state = self.start_state
            bits.advance(self.handed)
            # advance drops the spare half of a 64-bit output that a 32-bit draw left; random keeps it
            state = bits.state
            state["has_uint32"], state["uinteger"] = self.start_state["has_uint32"], self.start_state["uinteger"]
            bits.state = state


class DrawAhead:
    """Plans each step's regular draws from the steps before and draws them on a worker."""

    def __init__(self, streams: dict[str, np.random.Generator]) -> None:
        self.streams = {name: AheadStream(name, g, self) for name, g in streams.items()}
        self._order: list[tuple[str, int]] = []  # this step's plannable calls: stream, index
        self._previous: dict[str, list] = {}
        self._plan: deque[_Draw] = deque()
        self._outstanding = 0  # draws submitted and not yet handed over
        self._outstanding_bytes = 0
        self.drawn_ahead = 0
        """Draws handed over that the worker had made (a count, for benchmarks and tests)."""
        _planners.add(self)

    def next_step(self, plan_next: bool = True) -> None:
        """Called once a step has ended: plan the next step's draws from this
        step's calls and the step before's, and start drawing them (none after a run's
        last step, ``plan_next`` False; the calls are forgotten all the same)."""
        self.settle()
        plan = [(self.streams[name], self.streams[name].calls[index])
                for name, index in self._order if plan_next and self._repeats(name, index)]
        self._previous = {name: s.calls for name, s in self.streams.items()}
        self._order = []
        for s in self.streams.values():
            s.calls, s.broken, s.handed, s.ahead = [], False, 0, False
            s.start_state = s._generator.bit_generator.state if any(p[0] is s for p in plan) else None
        for stream, size in plan:
            draw = _Draw(stream._generator, size, stream.planned[-1] if stream.planned else None)
            stream.planned.append(draw)
            self._plan.append(draw)
        self._refill()

    def _repeats(self, name: str, index: int) -> bool:
        """Whether a stream's calls up to ``index`` had the same sizes the step before
        (after the first step there is no step before: then all are planned)."""
        before, calls = self._previous.get(name), self.streams[name].calls
        return before is None or before[:index + 1] == calls[:index + 1]

    def settle(self, wait: bool = True) -> None:
        """Drop every draw not handed over: each stream is then exactly where drawing in
        place leaves it (done before pickling, when a step fails, and in a forked child,
        which does not ``wait`` for its parent's worker)."""
        self._plan.clear()
        for stream in self.streams.values():
            stream.settle(wait)
        self._outstanding = self._outstanding_bytes = 0

    def __getstate__(self) -> dict:
        self.settle()
        return self.__dict__

    def __setstate__(self, state: dict) -> None:  # a copy or an unpickled model: a planner too
        self.__dict__.update(state)
        _planners.add(self)

    def note_call(self, stream: AheadStream) -> None:
        """A stream recorded a plannable call (kept in the order the step made them)."""
        self._order.append((stream.name, len(stream.calls) - 1))

    def handed_over(self, draw: _Draw) -> None:
        """A planned draw is done with: handed over or dropped."""
        if draw.submitted:
            self._outstanding -= 1
            self._outstanding_bytes -= 8 * _numbers(draw.size)
            self._refill()

    def _refill(self) -> None:
        while self._plan and (self._outstanding < 2 or self._outstanding_bytes
                              + 8 * _numbers(self._plan[0].size) <= WINDOW_BYTES):
            draw = self._plan.popleft()
            if draw.status == _NEW:
                _submit(draw)
                self._outstanding += 1
                self._outstanding_bytes += 8 * _numbers(draw.size)
