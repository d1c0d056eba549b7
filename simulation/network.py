"""The social network as arrays of ties.

Ties are undirected and stored once each as two endpoint arrays ``u`` and ``v`` with
an ``active`` flag; a cut tie stays in the arrays (inactive) or is rewired in place.
Generators draw from the ``network`` stream only, so scenarios with the same seed and
network section share their network. ``to_networkx`` gives a networkx graph on demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from .overrides import ScenarioError
from .parallel import indices


@dataclass(eq=False)
class Ties:
    """Undirected ties between citizens ``u[e]`` and ``v[e]`` (platform-size integers, so
    that indexing needs no conversion); ``active[e]`` is False once cut."""

    u: np.ndarray
    v: np.ndarray
    active: np.ndarray
    n: int
    labels: list[str] | None = None
    side: np.ndarray | None = None
    """A two-valued attribute of citizens (urban or rural) whose crossing ties
    :meth:`crossing` counts; set by the model."""

    version: int = 0
    """Incremented whenever ties change, so that derived arrays can be cached."""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_ties(self) -> int:
        return len(self.u)

    def changed(self, removed: tuple[np.ndarray, np.ndarray] | None = None,
                added: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Mark the ties as changed (cut or rewired). Given the end arrays ``(u, v)`` of
        the ties that were removed and of those that were added, the degrees and the
        count of crossing ties are updated instead of counted again."""
        self.version += 1
        kept = {key: self._cache[key] for key in ("degree", "crossing") if key in self._cache}
        self._cache.clear()
        if removed is None or added is None:
            return
        (ru, rv), (au, av) = removed, added
        if "degree" in kept:
            degree = kept["degree"].copy()
            np.subtract.at(degree, np.concatenate((ru, rv)), 1)
            np.add.at(degree, np.concatenate((au, av)), 1)
            self._cache["degree"] = degree
        if "crossing" in kept:
            s = self.side
            self._cache["crossing"] = (kept["crossing"] - np.count_nonzero(s[ru] != s[rv])
                                       + np.count_nonzero(s[au] != s[av]))

    def cached(self, key: str, compute):
        """``compute()``, kept under ``key`` until the ties change."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def active_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """The two end arrays of the active ties."""
        a = self.active
        return self.cached("ends", lambda: (self.u, self.v) if a.all() else (self.u[a], self.v[a]))

    def degree(self) -> np.ndarray:
        """Active ties per citizen."""
        u, v = self.active_ends()
        return self.cached("degree", lambda: np.bincount(u, minlength=self.n) + np.bincount(v, minlength=self.n))

    def crossing(self) -> int:
        """Active ties whose two ends differ in ``side``."""
        u, v = self.active_ends()
        return self.cached("crossing", lambda: np.count_nonzero(self.side[u] != self.side[v]))

    def neighbour_sum(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """For each citizen, the sum over active contacts of ``values`` (times ``weights``)."""
        u, v = self.active_ends()
        x = values if weights is None else values * weights
        return (np.bincount(u, weights=x[v], minlength=self.n)
                + np.bincount(v, weights=x[u], minlength=self.n))

    def to_networkx(self) -> nx.Graph:
        """The active network as a networkx graph (nodes are citizen numbers)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        a = self.active
        g.add_edges_from(zip(self.u[a].tolist(), self.v[a].tolist(), strict=True))
        return g


def small_world(n: int, mean_degree: int, rewire_prob: float, rng: np.random.Generator) -> Ties:
    """Watts-Strogatz: each citizen tied to its ``mean_degree // 2`` next neighbours on a
    ring, each tie's far end rewired to a uniform random citizen with ``rewire_prob``."""
    half = min(mean_degree // 2, (n - 1) // 2)
    base = np.arange(n, dtype=np.int64)
    u = np.tile(base, half)
    v = (u + np.repeat(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(u)) < rewire_prob
    new_v = rng.integers(0, n - 1, len(u))
    new_v = new_v + (new_v >= u)  # never the citizen itself
    v = np.where(rewire, new_v, v)
    return Ties(u=u.astype(np.intp), v=v.astype(np.intp), active=np.ones(len(u), bool), n=n)


def homophilous(n: int, mean_degree: int, homophily: float, groups: np.ndarray,
                rng: np.random.Generator) -> Ties:
    """Each citizen starts ``mean_degree // 2`` ties; each goes to a random member of
    the citizen's own group with chance ``homophily``, else to anyone."""
    half = mean_degree // 2
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    within = random_member(groups, groups[u], rng.random(len(u)))
    anyone = rng.integers(0, n, len(u))
    v = np.where(rng.random(len(u)) < homophily, within, anyone)
    keep = v != u
    return Ties(u=u[keep].astype(np.intp), v=v[keep].astype(np.intp),
                active=np.ones(int(keep.sum()), bool), n=n)


def random_member(groups: np.ndarray, wanted: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each entry of ``wanted``, a uniformly drawn citizen whose group equals it
    (``u`` are uniforms in [0, 1)); -1 where the group is empty."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, wanted, side="left")
    ends = np.searchsorted(sorted_groups, wanted, side="right")
    pick = starts + (u * (ends - starts)).astype(np.int64)
    return np.where(ends > starts, order[np.minimum(pick, len(order) - 1)], -1)


def drawn_ties(ties: Ties, rng: np.random.Generator, p: float, two_cores: bool = False) -> np.ndarray:
    """Numbers of the active ties whose uniform draw (one per tie, in tie order, from
    ``rng``) falls below ``p``: the few ties a mechanism then looks at more closely
    (each half of the ties on its own core with ``two_cores``)."""
    u = rng.random(ties.n_ties)
    return indices(two_cores, ties.n_ties, lambda part: (u[part] < p) & ties.active[part])


def rewire(ties: Ties, edges: np.ndarray, keeper: np.ndarray, groups: np.ndarray | None,
           rng: np.random.Generator, model) -> None:
    """Cut ``edges``; each ``keeper`` end makes a new tie, in place, with a random member
    of its own group in ``groups`` (no new tie when none is found); ``groups=None``:
    with anyone (the same draw and partner as one group for all)."""
    if edges.size == 0:
        return
    dropped = np.where(ties.u[edges] == keeper, ties.v[edges], ties.u[edges])
    u = rng.random(edges.size)
    if groups is None:
        partner = np.minimum((u * ties.n).astype(np.int64), ties.n - 1)
        ok = partner != keeper
    else:
        partner = random_member(groups, groups[keeper], u)
        ok = (partner >= 0) & (partner != keeper) & (groups[keeper] >= 0)
    was = ties.active[edges]
    removed = (ties.u[edges][was], ties.v[edges][was])
    ties.u[edges] = keeper
    ties.v[edges] = np.where(ok, partner, dropped)
    ties.active[edges] = ok
    ties.changed(removed=removed, added=(keeper[ok], partner[ok]))
    model.events.add(model.steps, dropped, "ties_cut", keeper.astype(float))


_SPLIT = re.compile(r"[,\s]+")


def read_edge_list(path: str | Path, n_citizens: int) -> Ties:
    """Read ties from a text file of label pairs (isolated nodes as lone labels)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"network.path: {p} is not UTF-8 text.") from None
    except OSError as exc:
        raise ScenarioError(f"network.path: cannot read edge-list file {p}: {exc.strerror}.") from None
    g = nx.Graph()
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = [f for f in _SPLIT.split(line.split("#", 1)[0].strip()) if f]
        if len(fields) == 1:
            g.add_node(fields[0])
        elif len(fields) == 2:
            if fields[0] != fields[1]:
                g.add_edge(fields[0], fields[1])
            else:
                g.add_node(fields[0])
        elif fields:
            raise ScenarioError(
                f"network.path: {p} line {lineno}: expected one or two node labels, got {len(fields)}."
            )
    if g.number_of_nodes() != n_citizens:
        from .scenario import PopulationConfig

        least = next(m.ge for m in PopulationConfig.model_fields["n_citizens"].metadata if hasattr(m, "ge"))
        found = g.number_of_nodes()
        fix = (f"set population.n_citizens to {found}" if found >= least else
               f"a network needs at least {least} citizens, so the file must name at least {least} nodes")
        raise ScenarioError(
            f"network.path: {p} names {found} nodes{' (it has no ties or labels)' if not found else ''} but "
            f"population.n_citizens is {n_citizens}; {fix}."
        )
    labels = [str(x) for x in g.nodes]
    index = {label: i for i, label in enumerate(labels)}
    edges = np.array([(index[a], index[b]) for a, b in g.edges], dtype=np.intp).reshape(-1, 2)
    return Ties(u=edges[:, 0].copy(), v=edges[:, 1].copy(), active=np.ones(len(edges), bool),
                n=n_citizens, labels=labels)


# Ties at a time when values are gathered along ties, so that the gathered values stay in
# the processor's cache (2 MiB) instead of passing through memory (not a model constant).
# ``take`` gathers them 10-30% faster than indexing does (the same values).
_CHUNK = 1 << 18


def assortativity(x: np.ndarray, ties: Ties) -> float:
    """Pearson correlation of ``x`` across the two ends of active ties, each tie counted
    in both directions (Newman's assortativity coefficient); citizens with a NaN value
    are left out; 0 when undefined.

    Counting both directions makes the two sides' means and variances equal, so with
    E ties and d = x - m, r = (sum over ties of d_u d_v / E) / var, where m and var are
    taken over both ends together. When every value is finite, sums over ends are
    degree-weighted sums over citizens, and only the cross term needs the values
    gathered along the ties.
    """
    u, v = ties.active_ends()
    if np.isfinite(x).all():
        ends, weight = 2 * u.size, ties.degree()
    else:
        ok = np.isfinite(x[u]) & np.isfinite(x[v])
        u, v = u[ok], v[ok]
        ends = 2 * u.size
        weight = np.bincount(u, minlength=x.size) + np.bincount(v, minlength=x.size)
        x = np.nan_to_num(x)
    if ends < 4:  # fewer than two ties: undefined
        return 0.0
    d = x - dot(weight, x) / ends
    var = dot(weight, d * d) / ends
    if var < 1e-12:  # values (essentially) all equal: undefined
        return 0.0
    cross = sum(dot(d.take(u[i:i + _CHUNK]), d.take(v[i:i + _CHUNK])) for i in range(0, u.size, _CHUNK))
    return float(cross / u.size / var)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of two vectors on the calling thread. ``np.dot`` hands long float
    vectors to a multithreaded BLAS, whose threads wait for a core on a busy machine
    (milliseconds for a few thousand ties) and buy nothing for one pass over memory."""
    return np.einsum("i,i->", a, b)
