"""The Run page's time-series figures, drawn by plotly in the browser.

Each panel of :data:`.plots.PANELS` is a :class:`plotly.graph_objects.FigureWidget`
(plotly >= 6: an anywidget whose JavaScript ships inside the Python package, so it
works offline). It is made once per browser tab and panel; while a run plays only
the new data is sent and plotly redraws it in the browser, which is what lets the
figures follow the run ten or more times a second (the matplotlib PNGs they replace
managed about 2.6).

Every metric has two lines: the scenario's (thick, solid) and its no-rules twin's
(the same colour, thin, dotted and faint: legend entry "without rules"). In the
difference view the scenario's line is the scenario minus its twin and a zero line
marks "no effect of the rules".
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go

from .plots import COLOURS, Panel, step_label


def _load_figure_widget() -> None:
    """Import plotly's FigureWidget in a thread of no browser tab. Its first import may
    start anywidget's file-watching thread, and Solara gives a new thread the tab (kernel)
    of the thread that starts it: imported during a tab's first render, it would keep
    that tab's run alive for good (the load test's released-runs check found it)."""
    thread = threading.Thread(target=lambda: go.FigureWidget, name="scoresim-plotly-import", daemon=True)
    thread.current_context = None
    thread.start()
    thread.join()


_load_figure_widget()

BUNDLE_FILE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
"""plotly's widget script (about 5 MB)."""
BUNDLE_ROUTE = f"/_scoresim/plotly-widget-{plotly.__version__}.js"
"""Where the dashboard's server serves :data:`BUNDLE_FILE`, once per browser, cached
(:func:`simulation.dashboard.frontend_cache.install_plotly_bundle`)."""


class SharedScriptFigure(go.FigureWidget):
    """plotly's FigureWidget whose script the browser loads from :data:`BUNDLE_ROUTE`
    (fetched once and cached) instead of receiving the whole 5 MB script inside every
    figure's widget state: six figures a tab, a class of twenty tabs, was 600 MB over
    the websockets."""

    _esm = (f'const bundle = await import(new URL("{BUNDLE_ROUTE}", window.location.origin).href);\n'
            "export const FigureModel = bundle.FigureModel;\n"
            "export const FigureView = bundle.FigureView;\n"
            "export default bundle.default;\n")

TITLE = 21
FONT = 16
TICK = 15
HEIGHT = 500
"""Pixels, with the legend under the plot: one figure and the controls' first row fit a
720-pixel projector screen."""
LEGEND_ROOM = 125
"""Pixels under the plot for the step axis's title and up to three rows of legend."""
TWIN_DASH = "dot"
TWIN_OPACITY = 0.55
TWIN_WIDTH = 2.5
LINE_WIDTH = 3.5
TWIN_LEGEND = "without rules (dotted)"
ZERO_LINE = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 0, "y1": 0,
             "line": {"color": "#222222", "width": 1.5}, "visible": False}
"""The difference view's "no effect" line (shown only there)."""
DATA_ONLY = {"mode": "immediate", "transition": {"duration": 0}, "frame": {"duration": 0, "redraw": False}}
"""Plotly.animate's options for a frame that only moves the lines (no axes, legend or
layout redrawn): what makes ten and more updates a second cheap in the browser."""
KEY_POINT = np.array([np.nan])
"""The data of the legend key's trace: nothing to draw."""


def lines(panel: Panel) -> list[tuple[str, str, bool]]:
    """(metric, label, on the right axis) for each line of the panel."""
    return [(c, label, False) for c, label in panel.left] + [(c, label, True) for c, label in panel.right]


def make_figure(panel: Panel, days_per_step: int) -> go.Figure:
    """The panel's empty figure: a trace per metric and its twin, then the legend key
    of the twins' lines."""
    traces = []
    for k, (_, label, right) in enumerate(lines(panel)):
        colour, axis = COLOURS[k % len(COLOURS)], "y2" if right else "y"
        traces.append(go.Scatter(x=[], y=[], name=label, mode="lines", yaxis=axis, legendgroup=label,
                                 line={"color": colour, "width": LINE_WIDTH},
                                 hovertemplate="%{y:.3g}"))
        traces.append(go.Scatter(x=[], y=[], name=f"{label}, without rules", mode="lines", yaxis=axis,
                                 legendgroup=label, showlegend=False, opacity=TWIN_OPACITY, visible=False,
                                 line={"color": colour, "width": TWIN_WIDTH, "dash": TWIN_DASH},
                                 hovertemplate="%{y:.3g} without rules"))
    traces.append(go.Scatter(x=KEY_POINT, y=KEY_POINT, name=TWIN_LEGEND, mode="lines", visible=False,
                             line={"color": "#555555", "width": TWIN_WIDTH, "dash": TWIN_DASH},
                             opacity=TWIN_OPACITY, hoverinfo="skip"))
    axis = {"showgrid": True, "gridcolor": "#e3e3e3", "zeroline": False, "tickfont": {"size": TICK},
            "tickformat": ".4~g",
            "linecolor": "#444444", "showline": True, "ticks": "outside"}
    layout = go.Layout(
        title={"text": f"<b>{panel.title}</b>", "x": 0.01, "xanchor": "left", "font": {"size": TITLE}},
        height=HEIGHT, autosize=True, margin={"l": 80, "r": 80 if panel.right else 20, "t": 50, "b": LEGEND_ROOM},
        font={"size": FONT, "color": "#222222"}, plot_bgcolor="white", paper_bgcolor="white",
        showlegend=True, hovermode="x unified",
        legend={"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0, "yanchor": "bottom",
                "font": {"size": FONT - 1}, "tracegroupgap": 0},
        xaxis={**axis, "title": {"text": step_label(days_per_step), "font": {"size": FONT}}, "rangemode": "tozero"},
        yaxis={**axis, "title": {"text": panel.left_label, "font": {"size": FONT}}},
        uirevision="keep",  # zoom and hidden lines survive updates
        shapes=[ZERO_LINE],
    )
    if panel.right:
        layout.yaxis2 = {**axis, "showgrid": False, "overlaying": "y", "side": "right",
                         "title": {"text": panel.right_label, "font": {"size": FONT}}}
    return go.Figure(data=traces, layout=layout)


def _values(frame: pd.DataFrame | None, column: str, n: int) -> np.ndarray | None:
    if frame is None:
        return None
    if column not in frame:
        return np.full(n, np.nan)
    return frame[column].to_numpy(dtype=float)


def _range(values: list[np.ndarray], floor_zero: bool) -> list[float] | None:
    finite = [v[np.isfinite(v)] for v in values if v is not None]
    finite = [v for v in finite if v.size]
    if not finite:
        return None
    lo, hi = min(float(v.min()) for v in finite), max(float(v.max()) for v in finite)
    span = max(hi - lo, 0.02 * max(abs(hi), abs(lo)), 1e-3)
    lo, hi = lo - 0.08 * span, hi + 0.15 * span
    if floor_zero and lo < 0 <= min(float(v.min()) for v in finite):
        lo = 0.0
    return [lo, hi]


class LiveFigure:
    """One panel's figure in one tab, updated with a run's data."""

    def __init__(self, panel: Panel, days_per_step: int, widget: go.FigureWidget | None = None) -> None:
        """On ``widget`` (an empty FigureWidget the page made) or a new one."""
        self.panel = panel
        self.widget = widget if widget is not None else SharedScriptFigure()
        figure = make_figure(panel, days_per_step)
        self.widget.add_traces(figure.data)
        self.widget.layout = figure.layout
        self.shown: tuple | None = None  # (run, step, difference) last sent
        self.ranges: dict[str, list[float]] = {}
        self.layout: dict = {}  # the layout values last sent
        self.visible: list[bool] = []  # the traces' visibility last sent

    def update(self, run: tuple, frame: pd.DataFrame, twin: pd.DataFrame | None, difference: bool,
               horizon: int) -> bool:
        """Show ``frame`` (and its twin's lines, or the differences from them) with one
        message to the browser; False if this exact picture is already shown."""
        difference = difference and twin is not None
        key = (run, len(frame), horizon, difference)
        if key == self.shown:
            return False
        if self.shown is None or self.shown[0] != run or self.shown[3] != difference:
            self.ranges = {}
            self.layout, self.visible = {}, []
        self.shown = key
        x = frame.index.to_numpy()
        n = len(x)
        xs, ys, visible = [], [], []
        per_axis: dict[str, list[np.ndarray]] = {"yaxis": [], "yaxis2": []}
        for column, _, right in lines(self.panel):
            y, y_twin = _values(frame, column, n), _values(twin, column, n)
            if difference:
                y, y_twin = y - y_twin, None
            xs += [x, x]
            ys += [y, y_twin if y_twin is not None else np.empty(0)]
            visible += [True, y_twin is not None]
            per_axis["yaxis2" if right else "yaxis"] += [y, y_twin]
        xs.append(KEY_POINT)  # the legend key of the twins' lines
        ys.append(KEY_POINT)
        visible.append(twin is not None and not difference)
        layout: dict = {"xaxis.range": [0, max(horizon, 1)],
                        "yaxis.title.text": "scenario minus without rules" if difference else self.panel.left_label,
                        "shapes[0].visible": difference}
        self._fit(layout, "yaxis", per_axis["yaxis"], None if difference else self.panel.ylim, not difference)
        if self.panel.right:
            self._fit(layout, "yaxis2", per_axis["yaxis2"], None, not difference)
        layout = {k: v for k, v in layout.items() if self.layout.get(k) != v}  # only what changed
        self.layout.update(layout)
        traces = list(range(len(xs)))
        w = self.widget
        if layout or visible != self.visible:  # axes or lines change: plotly redraws the whole figure
            self.visible = visible
            w.plotly_update({"x": xs, "y": ys, "visible": visible}, layout, traces)
        else:  # only the data: plotly's animation path moves the lines without a full redraw
            w._perform_plotly_update({"x": xs, "y": ys}, {}, traces)
            w._send_animate_msg([{"x": x, "y": y} for x, y in zip(xs, ys, strict=True)], {}, traces, DATA_ONLY)
        return True

    def _fit(self, layout: dict, axis: str, values: list, fixed: tuple[float, float] | None,
             floor_zero: bool) -> None:
        """Into ``layout``: a y range that only grows while a run plays, so the axes do
        not jitter; in the difference view (no ``floor_zero``) centred on 0, so that
        both axes' zeros lie on the zero line."""
        if fixed is not None:
            wanted = list(fixed)
        else:
            wanted = _range(values, floor_zero)
            if wanted is None:
                return
            if not floor_zero:
                half = max(abs(wanted[0]), abs(wanted[1]))
                wanted = [-half, half]
            current = self.ranges.get(axis)
            if current is not None:
                if current[0] <= wanted[0] and wanted[1] <= current[1]:
                    return
                wanted = [min(current[0], wanted[0]), max(current[1], wanted[1])]
        if self.ranges.get(axis) != wanted:
            self.ranges[axis] = wanted
            layout[f"{axis}.range"] = wanted
