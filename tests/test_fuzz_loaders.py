"""Fuzzing the loaders (issue 7): whatever a scenario file, an experiment file or a
``--set`` value holds, loading it gives a valid object or the project's clean error
(:class:`ScenarioError`, of which :class:`ExperimentError` is a kind), never another
exception; through the command line it gives exit status 2 with a one-paragraph
message, never a traceback.

Inputs: random YAML-like data (nested mappings, lists and scalars, NaN and infinities
included, keys drawn from the schema's field names or at random), near-valid
scenarios and experiments (the shipped ones with keys dropped, renamed or added and
values replaced by anything), random bytes and text written as files, and random
``PATH=VALUE`` assignments. Hypothesis runs derandomized without a database, so
every run tries the same examples (nothing is written to ``.hypothesis/``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import shutil
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import cli
from simulation.catalog import load_scenario
from simulation.cli import main
from simulation.experiment import Experiment, Resolved, load_experiment
from simulation.overrides import ScenarioError, apply_overrides, parse_value, validate_scenario
from simulation.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def fuzz(examples: int):
    """Settings of every fuzz test: deterministic, no example database, no deadline."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- strategies


def _field_names(model) -> set[str]:
    names = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for member in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(member, type) and hasattr(member, "model_fields"):
                names |= _field_names(member)
    return names


FIELD_NAMES = sorted(_field_names(Scenario) | _field_names(Experiment) | {
    "kind", "points", "blacklist", "commercial", "rating", "none", "edge_list", "small_world", "homophilous",
    "grid", "lhs", "sobol", "morris", "courts", "transport", "range", "values", "samples", "levels"})

keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12), st.integers(-3, 3), st.booleans())
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-10, 2000), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1),
    st.text(max_size=20), st.sampled_from(FIELD_NAMES),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)
"""Random YAML-like data: what ``yaml.safe_load`` can give for a document."""

small_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 40), st.floats(allow_nan=True),
                          st.text(max_size=10), st.sampled_from(FIELD_NAMES))
small_values = st.recursive(small_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)), max_leaves=8)
"""Like ``values`` but with small numbers, for commands that act on a valid input (a
dry-run sweep plans its design: no million-point Sobol' sample)."""


def _slots(data: Any, out: list | None = None) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in nested data, the top level first."""
    out = [] if out is None else out
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in list(items):
        out.append((data, key))
        _slots(value, out)
    return out


@st.composite
def mutated(draw, bases: list[dict], replacement=values) -> dict:
    """One of ``bases`` with one to four random edits: a key or item dropped, renamed
    with a typo or given a random value, or a random key added."""
    data = copy.deepcopy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(data)
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["drop", "replace", "replace", "rename", "add"]))
        if action == "drop":
            del container[key]
        elif action == "replace":
            container[key] = draw(replacement)
        elif action == "rename" and isinstance(container, dict) and isinstance(key, str) and key:
            i = draw(st.integers(0, len(key) - 1))
            typo = key[:i] + key[i + 1:] if draw(st.booleans()) else key[:i] + draw(st.characters()) + key[i:]
            container[typo] = container.pop(key)
        elif isinstance(container, dict):
            container[draw(keys)] = draw(replacement)
        else:
            container.append(draw(replacement))
    return data


SCENARIOS = [load_scenario(name).model_dump(mode="json") for name in ("baseline", "patchwork", "rongcheng")]
SCENARIOS.append({"title": "small", "rules": [{"kind": "points", "grade_thresholds": [1050, 1030, 960, 850, 600]}],
                  "interventions": [{"step": 5, "path": "regulators.courts.coverage", "value": 0.5}],
                  "run": {"steps": 20}, "network": {"kind": "homophilous", "mean_degree": 4}})

EXPERIMENTS = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "experiments").glob("*.yaml"))]
EXPERIMENTS.append({
    "scenario": "blacklist", "overrides": {"population.n_citizens": 200},
    "parameters": {"regulators.courts.false_positive_rate": {"range": [0.0, 0.2]},
                   "rules.blacklist.grace_days": {"range": [0, 60], "integer": True},
                   "regulators.courts.publishes_lists": {"values": [True, False]}},
    "design": {"kind": "grid", "levels": 3}, "replicates": 2, "steps": 12, "seed": 2024,
    "metrics": {"keep": ["share_listed"], "every": 4},
})
SMALL_EXPERIMENT = EXPERIMENTS[-1]

PATHS = sorted({
    ".".join(str(p) for p in path) for path in (
        [("population", k) for k in SCENARIOS[1]["population"]]
        + [("behaviour", k) for k in SCENARIOS[1]["behaviour"]]
        + [("regulators", d, k) for d in SCENARIOS[1]["regulators"] for k in SCENARIOS[1]["regulators"][d]]
        + [("rules", r["kind"], k) for r in SCENARIOS[1]["rules"] for k in r]
        + [("rules", i, "kind") for i in range(5)]
        + [("network", k) for k in ("kind", "mean_degree", "homophily", "path")]
        + [("run", k) for k in SCENARIOS[1]["run"]]
        + [("title",), ("interventions",), ("rules",), ("population",), ("network",), ("rules", 0), ("rules", "points"),
           ("interventions", 0, "path")]
    )
})
"""Real dotted paths (and a few whole sections) of the patchwork scenario."""

paths = st.one_of(
    st.sampled_from(PATHS),
    st.builds(lambda p, i, c: p[:i] + c + p[i:], st.sampled_from(PATHS), st.integers(0, 30), st.text(max_size=2)),
    st.text(max_size=30),
)
value_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "-inf", ".inf", ".nan", "1e400", "0x1F", "~", "null", "yes", "off", "[]", "{}",
                     "[1, 2", "!!python/object/apply:os.system ['true']", "*a", "&a [*a]", "'", "\"", "- - -"]),
    values.map(lambda v: yaml.safe_dump(v, default_flow_style=True).removesuffix("\n...\n").strip()),
    st.integers(1, 60).map(lambda n: "[" * n + "]" * n),
)
"""What may follow ``PATH=`` on a command line."""




@st.composite
def chained_overrides(draw) -> list[tuple[str, str]]:
    """Two to three ``--set`` values where a later path lies inside an earlier one (set
    a section or entry to anything, then a field inside it), then maybe a random one."""
    full = draw(st.sampled_from([p for p in PATHS if "." in p]))
    parts = full.split(".")
    cut = draw(st.integers(1, len(parts) - 1))
    chain = [(".".join(parts[:cut]), draw(value_texts)), (full, draw(value_texts))]
    if draw(st.booleans()):
        chain.append((draw(paths), draw(value_texts)))
    return chain


# --------------------------------------------------------------------------- helpers


def loads_or_refuses(load, *args) -> Any:
    """``load(*args)``; a ScenarioError counts as a clean refusal (None)."""
    try:
        return load(*args)
    except ScenarioError as exc:
        assert str(exc).strip(), "an error without a message"
        return None


def one_paragraph(err: str) -> None:
    text = err.strip()
    assert "Traceback" not in err, err
    assert text.startswith(("error: ", "usage: ")), text
    assert "\n\n" not in text and all(line.strip() for line in text.splitlines()), text
    assert len(text.splitlines()) <= 12, text


class _Accepted(Exception):
    """Raised instead of building a model: the command line accepted its input."""


def run_cli(args: list[str]) -> tuple[int | None, str]:
    """``main(args)`` without running a model; (None, '') when the input was accepted."""

    def accept(*a, **k):
        raise _Accepted

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(cli, "ReputationModel", accept), mock.patch("simulation.sweep.sweep", accept), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except _Accepted:
            return None, ""
    return code, err.getvalue()


SCRATCH = Path(tempfile.mkdtemp(prefix="scoresim-fuzz-"))
"""Where each example's file is written (one file, rewritten; removed after the module)."""


@pytest.fixture(scope="module", autouse=True)
def _remove_scratch():
    yield
    shutil.rmtree(SCRATCH, ignore_errors=True)


def file_with(content: bytes) -> Path:
    path = SCRATCH / "input.yaml"
    path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- scenario loader


@fuzz(150)
@given(data=values)
def test_random_data_validates_or_is_refused_cleanly(data):
    result = loads_or_refuses(validate_scenario, data)
    assert result is None or isinstance(result, Scenario)


@fuzz(200)
@given(data=mutated(SCENARIOS))
def test_near_valid_scenarios_validate_or_are_refused_cleanly(data):
    result = loads_or_refuses(validate_scenario, data)
    assert result is None or isinstance(result, Scenario)


@fuzz(100)
@given(content=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    values.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode("utf-8")),
    mutated(SCENARIOS).map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8")),
    st.integers(1, 60).map(lambda n: ("a: " + "[" * n + "]" * n + "\n").encode()),
    st.integers(1, 100).map(lambda n: ("x: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n"
                                                                  for i in range(1, n))).encode()),
))
def test_scenario_files_of_any_content_load_or_are_refused_cleanly(content):
    result = loads_or_refuses(load_scenario, file_with(content))
    assert result is None or isinstance(result, Scenario)


@fuzz(40)
@given(content=st.one_of(st.binary(max_size=200), mutated(SCENARIOS, small_values).map(
    lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8"))))
def test_validate_command_never_shows_a_traceback(content):
    code, err = run_cli(["validate", str(file_with(content))])
    assert code in (0, 2)
    if code == 2:
        one_paragraph(err)


# --------------------------------------------------------------------------- experiment loader


@fuzz(150)
@given(data=st.one_of(mutated(EXPERIMENTS), values))
def test_experiments_load_or_are_refused_cleanly(data):
    result = loads_or_refuses(load_experiment, data) if isinstance(data, dict) else \
        loads_or_refuses(load_experiment, file_with(yaml.safe_dump(data).encode("utf-8")))
    assert result is None or isinstance(result, Resolved)


@fuzz(40)
@given(data=st.one_of(mutated([SMALL_EXPERIMENT], small_values), st.binary(max_size=200)))
def test_sweep_dry_run_never_shows_a_traceback(data):
    content = data if isinstance(data, bytes) else yaml.safe_dump(data, allow_unicode=True).encode("utf-8")
    code, err = run_cli(["sweep", str(file_with(content)), "--dry-run"])
    assert code in (0, 2), err
    if code == 2:
        one_paragraph(err)


# --------------------------------------------------------------------------- --set


PATCHWORK = load_scenario("patchwork")


@fuzz(200)
@given(path=paths, text=value_texts)
def test_set_values_apply_or_are_refused_cleanly(path, text):
    result = loads_or_refuses(lambda: apply_overrides(PATCHWORK, {path: parse_value(text)}))
    assert result is None or isinstance(result, Scenario)


@fuzz(200)
@given(chain=chained_overrides())
def test_chained_set_values_apply_or_are_refused_cleanly(chain):
    """Several --set values at once, later ones inside what earlier ones replaced
    (``--set rules=[1] --set rules.0.base=3`` crashed with AttributeError)."""
    result = loads_or_refuses(lambda: apply_overrides(PATCHWORK, {p: parse_value(t) for p, t in chain}))
    assert result is None or isinstance(result, Scenario)


@fuzz(60)
@given(path=paths, text=value_texts, steps=st.one_of(st.none(), st.text(max_size=5),
                                                     st.integers(-3, 2_000_000).map(str)))
def test_run_with_any_set_never_shows_a_traceback(path, text, steps):
    args = ["run", "patchwork", "--quiet", "--set", f"{path}={text}"]
    if steps is not None:
        args += ["--steps", steps]
    code, err = run_cli(args)
    assert code in (None, 2), err
    if code == 2:
        one_paragraph(err)


names = st.one_of(
    st.text(max_size=40), st.integers(200, 5000).map(lambda n: "a" * n),
    st.sampled_from(["", ".", "..", "/", "~", "-", "--", "baseline", "baseline.yaml", "/dev/null", "experiments",
                     "scenarios/baseline.yaml", "experiments/false_positives.yaml"]),
)


@fuzz(60)
@given(name=names, out=st.one_of(st.none(), names.map(lambda n: n + ".csv")))
def test_any_scenario_experiment_or_output_name_never_shows_a_traceback(name, out):
    """File and scenario names of any text and length (a 300-character --out name
    crashed with OSError; a NUL in --out ran the model, then crashed writing)."""
    args = ["run", name, "--quiet"] + (["--out", str(SCRATCH / out)] if out is not None else [])
    code, err = run_cli(args)
    assert code in (None, 2), err
    if code == 2:
        one_paragraph(err)
    code, err = run_cli(["sweep", name, "--dry-run"])
    assert code in (0, 2), err
    if code == 2:
        one_paragraph(err)


@pytest.mark.parametrize("text", ["population.n_citizens=nan", "rules.points.base=" + "[" * 5000,
                                  "title=&a [*a]", "behaviour.stake_days=1e400"])
def test_fuzz_finds_of_note_stay_fixed(text):
    """Inputs of the kinds the fuzzing found or probes: NaN, a value nested thousands deep,
    a recursive alias and a number too large for a float."""
    code, err = run_cli(["run", "patchwork", "--quiet", "--set", text])
    assert code == 2
    one_paragraph(err)
