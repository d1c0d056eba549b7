"""ReputationModel: citizens, firms and regulators under pluggable rule sets.

A Mesa model whose citizens and firms are numpy arrays and whose six departments are
Mesa agents. Before step 0 the society runs with no rule set until it is at rest
(:mod:`.rest`); the rule sets begin at step 0. One step runs these phases, each
vectorised over all citizens:

1. interventions scheduled for this step change the scenario;
2. behave: opt-in choices, purchases, trust-game transactions, infractions,
   prosocial acts, critical speech, firms' taxes (:mod:`.behaviour`);
3. observe and record, with error (:mod:`.recording`);
4. score: each active rule set updates its scores, grades and lists;
5. consequences: sanctions, rewards, visibility; published lists cost ties;
6. appeals and expiry;
7. adapt: income, wealth, perceived watch, approval, firm quality;
8. collect: one DataCollector row (step 0 is collected at construction).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import metrics
from .behaviour import Acts, act, step_chances
from .catalog import load_scenario
from .draws import WINDOW_BYTES, DrawAhead, wanted
from .events import EventLog
from .network import Ties, drawn_ties, homophilous, read_edge_list, rewire, small_world
from .overrides import ScenarioError, apply_overrides
from .parallel import PARALLEL_FROM, blocks
from .population import make_citizens, make_firms
from .recording import Records, log_open_judgements, observe
from .regulators import DOMAINS, Regulator
from .rest import CACHE, capture, rest_key, restore, spin_up
from .rules import REGISTRY, Consequences
from .rules.base import join_chance
from .scenario import Scenario
from .streams import make_streams

EXPERIENCE_MEMORY = 0.1
"""Weight of this step in the running averages of rewards, sanctions and wrongful
records that drive approval (about ten steps of memory): assumption."""
BYTES_PER_CITIZEN = 700
"""Estimated memory per citizen across all arrays and a step's temporaries [bytes]."""
BYTES_PER_TIE = 60
"""Estimated memory per tie including a step's temporaries [bytes]."""


def _report(name: str, model: ReputationModel) -> float:
    return model._metrics[name]


def resolve_seed(rng: Any) -> int:
    """The integer seed a run uses, from Mesa's ``rng`` argument (None draws one)."""
    if rng is None:
        return int(np.random.SeedSequence().entropy) % (2**63)
    if isinstance(rng, (bool, np.bool_)):
        raise ScenarioError(f"rng must be an integer seed, got {rng!r}.")
    if isinstance(rng, (int, np.integer)):
        if not 0 <= rng < 2**63:
            raise ScenarioError(f"rng must be an integer seed from 0 to 2**63 - 1, got {rng}.")
        return int(rng)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.entropy) % (2**63)
    raise ScenarioError(f"rng must be an integer seed, a numpy Generator or None, got {type(rng).__name__}.")


def check_memory(scenario: Scenario) -> None:
    """Refuse, before allocating, a population that would not fit in memory."""
    n = scenario.population.n_citizens
    degree = getattr(scenario.network, "mean_degree", 8)
    ahead = max(WINDOW_BYTES, 2 * 8 * max(n, n * degree // 2)) if wanted(n) else 0  # at least two arrays
    need = n * BYTES_PER_CITIZEN + n * degree // 2 * BYTES_PER_TIE + ahead
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if need > 0.8 * available:
        raise ScenarioError(
            f"population.n_citizens={n:,} needs about {need / 2**30:.1f} GiB but only "
            f"{available / 2**30:.1f} GiB of memory is free; use fewer citizens or a lower mean_degree."
        )


class ReputationModel(mesa.Model):
    """An agent-based model of reputation scoring.

    Args:
        scenario: a shipped scenario name (``"blacklist"``), a YAML file path, or a
            :class:`~simulation.scenario.Scenario`.
        rng: the seed (an int); None draws one, kept in ``self.seed``.
        **overrides: scenario values by dotted path, e.g.
            ``**{"population.n_citizens": 5000}``, the form ``mesa.batch_run`` passes.

    The validated scenario in force is ``self.config`` (Mesa owns ``self.scenario``);
    interventions replace it during a run, and ``self.initial_config`` keeps the
    scenario as the run started (re-running it with ``self.seed`` repeats the run).
    ``self.spin_up_steps`` is the number of no-rules steps run before step 0.
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", rng: Any = None,
                 **overrides: Any) -> None:
        seed = resolve_seed(rng)
        super().__init__(rng=seed)
        self.seed = seed
        self.config: Scenario = apply_overrides(load_scenario(scenario), overrides)
        self.initial_config: Scenario = self.config
        check_memory(self.config)
        self.streams = make_streams(seed)
        cfg = self.config
        self.regulators = {name: Regulator(self, name, getattr(cfg.regulators, name)) for name in DOMAINS}
        cached = not wanted(cfg.population.n_citizens)  # streams drawn ahead are not plain generators
        key = rest_key(cfg, seed) if cached else None
        rest = CACHE.get(key) if cached else None
        if rest is not None:
            restore(self, rest)
        else:
            self.citizens = make_citizens(cfg.population, self.streams["population"])
            self.firms = make_firms(cfg.population, self.streams["firms"])
            self.ties = self._build_network()
        self._ahead = DrawAhead(self.streams) if wanted(self.citizens.n) else None
        self.two_cores = self._ahead is not None and self.citizens.n >= PARALLEL_FROM
        """Whether independent parts of a step are computed at once on two cores (:mod:`.parallel`)."""
        if self._ahead is not None:
            self.streams = self._ahead.streams
        self.ties.side = self.citizens.urban
        self.group_index = metrics.Groups(self.citizens)
        self.income_sort = metrics.NearReference(self.citizens.base_income, self.citizens.income_order())
        self.groups = self.group_index.masks()
        self.events = EventLog(cfg.run.record_events)
        self.cons = Consequences(self.citizens.n, self.firms.n)
        self.last_acts: Acts | None = None
        self._standing: np.ndarray | None = None
        self._standing_step: int | None = None
        if rest is None:
            self._come_to_rest()
            if cached:
                CACHE.put(key, capture(self))
        log_open_judgements(self)
        self.citizens.rest_trust[:] = self.citizens.trust_generalized
        self.citizens.rest_trust_firms[:] = self.citizens.trust_firms
        self.rules = [REGISTRY[r.kind](r, self) for r in cfg.rules]
        self._interventions = sorted(cfg.interventions, key=lambda iv: iv.step)
        self._configure()
        self._metrics = metrics.compute(self, None, None)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_report, name)
                             for name in (*metrics.METRICS, *metrics.CONFUSION_COLUMNS)}
        )
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ construction

    def _build_network(self) -> Ties:
        net, rng, n = self.config.network, self.streams["network"], self.citizens.n
        if net.kind == "small_world":
            return small_world(n, net.mean_degree, net.rewire_prob, rng)
        if net.kind == "homophilous":
            c = self.citizens
            groups = (c.urban * 3 + c.income_tercile if net.group_by == "urban_income" else c.education)
            return homophilous(n, net.mean_degree, net.homophily, groups.astype(np.int64), rng)
        return read_edge_list(net.path, n)

    def _come_to_rest(self) -> None:
        """The spin-up: the society without its rule sets (and without an event record)
        until it is at rest; the steps it ran are ``self.spin_up_steps``."""
        cfg = self.config
        self.config, self.rules = cfg.without_rules(), []
        self.events.enabled = False
        self._configure()
        self.spin_up_steps = spin_up(self, cfg.run.spin_up)
        self.config = cfg
        self.events.enabled = cfg.run.record_events
        self.cons = Consequences(self.citizens.n, self.firms.n)

    def _configure(self) -> None:
        """Derive per-step quantities from the current configuration."""
        cfg = self.config
        for name, regulator in self.regulators.items():
            regulator.config = getattr(cfg.regulators, name)
        by_kind = {r.kind: r for r in cfg.rules}
        for rule in self.rules:
            rule.reconfigure(by_kind[rule.kind])
        self.active = [r for r in self.rules if r.kind != "none"]
        self.decay_per_year = float(np.exp(-cfg.run.days_per_step / 365.0))
        saved, days = 1.0 - cfg.behaviour.spend_share, cfg.population.wealth_days
        self.wealth_relaxation = float(-np.expm1(-cfg.run.days_per_step * saved / days)) if days > 0 else 1.0
        """Share of the gap between wealth and the wealth its income sustains closed in a
        step: dw/dt = (1 - spend_share) (income - w / wealth_days), solved over the step."""
        s = cfg.services
        self.reach = np.where(self.citizens.urban, s.benefit_reach_urban, s.benefit_reach_rural)
        combined: dict[str, float] = {}
        for rule in self.active:
            for behaviour, value in rule.severity().items():
                combined[behaviour] = 1.0 - (1.0 - combined.get(behaviour, 0.0)) * (1.0 - value)
        self.severity = combined
        self.chances = step_chances(self)
        self.join_chance = join_chance(self)

    # ------------------------------------------------------------------ the step

    def step(self) -> None:
        """One step: the phases listed in the module docstring."""
        self._standing_step = None
        self._apply_interventions()
        try:
            self._phases()
        except BaseException:
            if self._ahead is not None:
                self._ahead.settle()
            raise

    def _phases(self) -> None:
        acts, rec = self.advance(plan_next=self.steps < self.config.run.steps)
        self._metrics = metrics.compute(self, acts, rec)
        self.datacollector.collect(self)
        if self.steps >= self.config.run.steps:
            self.running = False

    def advance(self, plan_next: bool = True) -> tuple[Acts, Records]:
        """The phases of a step without collecting metrics: behaviour, records, rule
        sets, consequences, adaptation (``plan_next``: whether another step follows)."""
        for rule in self.active:
            rule.behave()
        acts = act(self)
        self.last_acts = acts
        rec = observe(self, acts)
        for rule in self.active:
            rule.score(rec)
        cons = Consequences(self.citizens.n, self.firms.n)
        for rule in self.active:
            rule.consequences(rec, cons)
        self.cons = cons
        self._shaming(cons)
        for rule in self.active:
            rule.expire()
        self._adapt(rec, cons)
        if self._ahead is not None:  # this step has drawn all it draws: the next one's draws start
            self._ahead.next_step(plan_next=plan_next)
        return acts, rec

    def _apply_interventions(self) -> None:
        due = {}
        while self._interventions and self._interventions[0].step <= self.steps:
            iv = self._interventions.pop(0)
            due[iv.path] = iv.value
        if due:
            self.config = apply_overrides(self.config, due)
            self._configure()

    def _shaming(self, cons: Consequences) -> None:
        """Contacts of citizens on a published list cut ties and find someone else."""
        p = self.config.behaviour.shaming_avoidance
        if p <= 0 or not cons.published.any():
            return
        t, rng = self.ties, self.streams["ties"]
        edges = drawn_ties(t, rng, p, self.two_cores)
        pu = cons.published[t.u[edges]]
        one_end = pu ^ cons.published[t.v[edges]]
        edges, pu = edges[one_end], pu[one_end]
        keeper = np.where(pu, t.v[edges], t.u[edges])
        rewire(t, edges, keeper, None, rng, self)

    def _adapt(self, rec: Records, cons: Consequences) -> None:
        """Income, wealth, perceived watch, approval and firm quality respond."""
        reached = self.streams["services"].random(self.citizens.n) < self.reach
        self._adapt_firms(cons)
        watch, wrongly_listed = None, None
        if self.active:
            signal = 0.0
            for rule in self.active:
                signal = np.maximum(signal, rule.watch_signal())
            watch = signal + self.config.behaviour.panopticon_boost * cons.published.any()
            wrongly_listed = self.wrongly_listed()
        blocks(self.two_cores, self.citizens.n,
               partial(self._adapt_citizens, rec, cons, reached, watch, wrongly_listed))

    def _adapt_citizens(self, rec: Records, cons: Consequences, reached: np.ndarray, watch,
                        wrongly_listed: np.ndarray | None, part: slice) -> None:
        """:meth:`_adapt` for the citizens in ``part`` (elementwise, so the parts are
        independent); ``watch`` is how watched the rule sets and published lists make
        citizens feel before their own records count."""
        c, cfg = self.citizens, self.config
        b = cfg.behaviour
        loss = np.minimum(1.0, cons.income_loss[part])
        benefit = cons.reward[part] * reached[part]
        c.income[part] = c.base_income[part] * (1.0 - loss + benefit)
        wealth = c.wealth[part]
        rest = c.income[part] * cfg.population.wealth_days  # what saving and spending out of wealth sustain
        wealth -= (wealth - rest) * self.wealth_relaxation
        np.maximum(wealth, 0.0, out=wealth)
        if not self.active:
            return
        recorded = cons.recorded_into_score[part]
        target = np.minimum(1.0, (watch[part] if np.ndim(watch) else watch) + recorded)
        watched = c.watched[part]
        watched += b.watch_learning * (target - watched)
        a = cfg.approval
        ewma = EXPERIENCE_MEMORY
        benefit_ewma, sanction_ewma, error_ewma = c.benefit_ewma[part], c.sanction_ewma[part], c.error_ewma[part]
        benefit_ewma += ewma * ((benefit > 0) - benefit_ewma)
        sanction_ewma += ewma * ((cons.sanctioned[part] | (loss > 0)) - sanction_ewma)
        wronged = (rec.any_false(part) & recorded) | wrongly_listed[part]
        error_ewma += ewma * (wronged - error_ewma)
        order = 0.5 * (c.trust_generalized[part] + c.trust_firms[part] - c.rest_trust[part]
                       - c.rest_trust_firms[part])
        p0 = min(max(cfg.population.initial_approval, 1e-6), 1 - 1e-6)
        logit = (np.log(p0 / (1.0 - p0)) + a.weight_benefit * benefit_ewma
                 - a.weight_sanction * sanction_ewma - a.weight_error * error_ewma
                 + a.weight_order * order)
        goal = 1.0 / (1.0 + np.exp(-logit))
        approval = c.approval[part]
        approval += b.approval_learning * (goal - approval)

    def _adapt_firms(self, cons: Consequences) -> None:
        """Firms move quality and tax compliance toward what market discipline and the
        risk of being listed make worth it; a listed firm feels the full sanction."""
        f, b, regs = self.firms, self.config.behaviour, self.regulators
        for attr, dept in (("quality", "market"), ("tax_compliance", "tax")):
            risk = min(1.0, b.deterrence_strength * regs[dept].config.coverage * cons.firm_sanction_risk)
            pressure = np.minimum(1.0, b.market_discipline + risk + cons.firm_revenue_loss * cons.firm_listed)
            goal = b.firm_quality_floor + (1.0 - b.firm_quality_floor) * pressure
            value = getattr(f, attr)
            value += b.firm_adaptation * (goal - value)

    # ------------------------------------------------------------------ inspection

    def listed(self) -> np.ndarray:
        """Citizens on any blacklist now."""
        bl = self._rule("blacklist")
        return bl.listed() if bl is not None else np.zeros(self.citizens.n, bool)

    def wrongly_listed(self) -> np.ndarray:
        """Citizens whose current listing rests on a false record or unrecorded compliance."""
        bl = self._rule("blacklist")
        return bl.wrongly_listed() if bl is not None else np.zeros(self.citizens.n, bool)

    def _rule(self, kind: str):
        return next((r for r in self.active if r.kind == kind), None)

    def standing(self) -> np.ndarray | None:
        """Each citizen's mean standing in [0, 1] over the rule sets that score them
        (NaN where none does); None when no rule set scores anyone. Computed once per
        step (the metrics and the dashboard share it), so read-only."""
        if self._standing_step != self.steps:
            self._standing = self._mean_standing()
            self._standing_step = self.steps
        return self._standing

    def _mean_standing(self) -> np.ndarray | None:
        parts = [s for s in (r.standing() for r in self.active) if s is not None]
        if not parts:
            return None
        mean = np.empty(self.citizens.n)

        def combine(part: slice) -> None:  # each citizen's own mean: in blocks that stay in cache
            total, count = np.zeros(part.stop - part.start), 0.0
            for values, scored in parts:
                if scored is None:
                    total += values[part]
                    count = count + 1.0
                else:
                    total += values[part] * scored[part]
                    count = count + scored[part]
            np.divide(total, np.maximum(count, 1), out=mean[part])
            unscored = count == 0
            if np.any(unscored):
                mean[part][unscored] = np.nan

        blocks(self.two_cores, self.citizens.n, combine)
        mean.flags.writeable = False
        return mean

    def citizen(self, i: int) -> dict:
        """One citizen's attributes, current state and event record."""
        c = self.citizens
        if not 0 <= i < c.n:
            raise IndexError(f"citizen {i} does not exist; citizens are numbered 0 to {c.n - 1}.")
        out = {
            "id": i,
            "label": self.ties.labels[i] if self.ties.labels else str(i),
            "urban": bool(c.urban[i]),
            "education": ("low", "middle", "high")[c.education[i]],
            "age_group": ("young", "middle", "older")[c.age_group[i]],
            "income_tercile": ("low", "middle", "high")[c.income_tercile[i]],
            "base_income": float(c.base_income[i]),
            "income": float(c.income[i]),
            "wealth": float(c.wealth[i]),
            "honesty": float(c.honesty[i]),
            "speech_inclination": float(c.speech_inclination[i]),
            "trust_generalized": float(c.trust_generalized[i]),
            "trust_firms": float(c.trust_firms[i]),
            "approval": float(c.approval[i]),
            "watched": float(c.watched[i]),
            "ties": int(self.ties.degree()[i]),
            "listed": bool(self.listed()[i]),
            "sanctioned": bool(self.cons.sanctioned[i]),
        }
        for rule in self.active:
            out.update(rule.citizen(i))
        out["events"] = self.events.for_citizen(i)
        return out

    def firm(self, j: int) -> dict:
        """One firm's state."""
        f = self.firms
        if not 0 <= j < f.n:
            raise IndexError(f"firm {j} does not exist; firms are numbered 0 to {f.n - 1}.")
        return {"id": j, "quality": float(f.quality[j]), "tax_compliance": float(f.tax_compliance[j]),
                "reputation": float(f.reputation[j]), "price": float(f.price[j]),
                "revenue": float(f.revenue[j]), "listed": bool(f.listed_until[j] > self.steps)}

    def graph(self):
        """The current network as a networkx graph."""
        return self.ties.to_networkx()

    # ------------------------------------------------------------------ outputs

    def run(self, steps: int | None = None) -> pd.DataFrame:
        """Step until the scenario's run length (or ``steps`` more steps); return metrics."""
        target = self.steps + steps if steps is not None else self.config.run.steps
        while self.steps < target and (self.running or steps is not None):
            self.step()
        return self.metrics_frame()

    def metrics_frame(self) -> pd.DataFrame:
        """The metrics table: one row per collected step, indexed by ``step``."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "step"
        return df

    def confusion_table(self) -> pd.DataFrame:
        """Per-group confusion matrix per step, tidy: step, group, tp, fp, fn, tn."""
        df = self.metrics_frame()[metrics.CONFUSION_COLUMNS]
        rows = []
        for g in metrics.CONFUSION_GROUPS:
            part = df[[f"cm_{g}_{c}" for c in metrics.CONFUSION_CELLS]].copy()
            part.columns = list(metrics.CONFUSION_CELLS)
            part.insert(0, "group", g)
            rows.append(part.reset_index())
        return pd.concat(rows, ignore_index=True).astype({c: "int64" for c in metrics.CONFUSION_CELLS})
