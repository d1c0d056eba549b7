"""Commercial opt-in score (Sesame-like), 350-950, rewards only.

The rule in plain words. Citizens choose to opt in (see
:func:`~simulation.rules.base.choose_opt_in`). For its users the platform computes a
score between ``min_score`` and ``max_score`` (350-950, source 002) as a weighted mean
of: repayment history in the transactions it sees, income rank, education, purchase
categories ('diapers, not video games', 002, 004) and, if ``weight_friends`` > 0, the
mean score of the user's opted-in contacts (002); recorded critical posts may lower
it (``weight_speech``, the fear in 004). Users at or above ``reward_threshold`` get
rewards (deposit-free bikes and power banks, cheaper rentals, 002); nobody is
punished. A user's score is visible to contacts, who trust a high score more and a
low one less (``lender_conditioning``). With friends' scores counted, users may cut
ties to much lower-scored contacts and befriend people of similar score
(``tie_pruning``): social sorting. The platform is not felt as surveillance (users see
the score as a service and often do not know how it is computed, 000, 002): it adds
nothing to the perceived watch, so its records deter only where a government rule set
already makes citizens feel watched.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..deferred import below_where, deferred
from ..metrics import share
from ..network import drawn_ties, rewire
from ..parallel import blocks
from .base import Consequences, RuleSetBase, choose_opt_in, severity

PRUNE_GAP = 0.2
"""A contact is 'much lower-scored' below the user's own normalised score minus this."""


class Commercial(RuleSetBase):
    """Sesame-like opt-in score (see the module docstring)."""

    kind = "commercial"

    def __init__(self, config, model) -> None:
        super().__init__(config, model)
        n = model.citizens.n
        self.opted = np.zeros(n, bool)
        self.bad_repayments = np.zeros(n)
        self.posts_seen = np.zeros(n)
        self._fixed_parts = self._fixed()
        self.norm = self._own_part()
        self.scores = self._to_points(self.norm)

    def _to_points(self, norm: np.ndarray) -> np.ndarray:
        return self.config.min_score + (self.config.max_score - self.config.min_score) * norm

    def _fixed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weighted parts of the score that come from fixed attributes: income rank,
        education and purchase habits."""
        cfg, c = self.config, self.model.citizens
        return (cfg.weight_income * c.income_rank, cfg.weight_education * c.education / 2.0,
                cfg.weight_purchases * c.consumption)

    def reconfigure(self, config) -> None:
        super().reconfigure(config)
        self._fixed_parts = self._fixed()

    def _own_part(self, part: slice = slice(None)) -> np.ndarray:
        """Score from the user's own data, in [0, 1], before friends (of the citizens in ``part``)."""
        cfg = self.config
        income, education, purchases = self._fixed_parts
        parts = (cfg.weight_repayment * np.exp(-self.bad_repayments[part])
                 + income[part] + education[part] + purchases[part])
        own_weight = self._own_weight()
        return parts / own_weight if own_weight > 0 else np.full(parts.size, 0.5)

    def _own_weight(self) -> float:
        """Total weight of the parts from the user's own data."""
        cfg = self.config
        return cfg.weight_repayment + cfg.weight_income + cfg.weight_education + cfg.weight_purchases

    def behave(self) -> None:
        expects = self.norm >= self._threshold_norm()
        self.opted = choose_opt_in(self.model, self.opted, expects, self.rng, "commercial")

    def _threshold_norm(self) -> float:
        cfg = self.config
        return (cfg.reward_threshold - cfg.min_score) / (cfg.max_score - cfg.min_score)

    def score(self, rec) -> None:
        cfg, model = self.config, self.model
        n, two_cores = model.citizens.n, model.two_cores
        u_repay, u_post = deferred(self.rng, n), deferred(self.rng, n)  # read for members who acted
        acts, cover = model.last_acts, cfg.platform_coverage  # the platform sees some of its members' acts
        seen = (below_where(self.opted & acts.cheated, u_repay, cover),
                below_where(self.opted & acts.speech, u_post, cover))
        before = self.bad_repayments, self.posts_seen
        self.bad_repayments, self.posts_seen, own = np.empty(n), np.empty(n), np.empty(n)
        blocks(two_cores, n, partial(self._own_score, before, seen, own))
        if cfg.weight_friends > 0:
            total = self._own_weight()
            ties = model.ties
            members = self.opted.astype(float)
            friends_sum = ties.neighbour_sum(self.norm, members)
            friends_n = ties.neighbour_sum(members)
            friends = np.where(friends_n > 0, friends_sum / np.maximum(friends_n, 1.0), own)
            own = (own * total + cfg.weight_friends * friends) / (total + cfg.weight_friends)
        self.norm, self.scores = np.empty(n), np.empty(n)
        blocks(two_cores, n, partial(self._final_score, own))

    def _own_score(self, before: tuple[np.ndarray, np.ndarray], seen: tuple[np.ndarray, np.ndarray],
                   own: np.ndarray, part: slice) -> None:
        """For the citizens in ``part``: the bad repayments and posts the platform saw
        decay (from their values ``before``) and grow by those ``seen`` this step, and
        the score from their own data follows into ``own``."""
        decay = self.model.decay_per_year
        (bad_repayments, posts_seen), (repaid_badly, posted) = before, seen
        self.bad_repayments[part] = bad_repayments[part] * decay + repaid_badly[part]
        self.posts_seen[part] = posts_seen[part] * decay + posted[part]
        own[part] = self._own_part(part)

    def _final_score(self, own: np.ndarray, part: slice) -> None:
        """For the citizens in ``part``: critical posts the platform saw cost score; the
        score is kept in [0, 1] and in points."""
        cfg = self.config
        norm = np.clip(own[part] - cfg.weight_speech * (1.0 - np.exp(-self.posts_seen[part])), 0.0, 1.0)
        self.norm[part] = norm
        self.scores[part] = self._to_points(norm)

    def consequences(self, rec, cons: Consequences) -> None:
        cfg = self.config

        def reward_and_show(part: slice) -> None:  # members with a high score are rewarded; contacts see it
            opted = self.opted[part]
            cons.reward[part] += cfg.reward * (opted & (self.scores[part] >= cfg.reward_threshold))
            cons.visible_score[part] = np.where(opted, self.norm[part], cons.visible_score[part])

        blocks(self.model.two_cores, self.model.citizens.n, reward_and_show)
        cons.lender_conditioning = max(cons.lender_conditioning, cfg.lender_conditioning)
        if cfg.weight_friends > 0 and cfg.tie_pruning > 0:
            self._prune()

    def _prune(self) -> None:
        """Users cut ties to much lower-scored contacts and rewire to similar scores."""
        model, ties = self.model, self.model.ties
        edges = drawn_ties(ties, self.rng, self.config.tie_pruning, model.two_cores)
        eu, ev = ties.u[edges], ties.v[edges]
        both = self.opted[eu] & self.opted[ev]  # only users' scores count as friends' scores
        su, sv = self.norm[eu], self.norm[ev]
        u_prunes = both & (sv < su - PRUNE_GAP)
        cut = u_prunes | (both & (su < sv - PRUNE_GAP))
        groups = np.where(self.opted, np.minimum((self.norm * 10).astype(np.int64), 9), -1)
        rewire(ties, edges[cut], np.where(u_prunes, eu, ev)[cut], groups, self.rng, model)

    def severity(self) -> dict[str, float]:
        cfg, stigma = self.config, self.model.config.behaviour.record_stigma
        # losing the reward for about a year (the decay time of a bad record)
        return {
            "default": severity(stigma + cfg.reward * cfg.weight_repayment * cfg.platform_coverage),
            "speech": severity(stigma + cfg.reward * cfg.weight_speech * cfg.platform_coverage)
            if cfg.weight_speech > 0 else 0.0,
        }

    def standing(self) -> tuple[np.ndarray, np.ndarray]:
        return self.norm, self.opted

    def metrics(self) -> dict[str, float]:
        return {
            "opted_in_commercial": share(self.opted),
            "mean_commercial_score": float(self.scores[self.opted].mean()) if self.opted.any() else 0.0,
        }

    def citizen(self, i: int) -> dict:
        return {"commercial_opted_in": bool(self.opted[i]),
                "commercial_score": float(self.scores[i]) if self.opted[i] else None}
