"""The tutorials, how-to guides and references say only what the code does.

For every page in ``NEW_PAGES``:

- every command in a fenced ``bash`` block that calls the command line
  (``python -m simulation``, ``.venv/bin/python -m simulation`` or ``scoresim``) is
  parsed by the real argument parser, and then run, in page order, in a scratch
  folder that sees the repository's ``scenarios/``, ``experiments/`` and ``docs/``:
  ``run`` with 50 citizens and 60 steps appended (later options win), ``sweep``
  as ``--dry-run`` (the experiment is fully checked, nothing runs) unless a later
  ``summarize`` or ``sensitivity`` on the page reads its output, in which case it
  runs for real on one process; every other command as written. A ``--dask``
  sweep is only parsed and dry-run (there is no cluster here), and a ``summarize``
  or ``sensitivity`` of a folder that no real sweep on the page wrote is only parsed;
- every fenced ``python`` block of ``PYTHON_PAGES`` runs, the blocks of a page in one
  namespace and in page order, in such a scratch folder; those of
  ``tutorial-research.md`` after its commands, in the same folder, as a reader would;
- the notebook's code cells run the same way (with ``exec``: the test suite needs no
  Jupyter kernel);
- every relative link resolves to a file, and a ``#anchor`` to a heading of it;
- every scenario name, metric name and dotted parameter a tutorial puts in backticks
  exists, and ``yaml`` blocks that name a file in ``docs/examples/`` in their first
  line equal that file.

``docs/reference-cli.md`` itself is generated; ``tests/test_docs.py`` checks that it
matches the parser (``python -m simulation.paramdoc --check``).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from simulation import cli, clidoc, paramdoc
from simulation.catalog import load_scenario, scenario_names
from simulation.metrics import CONFUSION_COLUMNS, METRICS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

TUTORIALS = ("tutorial-classroom.md", "tutorial-workshop.md", "tutorial-research.md")
NEW_PAGES = (*TUTORIALS, "howto-rule-set.md", "howto-scenario.md", "howto-dask.md",
             "reference-cli.md", "reference-python.md", "reference-files.md")
PYTHON_PAGES = ("reference-python.md", "tutorial-workshop.md")
NOTEBOOK = DOCS / "notebooks" / "quickstart.ipynb"
CLI_PREFIXES = (("python", "-m", "simulation"), (".venv/bin/python", "-m", "simulation"), ("scoresim",))
TINY_RUN = ["--set", "population.n_citizens=50", "--steps", "60", "--quiet"]
"""Appended to every ``run``: 50 citizens (unless the network is an edge list, which
fixes the number); 60 steps, so that the examples' interventions (step 52) still fall
inside the run."""

OTHER_WORDS = {
    # backticked words in the tutorials that are neither scenarios, metrics nor parameters
    "none", "kind", "replicate", "mean", "sobol", "morris", "grid", "runs.parquet", "manifest.json",
    "experiment.yaml",
}


def page(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def blocks(text: str, lang: str) -> list[str]:
    """The contents of the fenced blocks of one language, in page order."""
    return re.findall(rf"^```{lang}[ \t]*\n(.*?)^```", text, flags=re.M | re.S)


def shell_commands(text: str) -> list[list[str]]:
    """Each command of the page's bash blocks as argv (continuations joined, comments cut)."""
    out = []
    for block in blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                out.append(argv)
    return out


def cli_argv(argv: list[str]) -> list[str] | None:
    """The arguments after the program name, if ``argv`` calls the scoresim command line."""
    for prefix in CLI_PREFIXES:
        if tuple(argv[: len(prefix)]) == prefix:
            return argv[len(prefix):]
    return None


def cli_commands(name: str) -> list[list[str]]:
    return [a for argv in shell_commands(page(name)) if (a := cli_argv(argv)) is not None]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A scratch working folder that sees the repository's scenarios, experiments and docs."""
    for folder in ("scenarios", "experiments", "docs"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- shell commands


@pytest.mark.parametrize("name", NEW_PAGES)
def test_cli_commands_parse(name):
    """Every command-line call on the page is accepted by the real parser."""
    parser = cli.build_parser()
    for argv in cli_commands(name):
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"docs/{name}: the parser rejects: {shlex.join(argv)}")


def test_cli_reference_examples_parse():
    """The examples in the parser's epilogs, as shown on docs/reference-cli.md, parse."""
    parser = cli.build_parser()
    examples = []
    for block in blocks(page("reference-cli.md"), ""):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith(f"{clidoc.PROG} ") and "[-h]" not in line:
                examples.append(shlex.split(line, comments=True)[3:])
    assert len(examples) > 10
    for argv in examples:
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"docs/reference-cli.md: the parser rejects its own example: {shlex.join(argv)}")


def _read_by_later_command(argv: list[str], later: list[list[str]]) -> bool:
    """A sweep whose --out folder a later summarize or sensitivity on the page reads."""
    if "--out" not in argv or "--dask" in argv:
        return False
    out = argv[argv.index("--out") + 1]
    return any(a[:1] in (["summarize"], ["sensitivity"]) and out in a for a in later)


def run_page_commands(name: str, capsys) -> None:
    """Run the page's commands in order in the current folder (see the module docstring)."""
    commands = shell_commands(page(name))
    for i, argv in enumerate(commands):
        if argv[:2] == ["mkdir", "-p"]:
            for folder in argv[2:]:
                Path(folder).mkdir(parents=True, exist_ok=True)
            continue
        args = cli_argv(argv)
        if args is None or "--help" in args or "-h" in args:
            continue
        later = [a for a in (cli_argv(c) for c in commands[i + 1:]) if a is not None]
        if args[0] == "run":
            fixed_size = load_scenario(args[1]).network.kind == "edge_list"
            args = [*args, *(TINY_RUN[2:] if fixed_size else TINY_RUN)]
        elif args[0] == "sweep":
            if _read_by_later_command(args, later):
                args = [a for a in args if a not in ("--quiet", "-q")]
                if "--workers" in args:
                    k = args.index("--workers")
                    args = args[:k] + args[k + 2:]
                args = [*args, "--workers", "1", "--quiet"]
            elif "--dry-run" not in args:
                args = [*args, "--dry-run"]
        elif args[0] in ("summarize", "sensitivity") and not Path(args[1]).is_dir():
            continue  # its sweep was only dry-run (a cluster, or too big): parsed above
        status = cli.main(args)
        output = capsys.readouterr()
        assert status == 0, f"docs/{name}: {shlex.join(argv)} exited {status}:\n{output.err[-2000:]}"


@pytest.mark.parametrize("name", [n for n in NEW_PAGES if n not in ("reference-cli.md", "tutorial-research.md")])
def test_cli_commands_run(name, sandbox, capsys):
    """The page's commands, run in order (tiny runs; sweeps dry-run unless read later)."""
    run_page_commands(name, capsys)


def test_research_tutorial_runs(sandbox, capsys):
    """The research quickstart end to end, as a reader would: its commands, then its
    Python blocks in the same folder (which find the sweeps done and read them). The
    means and Morris mu* it quotes are those the code gives now."""
    import pandas as pd

    text = page("tutorial-research.md")
    run_page_commands("tutorial-research.md", capsys)
    _exec_blocks(blocks(text, "python"), "docs/tutorial-research.md")
    rerun = "re-run the commands of docs/tutorial-research.md and update the output it shows"
    for value in pd.read_csv("results/errors/summary.csv")["mean"]:
        assert f" {value:.6g} " in text, f"summarize now gives a mean of {value:.6g}; {rerun}"
    indices = pd.read_csv("results/morris/sensitivity.csv")
    for value in indices.loc[indices.metric == "wrongful_listings_active", "mu_star"]:
        assert f" {value:.6g} " in text, f"sensitivity now gives mu* {value:.6g}; {rerun}"


def test_classroom_figures_are_current():
    """The classroom lesson's wrongful-listing counts are what seed 1 gives now (2,000
    citizens, 200 steps; event records off, which changes no metric)."""
    from simulation import ReputationModel

    counts = [int(ReputationModel(name, rng=1, **{"run.record_events": False}).run()
                  ["wrongful_listings_active"].iloc[-1]) for name in ("high_error", "blacklist")]
    sentence = "At step 200, {} citizens are on a list wrongly,\nagainst {} under `blacklist`".format(*counts)
    assert sentence in page("tutorial-classroom.md"), \
        f"expected: {sentence!r}; re-run the lesson's commands and update docs/tutorial-classroom.md"


def test_workshop_figures_are_current():
    """The workshop's error-rate table is what the Compare page shows now (seed 1,
    2,000 citizens, 100 steps)."""
    from simulation.dashboard.compare import COMPARISON_BY_KEY, run_comparison

    result = run_comparison(list(COMPARISON_BY_KEY["error_rate"].variants), seed=1, n_citizens=2000, steps=100)
    low, high = (int(f["wrongful_listings_active"].iloc[-1]) for f in result.frames.values())
    row = f"| `wrongful_listings_active` | {low} | {high} | +{high - low} |"
    assert row in page("tutorial-workshop.md"), f"expected {row}: re-run the comparisons and update the page"


# --------------------------------------------------------------------------- Python


def _exec_blocks(sources: list[str], label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__main__"}
    try:
        for k, source in enumerate(sources):
            try:
                exec(compile(source, f"{label} block {k + 1}", "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{label}, code block {k + 1} raised {type(exc).__name__}: {exc}\n{source}")
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")


@pytest.mark.parametrize("name", PYTHON_PAGES)
def test_python_blocks_run(name, sandbox, capsys):
    sources = blocks(page(name), "python")
    assert sources, f"docs/{name} has no python blocks"
    _exec_blocks(sources, f"docs/{name}")


def test_notebook_runs(sandbox, capsys, monkeypatch):
    """The quickstart notebook's code cells run in order in one namespace (its
    temporary folder goes into the scratch folder)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(sandbox))
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert cells
    assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"), \
        "commit the notebook without outputs"
    _exec_blocks(cells, "docs/notebooks/quickstart.ipynb")


# --------------------------------------------------------------------------- links and names


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lstrip("#").strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(line) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("name", [*NEW_PAGES, "index.md"])
def test_relative_links_resolve(name):
    text = re.sub(r"^```.*?^```", "", page(name), flags=re.M | re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, f"docs/{name} has no links"
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (DOCS / name).parent / target if target else DOCS / name
        assert path.exists(), f"docs/{name} links to missing {link}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"docs/{name}: {link}: no heading with anchor #{anchor}"


def test_readme_links_the_new_pages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (*TUTORIALS, "reference-cli.md", "reference-python.md", "reference-files.md"):
        assert f"docs/{name}" in readme, f"README.md does not link docs/{name}"
    index = page("index.md")
    for name in NEW_PAGES:
        assert f"({name})" in index, f"docs/index.md does not link {name}"


@pytest.mark.parametrize("name", TUTORIALS)
def test_names_in_tutorials_exist(name):
    """Backticked names are real: a plain identifier is a shipped scenario, a metric or
    a word in ``OTHER_WORDS``; a dotted one is a parameter on docs/parameters.md.
    Scenarios named in ``run`` commands are shipped."""
    prose = re.sub(r"^```.*?^```", "", page(name), flags=re.M | re.S)
    parameters = page("parameters.md")
    known = set(scenario_names()) | set(METRICS) | set(CONFUSION_COLUMNS) | OTHER_WORDS
    for word in re.findall(r"`([^`\n]+)`", prose):
        if word in known:
            continue
        if re.fullmatch(r"[a-z][a-z0-9_]*", word):
            pytest.fail(f"docs/{name}: `{word}` is neither a shipped scenario nor a metric")
        if re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", word):
            assert f"`{word}`" in parameters, f"docs/{name}: `{word}` is not a scenario parameter"
    for argv in cli_commands(name):
        if argv[:1] == ["run"] and not argv[1].endswith((".yaml", ".yml")):
            assert argv[1] in scenario_names(), f"docs/{name}: no shipped scenario {argv[1]}"


@pytest.mark.parametrize("name", NEW_PAGES)
def test_example_files_shown_verbatim(name):
    """A yaml block whose first line is ``# docs/examples/FILE`` shows that file exactly."""
    for block in blocks(page(name), "yaml"):
        first = block.splitlines()[0] if block else ""
        match = re.fullmatch(r"#\s*(docs/examples/\S+)", first.strip())
        if match:
            path = ROOT / match.group(1)
            assert path.is_file(), f"docs/{name} shows missing {match.group(1)}"
            assert block == path.read_text(encoding="utf-8"), f"docs/{name}: block differs from {path}"


def test_cli_reference_lists_every_command():
    text = page("reference-cli.md")
    for command in clidoc.commands():
        assert f"## {command}\n" in text
    assert text == clidoc.render(), "docs/reference-cli.md is out of date; regenerate: " + paramdoc.REGENERATE
