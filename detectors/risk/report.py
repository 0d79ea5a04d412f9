"""Each agent's latest position, with the controls that would move it (what `agentwatch risk` shows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from agentwatch.detectors.risk.model import Control, apply_controls, place
from agentwatch.inventory import DIMENSIONS


def latest_rows(con: Any, agent_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The `agent_risk` row of each agent's latest day (optionally only the given agents)."""
    ids = list(agent_ids)
    sql = "select * from agent_risk qualify row_number() over (partition by agent_id order by day desc) = 1"
    cursor = con.execute(f"select * from ({sql}) where len(?) = 0 or list_contains(?, agent_id) order by agent_id",
                         [ids, ids])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def agent_report(
    row: Mapping[str, Any], controls: Mapping[str, Control], what_if: Iterable[str], high: float
) -> dict[str, Any]:
    """One agent: measured and declared positions, evidence, each control's effect, the what-if."""
    in_place = list(row.get("controls_in_place") or [])
    value = row["business_value"]
    sides = {kind: {d: row[f"{kind}_{d}"] for d in DIMENSIONS} for kind in ("measured", "declared")}
    if not row["is_declared"]:
        sides.pop("declared")
    report = {
        "agent_id": row["agent_id"], "day": str(row["day"]), "is_declared": row["is_declared"],
        "business_value": value, "controls_in_place": in_place,
        "measured": _position(sides["measured"], value, high),
        "declared": _position(sides["declared"], value, high) if "declared" in sides else None,
        "evidence": orjson.loads(row["evidence"]),
        "controls": [_control_effect(c, sides, value, in_place, controls, high) for c in controls.values()],
    }
    chosen = list(what_if)
    if chosen:
        report["what_if"] = {"controls": chosen, **{
            kind: _position(apply_controls(scores, controls, chosen, in_place), value, high)
            for kind, scores in sides.items()}}
    return report


def _position(scores: Mapping[str, int], value: int | None, high: float) -> dict[str, Any]:
    placed = place(scores, value, high)
    return {"dimensions": dict(scores), "vulnerability": round(placed["vulnerability"], 3),
            "model1": placed["model1"], "model2": placed["model2"]}


def _control_effect(
    control: Control, sides: Mapping[str, Mapping[str, int]], value: int | None, in_place: list[str],
    controls: Mapping[str, Control], high: float,
) -> dict[str, Any]:
    after = {kind: _position(apply_controls(scores, controls, [control.name], in_place), value, high)
             for kind, scores in sides.items()}
    return {"control": control.name, "summary": control.summary, "effects": dict(control.effects),
            "in_place": control.name in in_place, "after": after}


TABLE_COLUMNS = ("agent_id", "day", "decl", "value", "acc", "act", "aut", "ovs", "goal", "mon", "vuln",
                 "model 1", "model 2", "declared model 1", "declared model 2")


def table_rows(reports: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of the fleet table: measured dimensions and quadrants beside the declared quadrants."""
    rows = []
    for r in reports:
        m, d = r["measured"], r["declared"] or {}
        rows.append([r["agent_id"], r["day"], "yes" if r["is_declared"] else "no", _text(r["business_value"]),
                     *[_text(m["dimensions"][dim]) for dim in DIMENSIONS], f"{m['vulnerability']:.2f}",
                     _text(m["model1"]), _text(m["model2"]), _text(d.get("model1")), _text(d.get("model2"))])
        if "what_if" in r:
            w = r["what_if"]["measured"]
            rows.append(["  what-if", "", "", "",
                         *[_text(w["dimensions"][dim]) for dim in DIMENSIONS], f"{w['vulnerability']:.2f}",
                         _text(w["model1"]), _text(w["model2"]),
                         *[_text(r["what_if"].get("declared", {}).get(k)) for k in ("model1", "model2")]])
    return rows


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
