"""Citizens and firms as arrays: their fixed attributes and their changing state.

All state lives in numpy arrays indexed by citizen (or firm) number; nothing here
builds one Python object per citizen. The draws use only the ``population`` stream,
so every scenario run with the same seed and population section starts from the
same people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .scenario import PopulationConfig

NEVER = np.iinfo(np.int32).min // 2
"""Step stamp meaning 'has never happened' (far in the past, no overflow on subtraction)."""


CONSUMPTION_BY_AGE = np.array([0.4, 0.6, 0.55])
"""Mean share of 'responsible' purchase categories (household goods rather than games)
of young, middle-aged and older citizens: assumption after the seeds' example of
diapers versus video games (002, 004)."""


CONSUMPTION_CONCENTRATION = 8.0
"""Concentration of the Beta distribution of purchase habits: assumption."""
FIRM_CONCENTRATION = 20.0
"""Concentration of the Beta distributions of firm quality and tax compliance: assumption."""
PRICE_SPREAD = 0.2
"""Standard deviation of the log of firms' prices around one day's median income: assumption."""


def _beta(rng: np.random.Generator, mean: float, concentration: float, size: int) -> np.ndarray:
    """Beta draws with a given mean and concentration; degenerate means give constants."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size)


@dataclass(eq=False)
class Citizens:
    """Attributes (fixed) and state (changing) of all citizens."""

    urban: np.ndarray            # bool
    education: np.ndarray        # int8: 0 low, 1 middle, 2 high
    age_group: np.ndarray        # int8: 0 young, 1 middle, 2 older
    base_income: np.ndarray      # float: daily income before sanctions
    income_tercile: np.ndarray   # int8: 0 bottom, 1 middle, 2 top (of base income)
    income_rank: np.ndarray      # float in [0, 1]: percentile of base income
    honesty: np.ndarray          # float in [0, 1]
    speech_inclination: np.ndarray  # float in [0, 1]
    consumption: np.ndarray      # float in [0, 1]: 'responsible' purchase categories
    wealth: np.ndarray
    trust_generalized: np.ndarray
    trust_firms: np.ndarray
    approval: np.ndarray
    watched: np.ndarray          # perceived chance of being watched, in [0, 1]
    income: np.ndarray           # daily income after this step's sanctions and rewards
    last_serious: np.ndarray     # int32 step of the last true serious infraction
    last_default: np.ndarray     # int32 step of the last true default not yet remedied
    judgement_due: np.ndarray    # int32 step by which a recorded default must be met (-1 none)
    judgement_wrongful: np.ndarray  # bool: the pending judgement rests on a false record
    benefit_ewma: np.ndarray     # recent rewards received, in [0, 1]
    sanction_ewma: np.ndarray    # recent sanctions suffered, in [0, 1]
    error_ewma: np.ndarray       # recent wrongful records, in [0, 1]
    rest_trust: np.ndarray       # trust in contacts at step 0 (the rest state), to measure change
    rest_trust_firms: np.ndarray  # trust in firms at step 0
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.urban)

    def income_order(self) -> np.ndarray:
        """The citizens in ascending order of base income (ties in the order of their
        numbers), read off ``income_rank`` without sorting again."""
        order = np.empty(self.n, np.intp)
        order[(self.income_rank * self.n).astype(np.intp)] = np.arange(self.n)
        return order

    def shift_clock(self, offset: int) -> None:
        """Move every step stamp by ``offset`` steps (the spin-up's steps become negative
        when step 0 begins); stamps meaning 'never' or 'none' stay as they are."""
        for stamp in (self.last_serious, self.last_default):
            stamp[stamp != NEVER] += offset
        self.judgement_due[self.judgement_due >= 0] += offset


def make_citizens(cfg: PopulationConfig, rng: np.random.Generator) -> Citizens:
    """Draw a population. Income depends on residence and education; honesty, speech
    inclination and consumption habits are drawn independently of both, so any
    group difference in behaviour has to come from the mechanisms. Wealth starts at
    ``wealth_days`` of income and trust at its configured start: the spin-up
    (:mod:`.rest`) brings both to the rest state of the society's own mechanisms."""
    n = cfg.n_citizens
    urban = rng.random(n) < cfg.urban_share
    education = rng.choice(3, size=n, p=np.asarray(cfg.education_shares) / sum(cfg.education_shares)).astype(np.int8)
    age_group = rng.choice(3, size=n, p=np.asarray(cfg.age_shares) / sum(cfg.age_shares)).astype(np.int8)
    log_income = (np.log(cfg.income_median) + cfg.income_sigma * rng.standard_normal(n)
                  + np.log(cfg.urban_income_premium) * urban
                  + np.log(cfg.education_income_premium) * (education - 1))
    base_income = np.exp(log_income)
    order = np.argsort(base_income, kind="stable")
    income_rank = np.empty(n)
    income_rank[order] = (np.arange(n) + 0.5) / n
    income_tercile = np.minimum((income_rank * 3).astype(np.int8), 2)
    honesty = _beta(rng, cfg.honesty_mean, cfg.honesty_concentration, n)
    speech = _beta(rng, cfg.speech_mean, cfg.speech_concentration, n)
    mean_consumption = CONSUMPTION_BY_AGE[age_group]
    consumption = rng.beta(CONSUMPTION_CONCENTRATION * mean_consumption,
                           CONSUMPTION_CONCENTRATION * (1.0 - mean_consumption))
    wealth = base_income * cfg.wealth_days
    trust_gen = np.full(n, cfg.initial_trust_generalized)
    trust_firms = np.full(n, cfg.initial_trust_firms)
    return Citizens(
        urban=urban, education=education, age_group=age_group, base_income=base_income,
        income_tercile=income_tercile, income_rank=income_rank, honesty=honesty,
        speech_inclination=speech, consumption=consumption, wealth=wealth,
        trust_generalized=trust_gen, trust_firms=trust_firms,
        approval=np.full(n, cfg.initial_approval), watched=np.zeros(n),
        income=base_income.copy(), last_serious=np.full(n, NEVER, dtype=np.int32),
        last_default=np.full(n, NEVER, dtype=np.int32),
        judgement_due=np.full(n, -1, dtype=np.int32), judgement_wrongful=np.zeros(n, bool),
        benefit_ewma=np.zeros(n), sanction_ewma=np.zeros(n), error_ewma=np.zeros(n),
        rest_trust=trust_gen.copy(), rest_trust_firms=trust_firms.copy(),
    )



@dataclass(eq=False)
class Firms:
    """State of all firms."""

    quality: np.ndarray          # chance a sale is sound
    tax_compliance: np.ndarray   # chance taxes are paid in a step
    reputation: np.ndarray       # public estimate of quality from buyers' experience
    price: np.ndarray            # price of one purchase [money units]
    revenue: np.ndarray          # revenue in the last step
    violations: np.ndarray       # time-discounted recorded violations
    listed_until: np.ndarray     # int32 step until which the firm is listed (-1 none)
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.quality)


def make_firms(cfg: PopulationConfig, rng: np.random.Generator) -> Firms:
    """Draw firms: quality and tax compliance around their means, prices near one day's
    median income."""
    m = cfg.n_firms
    quality = _beta(rng, cfg.firm_quality_mean, FIRM_CONCENTRATION, m)
    return Firms(
        quality=quality,
        tax_compliance=_beta(rng, cfg.firm_tax_compliance_mean, FIRM_CONCENTRATION, m),
        reputation=np.full(m, cfg.firm_quality_mean),
        price=cfg.income_median * rng.lognormal(0.0, PRICE_SPREAD, m),
        revenue=np.zeros(m),
        violations=np.zeros(m),
        listed_until=np.full(m, -1, dtype=np.int32),
    )
