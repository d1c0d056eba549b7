"""Observe and record: what the departments write down about this step's acts.

Records can be wrong in three ways (see :mod:`simulation.regulators`): false
positives, missed acts, and met judgements not recorded as met. The court process
lives here: a recorded default opens a judgement; at the end of the grace period the
citizen has either met it (and it may still fail to be recorded) or not, and an unmet
judgement is what a court blacklist lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .behaviour import Acts, deterrence
from .deferred import below_where, deferred
from .parallel import blocks, together
from .population import NEVER
from .scenario import BlacklistRules

if TYPE_CHECKING:
    from .model import ReputationModel


@dataclass(eq=False)
class Records:
    """What was recorded this step; ``*_false`` marks records with no true act behind them."""

    minor: np.ndarray
    minor_false: np.ndarray
    serious: np.ndarray
    serious_false: np.ndarray
    judgement_unmet: np.ndarray        # judgements due now and recorded as unmet
    judgement_unmet_wrongful: np.ndarray  # of those, wrongly (false record or compliance not recorded)
    prosocial: np.ndarray
    speech: np.ndarray
    speech_false: np.ndarray
    firm_violations: np.ndarray        # recorded violations per firm: a spot check of one
                                       # sale by the market regulator, plus unpaid tax
    shared: dict[str, bool]            # which departments share their records

    def reaches(self, department: str, owners: tuple[str, ...] = ()) -> bool:
        """Whether ``department``'s records reach a system run by ``owners``."""
        return department in owners or self.shared[department]

    def any_false(self, part: slice = slice(None)) -> np.ndarray:
        """Whether any of a citizen's records this step is false (for the citizens in ``part``)."""
        return (self.minor_false[part] | self.serious_false[part] | self.judgement_unmet_wrongful[part]
                | self.speech_false[part])


def observe(model: ReputationModel, acts: Acts) -> Records:
    """Departments detect and record this step's acts, with their errors."""
    c, regs, step = model.citizens, model.regulators, model.steps
    n, dps = c.n, model.config.run.days_per_step
    det, err = model.streams["detection"], model.streams["errors"]
    log = model.events

    # each stream's draws in the order the departments use them; detection, a false
    # record's seriousness, compliance and its record are read for a few citizens only,
    # so they are deferred (computed for those citizens, simulation.deferred)
    uniforms = {"transport": (deferred(det, n), err.random(n))}
    u_serious = deferred(err, n)
    uniforms["courts"] = (deferred(det, n), err.random(n))
    u_comply, u_record = deferred(err, n), deferred(err, n)
    uniforms["civil_affairs"] = (deferred(det, n), err.random(n))
    uniforms["public_security"] = (deferred(det, n), err.random(n))
    truth = {"transport": acts.infraction, "courts": acts.cheated, "civil_affairs": acts.prosocial,
             "public_security": acts.speech}
    def detect(names: list[str]) -> dict[str, np.ndarray]:  # reads the detection draws of the few who acted
        return {name: regs[name].detected(truth[name], uniforms[name][0]) for name in names}

    first, second = together(model.two_cores, partial(detect, ["transport", "courts"]),
                             partial(detect, ["civil_affairs", "public_security"]))
    caught = first | second
    made = {name: (np.empty(n, bool), np.empty(n, bool)) for name in truth}  # records, the false ones

    def record(part: slice) -> None:  # each citizen's own records
        for name, (records, false) in made.items():
            records[part], false[part] = regs[name].recorded(truth[name][part], caught[name][part],
                                                             uniforms[name][1][part], dps)

    blocks(model.two_cores, n, record)
    for name, (records, false) in made.items():
        regs[name].count(records, false)
    (infr, infr_false), (new_default, default_false) = made["transport"], made["courts"]
    false_serious = below_where(infr_false, u_serious, model.config.behaviour.serious_share)
    serious = (infr & acts.serious) | false_serious
    minor = infr & ~serious
    (prosocial, _), (speech, speech_false) = made["civil_affairs"], made["public_security"]

    opens = new_default & (c.judgement_due < 0)
    c.judgement_due[opens] = step + int(np.ceil(_grace_days(model) / dps))
    c.judgement_wrongful[opens] = default_false[opens]
    log.add(step, opens, "judgement", default_false)

    due = (c.judgement_due >= 0) & (c.judgement_due <= step)
    complied = _complied(model, np.flatnonzero(due & ~c.judgement_wrongful), u_comply)
    recorded_met = regs["courts"].records_compliance(complied, u_record)
    unmet = due & ~recorded_met
    unmet_wrongful = unmet & (c.judgement_wrongful | complied)
    c.last_default[complied] = NEVER
    c.judgement_due[due] = -1
    c.judgement_wrongful[due] = False
    log.add(step, recorded_met, "complied")

    m = model.firms.n
    spot_bad = det.random(m) * np.maximum(acts.sales, 1) < acts.bad_sales  # the one sale checked was bad
    market_hits, _ = regs["market"].record(spot_bad, det.random(m), err.random(m), dps)
    tax_seen, _ = regs["tax"].record(acts.tax_evasion, det.random(m), err.random(m), dps)

    if log.enabled:
        recorded = minor | serious | unmet
        log.add(step, recorded & ~(infr_false | unmet_wrongful), "recorded")
        log.add(step, infr_false | unmet_wrongful, "recorded_wrongly")
    return Records(
        minor=minor, minor_false=minor & infr_false, serious=serious, serious_false=false_serious,
        judgement_unmet=unmet, judgement_unmet_wrongful=unmet_wrongful, prosocial=prosocial,
        speech=speech, speech_false=speech_false,
        firm_violations=market_hits.astype(float) + tax_seen,
        shared={name: getattr(r.config, "shares_records", False) for name, r in regs.items()},
    )


def _complied(model: ReputationModel, owing: np.ndarray, u_comply: np.ndarray) -> np.ndarray:
    """Which of the citizens numbered in ``owing`` (due, judgement not wrongful) meet
    their judgement: by their means to pay, more likely the more a default is deterred."""
    c, b = model.citizens, model.config.behaviour
    afford = np.minimum(1.0, c.wealth[owing] / np.maximum(b.stake_days * c.income[owing], 1e-12))
    p_comply = afford * (b.comply_prob + (1.0 - b.comply_prob) * deterrence(model, "default", owing))
    complied = np.zeros(c.n, bool)
    complied[owing[u_comply[owing] < p_comply]] = True
    return complied


def _grace_days(model: ReputationModel) -> int:
    """Days to meet a judgement: the blacklist's grace period, or its default without one."""
    rule = model.config.rule("blacklist")
    return rule.grace_days if rule is not None else BlacklistRules.model_fields["grace_days"].default


def log_open_judgements(model: ReputationModel) -> None:
    """Log the judgements pending at step 0 at the step they were opened: the spin-up
    before step 0 keeps no events, and a listing after step 0 needs its judgement on
    the record. They were opened under the default grace period (there was no blacklist)."""
    c, dps = model.citizens, model.config.run.days_per_step
    pending = np.flatnonzero(c.judgement_due >= 0)
    grace = int(np.ceil(BlacklistRules.model_fields["grace_days"].default / dps))
    opened = c.judgement_due[pending] - grace
    for step in np.unique(opened):
        who = pending[opened == step]
        model.events.add(int(step), who, "judgement", c.judgement_wrongful[who])
