"""The scoresim classroom and workshop dashboard.

Start it with ``python -m simulation.dashboard`` (bound to 127.0.0.1, no version
check) or with Solara's own ``solara run app.py``. Either way, loading this app checks
the front-end files Solara needs, fetches the missing ones with npm (the first start
must then be online), serves them read-only from Solara's cache, and says in the
terminal and on the page what to run when they are missing and cannot be fetched.
See docs/dashboard.md (Offline).
"""

from simulation.dashboard.page import Page

__all__ = ["Page"]
