"""The ``scoresim`` command line: list, run, validate and document scenarios; sweep
experiments and summarise them (``sweep``, ``summarize``, ``sensitivity``).

Run ``scoresim --help`` (or ``python -m simulation --help``) for the commands and
examples. Exit statuses: 0 success, 1 an output could not be written after the run,
2 a usage or scenario error (nothing was run), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from . import __version__
from .catalog import load_scenario, scenario_dir, scenario_names, shown
from .metrics import CONFUSION_CELLS, CONFUSION_GROUPS, METRICS
from .model import ReputationModel
from .overrides import ScenarioError, apply_overrides, parse_value
from .scenario import Scenario
from .twin import has_rules, no_rules_twin

EXIT_OK = 0
EXIT_WRITE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

MAX_SEED = 2**63 - 1
"""Largest seed accepted on the command line (the seed column is a 64-bit integer)."""

SUMMARY_METRICS = (
    "trust_generalized", "trust_in_firms", "fraud_rate", "gini_wealth", "share_listed",
    "wrongful_listings_active", "approval_mean", "score_assortativity",
)
"""Metrics shown in the summary table after ``scoresim run``."""

COUNT_METRICS = frozenset({"wrongful_listings_active", "appeals_pending"})
"""Metrics that count citizens or appeals, shown as whole numbers."""

OUTPUT_FORMATS = (".csv", ".parquet")

VS_CHOICES = ("twin", "none")
"""What ``run --vs`` compares the run with: its no-rules twin (the default), or nothing."""

EPILOG = """\
examples:
  %(prog)s list
  %(prog)s run baseline --steps 50 --seed 7
  %(prog)s run blacklist --seed 7 --set population.n_citizens=5000 \\
      --set regulators.courts.false_positive_rate=0.01 --out runs/blacklist.csv
  %(prog)s run my_scenario.yaml --out runs/mine.parquet --quiet
  %(prog)s run runs/blacklist.scenario.yaml --seed 7     # repeat a run exactly
  %(prog)s validate scenarios/*.yaml
  %(prog)s schema --out scenario.schema.json
  %(prog)s metrics
  %(prog)s sweep experiments/false_positives.yaml --out results/fp --workers 2
  %(prog)s summarize results/fp
  %(prog)s sensitivity results/sobol

exit status: 0 success; 1 an output file could not be written after the run
(sweep: or some runs failed); 2 usage, scenario or experiment error (nothing was
run); 130 interrupted (nothing written; sweep: finished runs are kept).
"""


class UsageError(Exception):
    """A problem with the command line itself; reported as ``error: ...``, exit 2."""


# --------------------------------------------------------------------------- argument types


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed must be from 0 to {MAX_SEED} (2**63-1), got {value}")
    return value


def _steps(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"steps must be a whole number, got {text!r}") from None


def _assignment(text: str) -> tuple[str, str]:
    """``path=value`` split at the first ``=``; the value is parsed later, as YAML."""
    path, sep, value = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise argparse.ArgumentTypeError(
            f"expected the form path=value (e.g. population.n_citizens=5000), got {text!r}"
        )
    return path, value


# --------------------------------------------------------------------------- parser


def _wrap(text: str) -> str:
    """A paragraph wrapped for help output (descriptions are shown verbatim)."""
    return textwrap.fill(text, width=79)


def _prog() -> str:
    return "python -m simulation" if Path(sys.argv[0]).name == "__main__.py" else "scoresim"


def _add_command(sub, name: str, help: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """A subcommand's parser: ``help`` for the command list, ``description`` wrapped, and
    the ``epilog`` (examples, exit statuses) shown as written."""
    return sub.add_parser(name, help=help, description=_wrap(description), epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``scoresim`` with all subcommands."""
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description=_wrap("Agent-based simulation of reputation-scoring ('social credit') systems: "
                    "citizens, firms, regulators and pluggable rule sets."),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                title="commands", description="Run '%(prog)s COMMAND --help' for details.")

    _add_command(
        sub, "list", "list the shipped scenarios",
        "List the shipped scenarios, one per line: name, title and the rule-set "
        "kinds in force ('none' is the control). Use a name with 'run'.",
    )

    run = _add_command(
        sub, "run", "run a scenario and summarise its outcome",
        "Run a scenario, print the seed used and a summary of key metrics at step 0 "
        "and at the end. Unless --vs none, also run the scenario's no-rules twin (the "
        "same society, seed, values and steps without the rule sets; it doubles the "
        "run time) and print each metric's value without rules and the difference, "
        "which is the rules' doing (a scenario without rules is its own twin). With "
        "--out, also write the full metrics table, the twin's, the per-group confusion "
        "matrix and the exact scenario used (to repeat the run).",
        epilog="examples:\n"
               "  %(prog)s baseline --steps 50 --seed 7\n"
               "  %(prog)s blacklist --set population.n_citizens=5000 --set rules.blacklist.grace_days=60\n"
               "  %(prog)s patchwork --seed 7 --out runs/patchwork.parquet\n"
               "      writes runs/patchwork.parquet, runs/patchwork.twin.parquet,\n"
               "      runs/patchwork.confusion.parquet and runs/patchwork.scenario.yaml\n"
               "  %(prog)s blacklist --seed 7 --vs none     # the scenario alone, in half the time",
    )
    run.add_argument("scenario", metavar="SCENARIO",
                     help="a shipped scenario name (see 'list') or the path of a scenario YAML file")
    run.add_argument("--steps", type=_steps, metavar="N",
                     help="number of steps to run, instead of the scenario's run.steps "
                          "(same as --set run.steps=N; takes precedence over it)")
    run.add_argument("--seed", type=_seed, metavar="S",
                     help="random seed, 0 to 2**63-1; the same scenario and seed give identical "
                          "numbers. Default: a fresh seed is drawn and printed")
    run.add_argument("--set", dest="overrides", type=_assignment, action="append", default=[],
                     metavar="PATH=VALUE",
                     help="change one scenario value by dotted path, e.g. population.n_citizens=5000, "
                          "regulators.courts.coverage=0.2, rules.points.base=900 (a rule set is named "
                          "by its kind or position). VALUE is read as YAML: 0.1, true, [1, 2]. "
                          "Repeat for several values; a later one wins")
    run.add_argument("--out", type=Path, metavar="FILE",
                     help="write the metrics of every step (index 'step', plus columns 'seed' and "
                          "'scenario') to FILE.csv or FILE.parquet, chosen by extension; also writes "
                          "FILE's stem + '.twin.csv|.parquet' (the no-rules twin's metrics, same "
                          "columns, scenario '<SCENARIO> without rules'; not with --vs none or a "
                          "scenario without rules), + '.confusion.csv|.parquet' (per-group confusion "
                          "matrix) and + '.scenario.yaml' (the exact scenario, to re-run with the "
                          "printed seed). Existing files are replaced; each is written completely "
                          "or not at all")
    run.add_argument("--vs", choices=VS_CHOICES, default="twin",
                     help="what to set the run against: 'twin' (default) also runs the scenario's "
                          "no-rules twin and prints, per metric, its final value and the difference "
                          "(scenario minus twin); 'none' runs the scenario alone (half the time)")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no progress bar (it is also hidden when stderr is not a terminal)")

    validate = _add_command(
        sub, "validate", "check scenario files",
        "Check scenario YAML files against the schema. Prints 'OK FILE: TITLE' for "
        "each valid file and the problems of each invalid one. Exit status 0 if all "
        "are valid, else 2.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE",
                          help="scenario YAML files (shipped scenario names are accepted too)")

    schema = _add_command(
        sub, "schema", "print the JSON schema of scenario files",
        "Print the JSON schema of a scenario file (every field, its bounds, default "
        "and meaning), e.g. for an editor's YAML completion.",
    )
    schema.add_argument("--out", type=Path, metavar="FILE",
                        help="write the schema to FILE instead of printing it")

    _add_command(
        sub, "metrics", "list the output metrics with their definitions",
        "List every column of the metrics table written by 'run --out', with its "
        "definition and unit.",
    )
    _add_batch_commands(sub)
    return parser


def _checked(name: str, convert: type, ok, rule: str, example: str = ""):
    """An argparse type: ``convert`` the text, then require ``ok(value)``, else say ``rule``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            kind = "a whole number" if convert is int else f"a number such as {example}"
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{name} must be {rule}, got {value}")
        return value
    return parse


_workers = _checked("workers", int, lambda v: v >= 1, "at least 1")
_level = _checked("level", float, lambda v: 0 < v < 1, "between 0 and 1 (e.g. 0.95)", example="0.95")
_resamples = _checked("resamples", int, lambda v: v >= 10, "at least 10")


def _add_batch_commands(sub) -> None:
    """The researchers' batch commands: sweep, summarize, sensitivity (docs/batch.md)."""
    sweep = _add_command(
        sub, "sweep", "run an experiment: many seeded runs over a design, resumable",
        "Run every design point of an experiment file, each repeated with seeds spawned "
        "from its root seed, on local worker processes or a Dask cluster. Each run is "
        "saved in DIR as it finishes; running the same command again (or with --resume) "
        "runs only what is missing, so a killed sweep loses at most the runs in progress. "
        "Results do not depend on the number of workers. See docs/batch.md.",
        epilog="output in DIR:\n"
               "  runs.parquet        one row per run: run_id, point, replicate, seed, the parameter\n"
               "                      values, status (ok|failed), error, duration_s, cpu_s,\n"
               "                      spin_up_steps, final metrics, traceback\n"
               "  timeseries/         run-NNNNNN.parquet per run: the kept metrics per kept step\n"
               "  manifest.json       versions, git revision, hashes, design, every run's seed\n"
               "  experiment.yaml     the experiment with its scenario written out (to resume)\n"
               "  records/            one small file per finished run (how resuming knows)\n\n"
               "examples:\n"
               "  %(prog)s experiments/false_positives.yaml --out results/fp\n"
               "  %(prog)s experiments/false_positives.yaml --out results/fp --resume\n"
               "  %(prog)s experiments/sobol_blacklist.yaml --out results/sobol --dask tcp://10.0.0.5:8786\n\n"
               "exit status: 0 every run ok; 1 some runs failed (recorded with their error) or the\n"
               "sweep could not go on; 2 invalid experiment or arguments (nothing run);\n"
               "130 interrupted (finished runs are kept: resume with the same command).",
    )
    sweep.add_argument("experiment", metavar="EXPERIMENT",
                       help="experiment YAML file: base scenario, parameters, design, replicates, steps, seed, "
                            "metrics (see experiments/ and docs/batch.md)")
    sweep.add_argument("--out", type=Path, metavar="DIR",
                       help="output directory (required unless --dry-run); created if needed. If it holds this "
                            "experiment's earlier sweep, only the missing runs are run; if it holds another sweep "
                            "or other files, nothing is run (exit 2)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, metavar="N",
                       help="local worker processes (default: one per CPU this process may use; 1 runs "
                            "everything in this process)")
    where.add_argument("--dask", metavar="ADDRESS",
                       help="send runs to the Dask distributed scheduler at ADDRESS (e.g. tcp://host:8786) "
                            "instead of local processes; its workers need this package installed. Files are "
                            "still written here, by this process")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in DIR, and fail (exit 2) if DIR holds none. Without "
                            "--resume, a sweep of the same experiment in DIR is continued as well, and a new "
                            "or empty DIR gets a new sweep")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run again the runs recorded as failed (by default a failed run counts as done)")
    sweep.add_argument("--dry-run", action="store_true",
                       help="check the experiment and print its design points and run count; run nothing, "
                            "write nothing (--out is then not needed)")
    sweep.add_argument("--quiet", "-q", action="store_true",
                       help="no progress bar (by default a tqdm bar with ETA is shown on stderr)")

    summarize = _add_command(
        sub, "summarize", "mean and confidence interval of each metric per design point",
        "Summarise a sweep: for every kept metric and design point, the number of "
        "successful runs, the mean of their final values, the standard deviation and a "
        "Student-t confidence interval of the mean. Prints a table and writes it as CSV.",
        epilog="examples:\n"
               "  %(prog)s results/fp\n"
               "  %(prog)s results/fp --metric wrongful_listings_active --level 0.9 --csv fp.csv",
    )
    _add_sweep_input(summarize, "a sweep's output directory", "summarise")
    _add_table_output(summarize, "where to write the table (default DIR/summary.csv); columns point, the "
                                 "parameters, metric, n, n_failed, mean, std, ci_low, ci_high")

    sens = _add_command(
        sub, "sensitivity", "Sobol' or Morris sensitivity indices of a sweep",
        "Sensitivity of each kept metric's final value (mean over a point's "
        "replicates) to each parameter, computed with SALib: first- and total-order "
        "Sobol' indices for a sobol design, Morris mu*, mu and sigma for a morris "
        "design, each with a bootstrap confidence interval. Prints the parameters from "
        "most to least influential and writes the indices as CSV.",
        epilog="examples:\n"
               "  %(prog)s results/sobol\n"
               "  %(prog)s results/sobol --metric wrongful_listings_active --resamples 2000",
    )
    _add_sweep_input(sens, "output directory of a sweep with a sobol or morris design", "analyse")
    sens.add_argument("--resamples", type=_resamples, default=1000, metavar="N",
                      help="bootstrap resamples for the confidence intervals (default 1000)")
    _add_table_output(sens, "where to write the indices (default DIR/sensitivity.csv; second-order indices, "
                            "if any, go next to it as *_second_order.csv)")


def _add_sweep_input(parser: argparse.ArgumentParser, dir_help: str, verb: str) -> None:
    """The DIR argument and ``--metric`` of a command that analyses a finished sweep;
    ``verb`` (summarise, analyse) says what it does with the metrics chosen."""
    parser.add_argument("dir", metavar="DIR", type=Path, help=dir_help)
    parser.add_argument("--metric", action="append", metavar="NAME", dest="metrics",
                        help=f"{verb} only this metric (repeatable; default: every kept metric)")


def _add_table_output(parser: argparse.ArgumentParser, csv_help: str) -> None:
    """``--level``, ``--csv`` and ``--quiet`` of a command that prints a table of results
    with confidence intervals and writes it as CSV (``csv_help`` says where and what)."""
    parser.add_argument("--level", type=_level, default=0.95, metavar="P",
                        help="confidence level of the intervals (default 0.95)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help=csv_help)
    parser.add_argument("--quiet", "-q", action="store_true", help="write the CSV without printing the table")


# --------------------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    names = scenario_names()
    if not names:
        print(f"no scenarios found in {scenario_dir()}", file=sys.stderr)
        return EXIT_OK
    width = max(len(n) for n in names)
    rows, failed = [], False
    for name in names:
        try:
            scenario = load_scenario(name)
        except ScenarioError as exc:
            failed = True
            first = str(exc).splitlines()[0]
            rows.append((name, f"INVALID: {first} (see 'validate')", ""))
            continue
        kinds = ", ".join(r.kind for r in scenario.rules) or "none"
        rows.append((name, scenario.title, kinds))
    title_width = max(len(r[1]) for r in rows)
    for name, title, kinds in rows:
        print(f"{name:<{width}}  {title:<{title_width}}  {kinds}".rstrip())
    return EXIT_USAGE if failed else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    overrides = {path: parse_value(value) for path, value in args.overrides}
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    scenario = apply_overrides(load_scenario(args.scenario), overrides)
    with_twin = args.vs == "twin" and has_rules(scenario)
    out_files = _check_out(args.out, with_twin) if args.out is not None else None
    label = args.scenario
    model = ReputationModel(scenario, rng=args.seed)
    twin = no_rules_twin(model) if with_twin else None
    used = model.initial_config.model_dump(mode="json")
    total = model.config.run.steps

    print(f"scenario  {label}: {model.config.title}")
    print(f"rules     {', '.join(r.kind for r in model.config.rules) or 'none'}")
    print(f"citizens  {model.config.population.n_citizens}    steps  {total}")
    print(f"seed      {model.seed}    (repeat this run with --seed {model.seed})")
    print(f"spin-up   {model.spin_up_steps} steps without rules before step 0 "
          f"(run.spin_up: {model.config.run.spin_up}; step 0 is the society at rest)")
    if twin is not None:
        print("twin      the same run without rules, same seed (--vs none to skip it)")
    elif args.vs == "twin":
        print("twin      none: this scenario has no rules, so it is its own no-rules twin")
    sys.stdout.flush()

    runs = [(model, _short(label))] + ([(twin, f"{_short(label)} without rules")] if twin else [])
    try:
        for run, desc in runs:
            _step_all(run, total, quiet=args.quiet, desc=desc)
    except KeyboardInterrupt:
        print(f"\ninterrupted at step {run.steps} of {total}{' (twin)' if run is twin else ''}; "
              "nothing written.", file=sys.stderr)
        return EXIT_INTERRUPTED

    frame = model.metrics_frame()
    twin_frame = twin.metrics_frame() if twin is not None else None
    print()
    print(_summary(frame, twin_frame))

    if out_files is None:
        return EXIT_OK
    metrics_path, confusion_path, scenario_path, twin_path = out_files
    confusion = model.confusion_table()
    confusion.insert(1, "seed", model.seed)
    confusion.insert(2, "scenario", label)
    _resolve_network_path(used)
    scenario_text = _scenario_yaml(used, label, model.seed, scenario_path, args)
    parquet = metrics_path.suffix.lower() == ".parquet"

    def write_table(df, index: bool) -> Callable[[str], None]:
        if parquet:
            return lambda tmp: df.to_parquet(tmp, index=index)
        return lambda tmp: df.to_csv(tmp, index=index)

    def write_text(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(scenario_text)

    items = [(metrics_path, write_table(_labelled(frame, model.seed, label), True)),
             (confusion_path, write_table(confusion, False)),
             (scenario_path, write_text)]
    if twin_path is not None:
        items.append((twin_path, write_table(_labelled(twin_frame, model.seed, f"{label} without rules"), True)))
    try:
        _write_atomically(items)
    except KeyboardInterrupt:
        print("\ninterrupted while writing; nothing written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: could not write the outputs next to {metrics_path}: "
              f"{exc.strerror or exc}; nothing written.", file=sys.stderr)
        return EXIT_WRITE_FAILED
    for path, _ in items:
        print(f"wrote     {path}")
    return EXIT_OK


def _labelled(frame, seed: int, label: str):
    """The metrics table as written by ``--out``: columns ``seed`` and ``scenario`` first."""
    table = frame.copy()
    table.insert(0, "scenario", label)
    table.insert(0, "seed", seed)
    return table


def cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for name in args.files:
        try:
            scenario = load_scenario(name)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        print(f"OK {name}: {scenario.title}")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    _check_directory(args.out)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    try:
        _write_atomically([(args.out, write)])
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}.") from None
    print(f"wrote {args.out}")
    return EXIT_OK


def cmd_metrics(args: argparse.Namespace) -> int:
    width = max(len(n) for n in METRICS)
    for name, definition in METRICS.items():
        print(f"{name:<{width}}  {definition}")
    print()
    print("Also in the metrics table: seed and scenario (the run's seed and SCENARIO argument), and "
          "cm_<group>_<cell>, the confusion matrix of sanctioned (listed or low-graded) against truly "
          "offending within run.truth_window_days [citizens], for group in "
          f"{', '.join(CONFUSION_GROUPS)} and cell in {', '.join(CONFUSION_CELLS)} "
          "(true/false positive, false/true negative).")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepError, sweep

    if args.dry_run:
        return _dry_run(args.experiment)
    if args.out is None:
        raise UsageError("sweep needs --out DIR, the directory the runs are written to.")
    if "\x00" in str(args.out):
        raise UsageError(f"--out {shown(args.out)}: a directory name cannot contain a NUL character.")
    try:
        args.out.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise UsageError(f"--out {shown(args.out)}: {exc.strerror or exc}.") from None
    resume_hint = shlex.join([*_prog().split(), "sweep", args.experiment, "--out", str(args.out)])
    try:
        table = sweep(args.experiment, args.out, workers=args.workers, dask=args.dask, resume=args.resume,
                      retry_failed=args.retry_failed, progress=not args.quiet,
                      echo=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are saved in {args.out}. Resume with:\n  {resume_hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepError as exc:
        print(f"error: {exc}\nFinished runs are saved in {args.out}; resume with:\n  {resume_hint}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    except OSError as exc:
        print(f"error: could not write in {args.out}: {exc.strerror or exc}. Finished runs are saved; resume "
              f"with:\n  {resume_hint}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    failed = table[table["status"] != "ok"]
    print(f"done: {len(table) - len(failed)} ok, {len(failed)} failed; wrote {args.out / 'runs.parquet'}")
    if len(failed):
        for row in failed.head(5).itertuples():
            print(f"  failed run {row.run_id} (point {row.point}, replicate {row.replicate}, seed {row.seed}): "
                  f"{row.error}", file=sys.stderr)
        if len(failed) > 5:
            print(f"  ... and {len(failed) - 5} more: see the error column of runs.parquet", file=sys.stderr)
        return EXIT_WRITE_FAILED
    return EXIT_OK


def _dry_run(experiment: str) -> int:
    from .sweep import Sweep

    plan = Sweep(experiment)
    e = plan.experiment
    print(f"experiment  {e.title}")
    print(f"scenario    {plan.resolved.scenario.title} ({plan.resolved.scenario.population.n_citizens} citizens, "
          f"{plan.resolved.steps} steps)")
    print(f"design      {e.design.kind}: {len(plan.design.points)} points x {e.replicates} replicates = "
          f"{plan.n_runs} runs; seeds {e.seeds} from root seed {e.seed}")
    print(f"metrics     {len(plan.keep)} kept; time series every {e.metrics.every or '-'} steps")
    import pandas as pd

    points = pd.DataFrame(plan.design.points, columns=list(plan.design.names))
    if len(points.columns):
        points.index.name = "point"
        print()
        print(points.head(10).to_string())
        if len(points) > 10:
            print(f"... and {len(points) - 10} more points")
    return EXIT_OK


def cmd_summarize(args: argparse.Namespace) -> int:
    from .analysis import format_summary, summarize

    table = summarize(args.dir, args.metrics, args.level)
    path = args.csv or args.dir / "summary.csv"
    _write_csv(path, table)
    if not args.quiet:
        print(format_summary(table, args.level))
        print()
    print(f"wrote {path}")
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from .analysis import format_sensitivity, sensitivity

    result = sensitivity(args.dir, args.metrics, args.resamples, args.level)
    path = args.csv or args.dir / "sensitivity.csv"
    _write_csv(path, result["indices"])
    written = [path]
    if len(result["second_order"]):
        second = path.with_name(f"{path.stem}_second_order.csv")
        _write_csv(second, result["second_order"])
        written.append(second)
    if not args.quiet:
        print(format_sensitivity(result, args.level))
        print()
    for p in written:
        print(f"wrote {p}")
    return EXIT_OK


def _write_csv(path: Path, table) -> None:
    _check_directory(path)

    def write(tmp: str) -> None:
        table.to_csv(tmp, index=False)

    try:
        _write_atomically([(path, write)])
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}.") from None


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list, "run": cmd_run, "validate": cmd_validate,
    "schema": cmd_schema, "metrics": cmd_metrics,
    "sweep": cmd_sweep, "summarize": cmd_summarize, "sensitivity": cmd_sensitivity,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scoresim`` and ``python -m simulation``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `scoresim schema | head`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_WRITE_FAILED


# --------------------------------------------------------------------------- helpers


def _short(label: str) -> str:
    return Path(label).stem if label.lower().endswith((".yaml", ".yml")) else label


def _step_all(model: ReputationModel, total: int, quiet: bool, desc: str) -> None:
    """Step the model like ``model.run()``, with a progress bar on stderr when useful."""
    from tqdm.auto import tqdm

    show = not quiet and sys.stderr.isatty()
    with tqdm(total=total, initial=model.steps, disable=not show, file=sys.stderr, unit="step",
              desc=desc, leave=False, delay=0.5) as bar:
        while model.running and model.steps < total:
            model.step()
            bar.update(1)


def _format(name: str, value: float, sign: bool = False) -> str:
    if value != value:  # NaN
        return "nan"
    plus = "+" if sign else ""
    if name in COUNT_METRICS and float(value).is_integer():
        return f"{int(value):{plus}d}"
    return f"{value:{plus}.4f}"


def _summary(frame, twin=None) -> str:
    """The summary table: each of :data:`SUMMARY_METRICS` at the first and last step and,
    with the twin's metrics, the twin's last value and the difference (scenario - twin)."""
    first, last = frame.index[0], frame.index[-1]
    names = [m for m in SUMMARY_METRICS if m in frame.columns]
    width = max(len("metric"), *(len(m) for m in names))
    heads = [f"step {first}", f"step {last}"] + (["no rules", "difference"] if twin is not None else [])
    col = max(10, *(len(h) for h in heads))
    lines = ["  ".join([f"{'metric':<{width}}", *(f"{h:>{col}}" for h in heads)])]
    for m in names:
        cells = [_format(m, frame.at[first, m]), _format(m, frame.at[last, m])]
        if twin is not None:
            cells += [_format(m, twin.at[last, m]), _format(m, frame.at[last, m] - twin.at[last, m], sign=True)]
        lines.append("  ".join([f"{m:<{width}}", *(f"{c:>{col}}" for c in cells)]))
    if twin is not None:
        lines.append(f"(no rules: this run without its rule sets, same seed, at step {last}; "
                     "difference = scenario - no rules)")
    return "\n".join(lines)


def _out_paths(out: Path, twin: bool) -> tuple[Path, Path, Path, Path | None]:
    """The metrics, confusion, scenario and (with a twin) twin paths ``--out`` writes."""
    ext = out.suffix
    return (out, out.with_suffix(f".confusion{ext}"), out.with_suffix(".scenario.yaml"),
            out.with_suffix(f".twin{ext}") if twin else None)


def _check_out(out: Path, twin: bool) -> tuple[Path, Path, Path, Path | None]:
    """The output paths of ``--out`` (see :func:`_out_paths`), or UsageError if they
    cannot be written (found before the run, so that no computed result is lost)."""
    if "\x00" in str(out):
        raise UsageError(f"--out {shown(out)}: a file name cannot contain a NUL character.")
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise UsageError(f"--out {shown(out)}: unknown file type '{shown(out.suffix) or '(none)'}'; "
                         "use a name ending in .csv or .parquet.")
    paths = _out_paths(out, twin)
    written = [p for p in paths if p is not None]
    try:
        for path in written:
            if path.is_dir():
                raise UsageError(f"--out {out}: {path} is a directory.")
    except OSError as exc:
        raise UsageError(f"--out {shown(out)}: {exc.strerror or exc}.") from None
    _check_directory(out)
    for path in written:  # the names the writer will use for its temporary files must fit too
        try:
            fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise UsageError(f"cannot write {shown(path)}: {exc.strerror or exc}.") from None
    return paths


def _check_directory(target: Path) -> None:
    """Fail unless a new file can be created in ``target``'s folder (tried, not guessed)."""
    folder = target.parent
    if not folder.exists():
        raise UsageError(f"cannot write {target}: directory {folder} does not exist; create it first.")
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: {folder} is not a directory.")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".scoresim-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: directory {folder} is not writable "
                         f"({exc.strerror or exc}).") from None


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_atomically(items: list[tuple[Path, Callable[[str], None]]]) -> None:
    """Write every file to a temporary file in its folder, then move all into place.

    If anything fails or is interrupted before the moves, the temporary files are
    removed and no target is touched.
    """
    staged: list[tuple[str, Path]] = []
    mode = _file_mode()
    try:
        for target, write in items:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            staged.append((tmp, target))
            write(tmp)
            os.chmod(tmp, mode)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise


def _resolve_network_path(data: dict) -> None:
    """Make an edge-list path absolute, so the written scenario works from any folder."""
    network = data.get("network")
    if isinstance(network, dict) and network.get("kind") == "edge_list" and network.get("path"):
        network["path"] = str(Path(network["path"]).resolve())


def _comment(text: str) -> str:
    """``text`` safe inside a one-line YAML comment (no line breaks or control characters)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _scenario_yaml(data: dict, label: str, seed: int, path: Path, args: argparse.Namespace) -> str:
    argv = ["run", args.scenario]
    for key, value in args.overrides:
        argv += ["--set", f"{key}={value}"]
    if args.steps is not None:
        argv += ["--steps", str(args.steps)]
    argv += ["--seed", str(seed)]
    header = [
        f"Scenario '{label}' exactly as run by scoresim {__version__} with seed {seed}.",
        "Made by:",
        "  " + shlex.join([*_prog().split(), *argv]),
        "Re-run it (identical numbers) with:",
        "  " + shlex.join(["python", "-m", "simulation", "run", str(path), "--seed", str(seed)]),
    ]
    comment = "".join(f"# {_comment(line)}\n" for line in header)
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
