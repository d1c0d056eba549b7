"""The page Solara serves: ``solara run simulation.dashboard.page`` (or the repository's
``app.py``, which re-exports it)."""

from . import configure_offline_server
from .components import Dashboard

configure_offline_server()

Page = Dashboard
"""Solara's entry point: the whole dashboard, one state and one model per browser tab."""
