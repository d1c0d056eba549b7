"""Regulators: the departments that observe behaviour and record it, with error.

Each department is an ordinary Mesa agent (there are six), so it can be inspected
like any Mesa agent; its work is vectorised over all citizens at once. A department
detects an act in its domain with chance ``coverage``, fails to record a detected
act with ``false_negative_rate``, records acts nobody committed at
``false_positive_rate`` a year, and fails to record that a judgement was met with
``failure_to_record_rate``.
"""

from __future__ import annotations

import mesa
import numpy as np

from .deferred import below_where

DOMAINS = ("courts", "transport", "market", "tax", "civil_affairs", "public_security")


def per_step(rate_per_year: float, days_per_step: int) -> float:
    """Chance of at least one event in a step for a Poisson rate given per year."""
    return float(-np.expm1(-rate_per_year * days_per_step / 365.0))


class Regulator(mesa.Agent):
    """One department; ``counts`` holds what it did in the last step."""

    def __init__(self, model: mesa.Model, name: str, config) -> None:
        super().__init__(model)
        self.name = name
        self.config = config
        self.counts: dict[str, int] = {}
        self.appeal_queue = 0

    def record(self, acts: np.ndarray, detect_u: np.ndarray, error_u: np.ndarray,
               days_per_step: int) -> tuple[np.ndarray, np.ndarray]:
        """Recorded acts, and which of them are false, given the true ``acts``.

        ``detect_u`` and ``error_u`` are uniform draws, one per subject, so the same
        draws decide detection in every scenario (common random numbers).
        """
        records, false = self.recorded(acts, self.detected(acts, detect_u), error_u, days_per_step)
        self.count(records, false)
        return records, false

    def detected(self, acts: np.ndarray, detect_u) -> np.ndarray:
        """Which of the true ``acts`` are detected and recorded; ``detect_u`` is read only
        where an act was committed (it may be a deferred array, :mod:`simulation.deferred`)."""
        c = self.config
        return below_where(acts, detect_u, c.coverage * (1.0 - c.false_negative_rate))

    def recorded(self, acts: np.ndarray, caught: np.ndarray, error_u: np.ndarray,
                 days_per_step: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`record` without counting, given the acts :meth:`detected`: each subject's
        own, so it can be computed for any part of the subjects (then :meth:`count` the whole)."""
        false = ~acts & (error_u < per_step(self.config.false_positive_rate, days_per_step))
        return caught | false, false

    def count(self, records: np.ndarray, false: np.ndarray) -> None:
        """Keep in ``counts`` how many acts were detected and how many records were false."""
        n_false = np.count_nonzero(false)
        self.counts = {"detected": np.count_nonzero(records) - n_false, "false_records": n_false}

    def records_compliance(self, met: np.ndarray, error_u) -> np.ndarray:
        """Which of the ``met`` judgements are recorded as met (not: Liu Hu's case)."""
        return met & ~below_where(met, error_u, self.config.failure_to_record_rate)

    def capacity(self, n_citizens: int, u: float) -> int:
        """Appeals decided this step: the expected number, rounded up or down at random
        (``u`` uniform) so that small populations keep their share of capacity."""
        expected = self.config.appeal_capacity_per_10k * n_citizens / 10_000
        return int(expected) + int(u < expected - int(expected))

    def delay_steps(self, days_per_step: int) -> int:
        return int(np.ceil(self.config.appeal_delay_days / days_per_step))
