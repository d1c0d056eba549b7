"""The dashboard server's read-only view of Solara's front-end cache.

Solara serves its front end at ``/_solara/cdn/<package>@<version>/<path>`` from a proxy
cache and, on a miss, fetches the file from its CDN and writes it there; a request for
a path that is a *directory* of the cache makes it delete that directory (issue 23).
The dashboard fills the cache itself, with npm, before it serves
(:func:`simulation.dashboard.offline.prepare_server`), so its server answers from the
cache alone: a file that is there, or 404. No request fetches, writes or deletes
anything.

When the front end's own script is missing (the cache was never filled and could not
be), the browser gets, in its place, a short script that replaces the blank page by a
message saying what to run while online. It is sent with ``Cache-Control: no-store``,
so the real script is used as soon as it is in the cache.

Imported only inside a running Solara server (it needs ``solara.server.starlette``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from solara.server.cdn_helper import cdn_url_path
from solara.server.starlette import StaticCdn, routes
from starlette.responses import Response
from starlette.routing import Mount

FRONT_END_SCRIPT = re.compile(r"@widgetti/solara-vuetify3?-app@[^/]+/dist/solara-vuetify-app\d*(\.min)?\.js")
"""The script that draws the whole page (Vue and Vuetify with Solara's app), as the page
template asks for it."""

MISSING_TEXT = (
    "The dashboard cannot start: its front-end files are not on this computer, "
    "and they could not be fetched.",
    "While connected to the internet, run once (it needs npm):",
    "python -m simulation.dashboard assets",
    "then start the dashboard again. The terminal where it was started says what is missing.",
)

_MESSAGE_SCRIPT = """\
// Sent by scoresim in place of Solara's front end, which is missing from the server's cache.
(function (lines) {
  var box = document.createElement("div");
  box.id = "scoresim-frontend-missing";
  box.setAttribute("role", "alert");
  box.style.cssText = "font: 20px/1.5 sans-serif; max-width: 46em; margin: 3em auto; padding: 1em 1.5em;" +
    "border: 3px solid #b35806; background: #fff7ec; color: #222;";
  lines.forEach(function (text, i) {
    var p = document.createElement(i === 2 ? "pre" : "p");
    p.textContent = text;
    if (i === 2) p.style.cssText = "font-size: 22px; background: #eee; padding: .4em .6em;";
    box.appendChild(p);
  });
  document.title = "scoresim: front-end files missing";
  document.body.replaceChildren(box);
})(%s);
"""


def message_script() -> str:
    """The script sent instead of a missing front end: it shows :data:`MISSING_TEXT`."""
    return _MESSAGE_SCRIPT % json.dumps(MISSING_TEXT)


def cached_file(folder: Path, path: str) -> Path | None:
    """The regular file ``path`` names inside ``folder``, or None (absent, a directory,
    or outside the folder)."""
    root = os.path.normpath(folder)
    full = os.path.normpath(os.path.join(root, path))
    if os.path.commonpath([full, root]) != root or not os.path.isfile(full):
        return None
    return Path(full)


class ReadOnlyCache(StaticCdn):
    """Solara's ``/_solara/cdn`` files (same headers, compression and access rules),
    answered from the cache only."""

    def __init__(self, folder: Path) -> None:
        super().__init__(directory=folder)
        self.folder = Path(folder)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        found = cached_file(self.folder, path)
        return (str(found), found.stat()) if found else ("", None)

    async def get_response(self, path: str, scope) -> Response:
        if FRONT_END_SCRIPT.fullmatch(path.replace("\\", "/")) and cached_file(self.folder, path) is None:
            return Response(message_script(), media_type="text/javascript",
                            headers={"Cache-Control": "no-store"})
        return await super().get_response(path, scope)


def install_plotly_bundle() -> None:
    """Serve plotly's widget script at :data:`.timeseries.BUNDLE_ROUTE`, with headers
    that let the browser keep it (its address names plotly's version)."""
    from solara.server.starlette import app
    from starlette.responses import FileResponse
    from starlette.routing import Route

    from .timeseries import BUNDLE_FILE, BUNDLE_ROUTE

    async def bundle(request) -> Response:
        return FileResponse(BUNDLE_FILE, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    if not any(getattr(r, "path", None) == BUNDLE_ROUTE for r in app.router.routes):
        app.router.routes.insert(0, Route(BUNDLE_ROUTE, bundle))


def install(folder: Path) -> bool:
    """Serve ``/_solara/cdn`` with :class:`ReadOnlyCache`; False if the server has no such
    route (Solara's asset proxy is off)."""
    for route in routes:
        if isinstance(route, Mount) and route.path == f"/{cdn_url_path}":
            route.app = ReadOnlyCache(folder)
            return True
    return False
