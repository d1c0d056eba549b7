"""Rongcheng-style municipal points and grades.

The rule in plain words. Everyone starts with ``base`` points (1000 in Rongcheng,
source 002). Each recorded infraction deducts points (minor and serious infractions,
unmet court judgements, and optionally critical posts); each recorded prosocial act
(volunteering, donating) adds a bonus. The city sees only the records of departments
that share them. Points below the base slowly recover. Points map to grades AAA, AA,
A, B, C and D by thresholds; AAA and AA receive preferential treatment (a reward), C
and D face extra requirements (a cost) (002). A record that enters the score also
carries a felt stigma (``behaviour.record_stigma``), which is what makes a small
deduction deter.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..metrics import share
from ..parallel import blocks
from .base import Consequences, RuleSetBase, severity

GRADES = ("AAA", "AA", "A", "B", "C", "D")
LOW_GRADES = 4  # grades from C down are 'low'


class Points(RuleSetBase):
    """Municipal points with grades AAA..D (see the module docstring)."""

    kind = "points"

    def __init__(self, config, model) -> None:
        super().__init__(config, model)
        self.points = np.full(model.citizens.n, float(min(config.base, config.max_points)))  # capped from the start
        self.grade = self._grades(self.points)
        self.deducted = np.zeros(model.citizens.n, bool)

    def _grades(self, points: np.ndarray) -> np.ndarray:
        """Grade index (0 = AAA) for each of ``points``: the number of thresholds above them."""
        grade = np.zeros(points.size, np.int8)
        for threshold in self.config.grade_thresholds:
            grade += points < threshold
        return grade

    def feeds(self) -> tuple[str, ...]:
        shared = self.model.regulators
        return tuple(d for d in ("courts", "transport", "civil_affairs", "public_security")
                     if shared[d].config.shares_records)

    def score(self, rec) -> None:
        model, n = self.model, self.model.citizens.n
        self.deducted, grade = np.empty(n, bool), np.empty(n, np.int8)
        blocks(model.two_cores, n, partial(self._score, rec, set(self.feeds()), grade))
        if model.events.enabled:
            model.events.add(model.steps, grade != self.grade, "grade_change", grade)
        self.grade = grade

    def _score(self, rec, seen: set[str], grade: np.ndarray, part: slice) -> None:
        """Deductions, bonuses, recovery and grades of the citizens in ``part``."""
        cfg = self.config
        none = np.zeros(part.stop - part.start, bool)
        minor = rec.minor[part] if "transport" in seen else none
        serious = rec.serious[part] if "transport" in seen else none
        unmet = rec.judgement_unmet[part] if "courts" in seen else none
        speech = rec.speech[part] if "public_security" in seen and cfg.speech_deduction > 0 else none
        points = self.points[part]  # a view: changed in place
        self.deducted[part] = deducted = minor | serious | unmet | speech
        hit = np.flatnonzero(deducted)
        points[hit] -= (cfg.minor_deduction * minor[hit] + cfg.serious_deduction * serious[hit]
                        + cfg.default_deduction * unmet[hit] + cfg.speech_deduction * speech[hit])
        if "civil_affairs" in seen:
            points[rec.prosocial[part]] += cfg.prosocial_bonus
        step_recovery = cfg.recovery_per_year * self.model.config.run.days_per_step / 365.0
        # points below the base recover toward it; points at or above it stay
        np.minimum(points + step_recovery, np.maximum(points, cfg.base), out=points)
        np.clip(points, 0.0, cfg.max_points, out=points)
        grade[part] = self._grades(points)

    def consequences(self, rec, cons: Consequences) -> None:
        blocks(self.model.two_cores, self.model.citizens.n, partial(self._consequences, cons))

    def _consequences(self, cons: Consequences, part: slice) -> None:
        cfg, grade = self.config, self.grade[part]
        low = grade >= LOW_GRADES
        cons.reward[part] += cfg.reward_high * (grade <= 1)
        cons.income_loss[part] += cfg.cost_low * low
        cons.sanctioned[part] |= low
        cons.recorded_into_score[part] |= self.deducted[part]

    def _felt(self, points: float, stigma: bool = True) -> float:
        """Felt weight of a change of ``points``: the grade-dependent treatment at stake
        for as long as the points take to recover (at most five years), plus the stigma
        of a record for a deduction (a bonus carries none)."""
        cfg = self.config
        t = cfg.grade_thresholds
        gap = (t[0] - t[-1]) / (len(t) - 1)
        years = min(5.0, points / cfg.recovery_per_year) if cfg.recovery_per_year > 0 else 5.0
        shame = self.model.config.behaviour.record_stigma if stigma and points > 0 else 0.0
        return shame + (cfg.reward_high + cfg.cost_low) * min(1.0, points / gap) * years

    def severity(self) -> dict[str, float]:
        cfg, seen = self.config, set(self.feeds())
        minor = (1 - self.model.config.behaviour.serious_share) * cfg.minor_deduction + \
            self.model.config.behaviour.serious_share * cfg.serious_deduction
        return {
            "infraction": severity(self._felt(minor)) if "transport" in seen else 0.0,
            "default": severity(self._felt(cfg.default_deduction)) if "courts" in seen else 0.0,
            "speech": severity(self._felt(cfg.speech_deduction)) if "public_security" in seen else 0.0,
            "prosocial": severity(self._felt(cfg.prosocial_bonus, stigma=False)) if "civil_affairs" in seen else 0.0,
        }

    def standing(self) -> tuple[np.ndarray, None]:
        low, high = self.config.grade_thresholds[-1], self.config.max_points
        return np.clip((self.points - low) / max(high - low, 1e-9), 0.0, 1.0), None

    def metrics(self) -> dict[str, float]:
        return {
            "share_low_grade": share(self.grade >= LOW_GRADES),
            "share_high_grade": share(self.grade <= 1),
            "mean_points": float(self.points.mean()),
        }

    def citizen(self, i: int) -> dict:
        return {"points": float(self.points[i]), "grade": GRADES[self.grade[i]]}
