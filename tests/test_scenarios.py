"""The shipped scenarios: each validates, runs and documents itself, and each workshop
variant differs from its parent in the one thing it is meant to change."""

from __future__ import annotations

import re

import pytest

from simulation import ReputationModel, load_scenario, scenario_names
from simulation.catalog import read_yaml, scenario_dir
from simulation.scenario import Scenario

EXPECTED = {
    "baseline", "blacklist", "rongcheng", "sesame", "honest_shanghai", "patchwork",
    "high_error", "no_publication", "friends_in_score", "fast_appeals", "harsh_sanctions",
    "chilled_speech", "redlist",
}

DOC_FIELDS = {"title", "description", "sources"}

# variant -> (parent, differing top-level sections, differing leaf paths)
VARIANTS = {
    "high_error": ("blacklist", {"regulators"}, {
        "regulators.courts.false_positive_rate", "regulators.courts.failure_to_record_rate",
        "regulators.transport.false_positive_rate",
    }),
    "no_publication": ("blacklist", {"regulators"}, {"regulators.courts.publishes_lists"}),
    "friends_in_score": ("sesame", {"rules"}, {"rules.0.weight_friends", "rules.0.tie_pruning"}),
    "fast_appeals": ("blacklist", {"regulators"}, {
        "regulators.courts.appeal_capacity_per_10k", "regulators.courts.appeal_delay_days",
        "regulators.transport.appeal_capacity_per_10k", "regulators.transport.appeal_delay_days",
    }),
    "harsh_sanctions": ("blacklist", {"rules"}, {
        "rules.0.court_list_days", "rules.0.sanctions.travel", "rules.0.sanctions.luxury",
        "rules.0.sanctions.schooling",
    }),
    "chilled_speech": ("patchwork", {"regulators", "rules"}, {
        "regulators.public_security.shares_records", "rules.1.speech_deduction", "rules.2.weight_speech",
    }),
    "redlist": ("blacklist", {"regulators"}, {"regulators.civil_affairs.shares_records"}),
}


def _flatten(value, prefix: str = "") -> dict[str, object]:
    """Leaf values of plain nested data by dotted path (list items by position)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    out: dict[str, object] = {}
    for key, child in items:
        out.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _content(name: str) -> dict:
    """A scenario's model_dump without its documentation fields."""
    return load_scenario(name).model_dump(mode="python", exclude=DOC_FIELDS)


def _differences(a: dict, b: dict) -> set[str]:
    fa, fb = _flatten(a), _flatten(b)
    return {p for p in fa.keys() | fb.keys() if fa.get(p, object()) != fb.get(p, object())}


def test_expected_scenarios_are_shipped():
    assert EXPECTED <= set(scenario_names())


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_validates_and_runs(name):
    model = ReputationModel(name, rng=0, **{"population.n_citizens": 300})
    df = model.run(5)
    assert len(df) == 6  # step 0 plus five steps
    assert model.steps == 5
    numeric = df.select_dtypes("number")
    assert numeric.notna().all().all()


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_is_documented(name):
    scenario = load_scenario(name)
    assert scenario.title.strip() and scenario.title != "Untitled scenario"
    assert scenario.description.strip()
    assert scenario.sources and all(s.strip() for s in scenario.sources)
    text = " ".join(scenario.sources)
    assert re.search(r"\b00[0234]\b", text), "sources must cite a seed document by number"
    assert "assumption" in text, "sources must say which values are modelling assumptions"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_changes_one_section(variant):
    parent, sections, leaves = VARIANTS[variant]
    a, b = _content(parent), _content(variant)
    diff = _differences(a, b)
    assert {p.split(".")[0] for p in diff} == sections
    assert diff == leaves


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_names_its_parent(variant):
    parent = VARIANTS[variant][0]
    text = (scenario_dir() / f"{variant}.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"# Workshop variant. Parent: {parent}.yaml.")
    assert f"variant of {parent}" in load_scenario(variant).description


def test_variant_values_relative_to_parent():
    """The variants' changes are the stated multiples of their parent's values."""
    bl = load_scenario("blacklist")

    he = load_scenario("high_error")
    for dept in ("courts", "transport"):
        p, v = getattr(bl.regulators, dept), getattr(he.regulators, dept)
        assert v.false_positive_rate == pytest.approx(10 * p.false_positive_rate)
    # only the courts record compliance with judgements
    assert he.regulators.courts.failure_to_record_rate == pytest.approx(
        10 * bl.regulators.courts.failure_to_record_rate)

    fa = load_scenario("fast_appeals")
    for dept in ("courts", "transport"):
        p, v = getattr(bl.regulators, dept), getattr(fa.regulators, dept)
        assert v.appeal_capacity_per_10k == pytest.approx(10 * p.appeal_capacity_per_10k)
        assert v.appeal_delay_days == 7

    hs, bl_rule = load_scenario("harsh_sanctions").rule("blacklist"), bl.rule("blacklist")
    for share in ("travel", "luxury", "schooling"):
        assert getattr(hs.sanctions, share) == pytest.approx(3 * getattr(bl_rule.sanctions, share))
    assert hs.court_list_days == 1825

    np_ = load_scenario("no_publication")
    publishers = [d for d in type(np_.regulators).model_fields
                  if hasattr(getattr(np_.regulators, d), "publishes_lists")]
    assert {"courts", "transport", "market", "tax"} <= set(publishers)
    assert not any(getattr(np_.regulators, d).publishes_lists for d in publishers)
    assert bl.regulators.courts.publishes_lists

    fr = load_scenario("friends_in_score").rule("commercial")
    assert (fr.weight_friends, fr.tie_pruning) == (0.3, 0.05)
    assert load_scenario("sesame").rule("commercial").weight_friends == 0.0

    pw, cs = load_scenario("patchwork"), load_scenario("chilled_speech")
    assert not pw.regulators.public_security.shares_records and cs.regulators.public_security.shares_records
    assert pw.rule("points").speech_deduction == 0 and pw.rule("commercial").weight_speech == 0
    # a recorded post costs as much as a recorded serious infraction
    assert cs.rule("points").speech_deduction == cs.rule("points").serious_deduction
    assert cs.rule("commercial").weight_speech == 0.3

    rl = load_scenario("redlist")
    assert not bl.regulators.civil_affairs.shares_records and rl.regulators.civil_affairs.shares_records
    assert rl.rule("blacklist").redlist


def test_single_rule_scenarios_have_the_intended_rules():
    kinds = {name: load_scenario(name).active_kinds for name in EXPECTED}
    assert kinds["baseline"] == ()
    assert kinds["blacklist"] == ("blacklist",)
    assert kinds["rongcheng"] == ("points",)
    assert kinds["sesame"] == ("commercial",)
    assert kinds["honest_shanghai"] == ("rating",)
    assert set(kinds["patchwork"]) == {"blacklist", "points", "commercial", "rating"}


def test_record_sharing_as_described():
    regs = {name: load_scenario(name).regulators for name in EXPECTED}
    for name in ("rongcheng",):
        assert regs[name].transport.shares_records and regs[name].courts.shares_records
        assert regs[name].civil_affairs.shares_records
    for name in ("blacklist", "honest_shanghai", "patchwork"):
        assert regs[name].transport.shares_records and regs[name].courts.shares_records
    assert regs["blacklist"].courts.publishes_lists and regs["patchwork"].courts.publishes_lists
    assert not regs["patchwork"].civil_affairs.shares_records


@pytest.mark.parametrize("name", scenario_names())
def test_unset_values_keep_schema_defaults(name):
    """A value a scenario file leaves out must be the schema's default, also inside a
    partly given section (e.g. the courts' coverage of 0.1 when only
    ``regulators.courts.publishes_lists`` is set)."""
    data = read_yaml(scenario_dir() / f"{name}.yaml")
    given = set(_flatten(data))
    loaded = load_scenario(name)
    default = Scenario(rules=loaded.rules).model_dump(mode="python")
    default_rules = [type(rule)().model_dump(mode="python") for rule in loaded.rules]
    default["rules"] = default_rules
    mine = _flatten(loaded.model_dump(mode="python"))
    problems = [f"{path}: {mine[path]!r} instead of the default {value!r}"
                for path, value in _flatten(default).items()
                if path not in given and not any(path.startswith(g + ".") for g in given)
                and path.split(".")[0] not in DOC_FIELDS and mine.get(path) != value]
    assert not problems, "\n".join(problems)
