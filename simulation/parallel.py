"""Two cores for one step: independent parts of a step computed at once, with the same numbers.

numpy releases the interpreter lock while it loops over an array, so two threads that
each run numpy code on large arrays really use two cores. :func:`together` runs a few
independent tasks, the first in the calling thread and the others on one worker thread,
and returns their results in order once all have finished; :func:`blocks` runs an
elementwise task over blocks of citizens (or ties), the first half of the blocks in the
calling thread and the second half on the worker.

The tasks must be independent: none may write what another reads or writes, and none
may draw random numbers (the model draws first, in its own thread, and hands the
arrays over). Then every number is what running the tasks one after the other gives,
which is what a model without a second core does (``enabled`` False).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

PARALLEL_FROM = 500_000
"""Citizens from which a model that uses a second core (see :func:`simulation.draws.wanted`)
also computes parts of a step at once; below it the handovers between the threads cost
about what they save (measured: no gain at 250k and 500k, 10-15% slower at 100k; 20%
faster at 1M)."""

BLOCK = 1 << 16
"""Elements (citizens, ties) that elementwise work handles at a time: its temporaries
(half a megabyte per array of numbers) then stay in the core's cache instead of
passing through memory, which makes a chain of operations up to twice as fast."""

class Worker:
    """One daemon thread of the process that runs jobs (callables) from a queue in the
    order they come, started with its first job. A forked child gets a fresh one: the
    parent's thread is not in the child, and the jobs queued for it are forgotten.

    ``nice`` lowers the thread's scheduling priority by that much (Linux's per-thread
    nice value; ignored where the system has none), so that its jobs use a core only
    when the process's other threads leave one free."""

    def __init__(self, name: str, nice: int = 0) -> None:
        self.name, self.nice = name, nice
        self._forget()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], Any]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def is_current(self) -> bool:
        """Whether the calling thread is this worker."""
        return threading.current_thread() is self._thread

    def _work(self) -> None:
        if self.nice and hasattr(os, "setpriority"):
            me = threading.get_native_id()
            try:  # a thread starts at its creator's nice value; 19 is the lowest priority
                os.setpriority(os.PRIO_PROCESS, me, min(os.getpriority(os.PRIO_PROCESS, me) + self.nice, 19))
            except OSError:  # not allowed here: run at the creator's priority
                pass
        while True:
            self._jobs.get()()


_WORKER = Worker("scoresim-parallel")


class _Task:
    __slots__ = ("call", "value", "error", "done")

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call, self.value, self.error = call, None, None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.value = self.call()
        except BaseException as error:  # raised in the caller's thread
            self.error = error
        self.done.set()


def together(enabled: bool, *calls: Callable[[], Any]) -> list[Any]:
    """The results of ``calls`` (independent tasks, see the module docstring), computed
    at once on two cores when ``enabled``, else one after the other in order."""
    if not enabled or len(calls) < 2 or _WORKER.is_current():  # the worker waits on no one
        return [call() for call in calls]
    tasks = [_Task(call) for call in calls[1:]]
    for task in tasks:
        _WORKER.submit(task.run)
    try:
        first = calls[0]()
    finally:
        for task in tasks:  # never leave a task running on the model's arrays
            task.done.wait()
    for task in tasks:
        if task.error is not None:
            raise task.error
    return [first, *(task.value for task in tasks)]


def blocks(enabled: bool, n: int, call: Callable[[slice], Any]) -> list[Any]:
    """The results of ``call(part)`` for consecutive parts of ``range(n)`` of at least
    ``BLOCK`` elements each (one part for fewer; two at least when ``enabled``), in
    order: the first half of the parts in this thread and the second half on the worker
    at the same time when ``enabled``. The call must write only within its part
    (elementwise work)."""
    count = max(2 if enabled and n > 1 else 1, n // BLOCK)  # blocks of BLOCK elements or a little more
    parts = [slice(n * i // count, n * (i + 1) // count) for i in range(count)]
    middle = (count + 1) // 2
    first, second = together(enabled, lambda: [call(part) for part in parts[:middle]],
                             lambda: [call(part) for part in parts[middle:]])
    return first + second


def indices(enabled: bool, n: int, test: Callable[[slice], np.ndarray]) -> np.ndarray:
    """``np.flatnonzero`` of a mask over ``range(n)`` that ``test(part)`` gives part by
    part (elementwise), over :func:`blocks`: the numbers where it holds, in order."""
    return np.concatenate(blocks(enabled, n, lambda part: np.flatnonzero(test(part)) + part.start))
