"""What dominates a step: milliseconds per step in each phase, from a profile.

Profiles a few steps of a scenario (cProfile, counting CPU time of this process, so
that other work on the machine inflates the figures less) and adds up the phases of
``ReputationModel.step``: behaviour, observation, each rule set's hooks, shaming,
adaptation, metrics and data collection; then lists the costliest functions. The model
runs on one core (no draw-ahead, :mod:`simulation.draws`, and no parts computed at once,
:mod:`simulation.parallel`), so that the profile shows a step's whole work.

Run: python benchmarks/phases.py [--scenario patchwork] [--citizens 1000000] [--steps 5]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

PHASES = {
    "behave: opt-in choices": ("base.py", "choose_opt_in"),
    "behave: purchases, trust game, infractions, prosocial, speech": ("behaviour.py", "act"),
    "observe and record": ("recording.py", "observe"),
    "score (all rule sets)": (None, "score"),
    "consequences (all rule sets)": (None, "consequences"),
    "shaming: cut and rewire ties": ("model.py", "_shaming"),
    "expiry and appeals": (None, "expire"),
    "adapt: income, wealth, watch, approval, firms": ("model.py", "_adapt"),
    "metrics": ("metrics.py", "compute"),
    "data collection": ("datacollection.py", "collect"),
}


def phase_times(stats: pstats.Stats, steps: int) -> dict[str, float]:
    """Cumulative milliseconds per step of each phase."""
    out = dict.fromkeys(PHASES, 0.0)
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():
        for phase, (file_part, name) in PHASES.items():
            if function == name and (file_part is None and "/rules/" in filename
                                     or file_part is not None and filename.endswith(file_part)):
                out[phase] += cumulative / steps * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="patchwork")
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=15, help="costliest functions to list")
    args = parser.parse_args()

    from simulation import ReputationModel, draws

    draws.AHEAD_FROM = None
    model = ReputationModel(args.scenario, rng=1, **{"population.n_citizens": args.citizens,
                                                     "run.record_events": False, "run.spin_up": 0})
    model.step()  # warm-up
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for _ in range(args.steps):
        model.step()
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt / args.steps * 1e3
    print(f"{args.scenario}, {args.citizens:,} citizens: {total:.0f} ms CPU per step "
          f"({total / args.citizens * 1e6:.0f} ns per citizen-step, profiler overhead included)")
    for phase, ms in phase_times(stats, args.steps).items():
        print(f"  {phase:<52} {ms:8.1f} ms  {ms / total:6.1%}")
    print("costliest functions (own time, ms per step):")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:args.top]
    for (filename, line, function), (_, _, own, _, _) in rows:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        print(f"  {own / args.steps * 1e3:8.1f}  {function} ({where}:{line})")


if __name__ == "__main__":
    main()
