"""Cost of a step: construction time, seconds per step, nanoseconds per citizen-step
and peak memory, for a scenario at several population sizes.

Each size runs in its own process so that peak memory is that size's own. Figures are
medians over repetitions. Run: python benchmarks/step_cost.py [--scenario patchwork]
[--sizes 10000 100000 1000000] [--steps 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from simulation import ReputationModel
scenario, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
model = ReputationModel(scenario, rng=1, **{"population.n_citizens": n, "run.record_events": False})
build = time.perf_counter() - t
model.step()  # warm-up
t = time.perf_counter()
for _ in range(steps):
    model.step()
per_step = (time.perf_counter() - t) / steps
print(json.dumps({"build_s": build, "step_s": per_step,
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def measure(scenario: str, n: int, steps: int, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(n), str(steps)],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="patchwork", help="shipped scenario name or YAML path")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="numbers of citizens")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median reported)")
    args = parser.parse_args()
    print(f"scenario {args.scenario}; Python {platform.python_version()} on {platform.machine()}, "
          f"{platform.processor() or 'unknown CPU'}; medians of {args.repeats} runs x {args.steps} steps")
    print(f"{'citizens':>10} {'build s':>9} {'s/step':>9} {'ns/citizen-step':>16} {'peak GiB':>9}")
    for n in args.sizes:
        r = measure(args.scenario, n, args.steps, args.repeats)
        print(f"{n:>10,} {r['build_s']:>9.3f} {r['step_s']:>9.4f} {r['step_s'] / n * 1e9:>16.0f} {r['peak_gib']:>9.2f}")


if __name__ == "__main__":
    main()
