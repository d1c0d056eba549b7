"""The ``scoresim`` command line: list, run, validate and document scenarios.

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
from .catalog import load_scenario, scenario_dir, scenario_names
from .metrics import CONFUSION_CELLS, CONFUSION_GROUPS, METRICS
from .model import ReputationModel
from .overrides import ScenarioError, apply_overrides, parse_value
from .scenario import Scenario

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

exit status: 0 success; 1 an output file could not be written after the run;
2 usage or scenario error (nothing was run); 130 interrupted (nothing written).
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

    sub.add_parser(
        "list", help="list the shipped scenarios",
        description=_wrap("List the shipped scenarios, one per line: name, title and the rule-set "
                    "kinds in force ('none' is the control). Use a name with 'run'."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    run = sub.add_parser(
        "run", help="run a scenario and summarise its outcome",
        description=_wrap("Run a scenario, print the seed used and a summary of key metrics at step 0 "
                    "and at the end. With --out, also write the full metrics table, the "
                    "per-group confusion matrix and the exact scenario used (to repeat the run)."),
        epilog="examples:\n"
               "  %(prog)s baseline --steps 50 --seed 7\n"
               "  %(prog)s blacklist --set population.n_citizens=5000 --set rules.blacklist.grace_days=60\n"
               "  %(prog)s patchwork --seed 7 --out runs/patchwork.parquet\n"
               "      writes runs/patchwork.parquet, runs/patchwork.confusion.parquet and\n"
               "      runs/patchwork.scenario.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
                          "FILE's stem + '.confusion.csv|.parquet' (per-group confusion matrix) and "
                          "+ '.scenario.yaml' (the exact scenario, to re-run with the printed seed). "
                          "Existing files are replaced; each is written completely or not at all")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no progress bar (it is also hidden when stderr is not a terminal)")

    validate = sub.add_parser(
        "validate", help="check scenario files",
        description=_wrap("Check scenario YAML files against the schema. Prints 'OK FILE: TITLE' for "
                    "each valid file and the problems of each invalid one. Exit status 0 if all "
                    "are valid, else 2."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("files", nargs="+", metavar="FILE",
                          help="scenario YAML files (shipped scenario names are accepted too)")

    schema = sub.add_parser(
        "schema", help="print the JSON schema of scenario files",
        description=_wrap("Print the JSON schema of a scenario file (every field, its bounds, default "
                    "and meaning), e.g. for an editor's YAML completion."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("--out", type=Path, metavar="FILE",
                        help="write the schema to FILE instead of printing it")

    sub.add_parser(
        "metrics", help="list the output metrics with their definitions",
        description=_wrap("List every column of the metrics table written by 'run --out', with its "
                    "definition and unit."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


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
    out_files = _check_out(args.out) if args.out is not None else None
    overrides = {path: parse_value(value) for path, value in args.overrides}
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    scenario = apply_overrides(load_scenario(args.scenario), overrides)
    label = args.scenario
    model = ReputationModel(scenario, rng=args.seed)
    used = model.initial_config.model_dump(mode="json")
    total = model.config.run.steps

    print(f"scenario  {label}: {model.config.title}")
    print(f"rules     {', '.join(r.kind for r in model.config.rules) or 'none'}")
    print(f"citizens  {model.config.population.n_citizens}    steps  {total}")
    print(f"seed      {model.seed}    (repeat this run with --seed {model.seed})", flush=True)

    try:
        _step_all(model, total, quiet=args.quiet, desc=_short(label))
    except KeyboardInterrupt:
        print(f"\ninterrupted at step {model.steps} of {total}; nothing written.", file=sys.stderr)
        return EXIT_INTERRUPTED

    frame = model.metrics_frame()
    print()
    print(_summary(frame))

    if out_files is None:
        return EXIT_OK
    metrics_path, confusion_path, scenario_path = out_files
    table = frame.copy()
    table.insert(0, "scenario", label)
    table.insert(0, "seed", model.seed)
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

    try:
        _write_atomically([(metrics_path, write_table(table, True)),
                           (confusion_path, write_table(confusion, False)),
                           (scenario_path, write_text)])
    except KeyboardInterrupt:
        print("\ninterrupted while writing; nothing written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: could not write the outputs next to {metrics_path}: "
              f"{exc.strerror or exc}; nothing written.", file=sys.stderr)
        return EXIT_WRITE_FAILED
    for path in out_files:
        print(f"wrote     {path}")
    return EXIT_OK


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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list, "run": cmd_run, "validate": cmd_validate,
    "schema": cmd_schema, "metrics": cmd_metrics,
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


def _format(name: str, value: float) -> str:
    if value != value:  # NaN
        return "nan"
    if name in COUNT_METRICS and float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.4f}"


def _summary(frame) -> str:
    first, last = frame.index[0], frame.index[-1]
    names = [m for m in SUMMARY_METRICS if m in frame.columns]
    width = max(len("metric"), *(len(m) for m in names))
    head_a, head_b = f"step {first}", f"step {last}"
    col = max(10, len(head_a), len(head_b))
    lines = [f"{'metric':<{width}}  {head_a:>{col}}  {head_b:>{col}}"]
    for m in names:
        start, end = _format(m, frame.at[first, m]), _format(m, frame.at[last, m])
        lines.append(f"{m:<{width}}  {start:>{col}}  {end:>{col}}")
    return "\n".join(lines)


def _out_paths(out: Path) -> tuple[Path, Path, Path]:
    ext = out.suffix
    return out, out.with_suffix(f".confusion{ext}"), out.with_suffix(".scenario.yaml")


def _check_out(out: Path) -> tuple[Path, Path, Path]:
    """The three output paths of ``--out``, or UsageError if they cannot be written."""
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise UsageError(f"--out {out}: unknown file type '{out.suffix or '(none)'}'; "
                         "use a name ending in .csv or .parquet.")
    paths = _out_paths(out)
    for path in paths:
        if path.is_dir():
            raise UsageError(f"--out {out}: {path} is a directory.")
    _check_directory(out)
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
