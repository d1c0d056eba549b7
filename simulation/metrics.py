"""Outputs of a step, all computed in vectorised form.

``METRICS`` names the columns of the model's DataCollector table with their
definitions; ``CONFUSION_GROUPS`` names the groups of the per-group confusion matrix
(sanctioned, i.e. listed or low-graded, against true behaviour in the truth window).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .network import assortativity

if TYPE_CHECKING:
    from .behaviour import Acts
    from .model import ReputationModel
    from .recording import Records

METRICS: dict[str, str] = {
    "trust_generalized": "Mean trust in contacts and strangers [0-1].",
    "trust_in_firms": "Mean trust that firms sell what they promise [0-1].",
    "transaction_success_rate": "Share of trusted transactions this step that were kept [0-1].",
    "fraud_rate": "Share of citizens defrauded this step, by a contact or a firm [0-1].",
    "gini_wealth": "Gini coefficient of wealth [0-1].",
    "gini_income": "Gini coefficient of income after sanctions [0-1].",
    "wealth_ratio_urban_rural": "Mean urban wealth over mean rural wealth [ratio].",
    "share_listed": "Share of citizens on any blacklist [0-1].",
    "share_listed_innocent": ("Share of the listed whose listing rests on a false record or on unrecorded "
                              "compliance [0-1]."),
    "wrongful_listings_active": "Number of wrongful listings in force [citizens].",
    "mean_wrongful_days": "Mean age of the wrongful listings in force [days].",
    "mean_days_to_clear_wrongful": ("Mean time wrongful listings lasted before appeal or expiry removed them, "
                                    "so far [days]."),
    "share_sanctioned": "Share of citizens listed or low-graded [0-1].",
    "share_redlisted": "Share of citizens on a redlist [0-1].",
    "appeals_pending": "Appeals filed and not yet decided [appeals].",
    "share_low_grade": "Share of citizens graded C or D [0-1].",
    "share_high_grade": "Share of citizens graded AAA or AA [0-1].",
    "mean_points": "Mean municipal points [points].",
    "opted_in_commercial": "Share of citizens using the commercial score [0-1].",
    "mean_commercial_score": "Mean commercial score of its users [points].",
    "opted_in_rating": "Share of citizens using the government rating app [0-1].",
    "share_rated_bad": "Share of citizens rated 'bad' by the rating app [0-1].",
    "infraction_rate": "Share of citizens committing an infraction this step [0-1].",
    "default_rate": "Share of citizens cheating a contact this step [0-1].",
    "prosocial_rate": "Share of citizens doing a prosocial act this step [0-1].",
    "speech_rate": "Share of citizens posting critical speech this step [0-1].",
    "watched_mean": "Mean perceived chance of being watched [0-1].",
    "approval_mean": "Mean approval of the scoring system [0-1].",
    "approval_urban": "Mean approval of urban citizens [0-1].",
    "approval_rural": "Mean approval of rural citizens [0-1].",
    "approval_high_income": "Mean approval of the top income tercile [0-1].",
    "approval_low_income": "Mean approval of the bottom income tercile [0-1].",
    "approval_high_education": "Mean approval of university-educated citizens [0-1].",
    "approval_low_education": "Mean approval of citizens with low education [0-1].",
    "score_assortativity": "Correlation of standing across ties (0 without any score) [-1..1].",
    "listed_degree_ratio": "Mean active ties of sanctioned citizens over that of the others (1 if none) [ratio].",
    "isolated_share": "Share of citizens without any active tie [0-1].",
    "cross_group_tie_share": "Share of active ties linking urban and rural citizens [0-1].",
    "substandard_share": "Share of purchases that were substandard or counterfeit [0-1].",
    "firm_quality_mean": "Mean firm quality [0-1].",
    "firms_listed_share": "Share of firms on a blacklist [0-1].",
    "firm_violations_recorded": "Violations recorded against firms this step (spot checks and tax) [records].",
}

CONFUSION_GROUPS = ("all", "urban", "rural", "income_low", "income_mid", "income_high",
                    "education_low", "education_mid", "education_high")
CONFUSION_CELLS = ("tp", "fp", "fn", "tn")
CONFUSION_COLUMNS = [f"cm_{g}_{c}" for g in CONFUSION_GROUPS for c in CONFUSION_CELLS]


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 for empty or all-zero input)."""
    total = x.sum()
    n = x.size
    if n == 0 or total <= 0:
        return 0.0
    s = np.sort(x)
    return float((2.0 * np.dot(np.arange(1, n + 1), s) / (n * total)) - (n + 1.0) / n)


def _mean(x: np.ndarray, mask: np.ndarray) -> float:
    return float(x[mask].mean()) if mask.any() else 0.0


def group_codes(model: ReputationModel) -> dict[str, np.ndarray]:
    """Membership masks of the confusion-matrix groups."""
    c = model.citizens
    return {
        "all": np.ones(c.n, bool), "urban": c.urban, "rural": ~c.urban,
        "income_low": c.income_tercile == 0, "income_mid": c.income_tercile == 1,
        "income_high": c.income_tercile == 2, "education_low": c.education == 0,
        "education_mid": c.education == 1, "education_high": c.education == 2,
    }


def confusion(model: ReputationModel) -> dict[str, float]:
    """Sanctioned (listed or low grade) against truly offending within the truth window."""
    c, run = model.citizens, model.config.run
    window = run.truth_window_days / run.days_per_step
    offender = ((model.steps - c.last_serious) <= window) | ((model.steps - c.last_default) <= window)
    sanctioned = model.cons.sanctioned
    cells = {"tp": sanctioned & offender, "fp": sanctioned & ~offender,
             "fn": ~sanctioned & offender, "tn": ~sanctioned & ~offender}
    out = {}
    for g, mask in model.groups.items():
        for name, cell in cells.items():
            out[f"cm_{g}_{name}"] = float(np.count_nonzero(cell & mask))
    return out


def compute(model: ReputationModel, acts: Acts | None, rec: Records | None) -> dict[str, float]:
    """All metrics of the current state (``acts`` and ``rec`` are None before the first step)."""
    c, f, ties, cons = model.citizens, model.firms, model.ties, model.cons
    g = model.groups
    out = dict.fromkeys(METRICS, 0.0)
    out["listed_degree_ratio"] = 1.0
    out["wealth_ratio_urban_rural"] = 1.0
    out.update({
        "trust_generalized": float(c.trust_generalized.mean()),
        "trust_in_firms": float(c.trust_firms.mean()),
        "gini_wealth": gini(np.maximum(c.wealth, 0.0)),
        "gini_income": gini(c.income),
        "share_sanctioned": float(cons.sanctioned.mean()),
        "watched_mean": float(c.watched.mean()),
        "approval_mean": float(c.approval.mean()),
        "approval_urban": _mean(c.approval, g["urban"]),
        "approval_rural": _mean(c.approval, g["rural"]),
        "approval_high_income": _mean(c.approval, g["income_high"]),
        "approval_low_income": _mean(c.approval, g["income_low"]),
        "approval_high_education": _mean(c.approval, g["education_high"]),
        "approval_low_education": _mean(c.approval, g["education_low"]),
        "firm_quality_mean": float(f.quality.mean()),
        "firms_listed_share": float(cons.firm_listed.mean()),
    })
    rural_wealth = _mean(c.wealth, g["rural"])
    if g["urban"].any() and rural_wealth > 0:
        out["wealth_ratio_urban_rural"] = _mean(c.wealth, g["urban"]) / rural_wealth
    if acts is not None:
        bought = int(acts.bought.sum())
        out.update({
            "transaction_success_rate": acts.kept / acts.trusted if acts.trusted else 0.0,
            "fraud_rate": float((acts.victim | acts.substandard).mean()),
            "infraction_rate": float(acts.infraction.mean()),
            "default_rate": float(acts.cheated.mean()),
            "prosocial_rate": float(acts.prosocial.mean()),
            "speech_rate": float(acts.speech.mean()),
            "substandard_share": float(acts.substandard.sum()) / bought if bought else 0.0,
        })
    if rec is not None:
        out["firm_violations_recorded"] = float(rec.firm_violations.sum())
    degree = ties.degree()
    out["isolated_share"] = float((degree == 0).mean())
    active = ties.active
    if active.any():
        out["cross_group_tie_share"] = float((c.urban[ties.u[active]] != c.urban[ties.v[active]]).mean())
    s = cons.sanctioned
    if s.any() and (~s).any() and degree[~s].mean() > 0:
        out["listed_degree_ratio"] = float(degree[s].mean() / degree[~s].mean())
    standing = model.standing()
    if standing is not None:
        out["score_assortativity"] = assortativity(standing, ties)
    for rule in model.rules:
        out.update(rule.metrics())
    out.update(confusion(model))
    return out
