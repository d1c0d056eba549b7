"""The command line: what a person typing ``scoresim`` (or ``python -m simulation``)
can rely on. Runs are tiny (200 citizens, at most 12 steps) so the file runs in seconds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulation import cli, scenario_names
from simulation.catalog import load_scenario
from simulation.cli import main
from simulation.metrics import METRICS
from simulation.model import ReputationModel
from simulation.overrides import apply_overrides
from simulation.twin import no_rules_twin

SMALL = ["--set", "population.n_citizens=200", "--steps", "10"]

CUSTOM = """\
title: CLI test scenario
population:
  n_citizens: 200
rules:
  - kind: blacklist
  - kind: points
interventions:
  - step: 4
    path: regulators.courts.coverage
    value: 0.5
run:
  steps: 12
"""


def run_ok(capsys, *args: str) -> str:
    """``scoresim run ARGS`` must succeed; return its stdout."""
    code = main(["run", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def fails(capsys, args: list[str], code: int = 2) -> str:
    """``scoresim ARGS`` must fail with ``code`` and a message, never a traceback; return stderr."""
    assert main(args) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    return path


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a model is built: errors must be found before running."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model was built although the command line was invalid")

    monkeypatch.setattr(cli, "ReputationModel", refuse)


# --------------------------------------------------------------------------- list, metrics, schema


def test_list_shows_every_shipped_scenario(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == scenario_names()
    baseline = next(line for line in lines if line.split()[0] == "baseline")
    assert baseline.rstrip().endswith("none")  # the control's rule-set kind


def test_metrics_lists_every_metric_with_its_definition(capsys):
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    for name, definition in METRICS.items():
        assert re.search(rf"^{name}\s+{re.escape(definition)}$", out, re.M), name


def test_schema_prints_json_with_the_sections(capsys, tmp_path):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "population" in schema["properties"]
    target = tmp_path / "scenario.schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == schema


# --------------------------------------------------------------------------- run


def test_same_seed_same_csv_other_seed_other_csv(capsys, tmp_path):
    paths = [tmp_path / f"{name}.csv" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("1", "1", "2"), strict=True):
        out = run_ok(capsys, "baseline", *SMALL, "--seed", seed, "--out", str(path))
        assert f"--seed {seed}" in out
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b
    assert a != c
    df = pd.read_csv(paths[0], index_col="step")
    assert list(df.index) == list(range(11))  # step 0 and the 10 steps asked for
    assert (df["seed"] == 1).all() and (df["scenario"] == "baseline").all()
    assert set(METRICS) <= set(df.columns)


def test_drawn_seed_is_printed_and_repeats_the_run(capsys, tmp_path):
    out = run_ok(capsys, "baseline", *SMALL, "--out", str(tmp_path / "drawn.csv"))
    seed = re.search(r"--seed (\d+)", out).group(1)
    run_ok(capsys, "baseline", *SMALL, "--seed", seed, "--out", str(tmp_path / "again.csv"))
    assert (tmp_path / "drawn.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()


def test_summary_shows_the_key_metrics(capsys):
    out = run_ok(capsys, "baseline", *SMALL, "--seed", "1")
    for name in cli.SUMMARY_METRICS:
        assert re.search(rf"^{name}\s+\S+\s+\S+$", out, re.M), name
    assert "step 10" in out


def summary_rows(out: str) -> dict[str, list[str]]:
    """The printed summary table: metric -> its cells."""
    return {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.split() and line.split()[0] in cli.SUMMARY_METRICS}


def test_summary_sets_the_run_against_its_no_rules_twin(capsys, tmp_path):
    """Under a rule set the summary adds the twin's final value and the difference;
    the twin is Scenario.without_rules() with the same seed, values and steps, and its
    table is written beside the run's."""
    out = run_ok(capsys, "blacklist", *SMALL, "--seed", "2", "--out", str(tmp_path / "run.csv"))
    assert re.search(r"^metric\s+step 0\s+step 10\s+no rules\s+difference$", out, re.M)
    run = pd.read_csv(tmp_path / "run.csv", index_col="step")
    twin = pd.read_csv(tmp_path / "run.twin.csv", index_col="step")
    assert list(twin.columns) == list(run.columns)
    assert (twin["scenario"] == "blacklist without rules").all() and (twin["seed"] == 2).all()
    assert f"wrote     {tmp_path / 'run.twin.csv'}" in out

    rows = summary_rows(out)
    assert set(rows) == set(cli.SUMMARY_METRICS)
    for name, (_, end, no_rules, difference) in rows.items():
        assert float(end) == pytest.approx(run.at[10, name], abs=5e-5), name
        assert float(no_rules) == pytest.approx(twin.at[10, name], abs=5e-5), name
        assert float(difference) == pytest.approx(run.at[10, name] - twin.at[10, name], abs=5e-5), name
    assert (twin["share_listed"] == 0).all()  # nobody is listed without rules

    expected = ReputationModel(apply_overrides(load_scenario("blacklist"), {"population.n_citizens": 200,
                                                                            "run.steps": 10}).without_rules(),
                               rng=2)
    expected.run()
    pd.testing.assert_frame_equal(twin.drop(columns=["seed", "scenario"]), expected.metrics_frame(),
                                  check_dtype=False, check_names=False, check_index_type=False)


def test_vs_none_runs_the_scenario_alone_and_the_same(capsys, tmp_path):
    run_ok(capsys, "blacklist", *SMALL, "--seed", "2", "--out", str(tmp_path / "with.csv"))
    out = run_ok(capsys, "blacklist", *SMALL, "--seed", "2", "--vs", "none", "--out", str(tmp_path / "alone.csv"))
    assert "no rules" not in out and "difference" not in out and "twin" not in out
    assert all(len(cells) == 2 for cells in summary_rows(out).values())
    assert not (tmp_path / "alone.twin.csv").exists()
    assert (tmp_path / "alone.csv").read_bytes() == (tmp_path / "with.csv").read_bytes()  # the twin changes nothing


def test_a_scenario_without_rules_says_it_is_its_own_twin(capsys, tmp_path, monkeypatch):
    def refuse(model):
        raise AssertionError("a twin was built for a scenario without rules")

    monkeypatch.setattr(cli, "no_rules_twin", refuse)
    out = run_ok(capsys, "baseline", *SMALL, "--seed", "1", "--out", str(tmp_path / "base.csv"))
    assert [line for line in out.splitlines() if line.startswith("twin")] == [
        "twin      none: this scenario has no rules, so it is its own no-rules twin"]
    assert all(len(cells) == 2 for cells in summary_rows(out).values())
    assert not (tmp_path / "base.twin.csv").exists()


def test_no_rules_twin_is_none_without_rules_and_shares_seed_and_values():
    model = ReputationModel("blacklist", rng=5, **{"population.n_citizens": 150})
    twin = no_rules_twin(model)
    assert twin.seed == 5 and not twin.config.rules
    assert twin.config.population == model.config.population and twin.config.run == model.config.run
    assert no_rules_twin(ReputationModel("baseline", rng=5, **{"population.n_citizens": 150})) is None


def test_parquet_output_reads_back(capsys, tmp_path):
    run_ok(capsys, "baseline", *SMALL, "--seed", "4", "--out", str(tmp_path / "run.parquet"))
    run_ok(capsys, "baseline", *SMALL, "--seed", "4", "--out", str(tmp_path / "run.csv"))
    df = pd.read_parquet(tmp_path / "run.parquet")
    assert df.index.name == "step" and list(df.index) == list(range(11))
    assert (df["seed"] == 4).all() and (df["scenario"] == "baseline").all()
    from_csv = pd.read_csv(tmp_path / "run.csv", index_col="step")
    pd.testing.assert_frame_equal(df, from_csv, check_dtype=False)
    confusion = pd.read_parquet(tmp_path / "run.confusion.parquet")
    assert {"step", "group", "tp", "fp", "fn", "tn", "seed", "scenario"} <= set(confusion.columns)
    assert (tmp_path / "run.scenario.yaml").is_file()


def test_written_scenario_reruns_identically(capsys, tmp_path, custom):
    """The scenario YAML written next to the output, run with the printed seed, gives
    the same numbers, even though an intervention changed the scenario mid-run."""
    first = tmp_path / "first.csv"
    run_ok(capsys, str(custom), "--seed", "3", "--out", str(first))
    written = tmp_path / "first.scenario.yaml"
    text = written.read_text(encoding="utf-8")
    assert f"# python -m simulation run {written} --seed 3" in text.replace("#   ", "# ")
    data = yaml.safe_load(text)
    assert data["regulators"]["courts"]["coverage"] == 0.1  # as at the start, not after step 4
    assert data["interventions"][0]["value"] == 0.5

    again = tmp_path / "again.csv"
    run_ok(capsys, str(written), "--seed", "3", "--out", str(again))
    a, b = pd.read_csv(first, index_col="step"), pd.read_csv(again, index_col="step")
    assert a["scenario"].iloc[0] == str(custom) and b["scenario"].iloc[0] == str(written)
    pd.testing.assert_frame_equal(a.drop(columns="scenario"), b.drop(columns="scenario"))
    ca = pd.read_csv(tmp_path / "first.confusion.csv").drop(columns="scenario")
    cb = pd.read_csv(tmp_path / "again.confusion.csv").drop(columns="scenario")
    pd.testing.assert_frame_equal(ca, cb)


def test_set_changes_the_scenario_and_the_run(capsys, tmp_path):
    run_ok(capsys, "baseline", "--steps", "2", "--seed", "1", "--set", "population.n_citizens=100",
           "--set", "behaviour.stake_days=3.5", "--out", str(tmp_path / "small.csv"))
    data = yaml.safe_load((tmp_path / "small.scenario.yaml").read_text(encoding="utf-8"))
    assert data["population"]["n_citizens"] == 100
    assert data["behaviour"]["stake_days"] == 3.5
    assert data["run"]["steps"] == 2
    confusion = pd.read_csv(tmp_path / "small.confusion.csv")
    everyone = confusion[confusion["group"] == "all"][["tp", "fp", "fn", "tn"]].sum(axis=1)
    assert (everyone == 100).all()


def test_bad_set_path_suggests_the_field(capsys, no_model):
    err = fails(capsys, ["run", "baseline", "--set", "population.n_citizen=5"])
    assert err.startswith("error: ")
    assert "Did you mean 'n_citizens'" in err


def test_bad_set_value_names_field_and_bound(capsys, no_model):
    err = fails(capsys, ["run", "baseline", "--set", "population.n_citizens=3"])
    assert "population.n_citizens" in err
    assert "10" in err and "got 3" in err


def test_set_without_equals_names_the_form(capsys, no_model):
    err = fails(capsys, ["run", "baseline", "--set", "foo"])
    assert "path=value" in err


def test_unknown_scenario_suggests_close_name(capsys, no_model):
    err = fails(capsys, ["run", "baselin"])
    assert "Did you mean 'baseline'" in err


@pytest.mark.parametrize("args", [["--seed", "-1"], ["--seed", "x"], ["--steps", "0"]])
def test_bad_seed_or_steps_exit_2(capsys, no_model, args):
    fails(capsys, ["run", "baseline", *args])


def test_no_command_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


# --------------------------------------------------------------------------- output files


def test_missing_output_directory_fails_before_running(capsys, tmp_path, no_model):
    err = fails(capsys, ["run", "baseline", "--out", str(tmp_path / "nowhere" / "run.csv")])
    assert "does not exist" in err


def test_output_parent_that_is_a_file_fails_before_running(capsys, tmp_path, no_model):
    (tmp_path / "file").write_text("", encoding="utf-8")
    err = fails(capsys, ["run", "baseline", "--out", str(tmp_path / "file" / "run.csv")])
    assert "not a directory" in err


def test_unwritable_output_directory_fails_before_running(capsys, tmp_path, no_model, monkeypatch):
    """An output folder that refuses a new file fails before the model is built (faked,
    since tests may run as root, who may write anywhere)."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)
    err = fails(capsys, ["run", "baseline", "--out", str(tmp_path / "run.csv")])
    assert "not writable" in err and "Permission denied" in err


def test_unknown_output_extension_fails_before_running(capsys, tmp_path, no_model):
    err = fails(capsys, ["run", "baseline", "--out", str(tmp_path / "run.xlsx")])
    assert ".csv" in err and ".parquet" in err


def test_interrupted_run_writes_nothing(capsys, tmp_path, monkeypatch):
    original = cli.ReputationModel.step

    def step(model):
        if model.steps >= 3:
            raise KeyboardInterrupt
        original(model)

    monkeypatch.setattr(cli.ReputationModel, "step", step)
    assert main(["run", "baseline", *SMALL, "--seed", "1", "--out", str(tmp_path / "run.csv")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_old_files_and_leaves_no_temporaries(capsys, tmp_path, monkeypatch):
    target = tmp_path / "run.csv"
    target.write_text("old\n", encoding="utf-8")
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 3:  # the third file (the scenario YAML) cannot be written
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "fsync", fsync)
    assert main(["run", "baseline", *SMALL, "--seed", "1", "--out", str(target)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv"]
    assert target.read_text(encoding="utf-8") == "old\n"


# --------------------------------------------------------------------------- validate


def test_validate_good_file(capsys, custom):
    assert main(["validate", str(custom)]) == 0
    assert capsys.readouterr().out.strip() == f"OK {custom}: CLI test scenario"


def test_validate_unknown_key_names_it(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\npopulation:\n  n_citizen: 500\n", encoding="utf-8")
    err = fails(capsys, ["validate", str(bad)])
    assert "population.n_citizen" in err and "Did you mean 'n_citizens'" in err


def test_validate_reports_every_file(capsys, tmp_path, custom):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\nunknown_section: 1\n", encoding="utf-8")
    assert main(["validate", str(bad), str(custom)]) == 2
    out, err = capsys.readouterr()
    assert f"OK {custom}: CLI test scenario" in out
    assert "unknown_section" in err and "Traceback" not in err


def test_validate_non_utf8_file(capsys, tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("title: Caf\u00e9\n".encode("latin-1"))
    err = fails(capsys, ["validate", str(bad)])
    assert "UTF-8" in err


def test_validate_refuses_python_tags_without_running_them(capsys, tmp_path):
    marker = tmp_path / "marker"
    bad = tmp_path / "evil.yaml"
    bad.write_text(f"title: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    err = fails(capsys, ["validate", str(bad)])
    assert "python/object" in err
    assert not marker.exists()


def test_validate_deeply_nested_file(capsys, tmp_path):
    bad = tmp_path / "deep.yaml"
    bad.write_text("[" * 5_000 + "]" * 5_000, encoding="utf-8")
    fails(capsys, ["validate", str(bad)])


# --------------------------------------------------------------------------- python -m simulation


def test_module_help_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "simulation", "--help"], capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m simulation")
    for command in ("list", "run", "validate", "schema", "metrics", "examples:"):
        assert command in result.stdout
