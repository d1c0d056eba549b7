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

PARALLEL_FROM = 500_000
"""Citizens from which a model that uses a second core (see :func:`simulation.draws.wanted`)
also computes parts of a step at once; below it the handovers between the threads cost
about what they save (measured: no gain at 250k and 500k, 10-15% slower at 100k; 20%
faster at 1M)."""

BLOCK = 1 << 16
"""Elements (citizens, ties) that elementwise work handles at a time: its temporaries
(half a megabyte per array of numbers) then stay in the core's cache instead of
passing through memory, which makes a chain of operations up to twice as fast."""

_jobs: queue.SimpleQueue = queue.SimpleQueue()
_worker: list[threading.Thread] = []  # one for the process, started with its first task


def _forget_parent() -> None:
    """In a forked child: the parent's worker and its queue are not ours."""
    global _jobs
    _jobs = queue.SimpleQueue()
    _worker.clear()


os.register_at_fork(after_in_child=_forget_parent)


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


def _work() -> None:
    while True:
        _jobs.get().run()


def together(enabled: bool, *calls: Callable[[], Any]) -> list[Any]:
    """The results of ``calls`` (independent tasks, see the module docstring), computed
    at once on two cores when ``enabled``, else one after the other in order."""
    if not enabled or len(calls) < 2 or threading.current_thread() in _worker:  # the worker waits on no one
        return [call() for call in calls]
    tasks = [_Task(call) for call in calls[1:]]
    if not _worker:
        thread = threading.Thread(target=_work, name="scoresim-parallel", daemon=True)
        thread.start()
        _worker.append(thread)
    for task in tasks:
        _jobs.put(task)
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
