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


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags), except that a key given twice in one
    mapping is an error instead of the last one silently winning."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # unhashable key: the safe loader reports it
                    continue
                if first is not key_node.start_mark:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice (first at line {first.line + 1})",
                        key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: where, and what is wrong."""
    if isinstance(exc, yaml.reader.ReaderError):
        return (f"character {exc.position + 1}: the control character #x{exc.character:04x} is not allowed "
                "(YAML files are plain text)") if isinstance(exc.character, int) else str(exc.reason)
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None:
        problem = f"{problem} ({context} from line {start.line + 1})"
    text = " ".join(f"{where}{problem}".split())
    if "python/" in text:
        text += " (Python tags are not allowed)"
    return text


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely (no Python tags, no repeated keys), refusing huge or
    non-UTF-8 files."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}.")
        text = path.read_bytes().decode("utf-8")
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {yaml_problem(exc)}.") from None
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
    try:
        path = _scenario_path(spec)
    except OSError as exc:
        raise ScenarioError(f"{shown(spec)}: cannot be read: {exc.strerror or exc}.") from None
    data = read_yaml(path)
    if data is None:
        raise ScenarioError(f"{path}: the file is empty (or only comments); a scenario is a mapping of "
                            "sections such as population, rules and run.")
    if isinstance(data, dict):
        _resolve_relative_paths(data, path.parent)
    return validate_scenario(data, source=str(path))


def _scenario_path(spec: str | Path) -> Path:
    """The file a shipped name or path names; ScenarioError if there is none."""
    path = Path(spec)
    if not path.suffix and not path.exists():
        path = scenario_dir() / f"{spec}.yaml"
        if not path.exists():
            names = scenario_names()
            close = difflib.get_close_matches(str(spec), names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(
                f"no shipped scenario or file named '{shown(spec)}'.{hint} Shipped: {', '.join(names)}."
            )
    if path.is_dir():
        raise ScenarioError(f"{shown(path)}: is a directory, not a scenario file.")
    if not path.is_file():
        raise ScenarioError(f"{shown(path)}: no such file.")
    return path


def shown(name: str | Path) -> str:
    """A file or scenario name for a message: as is if printable (else its repr), cut
    to 80 characters if longer than 200."""
    text = str(name) if str(name).isprintable() else repr(str(name))
    return text if len(text) <= 200 else text[:80] + "..."


def _resolve_relative_paths(data: dict, folder: Path) -> None:
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("path"), str) and network["path"]:
        p = Path(network["path"])
        if not p.is_absolute():
            network["path"] = str((folder / p).resolve())
