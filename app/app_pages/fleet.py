"""Fleet: every agent on Model 1 (vulnerability vs value) and Model 2 (autonomy vs oversight),
measured and declared, with its trail over time; each agent's six dimensions; declared-vs-observed gaps."""

from __future__ import annotations

import importlib

import altair as alt
import pandas as pd
import streamlit as st

from agentwatch.app import data, ui
from agentwatch.inventory import DIMENSIONS

HIGH = 3.0  # "high" means above 3 on the 1-5 scales (the risk model's default)
MODELS = {
    "Model 1 — vulnerability vs value": (
        ("vulnerability_measured", "vulnerability_declared"), ("business_value", "business_value"),
        "vulnerability", "business value",
        (("Safe Optimization", 1.2, 5.0), ("Strategic Risk", 4.8, 5.0), ("Low Impact", 1.2, 1.0),
         ("High Exposure", 4.8, 1.0)), ("model1_measured", "model1_declared")),
    "Model 2 — autonomy vs oversight": (
        ("measured_autonomy", "declared_autonomy"), ("measured_oversight", "declared_oversight"),
        "autonomy", "oversight",
        (("Minimal Risk", 1.2, 5.0), ("Managed Risk", 4.8, 5.0), ("Latent Risk", 1.2, 1.0),
         ("Critical Risk", 4.8, 1.0)), ("model2_measured", "model2_declared")),
}

st.title("Fleet")
src = ui.need_lake()


def matrix(latest: pd.DataFrame, trail: pd.DataFrame, spec: tuple) -> alt.LayerChart:
    """One risk matrix: quadrant lines at HIGH, measured and declared points, the measured trail."""
    (xm, xd), (ym, yd), xt, yt, quadrants, _ = spec
    agents = latest["agent_id"].map(ui.inert)
    points = pd.concat([
        pd.DataFrame({"agent": agents, "x": latest[xm], "y": latest[ym], "position": "measured"}),
        pd.DataFrame({"agent": agents, "x": latest[xd], "y": latest[yd], "position": "declared"}),
    ]).dropna(subset=["x", "y"])
    path = pd.DataFrame({"agent": trail["agent_id"].map(ui.inert), "x": trail[xm], "y": trail[ym],
                         "day": trail["day"]}).dropna(subset=["x", "y"])
    scale = alt.Scale(domain=[0.8, 5.2])
    x, y = alt.X("x:Q", title=xt, scale=scale), alt.Y("y:Q", title=yt, scale=scale)
    rules = alt.Chart(pd.DataFrame({"v": [HIGH]}))
    labels = alt.Chart(pd.DataFrame(quadrants, columns=["label", "x", "y"])).mark_text(
        color="gray", fontSize=12).encode(x="x:Q", y="y:Q", text="label:N")
    line = alt.Chart(path).mark_line(opacity=0.35).encode(x=x, y=y, color="agent:N", order="day:T")
    dots = alt.Chart(points).mark_point(size=140, filled=True).encode(
        x=x, y=y, color=alt.Color("agent:N", title="agent"), shape=alt.Shape("position:N", title="position"),
        tooltip=["agent:N", "position:N", alt.Tooltip("x:Q", title=xt, format=".2f"),
                 alt.Tooltip("y:Q", title=yt, format=".2f")])
    return alt.layer(rules.mark_rule(strokeDash=[4, 4]).encode(x="v:Q"),
                     rules.mark_rule(strokeDash=[4, 4]).encode(y="v:Q"), labels, line, dots).properties(height=420)


def profile(row: pd.Series) -> pd.DataFrame:
    """The six dimensions of one agent, measured beside declared."""
    return pd.DataFrame({"dimension": DIMENSIONS, "measured": [row.get(f"measured_{d}") for d in DIMENSIONS],
                         "declared": [row.get(f"declared_{d}") for d in DIMENSIONS]})


def gaps(latest: pd.DataFrame) -> pd.DataFrame:
    """Every agent and dimension where what it does differs from what its owner declared."""
    rows = [{"agent_id": r["agent_id"], "dimension": d, "declared": r.get(f"declared_{d}"),
             "measured": r.get(f"measured_{d}")} for _, r in latest.iterrows() for d in DIMENSIONS]
    out = pd.DataFrame(rows).dropna(subset=["declared", "measured"])
    out["gap"] = out["measured"] - out["declared"]
    return out[out["gap"].abs() >= 1].sort_values("gap", key=abs, ascending=False)


def risk_what_if() -> tuple[dict, object, float] | None:
    """The risk model's controls and what-if, when the risk stage (`agentwatch.detectors.risk`) offers them:
    its controls, a function (row, controls, chosen) -> report, and its "high" threshold."""
    try:
        model = importlib.import_module("agentwatch.detectors.risk.model")
        report = importlib.import_module("agentwatch.detectors.risk.report")
        controls, high = model.load_controls(), float(getattr(model, "DEFAULT_HIGH", HIGH))
        return controls, lambda row, chosen: report.agent_report(row, controls, chosen, high), high
    except (ImportError, AttributeError):
        return None


def positions(report: dict) -> pd.DataFrame:
    """Rows of a what-if report: each side (measured, declared) before and after the chosen controls."""
    rows = []
    for stage, source in (("now", report), ("with the controls", report.get("what_if") or {})):
        for side in ("measured", "declared"):
            place = source.get(side)
            if isinstance(place, dict):
                rows.append({"position": side, "when": stage, "vulnerability": place.get("vulnerability"),
                             "model1": place.get("model1"), "model2": place.get("model2"),
                             **{d: (place.get("dimensions") or {}).get(d) for d in DIMENSIONS}})
    return pd.DataFrame(rows)


def plain(value: object) -> object:
    """A frame cell as the plain Python value the risk model expects (lists, ints, floats, None)."""
    if hasattr(value, "tolist"):
        return value.tolist()  # numpy arrays and scalars
    return None if value is pd.NaT else value


def what_if_picker(latest: pd.DataFrame) -> None:
    """Pick controls for one agent and see where they would move it (computed by the risk model)."""
    offered = risk_what_if()
    if offered is None:
        return
    controls, what_if, _ = offered
    st.subheader("What if: apply controls")
    agent = st.selectbox("Agent", latest["agent_id"].tolist(), format_func=ui.inert, key="what_if_agent")
    chosen = st.multiselect("Controls", list(controls), format_func=ui.inert, key="what_if_controls")
    if not chosen:
        st.caption("Pick one or more controls to see where they would move the agent on both matrices.")
        return
    row = {k: plain(v) for k, v in latest[latest["agent_id"] == agent].iloc[0].to_dict().items()}
    try:
        report = what_if(row, chosen)
    except Exception as exc:  # the risk model's own error, shown as text; the page stays usable
        st.error("The risk model could not compute this what-if:")
        ui.text_block(str(exc))
        return
    ui.table(positions(report), key="what_if")


if not data.has(src, "agent_risk"):
    st.info("No risk positions yet: run `agentwatch risk` (or `agentwatch run`) to place every agent on "
            "the two risk matrices.")
    if data.has(src, "sessions"):
        st.subheader("Agents by activity")
        ui.table(data.frame(src, "fleet_sessions"), key="fleet_sessions")
    else:
        st.info("No session metrics either: run `agentwatch metrics`.")
    if data.has(src, "agents"):
        st.subheader("Declared by the owners (inventory)")
        ui.table(data.frame(src, "inventory"), key="inventory")
    else:
        st.caption("No inventory given (`--inventory`): declared scores are unknown.")
    st.stop()

latest, trail = data.frame(src, "fleet_latest"), data.frame(src, "fleet_trail")
if latest.empty:
    st.info("The risk table is empty: run `agentwatch risk` once some sessions are measured.")
    st.stop()
st.caption(f"{len(latest)} agents, as of {ui.when(latest['day'].max())}. Filled shapes are positions; the faint "
           "line is each agent's measured trail over the days.")
columns = st.columns(2)
for column, (title, spec) in zip(columns, MODELS.items(), strict=True):
    with column:
        st.subheader(title)
        st.altair_chart(matrix(latest, trail, spec), width="stretch")
quadrant_columns = [c for spec in MODELS.values() for c in spec[5]]
ui.table(latest[[c for c in ("agent_id", "day", "is_declared", *quadrant_columns) if c in latest]], key="quadrants")

st.subheader("Six dimensions of one agent")
agent = st.selectbox("Agent", latest["agent_id"].tolist(), format_func=ui.inert, key="profile_agent")
dims = profile(latest[latest["agent_id"] == agent].iloc[0]).melt(
    id_vars="dimension", var_name="position", value_name="score")
st.altair_chart(alt.Chart(dims).mark_bar().encode(
    x=alt.X("dimension:N", sort=list(DIMENSIONS), title=None), xOffset="position:N",
    y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 5])), color="position:N").properties(height=280), width="stretch")

st.subheader("Declared vs observed")
found = gaps(latest)
if found.empty:
    st.info("Every measured dimension is within one point of what its owner declared.")
else:
    ui.table(found, key="gaps")
risk_findings = data.frame(src, "risk_findings") if data.has(src, "findings", "source") else (
    data.frame(src, "risk_findings_table") if data.has(src, "risk_findings") else pd.DataFrame())
if not risk_findings.empty:
    st.caption("The risk model's findings:")
    ui.table(risk_findings, preview=("detail",), key="risk_findings")
what_if_picker(latest)
