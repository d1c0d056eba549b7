"""Parameter controls described from the scenario schema.

Nothing here hard-codes a bound, a default or a help text: each control's type,
bounds and help come from the pydantic field of its dotted path in
:class:`~simulation.scenario.Scenario` (its annotation, its ``Ge``/``Le``/``Gt``/``Lt``
metadata and its attribute docstring). The dashboard only chooses *which* paths are
the key ones for a classroom, grouped as they are shown.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..catalog import load_scenario
from ..overrides import ScenarioError, apply_overrides, parse_value, set_path
from ..scenario import RuleSet, Scenario

KEY_PARAMETERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Regulators: detection and errors", (
        "regulators.courts.coverage",
        "regulators.courts.false_positive_rate",
        "regulators.courts.failure_to_record_rate",
        "regulators.transport.false_positive_rate",
        "regulators.courts.shares_records",
        "regulators.courts.publishes_lists",
        "regulators.courts.appeal_capacity_per_10k",
        "regulators.public_security.coverage",
    )),
    ("How citizens respond", (
        "behaviour.deterrence_strength",
        "behaviour.chilling_strength",
        "behaviour.shaming_avoidance",
        "behaviour.appeal_propensity",
    )),
    ("Blacklist rules", (
        "rules.blacklist.court_list_days",
        "rules.blacklist.sector_list_days",
        "rules.blacklist.sanctions.travel",
        "rules.blacklist.sanctions.loans",
        "rules.blacklist.redlist",
    )),
    ("Points rules (Rongcheng)", (
        "rules.points.minor_deduction",
        "rules.points.default_deduction",
        "rules.points.speech_deduction",
        "rules.points.prosocial_bonus",
    )),
    ("Commercial score (Sesame)", (
        "rules.commercial.weight_friends",
        "rules.commercial.weight_speech",
        "rules.commercial.tie_pruning",
        "rules.commercial.lender_conditioning",
    )),
    ("Government rating (Honest Shanghai)", (
        "rules.rating.good_max_records",
        "rules.rating.reward",
    )),
    ("Where rewards reach", (
        "services.benefit_reach_rural",
    )),
)
"""The key parameters shown as controls, by group. A group of ``rules.<kind>`` paths is
shown only when the scenario has that rule set."""

POPULATION_PATH = "population.n_citizens"
RUN_LENGTH_PATH = "run.steps"

_RULE_CLASSES: dict[str, type[BaseModel]] = {
    cls.model_fields["kind"].default: cls for cls in typing.get_args(typing.get_args(RuleSet)[0])
}


@dataclass(frozen=True)
class ParamSpec:
    """One scenario value as a control: its type, bounds and help, from the schema."""

    path: str
    label: str
    kind: Literal["int", "float", "bool", "choice", "text"]
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    exclusive_maximum: bool
    choices: tuple[str, ...]
    help: str
    unit: str

    @property
    def bounds_text(self) -> str:
        """The allowed range in words, e.g. 'from 0 to 1' or 'above 0, at most 1e+06'."""
        if self.kind == "bool":
            return "on or off"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        lo, hi = self.minimum, self.maximum
        parts = []
        if lo is not None:
            parts.append(f"above {_num(lo)}" if self.exclusive_minimum else f"from {_num(lo)}")
        if hi is not None:
            parts.append(f"below {_num(hi)}" if self.exclusive_maximum else f"to {_num(hi)}")
        return " ".join(parts) if parts else "any number"

    def parse(self, text: str | float | int | bool) -> Any:
        """The value typed into the control, or ValueError with a message for a person."""
        if self.kind == "bool":
            if isinstance(text, bool):
                return text
            value = parse_value(str(text))
            if isinstance(value, bool):
                return value
            raise ValueError(f"{self.label}: expected on or off (true/false), got {text!r}.")
        if self.kind in ("choice", "text"):
            value = str(text).strip()
            if self.kind == "choice" and value not in self.choices:
                raise ValueError(f"{self.label}: must be {self.bounds_text}, got {value!r}.")
            return value
        raw = str(text).strip().replace(",", "") if not isinstance(text, (int, float)) else text
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.label}: '{text}' is not a number; allowed: {self.bounds_text}.") from None
        if not math.isfinite(value):
            raise ValueError(f"{self.label}: must be a finite number; allowed: {self.bounds_text}.")
        if self.kind == "int":
            if not value.is_integer():
                raise ValueError(f"{self.label}: must be a whole number, got {text!r}; allowed: {self.bounds_text}.")
            value = int(value)
        lo, hi = self.minimum, self.maximum
        if lo is not None and (value <= lo if self.exclusive_minimum else value < lo) or \
                hi is not None and (value >= hi if self.exclusive_maximum else value > hi):
            raise ValueError(f"{self.label}: {_num(value)} is out of range; allowed: {self.bounds_text}.")
        return value

    def format(self, value: Any) -> str:
        """A value as shown in the control's text box."""
        if isinstance(value, bool) or self.kind in ("choice", "text"):
            return str(value)
        if self.kind == "int":
            return str(int(value))
        return _num(float(value))


def _num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}".replace(",", "") if abs(x) < 100_000 else f"{int(x):,}"
    return f"{x:.6g}"


def _label(path: str) -> str:
    parts = path.split(".")
    name = parts[-1].replace("_", " ")
    if parts[0] == "regulators" and len(parts) == 3:
        return f"{parts[1].replace('_', ' ')}: {name}"
    if parts[0] == "rules" and len(parts) == 4:
        return f"{parts[2]}: {name}"
    return name[0].upper() + name[1:]


def _field_at(path: str, scenario: Scenario | None = None) -> FieldInfo:
    """The pydantic field of a dotted path (rule sets by kind, the network by its kind)."""
    parts = path.split(".")
    cls: type[BaseModel] = Scenario
    info: FieldInfo | None = None
    i = 0
    while i < len(parts):
        part = parts[i]
        if part not in cls.model_fields:
            raise KeyError(f"'{path}': {cls.__name__} has no field '{part}'")
        info = cls.model_fields[part]
        if i == len(parts) - 1:
            return info
        if cls is Scenario and part == "rules":
            kind = parts[i + 1]
            if kind not in _RULE_CLASSES:
                raise KeyError(f"'{path}': no rule set of kind '{kind}'")
            cls = _RULE_CLASSES[kind]
            i += 2
            continue
        if cls is Scenario and part == "network":
            kind = scenario.network.kind if scenario is not None else "small_world"
            cls = next(c for c in typing.get_args(typing.get_args(info.annotation)[0])
                       if c.model_fields["kind"].default == kind) if typing.get_args(info.annotation) else cls
            i += 1
            continue
        annotation = info.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise KeyError(f"'{path}': '{part}' is a single value")
        cls = annotation
        i += 1
    raise KeyError(path)  # pragma: no cover


def spec_for(path: str, scenario: Scenario | None = None) -> ParamSpec:
    """The control description of one dotted path, from the schema."""
    info = _field_at(path, scenario)
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    minimum = maximum = None
    exclusive_min = exclusive_max = False
    for meta in info.metadata:
        if isinstance(meta, at.Ge):
            minimum = float(meta.ge)
        elif isinstance(meta, at.Gt):
            minimum, exclusive_min = float(meta.gt), True
        elif isinstance(meta, at.Le):
            maximum = float(meta.le)
        elif isinstance(meta, at.Lt):
            maximum, exclusive_max = float(meta.lt), True
    choices: tuple[str, ...] = ()
    if annotation is bool:
        kind = "bool"
    elif annotation is int:
        kind = "int"
    elif annotation is float:
        kind = "float"
    elif origin is Literal:
        kind, choices = "choice", tuple(str(a) for a in typing.get_args(annotation))
    else:
        kind = "text"
    help_text = " ".join((info.description or "").split())
    unit_match = re.search(r"\[([^\]]+)\]", help_text)
    return ParamSpec(path=path, label=_label(path), kind=kind, minimum=minimum, maximum=maximum,
                     exclusive_minimum=exclusive_min, exclusive_maximum=exclusive_max, choices=choices,
                     help=help_text, unit=unit_match.group(1) if unit_match else "")


def value_at(scenario: Scenario, path: str) -> Any:
    """The scenario's value at a dotted path (rule sets addressed by kind)."""
    node: Any = scenario
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, list):
            node = next((r for r in node if getattr(r, "kind", None) == part), None)
            if node is None:
                raise KeyError(f"'{path}': no rule set of kind '{part}' in this scenario")
        else:
            node = getattr(node, part)
        i += 1
    return node


def key_groups(scenario: Scenario) -> list[tuple[str, list[ParamSpec]]]:
    """The key parameter groups that apply to this scenario, each with its specs."""
    kinds = set(scenario.active_kinds)
    out = []
    for title, paths in KEY_PARAMETERS:
        specs = [spec_for(p, scenario) for p in paths
                 if not p.startswith("rules.") or p.split(".")[1] in kinds]
        if specs:
            out.append((title, specs))
    return out


NO_FILES = ("The dashboard runs the shipped scenarios' own networks and reads no file named on the page: "
            "an edge-list network (network.kind = edge_list) is for the command line, "
            "python -m simulation run SCENARIO.yaml.")
"""Why a setting that would make the server read a file is refused."""


def shipped_only(scenario_name: str) -> str | None:
    """None if ``scenario_name`` is a shipped scenario's name, else the message: the page
    never turns what a user sends into a path (``load_scenario`` would read any file)."""
    from ..catalog import scenario_names

    if not isinstance(scenario_name, str) or scenario_name not in scenario_names():
        return f"no shipped scenario named {str(scenario_name)[:80]!r}."
    return None


def check_override(scenario_name: str, overrides: dict[str, Any], path: str, value: Any) -> str | None:
    """None if setting ``path`` to ``value`` (with the other overrides) gives a valid
    scenario, else the message that says why (naming the field and what is allowed).
    Settings that would make the server read a file (an edge-list network) are refused."""
    refused = shipped_only(scenario_name)
    if refused is not None:
        return refused
    try:
        base = load_scenario(scenario_name)
        data = base.model_dump(mode="python")
        set_path(data, path, value)  # unknown paths fail here with a 'did you mean'
        result = apply_overrides(base, {**overrides, path: value})
    except ScenarioError as exc:
        return str(exc)
    if result.network.kind == "edge_list":
        return NO_FILES
    return None
