"""The Playground sidebar: presets, a scenario builder, a JSON/YAML editor, import/export; the share link box.

Every scenario is validated by the engine's pydantic `Scenario` before anything changes; a mistake shows
`st.error` naming the field and what is allowed, and the current cluster stays as it was.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Protocol
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from engine.scenario import PRESETS, Scenario, ScenarioError, parse_scenario, validate_scenario

from .session import PlaygroundSession

MAX_BROKERS_UI = 9
KEYS = ["user_ids", "fixed", "none"]
ACKS = ["all", "1", "0"]
KIP848 = "KIP-848 (group.protocol=consumer)"  # the broker assigns: no assignor on the client
ASSIGNORS = ["range", "roundrobin", "sticky", "cooperative-sticky", KIP848]
RESETS = ["earliest", "latest"]
ERROR_KEY = "kc_builder_error"
UPLOAD_KEY = "kc_uploaded"


def render_sidebar(s: PlaygroundSession) -> None:
    with st.sidebar:
        st.subheader("Scenario")
        st.caption(
            f"Now running: **{s.scenario.name}**"
            + (f" — {s.scenario.description}" if s.scenario.description else "")
        )
        names = list(PRESETS)
        current = names.index(s.scenario.name) if s.scenario.name in names else 0
        choice = st.selectbox(
            "Preset",
            names,
            index=current,
            key=f"preset_{s.version}",
            help="Ready-made clusters for the lessons. Loading one starts a fresh run.",
        )
        st.button(
            "Load preset",
            key="load_preset",
            on_click=_load_preset,
            args=(s, f"preset_{s.version}"),
            width="stretch",
            help=f"Start a fresh run of “{choice}”.",
        )
        slot = st.container()  # always here, so an error never shifts (and collapses) the expanders below
        _builder_form(s)
        _text_editor(s)
        _import_export(s)
        if st.session_state.get(ERROR_KEY):
            slot.error(st.session_state[ERROR_KEY], icon=":material/error:")


def _load_preset(s: PlaygroundSession, widget_key: str) -> None:
    s.load(PRESETS[st.session_state.get(widget_key) or "Default"])
    st.session_state[ERROR_KEY] = None


def _apply(s: PlaygroundSession, make) -> bool:
    """Build a scenario with `make()`; on success start it, on failure keep the cluster and say why."""
    try:
        scenario = make()
    except ScenarioError as exc:
        st.session_state[ERROR_KEY] = f"{str(exc).rstrip('.')}. The current cluster is unchanged."
        return False
    s.load(scenario)
    st.session_state[ERROR_KEY] = None
    return True


# -- the structured builder --------------------------------------------------------------------------------
def _builder_form(s: PlaygroundSession) -> None:
    sc = s.scenario
    v = s.version
    with st.expander("Build your own", expanded=False), st.form(f"builder_{v}", border=False):
        brokers = st.slider(
            "Brokers", 1, MAX_BROKERS_UI, min(sc.brokers, MAX_BROKERS_UI), key=f"b_brokers_{v}"
        )
        controller = st.radio(
            "Controller",
            ["kraft", "zookeeper"],
            index=0 if sc.controller == "kraft" else 1,
            horizontal=True,
            key=f"b_controller_{v}",
            format_func=lambda m: "KRaft" if m == "kraft" else "ZooKeeper",
        )
        seed = st.number_input(
            "Seed",
            0,
            2**31 - 1,
            sc.seed,
            key=f"b_seed_{v}",
            help="Same seed + same clicks = the same run, step for step.",
        )
        st.caption("Tables scroll sideways; every setting is also in “Edit as JSON or YAML”.")
        st.markdown("**Topics**")
        topics = st.data_editor(
            _topic_rows(sc),
            num_rows="dynamic",
            key=f"b_topics_{v}",
            hide_index=True,
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn("name", required=True, width="small"),
                "partitions": st.column_config.NumberColumn(
                    "parts", min_value=1, max_value=128, step=1, width="small", help="partitions"
                ),
                "replication_factor": st.column_config.NumberColumn(
                    "RF", min_value=1, max_value=12, step=1, width="small", help="replication factor"
                ),
                "min.insync.replicas": st.column_config.NumberColumn(
                    "min ISR", min_value=1, max_value=12, step=1, width="small", help="min.insync.replicas"
                ),
            },
        )
        st.markdown("**Producers**")
        producers = st.data_editor(
            _producer_rows(sc),
            num_rows="dynamic",
            key=f"b_producers_{v}",
            hide_index=True,
            width="stretch",
            column_config={
                "id": st.column_config.TextColumn("id", width="small"),
                "topic": st.column_config.TextColumn("topic", width="small"),
                "keys": st.column_config.SelectboxColumn("keys", options=KEYS, width="small"),
                "acks": st.column_config.SelectboxColumn("acks", options=ACKS, width="small"),
                "rate_per_s": st.column_config.NumberColumn(
                    "rate/s", min_value=0, max_value=10000, width="small"
                ),
                "linger.ms": st.column_config.NumberColumn(
                    "linger", min_value=0, width="small", help="linger.ms"
                ),
                "batch.size": st.column_config.NumberColumn(
                    "batch", min_value=1, width="small", help="batch.size (bytes)"
                ),
            },
        )
        st.markdown("**Consumer groups**")
        groups = st.data_editor(
            _group_rows(sc),
            num_rows="dynamic",
            key=f"b_groups_{v}",
            hide_index=True,
            width="stretch",
            column_config={
                "group_id": st.column_config.TextColumn("group", width="small"),
                "topics": st.column_config.TextColumn("topics", help="comma-separated", width="small"),
                "members": st.column_config.NumberColumn(
                    "members", min_value=0, max_value=12, step=1, width="small"
                ),
                "assignor": st.column_config.SelectboxColumn("assignor", options=ASSIGNORS, width="small"),
                "auto.offset.reset": st.column_config.SelectboxColumn(
                    "reset", options=RESETS, width="small", help="auto.offset.reset"
                ),
            },
        )
        submitted = st.form_submit_button("Apply scenario", type="primary", width="stretch")
    if submitted and _apply(
        s,
        lambda: scenario_from_builder(
            sc, brokers, controller, int(seed), _records(topics), _records(producers), _records(groups)
        ),
    ):
        st.rerun()


def _topic_rows(sc: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "name": t.name,
                "partitions": t.partitions,
                "replication_factor": t.replication_factor,
                "min.insync.replicas": t.config.get("min.insync.replicas"),
            }
            for t in sc.topics
        ],
        columns=["name", "partitions", "replication_factor", "min.insync.replicas"],
    )


def _producer_rows(sc: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": p.id,
                "topic": p.topic,
                "keys": p.keys,
                "rate_per_s": p.rate_per_s,
                "acks": str(p.config.get("acks", "all")),
                "linger.ms": p.config.get("linger.ms", 5),
                "batch.size": p.config.get("batch.size", 16384),
            }
            for p in sc.producers
        ],
        columns=["id", "topic", "keys", "rate_per_s", "acks", "linger.ms", "batch.size"],
    )


def _group_rows(sc: Scenario) -> pd.DataFrame:
    def assignor(cfg: dict) -> str:
        if cfg.get("group.protocol") == "consumer":
            return KIP848
        return str(cfg.get("partition.assignment.strategy", "range"))

    return pd.DataFrame(
        [
            {
                "group_id": g.group_id,
                "topics": ", ".join(g.topics),
                "members": g.members,
                "assignor": assignor(g.config),
                "auto.offset.reset": g.config.get("auto.offset.reset", "latest"),
            }
            for g in sc.groups
        ],
        columns=["group_id", "topics", "members", "assignor", "auto.offset.reset"],
    )


def _records(df: Any) -> list[dict]:
    """data_editor output -> plain rows, with empty cells as None (pandas gives NaN)."""
    rows = df.to_dict("records") if hasattr(df, "to_dict") else list(df)
    clean = []
    for r in rows:
        row = {k: (None if (isinstance(v, float) and math.isnan(v)) or v == "" else v) for k, v in r.items()}
        if any(v is not None for v in row.values()):
            clean.append(row)
    return clean


def _num(v: Any) -> Any:
    """Whole floats back to ints (pandas turns int columns with blanks into floats)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if hasattr(v, "item"):  # numpy scalars
        return _num(v.item())
    return v


def scenario_from_builder(
    old: Scenario,
    brokers: int,
    controller: str,
    seed: int,
    topics: list[dict],
    producers: list[dict],
    groups: list[dict],
) -> Scenario:
    """Builder rows -> a validated Scenario. Configs the table does not show are kept from `old`."""
    old_t = {t.name: t for t in old.topics}
    old_p = {p.id: p for p in old.producers}
    old_g = {g.group_id: g for g in old.groups}
    data: dict[str, Any] = {
        "name": "Custom" if old.name in PRESETS else old.name,
        "description": "",
        "seed": seed,
        "brokers": brokers,
        "controller": controller,
        "broker_config": dict(old.broker_config),
        "topics": [],
        "producers": [],
        "groups": [],
    }
    for r in topics:
        cfg = dict(old_t[r["name"]].config) if r.get("name") in old_t else {}
        cfg.pop("min.insync.replicas", None)
        if r.get("min.insync.replicas") is not None:
            cfg["min.insync.replicas"] = _num(r["min.insync.replicas"])
        data["topics"].append(
            {
                "name": r.get("name"),
                "partitions": _num(r.get("partitions") or 1),
                "replication_factor": _num(r.get("replication_factor") or 1),
                "config": cfg,
            }
        )
    for r in producers:
        prev = old_p.get(r.get("id"))
        cfg = dict(prev.config) if prev else {}
        for k in ("acks", "linger.ms", "batch.size"):
            if r.get(k) is not None:
                cfg[k] = _num(r[k]) if k != "acks" else str(r[k])
        spec = {
            "id": r.get("id"),
            "topic": r.get("topic"),
            "keys": r.get("keys") or "user_ids",
            "rate_per_s": _num(r.get("rate_per_s") if r.get("rate_per_s") is not None else 20),
            "config": cfg,
        }
        if prev:
            spec.update(key_count=prev.key_count, value_bytes=prev.value_bytes)
        data["producers"].append(spec)
    for r in groups:
        prev = old_g.get(r.get("group_id"))
        cfg = dict(prev.config) if prev else {"auto.offset.reset": "earliest", "session.timeout.ms": 10000}
        if r.get("assignor") == KIP848:
            cfg["group.protocol"] = "consumer"
            # the Java client refuses these with group.protocol=consumer: the broker assigns and times sessions
            for key in ("partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"):
                cfg.pop(key, None)
        elif r.get("assignor"):
            cfg["partition.assignment.strategy"] = r["assignor"]
            cfg.pop("group.protocol", None)
        if r.get("auto.offset.reset"):
            cfg["auto.offset.reset"] = r["auto.offset.reset"]
        topics_text = str(r.get("topics") or "")
        spec = {
            "group_id": r.get("group_id"),
            "topics": [t for t in re.split(r"[,\s]+", topics_text) if t],
            "members": _num(r.get("members") if r.get("members") is not None else 1),
            "config": cfg,
        }
        if prev:
            spec["poll_interval_ms"] = prev.poll_interval_ms
        data["groups"].append(spec)
    if not 1 <= brokers <= MAX_BROKERS_UI:
        raise ScenarioError(f"brokers: the builder allows 1 to {MAX_BROKERS_UI}, got {brokers}")
    return validate_scenario(data)


# -- text, files and links ------------------------------------------------------------------------------------
def _text_editor(s: PlaygroundSession) -> None:
    with st.expander("Edit as JSON or YAML", expanded=False):
        key = f"scenario_text_{s.version}"
        st.text_area(
            "Scenario",
            json.dumps(s.scenario.model_dump(), indent=2),
            height=260,
            key=key,
            label_visibility="collapsed",
        )
        st.button(
            "Apply text",
            key="apply_text",
            width="stretch",
            on_click=lambda: _apply(s, lambda: parse_scenario(st.session_state.get(key) or "")),
        )


def _import_export(s: PlaygroundSession) -> None:
    with st.expander("Import / export", expanded=False):
        up = st.file_uploader(
            "Open a scenario file",
            type=["json", "yaml", "yml"],
            key="scenario_file",
            max_upload_size=1,
            help="JSON or YAML with brokers, topics, producers, groups (at most 256 KB).",
        )
        if up is not None and st.session_state.get(UPLOAD_KEY) != up.file_id:
            st.session_state[UPLOAD_KEY] = up.file_id
            _apply(s, lambda: parse_scenario(up.getvalue()))
            st.rerun()
        slug = re.sub(r"[^a-z0-9]+", "-", s.scenario.name.lower()).strip("-") or "scenario"
        st.download_button(
            "Download this scenario",
            json.dumps(s.scenario.model_dump(), indent=2),
            file_name=f"{slug}.json",
            mime="application/json",
            key="download_scenario",
            width="stretch",
            on_click="ignore",
        )


class Shareable(Protocol):
    """A run a link can reopen: the Playground's and the Compare page's sessions."""

    def share_params(self) -> dict[str, str]: ...


def share_box(s: Shareable) -> None:
    """The link to this exact picture (the address bar holds the same one: it follows every step)."""
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:  # noqa: BLE001 - no browser context (tests, scripts)
        base = ""
    st.caption(
        "Anyone opening this link sees the same scenario at the same step. The address bar always "
        "holds it too."
    )
    st.code(f"{base}?{urlencode(s.share_params())}", language=None, wrap_lines=True)
