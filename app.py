"""The scoresim classroom and workshop dashboard.

Start it with ``solara run app.py`` or, offline-ready and bound to 127.0.0.1,
``python -m simulation.dashboard``. See docs/dashboard.md.
"""

from simulation.dashboard.page import Page

__all__ = ["Page"]
