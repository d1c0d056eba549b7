"""Opt-in government rating (Honest-Shanghai-like): very good, good or bad; rewards only.

The rule in plain words. Citizens choose to opt in (see
:func:`~simulation.rules.base.choose_opt_in`). A user is rated from the government
records that departments share: no recent record rates 'very good', up to
``good_max_records`` recent records (time-discounted over ``window_days``) rate
'good', more, or being on a blacklist, rates 'bad' (three ratings from government
data, source 002). Only 'very good' is rewarded; nobody is punished (002).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..metrics import share
from ..parallel import blocks
from .base import Consequences, RuleSetBase, choose_opt_in, severity

LEVELS = ("bad", "good", "very good")


class Rating(RuleSetBase):
    """Opt-in three-level government rating (see the module docstring)."""

    kind = "rating"

    def __init__(self, config, model) -> None:
        super().__init__(config, model)
        n = model.citizens.n
        self.opted = np.zeros(n, bool)
        self.records = np.zeros(n)
        self.level = np.full(n, 2, np.int8)

    def feeds(self) -> tuple[str, ...]:
        regs = self.model.regulators
        return tuple(d for d in ("courts", "transport") if regs[d].config.shares_records)

    def behave(self) -> None:
        self.opted = choose_opt_in(self.model, self.opted, self.level == 2, self.rng, "rating")

    def score(self, rec) -> None:
        model, n = self.model, self.model.citizens.n
        seen = set(self.feeds())
        decay = float(np.exp(-model.config.run.days_per_step / self.config.window_days))
        before, listed = self.records, model.listed()
        self.records, self.level = np.empty(n), np.empty(n, np.int8)
        blocks(model.two_cores, n, partial(self._score, rec, "transport" in seen, "courts" in seen, decay,
                                           before, listed))

    def _score(self, rec, transport: bool, courts: bool, decay: float, before: np.ndarray, listed: np.ndarray,
               part: slice) -> None:
        """Records decay and grow from their values ``before`` (with the records of the
        departments that feed the rating), and set the level (of the citizens in ``part``)."""
        cfg = self.config
        new = ((rec.minor[part] | rec.serious[part]) & transport).astype(float) + (rec.judgement_unmet[part] & courts)
        records = before[part] * decay + new
        good = records < 0.5  # level 2; 1 up to good_max_records; 0 above it or when listed
        fair = (records <= cfg.good_max_records) & ~good
        level = (good.view(np.int8) << 1) | fair.view(np.int8)  # bit arithmetic: np.where mispredicts
        level *= ~listed[part]
        self.records[part], self.level[part] = records, level

    def consequences(self, rec, cons: Consequences) -> None:
        def reward(part: slice) -> None:
            cons.reward[part] += self.config.reward * (self.opted[part] & (self.level[part] == 2))

        blocks(self.model.two_cores, self.model.citizens.n, reward)

    def severity(self) -> dict[str, float]:
        cfg, seen = self.config, set(self.feeds())
        loss = self.model.config.behaviour.record_stigma + cfg.reward * cfg.window_days / 365
        return {"infraction": severity(loss) if "transport" in seen else 0.0,
                "default": severity(loss) if "courts" in seen else 0.0}

    def standing(self) -> tuple[np.ndarray, np.ndarray]:
        return self.level / 2.0, self.opted

    def metrics(self) -> dict[str, float]:
        return {"opted_in_rating": share(self.opted),
                "share_rated_bad": share(self.opted & (self.level == 0))}

    def citizen(self, i: int) -> dict:
        return {"rating_opted_in": bool(self.opted[i]),
                "rating": LEVELS[self.level[i]] if self.opted[i] else None}
