"""Session investigation: the timeline with each reason's evidence highlighted, goal drift and scope
growth along the session, resources in and out of scope, and the agent's normal beside it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from agentwatch.app import data, ui

NUMBERS = (("risk score", "risk_score", "{:.2f}"), ("events", "count_events", "{:,.0f}"),
           ("tool calls", "count_tool_calls", "{:,.0f}"), ("goal drift", "goal_drift_level", "{:.2f}"),
           ("out of scope", "count_out_of_scope_resources", "{:,.0f}"),
           ("destructive", "count_destructive_actions", "{:,.0f}"), ("sub-agents", "count_spawned", "{:,.0f}"))

TIMELINE_ROWS = 2_000

st.title("Session investigation")
src = ui.need_lake()
ui.need_view(src, "sessions", run="agentwatch metrics", what="session metrics")

options = data.session_options(src)
if options.empty:
    st.info("The lake has no sessions yet: ingest telemetry and run `agentwatch metrics`.")
    st.stop()
picks = list(zip(options["agent_id"], options["session_id"], strict=True))
wanted = (st.query_params.get("agent"), st.query_params.get("session"))
if all(wanted) and wanted not in picks:
    picks.insert(0, wanted)
agent_id, session_id = st.selectbox(
    "Session", picks, index=picks.index(wanted) if wanted in picks else 0,
    format_func=lambda p: ui.inert(f"{p[0]} · {p[1]}"), help="Riskiest sessions first; or open one from the queue.")
st.query_params.update({"agent": agent_id, "session": session_id})

row = data.session_row(src, agent_id, session_id)
if row is None:
    st.info("This session is not in the `sessions` table (run `agentwatch metrics` after ingesting it).")
    st.stop()

for column, (label, name, fmt) in zip(st.columns(len(NUMBERS)), NUMBERS, strict=True):
    value = row.get(name)
    column.metric(label, "—" if value is None or pd.isna(value) else fmt.format(value))
st.caption(f"Started {ui.when(row.get('started_at'))}, lasted {row.get('duration_seconds') or 0:,.0f} s.")

# -- why it is here: the detectors' reasons and findings, each naming its evidence events
reasons = pd.DataFrame([dict(r) for r in ui.values(row.get("reasons"))])
findings = data.frame(src, "session_findings", agent=agent_id, session=session_id) \
    if data.has(src, "findings") else pd.DataFrame()
evidence: set[str] = set()
for frame in (reasons, findings):
    if "evidence_event_ids" in frame:
        evidence.update(e for ids in frame["evidence_event_ids"] for e in ui.values(ids))
st.subheader("Reasons")
if reasons.empty and findings.empty:
    st.info("No reasons or findings for this session (run `agentwatch detect` to score it).")
if not reasons.empty:
    ui.table(reasons.assign(evidence=reasons.get("evidence_event_ids", pd.Series(dtype=object)).map(
        lambda ids: len(ui.values(ids)))).drop(columns=["evidence_event_ids"], errors="ignore"), key="reasons")
if not findings.empty:
    ui.table(findings.drop(columns=["evidence_event_ids"]), preview=("detail",), key="findings")

# -- the timeline
st.subheader("Timeline")
timeline = data.frame(src, "session_timeline", agent=agent_id, session=session_id)
timeline["evidence"] = timeline["event_id"].isin(evidence)
only = st.toggle("Evidence events only", value=False, disabled=not evidence)
types = st.multiselect("Event types", sorted(timeline["event_type"].dropna().unique()), format_func=ui.inert)
shown = timeline[(timeline["evidence"] | (not only)) & (timeline["event_type"].isin(types) if types else True)]
st.caption(f"{len(shown):,} of {len(timeline):,} events; {int(timeline['evidence'].sum())} are evidence "
           "of a reason (highlighted).")
if len(shown) > TIMELINE_ROWS:  # a runaway session: keep the page fast; filters and SQL hunt reach the rest
    st.caption(f"Showing the first {TIMELINE_ROWS:,}: narrow it with the filters above, or query `events` "
               "in SQL hunt.")
    shown = shown.head(TIMELINE_ROWS)
ui.table(shown, preview=("text", "tool_args"), highlight=shown["evidence"], key="timeline",
         column_order=["evidence", "seq", "ts", "event_type", "actor", "tool_name", "text", "tool_args", "status",
                       "flags", "tool_call_id", "input_tokens", "output_tokens", "event_id"])
if not shown.empty:
    first = int(shown["evidence"].to_numpy().argmax()) if shown["evidence"].any() else 0
    seq = st.selectbox("Read one event in full", shown["seq"].tolist(), index=first,
                       format_func=lambda s: f"event {s}")
    event = shown[shown["seq"] == seq].iloc[0]
    for part in ("text", "tool_args"):
        if isinstance(event[part], str):
            ui.text_block(event[part])
    if not any(isinstance(event[p], str) for p in ("text", "tool_args")):
        ui.text_block("(this event carries no text)")

# -- along the session: drift and scope growth from `steps`
if data.has(src, "steps"):
    steps = data.frame(src, "session_steps", agent=agent_id, session=session_id)
    left, right = st.columns(2)
    with left:
        st.subheader("Goal drift along the session")
        drift = steps.dropna(subset=["goal_drift"])
        chart = alt.Chart(drift).mark_line(point=True).encode(
            x=alt.X("step_index:Q", title="step"),
            y=alt.Y("goal_drift:Q", title="drift", scale=alt.Scale(domain=[0, 1])))
        st.altair_chart(chart, width="stretch")
    with right:
        st.subheader("Scope growth")
        growth = steps.melt(id_vars=["step_index"], value_vars=["resources_so_far", "out_of_scope_so_far"],
                            var_name="resources", value_name="count")
        chart = alt.Chart(growth).mark_line(interpolate="step-after").encode(
            x=alt.X("step_index:Q", title="step"), y=alt.Y("count:Q", title="distinct resources so far"),
            color=alt.Color("resources:N", scale=alt.Scale(domain=["resources_so_far", "out_of_scope_so_far"],
                                                            range=["#4c78a8", "#e45756"])))
        st.altair_chart(chart, width="stretch")
    st.subheader("Resources touched")
    resources = data.frame(src, "session_resources", agent=agent_id, session=session_id)
    if resources.empty:
        st.info("No tool call of this session names a resource.")
    else:
        ui.table(resources, highlight=resources["out_of_scope"], key="resources")

# -- the agent's normal beside this session
st.subheader("This session beside the agent's normal")
normal = data.frame(src, "agent_normal", agent=agent_id, session=session_id)
normal.insert(1, "this_session", normal["feature"].map(lambda f: row.get(f)))
ui.table(normal, key="normal")
if ui.values(row.get("top_features")):
    st.caption("What made it unusual to the anomaly model:")
    ui.table(pd.DataFrame([dict(f) for f in row["top_features"]]), key="top_features")

# -- delegation: the parent and the sub-agents
children = data.frame(src, "session_children", session=session_id)
parent = row.get("parent_session_id")
if isinstance(parent, str) or not children.empty:
    st.subheader("Delegation")
    if isinstance(parent, str):
        st.caption("Spawned by:")
        ui.text_block(parent)
        if st.button("Open the parent session"):
            st.switch_page("app_pages/session.py", query_params={"agent": agent_id, "session": parent})
    if not children.empty:
        ui.table(children, key="children")
        pairs = list(zip(children["agent_id"], children["session_id"], strict=True))
        child = st.selectbox("Sub-agent", pairs, format_func=lambda p: ui.inert(f"{p[0]} · {p[1]}"))
        if st.button("Open the sub-agent's session"):
            st.switch_page("app_pages/session.py", query_params={"agent": child[0], "session": child[1]})
