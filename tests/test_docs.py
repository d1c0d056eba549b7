"""The documentation keeps up with the code.

The parameter and metric references are generated from the schema and from METRICS
(``python -m simulation.paramdoc``); these tests fail when the code changes and the
committed pages do not, when a field or metric is missing from them, when a rule set
has no submodel section in the ODD description, or when a rule module lacks the
docstring that states its rule.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

import simulation.rules
from simulation import paramdoc
from simulation.metrics import CONFUSION_COLUMNS, METRICS
from simulation.rules import REGISTRY
from simulation.scenario import Scenario

DOCS = Path(__file__).resolve().parents[1] / "docs"
REGENERATE = "regenerate with: python -m simulation.paramdoc"


def read(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing; {REGENERATE}"
    return path.read_text(encoding="utf-8")


def sections(markdown: str) -> list[tuple[str, str]]:
    """(heading line, text up to the next heading) of a Markdown page."""
    out: list[tuple[str, str]] = []
    heading, body = "", []
    for line in markdown.splitlines():
        if line.startswith("#"):
            out.append((heading, "\n".join(body)))
            heading, body = line, []
        else:
            body.append(line)
    out.append((heading, "\n".join(body)))
    return out


# --------------------------------------------------------------------------- the schema, walked here


def _bare(annotation):
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _models_in_union(annotation) -> list[type[BaseModel]]:
    annotation = _bare(annotation)
    if typing.get_origin(annotation) is not typing.Union:
        return []
    members = [_bare(a) for a in typing.get_args(annotation)]
    return members if all(isinstance(m, type) and issubclass(m, BaseModel) for m in members) else []


def schema_fields(cls: type[BaseModel] = Scenario, prefix: str = "", kind: str | None = None):
    """(dotted name, network-style kind or None) of every field reachable from the schema.

    Naming follows the reference page: nested sections by dot, rule sets by their kind
    (``rules.points.base``), list entries with ``[]`` (``interventions[].step``); the
    network's kinds share the names ``network.<field>`` and are told apart by section.
    """
    for name, info in cls.model_fields.items():
        dotted = prefix + name
        annotation = _bare(info.annotation)
        yield dotted, kind
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from schema_fields(annotation, dotted + ".", kind)
        elif members := _models_in_union(annotation):
            for member in members:
                yield from schema_fields(member, dotted + ".", member.model_fields["kind"].default)
        elif typing.get_origin(annotation) is list:
            item = _bare(typing.get_args(annotation)[0])
            if members := _models_in_union(item):
                for member in members:
                    yield from schema_fields(member, f"{dotted}.{member.model_fields['kind'].default}.", kind)
            elif isinstance(item, type) and issubclass(item, BaseModel):
                yield from schema_fields(item, dotted + "[].", kind)


FIELDS = sorted(set(schema_fields()))


# --------------------------------------------------------------------------- generated pages


def test_parameters_page_matches_the_schema():
    """docs/parameters.md is exactly what paramdoc renders from the schema now."""
    assert read("parameters.md") == paramdoc.render(), f"docs/parameters.md is out of date; {REGENERATE}"


def test_metrics_page_matches_metrics():
    """docs/metrics.md is exactly what paramdoc renders from METRICS now."""
    assert read("metrics.md") == paramdoc.render_metrics(), f"docs/metrics.md is out of date; {REGENERATE}"


@pytest.mark.parametrize(("name", "kind"), FIELDS, ids=[f"{n}[{k}]" if k else n for n, k in FIELDS])
def test_every_schema_field_is_on_the_parameters_page(name, kind):
    """Each field appears by its dotted name; a network kind's fields in that kind's section."""
    page = read("parameters.md")
    if kind is None or not name.startswith("network."):
        assert f"`{name}`" in page, f"{name} is not on docs/parameters.md; {REGENERATE}"
        return
    bodies = [body for heading, body in sections(page) if "`network`" in heading and f"`{kind}`" in heading]
    assert bodies, f"docs/parameters.md has no section for network kind {kind}"
    assert any(f"| `{name}` |" in body for body in bodies), f"{name} missing from network kind {kind}"


def test_every_field_row_states_meaning_default_and_bounds():
    """Rows of plain parameters give a meaning, a default and allowed values."""
    parameters = read("parameters.md").split("## Constants in the code")[0]
    rows = [line for line in parameters.splitlines() if line.startswith("| `")]
    assert rows
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert len(cells) == 6, line
        name, meaning, _, default, allowed, _ = cells
        if not name.endswith(".kind`"):
            assert meaning != "—", f"{name} has no meaning: give the field a docstring"
        assert default and allowed, line


def test_defaults_are_the_effective_ones():
    """A section's default instance wins over its class default: the courts' coverage is 0.1
    (``RegulatorsConfig.courts``), not the department class default 0.3."""
    page = read("parameters.md")
    row = next(line for line in page.splitlines() if line.startswith("| `regulators.courts.coverage` |"))
    assert f"| {paramdoc.format_value(Scenario().regulators.courts.coverage)} |" in row
    assert "| `0.1` |" in row


def test_description_is_split_into_meaning_unit_and_source():
    meaning, unit, source = paramdoc.split_description(
        "How long a court listing lasts [days]. Default 730: nominally two years (002).")
    assert (meaning, unit, source) == ("How long a court listing lasts.", "days",
                                       "Default 730: nominally two years (002).")
    meaning, unit, _ = paramdoc.split_description("Empty list or ``[{kind: none}]`` is the control.")
    assert unit == "" and "`[{kind: none}]`" in meaning


@pytest.mark.parametrize("name", [*METRICS, *CONFUSION_COLUMNS])
def test_every_metric_is_on_the_metrics_page(name):
    assert f"`{name}`" in read("metrics.md"), f"{name} is not on docs/metrics.md; {REGENERATE}"


def test_check_mode_reports_stale_pages(tmp_path, capsys):
    """``--check`` passes on fresh pages, fails with instructions on a stale one."""
    assert paramdoc.main(["--docs", str(tmp_path)]) == 0
    assert paramdoc.main(["--check", "--docs", str(tmp_path)]) == 0
    page = tmp_path / "parameters.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert paramdoc.main(["--check", "--docs", str(tmp_path)]) == 1
    assert "python -m simulation.paramdoc" in capsys.readouterr().err


def test_committed_pages_pass_the_check():
    assert paramdoc.stale() == [], REGENERATE


# --------------------------------------------------------------------------- the ODD description


def test_every_rule_set_has_a_submodel_section():
    """Each kind in the registry has a heading in section 7 (Submodels) of docs/model.md."""
    headings = [h for h, _ in sections(read("model.md")) if h.startswith("###")]
    submodels = [h for h in headings if re.match(r"#+\s*7\.", h)]
    for kind in REGISTRY:
        assert any(f"`{kind}`" in h for h in submodels), f"docs/model.md has no submodel heading for `{kind}`"


def test_model_description_has_the_seven_odd_elements():
    top = [h for h, _ in sections(read("model.md")) if h.startswith("## ")]
    for number in range(1, 8):
        assert any(h.startswith(f"## {number} ") or h.startswith(f"## {number}.") for h in top), \
            f"docs/model.md lacks ODD element {number}"


@pytest.mark.parametrize("module", sorted(m.name for m in pkgutil.iter_modules(simulation.rules.__path__)))
def test_rule_modules_have_docstrings(module):
    """Every module in simulation/rules/ states what it is; rule modules state their rule."""
    mod = importlib.import_module(f"simulation.rules.{module}")
    doc = (mod.__doc__ or "").strip()
    assert len(doc) > 20, f"simulation/rules/{module}.py needs a module docstring"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_rule_classes_have_docstrings(kind):
    assert (REGISTRY[kind].__doc__ or "").strip(), f"rule class for {kind} needs a docstring"


def test_index_links_resolve():
    """Every relative link on docs/index.md points to an existing file."""
    text = read("index.md")
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert links
    for link in links:
        assert (DOCS / link).exists(), f"docs/index.md links to missing {link}"
