"""Reading a sweep: confidence intervals per design point, and sensitivity indices.

:func:`summarize` gives, for every kept metric and design point, the number of
successful runs, their mean and standard deviation, and a Student-t confidence
interval of the mean (``mean +- t(level, n - 1) x sd / sqrt(n)``, sd with n - 1).

:func:`sensitivity` gives variance-based Sobol' indices (first and total order, with
bootstrap confidence intervals) for a ``sobol`` design, or Morris elementary-effect
statistics (mu*, its confidence interval, mu and sigma) for a ``morris`` design,
computed by SALib from each design point's mean over its replicates. Parameters are
on the unit interval (see :mod:`simulation.design`), so Morris's mu* is the change in
the output per full sweep of the parameter's range.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .experiment import ExperimentError
from .sweep import SweepDir, load_runs

SUMMARY_COLUMNS = ("metric", "n", "n_failed", "mean", "std", "ci_low", "ci_high")


def _metrics(manifest: dict[str, Any], wanted: list[str] | None) -> list[str]:
    kept = list(manifest["metrics"])
    if not wanted:
        return kept
    unknown = [m for m in wanted if m not in kept]
    if unknown:
        raise ExperimentError(f"--metric {', '.join(unknown)}: not kept by this sweep; kept: {', '.join(kept)}.")
    return list(dict.fromkeys(wanted))


def summarize(out: str | Path, metrics: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Mean and ``level`` confidence interval of each metric's final value per design
    point, over the successful runs: one row per (point, metric), with the point's
    parameter values."""
    from scipy import stats

    if not 0 < level < 1:
        raise ExperimentError(f"the confidence level must be between 0 and 1, got {level}.")
    target = SweepDir(out)
    manifest = target.read_manifest()
    names = list(manifest["design"]["parameters"])
    chosen = _metrics(manifest, metrics)
    runs = load_runs(out)
    points = manifest["design"]["points"]
    index = pd.RangeIndex(len(points), name="point")
    ok = runs[runs["status"] == "ok"].groupby("point")
    failed = (runs["status"] != "ok").groupby(runs["point"]).sum().reindex(index, fill_value=0)
    values = pd.DataFrame([{name: p[name] for name in names} for p in points], columns=names, index=index)
    frames = []
    for metric in chosen:
        n = ok[metric].count().reindex(index, fill_value=0)
        mean = ok[metric].mean().reindex(index)
        std = ok[metric].std(ddof=1).reindex(index).where(n > 1)
        t = pd.Series(stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), index=index).where(n > 1)
        half = t * std / np.sqrt(n)
        frames.append(values.assign(metric=metric, n=n.astype("int64"), n_failed=failed.astype("int64"),
                                    mean=mean, std=std, ci_low=mean - half, ci_high=mean + half))
    table = pd.concat(frames).reset_index() if frames else pd.DataFrame()
    return table.reindex(columns=["point", *names, *SUMMARY_COLUMNS])


def format_summary(table: pd.DataFrame, level: float = 0.95) -> str:
    """The summary as text: one block per metric, one line per design point."""
    label = f"{round(level * 100, 6):g}% CI"
    blocks = []
    params = [c for c in table.columns if c not in ("point", *SUMMARY_COLUMNS)]
    for metric, part in table.groupby("metric", sort=False):
        show = part[["point", *params, "n"]].copy()
        show["mean"] = part["mean"].map(_num)
        show[label] = [f"[{_num(lo)}, {_num(hi)}]" for lo, hi in zip(part["ci_low"], part["ci_high"], strict=True)]
        if (part["n_failed"] > 0).any():
            show["failed"] = part["n_failed"]
        blocks.append(f"{metric}\n{show.to_string(index=False)}")
    return "\n\n".join(blocks)


def _num(x: float) -> str:
    if x != x:
        return "nan"
    return f"{x:.6g}"


def sensitivity(out: str | Path, metrics: list[str] | None = None, resamples: int = 1000,
                level: float = 0.95) -> dict[str, pd.DataFrame]:
    """Sensitivity indices of each metric's final value (mean over replicates per
    point) to each parameter. Returns ``{"indices": ..., "second_order": ...}`` tables;
    the second is empty unless the sobol design asked for second-order indices."""
    if not 0 < level < 1:
        raise ExperimentError(f"the confidence level must be between 0 and 1, got {level}.")
    if resamples < 10:
        raise ExperimentError(f"resamples must be at least 10, got {resamples}.")
    target = SweepDir(out)
    manifest = target.read_manifest()
    design = manifest["design"]
    kind = design["kind"]
    if kind not in ("sobol", "morris"):
        raise ExperimentError(f"{out}: sensitivity needs a sweep with a sobol or morris design; this one is "
                              f"{kind}. Use 'summarize' for it, or sweep again with design: {{kind: sobol, "
                              "samples: 64}}.")
    chosen = _metrics(manifest, metrics)
    runs = load_runs(out)
    n_points = len(design["points"])
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[chosen].mean().reindex(range(n_points))
    problem = design["problem"]
    names = problem["names"]
    X = np.asarray(design["unit_samples"], dtype=float)
    seed = int(manifest["seeding"]["root_seed"]) % 2**32
    rows, pairs = [], []
    for metric in chosen:
        Y = means[metric].to_numpy(dtype=float)
        missing = np.flatnonzero(~np.isfinite(Y))
        if missing.size:
            shown = ", ".join(str(p) for p in missing[:10]) + (" ..." if missing.size > 10 else "")
            raise ExperimentError(f"{out}: {metric}: design points {shown} have no successful run with a finite "
                                  f"value ({missing.size} of {n_points}); sensitivity needs every point. Resume the "
                                  "sweep if it is unfinished; see the error column of runs.parquet for failures.")
        if np.ptp(Y) == 0:
            for name in names:
                rows.append({"metric": metric, "parameter": name, "method": kind, "note": "output is constant"})
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SALib divides by small variances in resamples
            if kind == "sobol":
                from SALib.analyze import sobol

                second = bool(design["second_order"])
                res = sobol.analyze(problem, Y, calc_second_order=second, num_resamples=resamples,
                                    conf_level=level, seed=seed)
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "parameter": name, "method": "sobol",
                                 "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                                 "ST": res["ST"][i], "ST_conf": res["ST_conf"][i], "note": ""})
                if second:
                    for i in range(len(names)):
                        for j in range(i + 1, len(names)):
                            pairs.append({"metric": metric, "parameter_a": names[i], "parameter_b": names[j],
                                          "S2": res["S2"][i, j], "S2_conf": res["S2_conf"][i, j]})
            else:
                from SALib.analyze import morris

                res = morris.analyze(problem, X, Y, num_resamples=resamples, conf_level=level,
                                     num_levels=int(design["levels"]), seed=seed)
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "parameter": name, "method": "morris",
                                 "mu_star": res["mu_star"][i], "mu_star_conf": res["mu_star_conf"][i],
                                 "mu": res["mu"][i], "sigma": res["sigma"][i], "note": ""})
    value_cols = ["S1", "S1_conf", "ST", "ST_conf"] if kind == "sobol" else ["mu_star", "mu_star_conf", "mu", "sigma"]
    table = pd.DataFrame(rows, columns=["metric", "parameter", "method", *value_cols, "note"])
    key = "ST" if kind == "sobol" else "mu_star"
    table["rank"] = table.groupby("metric", sort=False)[key].rank(ascending=False, method="min")
    table = (table.assign(_order=table["metric"].map({m: i for i, m in enumerate(chosen)}))
             .sort_values(["_order", "rank", "parameter"], na_position="last").drop(columns="_order")
             .reset_index(drop=True))
    table["rank"] = table["rank"].astype("Int64")
    second_order = pd.DataFrame(pairs, columns=["metric", "parameter_a", "parameter_b", "S2", "S2_conf"])
    return {"indices": table, "second_order": second_order}


def format_sensitivity(result: dict[str, pd.DataFrame], level: float = 0.95) -> str:
    """The indices as text: one block per metric, most influential parameter first."""
    table = result["indices"]
    pct = f"{round(level * 100, 6):g}%"
    blocks = []
    for metric, part in table.groupby("metric", sort=False):
        if (part["note"] != "").all():
            blocks.append(f"{metric}\n  {part['note'].iloc[0]}: no sensitivity to report")
            continue
        if part["method"].iloc[0] == "sobol":
            show = pd.DataFrame({
                "rank": part["rank"], "parameter": part["parameter"],
                "S1 (first order)": _plus_minus(part["S1"], part["S1_conf"]),
                "ST (total)": _plus_minus(part["ST"], part["ST_conf"]),
            })
        else:
            show = pd.DataFrame({
                "rank": part["rank"], "parameter": part["parameter"],
                "mu*": _plus_minus(part["mu_star"], part["mu_star_conf"]),
                "mu": part["mu"].map(_num), "sigma": part["sigma"].map(_num),
            })
        blocks.append(f"{metric}   (± half-width of the {pct} bootstrap interval)\n{show.to_string(index=False)}")
    pairs = result["second_order"]
    if len(pairs):
        show = pairs.assign(S2=_plus_minus(pairs["S2"], pairs["S2_conf"]))
        blocks.append("second order (pairs)\n" + show.drop(columns="S2_conf").to_string(index=False))
    return "\n\n".join(blocks)


def _plus_minus(values: pd.Series, halves: pd.Series) -> list[str]:
    return [f"{_num(v)} ± {_num(h)}" for v, h in zip(values, halves, strict=True)]
