"""Dotted paths into a scenario, and error messages a person can act on.

A dotted path names one value of a scenario: ``population.n_citizens``,
``regulators.courts.false_positive_rate``. In the list of rule sets a segment may be
the rule set's ``kind`` (``rules.points.base``) or its position (``rules.0.base``).
The same paths serve model keyword arguments (the form ``mesa.batch_run`` passes),
the CLI's ``--set`` and scheduled interventions.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class ScenarioError(ValueError):
    """A scenario, override or file that cannot be used; the message says why and what
    is allowed."""


def _fields_of(model_cls: type[BaseModel] | None) -> list[str]:
    return list(model_cls.model_fields) if model_cls is not None else []


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"{hint} Allowed: {', '.join(choices)}." if choices else hint


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path`` inside the plain-data scenario ``data``.

    Raises :class:`ScenarioError` naming the first segment that does not exist.
    """
    from .scenario import Scenario

    parts = path.split(".")
    node: Any = data
    model_cls: type[BaseModel] | None = Scenario
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, list):
            index = _list_index(node, part, ".".join(parts[:depth]))
            model_cls = _rule_class(node[index].get("kind"))
            if last:
                node[index] = value
                return
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"'{path}': {where} is a single value and has no field '{part}'.")
        allowed = _fields_of(model_cls)
        if model_cls is not None and part not in allowed:
            raise ScenarioError(f"'{path}': {where} has no field '{part}'.{_suggest(part, allowed)}")
        if last:
            node[part] = value
            return
        child_cls = _child_model(model_cls, part, node.get(part))
        node = node.setdefault(part, {} if child_cls is not None else None)
        model_cls = child_cls


def _list_index(items: list, part: str, where: str) -> int:
    kinds = [item.get("kind") for item in items if isinstance(item, dict)]
    if part.isdigit():
        if int(part) < len(items):
            return int(part)
        raise ScenarioError(f"'{where}' has {len(items)} entries; index {part} is out of range.")
    if part in kinds:
        return kinds.index(part)
    present = ", ".join(k for k in kinds if k) or "none"
    raise ScenarioError(
        f"'{where}' has no rule set of kind '{part}' (present: {present}); "
        "add it to the scenario's rules first."
    )


def _rule_class(kind: str | None) -> type[BaseModel] | None:
    from .scenario import BlacklistRules, CommercialRules, NoRules, PointsRules, RatingRules

    classes = {c.model_fields["kind"].default: c
               for c in (NoRules, BlacklistRules, PointsRules, CommercialRules, RatingRules)}
    return classes.get(kind)


def _child_model(model_cls: type[BaseModel] | None, field: str, current: Any):
    """The pydantic model class of ``field`` (None for plain values and lists)."""
    if model_cls is None:
        return None
    annotation = model_cls.model_fields[field].annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if field == "network":  # discriminated union: pick the member by its kind
        from .scenario import EdgeListNetwork, HomophilousNetwork, SmallWorldNetwork

        kind = (current or {}).get("kind", "small_world")
        return {c.model_fields["kind"].default: c
                for c in (SmallWorldNetwork, HomophilousNetwork, EdgeListNetwork)}.get(kind)
    return None


FIXED_AT_START = ("population", "network", "run", "interventions", "title", "description", "sources")


def check_interventions(scenario) -> None:
    """Check that every scheduled intervention names a real path and an allowed value."""
    from .scenario import Scenario

    base = scenario.model_dump(mode="python", exclude={"interventions"})
    for i, iv in enumerate(scenario.interventions):
        if iv.path.split(".")[0] in FIXED_AT_START:
            raise ValueError(
                f"interventions.{i}: '{iv.path}' cannot change during a run: the population and "
                "network are drawn at the start. Change them in the scenario instead."
            )
        data = copy.deepcopy(base)
        try:
            set_path(data, iv.path, iv.value)
            validate_scenario(data, Scenario, source=f"interventions.{i} ({iv.path}={iv.value!r})")
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None


def parse_value(text: str) -> Any:
    """Read a value typed on a command line: YAML scalars (``0.1``, ``true``, ``[1, 2]``)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(scenario, overrides: Mapping[str, Any]):
    """A new, validated scenario with each dotted path in ``overrides`` set."""
    from .scenario import Scenario

    if not overrides:
        return scenario
    data = copy.deepcopy(scenario.model_dump(mode="python"))
    for path, value in overrides.items():
        set_path(data, path, value)
    return validate_scenario(data, Scenario, source="overrides " + ", ".join(overrides))


def validate_scenario(data: Any, cls=None, source: str = "scenario"):
    """Validate plain data into a scenario, turning pydantic's errors into one
    :class:`ScenarioError` that names each field and what is allowed."""
    from .scenario import Scenario

    cls = cls or Scenario
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source}: expected a mapping of sections (population, rules, ...), "
                            f"got {type(data).__name__}.")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source} is not valid:\n{format_validation_error(exc, cls)}") from None


def format_validation_error(exc: ValidationError, cls: type[BaseModel]) -> str:
    """One line per problem: the dotted field, what is wrong, what is allowed."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc) or "(scenario)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parent = _model_at(cls, err["loc"][:-1])
            msg = "unknown field." + _suggest(loc[-1], _fields_of(parent))
        elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], (dict, list)):
            got = err["input"]
            if isinstance(got, float) and not math.isfinite(got):
                msg = "must be a finite number"
            msg = f"{msg} (got {got!r})"
        lines.append(f"  - {field}: {msg}")
    return "\n".join(lines)


def _model_at(cls: type[BaseModel], loc) -> type[BaseModel] | None:
    """The model class at a pydantic error location, for 'did you mean' hints."""
    from .scenario import Intervention, Scenario

    model: Any = cls
    for part in loc:
        if isinstance(part, int):
            continue
        if part in ("small_world", "homophilous", "edge_list"):
            model = _child_model(Scenario, "network", {"kind": part})
        elif part in ("none", "blacklist", "points", "commercial", "rating"):
            model = _rule_class(part)
        elif model is Scenario and part == "interventions":
            model = Intervention
        elif model is not None and part in model.model_fields:
            model = _child_model(model, part, None)
        else:
            return None
    return model
