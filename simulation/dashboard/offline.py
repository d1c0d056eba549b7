"""Front-end files for a dashboard that works without internet.

Solara's page loads its front end (the Vuetify app, fonts, require.js, KaTeX and
Mermaid for Markdown) from a CDN and keeps each file it fetched in a proxy cache,
``<venv>/share/solara/cdn/<package>@<version>/<path>``. A classroom without internet
then gets a blank page unless that cache was filled beforehand.

This module fills it from the npm registry with the ordinary ``npm pack`` client:
it reads the exact ``package@version`` strings the installed Solara asks for (from
its page template and its Markdown component), so it stays right when Solara is
upgraded. Run it once while online::

    python -m simulation.dashboard assets          # fetch what is missing
    python -m simulation.dashboard assets --check  # only report

:func:`prepare_server` runs when a Solara server loads the app, however it was
started (``python -m simulation.dashboard`` or ``solara run app.py``): it fetches what
is missing (unless ``SCORESIM_NO_FETCH=1``), serves the cache read-only
(:mod:`simulation.dashboard.frontend_cache`) and says in the terminal what to run
when files are missing and could not be fetched.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

MARKER = ".scoresim-complete"
"""File written last into each unpacked package folder: its presence means complete."""

SKIP_SUFFIXES = (".map",)
"""Files not unpacked (source maps are large and only serve debugging)."""

NO_FETCH_ENV = "SCORESIM_NO_FETCH"
"""Set to 1 and a starting server does not fetch missing files (the launcher's --no-fetch)."""

NPM_QUICK_FAILURE = ("--fetch-retries=1", "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=4000")
"""npm's defaults retry for about 70 s before failing without a network; a server that
starts offline should say so within seconds (measured: about 2 s with these)."""

_SPEC = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\}|solara_cdn\}?)/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/")


class AssetsError(RuntimeError):
    """The front-end files could not be found or fetched; the message says what to do."""


@dataclass(frozen=True)
class Package:
    """One npm package the page loads, e.g. ``@widgetti/solara-vuetify3-app@5.2.0``."""

    spec: str

    @property
    def name(self) -> str:
        return self.spec.rsplit("@", 1)[0]

    @property
    def version(self) -> str:
        return self.spec.rsplit("@", 1)[1]


def cache_dir() -> Path:
    """Solara's proxy cache folder, as its server computes it (``SOLARA_ASSETS_PROXY_CACHE_DIR``
    or ``<prefix>/share/solara/cdn``), without importing the server."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    if env:
        return Path(env)
    import solara  # noqa: F401  (only to locate it)

    solara_file = str(Path(sys.modules["solara"].__file__))
    userbase = site.getuserbase()
    prefix = userbase if userbase and solara_file.startswith(userbase) else sys.prefix
    return Path(prefix) / "share" / "solara" / "cdn"


def _solara_text(*parts: str) -> str:
    try:
        return resources.files("solara").joinpath(*parts).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - depends on solara's layout
        return ""


def required_packages() -> list[Package]:
    """The ``package@version`` strings the installed Solara's page and Markdown load."""
    template = _solara_text("server", "templates", "solara.html.j2")
    markdown = _solara_text("components", "markdown.py")
    if not template:
        raise AssetsError("cannot read Solara's page template; is solara installed in this environment?")
    specs = set(_SPEC.findall(template)) | set(_SPEC.findall(markdown))
    try:
        vue3 = metadata.version("ipyvue").startswith("3")
    except metadata.PackageNotFoundError:  # pragma: no cover
        vue3 = True
    # the template has one branch for Vue 2 and one for Vue 3: keep the one in use
    unused = "@widgetti/solara-vuetify-app@" if vue3 else "@widgetti/solara-vuetify3-app@"
    specs = {s for s in specs if not s.startswith(unused)}
    specs.add(_fontawesome_spec())
    return [Package(s) for s in sorted(specs)]


def _fontawesome_spec() -> str:
    path = os.environ.get("SOLARA_ASSETS_FONTAWESOME_PATH", "/font-awesome@4.5.0/css/font-awesome.min.css")
    return path.strip("/").split("/")[0]


def missing(folder: Path | None = None) -> list[Package]:
    """Packages not (completely) present in the cache."""
    folder = folder or cache_dir()
    return [p for p in required_packages() if not (folder / p.spec / MARKER).is_file()]


def fetch(packages: list[Package], folder: Path | None = None, log=print) -> None:
    """Download each package with ``npm pack`` and unpack it into the cache."""
    folder = folder or cache_dir()
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "npm is needed once, while online, to fetch the dashboard's front-end files "
            "(Debian: apt-get install npm). Then run: python -m simulation.dashboard assets")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scoresim-npm-") as tmp:
        for package in packages:
            log(f"fetching {package.spec} from the npm registry ...")
            try:
                out = subprocess.run(
                    [npm, "pack", package.spec, "--pack-destination", tmp, "--silent", *NPM_QUICK_FAILURE],
                    check=True, capture_output=True, text=True, cwd=tmp, timeout=600)
            except subprocess.CalledProcessError as exc:
                said = exc.stderr.strip()[-500:] or f"exit status {exc.returncode}; is the npm registry reachable?"
                raise AssetsError(f"npm pack {package.spec} failed: {said}") from None
            except subprocess.TimeoutExpired:
                raise AssetsError(f"npm pack {package.spec} took more than 10 minutes; giving up.") from None
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            _unpack(tarball, folder / package.spec)


def _unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``target``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the server may run as another user
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                if not member.isfile() or member.name.endswith(SKIP_SUFFIXES):
                    continue
                parts = Path(member.name).parts
                if len(parts) < 2:
                    continue
                member.name = str(Path(*parts[1:]))  # strip the top folder ('package/')
                members.append(member)
            tar.extractall(staging, members=members, filter="data")
        (staging / MARKER).write_text("unpacked by simulation.dashboard.offline\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def ensure(folder: Path | None = None, log=print) -> list[Package]:
    """Fetch whatever is missing; return what was fetched (empty when complete)."""
    todo = missing(folder)
    if todo:
        fetch(todo, folder, log=log)
    return todo


def prepare_server(log=None) -> None:
    """Make the Solara server that is loading the app work without internet: no usage
    statistics and no "Solara check" call home, the front-end files fetched if missing
    (unless :data:`NO_FETCH_ENV` is 1), the cache served read-only, and a message in
    the terminal (and on the page) when files are missing and could not be fetched.
    Does nothing when the app is only imported (no Solara server in this process)."""
    if "solara.server.starlette" not in sys.modules:
        return
    import solara.checks
    import solara.server.settings as server_settings
    import solara.settings

    log = log or (lambda msg: print(f"scoresim: {msg}", file=sys.stderr, flush=True))
    server_settings.telemetry.mixpanel_enable = False
    solara.checks.should_perform_solara_check = lambda: False  # an iframe to solara.dev in dev mode
    from . import frontend_cache

    frontend_cache.install_plotly_bundle()  # the time-series figures' script, served once per browser
    if not solara.settings.assets.proxy:
        log("Solara's asset proxy is off (Solara turns it off inside VS Code, Colab and Voila), so the page "
            "loads its front end from the internet. Start with SOLARA_ASSETS_PROXY=true or with "
            "'python -m simulation.dashboard'.")
        return
    folder = Path(server_settings.assets.proxy_cache_dir)
    reason = "not fetched (SCORESIM_NO_FETCH=1)"
    try:
        absent = missing(folder)
        if absent and os.environ.get(NO_FETCH_ENV) != "1":
            try:
                fetch(absent, folder, log=log)
            except (AssetsError, OSError) as exc:  # OSError: a cache folder this user cannot write
                reason = f"could not be fetched: {exc}"
            absent = missing(folder)
    except AssetsError as exc:  # pragma: no cover - depends on solara's layout
        log(str(exc))
        absent = []
    frontend_cache.install(folder)
    if absent:
        log("the dashboard's front-end files are missing from " + str(folder) + " ("
            + ", ".join(p.spec for p in absent) + ") and " + reason + ". Without them the page cannot load; "
            "it shows what to do instead. While online, run once: python -m simulation.dashboard assets "
            "(needs npm), then start the dashboard again.")
