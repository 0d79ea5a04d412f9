"""Flagged sessions: the triage queue, riskiest first; acknowledge or close an alert with a note."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from agentwatch.app import data, ui
from agentwatch.errors import AgentwatchError

st.title("Flagged sessions")
src = ui.need_lake()
ui.need_view(src, "sessions", run="agentwatch metrics", what="session metrics")

if not data.has(src, "alerts"):
    if data.has(src, "sessions", "flagged"):
        flagged = data.frame(src, "flagged_sessions")
        st.info("Sessions are scored but no alerts were raised yet: run `agentwatch detect` to open alerts.")
        ui.table(flagged)
    else:
        st.info("No session has been scored yet: run `agentwatch detect` (or `agentwatch run`) to flag sessions "
                "and raise alerts.")
    st.stop()

facets = data.frame(src, "alert_facets").iloc[0]
with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    agents = c1.multiselect("Agent", ui.values(facets["agents"]), format_func=ui.inert)
    rules = c2.multiselect("Rule", ui.values(facets["rules"]), format_func=ui.inert)
    levels = c3.multiselect("Level", ui.values(facets["levels"]), format_func=ui.inert)
    statuses = c4.multiselect("Status", list(data.STATUSES), default=["new", "acknowledged"])
    days = None
    if not pd.isna(facets["first_day"]):
        first, last = pd.Timestamp(facets["first_day"]).date(), pd.Timestamp(facets["last_day"]).date()
        days = st.date_input("Seen between", (first, last), min_value=first, max_value=last)

since, until = (days if isinstance(days, tuple) and len(days) == 2 else (None, None))
queue = data.frame(src, "alert_queue", agents=agents or None, rules=rules or None, levels=levels or None,
                   statuses=statuses or None, since=since, until=until)
st.caption(f"{len(queue):,} alerts match, riskiest first.")
if queue.empty:
    st.info("No alert matches these filters.")
    st.stop()
ui.table(queue, preview=("title", "status_note"), key="queue",
         column_config={"risk_score": st.column_config.ProgressColumn("risk", min_value=0.0, max_value=1.0)})

keys = queue["alert_key"].tolist()
by_key = queue.set_index("alert_key")


def describe(key: str) -> str:
    """An option of the alert picker: its risk, level, agent and session (inert plain text)."""
    row = by_key.loc[key]
    risk = f"{row['risk_score']:.2f}" if row["risk_score"] == row["risk_score"] else "-"
    return ui.inert(f"{risk} · {row['level']} · {row['status']} · {row['agent_id']} · {row['session_id'] or '(agent)'}")


st.subheader("Act on an alert")
key = st.selectbox("Alert", keys, format_func=describe, key="alert_pick")
alert = by_key.loc[key]
ui.text_block(alert["title"])
state = f"status: {alert['status']}"
if isinstance(alert["status_by"], str):
    state += f" by {alert['status_by']} at {ui.when(alert['status_at'])}\nnote: {alert['status_note'] or ''}"
ui.text_block(state)
left, right = st.columns(2)
with left:
    if isinstance(alert["session_id"], str) and st.button("Investigate this session", type="primary"):
        st.switch_page("app_pages/session.py",
                       query_params={"agent": alert["agent_id"], "session": alert["session_id"]})
with right, st.form("alert_state", clear_on_submit=True):
    action = st.radio("Decision", ["acknowledge", "close"], horizontal=True)
    reason = st.selectbox("Close reason", list(data.CLOSE_REASONS))
    who = st.text_input("Analyst", value=os.environ.get("USER", ""))
    note = st.text_area("Note")
    if st.form_submit_button("Record decision"):
        status = "acknowledged" if action == "acknowledge" else "closed"
        try:
            data.record_alert_state(src.lake, key, status, who, note, reason if status == "closed" else None)
        except AgentwatchError as exc:
            st.error("The decision was not recorded:")
            ui.text_block(str(exc))
        else:
            st.session_state["recorded"] = status
            st.rerun()
if st.session_state.pop("recorded", None):
    st.success("Decision recorded in the lake's alert state.")
