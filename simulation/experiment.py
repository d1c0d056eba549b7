"""The experiment file: what a sweep varies, how often it repeats, and what it keeps.

An experiment is a YAML file read into :class:`Experiment`. It names a base scenario,
the parameters to vary by dotted path (a list of values or a numeric range), a design
(``grid``, ``lhs``, ``sobol`` or ``morris``), the replicates per design point, the
number of steps, the root seed and the metrics to keep. Every model forbids unknown
keys; every number has bounds; field docstrings are the reference (``docs/batch.md``).

:func:`load_experiment` reads and validates a file and :func:`resolve` checks it
against its base scenario: every parameter path must exist there and every value the
design can produce at a range's ends (or in a list) must be allowed by the scenario
schema. Problems raise :class:`ExperimentError` (a :class:`ScenarioError`), whose
message names the field; the command line turns it into exit status 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .catalog import load_scenario, read_yaml, shown
from .metrics import CONFUSION_COLUMNS, METRICS
from .overrides import ScenarioError, _suggest, apply_overrides, describe_errors, set_path, validate_mapping
from .scenario import Scenario, no_bool_for_number

MAX_SEED = 2**63 - 1
"""Largest root seed (run seeds are 63-bit integers too)."""
MAX_RUNS = 1_000_000
"""Most runs (design points x replicates) one experiment may ask for."""
FIXED_PATHS = ("title", "description", "sources", "interventions", "run.steps")
"""Scenario paths a sweep may not vary: texts, the intervention list, and the run
length (set with the experiment's ``steps``, the same for every run)."""
KEEPABLE = (*METRICS, *CONFUSION_COLUMNS)
"""Metric names an experiment may keep: every column of the metrics table."""


class ExperimentError(ScenarioError):
    """An experiment file that cannot be run; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True,
                              allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_number(cls, data: Any) -> Any:
        return no_bool_for_number(cls, data)


# --------------------------------------------------------------------------- parameters


class Parameter(_Strict):
    """One scenario value the sweep varies: give either ``values`` (a list) or ``range``
    (two numbers, low and high)."""

    values: list[Union[bool, int, float, str]] | None = Field(None, min_length=1, max_length=1000)
    """The values to try, e.g. ``[true, false]`` or ``[0.001, 0.01, 0.1]``. A grid uses
    each; lhs, sobol and morris draw among them with equal chance."""

    range: tuple[float, float] | None = None
    """Lowest and highest value, e.g. ``[0.0, 0.02]``; low must be below high. A grid
    takes ``levels`` evenly spaced values including both ends; lhs, sobol and morris
    draw within it."""

    scale: Literal["linear", "log"] = "linear"
    """How a range is spread: ``linear`` (even steps) or ``log`` (even ratios; both ends
    must then be above 0). Only with ``range``."""

    integer: bool = False
    """Whether the range holds whole numbers (for fields such as
    ``rules.blacklist.grace_days``); both ends must then be whole. Drawn designs give
    each whole number in the range the same chance. Only with ``range``."""

    levels: int | None = Field(None, ge=2, le=1000)
    """Number of values a grid takes from this range (default: the design's
    ``levels``). Only with ``range`` and a grid design."""

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either 'values' (a list) or 'range' ([low, high]), not both or neither")
        if self.values is not None:
            extras = [name for name in ("levels",) if getattr(self, name) is not None]
            extras += [name for name, default in (("scale", "linear"), ("integer", False))
                       if getattr(self, name) != default]
            if extras:
                raise ValueError(f"{', '.join(extras)} only apply to a 'range', not to 'values'")
            kinds = {_kind(v) for v in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values must all be numbers, all true/false or all text, got {self.values}")
            if len({json.dumps(v) for v in self.values}) < len(self.values):
                raise ValueError(f"values are repeated: {self.values}")
            return self
        low, high = self.range
        if not low < high:
            raise ValueError(f"empty range [{low:g}, {high:g}]: the first number (low) must be below the second "
                             "(high); to fix a value, use 'values: [x]' or the experiment's 'overrides'")
        if self.scale == "log" and low <= 0:
            raise ValueError(f"a log-scale range must be above 0, got [{low:g}, {high:g}]")
        if self.integer and not (float(low).is_integer() and float(high).is_integer()):
            raise ValueError(f"an integer range needs whole-number ends, got [{low:g}, {high:g}]")
        return self

    def grid(self, levels: int) -> list[Any]:
        """The values a grid design takes: every listed value, or ``levels`` (this
        parameter's own, if set) evenly spaced values of the range, both ends included
        (even ratios on a log scale; whole numbers rounded and not repeated)."""
        if self.values is not None:
            return list(self.values)
        n = self.levels or levels
        low, high = self.range
        raw = np.geomspace(low, high, n) if self.scale == "log" else np.linspace(low, high, n)
        raw[0], raw[-1] = low, high  # exact ends
        if self.integer:
            return list(dict.fromkeys(int(round(x)) for x in raw))
        return [float(x) for x in raw]

    def candidates(self) -> list[Any]:
        """Values checked against the scenario before running: every listed value, or a
        range's two ends."""
        if self.values is not None:
            return list(self.values)
        low, high = self.range
        return [int(low), int(high)] if self.integer else [low, high]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, (int, float)) else "text"


# --------------------------------------------------------------------------- designs


class GridDesign(_Strict):
    """Every combination of the parameters' values (a full factorial)."""

    kind: Literal["grid"] = "grid"
    levels: int = Field(5, ge=2, le=1000)
    """Values taken from each ``range`` (evenly spaced, both ends included) unless the
    parameter sets its own ``levels``."""


class LhsDesign(_Strict):
    """Latin hypercube sample: ``samples`` points spread evenly over every range."""

    kind: Literal["lhs"] = "lhs"
    samples: int = Field(ge=1, le=MAX_RUNS)
    """Number of design points."""


class SobolDesign(_Strict):
    """Saltelli's scheme for Sobol' variance-based sensitivity indices (SALib):
    ``samples`` x (parameters + 2) design points, or ``samples`` x (2 x parameters + 2)
    with second-order indices. Analyse with ``scoresim sensitivity``."""

    kind: Literal["sobol"] = "sobol"
    samples: int = Field(ge=2, le=MAX_RUNS)
    """Base sample size N, a power of 2 (e.g. 64, 256, 1024): the Sobol' sequence keeps
    its balance only then."""
    second_order: bool = False
    """Whether to also estimate second-order (pairwise interaction) indices; needs at
    least two parameters and nearly doubles the points."""

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, n: int) -> int:
        if n & (n - 1):
            low = 1 << (n.bit_length() - 1)
            raise ValueError(f"must be a power of 2 for a sobol design (got {n}; try {low} or {2 * low})")
        return n


class MorrisDesign(_Strict):
    """Morris elementary-effects screening (SALib): ``samples`` trajectories of
    (parameters + 1) points each. Analyse with ``scoresim sensitivity``."""

    kind: Literal["morris"] = "morris"
    samples: int = Field(ge=2, le=MAX_RUNS)
    """Number of trajectories (10 to 50 is usual)."""
    levels: int = Field(4, ge=2, le=100)
    """Number of grid levels each parameter moves on, an even number (4 is usual)."""

    @field_validator("levels")
    @classmethod
    def _even(cls, n: int) -> int:
        if n % 2:
            raise ValueError(f"must be even for a morris design (got {n}; try {n - 1} or {n + 1})")
        return n


Design = Annotated[Union[GridDesign, LhsDesign, SobolDesign, MorrisDesign], Field(discriminator="kind")]


# --------------------------------------------------------------------------- metrics, experiment


class MetricsSpec(_Strict):
    """Which metrics a sweep keeps, and how often it keeps them."""

    keep: list[str] | None = Field(None, min_length=1)
    """Metric names (``python -m simulation metrics``; ``cm_*`` confusion cells too).
    Default: every metric of ``metrics``, without the confusion cells."""
    every: int = Field(1, ge=0, le=1_000_000)
    """Keep the metrics of every n-th step in ``timeseries/`` (step 0, n, 2n, ... and
    always the last step); 0 writes no time series, only the final values."""
    final_window: int = Field(1, ge=1, le=1_000_000)
    """The final value of a metric in ``runs.parquet`` is its mean over the last this
    many steps (1: the last step's value). Useful for per-step rates such as
    ``fraud_rate``."""

    @field_validator("keep")
    @classmethod
    def _known(cls, names: list[str] | None) -> list[str] | None:
        if names is None:
            return None
        for name in names:
            if name not in KEEPABLE:
                hint = _suggest(name, list(KEEPABLE)).split(" Allowed:")[0]
                raise ValueError(f"unknown metric '{name}'.{hint} See 'python -m simulation metrics'")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"metrics listed twice: {', '.join(repeated)}")
        return names

    @property
    def names(self) -> tuple[str, ...]:
        """The metrics kept, in order."""
        return tuple(self.keep) if self.keep is not None else tuple(METRICS)


class Experiment(_Strict):
    """A sweep: runs of a base scenario over a design of parameter values, each point
    repeated with seeds spawned from one root seed."""

    title: str = Field("Untitled experiment", max_length=200)
    """Short title, shown in the progress bar and the manifest."""
    description: str = Field("", max_length=5000)
    """What the experiment asks."""
    scenario: str | dict[str, Any]
    """Base scenario: a shipped name (``blacklist``), a YAML file path (relative to the
    experiment file's folder), or a scenario written out in place."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Fixed changes to the base scenario by dotted path, as with ``run --set``, e.g.
    ``population.n_citizens: 5000``. Applied before the parameters."""
    parameters: dict[str, Parameter] = Field(default_factory=dict, max_length=100)
    """The scenario values to vary, by dotted path (as in ``run --set``), each with
    ``values`` or a ``range``. Empty: a single design point (replicates only)."""
    design: Design = GridDesign()
    """How points are chosen: ``{kind: grid}`` (the default), ``{kind: lhs, samples:
    N}``, ``{kind: sobol, samples: N}`` or ``{kind: morris, samples: N}``; a bare kind
    (``design: grid``) works for a grid."""
    replicates: int = Field(1, ge=1, le=100_000)
    """Runs per design point, each with its own seed."""
    steps: int | None = Field(None, ge=1, le=1_000_000)
    """Steps per run (default: the base scenario's ``run.steps``)."""
    seed: int = Field(ge=0, le=MAX_SEED)
    """Root seed. Every run's seed is spawned from it with numpy's ``SeedSequence``, so
    the same file gives the same numbers on any number of workers."""
    seeds: Literal["common", "independent"] = "common"
    """``common``: replicate r uses the same seed at every design point (common random
    numbers, as when scenarios are compared with one seed: differences between points
    come from the parameters). ``independent``: every run has its own seed."""
    metrics: MetricsSpec = MetricsSpec()
    """The metrics kept and how often."""

    @model_validator(mode="before")
    @classmethod
    def _bare_design(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("design"), str):
            data = {**data, "design": {"kind": data["design"]}}
        return data

    @field_validator("parameters")
    @classmethod
    def _paths(cls, parameters: dict[str, Parameter]) -> dict[str, Parameter]:
        for path in parameters:
            for fixed in FIXED_PATHS:
                if path == fixed or path.startswith(fixed + "."):
                    extra = " (set the experiment's 'steps' instead)" if fixed == "run.steps" else ""
                    raise ValueError(f"'{path}' cannot be varied by a sweep{extra}")
        return parameters

    @model_validator(mode="after")
    def _design_fits(self) -> Experiment:
        d = self.design
        if d.kind != "grid" and not self.parameters:
            raise ValueError(f"a {d.kind} design needs at least one entry in 'parameters'")
        if d.kind == "sobol" and d.second_order and len(self.parameters) < 2:
            raise ValueError("design.second_order needs at least two parameters")
        for path, p in self.parameters.items():
            if p.levels is not None and d.kind != "grid":
                raise ValueError(f"parameters[{path}].levels only applies to a grid design")
        n = self.n_points * self.replicates
        if n > MAX_RUNS:
            raise ValueError(f"the design asks for {n:,} runs ({self.n_points:,} points x {self.replicates} "
                             f"replicates); the limit is {MAX_RUNS:,}")
        if self.steps is not None and self.metrics.final_window > self.steps + 1:
            raise ValueError(f"metrics.final_window ({self.metrics.final_window}) is longer than the run "
                             f"({self.steps} steps)")
        return self

    @property
    def n_points(self) -> int:
        """Number of design points."""
        d, k = self.design, len(self.parameters)
        if d.kind == "grid":
            return math.prod(_grid_size(p, d.levels) for p in self.parameters.values())
        if d.kind == "lhs":
            return d.samples
        if d.kind == "sobol":
            return d.samples * ((2 * k + 2) if d.second_order else (k + 2))
        return d.samples * (k + 1)

    @property
    def n_runs(self) -> int:
        """Number of runs: design points x replicates."""
        return self.n_points * self.replicates


def _grid_size(p: Parameter, levels: int) -> int:
    if p.values is not None:
        return len(p.values)
    if p.integer:
        return len(p.grid(levels))
    return p.levels or levels


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Resolved:
    """An experiment checked against its base scenario, ready to run."""

    experiment: Experiment
    scenario: Scenario
    """The base scenario with the experiment's overrides and steps applied (and
    ``run.record_events`` off unless the overrides turn it on)."""
    source: str
    """Where the experiment came from (a file path or ``<data>``)."""

    @property
    def steps(self) -> int:
        return self.scenario.run.steps

    def scenario_data(self) -> dict[str, Any]:
        """The base scenario as plain JSON-ready data."""
        return self.scenario.model_dump(mode="json")

    def experiment_hash(self) -> str:
        return digest(self.experiment.model_dump(mode="json"))

    def scenario_hash(self) -> str:
        return digest(self.scenario_data())


def digest(data: Any) -> str:
    """``sha256:`` and the hex digest of ``data`` as canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_experiment(spec: str | Path | Mapping | Experiment) -> Resolved:
    """Read, validate and resolve an experiment (a YAML path, plain data or an
    :class:`Experiment`); raise :class:`ExperimentError` naming the field at fault."""
    if isinstance(spec, Experiment):
        return resolve(spec, Path.cwd(), "<experiment>")
    if isinstance(spec, Mapping):
        return resolve(_validate(dict(spec), "experiment"), Path.cwd(), "experiment")
    path = Path(spec)
    try:
        if path.is_dir():
            raise ExperimentError(f"{shown(path)}: is a directory, not an experiment file.")
        if not path.is_file():
            raise ExperimentError(f"{shown(path)}: no such experiment file.")
    except OSError as exc:
        raise ExperimentError(f"{shown(path)}: cannot be read: {exc.strerror or exc}.") from None
    try:
        data = read_yaml(path)
    except ScenarioError as exc:
        raise ExperimentError(str(exc)) from None
    return resolve(_validate(data, str(path)), path.resolve().parent, str(path))


def _validate(data: Any, source: str) -> Experiment:
    if data is None:
        raise ExperimentError(f"{source}: the file is empty (or only comments); an experiment is a mapping of "
                              "fields such as scenario, parameters, design, replicates and seed.")
    return validate_mapping(data, Experiment, source, contents="fields (scenario, parameters, design, ...)",
                            invalid="is not a valid experiment", describe=format_errors, error=ExperimentError)


def format_errors(exc: ValidationError) -> str:
    """One line per problem: the field (``parameters[dotted.path].range``), what is wrong,
    what is allowed (see :func:`simulation.overrides.describe_errors`)."""

    def field_info(loc):
        parent = _model_at(loc[:-1]) if loc and isinstance(loc[-1], str) else None
        return parent.model_fields.get(loc[-1]) if parent is not None else None

    return describe_errors(exc, _field_name, _model_at, field_info)


def _field_name(loc: tuple) -> str:
    out = ""
    parts = list(loc)
    for i, part in enumerate(parts):
        if i > 0 and parts[i - 1] == "parameters" and isinstance(part, str):
            out += f"[{part}]"
        elif i > 0 and parts[i - 1] == "design" and part in ("grid", "lhs", "sobol", "morris"):
            continue  # the discriminator tag pydantic puts in the location
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(experiment)"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class at a pydantic error location, for 'did you mean' hints."""
    loc = tuple(loc)
    designs = {"grid": GridDesign, "lhs": LhsDesign, "sobol": SobolDesign, "morris": MorrisDesign}
    if loc == ():
        return Experiment
    if loc == ("metrics",):
        return MetricsSpec
    if len(loc) == 2 and loc[0] == "parameters":
        return Parameter
    if len(loc) == 2 and loc[0] == "design":
        return designs.get(loc[1])
    return None


def resolve(experiment: Experiment, folder: Path, source: str) -> Resolved:
    """Check ``experiment`` against its base scenario and build that scenario."""
    base = _base_scenario(experiment.scenario, folder)
    fixed = {"run.record_events": False, **experiment.overrides}
    if experiment.steps is not None:
        fixed["run.steps"] = experiment.steps
    try:
        scenario = apply_overrides(base, fixed)
    except ScenarioError as exc:
        raise ExperimentError(f"{source}: overrides: {exc}") from None
    if experiment.metrics.final_window > scenario.run.steps + 1:
        raise ExperimentError(f"{source}: metrics.final_window ({experiment.metrics.final_window}) is longer "
                              f"than the run ({scenario.run.steps} steps).")
    for path, parameter in experiment.parameters.items():
        _check_parameter(scenario, path, parameter, source)
    return Resolved(experiment, scenario, source)


def _base_scenario(spec: str | dict, folder: Path) -> Scenario:
    try:
        if isinstance(spec, dict):
            return load_scenario(spec)
        path = Path(spec)
        if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1:
            path = path if path.is_absolute() else folder / path
            return load_scenario(path)
        return load_scenario(spec)
    except ScenarioError as exc:
        raise ExperimentError(f"scenario: {exc}") from None


def _check_parameter(scenario: Scenario, path: str, parameter: Parameter, source: str) -> None:
    where = f"{source}: parameters[{path}]"
    try:
        set_path(scenario.model_dump(mode="python"), path, parameter.candidates()[0])
    except ScenarioError as exc:
        raise ExperimentError(f"{where}: unknown parameter path: {exc}") from None
    for value in parameter.candidates():
        try:
            apply_overrides(scenario, {path: value})
        except ScenarioError as exc:
            raise ExperimentError(f"{where}: the value {value!r} cannot be used in the base scenario:\n"
                                  f"{textwrap.indent(str(exc), '    ')}") from None
    if parameter.range is not None and not parameter.integer:
        low, high = parameter.range
        inside = low + (high - low) * 0.3819660112501051  # an interior value with a fraction
        try:
            apply_overrides(scenario, {path: inside})
        except ScenarioError as exc:
            if "integer" in str(exc):
                raise ExperimentError(f"{where}: this field takes whole numbers; add 'integer: true' to the "
                                      "parameter (and give whole-number ends).") from None
            raise ExperimentError(f"{where}: the value {inside!r}, inside the range, cannot be used:\n"
                                  f"{textwrap.indent(str(exc), '    ')}") from None
