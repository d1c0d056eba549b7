"""The scenario schema: every input of a run, validated.

A scenario is a YAML file (see ``scenarios/``) read into :class:`Scenario`. Every
number has bounds, every model forbids unknown keys, and each rule set is chosen by
its ``kind``. Field docstrings state meaning, unit and the source of the default;
sources name the seed documents in ``shared/seeds`` by their number (000, 002, 003,
004) or say plainly that a default is a modelling assumption.

Rates of behaviour are given per year and converted to a per-step probability with
the run's ``days_per_step``, so changing the step length does not change what a
parameter means.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def _is_number(annotation: Any) -> bool:
    """Whether a field annotation is a number (int or float, possibly optional)."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and str not in args and any(a in (int, float) for a in args)
    return False


class _Bool:
    """Stands in for true/false given where a number is expected, so that validation
    fails at that field (pydantic would read them as 1 and 0: ``mean_degree: yes``
    would silently mean one contact)."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return str(self.value).lower()


def no_bool_for_number(model_cls: type[BaseModel], data: Any) -> Any:
    """``data`` with every true/false given for a number (or in a fixed list of numbers)
    replaced by a stand-in that the number field refuses."""
    if not isinstance(data, dict):
        return data
    out = data
    for name, field in model_cls.model_fields.items():
        value, annotation = data.get(name), field.annotation
        if typing.get_origin(annotation) in (Union, types.UnionType):  # X | None: look at X
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else annotation
        if isinstance(value, bool) and _is_number(annotation):
            new: Any = _Bool(value)
        elif (isinstance(value, (list, tuple)) and any(isinstance(v, bool) for v in value)
              and typing.get_origin(annotation) is tuple
              and all(_is_number(typing.get_args(a)[0] if typing.get_args(a) else a)
                      for a in typing.get_args(annotation))):
            new = [_Bool(v) if isinstance(v, bool) else v for v in value]
        else:
            continue
        out = dict(out) if out is data else out
        out[name] = new
    return out


class _Strict(BaseModel):
    """Base for every scenario section: unknown keys fail, values cannot change mid-run.

    A section given in part keeps the rest of its default: ``regulators: {courts:
    {publishes_lists: true}}`` changes only that value of the courts' own defaults.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(no_bool_for_number(cls, data))
        for name, info in cls.model_fields.items():
            default, given = info.default, out.get(name)
            if isinstance(default, BaseModel) and isinstance(given, dict):
                base = default.model_dump()
                if given.get("kind", base.get("kind")) == base.get("kind"):
                    out[name] = _merge(base, given)
        return out


def _merge(base: dict, given: dict) -> dict:
    """``base`` updated by ``given``, nested dictionaries merged."""
    out = dict(base)
    for key, value in given.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


# --------------------------------------------------------------------------- population


class PopulationConfig(_Strict):
    """Who the citizens and firms are at the start of a run."""

    n_citizens: int = Field(2000, ge=10, le=5_000_000)
    """Number of citizens [persons]. Default 2,000: a classroom-sized run that steps in
    milliseconds (modelling choice)."""

    n_firms: int = Field(50, ge=1, le=100_000)
    """Number of firms selling to citizens [firms]. Default 50 (modelling choice)."""

    urban_share: Share = 0.6
    """Share of citizens living in cities [0-1]. Default 0.6: assumption close to China's
    urbanisation rate around 2019 (not in the seed documents)."""

    income_median: float = Field(100.0, gt=0.0, le=1e6)
    """Median daily income of a rural citizen with middle education [money units per day].
    Default 100: an arbitrary unit; only ratios matter in the model."""

    income_sigma: float = Field(0.7, ge=0.0, le=3.0)
    """Spread of log income (standard deviation of a lognormal) [dimensionless]. Default
    0.7: assumption giving an income Gini near 0.45, close to China's official figures
    (not in the seed documents)."""

    urban_income_premium: float = Field(1.5, ge=1.0, le=10.0)
    """Urban incomes as a multiple of rural ones at equal education [ratio]. Default 1.5
    (assumption; the seeds only say urban residents receive more benefits, 002)."""

    education_shares: tuple[Share, Share, Share] = (0.4, 0.4, 0.2)
    """Shares of citizens with low, middle and high (university) education [0-1 each, sum
    1]. Default 0.4/0.4/0.2 (assumption)."""

    education_income_premium: float = Field(1.3, ge=1.0, le=10.0)
    """Income multiple per education level above the middle one (and divisor below)
    [ratio]. Default 1.3 (assumption)."""

    age_shares: tuple[Share, Share, Share] = (0.3, 0.45, 0.25)
    """Shares of young, middle-aged and older citizens [0-1 each, sum 1]. Default
    0.3/0.45/0.25 (assumption)."""

    wealth_days: float = Field(90.0, ge=0.0, le=10_000.0)
    """Wealth a citizen holds at rest, as days of own income [days]: each day savings add
    ``1 - spend_share`` of income and spending out of wealth takes ``(1 - spend_share) /
    wealth_days`` of wealth, so wealth settles near ``wealth_days`` of income (trade, fraud,
    sanctions and rewards move it from there). Citizens start the spin-up at exactly this
    wealth. Default 90 (assumption)."""

    honesty_mean: Share = 0.85
    """Mean latent honesty: the chance a citizen keeps a commitment when nothing but
    conscience is at stake [0-1]. Default 0.85 (assumption; the seeds describe a trust
    deficit with loan defaults and fraud, 002, 003)."""

    honesty_concentration: float = Field(10.0, gt=0.0, le=1000.0)
    """Concentration of the Beta distribution of honesty (higher = more alike)
    [dimensionless]. Default 10 (assumption)."""

    speech_mean: Share = 0.15
    """Mean inclination to post critical speech [0-1]. Default 0.15 (assumption; the
    chilling concern is from 004)."""

    speech_concentration: float = Field(4.0, gt=0.0, le=1000.0)
    """Concentration of the Beta distribution of speech inclination [dimensionless].
    Default 4 (assumption)."""

    initial_trust_generalized: Share = 0.4
    """Trust in strangers and contacts at the start of the spin-up [0-1]; the rest state
    at step 0 is what the trust mechanism makes of it (``behaviour.betrayal_weight`` carries
    the low trust). Default 0.4: low, as 76% call a lack of trust in society a problem (003),
    close to the rest state, so the spin-up is short."""

    initial_trust_firms: Share = 0.4
    """Trust that firms sell what they promise at the start of the spin-up [0-1]. Default
    0.4: low after food-safety and counterfeit scandals (002, 003), close to the rest
    state."""

    initial_approval: Share = 0.5
    """Initial approval of the scoring system, before anyone has experienced it [0-1].
    Default 0.5: neutral, so that approval by group emerges from experience (modelling
    choice; the 80% approval of the 2019 survey, 002, is a validation target, not an
    input)."""

    firm_quality_mean: Share = 0.9
    """Mean firm quality: the chance a sale is not substandard or counterfeit [0-1].
    Default 0.9 (assumption; counterfeits and food-safety scandals, 002, 003)."""

    firm_tax_compliance_mean: Share = 0.98
    """Mean chance a firm pays its taxes on time in a step [0-1]. Default 0.98
    (assumption; paying taxes on time keeps firms in good standing, 002)."""


# --------------------------------------------------------------------------- network


class SmallWorldNetwork(_Strict):
    """Watts-Strogatz small world: a ring of close contacts, some rewired at random."""

    kind: Literal["small_world"] = "small_world"
    mean_degree: int = Field(8, ge=0, le=200)
    """Mean number of contacts per citizen [ties]; rounded down to an even number.
    Default 8 (assumption)."""
    rewire_prob: Share = 0.1
    """Chance each tie is rewired to a random citizen [0-1]. Default 0.1 (Watts and
    Strogatz 1998's small-world range)."""


class HomophilousNetwork(_Strict):
    """Random ties drawn mostly within one's own group (urban/rural x income tercile, or
    education)."""

    kind: Literal["homophilous"] = "homophilous"
    mean_degree: int = Field(8, ge=0, le=200)
    """Mean number of contacts per citizen [ties]. Default 8 (assumption)."""
    homophily: Share = 0.8
    """Chance a new tie goes to a member of one's own group [0-1]. Default 0.8
    (assumption)."""
    group_by: Literal["urban_income", "education"] = "urban_income"
    """Which attribute defines a group. Default urban_income (assumption)."""


class EdgeListNetwork(_Strict):
    """Ties read from a text file: one tie per line as two node labels (space, tab or
    comma separated); a line with one label adds an isolated citizen; ``#`` starts a
    comment. Labels may be any text; the file must name exactly ``n_citizens`` nodes."""

    kind: Literal["edge_list"] = "edge_list"
    path: str = Field(min_length=1, max_length=4096)
    """Path of the edge-list file; relative paths are taken from the scenario file's
    folder."""


NetworkConfig = Annotated[
    Union[SmallWorldNetwork, HomophilousNetwork, EdgeListNetwork], Field(discriminator="kind")
]


# --------------------------------------------------------------------------- behaviour


class BehaviourConfig(_Strict):
    """How often citizens act and how they respond to what happens to them."""

    purchases_per_year: float = Field(52.0, ge=0.0, le=365.0)
    """Purchases from firms per citizen [per year]. Default 52, weekly (assumption)."""
    transactions_per_tie_per_year: float = Field(1.0, ge=0.0, le=365.0)
    """Trust-game transactions (lending, deals) per social tie [per year]. Default 1
    (assumption)."""
    stake_days: float = Field(10.0, ge=0.0, le=365.0)
    """Amount at stake in one transaction as days of the trustor's income [days].
    Default 10 (assumption)."""
    return_rate: float = Field(0.2, ge=0.0, le=5.0)
    """Gain of each side of a kept transaction as a share of the stake [ratio].
    Default 0.2 (assumption)."""
    infractions_per_year: float = Field(1.0, ge=0.0, le=100.0)
    """Minor (traffic-type) infractions per year of a citizen of average dishonesty
    [per year]. Default 1 (assumption; running a red light is the seeds' example, 002)."""
    serious_share: Share = 0.05
    """Share of infractions serious enough for a sector list (e.g. 'train bullies')
    [0-1]. Default 0.05 (assumption; the 180-day railway ban, 002)."""
    prosocial_per_year: float = Field(2.0, ge=0.0, le=100.0)
    """Prosocial acts (volunteering, donating) per year of a perfectly honest citizen
    [per year]. Default 2 (assumption; the Rongcheng bonuses, 002)."""
    prosocial_incentive: float = Field(1.0, ge=0.0, le=10.0)
    """How strongly a recorded bonus raises prosocial acts: rate x (1 + incentive x
    reward strength) [dimensionless]. Default 1 (assumption)."""
    speech_per_year: float = Field(12.0, ge=0.0, le=365.0)
    """Critical posts per year of a citizen fully inclined to speak [per year]. Default
    12 (assumption; chilling concern from 004)."""
    comply_prob: Share = 0.8
    """Chance a citizen with a court judgement who can afford it complies within the
    grace period, before deterrence [0-1]. Default 0.8 (assumption)."""
    deterrence_strength: float = Field(0.5, ge=0.0, le=10.0)
    """How much a perceived sanction deters: infraction and default probabilities are
    multiplied by 1 - min(1, strength x perceived watch x severity) [dimensionless].
    Default 0.5 (assumption; panopticon effect, 002)."""
    chilling_strength: float = Field(0.5, ge=0.0, le=10.0)
    """How much a perceived penalty on speech silences: speech probability is multiplied
    by 1 - min(1, strength x perceived watch x severity) [dimensionless]. Default 0.5
    (assumption; chilling effect, 004)."""
    panopticon_boost: Share = 0.5
    """Extra perceived watch when lists are published: people act as if watched
    [0-1]. Default 0.5 (assumption; published blacklists create the disciplinary
    effect, 002)."""
    watch_learning: Share = 0.1
    """Share of the gap between perceived and signalled watch closed each step [0-1].
    Default 0.1 (assumption)."""
    trust_learning: Share = 0.1
    """Share of the gap closed by a good experience when trust is updated [0-1]. Default
    0.1 (assumption)."""
    betrayal_weight: float = Field(8.0, ge=1.0, le=100.0)
    """How many times more a bad experience (a contact who breaks a deal, a substandard
    purchase) lowers trust than a good one raises it: trust falls by ``trust_learning x
    betrayal_weight`` (at most all) of itself [ratio]. Default 8: trust is easy to lose
    and hard to gain (Slovic 1993's asymmetry principle); 8 puts the no-rules society at
    rest at the low trust the sources describe (about 0.4; 76% call a lack of trust a
    problem, 003) with the default honesty (assumption, see docs/model.md)."""
    approval_learning: Share = 0.05
    """Share of the gap to the experienced approval closed each step [0-1]. Default
    0.05 (assumption)."""
    record_stigma: float = Field(0.1, ge=0.0, le=1.0)
    """Felt cost of any record that enters a score or grade, beyond its material
    consequences [share of a year's income]. Default 0.1 (assumption; Rongcheng
    residents value their grade, 002)."""
    published_distrust: Share = 0.5
    """How much less contacts trust someone they see on a published list [0-1].
    Default 0.5 (assumption; naming and shaming, 002)."""
    shaming_avoidance: Share = 0.05
    """Chance per step that a contact cuts a tie to a citizen on a published list
    [0-1]. Default 0.05 (assumption; naming and shaming, 002)."""
    fraud_loss_share: Share = 0.5
    """Share of the price lost on a substandard or counterfeit purchase [0-1]. Default
    0.5 (assumption)."""
    purchase_trust_elasticity: Share = 0.5
    """How much distrust of firms holds back buying: the purchase probability is
    multiplied by 1 - e + e x trust in firms [0-1]. Default 0.5 (assumption; citizens
    want the system to stop counterfeits, 002, 003)."""
    spend_share: Share = 0.9
    """Share of income spent each step (the rest is saved) [0-1]. Default 0.9
    (assumption)."""
    firm_choice_sensitivity: float = Field(5.0, ge=0.0, le=50.0)
    """How strongly citizens prefer firms with a better public reputation (logit
    weight) [dimensionless]. Default 5 (assumption)."""
    firm_adaptation: Share = 0.05
    """Share of the gap to a firm's target quality closed each step [0-1]. Default
    0.05 (assumption)."""
    firm_quality_floor: Share = 0.8
    """Quality a firm drifts to under no market or regulatory pressure [0-1]. Default
    0.8 (assumption)."""
    market_discipline: Share = 0.3
    """Constant pressure toward quality that firms feel from buyers' ability to switch
    to better-reputed firms, without any regulator [0-1]. Default 0.3 (assumption)."""
    opt_in_per_year: float = Field(1.0, ge=0.0, le=52.0)
    """Rate at which a citizen who expects full rewards opts in to an opt-in scheme
    [per year]. Default 1 (assumption; over 80% use a commercial score, 002)."""
    opt_out_per_year: float = Field(0.5, ge=0.0, le=52.0)
    """Rate at which a citizen who receives no reward opts out again [per year].
    Default 0.5 (assumption)."""
    appeal_propensity: Share = 0.5
    """Chance per step that a wrongly listed citizen of top income and education files
    an appeal; it is scaled by the citizen's means to appeal (income rank and education,
    weighted as in simulation/rules/blacklist.py), so poorer and less educated citizens
    file less often [0-1]. Default 0.5 (assumption; who can afford to appeal is a
    critics' question, 002)."""
    rightful_appeal_share: Share = 0.05
    """Rightly listed citizens appeal at this share of the wrongly listed's rate [0-1].
    Default 0.05 (assumption)."""


# --------------------------------------------------------------------------- regulators


class _Observer(_Strict):
    """What every department shares: how much it sees and how it errs."""

    coverage: Share = 0.3
    """Chance that an act in this department's domain is detected [0-1]. Default 0.3
    (assumption; 176-200 million cameras around 2018, 002, 004)."""
    false_positive_rate: float = Field(0.002, ge=0.0, le=1.0)
    """Chance per subject per year that an act is recorded against someone who did not
    commit it (wrong person, wrong data) [per year]. Default 0.002 (assumption; the
    errors described in 002 and 003)."""
    false_negative_rate: Share = 0.1
    """Chance that a detected act is not recorded [0-1]. Default 0.1 (assumption)."""


class FirmRegulator(_Observer):
    """A department that inspects firms (market regulation, tax). Each step it checks
    one sale of each firm (market) or its tax payment (tax); its recorded violations
    feed the firm blacklist."""

    publishes_lists: bool = False
    """Whether listed firms are published, so that buyers avoid them. Default false."""


class Department(_Observer):
    """A department that records citizens' acts."""

    shares_records: bool = False
    """Whether this department passes its records to other departments and scoring
    systems (joint punishment needs it). Default false: departments are reluctant to
    share (002)."""


class ListingDepartment(Department):
    """A department that keeps a list of citizens, with publication and appeals."""

    publishes_lists: bool = False
    """Whether its list is published with names (naming and shaming, 002). Default
    false."""
    appeal_capacity_per_10k: float = Field(5.0, ge=0.0, le=10_000.0)
    """Appeals it decides per step per 10,000 citizens [appeals]. Default 5
    (assumption)."""
    appeal_delay_days: float = Field(60.0, ge=0.0, le=3650.0)
    """Minimum time from filing an appeal to its decision [days]. Default 60
    (assumption; Liu Hu's removal took two years, 002)."""
    appeal_success_wrongful: Share = 0.9
    """Chance a decided appeal against a wrongful listing succeeds [0-1]. Default 0.9
    (assumption)."""
    appeal_success_rightful: Share = 0.05
    """Chance a decided appeal against a rightful listing succeeds [0-1]. Default 0.05
    (assumption)."""


class Court(ListingDepartment):
    """The courts: judgements, compliance with them, and the court blacklist."""

    failure_to_record_rate: Share = 0.02
    """Chance that compliance (a fulfilled judgement) is not recorded, leaving the
    citizen listed [0-1]. Default 0.02 (assumption; Liu Hu's case, 002)."""


class RegulatorsConfig(_Strict):
    """The departments. Each observes one domain: courts (judgement defaults),
    transport (traffic-type and serious infractions), market (substandard goods), tax
    (firms' tax), civil_affairs (prosocial acts), public_security (critical speech)."""

    courts: Court = Court(coverage=0.1, shares_records=True)
    """Courts: record defaults on obligations and keep the List of Untrustworthy Persons
    (002). Coverage 0.1 (assumption: most broken private deals never reach a court;
    with the other defaults about 1-3% of citizens end up listed, near the 13 million
    of 2019, 002). Shares its records by default: the court list is the one other
    departments enforce (joint punishment, 002)."""
    transport: ListingDepartment = ListingDepartment()
    """Transport and traffic police: minor infractions and sector lists (002)."""
    market: FirmRegulator = FirmRegulator()
    """Market regulation: substandard and counterfeit goods sold by firms (002, 003)."""
    tax: FirmRegulator = FirmRegulator()
    """Tax administration: firms' unpaid taxes (002)."""
    civil_affairs: Department = Department(false_positive_rate=0.0)
    """Civil affairs: records prosocial acts (volunteering, donating) for bonuses (002).
    False-positive rate 0 by default (assumption: nobody is wrongly credited with
    volunteering)."""
    public_security: Department = Department(coverage=0.1)
    """Public security: records critical posts; coverage 0.1 (assumption; 004)."""


# --------------------------------------------------------------------------- rule sets


class Sanctions(_Strict):
    """What a listed citizen loses. Each is a share of income lost per step while
    listed; travel, luxury and schooling apply only through joint punishment, i.e. when
    the listing department shares its records; the loan ban is the court's own."""

    travel: float = Field(0.05, ge=0.0, le=1.0)
    """Income lost to the ban on flights and high-speed trains [share of income].
    Default 0.05 (assumption; ban named in 002)."""
    luxury: float = Field(0.02, ge=0.0, le=1.0)
    """Welfare lost to the ban on star hotels, luxury restaurants, golf, foreign
    holidays [share of income]. Default 0.02 (assumption; 002)."""
    schooling: float = Field(0.03, ge=0.0, le=1.0)
    """Cost of children barred from private schools [share of income]. Default 0.03
    (assumption; 002)."""
    loans: bool = True
    """Whether listed citizens are barred from borrowing: contacts will not trust them
    in transactions. Default true (Liu Hu could not take out a loan, 002)."""


class NoRules(_Strict):
    """The control: nothing is scored, nobody is sanctioned or rewarded."""

    kind: Literal["none"] = "none"


class BlacklistRules(_Strict):
    """Court and sector blacklists with joint punishment, redlists and firm listings."""

    kind: Literal["blacklist"] = "blacklist"
    court_list_days: int = Field(730, ge=1, le=36_500)
    """How long a court listing lasts [days]. Default 730: nominally two years (002)."""
    sector_lists: bool = True
    """Whether serious infractions put citizens on a sector list (e.g. railways). Default
    true (002)."""
    sector_list_days: int = Field(180, ge=1, le=36_500)
    """How long a sector listing lasts [days]. Default 180: the 'train bullies' ban (002)."""
    grace_days: int = Field(30, ge=0, le=3650)
    """Time a citizen with a recorded default has to comply before being listed [days].
    Default 30 (assumption)."""
    sanctions: Sanctions = Sanctions()
    """Sanctions on listed citizens."""
    redlist: bool = True
    """Whether exemplary citizens (a clean record and a recorded prosocial act) are
    redlisted with perks. Default true (discounts on energy bills, deposit-free
    renting, 002)."""
    redlist_after_days: int = Field(365, ge=1, le=36_500)
    """Window for redlisting: no negative record and at least one recorded prosocial
    act within it [days]. Default 365 (assumption)."""
    redlist_reward: float = Field(0.02, ge=0.0, le=1.0)
    """Value of redlist perks [share of income per step]. Default 0.02 (assumption)."""
    firm_listing: bool = True
    """Whether firms are listed for tax evasion and substandard goods. Default true
    (002)."""
    firm_list_days: int = Field(365, ge=1, le=36_500)
    """How long a firm listing lasts [days]. Default 365 (assumption)."""
    firm_list_threshold: int = Field(4, ge=1, le=1000)
    """Recorded violations within a year (time-discounted) that list a firm
    [violations]. Default 4 (assumption)."""
    firm_sanction: Share = 0.3
    """Share of revenue a listed firm loses (subsidies, contracts) [0-1]. Default 0.3
    (assumption; companies lose access to subsidies, 002)."""


class PointsRules(_Strict):
    """Rongcheng-style municipal points and grades."""

    kind: Literal["points"] = "points"
    base: float = Field(1000.0, ge=0.0, le=10_000.0)
    """Points everyone starts with [points]. Default 1000 (002)."""
    minor_deduction: float = Field(10.0, ge=0.0, le=1000.0)
    """Deduction per recorded minor infraction [points]. Default 10 (assumption)."""
    serious_deduction: float = Field(50.0, ge=0.0, le=1000.0)
    """Deduction per recorded serious infraction [points]. Default 50 (assumption)."""
    default_deduction: float = Field(100.0, ge=0.0, le=1000.0)
    """Deduction per recorded unfulfilled court judgement [points]. Default 100
    (assumption; criminal and court matters are deducted, 003)."""
    speech_deduction: float = Field(0.0, ge=0.0, le=1000.0)
    """Deduction per recorded critical post [points]. Default 0: not documented for
    Rongcheng; set it to explore the chilling fear (004)."""
    prosocial_bonus: float = Field(5.0, ge=0.0, le=1000.0)
    """Points added per recorded prosocial act [points]. Default 5 (assumption; 002)."""
    max_points: float = Field(1100.0, ge=0.0, le=20_000.0)
    """Upper cap on points [points]. Default 1100 (assumption)."""
    recovery_per_year: float = Field(20.0, ge=0.0, le=10_000.0)
    """Points restored per year to citizens below the base [points/year]. Default 20
    (assumption)."""
    grade_thresholds: tuple[float, float, float, float, float] = (1050.0, 1030.0, 960.0, 850.0, 600.0)
    """Lowest points for grades AAA, AA, A, B, C (below the last is D), strictly
    decreasing [points]. Default 1050/1030/960/850/600 (commonly reported Rongcheng
    bands; not in the seed documents)."""
    reward_high: float = Field(0.02, ge=0.0, le=1.0)
    """Value of preferential treatment for AAA and AA [share of income per step].
    Default 0.02 (assumption; 002)."""
    cost_low: float = Field(0.03, ge=0.0, le=1.0)
    """Cost of extra requirements for C and D [share of income per step]. Default 0.03
    (assumption; 002)."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> PointsRules:
        t = self.grade_thresholds
        if any(a <= b for a, b in zip(t, t[1:], strict=False)):
            raise ValueError(
                "grade_thresholds must be strictly decreasing (AAA > AA > A > B > C), "
                f"got {list(t)}"
            )
        return self


class CommercialRules(_Strict):
    """Sesame-like commercial opt-in score, 350-950, rewards only."""

    kind: Literal["commercial"] = "commercial"
    min_score: float = Field(350.0, ge=0.0, le=10_000.0)
    """Lowest score [points]. Default 350 (002)."""
    max_score: float = Field(950.0, ge=0.0, le=10_000.0)
    """Highest score [points]. Default 950 (002)."""
    weight_repayment: float = Field(0.35, ge=0.0, le=1.0)
    """Weight of repayment history on the platform [weight]. Default 0.35 (assumption;
    'whether you repay', 002)."""
    weight_income: float = Field(0.2, ge=0.0, le=1.0)
    """Weight of income rank [weight]. Default 0.2 (assumption)."""
    weight_education: float = Field(0.15, ge=0.0, le=1.0)
    """Weight of education level [weight]. Default 0.15 (assumption; 'your degree', 002)."""
    weight_purchases: float = Field(0.3, ge=0.0, le=1.0)
    """Weight of purchase categories ('diapers vs video games') [weight]. Default 0.3
    (assumption; 002, 004)."""
    weight_friends: float = Field(0.0, ge=0.0, le=1.0)
    """Weight of contacts' mean score [weight]. Default 0; the friends_in_score
    scenario turns it on (friends' scores, 002; isolation fear, 004)."""
    weight_speech: float = Field(0.0, ge=0.0, le=1.0)
    """Penalty weight of recorded critical posts [weight]. Default 0: an allegation,
    not a documented input ('political posts could lower a score', 004)."""
    platform_coverage: Share = 0.8
    """Share of its users' repayments and critical posts the platform sees (purchase
    habits it sees in full) [0-1]. Default 0.8 (assumption)."""
    reward_threshold: float = Field(700.0, ge=0.0, le=10_000.0)
    """Score from which rewards are given [points]. Default 700 (assumption: near
    where Sesame's upper bands begin; not in the seed documents)."""
    reward: float = Field(0.02, ge=0.0, le=1.0)
    """Value of deposit-free bikes, power banks, rentals [share of income per step].
    Default 0.02 (assumption; 002)."""
    lender_conditioning: Share = 0.5
    """How much contacts and lenders condition trust on a visible score [0-1]. Default
    0.5 (assumption; lenders and firms may condition, 002)."""
    tie_pruning: Share = 0.0
    """Chance per step that a user cuts a tie to a much lower-scored contact to protect
    a friends-weighted score [0-1]. Default 0; only meaningful with weight_friends > 0
    (the pariah fear, 004)."""

    @model_validator(mode="after")
    def _range_ordered(self) -> CommercialRules:
        if not self.min_score < self.reward_threshold <= self.max_score:
            raise ValueError(
                "need min_score < reward_threshold <= max_score, got "
                f"{self.min_score} / {self.reward_threshold} / {self.max_score}"
            )
        weights = (self.weight_repayment, self.weight_income, self.weight_education,
                   self.weight_purchases, self.weight_friends)
        if sum(weights) <= 0:
            raise ValueError("at least one of the score weights must be above 0")
        return self


class RatingRules(_Strict):
    """Honest-Shanghai-like opt-in government rating: very good / good / bad, rewards only."""

    kind: Literal["rating"] = "rating"
    window_days: int = Field(730, ge=1, le=36_500)
    """Memory of government records: each record's weight decays as exp(-age /
    window_days) [days]. Default 730 (assumption)."""
    good_max_records: float = Field(1.0, ge=0.0, le=1000.0)
    """Most recent records (time-discounted) still rated 'good'; none rates 'very
    good', more rates 'bad' [records]. Default 1 (assumption)."""
    reward: float = Field(0.02, ge=0.0, le=1.0)
    """Value of rewards for 'very good' [share of income per step]. Default 0.02
    (assumption; rewards only, 002)."""


RuleSet = Annotated[
    Union[NoRules, BlacklistRules, PointsRules, CommercialRules, RatingRules],
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- services, run


class ServicesConfig(_Strict):
    """Where rewards can be used."""

    benefit_reach_urban: Share = 1.0
    """Chance an urban citizen can use a reward they earned [0-1]. Default 1
    (assumption)."""
    benefit_reach_rural: Share = 0.4
    """Chance a rural citizen can use a reward they earned [0-1]. Default 0.4
    (assumption; urban residents receive a wider range of benefits, 002)."""


class ApprovalConfig(_Strict):
    """How experience moves approval of the scoring system. Approval moves toward
    logistic(logit(initial) + benefit x recent rewards - sanction x recent sanctions -
    error x recent wrongful records + order x change in own trust)."""

    weight_benefit: float = Field(1.0, ge=0.0, le=10.0)
    """Approval gained from rewards received [dimensionless]. Default 1 (assumption)."""
    weight_sanction: float = Field(1.0, ge=0.0, le=10.0)
    """Approval lost from sanctions suffered [dimensionless]. Default 1 (assumption)."""
    weight_error: float = Field(2.0, ge=0.0, le=10.0)
    """Approval lost from wrongful records [dimensionless]. Default 2 (assumption)."""
    weight_order: float = Field(1.0, ge=0.0, le=10.0)
    """Approval gained from trust rising above its start: the perceived return of
    order [dimensionless]. Default 1 (assumption; systems seen as tools to raise
    trust, 000, 002)."""


class Intervention(_Strict):
    """At step ``step`` set the scenario value at dotted ``path`` to ``value``."""

    step: int = Field(ge=1, le=1_000_000)
    """Step at whose start the change applies [step]."""
    path: str = Field(min_length=1, max_length=200)
    """Dotted path of the value, e.g. ``regulators.courts.false_positive_rate`` or
    ``rules.blacklist.court_list_days``."""
    value: float | int | bool | str
    """The new value; it is validated like the scenario file."""


class RunConfig(_Strict):
    """Length and resolution of a run."""

    spin_up: Annotated[int, Field(ge=0, le=100_000)] | Literal["auto"] = "auto"
    """Steps the society runs with no rule set before step 0, so that a run starts from
    the rest state of its own mechanisms and what it shows is the rules' doing [steps];
    ``auto`` runs until the society has stopped drifting (see docs/model.md,
    Initialisation). Rule sets, their records and lists start at step 0. Default auto."""
    steps: int = Field(200, ge=1, le=1_000_000)
    """Number of steps a run lasts [steps]. Default 200 (about four years at 7 days)."""
    days_per_step: int = Field(7, ge=1, le=365)
    """Days per step [days]. Default 7 (modelling choice)."""
    truth_window_days: int = Field(730, ge=1, le=36_500)
    """Window of true behaviour against which sanctions are judged right or wrong in
    the confusion matrix [days]. Default 730, the court list's term (002)."""
    record_events: bool = True
    """Whether each citizen's events are kept for ``model.citizen(i)``. Default true."""


class Scenario(_Strict):
    """A complete, validated scenario."""

    title: str = Field("Untitled scenario", max_length=200)
    """Short title shown in the dashboard and the CLI."""
    description: str = Field("", max_length=5000)
    """Classroom description: what this scenario shows."""
    sources: list[str] = Field(default_factory=list, max_length=50)
    """Where the scenario's defaults come from (seed document numbers and notes)."""
    population: PopulationConfig = PopulationConfig()
    network: NetworkConfig = SmallWorldNetwork()
    behaviour: BehaviourConfig = BehaviourConfig()
    regulators: RegulatorsConfig = RegulatorsConfig()
    rules: list[RuleSet] = Field(default_factory=list, max_length=5)
    """The rule sets in force, any combination of blacklist, points, commercial and
    rating; an empty list or ``[{kind: none}]`` is the control."""
    services: ServicesConfig = ServicesConfig()
    approval: ApprovalConfig = ApprovalConfig()
    interventions: list[Intervention] = Field(default_factory=list, max_length=100)
    """Scheduled changes, applied in step order."""
    run: RunConfig = RunConfig()

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for name, shares in (("population.education_shares", self.population.education_shares),
                             ("population.age_shares", self.population.age_shares)):
            if abs(sum(shares) - 1.0) > 1e-6:
                raise ValueError(f"{name} must sum to 1, got {sum(shares):.6g}")
        kinds = [r.kind for r in self.rules]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"each rule-set kind may appear once in rules, got {kinds}")
        if "none" in kinds and len(kinds) > 1:
            raise ValueError("rules: 'none' is the control and cannot be combined with other rule sets")
        if self.interventions:
            from .overrides import check_interventions

            check_interventions(self)
        return self

    def without_rules(self) -> Scenario:
        """This scenario's no-rules twin: the same society with no rule set and without
        the scheduled changes to rule sets. Run with the same seed it shares this
        scenario's population, network, rest state and every draw the rules do not
        change (common random numbers), so the difference between the two runs is the
        rules' doing."""
        kept = [iv for iv in self.interventions if not iv.path.startswith("rules.")]
        return self.model_copy(update={"title": f"{self.title} without rules", "rules": [],
                                       "interventions": kept})

    def rule(self, kind: str):
        """The rule set of this kind, or None."""
        return next((r for r in self.rules if r.kind == kind), None)

    @property
    def active_kinds(self) -> tuple[str, ...]:
        """Kinds of the rule sets that act (``none`` excluded)."""
        return tuple(r.kind for r in self.rules if r.kind != "none")
