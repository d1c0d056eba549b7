"""Crash safety (issue 7): sweeps killed with SIGKILL again and again, output folders
that cannot be written, and a disk that fills up mid-sweep.

What must hold: a killed sweep, resumed, ends with every run exactly once and numbers
identical to a sweep never interrupted; a folder that cannot be written is refused
with exit status 2, naming it, before any run starts; a failed write (ENOSPC) stops
with a clear message and leaves no file that could be taken for a finished one.

The tests run as any user. As root, permission bits do not stop writes, so where a
test needs a folder nobody can write in, it checks whether ``chmod`` worked and
otherwise uses ``/proc/self`` (a directory in which not even root can create files).
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from test_sweep import ROOT, cli_sweep, stable, wait_gone, write

import simulation.sweep as sweep_module
from simulation.cli import main
from simulation.sweep import load_runs, load_timeseries, sweep

KILLS = 10
"""SIGKILLs of the whole process group at seeded random moments."""
KILL_SEED = 20_261_122
N_RUNS = 40


def crash_experiment() -> dict:
    """5 false-positive rates x 8 replicates = 40 runs of 100 citizens for 20 steps, every
    metric at every step (so that a good share of the time goes into writing files)."""
    return {
        "title": "crash safety",
        "scenario": "blacklist",
        "overrides": {"population.n_citizens": 100},
        "parameters": {"regulators.courts.false_positive_rate": {"values": [0.0, 0.02, 0.05, 0.1, 0.2]}},
        "replicates": 8,
        "steps": 20,
        "seed": 99,
        "metrics": {"every": 1},
    }


def small_experiment() -> dict:
    return {**crash_experiment(), "replicates": 2, "steps": 8,
            "parameters": {"regulators.courts.false_positive_rate": {"values": [0.0, 0.05, 0.1]}}}


def records_in(out: Path) -> int:
    folder = out / "records"
    return len(list(folder.glob("run-*.json"))) if folder.is_dir() else 0


def start_sweep(path: Path, out: Path, log: Path, workers: int = 1, *extra: str) -> subprocess.Popen:
    """``python -m simulation sweep`` as the leader of its own process group."""
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "simulation", "sweep", str(path), "--out", str(out),
                                 "--workers", str(workers), "--quiet", *extra], cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> int:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it had already ended
        pass
    return proc.wait(30)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and not condition():
        time.sleep(0.005)


def unwritable_folder(tmp_path: Path) -> Path:
    """An existing directory in which this process cannot create a file."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except OSError:
        return folder
    os.close(fd)
    os.unlink(probe)
    folder.chmod(0o700)
    return Path("/proc/self")  # running as root: permission bits do not bind


# --------------------------------------------------------------------------- SIGKILL, many times


def test_killed_eleven_times_then_resumed_every_run_exactly_once_with_unchanged_numbers(tmp_path):
    """First a two-worker sweep loses its parent process to SIGKILL (its workers must
    exit too), then ten one-worker sweeps are killed with their whole process group at
    seeded random moments: half after a random number (1-3) of further runs were saved,
    i.e. amid writing, half at a random time from start-up on. Then --resume finishes.
    Each interrupted sweep is started with the same plain command, as a user would."""
    path = write(tmp_path, crash_experiment())
    log = tmp_path / "sweeps.log"
    reference = tmp_path / "reference"
    proc = start_sweep(path, reference, log)
    started = time.monotonic()
    wait_for(lambda: records_in(reference) > 0, proc)
    first = time.monotonic() - started
    assert proc.wait(180) == 0, log.read_text()
    total = time.monotonic() - started

    out = tmp_path / "out"
    proc = start_sweep(path, out, log, workers=2)
    try:
        wait_for(lambda: records_in(out) >= 2, proc)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process alone, as the OOM killer would
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        kill_group(proc)
    assert children, "the two-worker sweep had worker processes"
    assert wait_gone(children) == [], "worker processes outlived their killed sweep"

    rng = random.Random(KILL_SEED)
    history = []
    for kill in range(KILLS):
        before = records_in(out)
        proc = start_sweep(path, out, log)
        t0 = time.monotonic()
        if kill % 2 == 0:
            more = rng.randint(1, 3)
            wait_for(lambda more=more, before=before: records_in(out) >= before + more, proc)
            time.sleep(rng.uniform(0.0, 0.02))
        else:
            delay = rng.uniform(0.0, first + 0.3 * (total - first))
            wait_for(lambda delay=delay, t0=t0: time.monotonic() - t0 >= delay, proc)
        status = kill_group(proc)
        history.append((kill, round(time.monotonic() - t0, 2), before, records_in(out), status))
        assert status in (-signal.SIGKILL, 0), f"sweep {kill} ended with status {status}:\n{log.read_text()}"
    print("kill, seconds after start, runs saved before, after, exit status:", *history, sep="\n  ")
    assert any(after > before for _k, _t, before, after, _s in history), history

    result = cli_sweep(str(path), "--out", str(out), "--workers", "1", "--resume", "--quiet", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resuming" in result.stdout

    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["run_id"]) == list(range(N_RUNS)) and runs["run_id"].is_unique, history
    assert (runs["status"] == "ok").all()
    assert records_in(out) == N_RUNS and not list(out.rglob("*.tmp"))
    expected = pd.read_parquet(reference / "runs.parquet")
    pd.testing.assert_frame_equal(stable(expected), stable(runs), check_exact=True)
    pd.testing.assert_frame_equal(load_timeseries(reference), load_timeseries(out), check_exact=True)
    pd.testing.assert_frame_equal(load_runs(out), runs)
    sessions = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["sessions"]
    assert sessions[-1]["interrupted"] is False and sessions[-1]["done"] == N_RUNS
    assert (out / "experiment.yaml").exists()


def test_a_sweep_killed_while_creating_its_folder_starts_again(tmp_path):
    """Killed after making DIR but before writing manifest.json, a sweep leaves the lock
    file, empty folders and perhaps a temporary file: the same command starts afresh."""
    path = write(tmp_path, small_experiment())
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    (out / "timeseries").mkdir()
    (out / ".lock").touch()
    (out / ".manifest.json.4242.tmp").write_text("{")
    result = cli_sweep(str(path), "--out", str(out), "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert records_in(out) == 6 and not list(out.rglob("*.tmp"))
    # killed between manifest.json and experiment.yaml: resumes and writes the latter
    (out / "experiment.yaml").unlink()
    (out / "records" / "run-000004.json").unlink()
    result = cli_sweep(str(path), "--out", str(out), "--workers", "1", "--resume", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "1 of 6 runs to do" in result.stdout and (out / "experiment.yaml").exists()
    # but a folder with anything else in it is still refused
    other = tmp_path / "other"
    (other / "records").mkdir(parents=True)
    (other / "records" / "mine.txt").write_text("keep me")
    result = cli_sweep(str(path), "--out", str(other), "--workers", "1", "--quiet")
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (other / "records" / "mine.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- folders that cannot be written


def never_run(task: dict) -> dict:
    raise AssertionError("a run started although the output folder cannot be written")


@pytest.mark.parametrize("where", ["parent-is-a-file", "read-only-parent", "missing-parent-in-read-only"])
def test_sweep_into_an_unwritable_folder_exits_2_before_any_run(capsys, tmp_path, where):
    path = write(tmp_path, small_experiment())
    if where == "parent-is-a-file":
        (tmp_path / "file").write_text("not a folder")
        out = tmp_path / "file" / "out"
    elif where == "read-only-parent":
        out = unwritable_folder(tmp_path) / "out"
    else:
        out = unwritable_folder(tmp_path) / "a" / "b"
    try:
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}" in err and "nothing was run" in err and "Traceback" not in err, err
        with pytest.raises(sweep_module.ExperimentError, match="cannot create the directory"):
            sweep(small_experiment(), out, workers=1, progress=False, runner=never_run)
    finally:
        (tmp_path / "read-only").exists() and (tmp_path / "read-only").chmod(0o700)
    assert not out.exists()


def test_resuming_a_sweep_whose_folder_became_unwritable_exits_2_naming_it(capsys, tmp_path):
    path = write(tmp_path, small_experiment())
    out = tmp_path / "out"
    sweep(small_experiment(), out, workers=1, progress=False)
    (out / "records" / "run-000002.json").unlink()
    (out / "timeseries").chmod(0o500)
    try:
        fd, probe = tempfile.mkstemp(dir=out / "timeseries")
        os.close(fd)
        os.unlink(probe)
        # root: permission bits do not bind; a file where the folder was stops writes for anyone
        (out / "timeseries").chmod(0o700)
        (out / "timeseries").rename(out / "timeseries.saved")
        (out / "timeseries").write_text("")
    except OSError:
        pass
    try:
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"cannot write in {out / 'timeseries'}" in err and "nothing was run" in err, err
        assert "Traceback" not in err
        assert records_in(out) == 5
    finally:
        if (out / "timeseries.saved").exists():
            (out / "timeseries").unlink()
            (out / "timeseries.saved").rename(out / "timeseries")
        (out / "timeseries").chmod(0o700)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert records_in(out) == 6


@pytest.mark.parametrize("where", ["missing-folder", "parent-is-a-file", "read-only-folder"])
def test_run_out_into_an_unwritable_folder_exits_2_before_running(capsys, tmp_path, where):
    if where == "missing-folder":
        out, expected = tmp_path / "nope" / "m.csv", "does not exist"
    elif where == "parent-is-a-file":
        (tmp_path / "file").write_text("")
        out, expected = tmp_path / "file" / "m.csv", "is not a directory"
    else:
        out, expected = unwritable_folder(tmp_path) / "m.csv", "is not writable"
    try:
        status = main(["run", "blacklist", "--seed", "1", "--steps", "3", "--set", "population.n_citizens=50",
                       "--out", str(out), "--quiet"])
    finally:
        (tmp_path / "read-only").exists() and (tmp_path / "read-only").chmod(0o700)
    captured = capsys.readouterr()
    assert status == 2
    assert f"cannot write {out}" in captured.err and expected in captured.err, captured.err
    assert "Traceback" not in captured.err and "seed" not in captured.out  # refused before the run


# --------------------------------------------------------------------------- a full disk


class _FillsUp:
    """A file whose first write stores half the data, then fails as a full disk does."""

    def __init__(self, fh) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


def disk_full_on(monkeypatch, name: str) -> list[str]:
    """Make the sweep's writes of the file ``name`` fail with ENOSPC halfway."""
    failed: list[str] = []

    def fake_open(file, mode="r", *args, **kwargs):
        fh = open(file, mode, *args, **kwargs)
        if "w" in mode and Path(file).name.startswith(f".{name}."):
            failed.append(str(file))
            return _FillsUp(fh)
        return fh

    monkeypatch.setattr(sweep_module, "open", fake_open, raising=False)
    return failed


@pytest.mark.parametrize("name", ["run-000003.parquet", "run-000003.json", "runs.parquet"])
def test_disk_full_stops_the_sweep_with_a_clear_message_and_resume_redoes_the_run(capsys, monkeypatch, tmp_path,
                                                                                 name):
    """ENOSPC while writing a run's time series, its record or the runs table: the sweep
    stops (exit 1) saying so, the half-written temporary file is gone, nothing reads as
    finished that is not, and the same command then completes with the right numbers."""
    path = write(tmp_path, small_experiment())
    reference = sweep(small_experiment(), tmp_path / "reference", workers=1, progress=False)
    out = tmp_path / "out"
    failed = disk_full_on(monkeypatch, name)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert failed, "the injected failure did not happen"
    assert "No space left on device" in err and "resume with" in err and "Traceback" not in err, err
    assert not list(out.rglob("*.tmp")), "a half-written temporary file was left"
    for series in (out / "timeseries").glob("*.parquet"):  # whatever exists is whole
        pd.read_parquet(series)
    done = records_in(out)  # runs finished before the failure (results may arrive out of order)
    if name != "runs.parquet":
        assert done <= 3 and not (out / "records" / "run-000003.json").exists()
        assert len(load_runs(out)) == done  # what is on disk reads as the finished runs, not one more
    monkeypatch.undo()
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 0
    assert f"{6 - done} of 6 runs to do" in capsys.readouterr().out
    pd.testing.assert_frame_equal(stable(reference), stable(pd.read_parquet(out / "runs.parquet")), check_exact=True)
    pd.testing.assert_frame_equal(load_timeseries(tmp_path / "reference"), load_timeseries(out), check_exact=True)


def test_run_out_on_a_full_disk_exits_1_and_writes_nothing(capsys, monkeypatch, tmp_path):
    def full(self, target, *args, **kwargs):
        Path(target).write_text("step,seed\n0,")  # half a file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "m.csv"
    status = main(["run", "blacklist", "--seed", "1", "--steps", "3", "--set", "population.n_citizens=50",
                   "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert "No space left on device" in err and "nothing written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
