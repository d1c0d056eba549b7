"""The interface every rule set implements, and what rule sets hand back to the model.

A step calls, for each active rule set in the scenario's order: ``behave`` (opt-in
choices), ``score`` (update scores from this step's records), ``consequences`` (add
sanctions, rewards and visibility to the shared :class:`Consequences`), then
``expire`` (terms that run out, appeals decided). Rule sets never loop over citizens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..deferred import below_where, deferred
from ..parallel import blocks
from ..regulators import per_step

if TYPE_CHECKING:
    from ..model import ReputationModel
    from ..recording import Records

SEVERITY_SCALE = 0.25
"""Felt loss (share of a year's income) at which a sanction feels 63% as severe as the
worst; severity = 1 - exp(-loss / SEVERITY_SCALE). A modelling assumption."""


CURIOUS_SHARE = 0.25
"""Share of the opt-in rate at which citizens join a scheme that offers them no usable
reward (curiosity, convenience): assumption."""


def severity(loss_income_years: float) -> float:
    """Perceived severity in [0, 1) of an expected loss in income-years."""
    return float(-np.expm1(-max(loss_income_years, 0.0) / SEVERITY_SCALE))


@dataclass(eq=False)
class Consequences:
    """What all rule sets together do to each citizen in one step."""

    n: int
    m: int
    income_loss: np.ndarray = field(init=False)   # share of income lost this step
    reward: np.ndarray = field(init=False)        # share of income gained (before reach)
    loan_ban: np.ndarray = field(init=False)      # contacts will not lend to them
    published: np.ndarray = field(init=False)     # named on a published list
    sanctioned: np.ndarray = field(init=False)    # listed or low-graded
    recorded_into_score: np.ndarray = field(init=False)  # a record entered a score
    visible_score: np.ndarray = field(init=False)  # score contacts can see, NaN if none
    lender_conditioning: float = 0.0              # how much trust follows a visible score
    firm_listed: np.ndarray = field(init=False)
    firm_published: np.ndarray = field(init=False)  # on a published list: buyers avoid it
    firm_revenue_loss: np.ndarray = field(init=False)
    firm_sanction_risk: float = 0.0               # revenue share a listing would cost a firm

    def __post_init__(self) -> None:
        self.income_loss = np.zeros(self.n)
        self.reward = np.zeros(self.n)
        self.loan_ban = np.zeros(self.n, bool)
        self.published = np.zeros(self.n, bool)
        self.sanctioned = np.zeros(self.n, bool)
        self.recorded_into_score = np.zeros(self.n, bool)
        self.visible_score = np.full(self.n, np.nan)
        self.firm_listed = np.zeros(self.m, bool)
        self.firm_published = np.zeros(self.m, bool)
        self.firm_revenue_loss = np.zeros(self.m)


class RuleSetBase:
    """Base of all rule sets. Subclasses set ``kind`` and override the hooks they need."""

    kind: ClassVar[str]

    def __init__(self, config, model: ReputationModel) -> None:
        self.config = config
        self.model = model
        self.rng = model.streams[f"rule_{self.kind}"] if self.kind != "none" else None

    def reconfigure(self, config) -> None:
        """Take a new configuration after an intervention; state is kept."""
        self.config = config

    def behave(self) -> None:
        """Citizens' choices that concern this rule set (opting in or out)."""

    def score(self, rec: Records) -> None:
        """Update scores, grades and lists from this step's records."""

    def consequences(self, rec: Records, cons: Consequences) -> None:
        """Add this rule set's sanctions, rewards and visibility to ``cons``."""

    def expire(self) -> None:
        """End terms that ran out and decide appeals."""

    def severity(self) -> dict[str, float]:
        """Perceived severity in [0, 1] of a recorded act, by behaviour: 'default',
        'infraction', 'speech'; and 'prosocial' for the strength of a bonus."""
        return {}

    def standing(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Each citizen's standing in [0, 1] under this rule set, and the mask of the
        citizens it scores (None: everyone; values outside the mask are ignored but
        must be finite)."""
        return None

    def feeds(self) -> tuple[str, ...]:
        """Departments whose records reach this rule set."""
        return ()

    def watch_signal(self) -> np.ndarray | float:
        """How watched citizens are under this rule set: the highest coverage among
        the departments feeding it (a platform may watch only its users)."""
        regs = self.model.regulators
        return max((regs[d].config.coverage for d in self.feeds()), default=0.0)

    def metrics(self) -> dict[str, float]:
        """Rule-specific metrics for this step."""
        return {}

    def citizen(self, i: int) -> dict:
        """Citizen ``i``'s state under this rule set."""
        return {}


def choose_opt_in(model: ReputationModel, opted: np.ndarray, expects_reward: np.ndarray,
                  rng: np.random.Generator, label: str) -> np.ndarray:
    """Opting in and out of an opt-in scheme: citizens join at ``opt_in_per_year``,
    at a ``CURIOUS_SHARE`` of that rate without any usable reward and at the full rate
    when they expect a reward they can use where they live;
    members who expect no reward leave at ``opt_out_per_year``."""
    n, b, dps = opted.size, model.config.behaviour, model.config.run.days_per_step
    u_in, u_out = rng.random(n), deferred(rng, n)  # u_out is read for the few members who expect nothing
    curious, rewarded = model.join_chance
    leave = below_where(opted & ~expects_reward, u_out, per_step(b.opt_out_per_year, dps))
    join, now = np.empty(n, bool), np.empty(n, bool)

    def choose(part: slice) -> None:
        expects, was = expects_reward[part], opted[part]
        join[part] = ~was & ((expects & (u_in[part] < rewarded[part])) | (~expects & (u_in[part] < curious)))
        now[part] = (was | join[part]) & ~leave[part]

    blocks(model.two_cores, n, choose)
    model.events.add(model.steps, join, f"opted_in_{label}")
    model.events.add(model.steps, leave, f"opted_out_{label}")
    return now


def join_chance(model: ReputationModel) -> tuple[float, np.ndarray]:
    """Chance per step of joining an opt-in scheme without a usable reward (one number)
    and with one (per citizen, by where they live); see :func:`choose_opt_in`."""
    p = per_step(model.config.behaviour.opt_in_per_year, model.config.run.days_per_step)
    return p * CURIOUS_SHARE, p * (CURIOUS_SHARE + (1.0 - CURIOUS_SHARE) * model.reach)
