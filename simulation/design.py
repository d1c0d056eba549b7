"""Design points and seeds of an experiment.

Every parameter is drawn on the unit interval and mapped to its value: a range
linearly or logarithmically (whole numbers: each with the same chance), a list of
values by equal slices. The samplers (SALib's Latin hypercube, Saltelli-Sobol' and
Morris) therefore all work on the unit cube, whose coordinates are kept for the
analysis; a grid takes evenly spaced levels instead.

Seeds come from one root seed through :class:`numpy.random.SeedSequence`, in the parent
process, before any run is handed out::

    root = SeedSequence(experiment.seed)
    design_seq, runs_seq = root.spawn(2)        # sampler randomness, run seeds
    common:      replicate r -> runs_seq.spawn(R)[r]                 (same at every point)
    independent: point p, replicate r -> runs_seq.spawn(P)[p].spawn(R)[r]

and a run's integer seed is the first 63 bits of its sequence's state. A run's seed
depends only on the root seed, its point and its replicate: never on the number of
workers or on the order in which runs finish.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .experiment import Experiment, Parameter


@dataclass(frozen=True)
class Design:
    """The design points of an experiment."""

    kind: str
    names: tuple[str, ...]
    """Parameter paths, in the experiment's order."""
    points: list[dict[str, Any]]
    """One mapping path -> value per design point."""
    unit: np.ndarray | None
    """Unit-cube coordinates of the points (points x parameters), None for a grid."""
    second_order: bool = False
    levels: int = 4

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem: every parameter on [0, 1]."""
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": [[0.0, 1.0]] * len(self.names)}

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "parameters": list(self.names), "second_order": self.second_order,
                "levels": self.levels, "problem": self.problem,
                "unit_samples": None if self.unit is None else self.unit.tolist(), "points": self.points}


def _native(value: Any) -> Any:
    """A plain Python value (numpy scalars become bool, int or float)."""
    return value.item() if isinstance(value, np.generic) else value


def from_unit(p: Parameter, u: float) -> Any:
    """The value of parameter ``p`` at unit coordinate ``u`` in [0, 1]."""
    u = min(max(float(u), 0.0), 1.0)
    if p.values is not None:
        k = len(p.values)
        return p.values[min(int(u * k), k - 1)]
    low, high = p.range
    if p.integer:  # each whole number low..high gets an equal slice of [0, 1]
        lo, hi = int(low), int(high)
        if p.scale == "log":
            value = math.floor(lo * ((hi + 1) / lo) ** u)
        else:
            value = math.floor(lo + u * (hi - lo + 1))
        return int(min(max(value, lo), hi))
    if p.scale == "log":
        return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
    return float(low + u * (high - low))


def grid_values(p: Parameter, levels: int) -> list[Any]:
    """The values a grid takes for ``p`` (see :meth:`Parameter.grid`)."""
    return p.grid(levels)


def make_design(experiment: Experiment, seq: np.random.SeedSequence) -> Design:
    """The design points of ``experiment``; ``seq`` seeds the sampler."""
    d = experiment.design
    names = tuple(experiment.parameters)
    params = [experiment.parameters[n] for n in names]
    if d.kind == "grid":
        combos = itertools.product(*(grid_values(p, d.levels) for p in params))
        points = [{n: _native(v) for n, v in zip(names, combo, strict=True)} for combo in combos]
        return Design("grid", names, points, None, levels=d.levels)
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    rng = np.random.default_rng(seq)
    second_order, levels = False, 4
    if d.kind == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, d.samples, seed=rng)
    elif d.kind == "sobol":
        from SALib.sample import sobol

        second_order = d.second_order
        unit = sobol.sample(problem, d.samples, calc_second_order=second_order, scramble=True, seed=rng)
    else:
        from SALib.sample import morris

        levels = d.levels
        unit = morris.sample(problem, d.samples, num_levels=levels, seed=rng)
    unit = np.asarray(unit, dtype=float)
    points = [{n: _native(from_unit(p, u)) for n, p, u in zip(names, params, row, strict=True)} for row in unit]
    return Design(d.kind, names, points, unit, second_order=second_order, levels=levels)


def _seed_of(seq: np.random.SeedSequence) -> int:
    """A run's integer seed: the first 63 bits of ``seq``'s state."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def plan(experiment: Experiment) -> tuple[Design, np.ndarray]:
    """The design and the seeds (points x replicates) of ``experiment``."""
    design_seq, runs_seq = np.random.SeedSequence(experiment.seed).spawn(2)
    design = make_design(experiment, design_seq)
    n, reps = len(design.points), experiment.replicates
    if experiment.seeds == "common":
        row = [_seed_of(s) for s in runs_seq.spawn(reps)]
        seeds = np.tile(np.array(row, dtype=np.int64), (n, 1))
    else:
        seeds = np.array([[_seed_of(s) for s in point.spawn(reps)] for point in runs_seq.spawn(n)],
                         dtype=np.int64).reshape(n, reps)
    return design, seeds
