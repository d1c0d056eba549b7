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
import re
from collections.abc import Callable, Mapping
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
            model_cls = _rule_class(node[index].get("kind")) if isinstance(node[index], dict) else None
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
    present = ", ".join(k for k in kinds if k) or "none"
    if part.isdigit():
        if int(part) < len(items):
            return int(part)
        if not items:
            raise ScenarioError(f"'{where}' is empty; index {part} is out of range.")
        raise ScenarioError(f"'{where}' has {len(items)} entries; index {part} is out of range "
                            f"(allowed: 0 to {len(items) - 1}, or a kind present: {present}).")
    if part in kinds:
        return kinds.index(part)
    if where != "rules":
        raise ScenarioError(f"'{where}' is a list of {len(items)}; name an entry by its index"
                            + (f" (0 to {len(items) - 1})." if items else ", once it has one."))
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

        kind = current.get("kind", "small_world") if isinstance(current, dict) else "small_world"
        return {c.model_fields["kind"].default: c
                for c in (SmallWorldNetwork, HomophilousNetwork, EdgeListNetwork)}.get(kind)
    return None


FIXED_AT_START = ("population", "network", "run", "interventions", "title", "description", "sources")


def check_interventions(scenario) -> None:
    """Check that every scheduled intervention names a real path and an allowed value."""
    from .scenario import Scenario

    base = scenario.model_dump(mode="python", exclude={"interventions"})
    last = scenario.run.steps
    for i, iv in enumerate(scenario.interventions):
        if iv.step > last:
            raise ValueError(
                f"interventions.{i}.step: step {iv.step} is after the run's last step (run.steps is {last}), "
                f"so it would never apply; allowed: from 1 to {last}, or lengthen run.steps."
            )
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
    from .catalog import UniqueKeyLoader

    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return text
    except RecursionError:
        raise ScenarioError(f"value {_short(text)} is nested too deeply.") from None


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
    return validate_mapping(data, cls, source, contents="sections (population, rules, ...)",
                            invalid="is not valid", describe=lambda exc: format_validation_error(exc, cls))


def validate_mapping(data: Any, cls: type[BaseModel], source: str, *, contents: str, invalid: str,
                     describe: Callable[[ValidationError], str], error: type[ScenarioError] = ScenarioError):
    """Validate plain data into the model ``cls``, the one check behind scenarios and
    experiments. Raises ``error`` starting with ``source``: "expected a mapping of
    ``contents``" if ``data`` is not a mapping, or ``invalid`` followed by
    ``describe(exc)`` (one line per problem) if pydantic refuses it."""
    if not isinstance(data, Mapping):
        raise error(f"{source}: expected a mapping of {contents}, got {type(data).__name__}.")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise error(f"{source} {invalid}:\n{describe(exc)}") from None


MAX_PROBLEMS = 8
"""Most problems listed in one error message; the rest are counted."""

_UNION_TAG = re.compile(r"(float|int|bool|str|none|dict\[.*\]|list\[.*\]|tuple\[.*\])")
_GOT = re.compile(r"\bgot [-\d\['\"(]")
_TYPE_WORDS = {"float": "a number", "int": "a whole number", "bool": "true or false", "str": "text",
               "none": "nothing", "dict": "a mapping", "list": "a list", "tuple": "a list"}


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, on one line."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 4] + "..." + text[0] if text[0] in "'\"" else text[:limit] + "..."


def _got(value: Any) -> str:
    """What the input was, for a message: the value itself, or its kind for containers."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return _short(value)


def _bounds(info: Any) -> str:
    """The numeric bounds of a pydantic field, e.g. ``from 0 to 1``, or ''."""
    low = high = None
    for m in getattr(info, "metadata", ()):
        if getattr(m, "ge", None) is not None:
            low = f"from {_number(m.ge)}"
        if getattr(m, "gt", None) is not None:
            low = f"above {_number(m.gt)}"
        if getattr(m, "le", None) is not None:
            high = ("to " if low is None or low.startswith("from") else "up to ") + _number(m.le)
        if getattr(m, "lt", None) is not None:
            high = f"below {_number(m.lt)}"
    return " ".join(x for x in (low, high) if x)


def _number(x: float) -> str:
    """A bound for a message: ``5,000,000``, ``0.5``."""
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return f"{int(x):,}"
    return f"{x:g}"


def _kinds_at(loc: tuple) -> str:
    """The allowed ``kind`` values of the discriminated union at ``loc``, or ''."""
    from typing import get_args

    from .scenario import NetworkConfig, RuleSet

    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if name == "design":
        from .experiment import Design as union
    else:
        union = {"rules": RuleSet, "network": NetworkConfig}.get(name)
    if union is None:
        return ""
    members = get_args(get_args(union)[0])
    return ", ".join(m.model_fields["kind"].default for m in members)


def describe_errors(exc: ValidationError, field_name, model_at, field_info) -> str:
    """Pydantic's errors as one line per problem (at most :data:`MAX_PROBLEMS`): the
    field, what is wrong, what was given and, for numbers, the bounds allowed.

    ``field_name(loc)`` spells a location; ``model_at(loc)`` is the model class at a
    location (for unknown-field hints) and ``field_info(loc)`` the pydantic field there
    (for bounds), each None if unknown. Alternatives of a union are merged into one
    line, as are the missing positions of a fixed-length list.
    """
    merged: dict[tuple, dict] = {}
    problems: list[dict] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if loc and isinstance(loc[-1], str) and _UNION_TAG.fullmatch(loc[-1]):
            key = ("union", loc[:-1])
            word = _TYPE_WORDS.get(loc[-1].split("[")[0], loc[-1])
            if key not in merged:
                merged[key] = {"loc": loc[:-1], "type": "union", "words": [], "input": err.get("input"),
                               "finite": False}
                problems.append(merged[key])
            merged[key]["words"].append(word)
            merged[key]["finite"] |= err["type"] == "finite_number"
            continue
        if err["type"] == "missing" and loc and isinstance(loc[-1], int):
            key = ("tuple", loc[:-1])
            if key not in merged:
                merged[key] = {"loc": loc[:-1], "type": "short_tuple", "given": loc[-1], "needed": loc[-1] + 1}
                problems.append(merged[key])
            merged[key]["needed"] = loc[-1] + 1
            continue
        problems.append(err)
    lines = [_describe(p, field_name, model_at, field_info) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        lines.append(f"  - ... and {more} more problem{'s' if more > 1 else ''}")
    return "\n".join(lines)


def _describe(err: dict, field_name, model_at, field_info) -> str:
    loc = tuple(err["loc"])
    field = field_name(loc)
    kind = err["type"]
    if kind == "union":
        numbers = "a number" in err["words"]
        words = list(dict.fromkeys(w for w in err["words"] if not (numbers and w == "a whole number")))
        allowed = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
        got = err["input"]
        if err["finite"] and isinstance(got, float) and not math.isfinite(got):
            return f"  - {field}: must be a finite number (got {got!r})"
        return f"  - {field}: expected {allowed} (got {_got(got)})"
    if kind == "short_tuple":
        return f"  - {field}: needs {err['needed']} values, got {err['given']}"
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "union_tag_not_found":
        kinds = _kinds_at(loc)
        return f"  - {field}: needs a 'kind'" + (f": one of {kinds}" if kinds else "")
    if kind == "extra_forbidden":
        parent = model_at(loc[:-1])
        allowed = list(getattr(parent, "model_fields", None) or [])
        return f"  - {field}: unknown field.{_suggest(str(loc[-1]), allowed)}"
    if "input" in err and kind != "missing":
        got = err["input"]
        if isinstance(got, float) and not math.isfinite(got):
            msg = "must be a finite number"
        container = isinstance(got, (Mapping, list, tuple))
        if not _GOT.search(msg) and (not container or kind.endswith("_type")):
            msg = f"{msg} (got {_got(got)})"
        bounds = _bounds(field_info(loc))
        if bounds:
            msg = f"{msg}; allowed: {bounds}"
    return f"  - {field}: {msg}"


def format_validation_error(exc: ValidationError, cls: type[BaseModel]) -> str:
    """One line per problem: the dotted field, what is wrong, what is allowed."""

    def field_info(loc):
        parent = _model_at(cls, loc[:-1]) if loc and isinstance(loc[-1], str) else None
        return parent.model_fields.get(loc[-1]) if parent is not None else None

    return describe_errors(exc, lambda loc: ".".join(str(p) for p in loc) or "(scenario)",
                           lambda loc: _model_at(cls, loc), field_info)


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
