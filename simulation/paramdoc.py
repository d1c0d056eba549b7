"""Reference pages generated from the code: parameters from the schema, metrics from METRICS.

``render()`` walks :class:`~simulation.scenario.Scenario` and every nested section,
including each network kind and each rule-set kind, and writes one Markdown table row
per field: dotted name, meaning, unit, default, allowed values, source. Meaning, unit
and source come from the field's attribute docstring: the unit is the ``[...]`` part,
the source is the text from "Default" on, the meaning is the rest. Defaults are the
*effective* ones, read from default instances (``Scenario()``, and each rule set's and
network kind's own default instance), so a section whose default instance overrides a
class default (the courts' coverage 0.1 rather than the department default 0.3) shows
the value a run really uses.

``render_metrics()`` does the same for :data:`simulation.metrics.METRICS` and the
per-group confusion-matrix columns.

Run ``python -m simulation.paramdoc`` to rewrite ``docs/parameters.md``,
``docs/metrics.md`` and ``docs/reference-cli.md`` (from the CLI's argument parser, see
:mod:`simulation.clidoc`); ``python -m simulation.paramdoc --check`` exits 1 if any of
them differs from what would be written.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from . import metrics
from .scenario import Scenario

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
"""The repository's ``docs/`` folder, where the generated pages live."""

PARAMETERS_FILE = "parameters.md"
METRICS_FILE = "metrics.md"
REGENERATE = "python -m simulation.paramdoc"
"""The command that rewrites the generated pages."""

CROSS_FIELD_CHECKS: dict[str, str] = {
    "Scenario": (
        "`population.education_shares` and `population.age_shares` must each sum to 1; each "
        "rule-set kind may appear at most once in `rules`; `none` cannot be combined with another "
        "rule set; every intervention must name an existing path with a valid value, and may not "
        "change `population`, `network`, `run`, `interventions`, `title`, `description` or `sources`."
    ),
    "PointsRules": "`grade_thresholds` must be strictly decreasing (AAA > AA > A > B > C).",
    "CommercialRules": (
        "`min_score` < `reward_threshold` <= `max_score`; at least one of `weight_repayment`, "
        "`weight_income`, `weight_education`, `weight_purchases`, `weight_friends` must be above 0."
    ),
}
"""Checks that span several fields (the schema's model validators), keyed by class name.
Written by hand: the validators carry no docstrings to read them from."""

_UNIT = re.compile(r"\s*\[([^\[\]]+)\]")
_DEFAULT = re.compile(r"\bDefault\b")
_CODE = re.compile(r"`[^`]*`")


# --------------------------------------------------------------------------- reading the schema


@dataclass
class Row:
    """One documented field."""

    name: str
    meaning: str
    unit: str
    default: str
    allowed: str
    source: str


@dataclass
class Section:
    """One schema section (a pydantic model at a dotted path)."""

    path: str
    cls: type[BaseModel]
    intro: str
    kind: str | None = None
    depth: int = 2
    rows: list[Row] = field(default_factory=list)


def _clean(text: str | None) -> str:
    """One line of Markdown from a docstring: whitespace collapsed, RST literals made
    Markdown code, table pipes escaped."""
    text = " ".join((text or "").split())
    return text.replace("``", "`").replace("|", "\\|")


def split_description(description: str | None) -> tuple[str, str, str]:
    """(meaning, unit, source) of a field docstring: the unit is the ``[...]`` part
    before "Default", the source the text from "Default" on, the meaning the rest."""
    text = _clean(description)
    match = _DEFAULT.search(text)
    head, source = (text[: match.start()].strip(), text[match.start():].strip()) if match else (text, "")
    spans = [m.span() for m in _CODE.finditer(head)]
    units = [m for m in _UNIT.finditer(head)
             if not any(a <= m.start() < b or a < m.end() <= b for a, b in spans)]
    unit = ""
    if units:
        last = units[-1]
        unit = last.group(1).strip()
        head = (head[: last.start()] + head[last.end():]).strip()
        head = re.sub(r"\s+([.,;:])", r"\1", head)
    return head, unit, source


def _num(x: float | int) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def format_value(value: Any) -> str:
    """A default as it would be written in a scenario file (YAML)."""
    if value is PydanticUndefined or value is _REQUIRED:
        return "required"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, (int, float)):
        return f"`{_num(value)}`" if isinstance(value, int) else f"`{_yaml_float(value)}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, BaseModel) for v in value):
            return "`[" + ", ".join(f"{{kind: {v.kind}}}" if hasattr(v, "kind") else "{...}"
                                    for v in value) + "]`"
        return "`[" + ", ".join(_yaml_float(v) if isinstance(v, float) else str(v) for v in value) + "]`"
    return f"`{value}`"


def _yaml_float(x: float) -> str:
    return repr(float(x))


class _Required:
    def __repr__(self) -> str:
        return "required"


_REQUIRED = _Required()


def _unwrap(annotation: Any) -> tuple[Any, list]:
    """The bare type of an annotation and the constraint metadata of ``Annotated`` layers."""
    meta: list = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation = args[0]
        for m in args[1:]:
            meta.extend(getattr(m, "metadata", [m]) if isinstance(m, FieldInfo) else [m])
    return annotation, meta


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _union_models(annotation: Any) -> list[type[BaseModel]] | None:
    """The member classes of a union of pydantic models, or None."""
    annotation, _ = _unwrap(annotation)
    if not _is_union(annotation):
        return None
    members = [_unwrap(a)[0] for a in typing.get_args(annotation)]
    if all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        return members
    return None


def _model_class(annotation: Any) -> type[BaseModel] | None:
    annotation, _ = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _list_item(annotation: Any) -> Any | None:
    annotation, _ = _unwrap(annotation)
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return None


def kind_of(cls: type[BaseModel]) -> str | None:
    """The literal ``kind`` of a union member class."""
    info = cls.model_fields.get("kind")
    return info.default if info is not None else None


def _interval(meta: list, integer: bool) -> str:
    low = high = None
    low_open = high_open = False
    for m in meta:
        if isinstance(m, annotated_types.Ge):
            low = m.ge
        elif isinstance(m, annotated_types.Gt):
            low, low_open = m.gt, True
        elif isinstance(m, annotated_types.Le):
            high = m.le
        elif isinstance(m, annotated_types.Lt):
            high, high_open = m.lt, True
    noun = "integer" if integer else "number"
    if low is None and high is None:
        return noun
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    lo = _num(low) if low is not None else "-∞"
    hi = _num(high) if high is not None else "∞"
    if low is None:
        left = "("
    if high is None:
        right = ")"
    return f"{noun} in {left}{lo}, {hi}{right}"


def _length(meta: list) -> tuple[int | None, int | None]:
    low = high = None
    for m in meta:
        if isinstance(m, annotated_types.MinLen):
            low = m.min_length
        elif isinstance(m, annotated_types.MaxLen):
            high = m.max_length
    return low, high


def describe_allowed(info: FieldInfo) -> str:
    """Type and bounds (or allowed values) of a field, in words."""
    annotation, meta = _unwrap(info.annotation)
    meta = list(info.metadata) + meta
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        if len(values) == 1:
            return f"`{values[0]}` (fixed)"
        return "one of " + ", ".join(f"`{v}`" for v in values)
    if annotation is bool:
        return "`true` or `false`"
    if annotation is int:
        return _interval(meta, True)
    if annotation is float:
        return _interval(meta, False)
    if annotation is str:
        low, high = _length(meta)
        if low and high:
            return f"text, {low} to {high} characters"
        if high:
            return f"text, at most {high} characters"
        return "text"
    if origin is tuple:
        items = typing.get_args(annotation)
        inner = [_interval(_unwrap(i)[1], _unwrap(i)[0] is int) for i in items]
        noun = "numbers"
        if len(set(inner)) == 1 and inner[0] not in ("number", "integer"):
            return f"{len(items)} {noun}, each{inner[0].removeprefix('number').removeprefix('integer')}"
        return f"{len(items)} {noun}"
    if origin is list:
        item = typing.get_args(annotation)[0]
        _, high = _length(meta)
        most = f", at most {high} items" if high else ""
        models = _union_models(item)
        if models:
            kinds = ", ".join(f"`{kind_of(m)}`" for m in models)
            return f"list of rule sets{most}; kinds {kinds}"
        cls = _model_class(item)
        if cls is not None:
            return f"list of {cls.__name__} entries{most}"
        if _unwrap(item)[0] is str:
            return f"list of text{most}"
        return f"list{most}"
    if _is_union(annotation):
        names = {bool: "`true`/`false`", int: "integer", float: "number", str: "text"}
        return " or ".join(names.get(a, getattr(a, "__name__", str(a))) for a in typing.get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def _class_default(info: FieldInfo) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()
    return _REQUIRED


def _default_instance(cls: type[BaseModel]) -> BaseModel | None:
    try:
        return cls()
    except ValidationError:
        return None


def _heading_intro(cls: type[BaseModel], parent_info: FieldInfo | None) -> str:
    parts = [_clean(cls.__doc__)]
    if parent_info is not None and parent_info.description:
        parts.append(_clean(parent_info.description))
    return " ".join(p for p in parts if p)


def walk(cls: type[BaseModel] = Scenario, instance: BaseModel | None = None, path: str = "",
         parent_info: FieldInfo | None = None, kind: str | None = None, depth: int = 2,
         out: list[Section] | None = None) -> list[Section]:
    """Every section of the schema, in schema order, with one row per plain field.

    ``instance`` is the section's effective default (None when the section has none,
    e.g. a network kind with a required field). Model-valued fields become their own
    sections after the rows of their parent; unions of models (the network kinds, the
    rule sets) become one section per member, named by its ``kind``.
    """
    if out is None:
        out = []
        if instance is None and cls is Scenario:
            instance = Scenario()
    section = Section(path=path, cls=cls, intro=_heading_intro(cls, parent_info), kind=kind, depth=depth)
    out.append(section)
    child_depth = depth + 1 if path else depth
    nested: list[Callable[[], object]] = []
    for name, info in cls.model_fields.items():
        dotted = f"{path}.{name}" if path else name
        value = getattr(instance, name) if instance is not None else _class_default(info)
        sub = _model_class(info.annotation)
        members = _union_models(info.annotation)
        if sub is not None:
            value = value if isinstance(value, BaseModel) else None
            nested.append(partial(walk, sub, value, dotted, info, None, child_depth, out))
            continue
        if members is not None:
            nested.append(partial(_walk_union, cls, members, value, dotted, info, child_depth, False, out))
            continue
        section.rows.append(_row(dotted, info, value))
        item = _list_item(info.annotation)
        if item is None:
            continue
        if (item_members := _union_models(item)) is not None:
            nested.append(partial(_walk_union, cls, item_members, None, dotted, info, child_depth, True, out))
        elif (item_cls := _model_class(item)) is not None:
            nested.append(partial(walk, item_cls, None, f"{dotted}[]", info, None, child_depth, out))
    for visit in nested:
        visit()
    return out


def _walk_union(parent: type[BaseModel], members: list[type[BaseModel]], value: Any, dotted: str,
                info: FieldInfo, depth: int, kind_in_path: bool, out: list[Section]) -> None:
    """A section introducing a union field, then one section per member. Members of a
    list (the rule sets) are addressed by kind in the path (``rules.points``); a single
    union field (the network) keeps its path and is told apart by ``kind``."""
    out.append(Section(path=dotted, cls=parent, intro=_union_intro(info, members, value), depth=depth))
    for member in members:
        instance = value if isinstance(value, member) else _default_instance(member)
        path = f"{dotted}.{kind_of(member)}" if kind_in_path else dotted
        walk(member, instance, path, None, kind_of(member), depth + 1, out)


def _union_intro(info: FieldInfo, members: list[type[BaseModel]], value: Any) -> str:
    kinds = ", ".join(f"`{kind_of(m)}`" for m in members)
    text = _clean(info.description)
    default = f" The default is `{value.kind}`." if isinstance(value, BaseModel) else ""
    return f"{text} Chosen by `kind`: {kinds}; each kind's fields follow.{default}".strip()


def _row(dotted: str, info: FieldInfo, value: Any) -> Row:
    meaning, unit, source = split_description(info.description)
    class_default = _class_default(info)
    if value is not _REQUIRED and class_default is not _REQUIRED and value != class_default:
        section = dotted.rsplit(".", 1)[0]
        note = (f"Set to {format_value(value)} by the default of `{section}` (see the section's "
                f"text); the field's own default is {format_value(class_default)}")
        source = f"{note}, with this source: {source}" if source else f"{note}."
    return Row(name=dotted, meaning=meaning or "—", unit=unit or "—", default=format_value(value),
               allowed=describe_allowed(info), source=source or "—")


# --------------------------------------------------------------------------- constants in the code

MECHANISM_MODULES = ("simulation.model", "simulation.population", "simulation.behaviour",
                     "simulation.recording", "simulation.regulators", "simulation.network")
"""Modules whose module-level constants shape the mechanisms (with every module of
:mod:`simulation.rules`)."""


def _mechanism_modules() -> list[str]:
    from . import rules

    names = list(MECHANISM_MODULES)
    names += [f"simulation.rules.{m.name}" for m in pkgutil.iter_modules(rules.__path__)]
    return names


def constants() -> list[Row]:
    """Upper-case module-level constants of the mechanism modules: fixed assumptions that
    are not scenario parameters. Meaning from the attribute docstring or a trailing comment."""
    rows = []
    for name in _mechanism_modules():
        module = importlib.import_module(name)
        source = Path(module.__file__).read_text(encoding="utf-8")
        lines = source.splitlines()
        body = ast.parse(source).body
        for i, node in enumerate(body):
            if not (isinstance(node, (ast.Assign, ast.AnnAssign))):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets
                     if isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("_")]
            if not names:
                continue
            doc = ""
            following = body[i + 1] if i + 1 < len(body) else None
            if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                doc = following.value.value
            elif "#" in lines[node.end_lineno - 1]:
                doc = lines[node.end_lineno - 1].split("#", 1)[1]
            for const in names:
                value = getattr(module, const)
                if hasattr(value, "tolist"):
                    value = value.tolist()
                if not isinstance(value, (int, float, str, list, tuple)):
                    continue
                meaning, unit, source_text = split_description(doc)
                rows.append(Row(name=f"{name.removeprefix('simulation.')}.{const}", meaning=meaning or "—",
                                unit=unit or "—", default=_format_constant(value), allowed="—",
                                source=source_text or "—"))
    return rows


def _format_constant(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "`[" + ", ".join(_num(v) if isinstance(v, (int, float)) else str(v) for v in value) + "]`"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"`{_num(value)}`"
    return f"`{value}`"


CONSTANTS_INTRO = """\
## Constants in the code

Fixed in the code rather than in the scenario: changing one is a code change, and it
applies to every scenario. Listed from the upper-case module-level names of the
mechanism modules, with the docstring or comment that explains each.
"""


# --------------------------------------------------------------------------- rendering


def _title(section: Section) -> str:
    if not section.path:
        return "Scenario: top-level fields"
    if section.kind is not None and not section.path.endswith(f".{section.kind}"):
        return f"`{section.path}` with kind `{section.kind}`"
    if section.kind is not None:
        return f"`{section.path}` (rule set kind `{section.kind}`)"
    return f"`{section.path}`"


def _table(rows: list[Row]) -> list[str]:
    out = ["| Parameter | Meaning | Unit | Default | Allowed | Source of the default |",
           "|---|---|---|---|---|---|"]
    out += [f"| `{r.name}` | {r.meaning} | {r.unit} | {r.default} | {r.allowed} | {r.source} |"
            for r in rows]
    return out


PARAMETERS_INTRO = """\
# Parameter reference

<!-- Generated by `{cmd}` from simulation/scenario.py. Do not edit by hand:
     change the schema's field docstrings and regenerate. -->

Every input of a run is a field of the scenario schema (`simulation/scenario.py`). This
page lists them all, section by section, as they are written in a scenario file or
passed as a dotted override (`--set rules.blacklist.court_list_days=365`,
`ReputationModel("blacklist", **{{"regulators.courts.coverage": 0.2}})`).

- **Parameter**: the dotted path. Rule sets are addressed by their kind
  (`rules.points.base`); for the network, `kind` chooses which fields apply.
- **Meaning** and **Unit**: from the field's docstring; `[0-1]` is a probability or share.
- **Default**: the value a run uses when the scenario does not set the field. Where a
  section's default differs from its class's own default (the courts, civil affairs and
  public security), the section's value is shown and the Source column says so.
- **Allowed**: type and validated bounds; a value outside them is refused with a message.
- **Source of the default**: the seed document behind it (000, 002, 003, 004; see
  `shared/seed-facts.md`) or the words "assumption" / "modelling choice".

Rates given per year become per-step probabilities as p = 1 - exp(-rate x
days_per_step / 365), so changing `run.days_per_step` does not change what a rate
means. A section given in part keeps the rest of its defaults. Unknown keys are errors.
"""


def render() -> str:
    """The parameter reference (``docs/parameters.md``) as Markdown."""
    lines = [PARAMETERS_INTRO.format(cmd=REGENERATE)]
    for section in walk():
        lines.append(f"{'#' * section.depth} {_title(section)}")
        lines.append("")
        if section.intro:
            lines.append(section.intro)
            lines.append("")
        if section.rows:
            lines += _table(section.rows)
            lines.append("")
        check = CROSS_FIELD_CHECKS.get(section.cls.__name__) if section.rows else None
        if check:
            lines.append(f"Checks across fields: {check}")
            lines.append("")
    lines.append(CONSTANTS_INTRO)
    lines += ["| Constant | Meaning | Unit | Value |", "|---|---|---|---|"]
    lines += [f"| `{r.name}` | {r.meaning} | {r.unit} | {r.default} |" for r in constants()]
    return "\n".join(lines).rstrip("\n") + "\n"


GROUP_MEANING = {
    "all": "every citizen",
    "urban": "urban residents",
    "rural": "rural residents",
    "income_low": "bottom third of base income",
    "income_mid": "middle third of base income",
    "income_high": "top third of base income",
    "education_low": "low education",
    "education_mid": "middle education",
    "education_high": "university education",
}
CELL_MEANING = {
    "tp": "sanctioned and a true offender (true positive)",
    "fp": "sanctioned but not a true offender (false positive: wrongly sanctioned)",
    "fn": "not sanctioned although a true offender (false negative: missed)",
    "tn": "neither sanctioned nor an offender (true negative)",
}

METRICS_INTRO = """\
# Metrics reference

<!-- Generated by `{cmd}` from simulation/metrics.py. Do not edit by hand:
     change METRICS there and regenerate. -->

A run's outputs are one table with a row per step (`model.run()` or
`model.metrics_frame()`, indexed by `step`; step 0 is the state at construction). Its
columns are the metrics below, then the per-group confusion-matrix counts.

Rates marked "this step" describe what happened during the step and are 0 at step 0.
Metrics that belong to a rule set (listing, grades, points, opt-in, ratings) are 0
when that rule set is not in the scenario; `wealth_ratio_urban_rural` and
`listed_degree_ratio` are 1 when undefined. No metric is ever NaN or infinite: where
one is undefined at a step (a mean over nobody, such as the approval of an empty
group in a tiny population), it takes the value its definition gives in parentheses.
"Sanctioned" means on a blacklist or graded C or D under the points rule set.

Timing within a step: `share_sanctioned`, `listed_degree_ratio` and the confusion
matrix use the step's consequences, decided before appeals and expiry; `share_listed`
and the other listing counts are read after appeals and expiry. A citizen delisted in
a step is therefore still counted as sanctioned in that step's row.
"""


def render_metrics() -> str:
    """The metrics reference (``docs/metrics.md``) as Markdown."""
    lines = [METRICS_INTRO.format(cmd=REGENERATE), "## Per-step metrics", "",
             "| Column | Definition | Unit |", "|---|---|---|"]
    for name, definition in metrics.METRICS.items():
        meaning, unit, _ = split_description(definition)
        lines.append(f"| `{name}` | {meaning} | {unit or '—'} |")
    cells = metrics.CONFUSION_CELLS
    lines += [
        "",
        "## Confusion matrix by group",
        "",
        _clean(metrics.confusion.__doc__),
        "",
        "A citizen is a true offender when, within the last `run.truth_window_days`, they truly "
        "committed a serious infraction, or truly cheated a contact and have not since complied "
        "with a court judgement for it; minor infractions do not count. Each column is a number "
        "of citizens, named `cm_<group>_<cell>`. `model.confusion_table()` gives the same "
        "numbers as a tidy table (step, group, tp, fp, fn, tn).",
        "",
        "Cells:",
        "",
    ]
    lines += [f"- `{c}`: {CELL_MEANING.get(c, c)}" for c in cells]
    lines += ["", "| Group | Who | " + " | ".join(f"`{c}`" for c in cells) + " |",
              "|---|---|" + "---|" * len(cells)]
    for g in metrics.CONFUSION_GROUPS:
        cols = " | ".join(f"`cm_{g}_{c}`" for c in cells)
        lines.append(f"| `{g}` | {GROUP_MEANING.get(g, g)} | {cols} |")
    listed = set(f"cm_{g}_{c}" for g in metrics.CONFUSION_GROUPS for c in cells)
    extra = [c for c in metrics.CONFUSION_COLUMNS if c not in listed]
    if extra:
        lines += ["", "Further confusion columns: " + ", ".join(f"`{c}`" for c in extra) + "."]
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- command line


def pages() -> dict[str, str]:
    """File name -> content of every generated page."""
    from . import clidoc

    return {PARAMETERS_FILE: render(), METRICS_FILE: render_metrics(), clidoc.CLI_FILE: clidoc.render()}


def stale(docs_dir: Path = DOCS_DIR) -> list[Path]:
    """Generated pages in ``docs_dir`` that are missing or differ from what would be written."""
    out = []
    for name, text in pages().items():
        path = Path(docs_dir) / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(path)
    return out


def write(docs_dir: Path = DOCS_DIR) -> list[Path]:
    """Write every generated page into ``docs_dir``; return the paths written."""
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages().items():
        path = docs_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulation.paramdoc [--check] [--docs DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulation.paramdoc",
        description="Generate docs/parameters.md, docs/metrics.md and docs/reference-cli.md from the code.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated page is missing or out of date")
    parser.add_argument("--docs", type=Path, default=DOCS_DIR, help="folder of the pages (default: docs/)")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.docs)
        for path in bad:
            print(f"{path} is out of date with the code.", file=sys.stderr)
        if bad:
            print(f"Regenerate with: {REGENERATE}", file=sys.stderr)
            return 1
        print("Generated docs are up to date.")
        return 0
    for path in write(args.docs):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
