"""What a dashboard user can reach on the server: no file outside what the page
offers, no upload, exports only as in-memory downloads with safe names.

The page builds runs only from shipped scenarios. Anything a user types (a scenario
name sent by a crafted request, a dotted-path value naming a file) is refused with a
message before the server opens a file. The browser side of these promises (no file
input on the page, 127.0.0.1 only) is checked in tests/e2e.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulation.catalog import scenario_names
from simulation.dashboard import params
from simulation.dashboard.__main__ import build_parser, solara_command
from simulation.dashboard.session import RunSession
from simulation.dashboard.state import AppState
from simulation.overrides import parse_value

DASHBOARD = Path(__file__).resolve().parents[1] / "simulation" / "dashboard"

HOSTILE_NAMES = ["../../etc/passwd", "/etc/passwd", "../scenarios/blacklist", "blacklist.yaml",
                 "scenarios/blacklist.yaml", "~/.ssh/id_rsa", "C:\\Windows\\win.ini", "blacklist\x00", "",
                 "a" * 5000]
"""Scenario names that are paths, or nearly the name of a shipped scenario."""


@pytest.fixture
def no_file_reads(monkeypatch, tmp_path):
    """Fail if a model is built from an edge-list file, and give one to point at."""
    import simulation.model

    def refuse(path, n):
        raise AssertionError(f"the server read {path}")

    monkeypatch.setattr(simulation.model, "read_edge_list", refuse)
    edges = tmp_path / "edges.txt"
    edges.write_text("".join(f"{i} {i + 1}\n" for i in range(99)))
    return edges


@pytest.fixture
def state(monkeypatch):
    monkeypatch.setattr("simulation.dashboard.state.BUILD_IN_BACKGROUND", 10**9)
    s = AppState(overrides={"population.n_citizens": 100})
    assert s.session.value is not None and s.error.value is None
    return s


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_scenario_name_is_never_a_path(state, name, no_file_reads):
    """The scenario menu only offers shipped names; a request with any other name
    (a path, absolute or relative) is refused with a message, the run untouched."""
    session = state.session.value
    state.set_scenario(name)
    assert state.error.value and "no shipped scenario" in state.error.value
    assert state.scenario.value == "blacklist" and state.session.value is session

    state.error.value = None
    state.load_setting(name, {})
    assert state.error.value and "no shipped scenario" in state.error.value
    assert state.scenario.value == "blacklist" and state.session.value is session

    variants = state.compare.variants.value
    state.compare.set_variant(0, name)
    assert state.compare.error.value and "no shipped scenario" in state.compare.error.value
    assert state.compare.variants.value == variants

    assert params.check_override(name, {}, "behaviour.trust_learning", 0.1).startswith("no shipped scenario")


@pytest.mark.parametrize("target", ["/etc/passwd", "../../etc/passwd", "edges", "/dev/zero"])
def test_no_value_typed_on_the_page_makes_the_server_read_a_file(state, no_file_reads, target):
    """An edge-list network names a file; the dashboard refuses it (the command line
    runs such scenarios), whether typed as one value or as its parts."""
    target = str(no_file_reads) if target == "edges" else target
    session = state.session.value
    typed = [("network", parse_value(f"{{kind: edge_list, path: '{target}'}}")),
             ("network", {"kind": "edge_list", "path": target}),
             ("network.path", target),
             ("network.kind", "edge_list")]
    for path, value in typed:
        assert state.set_value(path, value) is False, (path, value)
        assert state.control_errors.value.get(path), (path, value)
        assert state.session.value is session
    message = state.control_errors.value["network"]
    assert message == params.NO_FILES and "command line" in message
    # and the run cannot be rebuilt with it by any other route
    state.overrides.value = {"network": {"kind": "edge_list", "path": target}, "population.n_citizens": 100}
    state.rebuild()
    assert state.error.value == params.NO_FILES and state.session.value is session


def test_every_scenario_runs_without_reading_a_file(no_file_reads):
    """No shipped scenario names a file, so refusing edge lists takes nothing away."""
    for name in scenario_names():
        assert params.check_override(name, {}, "population.n_citizens", 100) is None, name


def test_export_names_are_safe_and_exports_stay_in_memory(tmp_path, monkeypatch):
    """Downloads are built in memory (solara.FileDownload of a string or bytes) and
    named only from the shipped scenario's name and numbers: nothing is written on
    the server, and the names carry no path."""
    monkeypatch.chdir(tmp_path)
    safe = re.compile(r"^scoresim-[a-z0-9_]+-seed[0-9]+-step[0-9]+$")
    for name in scenario_names():
        assert re.fullmatch(r"[a-z0-9_]+", name), name
    session = RunSession("blacklist", 2**63 - 1, {"population.n_citizens": 60})
    session.step(2)
    base = session.base_filename()
    assert safe.match(base), base
    assert session.csv_text().startswith("step,seed,scenario")
    assert "python -m simulation run" in session.scenario_yaml(f"{base}.scenario.yaml")
    assert list(tmp_path.iterdir()) == []


def test_the_dashboard_code_writes_no_file_and_accepts_no_upload():
    """An audit as a test: apart from the front-end asset fetcher (offline.py, which
    writes Solara's cache from the npm registry, never from the page), no dashboard
    module opens a file for writing or offers an upload widget."""
    writes = re.compile(r"\bopen\([^)]*['\"][wax]|write_text\(|write_bytes\(|savefig\(\s*['\"]|"
                        r"to_csv\(\s*(?!index=)[^)\s]|to_parquet\(|mkdir\(|shutil\.")
    uploads = re.compile(r"FileDrop|FileUpload|upload|type=['\"]file", re.IGNORECASE)
    for path in DASHBOARD.iterdir():
        if path.suffix not in (".py", ".vue") or path.name == "offline.py":
            continue
        text = path.read_text()
        assert not writes.search(text), f"{path.name}: {writes.search(text).group(0)}"
        assert not uploads.search(text), f"{path.name}: {uploads.search(text).group(0)}"


def test_the_launcher_binds_to_this_machine_unless_told():
    """Without --host the server listens on 127.0.0.1 (tests/e2e checks the socket)."""
    args = build_parser().parse_args([])
    assert args.host == "127.0.0.1"
    command = solara_command(args.host, args.port)
    assert command[command.index("--host") + 1] == "127.0.0.1"
