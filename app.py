"""Kafka Classroom - Streamlit entry point (a first view of the default cluster; the full app replaces it)."""

from __future__ import annotations

import streamlit as st

from engine.scenario import PRESETS, build_cluster

st.set_page_config(page_title="Kafka Classroom", layout="wide")
st.title("Kafka Classroom")
st.caption("A deterministic, in-memory simulation of an Apache Kafka cluster.")

if "cluster" not in st.session_state:
    cluster = build_cluster(PRESETS["Default"])
    cluster.run_for(5000)
    st.session_state.cluster = cluster
snap = st.session_state.cluster.snapshot()

st.subheader(f"Default cluster after {snap.time_ms} simulated ms ({snap.controller.mode} mode)")
st.table([{"broker": b.id, "alive": b.alive, "controller": b.controller, "leads": b.leaders, "replicas": b.replicas}
          for b in snap.brokers])
st.table([{"partition": f"{p.topic}-{p.partition}", "leader": p.leader, "replicas": str(list(p.replicas)),
           "ISR": str(list(p.isr)), "high watermark": p.high_watermark, "log end offset": p.log_end_offset}
          for p in snap.partitions])
for g in snap.groups:
    st.write(f"Group **{g.group_id}**: {g.state}, generation {g.generation}, "
             + "; ".join(f"{m.client_id} owns {[f'{t}-{p}' for t, p in m.assignment]}" for m in g.members))
