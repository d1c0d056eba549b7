"""Outputs of a step, all computed in vectorised form.

``METRICS`` names the columns of the model's DataCollector table with their
definitions; ``CONFUSION_GROUPS`` names the groups of the per-group confusion matrix
(sanctioned, i.e. listed or low-graded, against true behaviour in the truth window).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from .network import assortativity, dot
from .parallel import together

if TYPE_CHECKING:
    from .behaviour import Acts
    from .model import ReputationModel
    from .recording import Records

METRICS: dict[str, str] = {
    "trust_generalized": "Mean trust in contacts and strangers [0-1].",
    "trust_in_firms": "Mean trust that firms sell what they promise [0-1].",
    "transaction_success_rate": ("Share of trusted transactions this step that were kept (0 if no transaction was "
                                 "trusted) [0-1]."),
    "fraud_rate": "Share of citizens defrauded this step, by a contact or a firm [0-1].",
    "gini_wealth": "Gini coefficient of wealth [0-1].",
    "gini_income": "Gini coefficient of income after sanctions and rewards [0-1].",
    "wealth_ratio_urban_rural": ("Mean urban wealth over mean rural wealth (1 if either group is empty or the rural "
                                 "citizens own nothing) [ratio]."),
    "share_listed": "Share of citizens on any blacklist [0-1].",
    "share_listed_innocent": ("Share of the listed whose listing rests on a false record or on unrecorded "
                              "compliance (0 while nobody is listed) [0-1]."),
    "wrongful_listings_active": "Number of wrongful listings in force [citizens].",
    "mean_wrongful_days": "Mean age of the wrongful listings in force (0 while there is none) [days].",
    "mean_days_to_clear_wrongful": ("Mean time wrongful listings lasted before appeal or expiry removed them, "
                                    "so far (0 until one is removed) [days]."),
    "share_sanctioned": "Share of citizens listed or low-graded [0-1].",
    "share_redlisted": "Share of citizens on a redlist [0-1].",
    "appeals_pending": "Appeals filed and not yet decided [appeals].",
    "share_low_grade": "Share of citizens graded C or D [0-1].",
    "share_high_grade": "Share of citizens graded AAA or AA [0-1].",
    "mean_points": "Mean municipal points [points].",
    "opted_in_commercial": "Share of citizens using the commercial score [0-1].",
    "mean_commercial_score": "Mean commercial score of its users (0 while nobody uses it) [points].",
    "opted_in_rating": "Share of citizens using the government rating app [0-1].",
    "share_rated_bad": "Share of citizens rated 'bad' by the rating app [0-1].",
    "infraction_rate": "Share of citizens committing an infraction this step [0-1].",
    "default_rate": "Share of citizens cheating a contact this step [0-1].",
    "prosocial_rate": "Share of citizens doing a prosocial act this step [0-1].",
    "speech_rate": "Share of citizens posting critical speech this step [0-1].",
    "watched_mean": "Mean perceived chance of being watched [0-1].",
    "approval_mean": "Mean approval of the scoring system [0-1].",
    "approval_urban": "Mean approval of urban citizens (0 for an empty group) [0-1].",
    "approval_rural": "Mean approval of rural citizens (0 for an empty group) [0-1].",
    "approval_high_income": "Mean approval of the top income tercile (0 for an empty group) [0-1].",
    "approval_low_income": "Mean approval of the bottom income tercile (0 for an empty group) [0-1].",
    "approval_high_education": "Mean approval of university-educated citizens (0 for an empty group) [0-1].",
    "approval_low_education": "Mean approval of citizens with low education (0 for an empty group) [0-1].",
    "score_assortativity": ("Correlation of standing across ties (0 without any score, without two ties between "
                            "scored citizens or without variation) [-1..1]."),
    "listed_degree_ratio": "Mean active ties of sanctioned citizens over that of the others (1 if none) [ratio].",
    "isolated_share": "Share of citizens without any active tie [0-1].",
    "cross_group_tie_share": "Share of active ties linking urban and rural citizens (0 without active ties) [0-1].",
    "substandard_share": "Share of purchases that were substandard or counterfeit (0 without purchases) [0-1].",
    "firm_quality_mean": "Mean firm quality [0-1].",
    "firms_listed_share": "Share of firms on a blacklist [0-1].",
    "firm_violations_recorded": "Violations recorded against firms this step (spot checks and tax) [records].",
}

CONFUSION_GROUPS = ("all", "urban", "rural", "income_low", "income_mid", "income_high",
                    "education_low", "education_mid", "education_high")
CONFUSION_CELLS = ("tp", "fp", "fn", "tn")
CONFUSION_COLUMNS = [f"cm_{g}_{c}" for g in CONFUSION_GROUPS for c in CONFUSION_CELLS]


def share(mask: np.ndarray) -> float:
    """Share of True in a mask (0 for an empty one): the mean, without converting to float."""
    return np.count_nonzero(mask) / mask.size if mask.size else 0.0


def gini_of_sorted(s: np.ndarray) -> float:
    """Gini coefficient of values sorted in ascending order, negative ones counted as 0
    (0 for empty or all-zero input); ``s`` is a scratch array: its negative values are
    set to 0."""
    n = s.size
    if n == 0:
        return 0.0
    if s[0] < 0:
        np.maximum(s, 0.0, out=s)
    total = s.sum()
    if total <= 0:
        return 0.0
    return float((2.0 * dot(_ranks(n), s) / (n * total)) - (n + 1.0) / n)


PRESORT_FROM = 1 << 16
"""Values from which :func:`sort` pre-orders them by their leading bits."""


def sort(x: np.ndarray) -> np.ndarray:
    """``np.sort(x)``, in about half its time for large float arrays.

    The values are first put in order of their leading 32 bits (sign, exponent and 20
    bits of the mantissa: the order of the values themselves, to within a millionth,
    for values of one sign) by two passes of numpy's radix sort of 16-bit keys; a
    stable sort (timsort) then finds the long sorted runs this leaves and merges
    them. The last sort alone makes the result sorted, whatever the pre-order did."""
    if x.size < PRESORT_FROM or x.dtype != np.float64:
        return np.sort(x)
    bits = np.ascontiguousarray(x).view(np.uint64)
    order = np.argsort((bits >> 32).astype(np.uint16), kind="stable")
    order = order[np.argsort((bits >> 48).astype(np.uint16)[order], kind="stable")]
    return np.sort(x[order], kind="stable")


def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of two sorted arrays in one sorted array, the one ``np.sort`` gives for
    all of them: a stable sort (timsort) finds the two sorted runs and merges them in
    one pass."""
    if not b.size:
        return a
    if not a.size:
        return b
    return np.sort(np.concatenate((a, b)), kind="stable")


class NearReference:
    """Sorts arrays most of whose values equal a fixed reference array's, such as income
    (base income times one minus this step's losses plus its rewards: most citizens
    have neither in a step, so their income is their base income to the bit). The
    reference's sorted values are made once, from an order that sorts it; each sort
    takes the unchanged values in that order, sorts only the changed ones and merges
    the two runs. The result is the array ``np.sort`` gives, at a fraction of its cost
    while few values changed."""

    MOST_CHANGED = 0.5
    """Share of changed values above which a plain sort is cheaper."""

    def __init__(self, reference: np.ndarray, order: np.ndarray) -> None:
        self.reference, self._order = reference, order
        self._sorted = reference[order]

    def sort(self, x: np.ndarray) -> np.ndarray:
        """``np.sort(x)`` for an array of the reference's size (always a new array)."""
        same = x == self.reference
        if x.size - np.count_nonzero(same) > self.MOST_CHANGED * x.size:
            return sort(x)
        return merge_sorted(self._sorted[same[self._order]], sort(x[~same]))


@functools.lru_cache(maxsize=4)
def _ranks(n: int) -> np.ndarray:
    """1, 2, ..., n as floats (cached: the population size does not change in a run)."""
    ranks = np.arange(1.0, n + 1.0)
    ranks.flags.writeable = False
    return ranks


class Groups:
    """The groups of the population (urban/rural, income tercile, education level).

    Each citizen gets one cell code for the combination of residence, income tercile
    and education (18 cells), so that a per-group sum is one ``bincount`` over the
    cells, whose table is then summed along the other groupings."""

    GROUPINGS = {
        "residence": ("rural", "urban"),
        "income": ("income_low", "income_mid", "income_high"),
        "education": ("education_low", "education_mid", "education_high"),
    }
    SHAPE = tuple(len(labels) for labels in GROUPINGS.values())

    def __init__(self, citizens) -> None:
        self.n = citizens.n
        self.codes = {"residence": citizens.urban.astype(np.intp),
                      "income": citizens.income_tercile.astype(np.intp),
                      "education": citizens.education.astype(np.intp)}
        self.cell = np.ravel_multi_index(tuple(self.codes.values()), self.SHAPE)
        self.sizes = {"all": float(self.n)}
        counts = np.bincount(self.cell, minlength=self.cell_count).astype(float)
        self.sizes.update({g: float(size) for g, size in self._marginals(counts).items()})

    @property
    def cell_count(self) -> int:
        return int(np.prod(self.SHAPE))

    def _marginals(self, table: np.ndarray) -> dict:
        """Per-group totals of a table over the cells (extra trailing axes are kept)."""
        table = table.reshape(*self.SHAPE, *table.shape[1:])
        out = {}
        for axis, labels in enumerate(self.GROUPINGS.values()):
            others = tuple(a for a in range(len(self.SHAPE)) if a != axis)
            out.update(zip(labels, table.sum(axis=others), strict=True))
        return out

    def masks(self) -> dict[str, np.ndarray]:
        """Membership mask of each group (``all`` included)."""
        out = {"all": np.ones(self.n, bool)}
        for grouping, labels in self.GROUPINGS.items():
            out.update({label: self.codes[grouping] == i for i, label in enumerate(labels)})
        return out

    def sums(self, x: np.ndarray) -> dict[str, float]:
        """Sum of ``x`` (numbers or a mask) within each group."""
        table = np.bincount(self.cell, weights=x, minlength=self.cell_count)
        out = {"all": float(table.sum())}
        out.update({g: float(s) for g, s in self._marginals(table).items()})
        return out

    def cross(self, cell: np.ndarray, n_cells: int) -> dict[str, np.ndarray]:
        """Counts of each value of ``cell`` (integers 0 .. n_cells - 1) within each group."""
        table = np.bincount(self.cell * n_cells + cell, minlength=self.cell_count * n_cells)
        table = table.reshape(self.cell_count, n_cells).astype(float)
        return {"all": table.sum(axis=0), **self._marginals(table)}

    def means(self, x: np.ndarray) -> dict[str, float]:
        """Mean of ``x`` within each group (0 for an empty group)."""
        return {g: s / self.sizes[g] if self.sizes[g] else 0.0 for g, s in self.sums(x).items()}


def confusion(model: ReputationModel) -> dict[str, float]:
    """Sanctioned (listed or low grade) against truly offending within the truth window."""
    c, run = model.citizens, model.config.run
    window = run.truth_window_days / run.days_per_step
    offender = ((model.steps - c.last_serious) <= window) | ((model.steps - c.last_default) <= window)
    cell = model.cons.sanctioned.astype(np.intp) * 2 + offender  # 0 tn, 1 fn, 2 fp, 3 tp
    out = {}
    for g, (tn, fn, fp, tp) in model.group_index.cross(cell, 4).items():
        out.update({f"cm_{g}_tp": tp, f"cm_{g}_fp": fp, f"cm_{g}_fn": fn, f"cm_{g}_tn": tn})
    return out


LOW_WEALTH_SHARE = 0.3
"""Share of the citizens, the poorest, whose wealth the part of the metrics with the
most other work sorts on a model that uses two cores (the other part sorts the rest):
at 1M citizens in ``patchwork`` the two parts then take about as long."""

PIVOT_SAMPLE = 1 << 10
"""Citizens (evenly spaced) whose wealth estimates that share's upper bound."""


def compute(model: ReputationModel, acts: Acts | None, rec: Records | None) -> dict[str, float]:
    """All metrics of the current state (``acts`` and ``rec`` are None before the first step).

    On a model that uses two cores, the metrics are computed in two parts at once: the
    correlation of standing across ties, and all the others. For the wealth Gini
    coefficient, each part sorts the wealth on one side of a pivot (an estimate of the
    ``LOW_WEALTH_SHARE`` quantile), so that the two sorted sides, one after the other,
    are the sorted wealth, whatever the pivot."""
    model.ties.degree()  # fills the ties' cache, which both parts then read
    wealth = model.citizens.wealth
    if model.two_cores:
        below = wealth < np.quantile(wealth[:: max(1, wealth.size // PIVOT_SAMPLE)], LOW_WEALTH_SHARE)
        (low, out), (high, assort) = together(
            True,
            lambda: (sort(wealth[below]), _the_rest(model, acts, rec)),
            lambda: (sort(wealth[~below]), score_assortativity(model)))  # from the pivot up, NaN too
        wealth_sorted = np.concatenate((low, high))
    else:
        wealth_sorted, out, assort = sort(wealth), _the_rest(model, acts, rec), score_assortativity(model)
    out["gini_wealth"] = gini_of_sorted(wealth_sorted)
    out["score_assortativity"] = assort
    return out


def score_assortativity(model: ReputationModel) -> float:
    """Correlation of citizens' mean standing across ties (0 without any score)."""
    standing = model.standing()
    return 0.0 if standing is None else assortativity(standing, model.ties)


def _the_rest(model: ReputationModel, acts: Acts | None, rec: Records | None) -> dict[str, float]:
    """Every metric but the two that :func:`compute` adds: the wealth Gini and assortativity."""
    c, f, ties, cons = model.citizens, model.firms, model.ties, model.cons
    approval = model.group_index.means(c.approval)
    wealth = model.group_index.means(c.wealth)
    out = dict.fromkeys(METRICS, 0.0)
    out["listed_degree_ratio"] = 1.0
    out["wealth_ratio_urban_rural"] = 1.0
    out.update({
        "trust_generalized": float(c.trust_generalized.mean()),
        "trust_in_firms": float(c.trust_firms.mean()),
        "gini_income": gini_of_sorted(model.income_sort.sort(c.income)),
        "share_sanctioned": share(cons.sanctioned),
        "watched_mean": float(c.watched.mean()),
        "approval_mean": float(c.approval.mean()),
        "approval_urban": approval["urban"],
        "approval_rural": approval["rural"],
        "approval_high_income": approval["income_high"],
        "approval_low_income": approval["income_low"],
        "approval_high_education": approval["education_high"],
        "approval_low_education": approval["education_low"],
        "firm_quality_mean": float(f.quality.mean()),
        "firms_listed_share": share(cons.firm_listed),
    })
    if model.group_index.sizes["urban"] and wealth["rural"] > 0:
        out["wealth_ratio_urban_rural"] = wealth["urban"] / wealth["rural"]
    if acts is not None:
        bought = np.count_nonzero(acts.bought)
        out.update({
            "transaction_success_rate": acts.kept / acts.trusted if acts.trusted else 0.0,
            "fraud_rate": share(acts.victim | acts.substandard),
            "infraction_rate": share(acts.infraction),
            "default_rate": share(acts.cheated),
            "prosocial_rate": share(acts.prosocial),
            "speech_rate": share(acts.speech),
            "substandard_share": np.count_nonzero(acts.substandard) / bought if bought else 0.0,
        })
    if rec is not None:
        out["firm_violations_recorded"] = float(rec.firm_violations.sum())
    degree = ties.degree()
    out["isolated_share"] = share(degree == 0)
    u, v = ties.active_ends()
    if u.size:
        out["cross_group_tie_share"] = ties.crossing() / u.size
    s = cons.sanctioned
    n_s = np.count_nonzero(s)
    if 0 < n_s < s.size:
        ties_s = int(degree[s].sum())
        ties_rest = int(degree.sum()) - ties_s
        if ties_rest > 0:
            out["listed_degree_ratio"] = (ties_s / n_s) / (ties_rest / (s.size - n_s))
    for rule in model.rules:
        out.update(rule.metrics())
    out.update(confusion(model))
    return out
