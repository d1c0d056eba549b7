"""Uniform numbers that a step draws for every citizen but uses for a few: computed only where used.

Every mechanism draws one uniform number per citizen per step from its own stream, so
that two scenarios with the same seed share every draw their rules do not change
(common random numbers). Many of those numbers are looked at for a few citizens only:
whether an infraction was serious (for the 1-2% who committed one), whether a
department detected an act (for those who acted), appeals (for the listed). Drawing a
million numbers to read twenty thousand of them costs 2-4 ms.

:func:`deferred` takes the place of ``stream.random(size)`` and moves the stream on by
the same ``size`` numbers; the array it returns reads like the one ``random`` would have
made (``u[part]`` for a slice, ``u[who]`` for positions) but computes a number only when
it is read, from the stream's state, and gives the same number to the bit.

numpy's ``PCG64`` (what :func:`simulation.streams.make_streams` gives every stream) is a
linear congruential generator on 128 bits, ``s -> a*s + c``, whose ``random`` returns
``(output(s) >> 11) * 2**-53`` of the next state, one state per number. The state ``k``
numbers on is ``a**k * s + c * (1 + a + ... + a**(k-1))``, so the ``k``-th number is
computed from two small tables (for the low 12 bits of ``k``, and for its high bits
from this stream's state) with one 128-bit multiply-add, done in 32-bit halves with
numpy's 64-bit integers. Where more than one in ``DENSE`` of a deferred array's
numbers is read, it is cheaper to draw them all, which is done instead (from the
thread's own generator set to that state, :func:`generator_at`, which draw-ahead's
pieces use too; the stream is not touched). Other bit generators, and arrays of fewer
than ``DEFER_FROM`` numbers, get the array drawn.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341  # PCG64's, numpy's pcg64.h
_MASK = (1 << 128) - 1
_LOW_BITS = 12
_LOW = 1 << _LOW_BITS
_CHUNK = 8192
"""Positions computed at a time: the temporaries of 64 KiB each (larger ones, of about
100 to 200 KiB, made the arithmetic five times slower, measured at 12,000 to 20,000)."""
DEFER_FROM = 50_000
"""Numbers from which :func:`deferred` computes only those read: a call costs about
60 microseconds whatever it reads (some fifty numpy operations), what drawing 20,000
numbers costs, so smaller arrays are drawn (the same numbers either way)."""
DENSE = 8
"""Where a read takes more than one in ``DENSE`` of a deferred array's numbers, the
array is drawn whole instead (a number computed alone costs about as much as eight
drawn in a row)."""


def _halves(values: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """128-bit integers as arrays of their high and low 64 bits."""
    return (np.array([v >> 64 for v in values], np.uint64),
            np.array([v & 0xFFFF_FFFF_FFFF_FFFF for v in values], np.uint64))


def _jumps() -> tuple[list[int], list[int]]:
    """For k below 2**_LOW_BITS: a**k and 1 + a + ... + a**(k-1) (mod 2**128)."""
    power, series = [1], [0]
    for _ in range(1, _LOW):
        power.append(power[-1] * _MULTIPLIER & _MASK)
        series.append((series[-1] * _MULTIPLIER + 1) & _MASK)
    return power, series


_POWER, _SERIES = _jumps()
_POWER_HALVES = _halves(_POWER)
_STRIDE = _POWER[-1] * _MULTIPLIER & _MASK, (_SERIES[-1] * _MULTIPLIER + 1) & _MASK  # a**_LOW, its series


@functools.lru_cache(maxsize=64)
def _increments(inc: int) -> tuple[np.ndarray, np.ndarray]:
    """c * (1 + a + ... + a**(k-1)) for k below 2**_LOW_BITS: a stream's own table."""
    return _halves([s * inc & _MASK for s in _SERIES])


_32, _HALF = np.uint64(32), np.uint64(0xFFFF_FFFF)


def _mulhi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The high 64 bits of the 128-bit products x*y."""
    x0, x1, y0, y1 = x & _HALF, x >> _32, y & _HALF, y >> _32
    low, cross1, cross2 = x0 * y0, x0 * y1, x1 * y0
    carry = (low >> _32) + (cross1 & _HALF) + (cross2 & _HALF)
    return x1 * y1 + (cross1 >> _32) + (cross2 >> _32) + (carry >> _32)


class _Numbers:
    """The next ``size`` numbers of a PCG64 stream whose state is ``state`` (an integer)
    with increment ``inc``: the states every 2**_LOW_BITS numbers, made at once."""

    def __init__(self, state: int, inc: int, size: int) -> None:
        self.state, self.inc = state, inc
        power, series = _STRIDE
        step, states = series * inc & _MASK, [state]
        for _ in range(size >> _LOW_BITS):
            states.append((states[-1] * power + step) & _MASK)
        self.strides = _halves(states)

    def at(self, k: np.ndarray) -> np.ndarray:
        """The numbers at positions ``k`` (0 is the next one)."""
        if k.size <= _CHUNK:
            return self._at(k)
        return np.concatenate([self._at(k[i:i + _CHUNK]) for i in range(0, k.size, _CHUNK)])

    def _at(self, k: np.ndarray) -> np.ndarray:
        k = k + 1  # the number at position k comes from the state k + 1 steps on
        high, low = k >> _LOW_BITS, k & (_LOW - 1)
        a_hi, a_lo = _POWER_HALVES[0].take(low), _POWER_HALVES[1].take(low)
        s_hi, s_lo = self.strides[0].take(high), self.strides[1].take(high)
        c_hi, c_lo = (half.take(low) for half in _increments(self.inc))
        lo = a_lo * s_lo
        hi = _mulhi(a_lo, s_lo) + a_lo * s_hi + a_hi * s_lo
        new_lo = lo + c_lo
        new_hi = hi + c_hi + (new_lo < lo)
        x, rotate = new_hi ^ new_lo, new_hi >> np.uint64(58)  # PCG64's output: XSL-RR
        out = (x >> rotate) | (x << ((np.uint64(64) - rotate) & np.uint64(63)))
        return (out >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)

    def drawn(self, start: int, stop: int) -> np.ndarray:
        """The numbers at positions ``start`` to ``stop``, drawn in a row."""
        state = {"bit_generator": "PCG64", "state": {"state": self.state, "inc": self.inc},
                 "has_uint32": 0, "uinteger": 0}
        return generator_at(np.random.PCG64, state, start).random(stop - start)


class Deferred:
    """``stream.random(size)`` whose numbers are computed when read: ``u[part]`` (a
    slice: another deferred array) or ``u[who]`` (positions: the numbers)."""

    __slots__ = ("_numbers", "_start", "size")

    def __init__(self, numbers: _Numbers, start: int, size: int) -> None:
        self._numbers, self._start, self.size = numbers, start, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self.size)
            if step != 1:
                raise IndexError("a deferred array takes slices with step 1")
            return Deferred(self._numbers, self._start + start, max(stop - start, 0))
        who = np.asarray(key)
        if who.dtype.kind not in "iu":
            raise IndexError(f"a deferred array takes a slice or integer positions, not {who.dtype}")
        who = who.astype(np.int64, copy=False)
        if who.size and (who.min() < 0 or who.max() >= self.size):
            raise IndexError(f"positions out of range for a deferred array of {self.size} numbers")
        if who.size * DENSE > self.size:
            return self._numbers.drawn(self._start, self._start + self.size)[who]
        return self._numbers.at(who + self._start)


_scratch = threading.local()  # each thread's generators, by bit generator type


def generator_at(kind: type, state: dict, offset: int) -> np.random.Generator:
    """This thread's own generator of ``kind``, set to ``state`` and advanced by
    ``offset`` 64-bit outputs: a stream's numbers further on, drawn without touching the
    stream (use it at once; the thread's next call sets it anew)."""
    generators = _scratch.__dict__.setdefault("generators", {})
    if kind not in generators:
        generators[kind] = np.random.Generator(kind(0))
    generator = generators[kind]
    generator.bit_generator.state = state
    generator.bit_generator.advance(offset)
    return generator


def advance(bits: np.random.BitGenerator, numbers: int) -> None:
    """Move ``bits`` on by ``numbers`` 64-bit outputs, as ``random(numbers)`` does: keep
    the spare half of an output that a 32-bit draw left (``advance`` drops it)."""
    spare = bits.state
    bits.advance(numbers)
    state = bits.state
    state["has_uint32"], state["uinteger"] = spare["has_uint32"], spare["uinteger"]
    bits.state = state


def numbers_after(kind: type, state: dict, offset: int, size: int):
    """A deferred array of the ``size`` numbers that follow ``offset`` numbers from
    ``state``, the state of a ``kind`` bit generator whose ``advance`` counts 64-bit
    outputs (PCG64; for PCG64DXSM, the numbers drawn)."""
    generator = generator_at(kind, state, offset)
    if kind is not np.random.PCG64:
        return generator.random(size)
    s = generator.bit_generator.state["state"]
    return Deferred(_Numbers(s["state"], s["inc"], size), 0, size)


def below_where(mask: np.ndarray, u, p: float) -> np.ndarray:
    """``mask & (u < p)``, reading ``u`` (an array or a deferred array) only where
    ``mask`` holds."""
    if isinstance(u, np.ndarray):  # drawn: comparing all is cheaper than finding the few
        return mask & (u < p)
    who = np.flatnonzero(mask)
    out = np.zeros(mask.size, bool)
    out[who[u[who] < p]] = True
    return out


def deferred(stream, size: int):
    """In place of ``stream.random(size)``: an array of the same numbers, each computed
    only if read, and the stream moved on by ``size`` numbers all the same (below
    ``DEFER_FROM`` numbers: the array drawn)."""
    if size < DEFER_FROM:
        return stream.random(size)
    if not isinstance(stream, np.random.Generator):  # a stream drawing ahead (simulation.draws)
        return stream.deferred(size)
    bits = stream.bit_generator
    if type(bits) is not np.random.PCG64:
        return stream.random(size)
    s = bits.state["state"]
    advance(bits, size)
    return Deferred(_Numbers(s["state"], s["inc"], size), 0, size)
