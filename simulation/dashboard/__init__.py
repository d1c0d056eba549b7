"""The classroom and workshop dashboard (Solara): ``app.py`` at the repository root
serves :func:`Page`; ``python -m simulation.dashboard`` starts it offline-ready.

The model never imports this package; this package imports the model.
"""

from __future__ import annotations


def configure_offline_server() -> None:
    """Run when the app is loaded: the server's offline settings and front-end files
    (:func:`offline.prepare_server`, which acts only inside a Solara server) and the
    optional statistics in the log."""
    from . import offline, stats

    stats.start_from_env()
    offline.prepare_server()


def __getattr__(name: str):
    # Solara and matplotlib load only when the page is asked for, so that importing
    # simulation.dashboard.offline (e.g. from CI) stays light.
    if name in ("Page", "Dashboard"):
        from .components import Dashboard

        return Dashboard
    raise AttributeError(name)
