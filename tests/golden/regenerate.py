"""Regenerate the golden runs: only on purpose, when a change of the model's results is
intended (say why in the commit). Run: python tests/golden/regenerate.py"""

from __future__ import annotations

from pathlib import Path

from simulation import ReputationModel

HERE = Path(__file__).parent
CASES = {
    "patchwork": ("patchwork", 3, {"population.n_citizens": 800, "run.steps": 40}),
    "friends_in_score": ("friends_in_score", 4, {"population.n_citizens": 600, "run.steps": 40}),
    "high_error": ("high_error", 5, {"population.n_citizens": 600, "run.steps": 60}),
}


def run(name: str):
    scenario, seed, overrides = CASES[name]
    return ReputationModel(scenario, rng=seed, **overrides).run()


if __name__ == "__main__":
    for name in CASES:
        run(name).to_csv(HERE / f"{name}.csv", float_format="%.17g")
        print("wrote", HERE / f"{name}.csv")
