"""Cost of a step, against Mesa's own example model and a pure-numpy kernel, in one run.

Prints, for the ``patchwork`` scenario (every rule set on) at 10k, 100k and 1M
citizens: model construction time, seconds per step, nanoseconds per citizen-step and
peak resident memory; and, in the same run, the same figures for Mesa's shipped
``EpsteinCivilViolence`` at about 10k agents and for a numpy-vectorised Boltzmann
wealth exchange at 1M agents. Every case runs in its own process (so that peak memory
is the case's own), the repetitions are interleaved (so that a busy machine slows all
cases alike) and the figures are medians over repetitions; the ratios at the end are
therefore meaningful even when the absolute figures are not.

From 100k citizens a model uses a second core, to draw its regular random numbers ahead
(:mod:`simulation.draws`) and to compute independent parts of a step at once
(:mod:`simulation.parallel`), with the same numbers: the table gives wall-clock time per
step and, beside it, the CPU time of the whole process, and the largest size is also run
on one core, so both figures are on record.

``--scaling`` adds how the cost grows with the network's mean degree and with the
number of rule sets (at 100k citizens).

Run: python benchmarks/step_cost.py [--sizes 10000 100000 1000000] [--steps 10] [--warmup 20]
[--repeats 3] [--scaling] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

EPSTEIN_AGENTS = 10_000
NUMPY_AGENTS = 1_000_000
RULE_SETS = ("blacklist", "points", "commercial", "rating")


# --------------------------------------------------------------------------- one case (child process)


def _timed(build, step, steps: int, warmup: int) -> dict:
    t = time.perf_counter()
    model = build()
    build_s = time.perf_counter() - t
    for _ in range(warmup):  # to a steady state: lists, appeals and opt-ins build up over the first steps
        step(model)
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step(model)
    return {"build_s": build_s, "step_s": (time.perf_counter() - t) / steps,
            "cpu_s": (time.process_time() - cpu) / steps, "peak_gib": peak_rss() / 2**30}


def peak_rss() -> int:
    """This process's own peak resident memory [bytes]: VmHWM, since ru_maxrss carries
    the parent's high-water mark over a fork."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def scoresim_case(agents: int, steps: int, warmup: int, degree: int | None = None,
                  rule_sets: int | None = None, one_core: bool = False) -> dict:
    from simulation import ReputationModel, draws
    from simulation.catalog import load_scenario

    if one_core:
        draws.AHEAD_FROM = None

    scenario = load_scenario("patchwork")
    if rule_sets is not None:
        rules = [{"kind": kind} for kind in RULE_SETS[:rule_sets]] or [{"kind": "none"}]
        scenario = type(scenario).model_validate({**scenario.model_dump(), "rules": rules})
    # the steps of a run are timed, from the drawn start: the spin-up before step 0 is
    # benchmarks/rest_state.py's (its steps cost what a no-rules step costs)
    overrides = {"population.n_citizens": agents, "run.record_events": False, "run.spin_up": 0}
    if degree is not None:
        overrides["network.mean_degree"] = degree
    out = _timed(lambda: ReputationModel(scenario, rng=1, **overrides), lambda m: m.step(), steps, warmup)
    return out | {"agents": agents}


def epstein_case(agents: int, steps: int, warmup: int) -> dict:
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence, EpsteinScenario

    scenario = EpsteinScenario(rng=1)
    side = round((agents / (scenario.citizen_density + scenario.cop_density)) ** 0.5)
    out = _timed(lambda: EpsteinCivilViolence(width=side, height=side, scenario=EpsteinScenario(rng=1)),
                 lambda m: m.step(), steps, min(warmup, 1))
    model = EpsteinCivilViolence(width=side, height=side, scenario=EpsteinScenario(rng=1))
    return out | {"agents": len(model.agents)}


def numpy_case(agents: int, steps: int, warmup: int) -> dict:
    """Boltzmann wealth exchange: every agent with money gives one unit to a random agent."""
    import numpy as np

    class Kernel:
        def __init__(self) -> None:
            self.rng = np.random.default_rng(1)
            self.wealth = np.ones(agents, np.int64)

    def step(k: Kernel) -> None:
        givers = np.flatnonzero(k.wealth > 0)
        k.wealth[givers] -= 1
        k.wealth += np.bincount(k.rng.integers(0, agents, givers.size), minlength=agents)

    return _timed(Kernel, step, steps, min(warmup, 1)) | {"agents": agents}


CASES = {"scoresim": scoresim_case, "epstein": epstein_case, "numpy": numpy_case}


# --------------------------------------------------------------------------- the parent


def run_case(case: dict, steps: int, warmup: int) -> dict:
    spec = json.dumps(case | {"steps": steps, "warmup": warmup})
    done = subprocess.run([sys.executable, __file__, "--child", spec], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(cases: list[dict], steps: int, warmup: int, repeats: int) -> list[dict]:
    """Median figures per case; repetitions interleaved across cases."""
    runs: list[list[dict]] = [[] for _ in cases]
    for rep in range(repeats):
        for i, case in enumerate(cases):
            runs[i].append(run_case(case, steps, warmup))
            print(f"  repetition {rep + 1}/{repeats}: {label(case)} done", file=sys.stderr, flush=True)
    out = []
    for case, rs in zip(cases, runs, strict=True):
        med = {key: statistics.median(r[key] for r in rs) for key in ("build_s", "step_s", "cpu_s", "peak_gib")}
        med["agents"] = rs[0]["agents"]
        med["ns_per_agent_step"] = med["step_s"] / med["agents"] * 1e9
        med["cpu_ns_per_agent_step"] = med["cpu_s"] / med["agents"] * 1e9
        out.append(case | med)
    return out


def label(case: dict) -> str:
    if case["kind"] == "scoresim":
        extra = "".join(f", {k.replace('_', ' ')} {case[k]}" for k in ("degree", "rule_sets") if k in case)
        return f"scoresim patchwork{extra}{', one core' if case.get('one_core') else ''}"
    return {"epstein": "Mesa EpsteinCivilViolence", "numpy": "numpy wealth exchange"}[case["kind"]]


def table(rows: list[dict]) -> str:
    lines = [f"{'case':<44} {'agents':>10} {'build s':>8} {'s/step':>9} {'ns/agent-step':>14} "
             f"{'CPU ns':>8} {'peak GiB':>9}"]
    for r in rows:
        lines.append(f"{label(r):<44} {r['agents']:>10,} {r['build_s']:>8.2f} {r['step_s']:>9.4f} "
                     f"{r['ns_per_agent_step']:>14,.0f} {r['cpu_ns_per_agent_step']:>8,.0f} {r['peak_gib']:>9.2f}")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="numbers of citizens for patchwork (default: 10k, 100k, 1M)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=20,
                        help="untimed steps before timing, for scoresim (Epstein and numpy: 1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; medians are reported")
    parser.add_argument("--scaling", action="store_true",
                        help="also vary mean degree (4-32) and the number of rule sets (0-4) at 100k citizens")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(CASES[spec.pop("kind")](**spec)))
        return

    cases = [{"kind": "scoresim", "agents": n} for n in args.sizes]
    cases += [{"kind": "scoresim", "agents": max(args.sizes), "one_core": True}]
    cases += [{"kind": "epstein", "agents": EPSTEIN_AGENTS}, {"kind": "numpy", "agents": NUMPY_AGENTS}]
    if args.scaling:
        cases += [{"kind": "scoresim", "agents": 100_000, "degree": d} for d in (4, 8, 16, 32)]
        cases += [{"kind": "scoresim", "agents": 100_000, "rule_sets": k} for k in range(len(RULE_SETS) + 1)]
    load = os.getloadavg()[0]
    print(f"{machine()}; load average {load:.2f} at start; medians of {args.repeats} runs x {args.steps} steps "
          f"after {args.warmup} warm-up steps")
    rows = measure(cases, args.steps, args.warmup, args.repeats)
    print(table(rows))
    by_kind = {r["kind"]: r for r in rows if "degree" not in r and "rule_sets" not in r}
    ours = [r for r in rows if r["kind"] == "scoresim" and "degree" not in r and "rule_sets" not in r]
    epstein, kernel = by_kind["epstein"], by_kind["numpy"]
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    for r in ours:
        print(f"patchwork at {r['agents']:>9,}{' (one core)' if r.get('one_core') else ''}: "
              f"{epstein['ns_per_agent_step'] / r['ns_per_agent_step']:,.0f}x "
              f"cheaper per agent-step than Mesa's EpsteinCivilViolence at {epstein['agents']:,}; "
              f"{r['ns_per_agent_step'] / kernel['ns_per_agent_step']:.1f}x the numpy kernel's cost")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine(), "load_start": load, "load_end": os.getloadavg()[0],
                       "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
