"""The classroom and workshop dashboard (Solara): ``app.py`` at the repository root
serves :func:`Page`; ``python -m simulation.dashboard`` starts it offline-ready.

The model never imports this package; this package imports the model.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def configure_offline_server() -> None:
    """Settings for a server with no internet, applied when the app is loaded: no
    usage statistics sent home, no version check, front end from the local proxy cache.
    Warns in the server log if the cached front-end files are incomplete."""
    try:
        import solara.server.settings as settings
    except ImportError:  # pragma: no cover - solara without its server
        return
    settings.telemetry.mixpanel_enable = False
    from . import offline, stats

    stats.start_from_env()

    try:
        absent = offline.missing()
    except offline.AssetsError as exc:  # pragma: no cover
        log.warning("%s", exc)
        return
    if absent:
        log.warning("the dashboard's front-end files are not all cached (%s): the page will be blank without "
                    "internet. Run once while online: python -m simulation.dashboard assets",
                    ", ".join(p.spec for p in absent))


def __getattr__(name: str):
    # Solara and matplotlib load only when the page is asked for, so that importing
    # simulation.dashboard.offline (e.g. from CI) stays light.
    if name in ("Page", "Dashboard"):
        from .components import Dashboard

        return Dashboard
    raise AttributeError(name)
