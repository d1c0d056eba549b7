"""Throughput of the batch runner: runs per minute of a sweep on 1 and 2 workers.

The workload is the issue's: the ``baseline`` scenario at 2,000 citizens x 200 steps,
replicates only (no parameter varied), keeping every metric at every step, written to
a temporary directory exactly as ``python -m simulation sweep`` does. Wall time
includes starting the worker processes. Targets (issue 4): a 1,000-run sweep in at most
5 minutes on 2 cores, and at least 1.8x the runs per minute from 1 to 2 workers.

The machine's load average is printed with each figure: other processes compete for
the same cores, so read the figures with it.

Run: python benchmarks/sweep_throughput.py [--runs 60] [--workers 1 2] [--citizens 2000]
[--steps 200] [--dask] [--bare] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

TARGET_RUNS = 1000
TARGET_SECONDS = 300.0
TARGET_SPEEDUP = 1.8


def experiment(scenario: str, runs: int, citizens: int, steps: int) -> dict:
    return {"title": "throughput", "scenario": scenario, "overrides": {"population.n_citizens": citizens},
            "replicates": runs, "steps": steps, "seed": 1, "seeds": "independent"}


def measure(data: dict, workers: int | None = None, dask: str | None = None) -> dict:
    """Sweep ``data`` into a temporary directory. The finishing time of each run is the
    modification time of its record, so the steady rate (first to last finished run)
    is told apart from the start-up (worker processes importing the model)."""
    from simulation.sweep import sweep

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="scoresim-bench-") as tmp:
        start_ns = time.time_ns()
        start = time.perf_counter()
        table = sweep(data, Path(tmp) / "out", workers=workers, dask=dask, progress=False)
        wall = time.perf_counter() - start
        finished = sorted(p.stat().st_mtime_ns for p in (Path(tmp) / "out" / "records").glob("run-*.json"))
    assert (table["status"] == "ok").all(), table["error"].unique()
    n = len(table)
    first = (finished[0] - start_ns) / 1e9
    steady = (n - 1) / ((finished[-1] - finished[0]) / 1e9) * 60
    return {"workers": workers or "dask", "runs": n, "wall_s": wall, "runs_per_min": n / wall * 60,
            "steady_runs_per_min": steady, "first_result_s": first,
            "median_run_s": statistics.median(table["duration_s"]), "median_cpu_s": statistics.median(table["cpu_s"]),
            "projected_1000_s": first + (TARGET_RUNS - 1) / steady * 60,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def _bare_run(args: tuple[str, int, int, int]) -> float:
    """One run with nothing around it: build the model, step it, return its CPU time."""
    from simulation import ReputationModel

    scenario, citizens, steps, seed = args
    cpu = time.process_time()
    ReputationModel(scenario, rng=seed, **{"population.n_citizens": citizens, "run.steps": steps,
                                           "run.record_events": False}).run()
    return time.process_time() - cpu


def measure_bare(scenario: str, runs: int, citizens: int, steps: int, workers: int) -> dict:
    """The same runs in a plain process pool (no files, no seeds, no progress): what the
    machine itself gives, to separate its scaling from the sweep's overhead."""
    import multiprocessing

    tasks = [(scenario, citizens, steps, seed) for seed in range(runs)]
    load_before = os.getloadavg()[0]
    with multiprocessing.get_context("forkserver").Pool(workers) as pool:
        pool.map(_ping, range(workers))  # start the workers before timing
        start = time.perf_counter()
        cpu = pool.map(_bare_run, tasks, chunksize=1)
        wall = time.perf_counter() - start
    return {"workers": f"{workers} bare", "runs": runs, "wall_s": wall, "runs_per_min": runs / wall * 60,
            "steady_runs_per_min": runs / wall * 60, "first_result_s": float("nan"),
            "median_run_s": wall * workers / runs, "median_cpu_s": statistics.median(cpu),
            "projected_1000_s": wall / runs * TARGET_RUNS, "load_before": load_before,
            "load_after": os.getloadavg()[0]}


def _ping(_x: int) -> int:
    import simulation.model  # noqa: F401  (import before timing)

    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="baseline", help="shipped scenario name or YAML path")
    parser.add_argument("--runs", type=int, default=60, help="runs per measurement (default 60)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--citizens", type=int, default=2000, help="citizens per run (default 2000)")
    parser.add_argument("--steps", type=int, default=200, help="steps per run (default 200)")
    parser.add_argument("--dask", action="store_true",
                        help="also measure a Dask LocalCluster with the largest worker count")
    parser.add_argument("--bare", action="store_true",
                        help="also run the same runs in a plain process pool without the sweep machinery "
                             "(the machine's own scaling)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()

    data = experiment(args.scenario, args.runs, args.citizens, args.steps)
    print(f"{args.scenario}: {args.citizens} citizens x {args.steps} steps, {args.runs} runs per measurement; "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    results = [measure(data, workers=w) for w in args.workers]
    if args.bare:
        results += [measure_bare(args.scenario, args.runs, args.citizens, args.steps, w) for w in args.workers]
    if args.dask:
        from distributed import LocalCluster

        n = max(args.workers)
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            results.append(measure(data, dask=cluster.scheduler_address))
    print(f"{'workers':>8} {'runs':>5} {'wall s':>7} {'1st run s':>9} {'runs/min':>9} {'steady/min':>10} "
          f"{'run wall s':>10} {'run CPU s':>9} {'1000 runs':>9} {'load':>9}")
    for r in results:
        print(f"{r['workers']!s:>8} {r['runs']:>5} {r['wall_s']:>7.1f} {r['first_result_s']:>9.1f} "
              f"{r['runs_per_min']:>9.1f} {r['steady_runs_per_min']:>10.1f} {r['median_run_s']:>10.3f} "
              f"{r['median_cpu_s']:>9.3f} {r['projected_1000_s'] / 60:>7.1f} m "
              f"{r['load_before']:>3.1f}->{r['load_after']:<3.1f}")
    print("(runs/min: over the whole sweep, start-up included; steady/min: from the first to the last finished\n"
          " run; 1000 runs: time to the first result + 999 runs at the steady rate; run wall/CPU s: medians per\n"
          " run, a wall time above the CPU time means the workers waited for a core; 'bare': the same runs in a\n"
          " plain process pool, timed after its workers started, nothing written)")
    by_workers = {r["workers"]: r for r in results}
    summary = {"results": results}
    if 1 in by_workers and 2 in by_workers:
        speedup = by_workers[2]["steady_runs_per_min"] / by_workers[1]["steady_runs_per_min"]
        best = by_workers[2]["projected_1000_s"]
        summary.update(speedup_1_to_2=speedup, projected_1000_runs_2_workers_s=best)
        print(f"\nspeedup 1 -> 2 workers (steady rate): {speedup:.2f}x (target >= {TARGET_SPEEDUP}x)")
        print(f"1,000 runs on 2 workers: {best / 60:.1f} min (target <= {TARGET_SECONDS / 60:.0f} min; "
              f"{'met' if best <= TARGET_SECONDS else f'{best / TARGET_SECONDS:.2f}x too slow'})")
        if "1 bare" in by_workers and "2 bare" in by_workers:
            bare = by_workers["2 bare"]["runs_per_min"] / by_workers["1 bare"]["runs_per_min"]
            summary["bare_speedup_1_to_2"] = bare
            print(f"the machine itself (plain process pool): {bare:.2f}x from 1 to 2 processes")
        per_run_needed = TARGET_SECONDS * 2 / TARGET_RUNS
        cpu = by_workers[1]["median_cpu_s"]
        print(f"the target needs <= {per_run_needed:.2f} s of CPU per run on 2 cores; a run takes {cpu:.2f} s, so "
              f"2 idle cores could do 1,000 runs in about {cpu * TARGET_RUNS / 2 / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
