"""Finding and reading scenario files: the shipped ones by name, or any YAML file."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from .overrides import ScenarioError, validate_scenario
from .scenario import Scenario

MAX_FILE_BYTES = 1_000_000
"""Largest scenario file read; anything bigger is refused before parsing."""


def scenario_dir() -> Path:
    """The folder of shipped scenarios: inside the installed package, or the
    repository's ``scenarios/`` in a source checkout."""
    packaged = Path(__file__).parent / "scenarios"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "scenarios"


def scenario_names() -> list[str]:
    """Names of the shipped scenarios, sorted."""
    return sorted(p.stem for p in scenario_dir().glob("*.yaml"))


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely (no Python tags), refusing huge or non-UTF-8 files."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}.")
        text = path.read_bytes().decode("utf-8")
        return yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply to be a scenario file.") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror}.") from None


def load_scenario(spec: str | Path | Scenario | dict) -> Scenario:
    """A validated scenario from a shipped name, a file path, plain data or a Scenario."""
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, dict):
        return validate_scenario(spec)
    path = Path(spec)
    if not path.suffix and not path.exists():
        path = scenario_dir() / f"{spec}.yaml"
        if not path.exists():
            names = scenario_names()
            close = difflib.get_close_matches(str(spec), names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(
                f"no shipped scenario or file named '{spec}'.{hint} Shipped: {', '.join(names)}."
            )
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file.")
    data = read_yaml(path)
    if isinstance(data, dict):
        _resolve_relative_paths(data, path.parent)
    return validate_scenario(data, source=str(path))


def _resolve_relative_paths(data: dict, folder: Path) -> None:
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("path"), str):
        p = Path(network["path"])
        if not p.is_absolute():
            network["path"] = str((folder / p).resolve())
