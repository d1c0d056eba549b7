"""The dashboard's plain-Python parts: schema-built controls, the run session and its
exports, comparisons on common random numbers, figures, offline assets, the launcher."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import annotated_types as at
import numpy as np
import pandas as pd
import pytest

from simulation import cli, load_scenario
from simulation.dashboard import offline, plots
from simulation.dashboard.compare import COMPARISONS, Variant, run_comparison
from simulation.dashboard.params import KEY_PARAMETERS, check_override, key_groups, spec_for, value_at
from simulation.dashboard.session import EVENT_LABELS, RunSession
from simulation.events import EVENT_CODES
from simulation.metrics import METRICS
from simulation.scenario import Court, PopulationConfig

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- controls from the schema


def test_every_key_parameter_is_a_schema_field_with_help():
    patchwork = load_scenario("patchwork")  # has every rule set
    for _, paths in KEY_PARAMETERS:
        for path in paths:
            spec = spec_for(path, patchwork)
            assert spec.help, path
            assert spec.kind in ("int", "float", "bool", "choice"), path
            value_at(patchwork, path)  # resolves in a real scenario


def test_bounds_and_help_come_from_the_schema():
    spec = spec_for("regulators.courts.false_positive_rate")
    field = Court.model_fields["false_positive_rate"]
    assert spec.help == " ".join(field.description.split())
    assert spec.minimum == next(m.ge for m in field.metadata if isinstance(m, at.Ge))
    assert spec.maximum == next(m.le for m in field.metadata if isinstance(m, at.Le))
    n = spec_for("population.n_citizens")
    assert (n.kind, n.minimum, n.maximum) == ("int", 10, 5_000_000)
    assert n.unit == "persons"
    assert "Default 2,000" in n.help and PopulationConfig.model_fields["n_citizens"].default == 2000
    assert spec_for("population.income_median").exclusive_minimum  # gt=0


def test_parse_refuses_bad_values_with_a_message():
    spec = spec_for("regulators.courts.coverage")
    assert spec.parse("0.25") == 0.25
    for text, words in (("abc", "not a number"), ("1.5", "out of range"), ("nan", "finite"), ("-0.1", "out of range")):
        with pytest.raises(ValueError, match=words):
            spec.parse(text)
    days = spec_for("rules.blacklist.court_list_days")
    with pytest.raises(ValueError, match="whole number"):
        days.parse("10.5")
    assert spec_for("regulators.courts.publishes_lists").parse("false") is False


def test_groups_follow_the_scenario_rule_sets():
    titles = [t for t, _ in key_groups(load_scenario("baseline"))]
    assert not any("rules" in t.lower() or "score" in t.lower() for t in titles)
    titles = [t for t, _ in key_groups(load_scenario("sesame"))]
    assert "Commercial score (Sesame)" in titles and "Blacklist rules" not in titles


def test_check_override_explains_what_is_wrong():
    assert check_override("blacklist", {}, "regulators.courts.coverage", 0.5) is None
    assert "less than or equal to 1" in check_override("blacklist", {}, "regulators.courts.coverage", 5.0)
    assert "no rule set of kind 'points'" in check_override("blacklist", {}, "rules.points.base", 900.0)
    assert "Did you mean 'coverage'" in check_override("blacklist", {}, "regulators.courts.coverrage", 0.1)


# --------------------------------------------------------------------------- the run session and exports


def test_exported_yaml_rerun_by_the_cli_gives_the_exported_csv(tmp_path):
    session = RunSession("high_error", 11, {"population.n_citizens": 400, "behaviour.shaming_avoidance": 0.2})
    session.step(12)
    yaml_path = tmp_path / "run.scenario.yaml"
    yaml_path.write_text(session.scenario_yaml(yaml_path.name))
    assert "python -m simulation run run.scenario.yaml --seed 11" in yaml_path.read_text()
    out = tmp_path / "cli.csv"
    assert cli.main(["run", str(yaml_path), "--seed", "11", "--out", str(out), "--quiet"]) == 0
    exported = pd.read_csv(io.StringIO(session.csv_text()), index_col="step")
    rerun = pd.read_csv(out, index_col="step")
    assert list(exported.columns) == list(rerun.columns)
    pd.testing.assert_frame_equal(exported.drop(columns="scenario"), rerun.drop(columns="scenario"), check_exact=True)


def test_the_dashboard_never_draws_from_the_model_streams():
    """A session's model is the CLI's model: same seed, same numbers, whatever the
    dashboard reads (snapshots, network sample, histories) along the way."""
    from simulation import ReputationModel

    session = RunSession("patchwork", 5, {"population.n_citizens": 300})
    for _ in range(6):
        session.step(2)
        session.snapshot()
        session.citizen(3)
    plain = ReputationModel("patchwork", rng=5, **{"population.n_citizens": 300})
    plain.run(12)
    pd.testing.assert_frame_equal(session.model.metrics_frame(), plain.metrics_frame())


def test_history_matches_the_citizen_record():
    session = RunSession("rongcheng", 3, {"population.n_citizens": 300})
    session.step(15)
    info, history = session.citizen(10)
    assert list(history.index) == list(range(16))
    assert history["points"].iloc[-1] == pytest.approx(info["points"])
    assert history["ties"].iloc[-1] == info["ties"]
    assert session.step(1000) == 185  # never past the run length (200)
    assert session.finished


def test_large_populations_keep_history_for_followed_citizens_only():
    from simulation.dashboard import session as s

    old = s.HISTORY_ALL_MAX
    s.HISTORY_ALL_MAX = 100
    try:
        session = RunSession("blacklist", 2, {"population.n_citizens": 500})
        outsider = next(i for i in range(500) if i not in set(session.sample.nodes.tolist()))
        session.step(3)
        session.follow(outsider)
        session.step(2)
        assert list(session.citizen(outsider)[1].index) == [3, 4, 5]
        inside = int(session.sample.nodes[0])
        assert list(session.citizen(inside)[1].index) == list(range(6))
    finally:
        s.HISTORY_ALL_MAX = old


def test_every_event_has_plain_words():
    assert set(EVENT_LABELS) == set(EVENT_CODES)


# --------------------------------------------------------------------------- comparisons


def test_comparisons_share_the_population_and_differ_by_rules():
    result = run_comparison([Variant("blacklist"), Variant("high_error")], seed=4, n_citizens=400, steps=30)
    assert result.same_start()
    a, b = result.frames["blacklist"], result.frames["high_error"]
    assert a.loc[0, "gini_wealth"] == b.loc[0, "gini_wealth"]
    assert (b["wrongful_listings_active"].sum() > a["wrongful_listings_active"].sum())
    table = result.summary(["share_listed"])
    assert "high_error - blacklist" in table.columns
    long = pd.read_csv(io.StringIO(result.long_csv()))
    assert set(long["run"]) == {"blacklist", "high_error"} and len(long) == 62


def test_ready_made_comparisons_name_real_scenarios_and_metrics():
    names = set(load_scenario.__globals__["scenario_names"]())
    for comparison in COMPARISONS:
        assert 2 <= len(comparison.variants) <= 3
        assert {v.scenario for v in comparison.variants} <= names
        assert set(comparison.metrics) <= set(METRICS)


def test_a_comparison_can_be_stopped():
    import threading

    stop = threading.Event()
    stop.set()
    assert run_comparison([Variant("baseline"), Variant("blacklist")], 1, 200, 50, cancel=stop) is None
    with pytest.raises(ValueError, match="different"):
        run_comparison([Variant("baseline"), Variant("baseline")], 1, 200, 5)


# --------------------------------------------------------------------------- figures


def test_every_figure_draws_a_png():
    session = RunSession("patchwork", 1, {"population.n_citizens": 400})
    session.step(8)
    snap = session.snapshot()
    pngs = [plots.png(plots.panel_figure(p, snap.frame, 7, 200, twin=snap.twin_frame, difference=d))
            for p in plots.PANELS for d in (False, True)]
    pngs.append(plots.png(plots.distribution_figure(snap)))
    for colour in plots.COLOUR_BY:
        pngs.append(plots.network_picture(snap, colour, selected=int(snap.sample_nodes[0])).image)
    info, history = session.citizen(int(snap.sample_nodes[0]))
    pngs.append(plots.png(plots.citizen_figure(history, info["events"], 0, 7, 200)))
    pngs.append(plots.png(plots.citizen_twin_figure(history, session.twin_citizen(0)[1], 0, 7, 200)))
    pngs.append(plots.png(plots.compare_figure({"a": snap.frame, "b": snap.frame}, ["gini_wealth"], True)))
    pngs.append(plots.contact_sheet(pngs[:3], columns=2, title="t"))
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_the_control_scenario_says_nobody_is_scored():
    session = RunSession("baseline", 1, {"population.n_citizens": 100})
    snap = session.snapshot()
    assert snap.standing is None
    plots.png(plots.distribution_figure(snap))
    plots.network_picture(snap, "score")


def test_network_clicks_find_the_citizen_drawn_there():
    session = RunSession("blacklist", 1, {"population.n_citizens": 600})
    picture = plots.network_picture(session.snapshot(), "score")
    assert picture.fractions.shape == (len(picture.nodes), 2)
    assert ((picture.fractions > 0) & (picture.fractions < 1)).all()
    for k in (0, 10, 50):
        assert picture.citizen_at(*picture.fractions[k]) == int(picture.nodes[k])
    assert picture.citizen_at(0.999, 0.001) is None


def test_pyplot_is_never_used():
    for path in (REPO / "simulation" / "dashboard").glob("*.py"):
        text = path.read_text()
        assert "matplotlib.pyplot" not in text and "import pyplot" not in text, path


# --------------------------------------------------------------------------- layering and launch


def test_the_model_never_imports_the_dashboard():
    code = ("import sys, simulation, simulation.cli, simulation.model; "
            "bad = [m for m in sys.modules if m.startswith(('solara', 'matplotlib', 'simulation.dashboard'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_no_model_is_built_when_the_app_is_imported():
    code = ("import simulation.model as m\n"
            "def refuse(*a, **k): raise AssertionError('a model was built at import time')\n"
            "m.ReputationModel.__init__ = refuse\n"
            "import runpy; ns = runpy.run_path('app.py'); assert callable(ns['Page'])\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_the_launcher_binds_to_localhost_and_sends_nothing_home():
    from simulation.dashboard.__main__ import SERVER_ENV, build_parser, solara_command

    args = build_parser().parse_args([])
    assert (args.command, args.host) == ("serve", "127.0.0.1")
    command = solara_command(args.host, args.port)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--no-check-version" in command and "--no-open" in command and "--production" in command
    assert SERVER_ENV["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# --------------------------------------------------------------------------- offline front end


def test_required_front_end_packages_are_read_from_solara():
    specs = {p.spec for p in offline.required_packages()}
    assert any(s.startswith("@widgetti/solara-vuetify") for s in specs)
    assert any(s.startswith("requirejs@") for s in specs)
    assert any(s.startswith("font-awesome@") for s in specs)
    assert all("@" in s.lstrip("@") for s in specs)


def test_missing_lists_everything_for_an_empty_cache(tmp_path):
    assert {p.spec for p in offline.missing(tmp_path)} == {p.spec for p in offline.required_packages()}


def test_unpack_strips_the_package_folder_and_source_maps(tmp_path):
    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in (("package/dist/app.js", b"js"), ("package/dist/app.js.map", b"map"),
                           ("package/package.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "cache" / "@scope" / "pkg@1.0.0"
    offline._unpack(tarball, target)
    assert (target / "dist" / "app.js").read_bytes() == b"js"
    assert not (target / "dist" / "app.js.map").exists()
    assert (target / offline.MARKER).is_file()
    assert np.array_equal(sorted(p.name for p in target.rglob("*") if p.is_file()),
                          sorted(["app.js", "package.json", offline.MARKER]))


def test_a_closed_runs_figure_drawers_are_dropped_and_a_shared_runs_kept(monkeypatch):
    """Drawers (about 2.5 MB each) are kept per run while a tab has it; once the last
    session of a run is gone, they are dropped, so a closed class gives its memory back."""
    import gc
    import time

    monkeypatch.setattr(plots, "SETTLE", 0.0)
    cache = plots.DrawerCache()
    monkeypatch.setattr(plots, "DRAWERS", cache)
    first, second = RunSession("blacklist", 5), RunSession("blacklist", 5)  # one run, two tabs
    other = RunSession("blacklist", 6)
    snap = first.snapshot()
    for session in (first, other):
        for colour in plots.COLOUR_BY[:2]:
            plots.live((session.key, 200, "network", colour), lambda c=colour: plots.LiveNetwork(snap, c, None),
                       lambda drawer: drawer.picture(snap))
    assert len(cache._items) == 4

    def drawers_of(session_key) -> int:
        return sum(key[0] == session_key for key in list(cache._items))

    def settled(condition) -> bool:
        deadline = time.monotonic() + 10
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        return condition()

    kept_key, gone_key = first.key, other.key
    del first, other, session
    gc.collect()
    assert settled(lambda: drawers_of(gone_key) == 0), "the closed run's drawers were kept"
    assert drawers_of(kept_key) == 2, "a run another tab still has lost its drawers"
    del second
    gc.collect()
    assert settled(lambda: not cache._items)
