"""The Playground page: step through a simulated Kafka cluster, break it, and watch what Kafka does.

Layout, top to bottom: controls (Step, Back, Play/Pause, speed, Reset, run-until), the narration of the
current step next to a clickable list of recent steps, the cluster diagram, failure buttons, then tabs
for partition logs, producers, consumer groups, charts and the real-Kafka commands. Everything below
the sidebar is one `st.fragment`, so a click or a Play tick redraws the run without rerunning the page.
"""

from __future__ import annotations

import streamlit as st

from engine.events import RIDE_ALONG_KINDS, ROUTINE_KINDS, Event
from ui import builder, kafka_cli, modern, real_clients
from ui.figures.charts import lag_history_figure, latency_figure, throughput_figure
from ui.figures.diagram import cluster_diagram, member_state, natural_key
from ui.figures.flow import animated, autoplay_script
from ui.figures.groups import assignment_rows, group_ids, group_state_figure, lag_figure
from ui.figures.logs import legend_apart, log_strips, topic_table
from ui.figures.palette import colour_group_ids
from ui.figures.producer import producer_panel, producer_summary
from ui.live_chart import live_chart
from ui.session import SPEEDS, PlaygroundSession, background, get_session, guarded
from ui.step_list import step_list
from ui.trace_panel import (
    acked_batch_rows,
    consumer_output_rows,
    md_escape,
    render_clickable_logs,
    render_follow_bar,
    render_record_table,
    render_trace_panel,
)

# Kafka's documentation, "Replication": the high watermark (linked from the Partition logs caption)
HW_DOC = "https://kafka.apache.org/documentation/#replication"
PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
KIND_BADGE = {  # event kind prefix -> badge colour in the narration
    "broker_crashed": "red",
    "records_lost": "red",
    "partition_offline": "red",
    "batch_failed": "red",
    "send_failed": "red",
    "send_blocked": "orange",
    "producer_epoch_bumped": "orange",
    "leader_elected": "orange",
    "controller_elected": "orange",
    "isr_shrink": "orange",
    "isr_expand": "green",
    "rebalance": "violet",
    "assignment_received": "violet",
    "member": "violet",
    "high_watermark": "green",
}


def render() -> None:
    s = get_session()
    builder.render_sidebar(s)
    mode = (s.playing, s.speed, s.serving)
    every = (
        SPEEDS[s.speed][0] if s.playing else real_clients.REFRESH_S if s.serving else None
    )  # serving: follow it
    st.fragment(run_every=every)(_live)(s, mode)


# -- callbacks: the only code that changes the run -------------------------------------------------------------
def _command(s: PlaygroundSession, cmd: dict) -> None:
    guarded(s, lambda: s.apply(cmd))


def _command_button(s: PlaygroundSession, label: str, key: str, cmd: dict, disabled: bool = False) -> None:
    """A button that applies one engine command; its tooltip is the same action on a real cluster."""
    st.button(
        label, key=key, on_click=_command, args=(s, cmd), disabled=disabled, help=kafka_cli.for_command(cmd)
    )


def _set_playing(s: PlaygroundSession, playing: bool) -> None:
    """Play or Pause, as the button said when it was drawn; a second delivery of the same click is harmless.

    Streamlit 1.67 can deliver one click twice while Play runs: the browser marks the button's trigger and
    sends it on a `setTimeout(0)`, and a `run_every` timer that fires first sends the pending trigger too (an
    auto rerun). On a loaded machine the two arrive hundreds of ms apart; the first pauses and reruns the
    page, which drew the button again as Play. With one key for both, the second delivery pressed that Play
    (a "lost" Pause); with a key per action it reaches a button that is gone (ignored) or the same Pause."""
    s.playing = playing
    s.skip_tick = True


def _set_every_event(s: PlaygroundSession) -> None:
    s.timeline.every_event = bool(st.session_state.get("every_event"))
    s.skip_tick = True


def _set_speed(s: PlaygroundSession) -> None:
    s.speed = st.session_state.get("speed") or s.speed
    s.skip_tick = True


# -- the live part ----------------------------------------------------------------------------------------------
def _live(s: PlaygroundSession, mode: tuple[bool, str, bool]) -> None:
    if (s.playing, s.speed, s.serving) != mode:
        st.rerun(scope="app")  # Play/Pause or speed changed: rebuild the fragment with the new timer
    before = None  # a Play tick: the picture before it, so the message dots glide to the new one (flow.py)
    if s.playing and not s.skip_tick:  # a Play timer tick (a click sets skip_tick: it already acted)
        before = s.cluster.snapshot()
        guarded(s, lambda: s.step(SPEEDS[s.speed][1]))
    s.skip_tick = False

    _controls(s)
    notes = [msg for level, msg in s.flash if level != "error"]  # shown inside the narration: nothing jumps
    for msg in (msg for level, msg in s.flash if level == "error"):
        st.error(msg, icon=":material/error:")
    s.flash.clear()

    real_clients.panel(s)  # while serving real clients: their address, and a fresh copy of the served cluster
    snap = s.cluster.snapshot()
    events = s.current_events()
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _narration(s, events, notes)
    with right:
        _timeline(s)

    head = PlaygroundSession.headline(events)
    # The followed record (a click in Partition logs, or Follow a message): named above, its route drawn on it.
    path = render_follow_bar(s.cluster, pick=("panel", "Follow a message"), then=lambda: _no_tick(s))
    fig = _diagram(s, snap, head.actors if head else (), path)
    fig = animated(fig, before, snap, tag=str(s.position)) if before is not None else fig  # Step/Back: exact
    live_chart(fig, "diagram", PLOTLY_CONFIG, design_width=800)  # one plotly div, redrawn in place
    st.html(
        autoplay_script(fig) or "<span></span>", unsafe_allow_javascript=True
    )  # safe-html: starts the glide
    _failures(s, snap)
    _tabs(s, snap)
    _sync_link(s)


DIAGRAM_CACHE = "kc_diagram_cache"  # st.session_state: this browser session's pictures, by run and position
DIAGRAM_CACHE_SIZE = 64


def _diagram(s: PlaygroundSession, snap, highlight, path):
    """The cluster diagram, built once per picture (`_cached`)."""
    return _cached(
        s,
        ("diagram", tuple(highlight), repr(path)),
        lambda: cluster_diagram(snap, highlight=highlight, path=path),
    )


def _cached(s: PlaygroundSession, what: tuple, build):
    """A picture of this run at this position, built once: Back, a jump to a recent step or a rerun that did
    not step (a tab, a followed record) reuses it. The key holds everything the picture depends on: the run
    (scenario version, the commands applied so far, the recorded non-visible moves), the position and `what`
    (which picture, and its own inputs). Kept in this session's own state, so one student's cluster never
    reaches another's; the newest `DIAGRAM_CACHE_SIZE` pictures are kept."""
    if s.live is not None:  # serving real clients: the cluster moves with the wall clock, not the position
        return build()
    tl = s.timeline
    key = (s.version, s.position, repr(tl.commands[: tl._applied]), repr(tl.moves), what)
    cache = st.session_state.setdefault(DIAGRAM_CACHE, {})
    fig = cache.pop(key, None)  # popped and put back: the newest use is last, the oldest is dropped first
    if fig is None:
        fig = build()
        while len(cache) >= DIAGRAM_CACHE_SIZE:
            del cache[next(iter(cache))]
    cache[key] = fig
    return fig


def _controls(s: PlaygroundSession) -> None:
    locked = (
        s.serving
    )  # real clients connected: time follows the wall clock, no stepping (ui/real_clients.py)
    with st.container(horizontal=True, vertical_alignment="bottom", key="controls"):
        st.button(
            "Step",
            key="step",
            type="primary",
            disabled=s.playing or locked,
            on_click=guarded,
            args=(s, lambda: s.step() and None),
            help="Run until the next thing a student would notice.",
        )
        st.button(
            "Back",
            key="back",
            disabled=s.playing or locked or s.position == 0,
            on_click=guarded,
            args=(s, s.back),
            help="The exact previous step (replayed from a checkpoint).",
        )
        # Two keys, one fixed action each: Streamlit can deliver one click twice (see _set_playing), and a
        # second delivery reaching a same-key button redrawn with the opposite label would undo the click.
        st.button(
            "Pause" if s.playing else "Play",
            key="pause" if s.playing else "play",
            on_click=_set_playing,
            args=(s, not s.playing),
            disabled=locked,
            help="Stop advancing." if s.playing else "Advance automatically at the chosen speed.",
        )
        st.selectbox(
            "Speed",
            list(SPEEDS),
            index=list(SPEEDS).index(s.speed),
            key="speed",
            on_change=_set_speed,
            args=(s,),
            label_visibility="collapsed",
            width=130,
        )
        st.button(
            "Reset",
            key="reset",
            on_click=guarded,
            args=(s, s.reset),
            disabled=locked,
            help="Back to step 0 of this scenario, forgetting what you broke.",
        )
        st.button(
            "Next rebalance",
            key="run_rebalance",
            disabled=s.playing or locked,
            on_click=guarded,
            args=(s, lambda: s.run_until("rebalance", "rebalance")),
            help="One step to the moment a consumer group starts or finishes a rebalance (Back undoes it).",
        )
        st.button(
            "Next election",
            key="run_election",
            disabled=s.playing or locked,
            on_click=guarded,
            args=(s, lambda: s.run_until("election", "leader election")),
            help="One step to the next leader or controller election (crash a broker first; Back undoes it).",
        )
        st.button(
            "+1 s",
            key="skip_1s",
            disabled=s.playing or locked,
            on_click=guarded,
            args=(s, lambda: s.skip(1000)),
            help="Let one simulated second pass as one step (Back undoes it).",
        )
        st.session_state["every_event"] = s.timeline.every_event  # a new scenario starts with visible steps
        st.toggle(
            "every event",
            key="every_event",
            on_change=_set_every_event,
            args=(s,),
            disabled=locked,
            help="Expert stepping: each Step runs to the next single event (a heartbeat-free fetch, each hop "
            "of a batch), instead of to the next moment the picture shows.",
        )
        with st.popover("Share", key="share", help="A link that reopens exactly this picture."):
            builder.share_box(s)
        real_clients.toggle(s)


def _badge(kind: str) -> str:
    colour = next((c for k, c in KIND_BADGE.items() if kind.startswith(k)), "gray")
    return f":{colour}-badge[{kind.replace('_', ' ')}]"


def _narration(s: PlaygroundSession, events: list[Event], notes: list[str]) -> None:
    head, text, passed = s.story(s.position, events)
    with st.container(border=True, key="narration"):
        for note in notes:
            st.caption(f":material/info: {note}")
        t = s.cluster.now / 1000
        st.markdown(
            f"**Step {s.position}** · simulated time **{t:.3f} s**"
            + (f" · {_badge(head.kind)}" if head else "")
        )
        st.markdown(f"#### {md_escape(text)}")
        if passed:
            st.caption(f":material/schedule: {md_escape(passed)}")
        others = [e for e in events if e is not head]
        if others:
            _also(others)
    if s.last_action:
        with st.expander(f"Last action: {s.last_action} — how to do it on a real cluster", expanded=False):
            st.code(s.last_cli or kafka_cli.STEP_NOTE, language="bash", wrap_lines=True)


ALSO_SHOWN = 3
ALSO_LISTED = 200


def _also(others: list[Event]) -> None:
    """The step's other events: the ones that matter first, the carried-along flow counted, all of them listed
    in an expander right here (so "… and N more" points at entries that exist)."""
    key = [e for e in others if e.kind not in ROUTINE_KINDS and e.kind not in RIDE_ALONG_KINDS]
    shown = (key + [e for e in others if e not in key])[:ALSO_SHOWN]
    lines = [f"• {md_escape(e.summary)}" for e in shown]
    if len(others) > len(shown):
        bits = background([e for e in others if e not in shown])
        lines.append(
            f"… and {len(others) - len(shown)} more"
            + (f" ({bits})" if bits else "")
            + ": listed under “Every event of this step” below"
        )
    st.caption("Also in this step:  \n" + "  \n".join(lines))
    if len(others) > len(shown):
        with st.expander(f"Every event of this step ({len(others) + 1})", key="all_events"):
            listed = others[-ALSO_LISTED:]
            if len(others) > len(listed):
                st.caption(f"The newest {len(listed)} of {len(others)}:")
            st.markdown("  \n".join(f"`{e.time_ms / 1000:.3f} s` {md_escape(e.summary)}" for e in listed))


def _timeline(s: PlaygroundSession) -> None:
    st.markdown("**Recent steps** — click one to go back to it")
    rows = []
    for p, evs in s.history(40):
        _head, text, _passed = s.story(p, evs)
        text = text if len(text) <= 110 else text[:109] + "…"
        rows.append((p, f"#{p} · {(evs[-1].time_ms if evs else 0) / 1000:.3f} s · {text}"))
    with st.container(height=236, key="timeline"):  # one element, not a button per step (ui/step_list.py)
        step_list(rows, s.position, "recent_steps", lambda p: guarded(s, lambda: s.goto(p)))


def _failures(s: PlaygroundSession, snap) -> None:
    st.markdown("#### Break something")
    st.caption("Hover a button for the real-Kafka equivalent.")
    brokers = sorted(snap.brokers, key=lambda b: b.id)
    for row in range(0, len(brokers), 3):
        cols = st.columns(3)
        for col, b in zip(cols, brokers[row : row + 3], strict=False):
            with col, st.container(border=True, key=f"broker_ctl_{b.id}"):
                state = "down" if not b.alive else ("isolated" if b.isolated else "up")
                st.markdown(f"**Broker {b.id}** · {state}{' · ★ controller' if b.controller else ''}")
                with st.container(horizontal=True):
                    if b.alive:
                        _command_button(s, "Crash", f"crash_b{b.id}", {"op": "crash_broker", "broker": b.id})
                    else:
                        _command_button(
                            s, "Restart", f"restart_b{b.id}", {"op": "restart_broker", "broker": b.id}
                        )
                    if b.isolated:
                        _command_button(s, "Heal", f"heal_b{b.id}", {"op": "heal_broker", "broker": b.id})
                    else:
                        _command_button(
                            s,
                            "Isolate",
                            f"isolate_b{b.id}",
                            {"op": "isolate_broker", "broker": b.id},
                            disabled=not b.alive,
                        )
    _command_button(s, "Add a broker", "add_broker", {"op": "add_broker"}, disabled=len(brokers) >= 12)
    modern.share_controls(s, snap, _command)  # share groups (KIP-932): scenarios cannot describe them

    gids = group_ids(snap)
    if not gids:
        return
    cols = st.columns(min(3, len(gids)))
    gv_of = {gv.group_id: gv for gv in snap.groups}
    for i, gid in enumerate(gids):
        with cols[i % len(cols)], st.container(border=True, key=f"group_ctl_{gid}"):
            st.markdown(f"**Group {gid}**")
            for k in sorted(
                (k for k in snap.consumers if k.group_id == gid), key=lambda k: natural_key(k.id)
            ):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f"`{k.id}` {member_state(gv_of.get(gid), k)}")
                    crash = {"op": "crash_consumer", "consumer": k.id}
                    close = {"op": "close_consumer", "consumer": k.id}
                    live = k.alive and k.state not in ("closed", "crashed")
                    st.button(
                        "Crash",
                        key=f"crash_c_{k.id}",
                        on_click=_command,
                        args=(s, crash),
                        disabled=not live,
                        help=kafka_cli.for_command(crash),
                    )
                    st.button(
                        "Close",
                        key=f"close_c_{k.id}",
                        on_click=_command,
                        args=(s, close),
                        disabled=not live,
                        help=kafka_cli.for_command(close),
                    )
                    restart = {"op": "restart_consumer", "consumer": k.id}
                    st.button(
                        "Restart",
                        key=f"restart_c_{k.id}",
                        on_click=_command,
                        args=(s, restart),
                        disabled=live,
                        help=kafka_cli.for_command(restart),
                    )
            add_c = {"op": "add_consumer", "group": gid}
            st.button(
                "Add a consumer",
                key=f"add_c_{gid}",
                on_click=_command,
                args=(s, add_c),
                help=kafka_cli.for_command(add_c, s.topic_of()),
            )


def _tabs(s: PlaygroundSession, snap) -> None:
    # Lazy tabs: only the open one runs, so a Step redraws one panel, not five.
    logs, producers, groups, charts, follow, real = st.tabs(
        ["Partition logs", "Producers", "Consumer groups", "Charts", "Follow a message", "Real Kafka"],
        key="panel",
        on_change="rerun",
    )
    topics = [t.name for t in snap.topics if not t.internal]
    if logs.open:
        with logs:
            _logs_tab(s, snap, topics)
    if producers.open:
        with producers:
            _producers_tab(s, snap)
    if groups.open:
        with groups:
            _groups_tab(s, snap)
    if charts.open:
        with charts:
            _charts_tab(s, snap)
    if follow.open:
        with follow:
            render_trace_panel(s.cluster, key="pg_trace", snap=snap, follow=True, then=lambda: _no_tick(s))
    if real.open:
        with real:
            _real_tab(s)


def _no_tick(s: PlaygroundSession) -> None:
    s.skip_tick = True  # a click during Play follows a record; it does not also step


def _logs_tab(s: PlaygroundSession, snap, topics: list[str]) -> None:
    topic = (
        st.selectbox("Topic", topics, key="log_topic") if len(topics) > 1 else (topics[0] if topics else None)
    )
    # The link (Kafka's own documentation of the high watermark) is also the first tabbable element of the tab
    # panel: react-aria's TabPanel walks the panel for one after every render and DOM change, and without one
    # above the strips it walked their whole SVG, 20-90 ms per Step (bench/NOTES.md, issue 17 round 7).
    st.caption(
        "Each cell is a record (colour = key). Hatched cells are above the "
        f"[high watermark]({HW_DOC}): written to "
        "the leader but not yet on every in-sync replica, so consumers cannot read them. "
        # while playing the strip is redrawn several times a second and a click can land on an old one
        + ("**Pause, then click a record to follow it**" if s.playing else "**Click a record to follow it**")
        + ": its life appears under the strips, its path on the diagram."
    )
    render_clickable_logs(
        s.cluster,
        topic,
        lambda ring: _cached(  # Back and a revisited step reuse the strips (~25 ms to build at step 1,000)
            s,
            ("logs", topic, ring),
            lambda: legend_apart(log_strips(snap, topic, followed=ring, compact=True)),
        ),  # compact, its legend apart: the same picture, redrawn faster (figures/logs.py)
        key="logs",
        config=PLOTLY_CONFIG,
        then=lambda: _no_tick(s),
    )
    if topic:
        st.markdown(f"`{kafka_cli.topic_describe(topic)}`")
        st.dataframe(_table(topic_table(snap, topic)), hide_index=True, width="stretch")
    modern.transactions_panel(snap)  # only when something is transactional


def _producers_tab(s: PlaygroundSession, snap) -> None:
    ids = [p.id for p in snap.producers]
    pid = st.selectbox("Producer", ids, key="producer_pick") if len(ids) > 1 else (ids[0] if ids else None)
    pv = next((p for p in snap.producers if p.id == pid), None)
    if pv is not None:
        cols = st.columns(5)
        for col, (label, value) in zip(cols, producer_summary(pv).items(), strict=True):
            col.metric(label, value)
    live_chart(producer_panel(snap, pid, s.topic_of().get(pid or "")), "producer", PLOTLY_CONFIG)
    if pv is not None:  # batches get an offset only when acknowledged: follow one from here
        st.markdown("**Last acknowledged batches** — tick a row to follow its first record")
        if str(pv.config.get("acks")) == "0":
            st.caption(
                "acks=0: the producer never learns where its records landed, so it has no offsets to "
                "follow; click a record in *Partition logs* instead."
            )
        elif rows := acked_batch_rows(s.cluster, pv.id):
            render_record_table(rows, key=f"acked_{pv.id}", then=lambda: _no_tick(s))
        else:
            st.caption("No batch acknowledged yet: press Step.")
    if pid:
        cmd = {"op": "produce", "producer": pid, "count": 10}
        st.button(
            f"Send 10 records from {pid} now",
            key="produce10",
            on_click=_command,
            args=(s, cmd),
            help=kafka_cli.for_command(cmd, s.topic_of()),
        )
        modern.txn_controls(s, snap, pid, _command)  # transactional producers only
        spec = next((p for p in s.scenario.producers if p.id == pid), None)
        if spec is not None:
            st.caption("The same producer in Java (producer.properties):")
            st.code(kafka_cli.producer_properties(spec), language="properties")


def _groups_tab(s: PlaygroundSession, snap) -> None:
    gids = group_ids(snap)
    gid = st.selectbox("Group", gids, key="group_pick") if len(gids) > 1 else (gids[0] if gids else None)
    if gid is None:
        st.info("No consumer groups in this scenario.")
    else:
        if not modern.member_epochs_panel(snap, gid):  # KIP-848 groups: member epochs, not the classic states
            live_chart(group_state_figure(snap, gid), "group_state", PLOTLY_CONFIG)
        live_chart(lag_figure(snap, gid), "group_lag", PLOTLY_CONFIG)
        st.markdown(f"`kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group {gid}`")
        st.dataframe(_table(assignment_rows(snap, gid)), hide_index=True, width="stretch")
        st.code(kafka_cli.group_describe(gid), language="bash")
        live = sorted(
            (
                k.id
                for k in snap.consumers
                if k.group_id == gid and k.alive and k.state not in ("closed", "crashed")
            ),
            key=natural_key,
        )
        if live:
            st.caption(
                "What each consumer's `poll()` returned, newest first: tick a row to follow that record."
            )
        for row in range(0, len(live), 3):  # the consumer output, three consumers a row
            for col, cid in zip(st.columns(3), live[row : row + 3], strict=False):
                with col:
                    st.markdown(f"**Last records {md_escape(cid)} received**")
                    if rows := consumer_output_rows(s.cluster, cid):
                        render_record_table(rows, key=f"output_{cid}", then=lambda: _no_tick(s))
                    else:
                        st.caption("Nothing yet.")
    modern.share_panel(snap)


def _charts_tab(s: PlaygroundSession, snap) -> None:
    series = s.cluster.metrics.series()
    live_chart(throughput_figure(series), "throughput", PLOTLY_CONFIG)
    live_chart(latency_figure(series), "latency", PLOTLY_CONFIG)
    live_chart(
        lag_history_figure(s.lag_history(), group_ids(snap), colour_group_ids(snap)),
        "lag_history",
        PLOTLY_CONFIG,
    )


def _real_tab(s: PlaygroundSession) -> None:
    st.caption(kafka_cli.STEP_NOTE)
    st.markdown("**Build this scenario on a real cluster**")
    st.code(kafka_cli.scenario_setup(s.scenario), language="bash")
    st.markdown("**Who is the controller?**")
    st.code(kafka_cli.controller_status(s.scenario.controller), language="bash")
    real_clients.real_tab(s)  # point your own Kafka client at this cluster


def _table(rows: list[dict]) -> list[dict]:
    """Rows as text, "-" for missing values (as Kafka's CLI prints them): one type per column for Arrow."""
    return [{k: "-" if v is None else str(v) for k, v in r.items()} for r in rows]


def _sync_link(s: PlaygroundSession) -> None:
    """Keep the URL's query parameters equal to this run, so copying the address bar shares it."""
    params = s.share_params()
    if any(st.query_params.get(k) != v for k, v in params.items()):
        st.query_params.update(params)


if __name__ == "__main__":  # Streamlit runs page files as __main__; importing this module draws nothing
    render()
