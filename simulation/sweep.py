"""Sweeps: many seeded runs of an experiment, in parallel, resumable.

:func:`sweep` runs every (design point, replicate) of an experiment (see
:mod:`simulation.experiment`) and returns one row per run as a pandas DataFrame. With
an output directory it writes, as each run finishes::

    DIR/manifest.json            software versions, git revision, hashes, design, seeds
    DIR/experiment.yaml          the experiment with its base scenario written out in place
    DIR/records/run-000042.json  one finished run (the proof that it finished)
    DIR/timeseries/run-000042.parquet   its kept metrics per kept step
    DIR/runs.parquet             one row per finished run (rebuilt from the records)

Every file is written to a temporary name in its folder and moved into place with
``os.replace``, so a file either is complete or does not exist; a run counts as
finished only when its record exists (written after its time series). Running the
same experiment into the same directory again runs only the runs without a record,
which is how a sweep killed at any moment is resumed.

Runs are handed out by the parent process, which draws every seed first (see
:mod:`simulation.design`) and writes every file; workers only compute. The worker is
:func:`run_one`, a module-level function of plain data, so it runs the same in this
process (one worker), in a process pool (``concurrent.futures``; workers started by a
forkserver or spawned, never forked from this process) or on a Dask ``distributed``
cluster (``Client(address).get_executor()``), and gives the same numbers on each.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import io
import json
import multiprocessing
import os
import platform
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import draws
from .design import Design, plan
from .experiment import Experiment, ExperimentError, Resolved, digest, load_experiment

FORMAT = "scoresim-sweep/1"
"""Format tag of ``manifest.json``; a directory of another format is not resumed."""
RUNS_WRITE_INTERVAL_S = 15.0
"""During a sweep, ``runs.parquet`` is rewritten at most this often (and at the end)."""
PACKAGES = ("scoresim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "networkx", "scipy", "SALib",
            "tqdm", "pyyaml", "dask", "distributed")
"""Packages whose versions the manifest records (those installed)."""

Runner = Callable[[dict[str, Any]], dict[str, Any]]


class SweepError(RuntimeError):
    """The sweep cannot go on (e.g. worker processes cannot start); finished runs are kept."""


# --------------------------------------------------------------------------- the worker

_SCENARIOS: dict[str, Any] = {}


def _scenario(key: str, data: dict[str, Any]):
    """The base scenario of a task, validated once per worker process."""
    scenario = _SCENARIOS.get(key)
    if scenario is None:
        from .scenario import Scenario

        scenario = _SCENARIOS[key] = Scenario.model_validate(data)
    return scenario


def run_one(task: dict[str, Any]) -> dict[str, Any]:
    """Run one (design point, replicate) described by plain data; never raises for a
    failing run: the result then has status ``failed`` and the error.

    ``task`` holds run_id, point, replicate, seed, values (dotted path -> value),
    scenario (the base scenario as data) and scenario_hash, keep (metric names),
    every and final_window (see :class:`simulation.experiment.MetricsSpec`). The result
    holds the same ids, status, error, traceback, duration_s (wall clock), cpu_s (CPU
    time of the worker process), final (metric -> value) and timeseries (Parquet bytes,
    or None).
    """
    start, cpu = time.perf_counter(), time.process_time()
    result: dict[str, Any] = {key: task[key] for key in ("run_id", "point", "replicate", "seed")}
    result.update(status="ok", error="", traceback="", final={}, timeseries=None, spin_up_steps=-1)
    try:
        from .model import ReputationModel

        scenario = _scenario(task["scenario_hash"], task["scenario"])
        model = ReputationModel(scenario, rng=task["seed"], **task["values"])
        result["spin_up_steps"] = model.spin_up_steps
        table = model.run()[list(task["keep"])]
        last = table.iloc[-task["final_window"]:]
        result["final"] = {name: float(value) for name, value in last.mean(skipna=False).items()}
        if task["every"]:
            steps = table.index.to_numpy()
            mask = (steps % task["every"] == 0) | (steps == steps[-1])
            result["timeseries"] = _parquet_bytes(task, steps[mask], table.to_numpy(dtype=float)[mask],
                                                  list(task["keep"]))
    except Exception as exc:  # a failing run is a result, not a crash of the sweep
        result.update(status="failed", error=_one_line(exc), traceback=traceback.format_exc(), final={},
                      timeseries=None)
    result["duration_s"] = time.perf_counter() - start
    result["cpu_s"] = time.process_time() - cpu
    return result


def _parquet_bytes(task: dict[str, Any], steps: np.ndarray, values: np.ndarray, names: list[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(steps)
    columns = {
        "run_id": pa.array(np.full(n, task["run_id"], dtype=np.int64)),
        "point": pa.array(np.full(n, task["point"], dtype=np.int64)),
        "replicate": pa.array(np.full(n, task["replicate"], dtype=np.int64)),
        "step": pa.array(steps.astype(np.int64)),
    }
    for j, name in enumerate(names):
        columns[name] = pa.array(values[:, j])
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue().to_pybytes()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _failed(task: dict[str, Any], error: str, trace: str = "") -> dict[str, Any]:
    return {**{key: task[key] for key in ("run_id", "point", "replicate", "seed")}, "status": "failed",
            "error": error, "traceback": trace, "final": {}, "timeseries": None, "duration_s": float("nan"),
            "cpu_s": float("nan"), "spin_up_steps": -1}


def _ping() -> int:
    return os.getpid()


def _worker_init(sweep_pid: int) -> None:
    """Process-pool worker set-up: the sweep process handles Ctrl-C, and a worker whose
    sweep has died (e.g. killed with SIGKILL) exits instead of lingering. (The worker's
    parent is the sweep process, or the forkserver, which ends with the sweep.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    draws.AHEAD_FROM = None  # the pool's processes keep the cores busy: no thread drawing ahead
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(sweep_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="scoresim-parent-watch", daemon=True).start()


def _start_context():
    """How worker processes start: never a plain fork of this (possibly multi-threaded)
    process. The forkserver (POSIX) imports the model once and forks fresh workers from
    it, so a new pool starts in milliseconds; elsewhere each worker is spawned."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["simulation.sweep"])
        return context
    return multiprocessing.get_context("spawn")


class _Inline(cf.Executor):
    """Runs each task at once in this process (one worker: no pool, no copying)."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


# --------------------------------------------------------------------------- files


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` completely or not at all (temp file, fsync, os.replace)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, allow_nan=True) + "\n").encode("utf-8")


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on (those installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_revision() -> str | None:
    """The commit of the source checkout this package runs from, read from ``.git``
    without running git; None for an installed package."""
    root = Path(__file__).resolve().parents[1]
    git = root / ".git"
    try:
        if git.is_file():  # a worktree or submodule: "gitdir: PATH"
            target = git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
            git = (root / target).resolve()
        if not git.is_dir():
            return None
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.removeprefix("ref:").strip()
        common = git
        if (git / "commondir").is_file():
            common = (git / (git / "commondir").read_text(encoding="utf-8").strip()).resolve()
        for base in (git, common):
            if (base / ref).is_file():
                return (base / ref).read_text(encoding="utf-8").strip()
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
    except OSError:
        return None
    return None


class SweepDir:
    """The output directory of a sweep: manifest, records, time series, runs table."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / "manifest.json"
        self.runs_path = self.root / "runs.parquet"
        self.records = self.root / "records"
        self.timeseries = self.root / "timeseries"
        self._lock: Any = None

    def record_path(self, run_id: int) -> Path:
        return self.records / f"run-{run_id:06d}.json"

    def timeseries_path(self, run_id: int) -> Path:
        return self.timeseries / f"run-{run_id:06d}.parquet"

    def read_manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ExperimentError(f"{self.root}: no sweep here (no manifest.json).") from None
        except (OSError, ValueError) as exc:
            raise ExperimentError(f"{self.manifest_path}: cannot be read: {exc}") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        _atomic_write(self.manifest_path, _json_bytes(manifest))

    def lock(self) -> None:
        """Hold an exclusive lock on the directory for this process's lifetime (released
        by the system even after SIGKILL), so two sweeps never write into one directory."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        fh = open(self.root / ".lock", "a+")  # noqa: SIM115 (held open until unlock)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise ExperimentError(f"{self.root} is in use by another running sweep; wait for it to finish "
                                  "or choose another --out.") from None
        self._lock = fh

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def clean_temporary(self) -> None:
        """Remove temporary files left by a sweep that was killed while writing."""
        for folder in (self.root, self.records, self.timeseries):
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def load_records(self, manifest: dict[str, Any]) -> tuple[dict[int, dict[str, Any]], int]:
        """Finished runs by id, and the number of record files discarded as unusable
        (unreadable, not matching the manifest, or missing their time series)."""
        seeds = {r["run_id"]: r["seed"] for r in manifest["runs"]}
        every = manifest["experiment"]["metrics"]["every"]
        out: dict[int, dict[str, Any]] = {}
        discarded = 0
        for path in sorted(self.records.glob("run-*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                rid = int(record["run_id"])
                ok = (path.name == self.record_path(rid).name and seeds.get(rid) == record["seed"]
                      and record["status"] in ("ok", "failed"))
                if ok and record["status"] == "ok" and every:
                    ok = _complete_parquet(self.timeseries_path(rid))
            except (OSError, ValueError, KeyError, TypeError):
                ok = False
            if ok:
                out[rid] = record
            else:
                discarded += 1
        return out, discarded

    def save(self, result: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Write one finished run (time series first, then its record); return the record."""
        rid = result["run_id"]
        record = {key: result[key] for key in ("run_id", "point", "replicate", "seed", "status", "error",
                                               "duration_s", "cpu_s", "spin_up_steps")}
        record.update(values=values, final=result["final"], traceback=result["traceback"])
        ts = self.timeseries_path(rid)
        if result["timeseries"] is not None:
            _atomic_write(ts, result["timeseries"])
        elif ts.exists():
            ts.unlink()
        _atomic_write(self.record_path(rid), _json_bytes(record))
        return record

    def write_runs(self, table: pd.DataFrame) -> None:
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        _atomic_write(self.runs_path, buffer.getvalue())


def _complete_parquet(path: Path) -> bool:
    """Whether ``path`` looks like a whole Parquet file (magic bytes at both ends)."""
    try:
        size = path.stat().st_size
        if size < 12:
            return False
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(-4, os.SEEK_END)
            return head == b"PAR1" and fh.read(4) == b"PAR1"
    except OSError:
        return False


def runs_table(records: Mapping[int, dict[str, Any]], names: tuple[str, ...], keep: tuple[str, ...]) -> pd.DataFrame:
    """One row per finished run: ids, seed, parameter values, status, error, wall-clock
    and CPU seconds, the final value of each kept metric, and the traceback of a failed
    run."""
    rows = []
    for rid in sorted(records):
        r = records[rid]
        row = {"run_id": r["run_id"], "point": r["point"], "replicate": r["replicate"], "seed": r["seed"]}
        row.update({name: r["values"].get(name) for name in names})
        row.update(status=r["status"], error=r["error"], duration_s=r["duration_s"],
                   cpu_s=r.get("cpu_s", float("nan")), spin_up_steps=r.get("spin_up_steps", -1))
        final = r["final"]
        row.update({m: final.get(m, float("nan")) for m in keep})
        row["traceback"] = r["traceback"]
        rows.append(row)
    columns = ["run_id", "point", "replicate", "seed", *names, "status", "error", "duration_s", "cpu_s",
               "spin_up_steps", *keep, "traceback"]
    table = pd.DataFrame(rows, columns=columns)
    dtypes = {"run_id": "int64", "point": "int64", "replicate": "int64", "seed": "int64",
              "status": "str", "error": "str", "traceback": "str", "duration_s": "float64", "cpu_s": "float64",
              "spin_up_steps": "int64"}
    dtypes.update(dict.fromkeys(keep, "float64"))
    return table.astype(dtypes)


# --------------------------------------------------------------------------- the sweep


class Sweep:
    """A planned sweep: the resolved experiment, its design and every run's seed."""

    def __init__(self, experiment: str | Path | Mapping | Experiment | Resolved) -> None:
        self.resolved = experiment if isinstance(experiment, Resolved) else load_experiment(experiment)
        self.experiment = self.resolved.experiment
        self.design, self.seeds = plan(self.experiment)
        self.keep = self.experiment.metrics.names
        self._scenario = self.resolved.scenario_data()
        self._scenario_hash = digest(self._scenario)

    @property
    def n_runs(self) -> int:
        return self.seeds.size

    def experiment_hash(self) -> str:
        """Hash of what determines the runs apart from the base scenario (title and
        description excluded; the base scenario has its own hash)."""
        data = self.experiment.model_dump(mode="json", exclude={"scenario", "title", "description"})
        return digest(data)

    def tasks(self) -> list[dict[str, Any]]:
        """Every run as plain data for :func:`run_one`, in run-id order."""
        reps = self.experiment.replicates
        m = self.experiment.metrics
        out = []
        for p, values in enumerate(self.design.points):
            for r in range(reps):
                out.append({"run_id": p * reps + r, "point": p, "replicate": r, "seed": int(self.seeds[p, r]),
                            "values": values, "scenario": self._scenario, "scenario_hash": self._scenario_hash,
                            "keep": self.keep, "every": m.every, "final_window": m.final_window})
        return out

    def manifest(self) -> dict[str, Any]:
        e = self.experiment
        reps = e.replicates
        return {
            "format": FORMAT,
            "created": _now(),
            "title": e.title,
            "source": self.resolved.source,
            "experiment": e.model_dump(mode="json"),
            "experiment_hash": self.experiment_hash(),
            "scenario": self._scenario,
            "scenario_hash": self._scenario_hash,
            "software": software_versions(),
            "git_revision": git_revision(),
            "design": self.design.to_json(),
            "seeding": {"root_seed": e.seed, "scheme": e.seeds, "method": (
                "numpy SeedSequence(root_seed).spawn(2): [0] seeds the sampler, [1] the runs; common: replicate r "
                "uses [1].spawn(replicates)[r]; independent: point p, replicate r uses "
                "[1].spawn(points)[p].spawn(replicates)[r]; a run's seed is the first 63 bits of "
                "generate_state(1, uint64)")},
            "steps": self.resolved.steps,
            "metrics": list(self.keep),
            "runs": [{"run_id": p * reps + r, "point": p, "replicate": r, "seed": int(self.seeds[p, r])}
                     for p in range(len(self.design.points)) for r in range(reps)],
            "sessions": [],
        }

    def experiment_yaml(self) -> str:
        """The experiment with its base scenario written out in place: running it again
        into the same directory resumes the sweep from anywhere."""
        import yaml

        data = self.experiment.model_dump(mode="json", exclude_defaults=False)
        data["scenario"] = self._scenario
        head = (f"# Experiment '{self.experiment.title}' as swept, with its base scenario written out.\n"
                "# Resume or repeat the sweep with: python -m simulation sweep THIS_FILE --out THIS_FOLDER\n")
        return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def check_against(self, manifest: dict[str, Any], where: Path) -> None:
        """Refuse to continue a directory that holds a different sweep."""
        if manifest.get("format") != FORMAT:
            raise ExperimentError(f"{where}: not a scoresim sweep directory of format {FORMAT}.")
        problems = []
        if manifest.get("experiment_hash") != self.experiment_hash():
            changed = _differences(manifest.get("experiment", {}), self.experiment.model_dump(mode="json"),
                                   skip={"scenario", "title", "description"})
            problems.append("the experiment differs" + (f" ({', '.join(changed)})" if changed else ""))
        if manifest.get("scenario_hash") != self._scenario_hash:
            changed = _differences(manifest.get("scenario", {}), self._scenario)
            problems.append("its base scenario differs" + (f" ({', '.join(changed)})" if changed else ""))
        if not problems:
            if manifest.get("design", {}).get("points") != self.design.points or \
                    [r["seed"] for r in manifest.get("runs", [])] != self.seeds.ravel().tolist():
                problems.append("the design or seeds drawn from the same file differ (another SALib or numpy "
                                "version?)")
        if problems:
            raise ExperimentError(f"{where} holds a different sweep: {'; '.join(problems)}. Use another --out "
                                  "directory, or remove this one to start again.")


def _differences(old: Any, new: Any, skip: set[str] | frozenset[str] = frozenset(), prefix: str = "",
                 limit: int = 5) -> list[str]:
    """Dotted paths where two plain-data trees differ (at most ``limit``)."""
    out: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key in skip:
                continue
            if old.get(key) != new.get(key):
                path = f"{prefix}.{key}" if prefix else str(key)
                out.extend(_differences(old.get(key), new.get(key), prefix=path, limit=limit))
    elif old != new:
        out.append(prefix or "(value)")
    return out[:limit]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def default_workers() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class _Pool:
    """The executor runs go to, rebuilt if a worker process dies."""

    def __init__(self, workers: int | None, dask: str | None, executor: cf.Executor | None) -> None:
        self.client = None
        self.owned = executor is None
        if executor is not None:
            self.kind, self.workers = "executor", getattr(executor, "_max_workers", 1)
            self.executor = executor
        elif dask:
            self.kind = "dask"
            self.client = _dask_client(dask)
            self.workers = max(1, sum(self.client.nthreads().values()))
            self.executor = self.client.get_executor(pure=False)
        else:
            self.workers = workers or default_workers()
            self.kind = "inline" if self.workers == 1 else "processes"
            self.executor = None  # started by start(), once the output directory is ready
        self.window = 2 * self.workers

    def start(self) -> None:
        if self.executor is None:
            self.executor = self._new_pool()

    def _new_pool(self) -> cf.Executor:
        if self.workers == 1:
            return _Inline()
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=_start_context(),
                                      initializer=_worker_init, initargs=(os.getpid(),))
        try:  # a pool whose workers cannot even start must not be taken for failing runs
            pool.submit(_ping).result()
        except BrokenProcessPool:
            pool.shutdown(wait=True)
            raise SweepError("the worker processes die on start (see the messages above); a script that "
                             "calls sweep() with workers > 1 must be a file guarded by "
                             "'if __name__ == \"__main__\":'. Try --workers 1 to see the problem.") from None
        return pool

    def rebuild(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._new_pool()

    def describe(self) -> str:
        if self.kind == "dask":
            return f"Dask scheduler {self.client.scheduler.address} ({self.workers} worker threads)"
        if self.kind == "processes":
            return f"{self.workers} worker processes"
        if self.kind == "inline":
            return "1 worker (this process)"
        return f"the given executor ({type(self.executor).__name__})"

    def abort(self) -> None:
        """Stop at once: cancel queued runs and end running ones (they will be rerun)."""
        if not self.owned or self.executor is None:
            return
        if self.kind == "processes":
            processes = list(getattr(self.executor, "_processes", {}).values())
            self.executor.shutdown(wait=False, cancel_futures=True)
            for proc in processes:
                with contextlib.suppress(Exception):
                    proc.terminate()
            for proc in processes:
                with contextlib.suppress(Exception):
                    proc.join(5)
        elif self.kind == "dask":
            with contextlib.suppress(Exception):
                self.executor.shutdown(wait=False)

    def close(self) -> None:
        if self.owned and self.executor is not None:
            with contextlib.suppress(Exception):
                self.executor.shutdown(wait=True, cancel_futures=True)
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise ExperimentError("--dask needs the 'distributed' package: pip install 'dask[distributed]'.") from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ExperimentError(f"--dask {address}: cannot connect to a Dask scheduler there ({exc}). Start one "
                              "with 'dask scheduler' and workers with 'dask worker ADDRESS' (docs/batch.md).") from None
    try:
        versions = client.run(_worker_versions)
    except Exception as exc:
        client.close()
        raise ExperimentError(f"--dask {address}: the workers cannot run scoresim ({_one_line(exc)}); install "
                              "this package in the workers' Python environment.") from None
    if not versions:
        client.close()
        raise ExperimentError(f"--dask {address}: the scheduler has no workers; start some with "
                              f"'dask worker {address}'.")
    mine = _worker_versions()
    for worker, theirs in versions.items():
        if theirs != mine:
            client.close()
            raise ExperimentError(f"--dask {address}: worker {worker} has {theirs}, this process {mine}; "
                                  "different versions could give different numbers. Install the same versions.")
    return client


def _worker_versions() -> dict[str, str]:
    from importlib.metadata import version

    from . import __version__

    return {"scoresim": __version__, "numpy": version("numpy"), "mesa": version("mesa")}


class _Progress:
    """A tqdm bar on stderr (with ETA), or nothing."""

    def __init__(self, enabled: bool, total: int, done: int, title: str) -> None:
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            interactive = sys.stderr.isatty()
            self.bar = tqdm(total=total, initial=done, unit="run", desc=title[:30], file=sys.stderr,
                            mininterval=0.5 if interactive else 30.0, smoothing=0.05, dynamic_ncols=True)
        self.failed = 0

    def update(self, status: str) -> None:
        if self.bar is None:
            return
        if status != "ok":
            self.failed += 1
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def sweep(experiment: str | Path | Mapping | Experiment, out: str | Path | None = None, *,
          workers: int | None = None, dask: str | None = None, executor: cf.Executor | None = None,
          resume: bool = False, retry_failed: bool = False, progress: bool = True,
          echo: Callable[[str], None] | None = None, runner: Runner = run_one) -> pd.DataFrame:
    """Run an experiment; return one row per run (the table of ``runs.parquet``).

    Args:
        experiment: an experiment YAML path, its plain data, or an :class:`Experiment`.
        out: output directory (created if needed). Without it nothing is written and
            time series are not kept. Runs already finished there are not run again.
        workers: processes to run on (default: every CPU this process may use; 1 runs
            in this process).
        dask: address of a Dask ``distributed`` scheduler (``tcp://host:8786``) to send
            runs to instead.
        executor: any ``concurrent.futures.Executor`` to send runs to instead (e.g.
            ``distributed.Client(...).get_executor()``); not shut down here.
        resume: require ``out`` to hold this experiment's earlier sweep (an error if it
            holds none); without it a new directory is started or an identical sweep
            continued.
        retry_failed: run again the runs recorded as failed.
        progress: show a tqdm progress bar on stderr.
        echo: called with one-line messages (start, resume, end); default silent.
        runner: the function that performs one run (default :func:`run_one`); it must
            be importable by the workers (defined at module level).

    Raises:
        ExperimentError: the experiment is invalid or ``out`` holds a different sweep
            (nothing is run).
        KeyboardInterrupt: after finished runs have been saved.
    """
    say = echo or (lambda _text: None)
    if dask is not None and executor is not None:
        raise ExperimentError("give either dask or executor, not both.")
    if workers is not None and (dask is not None or executor is not None):
        raise ExperimentError("workers applies to the local process pool; with dask or an executor leave it out.")
    if workers is not None and workers < 1:
        raise ExperimentError(f"workers must be at least 1, got {workers}.")
    plan_ = Sweep(experiment)
    points, names, keep = plan_.design.points, plan_.design.names, plan_.keep
    target = SweepDir(out) if out is not None else None
    pool = _Pool(workers, dask, executor)
    records: dict[int, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    session: dict[str, Any] = {}
    opened = interrupted = False
    bar: _Progress | None = None
    try:
        if target is not None:
            manifest, records = _open(target, plan_, resume, say)
            opened = True
        done = {rid for rid, r in records.items() if r["status"] == "ok" or not retry_failed}
        todo = [t for t in plan_.tasks() if t["run_id"] not in done]
        session = {"started": _now(), "host": socket.gethostname(), "pid": os.getpid(),
                   "executor": pool.kind, "workers": pool.workers, "to_run": len(todo)}
        if manifest is not None:
            manifest["sessions"].append(session)
            target.write_manifest(manifest)
        say(f"{len(todo)} of {plan_.n_runs} runs to do ({len(points)} design points x "
            f"{plan_.experiment.replicates} replicates, {plan_.resolved.steps} steps) on {pool.describe()}")
        if todo:
            pool.start()
        bar = _Progress(progress, plan_.n_runs, plan_.n_runs - len(todo), plan_.experiment.title)
        last_write = time.monotonic()

        def finish(result: dict[str, Any]) -> None:
            nonlocal last_write
            if target is not None:
                records[result["run_id"]] = target.save(result, points[result["point"]])
                if time.monotonic() - last_write > RUNS_WRITE_INTERVAL_S:
                    target.write_runs(runs_table(records, names, keep))
                    last_write = time.monotonic()
            else:
                records[result["run_id"]] = {**result, "timeseries": None, "values": points[result["point"]]}
            bar.update(result["status"])

        _drive(pool, todo, runner, finish)
    except KeyboardInterrupt:
        interrupted = True
        pool.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
        pool.close()
        if opened:
            try:
                target.write_runs(runs_table(records, names, keep))
                if session:
                    ok = sum(r["status"] == "ok" for r in records.values())
                    session.update(finished=_now(), interrupted=interrupted, done=len(records), ok=ok,
                                   failed=len(records) - ok)
                    target.write_manifest(manifest)
            finally:
                target.unlock()
    return runs_table(records, names, keep)


def _open(target: SweepDir, plan_: Sweep, resume: bool, say: Callable[[str], None]):
    """Create the output directory or check and reopen an earlier one; lock it."""
    root = target.root
    if root.exists() and not root.is_dir():
        raise ExperimentError(f"--out {root}: exists and is not a directory.")
    if target.manifest_path.exists():
        manifest = target.read_manifest()
        plan_.check_against(manifest, root)
        _check_writable(target)
        target.lock()
        try:
            target.clean_temporary()
            records, discarded = target.load_records(manifest)
            if not (root / "experiment.yaml").exists():  # killed between the manifest and it
                _atomic_write(root / "experiment.yaml", plan_.experiment_yaml().encode("utf-8"))
        except BaseException:
            target.unlock()
            raise
        ok = sum(r["status"] == "ok" for r in records.values())
        note = f"; {discarded} unusable record file(s) ignored, their runs will be rerun" if discarded else ""
        say(f"resuming {root}: {len(records)} of {plan_.n_runs} runs already finished "
            f"({ok} ok, {len(records) - ok} failed){note}")
        versions = software_versions()
        if manifest.get("software") != versions:
            changed = _differences(manifest.get("software", {}), versions)
            say(f"warning: software versions differ from the sweep's start ({', '.join(changed)}); numbers may "
                "differ between earlier and new runs")
        return manifest, records
    if resume:
        raise ExperimentError(f"--resume: {root} holds no sweep to resume (no manifest.json); run without "
                              "--resume to start one.")
    if root.exists() and not _only_creation_leftovers(target):
        raise ExperimentError(f"--out {root}: the directory is not empty and holds no sweep; choose a new or "
                              "empty directory.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExperimentError(f"--out {root}: cannot create the directory ({exc.strerror or exc}); nothing was "
                              "run.") from None
    try:
        target.lock()
        target.records.mkdir(exist_ok=True)
        target.timeseries.mkdir(exist_ok=True)
        _check_writable(target)
        target.clean_temporary()
        manifest = plan_.manifest()
        # the manifest first: from then on the directory is a sweep that resumes (see
        # _only_creation_leftovers for a sweep killed before it)
        target.write_manifest(manifest)
        _atomic_write(root / "experiment.yaml", plan_.experiment_yaml().encode("utf-8"))
    except OSError as exc:
        target.unlock()
        raise ExperimentError(f"--out {root}: cannot write there ({exc.strerror or exc}); nothing was "
                              "run.") from None
    except BaseException:
        target.unlock()
        raise
    return manifest, {}


def _only_creation_leftovers(target: SweepDir) -> bool:
    """Whether the directory (which has no manifest) is empty but for what a sweep
    killed while creating it leaves: the lock file, temporary files and empty
    ``records/`` and ``timeseries/`` folders. Such a directory is started afresh."""
    for path in target.root.iterdir():
        if path.name == ".lock" or (path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file()):
            continue
        if path in (target.records, target.timeseries) and path.is_dir() and not any(path.iterdir()):
            continue
        return False
    return True


def _check_writable(target: SweepDir) -> None:
    """Fail (before anything runs) unless a file can be created in the output
    directory and its folders; tried, not guessed from permission bits, which do not
    bind the superuser."""
    import tempfile

    for folder in (target.root, target.records, target.timeseries):
        if not folder.exists() and folder != target.root:
            continue  # created later (a resumed directory whose folder was removed)
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ExperimentError(f"--out {target.root}: cannot write in {folder} ({exc.strerror or exc}); "
                                  "nothing was run.") from None


def _drive(pool: _Pool, todo: list[dict[str, Any]], runner: Runner,
           finish: Callable[[dict[str, Any]], None]) -> None:
    """Hand out runs (a bounded number in flight) and pass each result to ``finish``.

    If a worker process dies (the pool breaks), the runs that were in flight are run
    again one at a time; one that kills its worker when alone is recorded as failed.
    """
    pending = deque(todo)
    suspects: deque[dict[str, Any]] = deque()
    inflight: dict[cf.Future, tuple[dict[str, Any], bool]] = {}

    def submit(task: dict[str, Any], alone: bool) -> bool:
        try:
            inflight[pool.executor.submit(runner, task)] = (task, alone)
        except BrokenProcessPool:  # a worker died since the last result came back
            return False
        return True

    while pending or suspects or inflight:
        broken = False
        if suspects:
            if not inflight:
                task = suspects.popleft()
                if not submit(task, True):
                    suspects.appendleft(task)
                    broken = True
        else:
            while pending and len(inflight) < pool.window:
                task = pending.popleft()
                if not submit(task, False):
                    pending.appendleft(task)
                    broken = True
                    break
        if not broken:
            done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
            for future in done:
                task, alone = inflight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    if alone:
                        finish(_failed(task, "the worker process running this run died (killed, out of memory "
                                             "or crashed); it died again when run alone"))
                    else:
                        suspects.append(task)
                    continue
                except cf.CancelledError:
                    pending.appendleft(task)
                    continue
                except Exception as exc:  # e.g. a Dask worker lost repeatedly, or a result that cannot be sent
                    result = _failed(task, _one_line(exc), traceback.format_exc())
                finish(result)
        if broken:
            for future, (task, _alone) in list(inflight.items()):
                cf.wait([future])
                inflight.pop(future)
                try:
                    finish(future.result())
                except BrokenProcessPool:
                    suspects.append(task)
                except Exception as exc:
                    finish(_failed(task, _one_line(exc), traceback.format_exc()))
            pool.rebuild()


# --------------------------------------------------------------------------- reading results


def load_runs(out: str | Path) -> pd.DataFrame:
    """The runs table of a sweep directory: ``runs.parquet``, rebuilt from the run
    records first if it is older than them (e.g. after a sweep was killed)."""
    target = SweepDir(out)
    manifest = target.read_manifest()
    fresh = target.runs_path.exists() and target.records.exists() and \
        target.runs_path.stat().st_mtime_ns >= target.records.stat().st_mtime_ns
    if fresh:
        return pd.read_parquet(target.runs_path)
    records, _ = target.load_records(manifest)
    design = manifest["design"]
    table = runs_table(records, tuple(design["parameters"]), tuple(manifest["metrics"]))
    with contextlib.suppress(OSError):
        target.write_runs(table)
    return table


def load_timeseries(out: str | Path, run_ids: list[int] | None = None) -> pd.DataFrame:
    """The kept metrics per kept step of the finished runs (all, or ``run_ids``), as one
    table with columns run_id, point, replicate, step and the metrics."""
    target = SweepDir(out)
    manifest = target.read_manifest()
    records, _ = target.load_records(manifest)
    ids = sorted(rid for rid, r in records.items() if r["status"] == "ok")
    if run_ids is not None:
        wanted = set(run_ids)
        ids = [rid for rid in ids if rid in wanted]
    frames = [pd.read_parquet(target.timeseries_path(rid)) for rid in ids
              if target.timeseries_path(rid).exists()]
    if not frames:
        return pd.DataFrame(columns=["run_id", "point", "replicate", "step", *manifest["metrics"]])
    return pd.concat(frames, ignore_index=True)


__all__ = ["Design", "Sweep", "SweepDir", "load_runs", "load_timeseries", "run_one", "sweep"]
