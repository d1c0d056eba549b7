"""What citizens and firms truly do in a step, before anyone observes it.

Each phase draws a fixed number of uniforms from its own stream whatever the rules
are, and compares them with probabilities that the rules may shift; so the same seed
gives the same acts wherever the rules make no difference (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .deferred import below_where, deferred
from .parallel import blocks, together
from .regulators import per_step

REPUTATION_LEARNING = 0.2
"""Share of the gap between a firm's public reputation and the soundness of its sales
this step closed each step (word of mouth): assumption."""

if TYPE_CHECKING:
    from .model import ReputationModel


@dataclass(eq=False)
class Acts:
    """True behaviour in one step (masks over citizens or firms)."""

    bought: np.ndarray
    substandard: np.ndarray      # bought something substandard or counterfeit
    sales: np.ndarray            # purchases per firm
    bad_sales: np.ndarray        # substandard purchases per firm
    trusted: int                 # transactions in which the trustor trusted
    kept: int                    # of those, kept by the trustee
    cheated: np.ndarray          # cheated a contact at least once (a true default)
    victim: np.ndarray           # was cheated by a contact
    infraction: np.ndarray
    serious: np.ndarray
    prosocial: np.ndarray
    speech: np.ndarray
    tax_evasion: np.ndarray      # firms


def deterrence(model: ReputationModel, behaviour: str, who: np.ndarray | None = None) -> np.ndarray:
    """Per-citizen share by which perceived sanctions cut a behaviour's probability
    (for the citizens numbered in ``who``, or all)."""
    b = model.config.behaviour
    strength = b.chilling_strength if behaviour == "speech" else b.deterrence_strength
    watched = model.citizens.watched if who is None else model.citizens.watched[who]
    return np.minimum(1.0, strength * watched * model.severity.get(behaviour, 0.0))


def act(model: ReputationModel) -> Acts:
    """Run the behaviour phases: purchases, transactions, infractions, prosocial acts,
    critical speech, firms' taxes. The last four only read the state the first two
    change (and draw first), so they are computed at the same time, on a second core
    when the model uses two."""
    n, streams = model.citizens.n, model.streams
    u_infraction, u_serious = streams["infractions"].random(n), deferred(streams["infractions"], n)
    u_prosocial, u_speech = streams["prosocial"].random(n), streams["speech"].random(n)
    u_tax = streams["firms"].random(model.firms.n)
    trade, solo = together(
        model.two_cores,
        lambda: (*purchases(model), *transactions(model)),
        lambda: (*infractions(model, u_infraction, u_serious), prosocial(model, u_prosocial),
                 speech(model, u_speech), u_tax >= model.firms.tax_compliance))
    bought, substandard, sales, bad_sales, trusted, kept, cheated, victim = trade
    infraction, serious, good, said, evaded = solo
    return Acts(bought=bought, substandard=substandard, sales=sales, bad_sales=bad_sales,
                trusted=trusted, kept=kept, cheated=cheated, victim=victim, infraction=infraction,
                serious=serious, prosocial=good, speech=said, tax_evasion=evaded)


def purchases(model: ReputationModel):
    """Citizens who trust firms buy more often; they choose firms by public reputation
    (avoiding firms on a published list); some goods are substandard."""
    c, f, b = model.citizens, model.firms, model.config.behaviour
    rng = model.streams["purchases"]
    u_buy, u_firm, u_bad = rng.random(c.n), rng.random(c.n), rng.random(c.n)
    cons = model.cons
    seen = np.where(cons.firm_published, 0.0, f.reputation)
    weight = np.exp(b.firm_choice_sensitivity * (seen - seen.max()))
    cdf = np.cumsum(weight)
    table = guide_table(cdf)  # made once for all blocks of buyers
    e = b.purchase_trust_elasticity
    chance = per_step(b.purchases_per_year, model.config.run.days_per_step)

    def buying(part: slice):  # who buys, from which firm, and whether it was bad: each citizen's own
        bought = u_buy[part] < chance * (1.0 - e + e * c.trust_firms[part])
        buyers = np.flatnonzero(bought) + part.start
        chosen = np.minimum(pick(cdf, u_firm[buyers], table), f.n - 1)
        return bought, buyers, chosen, u_bad[buyers] >= f.quality[chosen]

    bought, buyers, chosen, bad_buy = map(np.concatenate, zip(*blocks(model.two_cores, c.n, buying), strict=True))
    victims = buyers[bad_buy]
    substandard = np.zeros(c.n, bool)
    substandard[victims] = True
    sales = np.bincount(chosen, minlength=f.n)
    bad = np.bincount(chosen[bad_buy], minlength=f.n)
    sold = sales > 0
    f.reputation[sold] += REPUTATION_LEARNING * ((1.0 - bad[sold] / sales[sold]) - f.reputation[sold])
    f.revenue = sales * f.price * (1.0 - cons.firm_revenue_loss)
    c.wealth[victims] -= b.fraud_loss_share * f.price[chosen[bad_buy]]
    c.trust_firms[buyers] += trust_change(b, c.trust_firms[buyers], ~bad_buy)
    return bought, substandard, sales, bad


_GUIDE_BITS = 14
"""A uniform's leading bits that choose its bucket in :func:`pick`'s guide table
(16,384 buckets: a table that stays in the processor's cache; not a model constant)."""


def pick(cdf: np.ndarray, u: np.ndarray, table: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``np.searchsorted(cdf, u * cdf[-1], side="right")`` for uniforms ``u`` in [0, 1):
    the same numbers, several times faster for many draws over a short ``cdf``.

    A guide table gives, for each of 2**_GUIDE_BITS equal slices of [0, 1), the answer
    at the slice's start; the leading bits of ``u`` (read from its binary form) name
    its slice. That answer is checked against ``cdf``, and the few draws whose slice
    holds a step of ``cdf`` are searched as before. ``table`` is
    :func:`guide_table` of ``cdf``, made once for many calls with the same ``cdf``."""
    guide, bounds = table
    key = u * cdf[-1]
    slice_ = ((u + 1.0).view(np.int64) >> (52 - _GUIDE_BITS)) & (guide.size - 1)  # floor(u * size)
    found = guide.take(slice_)
    wrong = np.flatnonzero((bounds.take(found) > key) | (key >= bounds[1:].take(found)))
    found[wrong] = np.searchsorted(cdf, key[wrong], side="right")
    return found


def guide_table(cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pick`'s guide table of ``cdf`` and the bounds it checks answers against."""
    size = 1 << _GUIDE_BITS
    guide = np.searchsorted(cdf, np.arange(size) * (cdf[-1] / size), side="right")
    return guide, np.concatenate(([-np.inf], cdf, [np.inf]))


def trust_change(b, trust: np.ndarray, experience: np.ndarray) -> np.ndarray:
    """How much ``trust`` moves toward ``experience`` (1 good, 0 bad, or a share of good
    ones): a good experience closes ``trust_learning`` of the gap, a bad one
    ``betrayal_weight`` times as much (at most all of it). Trust is easy to lose and hard
    to gain, so it rests well below the share of good experiences."""
    gap = experience - trust
    return np.where(gap < 0, min(1.0, b.trust_learning * b.betrayal_weight), b.trust_learning) * gap


def transactions(model: ReputationModel):
    """Trust game on ties: the trustor lends a stake if trusting enough; the trustee
    repays with a return or cheats. Sanctions deter cheating; loan bans, published
    lists and visible scores change whom people trust. The lender in a drawn deal learns
    whether the borrower proved reliable in it, whether or not the stake was lent (one
    sees how a contact deals), so trust is learned at the same pace whatever its level."""
    c, t, b = model.citizens, model.ties, model.config.behaviour
    rng = model.streams["transactions"]
    p = per_step(b.transactions_per_tie_per_year, model.config.run.days_per_step)
    k = rng.binomial(t.n_ties, p)
    edge = rng.integers(0, max(t.n_ties, 1), k)
    flip, u_trust, u_keep = rng.random(k) < 0.5, rng.random(k), rng.random(k)
    live = t.active[edge] if t.n_ties else np.zeros(0, bool)
    edge, flip, u_trust, u_keep = edge[live], flip[live], u_trust[live], u_keep[live]
    n_live = edge.size
    a, e, stake = np.empty(n_live, np.intp), np.empty(n_live, np.intp), np.empty(n_live)
    trusted, reliable = np.empty(n_live, bool), np.empty(n_live, bool)
    blocks(model.two_cores, n_live,
           partial(_trust_game, model, edge, flip, u_trust, u_keep, a, e, stake, trusted, reliable))
    kept, cheat = trusted & reliable, trusted & ~reliable
    # sums per citizen over the few citizens involved, numbered 0..m-1 in citizen order
    involved = np.zeros(c.n, bool)
    involved[a] = involved[e] = True
    who = np.flatnonzero(involved)
    slot = np.empty(c.n, np.intp)
    slot[who] = np.arange(who.size)
    sa, se, m = slot[a], slot[e], who.size
    gain = b.return_rate * stake
    c.wealth[who] += (np.bincount(sa[kept], gain[kept], m) + np.bincount(se[kept], gain[kept], m)
                      - np.bincount(sa[cheat], stake[cheat], m) + np.bincount(se[cheat], stake[cheat], m))
    n_seen = np.bincount(sa, minlength=m)
    seen = n_seen > 0
    rate = np.bincount(sa[reliable], minlength=m)[seen] / n_seen[seen]
    lenders = who[seen]
    c.trust_generalized[lenders] += trust_change(b, c.trust_generalized[lenders], rate)
    cheated, victim = np.zeros(c.n, bool), np.zeros(c.n, bool)
    cheated[e[cheat]] = True
    victim[a[cheat]] = True
    c.last_default[cheated] = model.steps
    return np.count_nonzero(trusted), np.count_nonzero(kept), cheated, victim


def _trust_game(model: ReputationModel, edge, flip, u_trust, u_keep, a, e, stake, trusted, reliable,
                part: slice) -> None:
    """The transactions in ``part`` of those drawn on ``edge``: who lends (``a``) to whom
    (``e``), the ``stake``, whether the lender ``trusted`` and whether the borrower proved
    ``reliable`` (kept faith, or would have, had the stake been lent)."""
    c, t, b, cons = model.citizens, model.ties, model.config.behaviour, model.cons
    edge, flip = edge[part], flip[part]
    a[part] = lender = np.where(flip, t.v[edge], t.u[edge])
    e[part] = borrower = np.where(flip, t.u[edge], t.v[edge])
    p_trust = c.trust_generalized[lender] * ~cons.loan_ban[borrower]
    p_trust = p_trust * np.where(cons.published[borrower], 1.0 - b.published_distrust, 1.0)
    score = cons.visible_score[borrower]
    lean = cons.lender_conditioning
    p_trust = p_trust * np.where(np.isfinite(score), 1.0 + lean * (2.0 * np.nan_to_num(score) - 1.0), 1.0)
    trusted[part] = u_trust[part] < np.clip(p_trust, 0.0, 1.0)
    stake[part] = b.stake_days * c.income[lender]
    afford = np.minimum(1.0, c.wealth[borrower] / np.maximum(stake[part], 1e-12))
    h = c.honesty[borrower]
    p_keep = afford * (h + (1.0 - h) * deterrence(model, "default", borrower))
    reliable[part] = u_keep[part] < p_keep


def infractions(model: ReputationModel, u: np.ndarray, u_serious: np.ndarray):
    """Minor (traffic-type) infractions, more likely the less honest, less likely the
    more a citizen feels watched and the harsher the sanction; a share are serious
    (``u`` and ``u_serious``: one uniform per citizen from the ``infractions`` stream;
    ``u_serious`` is read for the offenders only)."""
    c, b = model.citizens, model.config.behaviour
    infraction = u < deterred(model, "infraction")
    serious = below_where(infraction, u_serious, b.serious_share)
    c.last_serious[serious] = model.steps
    return infraction, serious


def prosocial(model: ReputationModel, u: np.ndarray) -> np.ndarray:
    """Volunteering and donating: more likely the more honest, and more likely when a
    bonus rewards it (``u``: one uniform per citizen from the ``prosocial`` stream)."""
    return u < model.chances["prosocial"]


def speech(model: ReputationModel, u: np.ndarray) -> np.ndarray:
    """Critical posts: by inclination, silenced by perceived penalties (chilling)
    (``u``: one uniform per citizen from the ``speech`` stream)."""
    return u < deterred(model, "speech")


def step_chances(model: ReputationModel) -> dict[str, np.ndarray]:
    """Each citizen's chance per step of an infraction (more likely the less honest),
    a prosocial act (the more honest, and more with a bonus) and a critical post (by
    inclination), before deterrence. They change only with the scenario, so the model
    computes them when it is configured."""
    c, b, pop = model.citizens, model.config.behaviour, model.config.population
    dps = model.config.run.days_per_step
    mean_dishonesty = max(1.0 - float(pop.honesty_mean), 1e-3)
    boost = 1.0 + b.prosocial_incentive * model.severity.get("prosocial", 0.0)
    rates = {"infraction": b.infractions_per_year * (1.0 - c.honesty) / mean_dishonesty,
             "prosocial": b.prosocial_per_year * c.honesty * boost,
             "speech": b.speech_per_year * c.speech_inclination}
    return {name: -np.expm1(-rate * dps / 365.0) for name, rate in rates.items()}


def deterred(model: ReputationModel, behaviour: str) -> np.ndarray:
    """This step's chance of ``behaviour``, cut by deterrence (see :func:`deterrence`)."""
    chance = model.chances[behaviour]
    if not model.severity.get(behaviour, 0.0):
        return chance
    return chance * (1.0 - deterrence(model, behaviour))
