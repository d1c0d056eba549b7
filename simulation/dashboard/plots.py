"""The dashboard's figures, drawn with :class:`matplotlib.figure.Figure` (never pyplot,
which is not thread-safe), sized and lettered for a classroom projector.

Each ``*_figure`` function takes plain data (a metrics table, a snapshot, a
citizen's history) and returns a Figure; :func:`png` turns one into bytes.
"""

from __future__ import annotations

import ctypes
import gc
import io
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no GUI backend is ever needed; Figure objects draw on their own canvas

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import ListedColormap, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..metrics import METRICS  # noqa: E402
from .session import EVENT_LABELS, LIVE_RUNS, RELEASED, Snapshot  # noqa: E402

DPI = 100
SIZE = (6.4, 3.7)
PANEL_SIZE = (6.4, 4.3)
TITLE = 15
LABEL = 12
TICK = 11
LEGEND = 10
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies."""
STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
SCORE_CMAP = matplotlib.colormaps["RdYlGn"]
SCENARIO_COLOURS = ("#0072B2", "#D55E00", "#009E73")


@dataclass(frozen=True)
class Panel:
    """A time-series figure: metrics on a [0, 1]-style left axis, and optionally others
    (counts, ratios) on a right axis."""

    key: str
    title: str
    left: tuple[tuple[str, str], ...]
    right: tuple[tuple[str, str], ...] = ()
    left_label: str = "share of citizens"
    right_label: str = ""
    ylim: tuple[float, float] | None = None


PANELS: tuple[Panel, ...] = (
    Panel("trust", "Trust", (
        ("trust_generalized", "trust in others"), ("trust_in_firms", "trust in firms"),
        ("transaction_success_rate", "deals kept"), ("fraud_rate", "defrauded this step")),
        left_label="mean or share [0-1]", ylim=(0, 1)),
    Panel("inequality", "Inequality: Gini and the urban/rural gap", (
        ("gini_wealth", "Gini of wealth"), ("gini_income", "Gini of income")),
        right=(("wealth_ratio_urban_rural", "urban / rural wealth (right)"),),
        left_label="Gini [0-1]", right_label="ratio"),
    Panel("listings", "Listings and wrongful listings", (
        ("share_listed", "listed"), ("share_sanctioned", "listed or low grade"),
        ("share_listed_innocent", "innocent share of the listed")),
        right=(("wrongful_listings_active", "wrongful listings in force (right)"),),
        right_label="citizens"),
    Panel("approval", "Approval of the scoring system, by group", (
        ("approval_mean", "everyone"), ("approval_urban", "urban"), ("approval_rural", "rural"),
        ("approval_high_income", "top income third"), ("approval_low_income", "bottom income third"),
        ("approval_high_education", "university"), ("approval_low_education", "low education")),
        left_label="mean approval [0-1]"),
    Panel("sorting", "Social sorting", (
        ("score_assortativity", "score assortativity"), ("isolated_share", "isolated (no ties)"),
        ("cross_group_tie_share", "urban-rural ties")),
        right=(("listed_degree_ratio", "ties of sanctioned / others (right)"),),
        left_label="correlation or share", right_label="ratio"),
    Panel("firms", "Firms", (
        ("firm_quality_mean", "firm quality"), ("substandard_share", "substandard goods sold"),
        ("firms_listed_share", "firms listed")),
        left_label="mean or share [0-1]", ylim=(0, 1)),
)
PANEL_BY_KEY = {p.key: p for p in PANELS}


def png(fig: Figure, fast: bool = True) -> bytes:
    """The figure as PNG bytes at its own size and dpi (no cropping, so positions in
    it stay predictable). ``fast`` uses light compression: about 5 times quicker to
    encode than matplotlib's default for a slightly larger file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", compress_level=1 if fast else 6)
    return buf.getvalue()


def _new(size=SIZE, margins: dict | None = None) -> Figure:
    """A white figure with fixed margins (a constrained layout costs more than the drawing)."""
    fig = Figure(figsize=size, dpi=DPI, facecolor="white")
    fig.subplots_adjust(**(margins or {"left": 0.11, "right": 0.97, "top": 0.89, "bottom": 0.15}))
    return fig


def _style(ax, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> None:
    if title:
        ax.set_title(title, fontsize=TITLE, loc="left", fontweight="bold")
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=LABEL)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(True, alpha=0.3)
    for side in ("top",):
        ax.spines[side].set_visible(False)


def step_label(days_per_step: int) -> str:
    return f"step ({days_per_step} days each)"


TWIN_ALPHA = 0.55
TWIN_LABEL = "without rules (dotted)"


def panel_figure(panel: Panel, frame: pd.DataFrame, days_per_step: int = 7, horizon: int | None = None,
                 markers: bool = True, twin: pd.DataFrame | None = None, difference: bool = False) -> Figure:
    """One time-series panel of the run's metrics table, its legend under the axes (the
    PNG export; the page draws the same panels with plotly, see :mod:`.timeseries`).
    ``twin``: the no-rules twin's table, drawn as faint dotted lines of the same colours,
    or with ``difference`` subtracted from the scenario's (a zero line marks no effect).
    ``markers``: mark the points of a series too short to show as a line."""
    difference = difference and twin is not None
    if difference:
        frame = frame - twin.reindex(columns=frame.columns)
        twin = None
    n_lines = len(panel.left) + len(panel.right) + (twin is not None)
    ncol = 3 if n_lines > 6 else 2
    legend_rows = int(np.ceil(n_lines / ncol))
    bottom = 0.19 + 0.058 * legend_rows
    fig = _new(PANEL_SIZE, margins={"left": 0.13, "right": 0.87 if panel.right else 0.97, "top": 0.9,
                                    "bottom": bottom})
    ax = fig.add_subplot()
    x = frame.index.to_numpy()
    marker = "o" if markers and len(x) < 3 else None  # a lone first point would not show as a line
    handles = []
    low, high = np.inf, -np.inf
    for k, (col, label) in enumerate(panel.left):
        if col in frame:
            values = frame[col].to_numpy(dtype=float)
            (h,) = ax.plot(x, values, color=COLOURS[k % 8], ls=STYLES[k % 8], lw=2.4, label=label, marker=marker)
            handles.append(h)
            if twin is not None and col in twin:
                ax.plot(x, twin[col].to_numpy(dtype=float), color=COLOURS[k % 8], ls=":", lw=1.6, alpha=TWIN_ALPHA)
            if np.isfinite(values).any():
                low, high = min(low, np.nanmin(values)), max(high, np.nanmax(values))
    _style(ax, panel.title, step_label(days_per_step),
           "scenario minus without rules" if difference else panel.left_label)
    if difference:
        ax.axhline(0, color="black", lw=1)
    elif panel.ylim:
        ax.set_ylim(*panel.ylim)
    elif np.isfinite(low) and low >= 0 and high <= 1e-9:
        ax.set_ylim(0, 0.05)  # all zero so far: show a small positive range, not one around zero
    if horizon:
        ax.set_xlim(0, max(horizon, 1))
    if panel.right:
        ax2 = ax.twinx()
        top = 0.0
        for k, (col, label) in enumerate(panel.right, start=len(panel.left)):
            if col in frame:
                values = frame[col].to_numpy()
                (h,) = ax2.plot(x, values, color=COLOURS[k % 8], ls=STYLES[k % 8], lw=2.4, label=label,
                                marker=marker)
                handles.append(h)
                top = max(top, float(np.nanmax(values)) if len(values) else 0.0)
                if twin is not None and col in twin:
                    ax2.plot(x, twin[col].to_numpy(dtype=float), color=COLOURS[k % 8], ls=":", lw=1.6,
                             alpha=TWIN_ALPHA)
        ax2.set_ylabel(panel.right_label, fontsize=LABEL)
        ax2.tick_params(labelsize=TICK)
        if not difference:
            ax2.set_ylim(0, max(top * 1.15, 1.0))
        ax2.spines["top"].set_visible(False)
    if twin is not None:
        handles.append(Line2D([], [], color="#555555", ls=":", lw=1.6, alpha=TWIN_ALPHA, label=TWIN_LABEL))
    fig.legend(handles=handles, fontsize=LEGEND, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncol=ncol,
               frameon=False, handlelength=2.6, columnspacing=1.2)
    return fig


# --------------------------------------------------------------------------- network view

COLOUR_BY = ("score", "grade", "urban or rural")
GRADE_NAMES = ("AAA", "AA", "A", "B", "C", "D")
GRADE_CMAP = ListedColormap(["#1a9850", "#66bd63", "#a6d96a", "#fee08b", "#f46d43", "#a50026"])


@dataclass
class NetworkPicture:
    """The network view as PNG bytes, with each drawn citizen's position as a fraction
    of the image (x from the left, y from the top) for clicks."""

    image: bytes
    nodes: np.ndarray
    fractions: np.ndarray

    def citizen_at(self, x: float, y: float, radius: float = 0.035) -> int | None:
        """The citizen drawn nearest to a click at fractions (x, y), if close enough."""
        if not len(self.nodes):
            return None
        d = np.hypot(self.fractions[:, 0] - x, self.fractions[:, 1] - y)
        k = int(np.argmin(d))
        return int(self.nodes[k]) if d[k] <= radius else None


def _node_colours(snap: Snapshot, colour_by: str) -> np.ndarray:
    """RGBA colour of each sampled citizen."""
    nodes = snap.sample_nodes
    grey = np.array(matplotlib.colors.to_rgba("#cccccc"))
    if colour_by == "grade" and snap.grade is not None:
        return GRADE_CMAP(snap.grade[nodes].astype(int))
    if colour_by == "urban or rural":
        return np.where(snap.urban[nodes][:, None], np.array(matplotlib.colors.to_rgba("#0072B2")),
                        np.array(matplotlib.colors.to_rgba("#E69F00")))
    if snap.standing is not None:
        values = snap.standing[nodes]
        return np.where(np.isfinite(values)[:, None], SCORE_CMAP(np.nan_to_num(values)), grey)
    return np.tile(grey, (len(nodes), 1))


def network_picture_figure(snap: Snapshot, colour_by: str = "score", selected: int | None = None) -> dict:
    """The network view's figure and its changing artists (ties, citizens, listed
    citizens, the count of the listed), with each citizen's position as fractions."""
    fig = _new((6.4, 5.6), margins={"left": 0.02, "right": 0.9, "top": 0.93, "bottom": 0.13})
    ax = fig.add_subplot()
    nodes, pos = snap.sample_nodes, snap.sample_pos
    segments = pos[snap.sample_edges] if len(snap.sample_edges) else np.zeros((0, 2, 2))
    edges = LineCollection(segments, colors="#bbbbbb", linewidths=0.8, zorder=1)
    ax.add_collection(edges)
    listed = snap.listed[nodes]
    title = "Who is connected to whom (a sample)"
    legend: list = []
    if colour_by == "grade" and snap.grade is not None:
        legend = [Line2D([], [], marker="o", ls="", color=GRADE_CMAP(k), markersize=9, label=g)
                  for k, g in enumerate(GRADE_NAMES)]
    elif colour_by == "urban or rural":
        legend = [Line2D([], [], marker="o", ls="", color="#0072B2", markersize=9, label="urban"),
                  Line2D([], [], marker="o", ls="", color="#E69F00", markersize=9, label="rural")]
    elif snap.standing is not None:
        sm = matplotlib.cm.ScalarMappable(norm=Normalize(0, 1), cmap=SCORE_CMAP)
        cb = fig.colorbar(sm, ax=ax, fraction=0.04, pad=0.01)
        cb.set_label("score (0 worst, 1 best; grey: not scored)", fontsize=LEGEND)
        cb.ax.tick_params(labelsize=LEGEND)
    else:
        title += ": nobody is scored"
    colours = _node_colours(snap, colour_by)
    free = ax.scatter(pos[~listed, 0], pos[~listed, 1], s=70, c=colours[~listed], edgecolors="#444444",
                      linewidths=0.6, zorder=2)
    on_list = ax.scatter(pos[listed, 0], pos[listed, 1], s=190, c=colours[listed] if listed.any() else "white",
                         marker="s", edgecolors="black", linewidths=2.2, zorder=3)
    legend.append(Line2D([], [], marker="s", ls="", markerfacecolor="white", markeredgecolor="black",
                         markeredgewidth=2.2, markersize=11, label="listed"))
    if selected is not None and selected in set(nodes.tolist()):
        k = int(np.flatnonzero(nodes == selected)[0])
        ax.scatter([pos[k, 0]], [pos[k, 1]], s=420, facecolors="none", edgecolors="#0072B2", linewidths=3, zorder=4)
    ax.set_title(title, fontsize=TITLE, loc="left", fontweight="bold")
    ax.text(0.0, -0.02, f"{len(nodes)} of {snap.n_citizens:,} citizens; click one to follow them",
            transform=ax.transAxes, fontsize=LEGEND, va="top", color="#444444")
    count = ax.text(0.0, -0.13, f"listed: {int(listed.sum())} of these {len(nodes)}; "
                                f"{snap.listed.mean():.1%} of all citizens",
                    transform=ax.transAxes, fontsize=LEGEND, va="top", color="#000000")
    ax.legend(handles=legend, fontsize=LEGEND, loc="upper left", bbox_to_anchor=(0, -0.065), ncol=4, frameon=False)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    width, height = fig.bbox.width, fig.bbox.height  # fixed margins: the transform is final now
    xy = ax.transData.transform(pos)
    fractions = np.column_stack([xy[:, 0] / width, 1.0 - xy[:, 1] / height])
    return {"fig": fig, "ax": ax, "fractions": fractions, "edges": edges, "free": free, "listed": on_list,
            "count": count}


def network_picture(snap: Snapshot, colour_by: str = "score", selected: int | None = None) -> NetworkPicture:
    """A sample of citizens and their active ties, coloured by score, grade or group;
    listed citizens drawn as large squares with a black edge."""
    parts = network_picture_figure(snap, colour_by, selected)
    return NetworkPicture(image=png(parts["fig"]), nodes=snap.sample_nodes, fractions=parts["fractions"])


# --------------------------------------------------------------------------- score distribution

GROUPS = (("urban", lambda s: s.urban), ("rural", lambda s: ~s.urban),
          ("bottom income third", lambda s: s.income_tercile == 0),
          ("middle income third", lambda s: s.income_tercile == 1),
          ("top income third", lambda s: s.income_tercile == 2),
          ("low education", lambda s: s.education == 0),
          ("university", lambda s: s.education == 2))
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0 + 1e-9)


def group_shares(snap: Snapshot) -> np.ndarray:
    """Share of each group (rows) in each score band and, last column, not scored."""
    shares = np.zeros((len(GROUPS), len(BINS)))
    for k, (_, mask_of) in enumerate(GROUPS):
        values = snap.standing[mask_of(snap)]
        if values.size == 0:
            continue
        scored = np.isfinite(values)
        counts, _ = np.histogram(values[scored], bins=BINS)
        shares[k, :-1] = counts / values.size
        shares[k, -1] = (~scored).mean()
    return shares


def distribution_figure(snap: Snapshot) -> Figure:
    """Share of each group in five score bands (and not scored), as 100% bars."""
    fig = _new(PANEL_SIZE, margins={"left": 0.29, "right": 0.97, "top": 0.72, "bottom": 0.12})
    ax = fig.add_subplot()
    _style(ax, None, "share of the group", None)
    if snap.standing is None:
        fig.suptitle("Scores by group", fontsize=TITLE, fontweight="bold", x=0.02, y=0.98, ha="left")
        ax.text(0.5, 0.5, "Nobody is scored in this scenario\n(the control)", ha="center", va="center",
                fontsize=LABEL + 2, transform=ax.transAxes)
        ax.set_yticks([])
        return fig
    names = [g for g, _ in GROUPS]
    shares = group_shares(snap)
    left = np.zeros(len(GROUPS))
    labels = ["0-0.2 (worst)", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1 (best)", "not scored"]
    colours = [SCORE_CMAP(c) for c in (0.05, 0.3, 0.5, 0.7, 0.95)] + ["#dddddd"]
    y = np.arange(len(GROUPS))[::-1]
    for j in range(len(BINS)):
        ax.barh(y, shares[:, j], left=left, color=colours[j], edgecolor="white", label=labels[j], height=0.75)
        left += shares[:, j]
    ax.set_yticks(y, names, fontsize=TICK)
    ax.set_xlim(0, 1)
    ax.grid(False)
    fig.legend(fontsize=LEGEND, ncol=3, loc="upper left", bbox_to_anchor=(0.01, 0.91), frameon=False,
               title="score band (0 worst, 1 best; mean over the rule sets that score a citizen)",
               title_fontsize=LEGEND, alignment="left")
    fig.suptitle("Scores by group", fontsize=TITLE, fontweight="bold", x=0.02, y=0.98, ha="left")
    return fig


# --------------------------------------------------------------------------- one citizen

EVENT_ROWS = (
    ("judgement", "#777777", "o"), ("complied", "#009E73", "o"),
    ("recorded", "#000000", "o"), ("recorded_wrongly", "#D55E00", "X"),
    ("listed", "#000000", "s"), ("listed_wrongly", "#D55E00", "s"),
    ("appealed", "#0072B2", "^"), ("delisted_appeal", "#009E73", "v"), ("delisted_expiry", "#56B4E9", "v"),
    ("ties_cut", "#CC79A7", "D"), ("grade_change", "#E69F00", "d"), ("redlisted", "#009E73", "*"),
    ("opted_in_commercial", "#0072B2", ">"), ("opted_out_commercial", "#999999", "<"),
    ("opted_in_rating", "#0072B2", ">"), ("opted_out_rating", "#999999", "<"),
)


def citizen_figure(history: pd.DataFrame, events: list[dict], citizen: int, days_per_step: int = 7,
                   horizon: int | None = None) -> Figure:
    """A citizen's story: score, listing and sanction periods; events; active ties."""
    fig = Figure(figsize=(11, 6.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=(2.2, 2.0, 1.2))
    ax_score, ax_events, ax_ties = axes
    x = history.index.to_numpy()
    if "points" in history:
        col, label = "points", "municipal points"
    elif "commercial_score" in history and history["commercial_score"].notna().any():
        col, label = "commercial_score", "commercial score"
    elif "rating_level" in history and history["rating_level"].notna().any():
        col, label = "rating_level", "rating (0 bad, 1 good, 2 very good)"
    else:
        col, label = "standing", "score (0 worst, 1 best)"
    _style(ax_score, f"Citizen {citizen}: score, listings and sanctions", None, label)
    if len(x) and col in history and history[col].notna().any():
        ax_score.plot(x, history[col].to_numpy(), color="#0072B2", lw=2.4, label=label, drawstyle="steps-post",
                      marker="o" if len(x) < 3 else None)
        if col == "standing":
            ax_score.set_ylim(-0.05, 1.05)
        elif col == "rating_level":
            ax_score.set_ylim(-0.1, 2.1)
    else:
        ax_score.text(0.5, 0.5, "not scored", ha="center", va="center", transform=ax_score.transAxes,
                      fontsize=LABEL)
    for flag, colour, text in (("listed", "#D55E00", "listed"), ("sanctioned", "#E69F00", "sanctioned")):
        if flag in history and len(x):
            on = history[flag].to_numpy() > 0.5
            if on.any():
                ax_score.fill_between(x, 0, 1, where=on, step="post", color=colour, alpha=0.18,
                                      transform=ax_score.get_xaxis_transform(), label=text)
    if ax_score.get_legend_handles_labels()[0]:
        ax_score.legend(fontsize=LEGEND, loc="lower left")

    present = [(code, colour, marker) for code, colour, marker in EVENT_ROWS
               if any(e["event"] == code for e in events)]
    _style(ax_events, "Events", None, None)
    for row, (code, colour, marker) in enumerate(present):
        steps = [e["step"] for e in events if e["event"] == code]
        ax_events.scatter(steps, [row] * len(steps), color=colour, marker=marker, s=70, zorder=3)
    ax_events.set_yticks(range(len(present)), [EVENT_LABELS[c] for c, _, _ in present], fontsize=TICK - 1)
    ax_events.set_ylim(-0.7, max(len(present), 1) - 0.3)
    if not present:
        ax_events.text(0.5, 0.5, "no events yet", ha="center", va="center", transform=ax_events.transAxes,
                       fontsize=LABEL)

    _style(ax_ties, None, step_label(days_per_step), "active ties")
    if "ties" in history and len(x):
        ax_ties.plot(x, history["ties"].to_numpy(), color="#CC79A7", lw=2.2, drawstyle="steps-post")
        ax_ties.set_ylim(bottom=0)
    if horizon:
        ax_ties.set_xlim(0, max(horizon, 1))
    return fig


def citizen_twin_figure(history: pd.DataFrame, twin: pd.DataFrame, citizen: int, days_per_step: int = 7,
                        horizon: int | None = None) -> Figure:
    """The citizen with the rules (solid) and the same person in the no-rules twin
    (faint, dotted): wealth, trust in others and active ties."""
    fig = Figure(figsize=(11, 5.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    rows = (("wealth", "wealth", "#0072B2"), ("trust", "trust in others [0-1]", "#D55E00"),
            ("ties", "active ties", "#CC79A7"))
    for k, (ax, (col, label, colour)) in enumerate(zip(axes, rows, strict=True)):
        _style(ax, f"Citizen {citizen} with and without the rules" if k == 0 else None,
               step_label(days_per_step) if k == len(rows) - 1 else None, label)
        marker = "o" if len(history.index) < 3 else None
        if col in history:
            ax.plot(history.index, history[col].to_numpy(), color=colour, lw=2.6, marker=marker)
        if col in twin:
            ax.plot(twin.index, twin[col].to_numpy(), color=colour, lw=1.8, ls=":", alpha=TWIN_ALPHA + 0.15,
                    marker=marker)
    key = [Line2D([], [], color="#444444", lw=2.6, label="with the rules"),
           Line2D([], [], color="#444444", lw=1.8, ls=":", alpha=TWIN_ALPHA + 0.15, label=TWIN_LABEL)]
    fig.legend(handles=key, fontsize=LEGEND + 1, loc="outside upper right", ncol=2, frameon=False)
    if horizon:
        axes[-1].set_xlim(0, max(horizon, 1))
    return fig


# --------------------------------------------------------------------------- comparisons


def compare_figure(frames: dict[str, pd.DataFrame], metrics: list[str], differences: bool = False,
                   days_per_step: int = 7) -> Figure:
    """Small multiples, one per metric: each scenario's line (or its difference from the
    first scenario)."""
    names = list(frames)
    n = max(len(metrics), 1)
    cols = 3 if n > 4 else 2 if n > 1 else 1
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.6 * cols, 3.3 * rows + 0.6), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    base = frames[names[0]] if names else None
    for ax, metric in zip(axes, metrics, strict=False):
        for k, name in enumerate(names):
            if differences and k == 0:
                continue
            series = frames[name][metric]
            if differences:
                series = series - base[metric]
            ax.plot(series.index, series.to_numpy(), color=SCENARIO_COLOURS[k % 3], ls=STYLES[k % 3], lw=2.2,
                    label=f"{name} - {names[0]}" if differences else name)
        if differences:
            ax.axhline(0, color="black", lw=1)
        _style(ax, metric.replace("_", " "), step_label(days_per_step), None)
        ax.title.set_fontsize(LABEL + 1)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    title = (f"Difference from {names[0]} (same seed, same population)" if differences
             else "Side by side (same seed, same population)")
    fig.suptitle(title, fontsize=TITLE, fontweight="bold", x=0.01, ha="left")
    if handles:
        fig.legend(handles, labels, loc="outside upper right", fontsize=LEGEND + 1, ncol=len(handles), frameon=False)
    return fig


def metric_help(metric: str) -> str:
    return METRICS.get(metric, "")


def contact_sheet(images: list[bytes], columns: int = 2, title: str | None = None) -> bytes:
    """Several PNG images tiled into one PNG (for the 'all figures' export)."""
    from PIL import Image, ImageDraw

    pics = [Image.open(io.BytesIO(b)).convert("RGB") for b in images]
    if not pics:
        raise ValueError("no figures to export")
    cell_w = max(p.width for p in pics)
    rows = int(np.ceil(len(pics) / columns))
    row_h = [max(p.height for p in pics[r * columns:(r + 1) * columns]) for r in range(rows)]
    top = 40 if title else 0
    sheet = Image.new("RGB", (cell_w * columns, top + sum(row_h)), "white")
    if title:
        ImageDraw.Draw(sheet).text((12, 12), title, fill="black")
    y = top
    for r in range(rows):
        for c, pic in enumerate(pics[r * columns:(r + 1) * columns]):
            sheet.paste(pic, (c * cell_w, y))
        y += row_h[r]
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


# --------------------------------------------------------------------------- live (blitted) drawing
#
# While a run plays, the PNG figures (network view, scores by group) are redrawn many
# times with the same axes, labels and legend and new data. Drawing all of it each
# time costs ~0.15 s a figure; drawing the static parts once and only the data each
# frame ("blitting") costs a few milliseconds. A Live* drawer keeps one figure per run and figure; it redraws the
# static parts only when they change (e.g. a y-axis that has to grow).


def _encode(canvas) -> bytes:
    from PIL import Image

    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


class _Blitter:
    """Draws a figure's static parts once and its animated artists every frame."""

    def __init__(self, fig: Figure, animated: list) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.animated = animated
        for artist in animated:
            artist.set_animated(True)
        self.background = None

    def invalidate(self) -> None:
        self.background = None

    def png(self) -> bytes:
        if self.background is None:
            self.canvas.draw()  # everything but the animated artists
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self.background)
        for artist in self.animated:
            if artist.get_visible():
                (artist.axes or self.fig).draw_artist(artist)
        return _encode(self.canvas)


class LiveNetwork:
    """The network view of one run (fixed sample and layout), redrawn cheaply."""

    def __init__(self, snap: Snapshot, colour_by: str, selected: int | None) -> None:
        self.colour_by = colour_by
        first = network_picture_figure(snap, colour_by, selected)
        self.fig, self.ax, self.fractions = first["fig"], first["ax"], first["fractions"]
        self.edges, self.free, self.listed, self.count = first["edges"], first["free"], first["listed"], first["count"]
        self.nodes, self.pos = snap.sample_nodes, snap.sample_pos
        self.blitter = _Blitter(self.fig, [self.edges, self.free, self.listed, self.count])

    def picture(self, snap: Snapshot) -> NetworkPicture:
        colours = _node_colours(snap, self.colour_by)
        listed = snap.listed[self.nodes]
        self.edges.set_segments(self.pos[snap.sample_edges] if len(snap.sample_edges) else np.zeros((0, 2, 2)))
        self.free.set_offsets(self.pos[~listed])
        self.free.set_facecolors(colours[~listed])
        self.listed.set_offsets(self.pos[listed] if listed.any() else np.zeros((0, 2)))
        self.listed.set_facecolors(colours[listed] if listed.any() else np.zeros((0, 4)))
        self.count.set_text(f"listed: {int(listed.sum())} of these {len(self.nodes)}; "
                            f"{snap.listed.mean():.1%} of all citizens")
        return NetworkPicture(image=self.blitter.png(), nodes=self.nodes, fractions=self.fractions)


class LiveDistribution:
    """The scores-by-group bars of one run, redrawn cheaply."""

    def __init__(self, snap: Snapshot) -> None:
        self.fig = distribution_figure(snap)
        self.ax = self.fig.axes[0]
        self.bars = [p for p in self.ax.patches]
        self.blitter = _Blitter(self.fig, self.bars)
        self.scored = snap.standing is not None

    def png(self, snap: Snapshot) -> bytes:
        if self.scored and snap.standing is not None:
            shares = group_shares(snap)
            left = np.zeros(shares.shape[0])
            k = 0
            for j in range(shares.shape[1]):  # bars were added band by band, group by group
                for g in range(shares.shape[0]):
                    bar = self.bars[k]
                    bar.set_x(left[g])
                    bar.set_width(shares[g, j])
                    k += 1
                left += shares[:, j]
        return self.blitter.png()


class DrawerCache:
    """Live drawers by (run, ...) key, most recent first, each with its own lock.

    It holds ``SIZE`` drawers: the two PNG figures of 32 runs, a class with a tab each,
    with room for other colourings of the network view. With fewer, tabs stepping at
    once evict each other's drawers and every step redraws its figures from scratch
    (about ten times slower). A drawer takes about 2.5 MB, so a full cache about 160 MB.
    The drawers of a run go as soon as no open tab has that run any more
    (:meth:`release`, called by :func:`release_forever`)."""

    SIZE = 2 * 32

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list:
        """The entry ``[drawer or None, lock]`` of ``key``, made empty when new."""
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                entry = [None, threading.Lock()]
                self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return entry

    def release(self, runs: set) -> int:
        """Drop the drawers of the runs (keys of :class:`~.session.RunSession`) in
        ``runs`` that no live session has; how many were dropped."""
        gone = runs - {run.key for run in list(LIVE_RUNS)}
        with self._lock:
            dead = [key for key in self._items if key[0] in gone]
            for key in dead:
                del self._items[key]
        return len(dead)


SETTLE = 1.0
"""Seconds :func:`release_forever` waits after a run is released, for the other tabs of
a class closing at once."""
LATE = 5.0
"""Seconds after the last release when memory is handed back once more: a closed tab's
kernel is torn down over a few seconds, after its run has gone."""


def release_forever() -> None:
    """As runs are released (see ``session.RELEASED``), drop their drawers and give the
    memory back to the system, then once more when releases have stopped for ``LATE``
    seconds. Runs in a daemon thread that :func:`live` starts."""
    late = False
    while True:
        try:
            runs = {RELEASED.get(timeout=LATE if late else None)}
        except queue.Empty:
            gc.collect()
            return_memory()
            late = False
            continue
        time.sleep(SETTLE)
        while not RELEASED.empty():
            runs.add(RELEASED.get())
        if DRAWERS.release(runs):
            gc.collect()  # figures hold reference cycles
            return_memory()
            late = True


def return_memory() -> None:
    """Hand the heap's freed memory back to the system (glibc's ``malloc_trim``; on
    other C libraries nothing happens and the process keeps it for reuse)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


DRAWERS = DrawerCache()


_janitor: list[threading.Thread] = []
_janitor_lock = threading.Lock()


def live(key: tuple, make, use):
    """Run ``use(drawer)`` on the live drawer of ``key`` (made by ``make()`` when new);
    ``key`` starts with the run's key."""
    with _janitor_lock:
        if not _janitor:
            thread = threading.Thread(target=release_forever, name="scoresim-drawers", daemon=True)
            # Solara gives a thread the kernel of the tab that made it, which would keep
            # that tab's state (and run) alive as long as this thread: it belongs to none
            thread.current_context = None
            _janitor.append(thread)
            thread.start()
    entry = DRAWERS.get(key)
    with entry[1]:
        if entry[0] is None:
            entry[0] = make()
        return use(entry[0])
