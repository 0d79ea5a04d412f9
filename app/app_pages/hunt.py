"""SQL hunt: a read-only console over the lake's views, with saved example hunts and CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from agentwatch.app import data, ui
from agentwatch.errors import AgentwatchError

st.title("SQL hunt")
src = ui.need_lake()
st.caption("Read-only: SELECT statements only, over the lake's views; the connection can read nothing "
           "but the lake's tables.")

hunts = data.saved_hunts()
# the catalog's own helper relations (registered Arrow tables) are not views to query
views = {n: c for n, c in data.views(src).items() if not n.endswith(("_arrow", "_empty"))}
with st.expander("Views and their columns"):
    ui.table(pd.DataFrame({"view": list(views), "columns": [", ".join(c) for c in views.values()]}), key="views")
pick = st.selectbox("Saved hunt", ["(write your own)", *hunts])
if st.session_state.get("loaded_hunt") != pick:
    st.session_state["loaded_hunt"] = pick
    if pick in hunts:
        st.session_state["hunt_sql"] = hunts[pick]
query = st.text_area("Query", key="hunt_sql", height=220, placeholder="select * from sessions limit 10")
if st.button("Run", type="primary") and query.strip():
    try:
        result, cut = data.run_hunt(src, query)
    except AgentwatchError as exc:
        st.session_state.pop("hunt_result", None)
        st.error("The query was refused or failed:")
        ui.text_block(str(exc))
    else:
        st.session_state["hunt_result"] = (result, cut)
if "hunt_result" in st.session_state:
    result, cut = st.session_state["hunt_result"]
    st.caption(f"{len(result):,} rows" + (f" (cut at {data.HUNT_ROW_LIMIT:,})" if cut else "") + ".")
    ui.table(result, preview=tuple(result.columns), key="hunt_table")
    if not result.empty:
        st.download_button("Download CSV", ui.to_csv(result), "hunt.csv", "text/csv")
