"""Each citizen's story: a compact, append-only log of events.

Events are stored in chunks of parallel arrays (step, citizen, code, value), never as
one Python object per event, so a million-citizen run can keep them. ``for_citizen``
gathers one citizen's events in time order.
"""

from __future__ import annotations

import numpy as np

EVENT_CODES = (
    "recorded", "recorded_wrongly", "listed", "listed_wrongly", "appealed", "delisted_appeal",
    "delisted_expiry", "ties_cut", "opted_in_commercial", "opted_out_commercial", "opted_in_rating",
    "opted_out_rating", "grade_change", "redlisted",
    "judgement", "complied",
)
CODE = {name: i for i, name in enumerate(EVENT_CODES)}


class EventLog:
    """Append-only event store; ``enabled=False`` keeps nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, step: int, who: np.ndarray, event: str, value: np.ndarray | float = 0.0) -> None:
        """Record ``event`` at ``step`` for the citizens in ``who`` (a mask or indices)."""
        if not self.enabled:
            return
        idx = np.flatnonzero(who) if who.dtype == bool else np.asarray(who)
        if idx.size == 0:
            return
        if np.ndim(value):
            values = np.asarray(value)[who] if who.dtype == bool else np.asarray(value)
        else:
            values = np.full(idx.size, value)
        self._chunks.append((np.full(idx.size, step, np.int32), idx.astype(np.int32),
                             np.full(idx.size, CODE[event], np.int8), np.array(values, np.float32)))

    def for_citizen(self, i: int) -> list[dict]:
        """All events of citizen ``i`` as dicts (step, event, value), oldest first."""
        out = []
        for steps, who, codes, values in self._chunks:
            hit = np.flatnonzero(who == i)
            out.extend({"step": int(steps[k]), "event": EVENT_CODES[codes[k]], "value": float(values[k])}
                       for k in hit)
        return out

    def who(self, event: str) -> np.ndarray:
        """Citizens with at least one event of this kind, sorted."""
        code = CODE[event]
        found = [c[1][c[2] == code] for c in self._chunks]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int32)

    def count(self, event: str) -> int:
        """How many events of this kind were logged."""
        return int(sum((c[2] == CODE[event]).sum() for c in self._chunks))
