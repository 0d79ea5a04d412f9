"""Rules and alerts: the rules that fired and when, escalations and their outcomes, paused agents."""

from __future__ import annotations

import altair as alt
import streamlit as st

from agentwatch.app import data, ui

LEVELS = ["low", "medium", "high", "critical"]
LEVEL_COLOURS = ["#9ecae9", "#f2cf5b", "#f58518", "#e45756"]

st.title("Rules and alerts")
src = ui.need_lake()

st.subheader("Paused agents")
if data.has(src, "control"):
    control = data.frame(src, "control_state")
    paused = control[control["state"] == "paused"]
    if paused.empty:
        st.success("No agent is paused.")
    else:
        st.error(f"{len(paused)} agent(s) paused: their pipelines stop at `agentwatch gate`.")
    ui.table(control, preview=("reason",), key="control")
else:
    st.info("No agent was ever paused or resumed (the `control` table appears with the first escalation "
            "that pauses one: `agentwatch escalate`).")

st.subheader("Rule catalog and what fired")
catalog = data.frame(src, "rule_catalog") if data.has(src, "rules") else data.rule_catalog()
if catalog is None:
    st.caption("No rule catalog is installed (the detectors stage provides it).")
else:
    st.caption(f"{len(catalog)} rules in the catalog:")
    ui.table(catalog, preview=("description",), key="catalog")
if not data.has(src, "findings"):
    st.info("No findings yet: run `agentwatch detect` (or `agentwatch run`) to evaluate the rules.")
else:
    ui.table(data.frame(src, "findings_by_rule"), preview=("title",), key="by_rule")
    per_day = data.frame(src, "findings_by_day")
    if not per_day.empty:
        st.altair_chart(alt.Chart(per_day).mark_bar().encode(
            x=alt.X("day:T", title=None), y=alt.Y("findings:Q", stack=True),
            color=alt.Color("level:N", scale=alt.Scale(domain=LEVELS, range=LEVEL_COLOURS)),
        ).properties(height=240), width="stretch")

st.subheader("Escalations")
if not data.has(src, "escalations"):
    st.info("Nothing escalated yet: `agentwatch escalate` (or the guard run) acts on new alerts with the playbooks.")
else:
    outcomes = data.frame(src, "escalation_outcomes")
    if not outcomes.empty:
        st.caption("The last attempt of each playbook action, per alert:")
        ui.table(outcomes, key="outcomes")
    st.caption("Every attempt, newest first:")
    ui.table(data.frame(src, "escalations"), preview=("detail",), key="attempts")
