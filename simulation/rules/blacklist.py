"""Blacklists: court and sector lists, joint punishment, redlists, firm listings.

The rule in plain words. A citizen whose court judgement is recorded as unmet at the
end of the grace period goes on the court's List of Untrustworthy Persons for
``court_list_days`` (nominally two years, source 002). A recorded serious infraction
puts a citizen on a sector list (the railways' 180-day ban on 'train bullies', 002).
The court's own sanction is the loan ban; the travel, luxury and schooling bans of
other departments apply only when the listing department shares its records (joint
punishment). A sector list is itself a travel ban. Lists are published when the
listing department publishes (naming and shaming, 002): contacts then trust the
listed less and some cut their ties. Listed citizens may appeal; the department
decides appeals oldest first, a limited number per step, after a delay. Citizens with
no court or transport record and at least one prosocial act recorded by a civil
affairs department that shares its records, in the last ``redlist_after_days``, are
redlisted as exemplary and get perks (002). Firms with
``firm_list_threshold`` recorded violations (substandard goods, unpaid tax) within a
year are listed for ``firm_list_days`` and lose part of their revenue.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..deferred import deferred
from ..metrics import share
from ..parallel import blocks, indices
from .base import Consequences, RuleSetBase, severity

APPEAL_INCOME_WEIGHT = 0.5
"""Weight of income rank (0-1) in a listed citizen's means to appeal: assumption."""
APPEAL_EDUCATION_WEIGHT = 0.25
"""Weight of education level (0, 1, 2) in a listed citizen's means to appeal: assumption."""
LOAN_BAN_LOSS = 0.02
"""Felt loss of being barred from borrowing, like the other sanctions a share of income
for as long as the listing lasts [share of income]: assumption."""


class Blacklist(RuleSetBase):
    """Court and sector blacklists (see the module docstring)."""

    kind = "blacklist"

    def __init__(self, config, model) -> None:
        super().__init__(config, model)
        n = model.citizens.n
        self.court_until = np.full(n, -1, np.int32)
        self.sector_until = np.full(n, -1, np.int32)
        self.court_wrong = np.zeros(n, bool)
        self.sector_wrong = np.zeros(n, bool)
        self.court_since = np.full(n, -1, np.int32)
        self.sector_since = np.full(n, -1, np.int32)
        self.court_appeal = np.full(n, -1, np.int32)
        self.sector_appeal = np.full(n, -1, np.int32)
        self.redlisted = np.zeros(n, bool)
        self.last_record = np.zeros(n, np.int32)
        self.last_prosocial = np.full(n, -(10**6), np.int32)
        self.cleared_wrongful_days = 0.0
        self.cleared_wrongful = 0
        c = model.citizens  # each citizen's means to appeal, from fixed attributes
        self._means = APPEAL_INCOME_WEIGHT * c.income_rank + APPEAL_EDUCATION_WEIGHT * c.education

    def _steps(self, days: int) -> int:
        return int(np.ceil(days / self.model.config.run.days_per_step))

    def listed(self, part: slice = slice(None)) -> np.ndarray:
        """Whether each citizen (of those in ``part``) is on a list now."""
        step = self.model.steps
        return (self.court_until[part] > step) | (self.sector_until[part] > step)

    def wrongly_listed(self) -> np.ndarray:
        step = self.model.steps
        return ((self.court_until > step) & self.court_wrong) | ((self.sector_until > step) & self.sector_wrong)

    def feeds(self) -> tuple[str, ...]:
        return ("courts", "transport")

    def score(self, rec) -> None:
        cfg, step, log, n = self.config, self.model.steps, self.model.events, self.model.citizens.n
        new_court, new_sector, clean = np.empty(n, bool), np.empty(n, bool), np.empty(n, bool)
        blocks(self.model.two_cores, n, partial(self._score_citizens, rec, new_court, new_sector, clean))
        if log.enabled:
            for new, wrongful in ((new_court, rec.judgement_unmet_wrongful), (new_sector, rec.serious_false)):
                log.add(step, new & ~wrongful, "listed")
                log.add(step, new & wrongful, "listed_wrongly")
            if cfg.redlist:
                log.add(step, clean & ~self.redlisted, "redlisted")
        if cfg.redlist:
            self.redlisted = clean
        if cfg.firm_listing:
            firms = self.model.firms
            firms.violations = firms.violations * self.model.decay_per_year + rec.firm_violations
            hit = (firms.violations >= cfg.firm_list_threshold) & ~(firms.listed_until > step)
            firms.listed_until[hit] = step + self._steps(cfg.firm_list_days)
            firms.violations[hit] = 0.0

    def _score_citizens(self, rec, new_court: np.ndarray, new_sector: np.ndarray, clean: np.ndarray,
                        part: slice) -> None:
        """New listings (into ``new_court`` and ``new_sector``), the last record and
        prosocial act, and who is ``clean`` enough for the redlist, of the citizens in ``part``."""
        cfg, step = self.config, self.model.steps
        new_court[part] = new = rec.judgement_unmet[part] & ~(self.court_until[part] > step)
        self._list(part, new, rec.judgement_unmet_wrongful[part], self.court_until, self.court_wrong,
                   self.court_since, self._steps(cfg.court_list_days))
        new_sector[part] = new = rec.serious[part] & ~(self.sector_until[part] > step) & cfg.sector_lists
        self._list(part, new, rec.serious_false[part], self.sector_until, self.sector_wrong,
                   self.sector_since, self._steps(cfg.sector_list_days))
        self.last_record[part][rec.judgement_unmet[part] | rec.serious[part] | rec.minor[part]] = step
        if rec.reaches("civil_affairs"):
            self.last_prosocial[part][rec.prosocial[part]] = step
        if cfg.redlist:
            window = self._steps(cfg.redlist_after_days)
            clean[part] = (((step - self.last_record[part]) >= window) & ((step - self.last_prosocial[part]) < window)
                           & ~self.listed(part))

    def _list(self, part: slice, new, wrongful, until, wrong, since, term) -> None:
        """List the citizens ``new`` (a mask over ``part``) for ``term`` steps."""
        step = self.model.steps
        until[part][new] = step + term
        wrong[part][new] = wrongful[new]
        since[part][new] = step

    def consequences(self, rec, cons: Consequences) -> None:
        cfg, step, regs = self.config, self.model.steps, self.model.regulators
        blocks(self.model.two_cores, self.model.citizens.n, partial(self._citizens_consequences, cons))
        if cfg.firm_listing:
            firms = self.model.firms
            listed = firms.listed_until > step
            cons.firm_listed |= listed
            cons.firm_published |= listed & (regs["market"].config.publishes_lists
                                             or regs["tax"].config.publishes_lists)
            cons.firm_revenue_loss = np.maximum(cons.firm_revenue_loss, cfg.firm_sanction * listed)
            cons.firm_sanction_risk = max(cons.firm_sanction_risk, cfg.firm_sanction)

    def _citizens_consequences(self, cons: Consequences, part: slice) -> None:
        """Sanctions, visibility and the redlist's reward of the citizens in ``part``."""
        cfg, step, regs = self.config, self.model.steps, self.model.regulators
        s = cfg.sanctions
        court = self.court_until[part] > step
        sector = self.sector_until[part] > step
        courts_share = regs["courts"].config.shares_records
        transport_share = regs["transport"].config.shares_records
        joint = (court & courts_share) | (sector & transport_share)
        travel = (court & courts_share) | sector
        cons.income_loss[part] += s.travel * travel + (s.luxury + s.schooling) * joint
        if s.loans:
            cons.loan_ban[part] |= court | (sector & transport_share)
        cons.published[part] |= (court & regs["courts"].config.publishes_lists) | (
            sector & regs["transport"].config.publishes_lists)
        cons.sanctioned[part] |= court | sector
        cons.recorded_into_score[part] |= (self.court_since[part] == step) | (self.sector_since[part] == step)
        cons.reward[part] += cfg.redlist_reward * self.redlisted[part]

    def expire(self) -> None:
        step = self.model.steps
        for until, wrong, since, appeal, dept in (
            (self.court_until, self.court_wrong, self.court_since, self.court_appeal, "courts"),
            (self.sector_until, self.sector_wrong, self.sector_since, self.sector_appeal, "transport"),
        ):
            self._appeals(until, wrong, since, appeal, self.model.regulators[dept])
            ended = indices(self.model.two_cores, until.size,
                            lambda part, until=until: (until[part] >= 0) & (until[part] <= step))
            self._clear(ended, until, wrong, since, appeal, "delisted_expiry")

    def _appeals(self, until, wrong, since, appeal, regulator) -> None:
        """File new appeals, then decide the oldest eligible ones up to capacity."""
        model, step = self.model, self.model.steps
        behaviour = model.config.behaviour
        c = model.citizens
        u_file, u_win = deferred(self.rng, c.n), deferred(self.rng, c.n)  # read for the listed only
        listed = indices(model.two_cores, c.n, lambda part: until[part] > step)  # a few: the rest uses their numbers
        may_file = listed[appeal[listed] < 0]
        p_file = behaviour.appeal_propensity * self._means[may_file] * np.where(
            wrong[may_file], 1.0, behaviour.rightful_appeal_share)
        filing = may_file[u_file[may_file] < p_file]
        appeal[filing] = step
        model.events.add(step, filing, "appealed")
        pending = listed[appeal[listed] >= 0]
        ready = pending[step - appeal[pending] >= regulator.delay_steps(model.config.run.days_per_step)]
        capacity = regulator.capacity(c.n, self.rng.random())
        if ready.size > capacity:
            ready = ready[np.argsort(appeal[ready], kind="stable")[:capacity]]
        regulator.appeal_queue = pending.size - ready.size
        rc = regulator.config
        p_win = np.where(wrong[ready], rc.appeal_success_wrongful, rc.appeal_success_rightful)
        won = np.sort(ready[u_win[ready] < p_win])
        appeal[ready] = -1
        self._clear(won, until, wrong, since, appeal, "delisted_appeal")

    def _clear(self, who, until, wrong, since, appeal, event) -> None:
        """End the listings of the citizens numbered in ``who``."""
        step, dps = self.model.steps, self.model.config.run.days_per_step
        cleared_wrong = who[wrong[who]]
        self.cleared_wrongful += cleared_wrong.size
        self.cleared_wrongful_days += float((step - since[cleared_wrong]).sum()) * dps
        self.model.events.add(step, who, event)
        until[who] = -1
        wrong[who] = False
        since[who] = -1
        appeal[who] = -1

    def severity(self) -> dict[str, float]:
        cfg, regs = self.config, self.model.regulators
        s = cfg.sanctions
        courts_share = regs["courts"].config.shares_records
        transport_share = regs["transport"].config.shares_records
        loans = LOAN_BAN_LOSS if s.loans else 0.0
        court_loss = (loans + (s.travel + s.luxury + s.schooling) * courts_share) * cfg.court_list_days / 365
        sector_loss = (s.travel + (s.luxury + s.schooling + loans) * transport_share) * cfg.sector_list_days / 365
        infraction = self.model.config.behaviour.serious_share * sector_loss if cfg.sector_lists else 0.0
        return {"default": severity(court_loss), "infraction": severity(infraction)}

    def standing(self) -> tuple[np.ndarray, None]:
        return (~self.listed()).astype(np.float64), None

    def metrics(self) -> dict[str, float]:
        step, dps = self.model.steps, self.model.config.run.days_per_step
        listed = self.listed()
        wrong = np.flatnonzero(self.wrongly_listed())
        n_listed, n_wrong = np.count_nonzero(listed), wrong.size
        on_court_list = (self.court_until[wrong] > step) & self.court_wrong[wrong]  # else wrongly on a sector list
        wrong_since = np.where(on_court_list, self.court_since[wrong], self.sector_since[wrong])
        return {
            "share_listed": n_listed / listed.size,
            "share_listed_innocent": n_wrong / n_listed if n_listed else 0.0,
            "wrongful_listings_active": float(n_wrong),
            "mean_wrongful_days": float((step - wrong_since).mean() * dps) if n_wrong else 0.0,
            "mean_days_to_clear_wrongful": (self.cleared_wrongful_days / self.cleared_wrongful
                                            if self.cleared_wrongful else 0.0),
            "share_redlisted": share(self.redlisted),
            "appeals_pending": float(np.count_nonzero((self.court_appeal >= 0) | (self.sector_appeal >= 0))),
        }

    def citizen(self, i: int) -> dict:
        step = self.model.steps
        return {
            "court_listed": bool(self.court_until[i] > step),
            "court_listed_wrongly": bool(self.court_until[i] > step and self.court_wrong[i]),
            "sector_listed": bool(self.sector_until[i] > step),
            "redlisted": bool(self.redlisted[i]),
            "appeal_pending": bool(self.court_appeal[i] >= 0 or self.sector_appeal[i] >= 0),
        }

