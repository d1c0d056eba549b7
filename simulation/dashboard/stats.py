"""What the server holds, for load tests and classroom servers: open tabs and live runs.

Off unless ``SCORESIM_DASHBOARD_STATS`` is set to a number of seconds: then a daemon
thread prints one line to the server's stderr every time the counts change (checked at
that interval), e.g. ``scoresim-stats kernels=20 runs=20 rss_mb=912.4``. ``kernels`` is
Solara's virtual kernels (one per open tab, kept until the tab closes or, after a lost
connection, until ``SOLARA_KERNEL_CULL_TIMEOUT``), ``runs`` the
:class:`~.session.RunSession` objects still alive. It opens no endpoint: the counts
only reach the log.
"""

from __future__ import annotations

import os
import sys
import threading

ENV = "SCORESIM_DASHBOARD_STATS"

_started = False
_lock = threading.Lock()


def counts() -> dict[str, float]:
    """Open virtual kernels, live runs and the process's resident memory [MB]."""
    from solara.server import kernel_context

    from .session import LIVE_RUNS

    out: dict[str, float] = {"kernels": len(kernel_context.contexts), "runs": len(LIVE_RUNS)}
    try:
        import psutil

        out["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    except ImportError:  # pragma: no cover - psutil is optional outside the tests
        pass
    return out


def line(values: dict[str, float]) -> str:
    return "scoresim-stats " + " ".join(f"{k}={v:g}" for k, v in values.items())


def parse(text: str) -> list[dict[str, float]]:
    """Every stats line of a server log, oldest first."""
    rows = []
    for raw in text.splitlines():
        if raw.startswith("scoresim-stats "):
            rows.append({k: float(v) for k, v in (part.split("=", 1) for part in raw.split()[1:])})
    return rows


def start_from_env() -> None:
    """Start the reporter if ``SCORESIM_DASHBOARD_STATS`` asks for it (once per process)."""
    global _started
    raw = os.environ.get(ENV)
    if not raw:
        return
    try:
        interval = max(0.1, float(raw))
    except ValueError:
        print(f"warning: {ENV}={raw!r} is not a number of seconds; no stats", file=sys.stderr)
        return
    with _lock:
        if _started:
            return
        _started = True

    def report() -> None:
        last: tuple | None = None
        stop = threading.Event()
        while not stop.wait(interval):
            now = counts()
            key = (now["kernels"], now["runs"])
            if key != last:
                last = key
                print(line(now), file=sys.stderr, flush=True)

    threading.Thread(target=report, name="scoresim-stats", daemon=True).start()
