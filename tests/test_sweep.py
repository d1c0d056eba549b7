"""The batch runner: experiment files, designs and seeds, sweeps that survive being
killed, and the summaries researchers read (issue 4).

Runs are tiny (a few hundred citizens, tens of steps). Every test that starts worker
processes or a Dask cluster waits for them to end, so none is left behind.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from scipy import stats

from simulation import cli
from simulation.cli import main
from simulation.design import from_unit, grid_values, plan
from simulation.experiment import Experiment, ExperimentError, Parameter, load_experiment
from simulation.sweep import SweepDir, git_revision, load_runs, load_timeseries, run_one, sweep

ROOT = Path(__file__).resolve().parents[1]
FPR = "regulators.courts.false_positive_rate"
INERT = "approval.weight_order"
"""Read by nothing in the dynamics (approval does not change behaviour): a parameter
known not to drive wrongful listings."""
VOLATILE = ["duration_s", "cpu_s"]
"""Columns that legitimately differ between two sweeps of one experiment."""


def experiment(**changes) -> dict:
    """A small blacklist sweep: 3 false-positive rates x 2 publication settings x 2
    replicates = 12 runs of 200 citizens for 12 steps."""
    data = {
        "title": "test sweep",
        "scenario": "blacklist",
        "overrides": {"population.n_citizens": 200},
        "parameters": {FPR: {"range": [0.0, 0.2]},
                       "regulators.courts.publishes_lists": {"values": [True, False]}},
        "design": {"kind": "grid", "levels": 3},
        "replicates": 2,
        "steps": 12,
        "seed": 2024,
        "metrics": {"keep": ["wrongful_listings_active", "share_listed", "trust_generalized"], "every": 4},
    }
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict, name: str = "experiment.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def stable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=VOLATILE).reset_index(drop=True)


def wait_gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    """The pids still alive (not zombies) after waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = pids
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def cli_sweep(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", "sweep", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# --------------------------------------------------------------------------- experiment files


BAD_FILES = [
    pytest.param({"parameters": {"regulators.courts.false_positve_rate": {"range": [0, 0.1]}}},
                 ["parameters[regulators.courts.false_positve_rate]", "unknown parameter path",
                  "Did you mean 'false_positive_rate'"], id="unknown-path"),
    pytest.param({"parameters": {"rules.points.base": {"range": [900, 1000]}}},
                 ["parameters[rules.points.base]", "no rule set of kind 'points'"], id="rule-set-not-in-scenario"),
    pytest.param({"parameters": {FPR: {"range": [0.1, 0.1]}}},
                 [f"parameters[{FPR}]", "empty range"], id="empty-range"),
    pytest.param({"parameters": {FPR: {"range": [0.2, 0.1]}}},
                 [f"parameters[{FPR}]", "empty range"], id="reversed-range"),
    pytest.param({"parameters": {FPR: {"values": []}}},
                 [f"parameters[{FPR}].values", "at least 1 item"], id="empty-values"),
    pytest.param({"replicates": -3}, ["replicates", "greater than or equal to 1", "-3"], id="negative-replicates"),
    pytest.param({"replicats": 3}, ["replicats", "unknown field", "Did you mean 'replicates'"], id="typo"),
    pytest.param({"parameters": {FPR: {"range": [0.0, 2.0]}}},
                 [f"parameters[{FPR}]", "2.0", "less than or equal to 1"], id="out-of-bounds"),
    pytest.param({"parameters": {"rules.blacklist.grace_days": {"range": [10, 60]}}},
                 ["parameters[rules.blacklist.grace_days]", "integer: true"], id="whole-numbers"),
    pytest.param({"design": {"kind": "sobol", "samples": 100}},
                 ["design.samples", "power of 2", "64 or 128"], id="sobol-not-power-of-two"),
    pytest.param({"design": {"kind": "morris", "samples": 10, "levels": 5}},
                 ["design.levels", "even"], id="morris-odd-levels"),
    pytest.param({"design": "anneal"}, ["design", "'anneal'", "grid"], id="unknown-design"),
    pytest.param({"metrics": {"keep": ["wrongful_listing_active"]}},
                 ["metrics.keep", "Did you mean 'wrongful_listings_active'"], id="unknown-metric"),
    pytest.param({"metrics": {"every": -1}}, ["metrics.every", "greater than or equal to 0"], id="negative-every"),
    pytest.param({"steps": 0}, ["steps", "greater than or equal to 1"], id="zero-steps"),
    pytest.param({"seed": -1}, ["seed"], id="negative-seed"),
    pytest.param({"parameters": {"run.steps": {"values": [5, 10]}}},
                 ["parameters", "run.steps", "'steps'"], id="varying-run-length"),
    pytest.param({"scenario": "blacklst"}, ["scenario", "Did you mean 'blacklist'"], id="unknown-scenario"),
    pytest.param({"overrides": {"population.n_citizen": 100}},
                 ["overrides", "Did you mean 'n_citizens'"], id="bad-override"),
    pytest.param({"parameters": {FPR: {"values": [0.1, "high"]}}},
                 [f"parameters[{FPR}]", "must all be numbers"], id="mixed-values"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_FILES)
def test_bad_experiment_exits_2_naming_the_field(capsys, tmp_path, change, expected):
    path = write(tmp_path, experiment(**change))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{text!r} not in:\n{err}"
    assert not out.exists(), "nothing may be written for an invalid experiment"


def test_missing_seed_and_non_mapping_files_exit_2(capsys, tmp_path):
    data = experiment()
    del data["seed"]
    assert main(["sweep", str(write(tmp_path, data)), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    assert "seed: Field required" in capsys.readouterr().err
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    assert "expected a mapping" in capsys.readouterr().err


def test_scenario_path_is_relative_to_the_experiment_file(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "mine.yaml").write_text("title: mine\nrules: [{kind: blacklist}]\n", encoding="utf-8")
    resolved = load_experiment(write(folder, experiment(scenario="mine.yaml")))
    assert resolved.scenario.title == "mine"
    assert resolved.scenario.population.n_citizens == 200
    assert resolved.scenario.run.steps == 12
    assert resolved.scenario.run.record_events is False  # sweeps never read per-citizen events


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_are_valid(capsys, path):
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "runs; seeds" in out


# --------------------------------------------------------------------------- designs and seeds


def test_grid_values_ranges_levels_integers_and_logs():
    assert grid_values(Parameter(range=(0.0, 1.0)), 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert grid_values(Parameter(range=(1.0, 100.0), scale="log"), 3) == pytest.approx([1.0, 10.0, 100.0])
    assert grid_values(Parameter(range=(0, 3), integer=True), 10) == [0, 1, 2, 3]
    assert grid_values(Parameter(values=[True, False]), 5) == [True, False]
    assert grid_values(Parameter(range=(0.0, 1.0), levels=2), 5) == [0.0, 1.0]


def test_unit_mapping_gives_every_value_an_equal_share():
    u = (np.arange(10_000) + 0.5) / 10_000
    ints = [from_unit(Parameter(range=(2, 5), integer=True), x) for x in u]
    assert {v: ints.count(v) for v in set(ints)} == {2: 2500, 3: 2500, 4: 2500, 5: 2500}
    cats = [from_unit(Parameter(values=["a", "b", "c", "d"]), x) for x in u]
    assert {v: cats.count(v) for v in set(cats)} == {"a": 2500, "b": 2500, "c": 2500, "d": 2500}
    assert from_unit(Parameter(range=(0.5, 2.0)), 0.0) == 0.5
    assert from_unit(Parameter(range=(0.5, 2.0)), 1.0) == 2.0
    assert from_unit(Parameter(range=(1.0, 100.0), scale="log"), 0.5) == pytest.approx(10.0)


@pytest.mark.parametrize("design", [
    {"kind": "grid", "levels": 4}, {"kind": "lhs", "samples": 7}, {"kind": "sobol", "samples": 8},
    {"kind": "sobol", "samples": 8, "second_order": True}, {"kind": "morris", "samples": 3},
], ids=lambda d: "-".join(str(v) for v in d.values()))
def test_design_sizes_values_and_repeatability(design):
    params = {FPR: {"range": [0.0, 0.1]}, "rules.blacklist.grace_days": {"range": [0, 60], "integer": True},
              "regulators.courts.publishes_lists": {"values": [True, False]}}
    e = Experiment.model_validate(experiment(parameters=params, design=design, replicates=3))
    d, seeds = plan(e)
    assert len(d.points) == e.n_points and seeds.shape == (e.n_points, 3)
    for point in d.points:
        assert 0.0 <= point[FPR] <= 0.1
        assert isinstance(point["rules.blacklist.grace_days"], int) and 0 <= point["rules.blacklist.grace_days"] <= 60
        assert point["regulators.courts.publishes_lists"] in (True, False)
    d2, seeds2 = plan(e)
    assert d2.points == d.points and (seeds2 == seeds).all()
    d3, _ = plan(e.model_copy(update={"seed": 2025}))
    if design["kind"] != "grid":
        assert d3.points != d.points  # the root seed also seeds the sampler


def test_seeds_are_spawned_from_the_root_seed():
    e = Experiment.model_validate(experiment(replicates=3))
    _, seeds = plan(e)
    runs = np.random.SeedSequence(2024).spawn(2)[1]
    expected = [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in runs.spawn(3)]
    assert (seeds == np.array(expected)).all()  # common random numbers: the same row at every point
    assert len(set(expected)) == 3 and all(0 <= s < 2**63 for s in expected)

    independent = e.model_copy(update={"seeds": "independent"})
    _, seeds = plan(independent)
    point2 = np.random.SeedSequence(2024).spawn(2)[1].spawn(6)[2].spawn(3)[1]
    assert seeds[2, 1] == int(point2.generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert len(set(seeds.ravel().tolist())) == seeds.size


# --------------------------------------------------------------------------- sweeping


def test_same_numbers_with_one_worker_two_workers_and_a_dask_cluster(tmp_path):
    """Seeds are drawn in the parent before any run is handed out, so who runs a run and
    when does not matter: every table and every time series is identical."""
    from distributed import LocalCluster

    data = experiment()
    one = sweep(data, tmp_path / "one", workers=1, progress=False)
    two = sweep(data, tmp_path / "two", workers=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = sweep(data, tmp_path / "dask", dask=cluster.scheduler_address, progress=False)
        workers = [w.process.process.pid for w in cluster.workers.values() if w.process is not None]
    assert wait_gone(workers) == []
    assert len(one) == 12 and (one["status"] == "ok").all()
    assert one["wrongful_listings_active"].max() > 0  # the false-positive rate matters here
    pd.testing.assert_frame_equal(stable(one), stable(two))
    pd.testing.assert_frame_equal(stable(one), stable(on_dask))
    pd.testing.assert_frame_equal(stable(one), stable(sweep(data, None, workers=1, progress=False)))
    for name in ("two", "dask"):
        pd.testing.assert_frame_equal(load_timeseries(tmp_path / "one"), load_timeseries(tmp_path / name))
    assert json.loads((tmp_path / "two" / "manifest.json").read_text())["runs"] == \
        json.loads((tmp_path / "dask" / "manifest.json").read_text())["runs"]


def test_output_directory_contents(tmp_path):
    out = tmp_path / "out"
    table = sweep(experiment(), out, workers=1, progress=False)
    on_disk = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(on_disk, table)
    assert list(on_disk.columns[:7]) == ["run_id", "point", "replicate", "seed", FPR,
                                         "regulators.courts.publishes_lists", "status"]
    assert {"error", "wrongful_listings_active", "share_listed", "trust_generalized"} <= set(on_disk.columns)
    assert list(on_disk["run_id"]) == list(range(12))

    series = pd.read_parquet(out / "timeseries" / "run-000005.parquet")
    assert list(series.columns) == ["run_id", "point", "replicate", "step", "wrongful_listings_active",
                                    "share_listed", "trust_generalized"]
    assert list(series["step"]) == [0, 4, 8, 12]
    final = series.iloc[-1]
    assert final["trust_generalized"] == on_disk.loc[5, "trust_generalized"]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["software"]["numpy"] == np.__version__ and "mesa" in manifest["software"]
    revision = git_revision()
    assert manifest["git_revision"] == revision
    assert revision is None or len(revision) == 40
    assert manifest["experiment_hash"].startswith("sha256:") and manifest["scenario_hash"].startswith("sha256:")
    assert [r["seed"] for r in manifest["runs"]] == list(on_disk["seed"])
    assert manifest["design"]["points"][3] == {FPR: 0.1, "regulators.courts.publishes_lists": False}
    assert manifest["sessions"][0]["ok"] == 12
    # the written experiment is self-contained: it resumes this very sweep
    assert main(["sweep", str(out / "experiment.yaml"), "--out", str(out), "--resume", "--quiet"]) == 0


def test_failing_run_is_recorded_and_the_others_complete(capsys, tmp_path):
    """Combinations can be invalid though each value is allowed alone: those runs fail
    with their error, the sweep goes on, and the exit status says so."""
    data = experiment(scenario="sesame", parameters={
        "rules.commercial.reward_threshold": {"values": [650, 900]},
        "rules.commercial.max_score": {"values": [800, 950]}}, replicates=1,
        metrics={"keep": ["opted_in_commercial"], "every": 0})
    path = write(tmp_path, data)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "done: 3 ok, 1 failed" in captured.out
    assert "reward_threshold" in captured.err
    runs = pd.read_parquet(out / "runs.parquet")
    bad = runs[runs["status"] == "failed"]
    assert list(bad["point"]) == [2]  # threshold 900 above max_score 800
    assert "ScenarioError" in bad["error"].iloc[0] and "reward_threshold" in bad["error"].iloc[0]
    assert "Traceback" in bad["traceback"].iloc[0]
    assert math.isnan(bad["opted_in_commercial"].iloc[0])
    assert runs.loc[runs["status"] == "ok", "opted_in_commercial"].notna().all()
    # a failed run counts as done; --retry-failed runs it again
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    assert "0 of 4 runs to do" in capsys.readouterr().out
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", "--retry-failed"]) == 1
    assert "1 of 4 runs to do" in capsys.readouterr().out


def crash_on_point_one(task: dict) -> dict:
    """A runner whose worker process dies (as if killed by the out-of-memory killer) on
    the runs of design point 1."""
    if task["point"] == 1:
        os._exit(9)
    return run_one(task)


def test_run_that_kills_its_worker_is_recorded_and_the_pool_recovers(tmp_path):
    data = experiment(parameters={FPR: {"values": [0.0, 0.1, 0.2]}}, replicates=2)
    table = sweep(data, tmp_path / "out", workers=2, progress=False, runner=crash_on_point_one)
    assert len(table) == 6
    dead = table[table["point"] == 1]
    assert (dead["status"] == "failed").all()
    assert dead["error"].str.contains("worker process").all()
    ok = table[table["point"] != 1]
    assert (ok["status"] == "ok").all()
    reference = sweep(data, None, workers=1, progress=False)
    pd.testing.assert_frame_equal(stable(ok), stable(reference[reference["point"] != 1]))


def test_rerunning_runs_only_what_is_missing(capsys, tmp_path):
    path = write(tmp_path, experiment())
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 0
    first = pd.read_parquet(out / "runs.parquet")
    for rid in (2, 7, 11):
        (out / "records" / f"run-{rid:06d}.json").unlink()
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    text = capsys.readouterr().out
    assert "9 of 12 runs already finished" in text and "3 of 12 runs to do" in text
    again = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(stable(first), stable(again))
    assert main(args) == 0  # the same command with nothing missing runs nothing
    assert "0 of 12 runs to do" in capsys.readouterr().out


def test_incomplete_files_are_never_taken_as_finished_runs(capsys, tmp_path):
    out = tmp_path / "out"
    reference = sweep(experiment(), out, workers=1, progress=False)
    records, series = out / "records", out / "timeseries"
    text = (records / "run-000003.json").read_text()
    (records / "run-000003.json").write_text(text[: len(text) // 2])  # a cut-off record
    data = (series / "run-000004.parquet").read_bytes()
    (series / "run-000004.parquet").write_bytes(data[: len(data) // 2])  # a cut-off time series
    (series / "run-000006.parquet").unlink()  # a record whose time series is gone
    (records / ".run-000008.json.123.tmp").write_text("{")  # a write interrupted by a kill
    capsys.readouterr()
    table = sweep(experiment(), out, workers=1, progress=False, echo=print)
    text = capsys.readouterr().out
    assert "3 unusable record file(s) ignored" in text and "3 of 12 runs to do" in text
    pd.testing.assert_frame_equal(stable(reference), stable(table))
    assert not list(records.glob(".*.tmp"))
    assert len(load_timeseries(out)) == 12 * 4


def _ctrl_c_as_at_a_terminal() -> None:
    """Let the child take Ctrl-C even when the tests run in the background, where the
    shell starts them with SIGINT ignored (and an ignored signal stays ignored in children)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_finished_runs_and_stops_the_workers(tmp_path):
    # runs long enough (about a second each) that the sweep cannot finish before the signal
    data = experiment(parameters={FPR: {"values": [0.0, 0.1, 0.2]}}, replicates=10, steps=400,
                      overrides={"population.n_citizens": 1000})
    path = write(tmp_path, data)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "simulation", "sweep", str(path), "--out", str(out),
                             "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "records").exists() and len(list((out / "records").glob("run-*.json"))) >= 3:
                break
            time.sleep(0.02)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Resume with" in err and "Traceback" not in err
    assert wait_gone(children) == []
    runs = pd.read_parquet(out / "runs.parquet")  # written on the way out
    assert 3 <= len(runs) < 30 and (runs["status"] == "ok").all()


def test_directory_with_another_sweep_or_other_files_is_refused(capsys, tmp_path):
    out = tmp_path / "out"
    sweep(experiment(), out, workers=1, progress=False)
    changed = write(tmp_path, experiment(replicates=3))
    assert main(["sweep", str(changed), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "holds a different sweep" in err and "replicates" in err
    other = write(tmp_path, experiment(overrides={"population.n_citizens": 300}), "other.yaml")
    assert main(["sweep", str(other), "--out", str(out), "--workers", "1"]) == 2
    assert "base scenario differs (population.n_citizens)" in capsys.readouterr().err

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["sweep", str(changed), "--out", str(busy), "--workers", "1"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["sweep", str(changed), "--out", str(tmp_path / "new"), "--resume"]) == 2
    assert "no sweep to resume" in capsys.readouterr().err


def test_a_directory_in_use_by_another_sweep_is_refused(tmp_path):
    out = tmp_path / "out"
    sweep(experiment(), out, workers=1, progress=False)
    with open(out / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ExperimentError, match="in use by another running sweep"):
            sweep(experiment(), out, workers=1, progress=False)


def test_progress_bar_on_stderr(tmp_path):
    result = cli_sweep(str(write(tmp_path, experiment(replicates=1))), "--out", str(tmp_path / "o"), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "test sweep" in result.stderr and "6/6" in result.stderr and "run/s" in result.stderr
    assert "done: 6 ok, 0 failed" in result.stdout


def test_help_explains_every_option(capsys):
    for command, options in {
        "sweep": ["--out", "--workers", "--dask", "--resume", "--retry-failed", "--dry-run", "--quiet",
                  "EXPERIMENT", "exit status", "runs.parquet", "timeseries/", "manifest.json"],
        "summarize": ["DIR", "--metric", "--level", "--csv", "--quiet"],
        "sensitivity": ["DIR", "--metric", "--resamples", "--level", "--csv", "--quiet"],
    }.items():
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        for option in options:
            assert option in text, f"{command} --help does not mention {option}"
    assert main(["sweep", "x.yaml", "--out", "o", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["sweep", "x.yaml", "--out", "o", "--workers", "2", "--dask", "tcp://x:1"]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_existing_commands_are_unchanged():
    assert set(cli.COMMANDS) == {"list", "run", "validate", "schema", "metrics", "sweep", "summarize", "sensitivity"}


# --------------------------------------------------------------------------- summarize, sensitivity


def test_summarize_matches_a_hand_computation(capsys, tmp_path):
    data = experiment(parameters={FPR: {"values": [0.05, 0.2]}}, replicates=5, seeds="independent")
    out = tmp_path / "out"
    sweep(data, out, workers=1, progress=False)
    assert main(["summarize", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrongful_listings_active" in printed and "95% CI" in printed and f"wrote {out / 'summary.csv'}" in printed
    summary = pd.read_csv(out / "summary.csv")
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(summary) == 2 * 3
    for metric in ("wrongful_listings_active", "trust_generalized"):
        for point, fpr in enumerate((0.05, 0.2)):
            values = runs.loc[runs["point"] == point, metric].tolist()
            assert len(values) == 5
            mean, sd = statistics.mean(values), statistics.stdev(values)
            half = stats.t.ppf(0.975, 4) * sd / math.sqrt(5)
            row = summary[(summary["metric"] == metric) & (summary["point"] == point)].iloc[0]
            assert row[FPR] == fpr and row["n"] == 5 and row["n_failed"] == 0
            assert row["mean"] == pytest.approx(mean, rel=1e-12)
            assert row["std"] == pytest.approx(sd, rel=1e-12)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((mean - half, mean + half), rel=1e-12)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(
                stats.t.interval(0.95, 4, loc=mean, scale=stats.sem(values)), rel=1e-12)
    assert main(["summarize", str(out), "--metric", "share_listed", "--level", "0.9", "--csv",
                 str(tmp_path / "s.csv"), "--quiet"]) == 0
    narrow = pd.read_csv(tmp_path / "s.csv")
    assert set(narrow["metric"]) == {"share_listed"}
    assert main(["summarize", str(out), "--metric", "fraud_rate"]) == 2
    assert "not kept by this sweep" in capsys.readouterr().err


def sobol_experiment(**changes) -> dict:
    return experiment(**{
        "overrides": {"population.n_citizens": 300},
        "parameters": {FPR: {"range": [0.0, 0.2]}, INERT: {"range": [0.0, 2.0]}},
        "design": {"kind": "sobol", "samples": 16}, "replicates": 1, "steps": 30,
        "metrics": {"keep": ["wrongful_listings_active", "approval_mean"], "every": 0}, **changes})


def test_sobol_ranks_false_positive_rate_above_an_inert_parameter(capsys, tmp_path):
    out = tmp_path / "sobol"
    sweep(sobol_experiment(), out, workers=1, progress=False)
    assert main(["sensitivity", str(out), "--resamples", "200"]) == 0
    printed = capsys.readouterr().out
    assert "S1 (first order)" in printed and "ST (total)" in printed
    table = pd.read_csv(out / "sensitivity.csv")
    wrongful = table[table["metric"] == "wrongful_listings_active"].set_index("parameter")
    assert wrongful.loc[FPR, "rank"] == 1 and wrongful.loc[INERT, "rank"] == 2
    assert wrongful.loc[FPR, "ST"] - wrongful.loc[FPR, "ST_conf"] > wrongful.loc[INERT, "ST"] + \
        wrongful.loc[INERT, "ST_conf"]
    assert wrongful.loc[FPR, "S1"] > 0.5
    # from the rest state, trust hardly moves in 30 steps, so the order term's weight
    # hardly moves approval while wrongful records lower it: the method sees that too
    approval = table[table["metric"] == "approval_mean"].set_index("parameter")
    assert approval.loc[FPR, "rank"] == 1


def test_morris_ranks_false_positive_rate_above_an_inert_parameter(tmp_path):
    from simulation.analysis import sensitivity

    out = tmp_path / "morris"
    sweep(sobol_experiment(design={"kind": "morris", "samples": 8}), out, workers=1, progress=False)
    table = sensitivity(out, ["wrongful_listings_active"], resamples=200)["indices"].set_index("parameter")
    assert table.loc[FPR, "mu_star"] - table.loc[FPR, "mu_star_conf"] > table.loc[INERT, "mu_star"]
    assert list(table["rank"]) == [1, 2]


def test_sensitivity_needs_a_sobol_or_morris_design_and_every_point(capsys, tmp_path):
    out = tmp_path / "grid"
    sweep(experiment(replicates=1), out, workers=1, progress=False)
    assert main(["sensitivity", str(out)]) == 2
    assert "needs a sweep with a sobol or morris design" in capsys.readouterr().err
    out = tmp_path / "sobol"
    sweep(sobol_experiment(design={"kind": "sobol", "samples": 2}), out, workers=1, progress=False)
    (out / "records" / "run-000003.json").unlink()
    assert main(["sensitivity", str(out)]) == 2
    assert "design points 3 have no successful run" in capsys.readouterr().err
    assert main(["summarize", str(tmp_path / "nothing")]) == 2
    assert "no sweep here" in capsys.readouterr().err


def test_load_runs_rebuilds_a_stale_runs_table(tmp_path):
    out = tmp_path / "out"
    full = sweep(experiment(), out, workers=1, progress=False)
    stale = full.iloc[:5]
    SweepDir(out).write_runs(stale)
    os.utime(out / "runs.parquet", ns=(0, 0))  # older than the records, as after a kill
    pd.testing.assert_frame_equal(load_runs(out), full)


def test_batch_documentation_covers_every_field_and_option():
    from simulation.experiment import GridDesign, LhsDesign, MetricsSpec, MorrisDesign, SobolDesign

    text = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    for model in (Experiment, Parameter, GridDesign, LhsDesign, SobolDesign, MorrisDesign, MetricsSpec):
        for name in model.model_fields:
            assert f"`{name}`" in text, f"docs/batch.md does not document {model.__name__}.{name}"
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for command in ("sweep", "summarize", "sensitivity"):
        for action in commands[command]._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in text, f"docs/batch.md does not document {command} {option}"
    assert "dask scheduler" in text and "dask worker" in text
    assert Experiment.model_json_schema()["required"] == ["scenario", "seed"]


def test_sweep_needs_an_output_directory(capsys, tmp_path):
    assert main(["sweep", str(write(tmp_path, experiment())), "--workers", "1"]) == 2
    assert "needs --out DIR" in capsys.readouterr().err


def test_integer_log_grid_counts_only_distinct_values():
    p = Parameter(range=(1, 10), scale="log", integer=True)
    assert grid_values(p, 10) == [1, 2, 3, 4, 5, 6, 8, 10]
    e = Experiment.model_validate(experiment(parameters={"rules.blacklist.grace_days": p.model_dump()},
                                             design={"kind": "grid", "levels": 10}))
    assert e.n_points == len(plan(e)[0].points) == 8
