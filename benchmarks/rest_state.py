"""Cost of a society at rest: construction plus the no-rules spin-up before step 0.

Prints, for ``patchwork`` at 10k, 100k and 1M citizens (each size in its own process,
so that one size's cache and memory do not help another): the seconds to build the
model with its rest state, the spin-up steps the automatic rule ran, the seconds per
spin-up step, the seconds to build without a spin-up (``run.spin_up: 0``) for
comparison, and, where the rest state is cached (below the draw-ahead threshold of
simulation/draws.py), the seconds to build a second scenario on the same seed from
the cache. The load average is printed beside each line: on a busy machine rerun it.

Run: python benchmarks/rest_state.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CASE = r"""
import json, sys, time
from simulation import ReputationModel
n = int(sys.argv[1])
t = time.perf_counter()
ReputationModel("patchwork", rng=1, **{"population.n_citizens": n, "run.spin_up": 0})
cold = time.perf_counter() - t
t = time.perf_counter()
model = ReputationModel("patchwork", rng=1, **{"population.n_citizens": n})
rest = time.perf_counter() - t
t = time.perf_counter()
ReputationModel("blacklist", rng=1, **{"population.n_citizens": n})
again = time.perf_counter() - t
print(json.dumps({"n": n, "rest": rest, "steps": model.spin_up_steps, "cold": cold, "again": again}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"{'citizens':>10} {'built at rest':>14} {'spin-up steps':>14} {'s/step':>8} {'no spin-up':>11} "
          f"{'2nd scenario':>13}  load")
    for n in args.sizes:
        out = subprocess.run([sys.executable, "-c", CASE, str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        per_step = (r["rest"] - r["cold"]) / max(r["steps"], 1)
        print(f"{n:>10,} {r['rest']:>12.1f} s {r['steps']:>14} {per_step:>8.3f} {r['cold']:>9.1f} s "
              f"{r['again']:>11.1f} s  {os.getloadavg()[0]:.1f}")
        sys.stdout.flush()
        time.sleep(1)


if __name__ == "__main__":
    main()
