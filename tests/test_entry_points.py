"""Reproducibility across entry points (issue 7): one scenario and one seed give
bit-identical metrics whichever way the run is started.

The reference is the Python API, ``ReputationModel(scenario, rng=seed).run()``. Every
other entry point must give the same per-step metrics table, compared as raw bytes of
the float64 arrays (stricter than ``==``: it tells 0.0 from -0.0 and compares NaN with
NaN): the CLI's ``run --out`` as CSV and as Parquet, ``mesa.batch_run``, the sweep
runner (through its CLI with one worker, a process pool of two workers and a Dask
``LocalCluster``; each run's time series against the API run with the seed the
manifest recorded) and the dashboard's CSV export, including its "re-run it with the
CLI" scenario file.

CSV is text: the CLI and the dashboard write floats with ``repr`` precision (the
shortest text that reads back as the same double), and the test parses that text with
Python's correctly rounded ``float``, so an exact match proves the file round-trips.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from test_sweep import ROOT, wait_gone, write

from simulation.catalog import load_scenario
from simulation.dashboard.session import RunSession
from simulation.metrics import CONFUSION_COLUMNS, METRICS
from simulation.model import ReputationModel
from simulation.overrides import apply_overrides
from simulation.sweep import load_timeseries, sweep

SCENARIOS = ["patchwork", "blacklist"]
"""Every rule set at once, and the published blacklist alone."""
SEED = 20_261_122
N_CITIZENS = 300
STEPS = 30
FPR = "regulators.courts.false_positive_rate"
COLUMNS = [*METRICS, *CONFUSION_COLUMNS]


def api_run(scenario: str, seed: int = SEED, **overrides) -> pd.DataFrame:
    """The reference: the Python API with the scenario's defaults plus ``overrides``."""
    changes = {"population.n_citizens": N_CITIZENS, "run.steps": STEPS, **overrides}
    model = ReputationModel(apply_overrides(load_scenario(scenario), changes), rng=seed)
    return model.run()


def assert_bitwise(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    """Same columns, same steps and the same bytes in every cell."""
    assert list(actual.columns) == list(expected.columns)
    assert list(actual.index) == list(expected.index)
    a = np.ascontiguousarray(expected.to_numpy(dtype=np.float64))
    b = np.ascontiguousarray(actual.to_numpy(dtype=np.float64))
    if a.tobytes() != b.tobytes():
        differ = np.argwhere(a.view(np.uint64) != b.view(np.uint64))
        step, col = differ[0]
        raise AssertionError(f"{len(differ)} cells differ, first at step {expected.index[step]}, "
                             f"{expected.columns[col]}: {a[step, col]!r} != {b[step, col]!r}")
    pd.testing.assert_frame_equal(expected, actual, check_exact=True, check_dtype=False, check_names=False)


def read_csv_exactly(text: str) -> pd.DataFrame:
    """A metrics CSV (index 'step', then 'seed' and 'scenario') parsed cell by cell with
    Python's ``float``, which rounds correctly: no parser can blur a difference."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["step", "seed", "scenario"]
    assert len({r[1] for r in body}) == 1
    data = {name: [float(r[j]) for r in body] for j, name in enumerate(header) if j >= 3}
    return pd.DataFrame(data, index=pd.Index([int(r[0]) for r in body], name="step"))


@pytest.fixture(scope="module", params=SCENARIOS)
def reference(request) -> tuple[str, pd.DataFrame]:
    frame = api_run(request.param)
    assert list(frame.columns) == COLUMNS and list(frame.index) == list(range(STEPS + 1))
    assert (frame.dtypes == np.float64).all()
    return request.param, frame


def cli_run(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "simulation", "run", *args, "--quiet"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result


def test_api_is_bitwise_repeatable_and_the_seed_matters(reference):
    scenario, frame = reference
    assert_bitwise(frame, api_run(scenario))
    other = api_run(scenario, seed=SEED + 1)
    assert not np.array_equal(frame.to_numpy(), other.to_numpy(), equal_nan=True)


def test_cli_csv_and_parquet_equal_the_api(reference, tmp_path):
    scenario, frame = reference
    common = [scenario, "--seed", str(SEED), "--steps", str(STEPS), "--set", f"population.n_citizens={N_CITIZENS}"]
    cli_run(*common, "--out", str(tmp_path / "m.csv"))
    cli_run(*common, "--out", str(tmp_path / "m.parquet"))
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    assert_bitwise(frame, read_csv_exactly(text))
    # pandas' own reader gives the same doubles (the text carries every digit needed)
    assert_bitwise(frame, pd.read_csv(io.StringIO(text), index_col="step").drop(columns=["seed", "scenario"]))
    parquet = pd.read_parquet(tmp_path / "m.parquet")
    assert (parquet["seed"] == SEED).all() and (parquet["scenario"] == scenario).all()
    assert_bitwise(frame, parquet.drop(columns=["seed", "scenario"]))
    # the scenario file the CLI writes repeats the run exactly
    cli_run(str(tmp_path / "m.scenario.yaml"), "--seed", str(SEED), "--out", str(tmp_path / "again.parquet"))
    assert_bitwise(frame, pd.read_parquet(tmp_path / "again.parquet").drop(columns=["seed", "scenario"]))


def test_mesa_batch_run_equals_the_api(reference):
    scenario, frame = reference
    results = mesa.batch_run(
        ReputationModel,
        parameters={"scenario": scenario, "population.n_citizens": N_CITIZENS, "run.steps": STEPS},
        rng=[SEED], max_steps=STEPS, number_processes=1, data_collection_period=1, display_progress=False,
    )
    table = pd.DataFrame(results)
    assert table["RunId"].nunique() == 1
    table = table.set_index(table["Step"].astype(np.int64))[COLUMNS]  # batch_run's Step column comes as float
    table.index.name = "step"
    assert_bitwise(frame, table)


def test_dashboard_csv_export_equals_the_api_and_its_scenario_file_repeats_it(reference, tmp_path):
    scenario, frame = reference
    session = RunSession(scenario, SEED, {"population.n_citizens": N_CITIZENS}, target=STEPS)
    while not session.finished:
        session.step(7)  # the page steps in chunks
    assert session.steps == STEPS
    assert_bitwise(frame, read_csv_exactly(session.csv_text()))
    path = tmp_path / "scenario.yaml"
    path.write_text(session.scenario_yaml(path.name), encoding="utf-8")
    cli_run(str(path), "--seed", str(SEED), "--out", str(tmp_path / "m.csv"))
    assert_bitwise(frame, read_csv_exactly((tmp_path / "m.csv").read_text(encoding="utf-8")))


def sweep_experiment() -> dict:
    """patchwork at two false-positive rates x 2 replicates, every metric at every step."""
    return {
        "title": "entry points",
        "scenario": "patchwork",
        "overrides": {"population.n_citizens": N_CITIZENS},
        "parameters": {FPR: {"values": [0.0, 0.05]}},
        "replicates": 2,
        "steps": STEPS,
        "seed": SEED,
        "metrics": {"keep": COLUMNS, "every": 1},
    }


@pytest.mark.parametrize("how", ["cli-1-worker", "cli-2-workers", "dask-local-cluster"])
def test_every_sweep_run_equals_the_api_run_with_its_recorded_seed(how, tmp_path):
    """The sweep switches per-citizen event records off; the API run keeps the scenario's
    setting, so this also shows that recording events changes no number."""
    data = sweep_experiment()
    out = tmp_path / "out"
    if how.startswith("cli"):
        workers = "1" if how == "cli-1-worker" else "2"
        result = subprocess.run([sys.executable, "-m", "simulation", "sweep", str(write(tmp_path, data)), "--out",
                                 str(out), "--workers", workers, "--quiet"], capture_output=True, text=True,
                                timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr
    else:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            sweep(data, out, dask=cluster.scheduler_address, progress=False)
            workers_ = [w.process.process.pid for w in cluster.workers.values() if w.process is not None]
        assert wait_gone(workers_) == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and (runs["status"] == "ok").all()
    series = load_timeseries(out)
    seeds = set()
    for run in manifest["runs"]:
        values = manifest["design"]["points"][run["point"]]
        expected = api_run("patchwork", seed=run["seed"], **values)
        got = series[series["run_id"] == run["run_id"]].set_index("step")[COLUMNS]
        assert_bitwise(expected, got)
        row = runs[runs["run_id"] == run["run_id"]].iloc[0]
        assert row["seed"] == run["seed"]
        assert_bitwise(expected.iloc[[-1]], row[COLUMNS].to_frame().T.set_axis([STEPS]).astype(np.float64))
        seeds.add(run["seed"])
    assert len(seeds) == 2  # common random numbers: replicate r has one seed at every point
    assert Path(out / "experiment.yaml").exists()
