"""Start the dashboard, offline-ready: ``python -m simulation.dashboard``.

    python -m simulation.dashboard                 # serve on http://127.0.0.1:8765
    python -m simulation.dashboard --port 9000     # another port
    python -m simulation.dashboard --host 0.0.0.0  # let others on the network connect
    python -m simulation.dashboard assets          # fetch the front-end files (once, online)
    python -m simulation.dashboard assets --check  # only report what is missing

When the server loads the app, the front-end files are checked and, if some are
missing, fetched from the npm registry (skip with --no-fetch); it then serves them
read-only from the cache (see offline.prepare_server, which ``solara run app.py`` runs
too). The server sends nothing home (no usage statistics, no version check) and binds
to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import offline

SERVER_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
}
"""Settings for a server without internet."""


def app_target() -> str:
    """The repository's app.py in a source checkout, else the installed page module."""
    repo_app = Path(__file__).resolve().parents[2] / "app.py"
    return str(repo_app) if repo_app.is_file() else "simulation.dashboard.page"


def solara_command(host: str, port: int, extra: list[str] | None = None) -> list[str]:
    return [sys.executable, "-m", "solara", "run", app_target(), "--host", host, "--port", str(port),
            "--no-open", "--no-check-version", "--production", *(extra or [])]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulation.dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=("serve", "assets"), default="serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--no-fetch", action="store_true", help="never fetch missing front-end files")
    parser.add_argument("--check", action="store_true", help="with 'assets': only report what is missing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "assets":
        return assets(check_only=args.check)
    env = {**os.environ, **SERVER_ENV}
    if args.no_fetch:
        env[offline.NO_FETCH_ENV] = "1"
    command = solara_command(args.host, args.port)
    print(f"scoresim dashboard: http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    os.execve(command[0], command, env)
    return 0  # pragma: no cover


def assets(check_only: bool) -> int:
    """The ``assets`` command: fetch the missing front-end files, or only report them."""
    try:
        absent = offline.missing()
    except offline.AssetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if absent and check_only:
        print("missing: " + ", ".join(p.spec for p in absent), file=sys.stderr)
        return 1
    try:
        if absent:
            offline.fetch(absent)
    except offline.AssetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"front-end files complete in {offline.cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
