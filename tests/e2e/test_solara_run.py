"""``solara run app.py`` (as docs/dashboard.md gives it) without internet, with Solara's
proxy cache starting empty: the terminal and the page say what to run instead of a blank
page; once the files are in the cache, the page works, and the cache is served read-only.

The internet is closed three ways: the browser refuses every request that leaves
127.0.0.1, Solara's CDN and the npm registry point at a closed local port. Solara runs
in its default (development) mode, which reloads the app when a module under app.py's
folder changes; app.py is copied to the test's folder so that edits in the repository
during the test do not reload it.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import pytest
from conftest import REPO, NetworkGuard, serve

from simulation.dashboard import offline

pytestmark = pytest.mark.e2e

OFFLINE = {"npm_config_registry": "http://127.0.0.1:9/"}  # SOLARA_ASSETS_CDN is closed by serve()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def files_in(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_solara_run_offline_says_what_to_run_then_works_once_the_files_are_cached(
        dashboard_assets, context, tmp_path, shot):
    cache = tmp_path / "cdn"
    cache.mkdir()
    app = tmp_path / "app" / "app.py"
    app.parent.mkdir()
    shutil.copy(REPO / "app.py", app)
    solara_run = ("-m", "solara", "run", str(app), "--host", "127.0.0.1", "--no-open")
    env = {**OFFLINE, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)}

    # 1. empty cache, nothing can be fetched: a message in the terminal and on the page
    log_path = tmp_path / "empty.log"
    with serve(log_path, solara_run, **env) as (url, _):
        guard = NetworkGuard()
        page = context.new_page()
        guard.attach(page)
        page.goto(url)
        message = page.locator("#scoresim-frontend-missing")
        message.wait_for(timeout=30_000)
        assert "python -m simulation.dashboard assets" in message.inner_text()
        shot(page, "front-end-missing")
        page.close()
        assert not guard.blocked_everywhere[guard.blocked_before:], "the page tried to reach the internet"
    terminal = log_path.read_text()
    assert "fetching @widgetti/solara-vuetify" in terminal  # loading the app tried npm
    assert "front-end files are missing" in terminal and "python -m simulation.dashboard assets" in terminal
    assert files_in(cache) == [], "a request wrote into the cache"

    # 2. the files in the cache (as 'assets' run once online leaves them): the page works
    for package in offline.required_packages():
        shutil.copytree(offline.cache_dir() / package.spec, cache / package.spec)
    before = files_in(cache)
    with serve(tmp_path / "filled.log", solara_run, **env) as (url, _):
        guard = NetworkGuard()
        page = context.new_page()
        guard.attach(page)
        page.goto(url)
        page.locator(".scoresim-step").wait_for(timeout=60_000)
        assert page.locator("#scoresim-frontend-missing").count() == 0
        shot(page, "works")
        page.close()
        guard.check()

        # read-only: a directory asked for is not deleted (issue 23), a missing file is not fetched
        front = next(p.spec for p in offline.required_packages() if p.spec.startswith("@widgetti/"))
        assert status(f"{url}_solara/cdn/{front}/dist") == 404
        assert status(f"{url}_solara/cdn/{front}/dist/not-there.js") == 404
        assert status(f"{url}_solara/cdn/{front}/package.json") == 200
    assert files_in(cache) == before
    assert "front-end files are missing" not in (tmp_path / "filled.log").read_text()
