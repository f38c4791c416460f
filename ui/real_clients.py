"""The Playground's "Accept real clients" toggle: serve the current run over the Kafka wire protocol.

Switched on, the run's cluster is served by `engine.server` on 127.0.0.1 (broker N on port + N - 1), so
kafka-python, confluent-kafka or the Kafka CLI can talk to it, and the page redraws every second to show
what they do. What happens to the timeline, in one rule: **real clients are not part of the replayable run.**

- Starting takes a copy of the cluster at the current step N and serves that copy; the `Timeline` stays at
  step N, untouched. The server's thread owns the served copy and drives simulated time from the wall clock.
- While serving, the page draws a fresh copy taken on the server's thread (`LiveRun.refresh`, through
  `ServerHandle.call`), never the served cluster itself. Step, Back, Play, Reset, "+1 s", run-until and
  jumping to a step are refused (`PlaygroundSession` raises a UserInputError the page shows); failure buttons
  (crash a broker, close a consumer, ...) run on the server's thread with simulated time paused around them.
- Switching off (or loading another scenario, or leaving the Playground for `IDLE_STOP_S`) stops the server,
  frees the ports and returns to step N exactly, with a note saying so: what real clients did happened in
  wall-clock time and cannot be replayed by Step, Back or a link.

Safety: the server listens on 127.0.0.1 only, and the toggle works only where the setting allows it
(`gate()`): `KAFKA_CLASSROOM_REAL_CLIENTS` (environment) or `real_clients` (Streamlit secret), "on", "off"
or "auto" (the default: on when the browser reaches the app at localhost, so a hosted demo never opens
ports). See docs/real-clients.md and docs/deploy.md.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.commands import Command, apply_command
from engine.errors import KafkaTimeoutError, UserInputError

if TYPE_CHECKING:
    from engine.cluster import Cluster
    from engine.events import Event
    from engine.server import ServerHandle
    from engine.snapshot import ConsumerView

    from .session import PlaygroundSession

ENV_VAR = "KAFKA_CLASSROOM_REAL_CLIENTS"
SECRET = "real_clients"
HOST = "127.0.0.1"  # never another interface: the ports are for the person at this computer
DEFAULT_PORT = 9092
MIN_PORT, MAX_PORT = 1024, 65000  # unprivileged, and room for a few brokers above the first port
REFRESH_S = 1.0  # the page redraws this often while serving
IDLE_STOP_S = 90.0  # no redraw for this long (page switched, tab closed, session over): the server stops
CALL_TIMEOUT_S = 10.0
RECENT_EVENTS = 200
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
NOT_REPLAYED = "what real clients did happened in wall-clock time, so Step, Back and links cannot replay it"
TOGGLE_KEY, PORT_KEY = "real_clients", "real_clients_port"


# -- may this server open ports? -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Gate:
    allowed: bool
    why: str  # one sentence for the toggle's tooltip and the Real Kafka tab


def is_local(address: str | None) -> bool:
    """Is this URL or Host header (`http://localhost:8501/x`, `127.0.0.1:8501`, `[::1]:8501`) this computer?"""
    if not address:
        return False
    text = address if "//" in address else f"//{address}"
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return False
    return host is not None and (host in LOCAL_NAMES or host.endswith(".localhost"))


def gate(setting: str | None, url: str | None, headers: Mapping[str, str] | None = None) -> Gate:
    """Whether the toggle may start a server. `setting` is on / off / auto (None: auto); `url` is the app's
    address in the user's browser (`st.context.url`), `headers` the websocket's request headers. "auto" allows
    it only when the browser is on this computer: the app's URL, and its Host and Origin headers when sent,
    all name localhost, so nobody reaching a hosted copy of the app can open ports."""
    value = (setting or "auto").strip().lower()
    if value in ("on", "true", "1", "yes"):
        return Gate(True, f"Allowed by {ENV_VAR}=on.")
    if value in ("off", "false", "0", "no"):
        return Gate(
            False,
            f"Switched off on this server ({ENV_VAR}=off or the `{SECRET}` secret). Run the app on "
            f"your own computer to watch your own Kafka client.",
        )
    if value != "auto":
        return Gate(False, f"{ENV_VAR} must be on, off or auto, got {setting!r}.")
    h = {k.lower(): v for k, v in (headers or {}).items()}
    seen = [a for a in (url, h.get("host"), h.get("origin")) if a]
    if seen and all(is_local(a) for a in seen):
        return Gate(True, "On because this app runs on your computer (you opened it at localhost).")
    return Gate(
        False,
        "Off because this app is not opened at localhost: real Kafka clients can connect only to "
        "an app running on your own computer (`streamlit run app.py`, then open localhost:8501).",
    )


def current_gate() -> Gate:
    """The gate for this browser session: the environment variable, else the Streamlit secret, else auto."""
    import streamlit as st

    setting = os.environ.get(ENV_VAR)
    if setting is None:
        try:
            setting = st.secrets.get(SECRET)
        except Exception:  # no secrets file at all (the usual local case): nothing configured
            setting = None
    try:
        url, headers = st.context.url, dict(st.context.headers)
    except Exception:  # outside a browser session (bare scripts, some test runners)
        url, headers = None, {}
    return gate(None if setting is None else str(setting), url, headers)


# -- one served run -----------------------------------------------------------------------------------------------------
def _stop_quietly(handle: ServerHandle) -> None:
    handle.stop_soon()  # never blocks: a finalizer may run on any thread, the server's own included


class LiveRun:
    """The copy of a run that real clients talk to, the server serving it, and the latest view of it.

    `cluster` belongs to the server's thread; the UI reads `view` (a copy taken there by `refresh`) and changes
    the cluster only through `apply`. `position` is the timeline step the copy was taken at."""

    def __init__(self, handle: ServerHandle, cluster: Cluster, position: int, port: int) -> None:
        self.handle = handle
        self.cluster = cluster
        self.position = position
        self.port = port
        self.ports = handle.ports
        self.frozen = False
        self.started = time.monotonic()
        self.view: Cluster = handle.call(cluster.clone, timeout=CALL_TIMEOUT_S)
        self._seen = self.view.events.seq
        self.recent: list[Event] = []
        # the browser session may end without a goodbye: when this object is collected, the server goes too
        self._finalizer = weakref.finalize(self, _stop_quietly, handle)

    @classmethod
    def start(cls, cluster: Cluster, position: int, port: int, idle_stop_s: float = IDLE_STOP_S) -> LiveRun:
        """Serve a copy of `cluster` on `port`, `port + 1`, ... (PortInUseError names a busy port)."""
        from engine.server import start_in_background  # needs kio: imported only when someone switches it on

        served = cluster.clone()
        handle = start_in_background(served, port=port, host=HOST)
        try:
            handle.stop_after_idle(idle_stop_s)
            return cls(handle, served, position, port)
        except BaseException:
            handle.stop()
            raise

    # -- state ------------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.handle.running and self.handle.stop_reason is None

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{HOST}:{p}" for _, p in sorted(self.ports.items()))

    @property
    def address(self) -> str:
        """The first broker's address: all a client needs (it learns the others from Metadata)."""
        return f"{HOST}:{self.ports[min(self.ports)]}" if self.ports else f"{HOST}:{self.port}"

    def port_range(self) -> str:
        ports = sorted(self.ports.values()) or [self.port]
        return str(ports[0]) if len(ports) == 1 else f"{ports[0]}–{ports[-1]}"

    # -- talking to the server's thread ------------------------------------------------------------------------------
    def refresh(self) -> Cluster:
        """A fresh copy of the served cluster for this redraw, and the events since the previous one."""
        server = self.handle.server
        view, self.ports = self.handle.call(
            lambda: (self.cluster.clone(), dict(server.ports)), timeout=CALL_TIMEOUT_S
        )
        new = view.events.since(self._seen)
        self._seen = view.events.seq
        if new:
            self.recent = new[-RECENT_EVENTS:]
        self.view = view
        self.handle.touch()
        return view

    def current_events(self, limit: int = 4) -> list[Event]:
        """What the narration shows: a few events since the previous redraw (the important ones - a crash, an
        election, a rebalance - first in line for the headline, then the latest), else the latest event."""
        from .session import PRIORITY

        if not self.recent:
            return self.view.events.events[-1:]
        keep = [e for e in self.recent if e.kind in PRIORITY][-limit:]
        keep += [e for e in self.recent[::-1] if e not in keep][: max(0, limit - len(keep))]
        return sorted(keep, key=lambda e: e.seq)

    def apply(self, cmd: Command) -> str:
        """Run a Playground command (crash a broker, ...) on the served cluster, simulated time paused around it."""
        if cmd.op == "run_for":
            raise UserInputError(
                "Simulated time follows the wall clock while real clients are connected: “+1 s” is "
                "off. Switch off “Accept real clients” to step through time again."
            )
        if not self.frozen:
            self.handle.pause()
        try:
            msg = self.handle.call(apply_command, self.cluster, cmd, timeout=CALL_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            raise KafkaTimeoutError(
                f"The real-clients server did not answer ({exc}); switch it off and on again."
            ) from None
        finally:
            if not self.frozen and self.handle.running:
                self.handle.resume()
        self.refresh()
        return msg

    def set_frozen(self, frozen: bool) -> None:
        """Stop (or restart) simulated time: clients stay connected, their requests wait."""
        if frozen != self.frozen:
            (self.handle.pause if frozen else self.handle.resume)()
            self.frozen = frozen

    def stop(self) -> None:
        self._finalizer.detach()
        self.handle.stop()

    # -- what the page lists -------------------------------------------------------------------------------------------
    def clients(self) -> list[str]:
        """One Markdown line per real client seen in the view (producers by client.id, members by group)."""
        snap = self.view.snapshot(tail=0)
        out = []
        for p in sorted((p for p in snap.producers if p.external), key=lambda p: p.id):
            failed = f", {p.failed:,} failed" if p.failed else ""
            # a transactional producer (engine/server/transactions.py)
            tx = f" · transactional.id `{p.transactional_id}` ({p.txn_state})" if p.transactional_id else ""
            out.append(
                f":violet-badge[your client] producer **{p.id}** — {p.sent:,} record(s) sent, "
                f"{p.acked:,} acknowledged{failed} · acks={p.config['acks']}{tx}"
            )
        groups: dict[str, list[ConsumerView]] = {}
        for k in snap.consumers:
            if k.external and k.alive:
                groups.setdefault(k.group_id or "(no group)", []).append(k)
        for gid in sorted(groups):
            members = ", ".join(
                f"**{k.id}** ({_parts(k.assignment)})" for k in sorted(groups[gid], key=lambda k: k.id)
            )
            out.append(f":violet-badge[your client] group **{gid}** — {members}")
        return out


def _parts(assignment: tuple[tuple[str, int], ...]) -> str:
    if not assignment:
        return "no partitions yet"
    return ", ".join(f"{t}-{p}" for t, p in sorted(assignment))


def snippet(address: str, topic: str) -> str:
    """Three lines to paste in a terminal: install kafka-python, produce 5 records a second with client.id `you`
    (the name the diagram shows), consume them in group `my-group` with the Kafka CLI."""
    producer = (
        f"python -c \"import time, kafka; p = kafka.KafkaProducer(bootstrap_servers='{address}', "
        f"client_id='you', acks='all'); [(p.send('{topic}', key=b'me-%d' % (i % 6), "
        f"value=b'hello %d' % i), time.sleep(0.2)) for i in range(3000)]\""
    )
    consumer = f"kafka-console-consumer.sh --bootstrap-server {address} --topic {topic} --group my-group --from-beginning"
    return f"pip install kafka-python\n{producer}\n{consumer}"


def _topic(s: PlaygroundSession) -> str:
    names = [t.name for t in s.scenario.topics]
    return names[0] if names else "demo"  # a new name is auto-created on first use


# -- switching on and off ---------------------------------------------------------------------------------------------
def start(s: PlaygroundSession) -> None:
    """Serve the run at its current step on `s.real_port`; a busy port becomes `s.real_error`, never a traceback."""
    from engine.server import PortInUseError

    if s.live is not None:
        return
    g = current_gate()
    if not g.allowed:
        s.real_error = g.why
        return
    port = int(s.real_port)
    try:
        live = LiveRun.start(s.timeline.cluster, s.position, port)
    except PortInUseError as exc:
        alt = port + 10_000 if port + 10_000 <= MAX_PORT else MIN_PORT + 8000
        what = (
            "is already in use (another Kafka, or this Playground in another tab?)"
            if exc.in_use
            else f"cannot be opened ({exc.strerror or exc})"
        )
        s.real_error = (
            f"Port {exc.port} {what}. Choose another first port below, for example {alt}; broker N "
            f"then listens on that port + N - 1."
        )
        return
    except (OSError, RuntimeError, TimeoutError, ImportError) as exc:
        s.real_error = f"Could not start the Kafka server on port {port}: {exc}"
        return
    s.live, s.real_error, s.playing = live, None, False
    s.last_action = f"Accepting real Kafka clients at {live.address} (step {live.position} kept)"
    s.last_cli = snippet(live.address, _topic(s))


def stop(s: PlaygroundSession, why: str | None = None) -> None:
    """Stop serving (ports freed) and return to the step where serving began, saying so."""
    live, s.live = s.live, None
    if live is None:
        return
    idle = live.handle.stop_reason == "idle"
    live.stop()
    because = why or (f"Nobody had the Playground open for {IDLE_STOP_S:.0f} s" if idle else None)
    lead = f"{because}: stopped" if because else "Stopped"
    s.flash.append(
        (
            "info",
            f"{lead} accepting real clients; ports {live.port_range()} are free again. Back at step "
            f"{live.position}, where you switched them on: {NOT_REPLAYED}.",
        )
    )
    s.last_action, s.last_cli = f"Stopped accepting real clients (back at step {live.position})", None


# -- Streamlit ------------------------------------------------------------------------------------------------------
def _on_toggle(s: PlaygroundSession) -> None:
    import streamlit as st

    s.skip_tick = True
    if st.session_state.get(TOGGLE_KEY):
        s.real_error = None
        start(s)
    else:
        s.real_error = None
        stop(s)


def _on_port(s: PlaygroundSession) -> None:
    """A new first port: restart there (or retry after a busy-port error)."""
    import streamlit as st

    s.skip_tick = True
    s.real_port = int(st.session_state.get(PORT_KEY) or DEFAULT_PORT)
    if s.live is not None:
        stop(s, f"Moving to port {s.real_port}")
    s.real_error = None
    start(s)


def _on_freeze(s: PlaygroundSession) -> None:
    s.skip_tick = True
    if s.live is not None:
        s.live.set_frozen(not s.live.frozen)


def toggle(s: PlaygroundSession) -> None:
    """The switch itself (in the Playground's controls row)."""
    import streamlit as st

    g = current_gate()
    st.session_state[TOGGLE_KEY] = (
        s.serving or s.real_error is not None
    )  # the session decides, not the widget
    help_ = (
        f"Serve this cluster over the Kafka protocol on {HOST}:{s.real_port} (and the next ports, one per "
        f"broker), so your own Kafka client can connect; the page follows it live. {g.why}"
    )
    st.toggle(
        "Accept real clients",
        key=TOGGLE_KEY,
        on_change=_on_toggle,
        args=(s,),
        disabled=not g.allowed and not st.session_state[TOGGLE_KEY],
        help=help_,
    )


def panel(s: PlaygroundSession) -> None:
    """Below the controls while the toggle is on: the address, the snippet, your clients. Takes the fresh copy
    of the served cluster that the rest of the page draws (`s.cluster` is that copy while serving)."""
    import streamlit as st

    if s.serving:
        try:
            s.live.refresh()
        except (RuntimeError, TimeoutError) as exc:
            stop(s, f"The Kafka server stopped answering ({exc})")
    live = s.live
    if live is None and s.real_error is None:
        return
    with st.container(border=True, key="real_clients_panel"):
        if s.real_error is not None:
            st.error(s.real_error, icon=":material/error:")
        left, right = st.columns([5, 1], vertical_alignment="top")
        rows = live.clients() if live is not None else []
        with right:
            st.session_state[PORT_KEY] = int(s.real_port)
            st.number_input(
                "First port",
                key=PORT_KEY,
                min_value=MIN_PORT,
                max_value=MAX_PORT,
                step=1,
                on_change=_on_port,
                args=(s,),
                help="Broker 1 listens here, broker N on this port + N - 1.",
            )
            if live is not None:
                st.button(
                    "Resume time" if live.frozen else "Freeze time",
                    key="real_clients_freeze",
                    on_click=_on_freeze,
                    args=(s,),
                    width="stretch",
                    help="Stop simulated time to look closely: clients stay connected and their requests wait.",
                )
            if rows:
                with st.popover("Snippet", key="real_clients_snippet", width="stretch"):
                    st.code(snippet(live.address, _topic(s)), language="bash", wrap_lines=True)
        with left:
            if live is None:
                st.markdown(
                    "**Not accepting real clients.** Pick a free first port on the right, or switch the "
                    "toggle off."
                )
                return
            frozen = " · :orange-badge[time frozen]" if live.frozen else ""
            brokers = ", ".join(f"broker {b} on {p}" for b, p in sorted(live.ports.items()))
            st.markdown(
                f":green-badge[live] **Accepting real Kafka clients at `{live.address}`** ({brokers}){frozen}"
            )
            if rows:
                st.markdown("  \n".join(rows))
                st.caption("Your clients are drawn under their client.id, next to the simulated ones.")
            else:
                st.caption(
                    "No real client yet. Paste these three lines in a terminal (the last one runs from "
                    "Kafka's bin/ directory):"
                )
                st.code(snippet(live.address, _topic(s)), language="bash", wrap_lines=True)
            st.caption(
                f"Simulated time follows the wall clock, so Step, Back and Play are off and the timeline "
                f"stays at step {live.position}. Crash a broker below and watch your client recover. "
                f"Switching this off returns to step {live.position}: {NOT_REPLAYED}."
            )


def real_tab(s: PlaygroundSession) -> None:
    """The Real Kafka tab's section: how to watch your own client here, or why it is off on this server."""
    import streamlit as st

    g = current_gate()
    st.markdown("**Watch your own Kafka client**")
    address = s.live.address if s.live is not None else f"{HOST}:{s.real_port}"
    if not g.allowed:
        st.caption(g.why)
    elif s.live is None:
        st.caption(
            f"Switch on **Accept real clients** (next to Share): this cluster is then served at {address} "
            f"(one port per broker), and these three lines talk to it:"
        )
    else:
        st.caption(f"This cluster is served at {address}. Paste these three lines in a terminal:")
    st.code(snippet(address, _topic(s)), language="bash", wrap_lines=True)


__all__ = [
    "Gate",
    "LiveRun",
    "gate",
    "current_gate",
    "is_local",
    "snippet",
    "start",
    "stop",
    "toggle",
    "panel",
    "real_tab",
    "ENV_VAR",
    "SECRET",
    "DEFAULT_PORT",
    "REFRESH_S",
    "IDLE_STOP_S",
]
