"""Scale: a million citizens with every rule set on runs on a 2-core, 24 GiB machine.
(Speed is measured by the benchmarks, not asserted here; the runs here take a short
spin-up, whose steps use the memory of any step: the automatic one's length and cost
are benchmarks/rest_state.py's.)"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from simulation import ReputationModel


def test_million_citizen_patchwork_runs():
    model = ReputationModel("patchwork", rng=1, **{"population.n_citizens": 1_000_000, "run.spin_up": 10})
    assert model.spin_up_steps == 10 and model.steps == 0
    df = model.run(3)
    assert model.citizens.n == 1_000_000
    assert list(df.index) == [0, 1, 2, 3]
    assert np.isfinite(df.to_numpy(dtype=float)).all()
    assert df["cm_all_tp"].iloc[-1] + df["cm_all_fp"].iloc[-1] + df["cm_all_fn"].iloc[-1] \
        + df["cm_all_tn"].iloc[-1] == 1_000_000


MEASURE = r"""
import json, sys
import simulation.model as model_module
from simulation import ReputationModel
from simulation.catalog import load_scenario
from simulation.overrides import apply_overrides

def peak_rss():  # this process's own high-water mark (ru_maxrss carries the parent's over a fork)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))

n = int(sys.argv[1])
before = peak_rss()
overrides = {"population.n_citizens": n}
ReputationModel("patchwork", rng=1, **overrides, **{"run.spin_up": 10}).run(3)
peak = peak_rss()
scenario = apply_overrides(load_scenario("patchwork"), overrides)
degree = scenario.network.mean_degree
estimate = n * model_module.BYTES_PER_CITIZEN + n * degree // 2 * model_module.BYTES_PER_TIE
print(json.dumps({"used": peak - before, "estimate": estimate}))
"""


def test_memory_estimate_covers_what_a_run_uses():
    """The footprint estimated before allocating (what refuses a population that will not
    fit) is at least what a run really takes, and not so high that it refuses runs that
    would fit (within a factor of two)."""
    out = subprocess.run([sys.executable, "-c", MEASURE, "400000"], check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["used"] <= figures["estimate"] <= 2 * figures["used"], figures
