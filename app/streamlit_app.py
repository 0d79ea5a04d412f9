"""agentwatch for analysts: `agentwatch app` (or `streamlit run app/streamlit_app.py`).

Pages are UI only (`app_pages/`); every query is in `agentwatch.app.data`. The app reads the lake
through its hardened read-only connection and writes nothing but analysts' alert state.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from agentwatch.app import data

PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="agentwatch", layout="wide")
navigation = st.navigation([
    st.Page(PAGES / "fleet.py", title="Fleet", default=True),
    st.Page(PAGES / "flagged.py", title="Flagged sessions", url_path="flagged"),
    st.Page(PAGES / "session.py", title="Session investigation", url_path="session"),
    st.Page(PAGES / "rules.py", title="Rules and alerts", url_path="rules"),
    st.Page(PAGES / "hunt.py", title="SQL hunt", url_path="hunt"),
])
with st.sidebar:
    source = data.current_source()
    st.caption("Lake")
    st.code(source.lake, language=None)
    entry = source.head.removesuffix(".json")
    st.caption(f"Manifest head: entry {int(entry) if entry.isdigit() else 'none'}")
    if st.button("Reload from the lake"):
        st.cache_data.clear()
        st.rerun()
navigation.run()
