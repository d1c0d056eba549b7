"""Draw-ahead: a step's regular random draws made on a second core while the model computes.

Most streams are asked for the same draws in the same order every step: ``purchases``
for three arrays of one uniform number per citizen, ``errors`` for seven, and so on. A
:class:`DrawAhead` learns that order from the steps just run (the calls whose sizes
repeated). As soon as a step has made its last draw, one worker thread starts making the
next step's arrays, while the model computes its metrics and then the next step; a
stream's ``random(size)`` then hands over the array already drawn. numpy's generators
release the interpreter lock while they fill an array, so two cores really work at once.

A planned array is the stream's numbers at a known offset from its state when the plan
started, so it is drawn in pieces, each by whichever thread gets to it first, from a
generator of that thread's own set to the plan's state and advanced to the piece. When
the step needs an array the worker has not finished, the model's thread draws the
remaining pieces itself instead of waiting; the stream's own generator is not touched
while the plan lasts. A deferred call (:mod:`simulation.deferred`) is planned too but
leaves the worker nothing to draw: the stream hands over the plan's state at its offset,
from which the numbers read are computed.

The numbers do not change. Each stream still yields the same numbers in the same order,
whichever thread draws them. When a step asks a stream for anything else (another size,
another method, fewer draws than planned), or anyone looks at a stream's state or
pickles the model, the stream is first put back exactly where drawing in place would
have left it: its state when the plan started, advanced by the numbers handed over
(``random`` takes one 64-bit output per number). From there it draws in place.

It pays only for large populations (handing an array over costs some microseconds), so
:func:`wanted` switches it on from ``AHEAD_FROM`` citizens on a machine with two cores or
more (and from ``PARALLEL_FROM`` citizens such a model also computes parts of a step at
once, :mod:`simulation.parallel`); results are identical either way.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from collections import deque
from dataclasses import dataclass

import numpy as np

from . import deferred as later
from .deferred import generator_at
from .parallel import Worker

AHEAD_FROM: int | None = 100_000
"""Citizens from which a model uses a second core (below it a step is too short to
gain): it draws ahead, and from ``simulation.parallel.PARALLEL_FROM`` citizens it also
computes parts of a step at once; None never does (a sweep's worker processes already
keep every core busy)."""
WINDOW_BYTES = 128 * 2**20
"""Memory that arrays drawn ahead and not yet handed over may hold at once [bytes]
(16 arrays of a million numbers; always at least two arrays)."""

PIECE = 1 << 18
"""Numbers a thread draws at a time (2 MiB): a planned array is drawn piece by piece by
whichever thread gets to a piece first, so the model's thread, when it needs an array
the worker is drawing, draws the remaining pieces itself instead of waiting."""

_lock = threading.Lock()
DRAW_NICE = 10
"""Steps of nice by which the thread that draws ahead runs below the thread that started
it: on a busy step it takes a core only when the model's threads leave one (the model's
thread draws the pieces the worker has not reached), and it fills the gaps where one
thread computes alone."""
_WORKER = Worker("scoresim-draw-ahead", nice=DRAW_NICE)
_planners: weakref.WeakSet[DrawAhead] = weakref.WeakSet()


def _forget_parent() -> None:
    """In a forked child: the parent's lock is not ours, and no one will finish the
    pieces its worker had under way (the child's worker starts afresh): drop every plan."""
    global _lock
    _lock = threading.Lock()
    for planner in list(_planners):
        planner.settle()


os.register_at_fork(after_in_child=_forget_parent)


def wanted(n_citizens: int) -> bool:
    """Whether a model of ``n_citizens`` built in this thread should use a second core: a large
    population, in a process's main thread (not a Dask worker or a dashboard tab, which
    share the cores with others), on a machine with two cores or more."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (AHEAD_FROM is not None and n_citizens >= AHEAD_FROM
            and threading.current_thread() is threading.main_thread() and cores > 1)


@dataclass(frozen=True)
class _Deferred:
    """The size of a :func:`simulation.deferred.deferred` call, told apart from ``random``'s."""

    size: int


def _numbers(size) -> int:
    """64-bit outputs that ``Generator.random(size)`` (or a deferred call) takes."""
    if isinstance(size, _Deferred):
        return size.size
    return 1 if size is None else math.prod(size) if isinstance(size, tuple) else size


def _plannable(size) -> bool:
    return (size is None or isinstance(size, (int, _Deferred))
            or (isinstance(size, tuple) and all(isinstance(k, int) for k in size)))


class _Draw:
    """One planned ``random(size)`` call of one stream: the numbers that follow the
    stream's ``state`` after ``offset`` 64-bit outputs. Any thread may draw any of its
    pieces, from its own generator set to that state and advanced to the piece, so the
    stream's own generator is not touched while the plan lasts."""

    __slots__ = ("kind", "state", "offset", "size", "value", "taken", "pieces", "filling", "done", "dropped",
                 "error", "submitted", "helped")

    def __init__(self, kind: type, state: dict, offset: int, size) -> None:
        self.kind, self.state, self.offset, self.size = kind, state, offset, size
        self.value: np.ndarray | None = None  # made by the first thread that takes a piece
        self.taken, self.pieces = 0, max(1, math.ceil(_numbers(size) / PIECE))
        self.filling = 0  # pieces being drawn now
        self.done = threading.Event()
        self.dropped = self.submitted = self.helped = False
        self.error: BaseException | None = None

    def work(self) -> None:
        """Draw pieces until none is left to take (by the worker or the model's thread)."""
        while True:
            with _lock:
                if self.dropped or self.taken == self.pieces:
                    return
                if self.value is None:
                    self.value = np.empty(1 if self.size is None else self.size)
                piece, self.taken, self.filling = self.taken, self.taken + 1, self.filling + 1
            try:
                generator = generator_at(self.kind, self.state, self.offset + piece * PIECE)
                generator.random(out=self.value.reshape(-1)[piece * PIECE:(piece + 1) * PIECE])
            except BaseException as error:  # handed to the model's thread, which draws in place
                self.error = error
            with _lock:
                self.filling -= 1
                if _WORKER.is_current():
                    self.helped = True
                if self.taken == self.pieces and self.filling == 0:
                    self.done.set()

    def take(self):
        """The numbers, once drawn: pieces no one has taken are drawn in this thread;
        pieces another thread is drawing are waited for."""
        self.work()
        self.done.wait()
        return float(self.value[0]) if self.size is None else self.value

    def drop(self) -> None:
        """No one will take these numbers: the worker leaves the remaining pieces."""
        with _lock:
            self.dropped = True


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
        self.start_state: dict | None = None  # the stream's state when its plan started (None: no plan)
        self.handed = 0  # numbers of the plan handed over
        self.calls: list = []  # sizes of this step's random() calls, until an unplannable one
        self.broken = False

    def random(self, size=None, dtype=np.float64, out=None):
        plain = out is None and dtype is np.float64 and _plannable(size)
        if plain and self.planned and type(self.planned[0].size) is type(size) and self.planned[0].size == size:
            return self._hand_over(self.planned.popleft())
        self.settle()
        self._record(size, plannable=plain)
        return self._generator.random(size, dtype, out)

    def deferred(self, size: int):
        """:func:`simulation.deferred.deferred` of this stream: from the plan's state and
        offset when planned (nothing for the worker to draw), else in place."""
        call = _Deferred(size)
        if self.planned and self.planned[0].size == call:
            draw = self.planned.popleft()
            self.handed += size
            self._record(call, plannable=True)
            return later.numbers_after(draw.kind, draw.state, draw.offset, size)
        self.settle()
        self._record(call, plannable=True)
        return later.deferred(self._generator, size)

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
        value = draw.take()
        if draw.error is not None:  # e.g. memory ran short on the worker: draw in place instead
            self.planned.appendleft(draw)
            self.settle()
            self._record(draw.size, plannable=True)
            return self._generator.random(draw.size)
        self._ahead.drawn_ahead += draw.helped
        draw.value = None
        self.handed += _numbers(draw.size)
        self._record(draw.size, plannable=True)
        self._ahead.handed_over(draw)
        return value

    def settle(self) -> None:
        """Drop the draws planned and not handed over; put the stream where drawing in
        place would have left it: its state when the plan started, advanced by the
        numbers handed over."""
        for draw in self.planned:
            draw.drop()
            self._ahead.handed_over(draw)
        self.planned.clear()
        if self.start_state is None:
            return
        bits = self._generator.bit_generator
        bits.state = self.start_state
        later.advance(bits, self.handed)
        self.start_state = None


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
        """Called once a step has made all its draws: plan the next step's from this
        step's calls and the step before's, and start drawing them (none after a run's
        last step, ``plan_next`` False; the calls are forgotten all the same)."""
        self.settle()
        plan = [(self.streams[name], self.streams[name].calls[index])
                for name, index in self._order if plan_next and self._repeats(name, index)]
        self._previous = {name: s.calls for name, s in self.streams.items()}
        self._order = []
        offsets = {}
        for s in self.streams.values():
            s.calls, s.broken, s.handed = [], False, 0
        for stream, size in plan:
            if stream.name not in offsets:
                stream.start_state, offsets[stream.name] = stream._generator.bit_generator.state, 0
            draw = _Draw(type(stream._generator.bit_generator), stream.start_state, offsets[stream.name], size)
            offsets[stream.name] += _numbers(size)
            stream.planned.append(draw)
            if not isinstance(size, _Deferred):  # a deferred call leaves the worker nothing to draw
                self._plan.append(draw)
        self._refill()

    def _repeats(self, name: str, index: int) -> bool:
        """Whether a stream's calls up to ``index`` had the same sizes the step before
        (after the first step there is no step before: then all are planned)."""
        before, calls = self._previous.get(name), self.streams[name].calls
        return before is None or before[:index + 1] == calls[:index + 1]

    def settle(self) -> None:
        """Drop every draw not handed over: each stream is then exactly where drawing in
        place leaves it (done before pickling, when a step fails, and in a forked child)."""
        self._plan.clear()
        for stream in self.streams.values():
            stream.settle()
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
            if not draw.dropped and not draw.done.is_set():  # not dropped, nor taken by the model
                draw.submitted = True
                _WORKER.submit(draw.work)
                self._outstanding += 1
                self._outstanding_bytes += 8 * _numbers(draw.size)
