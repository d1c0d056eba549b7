"""Bad input catalogue (issue 7): every way a scenario file, an experiment file or a
``--set`` / ``--seed`` / ``--steps`` value can be wrong ends the same way.

Each case runs the command line in this process (``simulation.cli.main``) and checks:

* exit status 2 and no traceback;
* the message is one paragraph: it starts with ``error:`` (or argparse's ``usage:``),
  has no blank line, at most :data:`MAX_LINES` lines of at most :data:`MAX_WIDTH`
  characters (a 300-character title or a billion-laughs bomb is not echoed back);
* it names the offending field (dotted path) and what is allowed (bounds, kinds, the
  expected type), as listed with each case;
* nothing is written: after the command the folder holds exactly the input files (no
  output, no temporary file, and no marker from a Python tag that must not run).

Cases already covered elsewhere are not repeated here: see ``BAD_FILES`` in
``tests/test_sweep.py``, ``test_bad_scenarios_name_field_and_allowed_values`` in
``tests/test_schema.py`` and the ``--set``, ``--seed``, ``validate`` tests of
``tests/test_cli.py``. Two cases run in a real subprocess to prove the exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from simulation import cli
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 12
"""Most lines an error message may take (argparse's usage lines included)."""
MAX_WIDTH = 1000
"""Longest line of an error message."""

FPR = "regulators.courts.false_positive_rate"
BOMB = "".join([
    "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    *(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)),
])
"""A billion-laughs document: nine levels of nine aliases, 9**9 strings if expanded."""


@dataclass
class Case:
    """One bad input: the files to write, the command line ({tmp} is the folder) and
    the texts its error message must contain."""

    args: list[str]
    expected: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    builds_model: bool = False
    """Whether the model may be built (edge-list files are read by the model)."""


def scenario(text: str | bytes, *expected: str, run: tuple[str, ...] = ()) -> Case:
    return Case(["run", "{tmp}/scenario.yaml", "--quiet", *run], list(expected), {"scenario.yaml": text})


def setting(*assignments: str, expected: list[str], name: str = "baseline") -> Case:
    args = ["run", name, "--quiet", "--out", "{tmp}/run.csv"]
    for a in assignments:
        args += ["--set", a]
    return Case(args, expected)


def edge_list(network: str, text: str | bytes | None, *expected: str, n: int = 12) -> Case:
    files: dict[str, str | bytes] = {"scenario.yaml": f"population: {{n_citizens: {n}}}\n"
                                                      f"network: {network}\nrun: {{steps: 2}}\n"}
    if text is not None:
        files["net.txt"] = text
    return Case(["run", "{tmp}/scenario.yaml", "--quiet"], list(expected), files, builds_model=True)


EXPERIMENT = {
    "title": "bad input", "scenario": "blacklist", "overrides": {"population.n_citizens": 200},
    "parameters": {FPR: {"range": [0.0, 0.2]}}, "design": {"kind": "grid", "levels": 3},
    "replicates": 2, "steps": 12, "seed": 2024,
}


def experiment(*expected: str, text: str | None = None, **changes) -> Case:
    body = text if text is not None else yaml.safe_dump({**EXPERIMENT, **changes}, sort_keys=False)
    return Case(["sweep", "{tmp}/experiment.yaml", "--out", "{tmp}/out", "--workers", "1", "--quiet"],
                list(expected), {"experiment.yaml": body})


def experiment_yaml(old: str, new: str) -> str:
    """The test experiment as YAML text with ``old`` replaced by ``new`` (for .nan, .inf)."""
    text = yaml.safe_dump(EXPERIMENT, sort_keys=False)
    assert old in text
    return text.replace(old, new)


SCENARIO_CASES = [
    # unknown keys and near-miss typos
    pytest.param(scenario("populaton: {n_citizens: 50}\n", "populaton: unknown field", "Did you mean 'population'"),
                 id="scenario-typo-section"),
    pytest.param(scenario("behaviour: {stake_day: 3}\n", "behaviour.stake_day", "Did you mean 'stake_days'"),
                 id="scenario-typo-behaviour-field"),
    pytest.param(scenario("regulators: {courts: {false_positve_rate: 0.01}}\n",
                          "regulators.courts.false_positve_rate", "Did you mean 'false_positive_rate'"),
                 id="scenario-typo-regulator-field"),
    pytest.param(scenario("rules: [{kind: blacklist, grace_day: 10}]\n",
                          "rules.0.blacklist.grace_day", "Did you mean 'grace_days'"), id="scenario-typo-rule-field"),
    pytest.param(scenario("population: {zzz_qqq: 1}\n", "population.zzz_qqq: unknown field",
                          "Allowed: n_citizens, n_firms"), id="scenario-unknown-key-lists-allowed"),
    pytest.param(scenario("1: 2\n", "1: Keys should be strings"), id="scenario-key-not-text"),
    # wrong types
    pytest.param(scenario("run: {steps: ten}\n", "run.steps", "valid integer", "'ten'", "from 1 to 1,000,000"),
                 id="scenario-text-for-integer"),
    pytest.param(scenario("population: {n_firms: 2.5}\n", "population.n_firms", "fractional part", "got 2.5",
                          "from 1 to 100,000"), id="scenario-fraction-for-integer"),
    pytest.param(scenario("network: {mean_degree: yes}\n", "mean_degree", "valid integer (got true)",
                          "from 0 to 200"), id="scenario-yes-for-integer"),
    pytest.param(scenario("behaviour: {stake_days: false}\n", "behaviour.stake_days", "got false", "from 0 to 365"),
                 id="scenario-false-for-number"),
    pytest.param(scenario("population: {age_shares: [true, false, false]}\n", "population.age_shares.0",
                          "valid number (got true)"), id="scenario-booleans-for-shares"),
    pytest.param(scenario("run: {record_events: maybe}\n", "run.record_events", "valid boolean", "'maybe'"),
                 id="scenario-text-for-boolean"),
    pytest.param(scenario("population: 5\n", "population: Input should be a valid dictionary", "got 5"),
                 id="scenario-number-for-section"),
    pytest.param(scenario("rules: {kind: blacklist}\n", "rules: Input should be a valid list", "got a mapping"),
                 id="scenario-mapping-for-rule-list"),
    pytest.param(scenario("title: " + "x" * 300 + "\n", "title: String should have at most 200 characters"),
                 id="scenario-title-too-long"),
    # out of range, NaN and infinity
    pytest.param(scenario("behaviour: {comply_prob: 1.5}\n", "behaviour.comply_prob", "got 1.5", "from 0 to 1"),
                 id="scenario-share-above-1"),
    pytest.param(scenario("regulators: {courts: {coverage: -0.1}}\n", "regulators.courts.coverage", "got -0.1",
                          "from 0 to 1"), id="scenario-negative-share"),
    pytest.param(scenario("population: {n_citizens: 1000000000000}\n", "population.n_citizens",
                          "from 10 to 5,000,000"), id="scenario-population-too-large"),
    pytest.param(scenario("behaviour: {stake_days: .nan}\n", "behaviour.stake_days: must be a finite number",
                          "from 0 to 365"), id="scenario-nan"),
    pytest.param(scenario("population: {income_median: .inf}\n", "population.income_median: must be a finite number",
                          "above 0 up to 1,000,000"), id="scenario-inf"),
    pytest.param(scenario("approval: {weight_error: -.inf}\n", "approval.weight_error: must be a finite number",
                          "from 0 to 10"), id="scenario-minus-inf"),
    # thresholds and other cross-field rules
    pytest.param(scenario("rules: [{kind: points, grade_thresholds: []}]\n",
                          "rules.0.points.grade_thresholds: needs 5 values, got 0"), id="scenario-empty-thresholds"),
    pytest.param(scenario("rules: [{kind: points, grade_thresholds: [600, 850, 960, 1030, 1050]}]\n",
                          "grade_thresholds must be strictly decreasing", "AAA > AA > A > B > C"),
                 id="scenario-unordered-thresholds"),
    pytest.param(scenario("rules: [{kind: points, grade_thresholds: [1050, 1050, 960, 850, 600]}]\n",
                          "grade_thresholds must be strictly decreasing"), id="scenario-tied-thresholds"),
    pytest.param(scenario("rules: [{kind: points, grade_thresholds: [1100, 1050, 960, 850, 600, 300]}]\n",
                          "rules.0.points.grade_thresholds", "at most 5 items"), id="scenario-six-thresholds"),
    pytest.param(scenario("rules: [{kind: points, grade_thresholds: [1050, .nan, 960, 850, 600]}]\n",
                          "rules.0.points.grade_thresholds.1: must be a finite number"),
                 id="scenario-nan-threshold"),
    pytest.param(scenario("population: {age_shares: [0.5, 0.5, 0.5]}\n", "population.age_shares must sum to 1"),
                 id="scenario-shares-not-summing-to-1"),
    pytest.param(scenario("population: {education_shares: [0.5, 0.5]}\n",
                          "population.education_shares: needs 3 values, got 2"), id="scenario-two-shares-of-three"),
    pytest.param(scenario("rules: [{kind: commercial, min_score: 900, max_score: 400}]\n",
                          "rules.0.commercial", "min_score < reward_threshold <= max_score"),
                 id="scenario-commercial-range-reversed"),
    # kind discriminators
    pytest.param(scenario("rules: [{kind: sesame_credit}]\n", "rules.0", "'sesame_credit'",
                          "'none', 'blacklist', 'points', 'commercial', 'rating'"), id="scenario-unknown-rule-kind"),
    pytest.param(scenario("rules: [{base: 900}]\n", "rules.0: needs a 'kind'",
                          "none, blacklist, points, commercial, rating"), id="scenario-rule-without-kind"),
    pytest.param(scenario("network: {kind: scale_free}\n", "network", "'scale_free'",
                          "'small_world', 'homophilous', 'edge_list'"), id="scenario-unknown-network-kind"),
    # interventions
    pytest.param(scenario("run: {steps: 20}\ninterventions: [{step: 500, path: regulators.courts.coverage, "
                          "value: 0.5}]\n", "interventions.0.step", "after the run's last step", "from 1 to 20"),
                 id="scenario-intervention-after-the-run"),
    pytest.param(scenario("interventions: [{step: 50, path: regulators.courts.coverage, value: 0.5}]\n",
                          "interventions.0.step", "from 1 to 10", run=("--steps", "10")),
                 id="scenario-intervention-after-shortened-run"),
    pytest.param(scenario("interventions: [{step: 0, path: regulators.courts.coverage, value: 0.5}]\n",
                          "interventions.0.step", "greater than or equal to 1", "from 1 to 1,000,000"),
                 id="scenario-intervention-at-step-0"),
    pytest.param(scenario("interventions: [{step: 5, path: regulators.courts.coverage, value: [1, 2]}]\n",
                          "interventions.0.value: expected a number, true or false or text", "a list of 2"),
                 id="scenario-intervention-value-is-list"),
    pytest.param(scenario("interventions: [{step: 5, path: regulators.courts.coverage, value: high}]\n",
                          "interventions.0", "regulators.courts.coverage", "valid number", "'high'"),
                 id="scenario-intervention-value-wrong-type"),
]

FILE_CASES = [
    pytest.param(scenario("title: !!python/object/apply:os.system ['touch {tmp}/marker']\n",
                          "not valid YAML", "python/object/apply:os.system", "Python tags are not allowed"),
                 id="file-python-tag-not-run"),
    pytest.param(scenario(BOMB + "title: *l8\nsources: [*l8]\n", "title: Input should be a valid string",
                          "sources.0"), id="file-billion-laughs"),
    pytest.param(scenario("sources: &s [*s]\n", "sources.0: Input should be a valid string"),
                 id="file-recursive-alias"),
    pytest.param(scenario("title: x\n" + "#" * 1_100_000 + "\n", "1,100,010 bytes", "the limit is 1,000,000"),
                 id="file-larger-than-1MB"),
    pytest.param(scenario("title: caf\u00e9\n".encode("utf-16"), "not UTF-8 text"), id="file-utf16"),
    pytest.param(scenario(b"title: \xff\xfe\xfa\n", "not UTF-8 text", "at byte 7"), id="file-invalid-utf8-bytes"),
    pytest.param(scenario("title: a\x00b\n", "not valid YAML", "control character #x0000 is not allowed"),
                 id="file-nul-byte"),
    pytest.param(scenario("", "the file is empty", "population, rules and run"), id="file-empty"),
    pytest.param(scenario("# only a comment\n", "the file is empty"), id="file-only-comments"),
    pytest.param(scenario("- population\n- rules\n", "expected a mapping of sections", "got list"),
                 id="file-list-not-mapping"),
    pytest.param(scenario("just some words\n", "expected a mapping of sections", "got str"),
                 id="file-text-not-mapping"),
    pytest.param(scenario("population: {n_citizens: 5\n", "not valid YAML", "line 2, column 1",
                          "flow mapping from line 1"), id="file-unclosed-brace"),
    pytest.param(scenario("population:\n\tn_citizens: 50\n", "not valid YAML", "line 2, column 1", "'\\t'"),
                 id="file-tab-indentation"),
    pytest.param(scenario("population: {n_citizens: 50}\npopulation: {n_citizens: 60}\n",
                          "not valid YAML", "line 2", "key 'population' is given twice (first at line 1)"),
                 id="file-duplicate-top-level-key"),
    pytest.param(scenario("behaviour:\n  stake_days: 3\n  stake_days: 4\n", "key 'stake_days' is given twice"),
                 id="file-duplicate-nested-key"),
    pytest.param(scenario("title: a\n---\ntitle: b\n", "not valid YAML", "single document"), id="file-two-documents"),
    pytest.param(Case(["run", "{tmp}/nope.yaml"], ["nope.yaml: no such file"]), id="file-missing"),
    pytest.param(Case(["run", "{tmp}"], ["is a directory, not a scenario file"]), id="file-is-a-directory"),
    pytest.param(Case(["run", "a" * 5000], ["aaaa...: cannot be read: File name too long"]), id="file-name-too-long"),
    pytest.param(Case(["run", "baseline", "--out", "{tmp}/" + "o" * 300 + ".csv"], ["--out", "File name too long"]),
                 id="out-name-too-long"),
    pytest.param(Case(["run", "baseline", "--out", "{tmp}/" + "o" * 245 + ".csv"], ["File name too long"]),
                 id="out-name-too-long-for-its-companion-files"),
    pytest.param(Case(["run", "baseline", "--out", "{tmp}/run\x00.csv"], ["--out", "cannot contain a NUL"]),
                 id="out-name-with-nul"),
    pytest.param(Case(["sweep", str(ROOT / "experiments" / "false_positives.yaml"), "--out", "{tmp}/" + "d" * 300],
                      ["--out", "File name too long"]), id="out-sweep-directory-name-too-long"),
    pytest.param(Case(["sweep", str(ROOT / "experiments" / "false_positives.yaml"), "--out", "{tmp}/d\x00"],
                      ["--out", "cannot contain a NUL"]), id="out-sweep-directory-with-nul"),
]

EDGE_LIST_CASES = [
    pytest.param(edge_list("{kind: edge_list, path: nope.txt}", None, "network.path", "nope.txt",
                           "No such file or directory"), id="edge-list-missing-file"),
    pytest.param(edge_list("{kind: edge_list, path: .}", None, "network.path", "Is a directory"),
                 id="edge-list-path-is-directory"),
    pytest.param(edge_list("{kind: edge_list, path: net.txt}", "".join(f"n{i} n{i + 1}\n" for i in range(10)),
                           "network.path", "names 11 nodes but population.n_citizens is 12",
                           "set population.n_citizens to 11"), id="edge-list-wrong-node-count"),
    pytest.param(edge_list("{kind: edge_list, path: net.txt}", "a b\nb c\n", "names 3 nodes",
                           "at least 10 nodes"), id="edge-list-fewer-nodes-than-allowed"),
    pytest.param(edge_list("{kind: edge_list, path: net.txt}", "# nothing here\n", "names 0 nodes",
                           "at least 10 nodes"), id="edge-list-empty-file"),
    pytest.param(edge_list("{kind: edge_list, path: net.txt}", bytes(range(256)), "network.path",
                           "is not UTF-8 text"), id="edge-list-binary-file"),
    pytest.param(edge_list("{kind: edge_list, path: net.txt}", "a b c d\n", "network.path", "line 1",
                           "expected one or two node labels, got 4"), id="edge-list-four-labels-on-a-line"),
    pytest.param(edge_list("{kind: edge_list, path: ''}", None, "network.edge_list.path",
                           "at least 1 character"), id="edge-list-empty-path"),
    pytest.param(edge_list("{kind: edge_list}", None, "network.edge_list.path: Field required"),
                 id="edge-list-no-path"),
]

SET_CASES = [
    pytest.param(setting("regulators.courts.coverge=0.2", expected=["regulators.courts has no field 'coverge'",
                                                                    "Did you mean 'coverage'"]), id="set-typo-field"),
    pytest.param(setting("populaton.n_citizens=500", expected=["the scenario has no field 'populaton'",
                                                               "Did you mean 'population'"]), id="set-typo-section"),
    pytest.param(setting("population..n_citizens=5", expected=["population has no field ''",
                                                               "Allowed: n_citizens"]), id="set-empty-segment"),
    pytest.param(setting("population.n_citizens.x=1", expected=["population.n_citizens is a single value"]),
                 id="set-below-a-value"),
    pytest.param(setting("behaviour.stake_days=nan", expected=["behaviour.stake_days", "finite number",
                                                               "from 0 to 365"]), id="set-nan"),
    pytest.param(setting("behaviour.stake_days=inf", expected=["behaviour.stake_days", "finite number", "'inf'"]),
                 id="set-inf"),
    pytest.param(setting("behaviour.stake_days=-inf", expected=["behaviour.stake_days", "finite number", "'-inf'"]),
                 id="set-minus-inf"),
    pytest.param(setting("regulators.courts.coverage=.nan", expected=["regulators.courts.coverage",
                                                                      "must be a finite number", "from 0 to 1"]),
                 id="set-yaml-nan"),
    pytest.param(setting("regulators.courts.coverage=2", expected=["regulators.courts.coverage", "got 2",
                                                                   "from 0 to 1"]), id="set-out-of-range"),
    pytest.param(setting("run.record_events=maybe", expected=["run.record_events", "valid boolean", "'maybe'"]),
                 id="set-text-for-boolean"),
    pytest.param(setting("network.mean_degree=yes", expected=["mean_degree", "got true", "from 0 to 200"]),
                 id="set-yes-for-integer"),
    pytest.param(setting("population.n_citizens=[1, 2]", expected=["population.n_citizens", "a list of 2",
                                                                   "from 10 to 5,000,000"]),
                 id="set-list-for-integer"),
    pytest.param(setting("population.n_citizens=", expected=["population.n_citizens", "valid integer",
                                                             "got None"]), id="set-empty-value"),
    pytest.param(setting("population.n_citizens={", expected=["population.n_citizens", "got '{'"]),
                 id="set-broken-yaml-value"),
    pytest.param(setting("population=5", expected=["population: Input should be a valid dictionary", "got 5"]),
                 id="set-number-for-section"),
    pytest.param(setting("population.education_shares=[1, 0]",
                         expected=["population.education_shares: needs 3 values, got 2"]), id="set-short-tuple"),
    pytest.param(setting("rules.points.base=900", expected=["no rule set of kind 'points'", "present: none"]),
                 id="set-rule-set-not-in-scenario"),
    pytest.param(setting("rules.7.base=1", expected=["index 7 is out of range", "allowed: 0 to 0"]),
                 id="set-rule-index-out-of-range"),
    pytest.param(setting("network.kind=scale_free", expected=["network", "'scale_free'",
                                                              "'small_world', 'homophilous', 'edge_list'"]),
                 id="set-unknown-network-kind"),
    pytest.param(setting("rules.0.kind=sesame", name="rongcheng",
                         expected=["rules.0", "'sesame'", "'none', 'blacklist', 'points', 'commercial', 'rating'"]),
                 id="set-unknown-rule-kind"),
    pytest.param(setting("rules.points.grade_thresholds=[]", name="rongcheng",
                         expected=["rules.0.points.grade_thresholds: needs 5 values, got 0"]),
                 id="set-empty-thresholds"),
    pytest.param(setting("rules.points.grade_thresholds=[1, 2, 3, 4, 5]", name="rongcheng",
                         expected=["grade_thresholds must be strictly decreasing", "got [1.0, 2.0, 3.0, 4.0, 5.0]"]),
                 id="set-unordered-thresholds"),
    pytest.param(setting("title=" + "[" * 3000 + "]" * 3000, expected=["nested too deeply"]),
                 id="set-deeply-nested-value"),
    pytest.param(setting("=5", expected=["expected the form path=value"]), id="set-empty-path"),
    pytest.param(Case(["run", "baseline", "--seed", str(2**64)], ["--seed", "from 0 to 9223372036854775807"]),
                 id="seed-above-2-to-the-63"),
    pytest.param(Case(["run", "baseline", "--seed", "1.5"], ["--seed", "whole number", "'1.5'"]),
                 id="seed-fraction"),
    pytest.param(Case(["run", "baseline", "--seed", ""], ["--seed", "whole number", "''"]), id="seed-empty"),
    pytest.param(Case(["run", "baseline", "--seed", "-5"], ["--seed", "from 0 to", "got -5"]), id="seed-negative"),
    pytest.param(Case(["run", "baseline", "--steps", "-3"], ["run.steps", "greater than or equal to 1",
                                                             "from 1 to 1,000,000"]), id="steps-negative"),
    pytest.param(Case(["run", "baseline", "--steps", "ten"], ["--steps", "whole number", "'ten'"]),
                 id="steps-text"),
    pytest.param(Case(["run", "baseline", "--steps", "1e3"], ["--steps", "whole number", "'1e3'"]),
                 id="steps-exponent"),
    pytest.param(Case(["run", "baseline", "--steps", "10000000"], ["run.steps", "from 1 to 1,000,000"]),
                 id="steps-too-many"),
]

EXPERIMENT_CASES = [
    pytest.param(experiment("desing: unknown field", "Did you mean 'design'", desing="grid"), id="experiment-typo"),
    pytest.param(experiment("parameters[populaton.n_citizens]", "unknown parameter path", "Did you mean 'population'",
                            parameters={"populaton.n_citizens": {"values": [100, 200]}}),
                 id="experiment-unknown-parameter-section"),
    pytest.param(experiment("design", "'latin'", "'grid', 'lhs', 'sobol', 'morris'", design={"kind": "latin"}),
                 id="experiment-unknown-design-kind"),
    pytest.param(experiment("design: needs a 'kind'", "grid, lhs, sobol, morris", design={"samples": 8}),
                 id="experiment-design-without-kind"),
    pytest.param(experiment(f"parameters[{FPR}]", "empty range [0.2, 0.1]", "low", "must be below",
                            parameters={FPR: {"range": [0.2, 0.1], "scale": "log"}}),
                 id="experiment-bounds-low-above-high"),
    pytest.param(experiment(f"parameters[{FPR}].range", "at most 2 items",
                            parameters={FPR: {"range": [0.0, 0.1, 0.2]}}), id="experiment-range-of-three"),
    pytest.param(experiment(f"parameters[{FPR}].range[0]", "valid number", "'low'",
                            parameters={FPR: {"range": ["low", "high"]}}), id="experiment-range-of-text"),
    pytest.param(experiment(f"parameters[{FPR}].range[0]", "got true",
                            parameters={FPR: {"range": [True, False]}}), id="experiment-range-of-booleans"),
    pytest.param(experiment(f"parameters[{FPR}].range[1]", "finite number",
                            text=experiment_yaml("- 0.2", "- .nan")), id="experiment-range-nan"),
    pytest.param(experiment(f"parameters[{FPR}].range[1]", "finite number",
                            text=experiment_yaml("- 0.2", "- .inf")), id="experiment-range-inf"),
    pytest.param(experiment(f"parameters[{FPR}].values[1]: must be a finite number",
                            text=experiment_yaml("range:\n    - 0.0\n    - 0.2", "values: [0.1, .nan]")),
                 id="experiment-values-nan"),
    pytest.param(experiment(f"parameters[{FPR}]", "log-scale range must be above 0",
                            parameters={FPR: {"range": [0.0, 0.1], "scale": "log"}}), id="experiment-log-from-zero"),
    pytest.param(experiment("parameters: Input should be a valid dictionary", "got a list of 1", parameters=[FPR]),
                 id="experiment-parameters-as-list"),
    pytest.param(experiment("replicates", "greater than or equal to 1", "got 0", "from 1 to 100,000", replicates=0),
                 id="experiment-zero-replicates"),
    pytest.param(experiment("replicates", "valid integer", "'many'", replicates="many"),
                 id="experiment-replicates-text"),
    pytest.param(experiment("seed", "from 0 to 9,223,372,036,854,775,807", seed=2**64), id="experiment-seed-huge"),
    pytest.param(experiment("seed", "from 0 to", "got -1", seed=-1), id="experiment-seed-negative"),
    pytest.param(experiment("seed", "valid integer", "'abc'", seed="abc"), id="experiment-seed-text"),
    pytest.param(experiment("seed", "fractional part", "got 1.5", seed=1.5), id="experiment-seed-fraction"),
    pytest.param(experiment("seed", "got true", seed=True), id="experiment-seed-yes"),
    pytest.param(experiment("seed: must be a finite number", text=experiment_yaml("seed: 2024", "seed: .nan")),
                 id="experiment-seed-nan"),
    pytest.param(experiment("steps: must be a finite number", text=experiment_yaml("steps: 12", "steps: .inf")),
                 id="experiment-steps-inf"),
    pytest.param(experiment("the design asks for 5,000,000 runs", "the limit is 1,000,000",
                            design={"kind": "lhs", "samples": 1_000_000}, replicates=5),
                 id="experiment-too-many-runs"),
    pytest.param(experiment("metrics.keep", "at least 1 item", metrics={"keep": []}), id="experiment-keep-nothing"),
    pytest.param(experiment("scenario: expected text or a mapping", "a list of 2", scenario=[1, 2]),
                 id="experiment-scenario-is-list"),
    pytest.param(experiment("scenario", "populaton: unknown field", "Did you mean 'population'",
                            scenario={"populaton": {}}), id="experiment-inline-scenario-typo"),
    pytest.param(experiment("scenario", "missing.yaml: no such file", scenario="missing.yaml"),
                 id="experiment-scenario-file-missing"),
    pytest.param(experiment("overrides", "behaviour.stake_days: must be a finite number", "from 0 to 365",
                            text=experiment_yaml("population.n_citizens: 200",
                                                 "population.n_citizens: 200\n  behaviour.stake_days: .nan")),
                 id="experiment-override-nan"),
    pytest.param(experiment("overrides", "interventions.0.step", "after the run's last step", "from 1 to 12",
                            scenario={"rules": [{"kind": "blacklist"}],
                                      "interventions": [{"step": 50, "path": FPR, "value": 0.1}]}),
                 id="experiment-intervention-after-the-run"),
    pytest.param(experiment("the file is empty", "scenario, parameters, design", text=""), id="experiment-empty"),
    pytest.param(experiment("expected a mapping of fields", "got list", text="- scenario\n- seed\n"),
                 id="experiment-list-not-mapping"),
    pytest.param(experiment("not valid YAML", "python/object/apply:os.system", "not allowed",
                            text="title: !!python/object/apply:os.system ['touch {tmp}/marker']\n"),
                 id="experiment-python-tag"),
    pytest.param(experiment("not valid YAML", "key 'seed' is given twice",
                            text=yaml.safe_dump(EXPERIMENT, sort_keys=False) + "seed: 5\n"),
                 id="experiment-duplicate-key"),
    pytest.param(experiment("parameters[title].values", "... and", text=BOMB + "scenario: blacklist\nseed: 1\n"
                            "parameters: {title: {values: *l8}}\n"), id="experiment-billion-laughs"),
    pytest.param(Case(["sweep", "{tmp}/nope.yaml", "--out", "{tmp}/out"], ["nope.yaml: no such experiment file"]),
                 id="experiment-file-missing"),
    pytest.param(Case(["sweep", "{tmp}", "--dry-run"], ["is a directory, not an experiment file"]),
                 id="experiment-file-is-a-directory"),
    pytest.param(Case(["sweep", "e" * 5000 + ".yaml", "--dry-run"], ["eeee...: cannot be read: File name too long"]),
                 id="experiment-file-name-too-long"),
]

ALL_CASES = SCENARIO_CASES + FILE_CASES + EDGE_LIST_CASES + SET_CASES + EXPERIMENT_CASES


def check_message(err: str, expected: list[str]) -> None:
    """The rules every error message follows (see the module docstring)."""
    text = err.strip()
    assert text, "no error message"
    assert "Traceback" not in err
    assert text.startswith(("error: ", "usage: ")), text
    assert "\n\n" not in text and all(line.strip() for line in text.splitlines()), f"blank line in:\n{text}"
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{text}"
    assert max(len(line) for line in lines) <= MAX_WIDTH, f"a line is too long:\n{text[:2000]}"
    assert "https://errors.pydantic.dev" not in text
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"


def write_files(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        if isinstance(content, str):
            content = content.replace("{tmp}", str(tmp_path)).encode("utf-8")
        (tmp_path / name).write_bytes(content)


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


@pytest.mark.parametrize("case", ALL_CASES)
def test_bad_input_exits_2_with_one_paragraph_naming_the_field(case: Case, capsys, tmp_path, monkeypatch):
    write_files(tmp_path, case.files)
    before = listing(tmp_path)
    if not case.builds_model:
        def refuse(*args, **kwargs):
            raise AssertionError("the model was built although the input is invalid")

        monkeypatch.setattr(cli, "ReputationModel", refuse)
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    started = time.perf_counter()
    code = main(args)
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert code == 2, f"exit status {code}; stdout:\n{out[:1000]}\nstderr:\n{err[:1000]}"
    assert "Traceback" not in out
    assert not out.strip(), f"nothing may be printed on stdout for bad input, got:\n{out[:1000]}"
    check_message(err, case.expected)
    assert listing(tmp_path) == before, "bad input must not write, create or change any file"
    assert elapsed < 10, f"rejecting bad input took {elapsed:.1f} s"


def test_catalogue_size_and_ids():
    """The catalogue holds at least 45 cases, each with its own descriptive id."""
    ids = [p.id for p in ALL_CASES]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)
    kinds = {"scenario", "file", "out", "edge", "set", "seed", "steps", "experiment"}
    assert all(i.split("-")[0] in kinds for i in ids)


# --------------------------------------------------------------------------- nothing already computed is lost


def test_bad_set_with_out_keeps_the_previous_outputs(capsys, tmp_path):
    """A bad --set given with --out fails before running and leaves the outputs of an
    earlier run exactly as they were, with no temporary file beside them."""
    target = tmp_path / "run.csv"
    assert main(["run", "baseline", "--quiet", "--seed", "1", "--steps", "2", "--set", "population.n_citizens=50",
                 "--out", str(target)]) == 0
    capsys.readouterr()
    before = listing(tmp_path)
    assert sorted(before) == ["run.confusion.csv", "run.csv", "run.scenario.yaml"]
    code = main(["run", "baseline", "--quiet", "--seed", "1", "--set", "behaviour.stake_days=nan",
                 "--out", str(target)])
    check_message(capsys.readouterr().err, ["behaviour.stake_days", "finite number"])
    assert code == 2
    assert listing(tmp_path) == before


def test_invalid_experiment_leaves_a_finished_sweep_untouched(capsys, tmp_path):
    """Re-running a sweep whose experiment file has since become invalid fails (exit 2)
    without touching the runs already saved in the output directory."""
    good = {**EXPERIMENT, "parameters": {}, "replicates": 2, "steps": 2, "design": "grid"}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(good), encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    saved = listing(out)
    assert "runs.parquet" in saved
    path.write_text(yaml.safe_dump({**good, "replicates": 0}), encoding="utf-8")
    assert main(args) == 2
    check_message(capsys.readouterr().err, ["replicates", "greater than or equal to 1"])
    assert listing(out) == saved


# --------------------------------------------------------------------------- the real exit status


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param(["run", "baseline", "--set", "behaviour.stake_days=nan"], ["behaviour.stake_days", "finite number"],
                 id="subprocess-set-nan"),
    pytest.param(["sweep", "{tmp}/experiment.yaml", "--dry-run"], ["design", "'grid', 'lhs', 'sobol', 'morris'"],
                 id="subprocess-experiment-bad-design"),
])
def test_exit_status_2_in_a_real_process(tmp_path, args, expected):
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump({**EXPERIMENT, "design": {"kind": "latin"}}),
                                              encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "simulation", *(a.replace("{tmp}", str(tmp_path)) for a in args)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    check_message(result.stderr, expected)
