"""Benchmark 8 (issue 20): a lecture hall. N students follow one teacher's room over Streamlit's own
websocket protocol, the way browsers do, and we time how long each teacher step takes to reach them.

    python -m bench.lecture_hall --students 50 [--steps 10] [--interval 2] [--processes 2] [--idle 10]
                                 [--browsers 3]

The app is started here (`streamlit run app.py` on free loopback ports, stopped by their pids): one process
with the embedded room store, or `--processes 2` with a `redis-server` (Debian's, on a free port, nothing
saved) and `KC_ROOM_STORE` pointing both app processes at it; students are spread over the processes and the
teacher is on the first. Every session is a websocket to `/_stcore/stream` speaking Streamlit's protobuf
messages (`streamlit.proto`): a `BackMsg.rerun_script` with the page (`classroom`), the query string
(`room=CODE`) and widget states, as the browser sends them; the `AutoRerun` ticks a fragment asks for
(`st.fragment(run_every=...)`) are sent back as the browser's timer does (`fragment_id`, `is_auto_rerun`).
A following student's browser sends nothing while it waits: the server starts its page runs when the room
moves (ui/room_push.py), and a session here, like a browser, just reads what arrives.
The teacher presses buttons by sending their widget id with `trigger_value` (Start a room, then Step every
`--interval` seconds).

Alongside them, `--browsers N` real students (default 3; 0 in `python -m bench --quick`): one headless
Chromium (Playwright, Debian's /usr/bin/chromium with bench/servers.py's flags), one page per student on the
room link, spread over the processes like the others. A script in each page notes when its screen first
shows a step: the narration says "Step N" and the diagram and log strips are drawn by plotly and not stale
(a chart still showing the previous run's picture is marked stale until its new spec arrives). A browser
student that never shows a step fails the run, as a lost session does.

Reported: per teacher step, p50 / p95 / max of the time from the teacher's Step to each student's session
receiving that step's narration ("**Step N**", the room's picture comes in the same script run); sessions
lost (closed, or a step not received within 20 s); the server processes' CPU (% of one core) while idle
(students connected, teacher not stepping) and while stepping; the peak RSS. The issue's bars (200
followers, p95 <= 2 s, idle CPU <= 10 % of one core, RSS <= 2.7 GB) are for a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import Result
from bench.servers import ARGS, CHROMIUM, start_redis, start_streamlit, stop

P95_BAR_MS = 2000
IDLE_CPU_BAR = 10.0  # % of one core
RSS_BAR_MB = 2700
LOST_AFTER_S = 20.0
STEP_RE = re.compile(r"\*\*Step (\d+)\*\*")
CODE_RE = re.compile(r"Room code: \*\*([A-Z0-9]{6})\*\*")
# In each browser student's page: the first time (epoch ms) its screen showed each step, i.e. the narration
# says "Step N", the page run is over and both room charts are drawn by plotly: not left over from the previous
# run (Streamlit marks an element stale while a rerun has not replaced it yet) and not waiting for a redraw.
SEEN_JS = """
window.__kcSeen = {};
const look = () => {
  const narration = document.querySelector('.st-key-room_narration');
  const m = narration && narration.innerText.match(/Step (\\d+)/);
  if (!m || m[1] in window.__kcSeen) return;
  // the page run that brought the step is over, so its charts' new figures have reached the page ...
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') === 'running') return;
  for (const key of ['room_diagram', 'room_logs']) {
    const charts = document.querySelectorAll('.st-key-' + key + ' .js-plotly-plot');
    if (charts.length !== 1 || !charts[0].layout || !charts[0].querySelector('.main-svg')) return;
    if (charts[0].closest('[data-stale="true"]')) return;
    // ... and plotly has drawn them (ui/live_chart.py marks a chart data-kc-pending until its redraw is painted)
    if (charts[0].closest('[data-kc-pending]')) return;
  }
  window.__kcSeen[m[1]] = Date.now();
};
new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
                                              characterData: true});
"""


# -- the app processes' CPU and memory --------------------------------------------------------------------------
class Meter:
    """CPU seconds and peak RSS of the app processes (psutil), sampled in the background."""

    def __init__(self, pids: list[int]) -> None:
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.peak_rss = 0

    def cpu(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.procs)

    def rss_mb(self) -> float:
        rss = sum(p.memory_info().rss for p in self.procs)
        self.peak_rss = max(self.peak_rss, rss)
        return rss / 1e6

    async def sample(self) -> None:
        while True:
            self.rss_mb()
            await asyncio.sleep(0.5)


# -- a browser session over the websocket -----------------------------------------------------------------------
@dataclass
class Session:
    """One Streamlit session spoken to as a browser does: reruns with the page and query string, the
    auto-rerun ticks of its fragments, button clicks as widget triggers."""

    base: str
    query: str = ""
    page: str = "classroom"
    conn: object = None
    closed: bool = False
    steps: dict[int, float] = field(default_factory=dict)  # step -> when its narration first arrived
    buttons: dict[str, str] = field(default_factory=dict)  # label -> widget id
    texts: list[str] = field(default_factory=list)
    code: str | None = None
    page_hash: str = ""  # the page's script hash (the `navigation` message): later reruns name the page by it
    runs_finished: int = 0
    auto: dict[str, float] = field(default_factory=dict)  # fragment id -> interval
    tickers: dict[str, asyncio.Task] = field(default_factory=dict)
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def open(self) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.conn = await websocket_connect(
            HTTPRequest(url), subprotocols=["streamlit"], max_message_size=64 << 20
        )
        self.tasks.append(asyncio.ensure_future(self._read()))
        await self.rerun()

    async def rerun(self, triggers: tuple[str, ...] = (), fragment_id: str = "", auto: bool = False) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_name = self.page
        cs.page_script_hash = self.page_hash  # as the browser does once it knows it (a fragment's st.rerun
        # of the whole app reruns the page its request named: without it, the home page)
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        cs.context_info.url = f"{self.base}/{self.page}" + (f"?{self.query}" if self.query else "")
        for wid in triggers:
            cs.widget_states.widgets.append(WidgetState(id=wid, trigger_value=True))
        if fragment_id:
            cs.fragment_id, cs.is_auto_rerun = fragment_id, auto
        if not self.closed:
            await self.conn.write_message(msg.SerializeToString(), binary=True)

    async def click(self, label: str) -> None:
        await self.rerun(triggers=(self.buttons[label],))

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            data = await self.conn.read_message()
            if data is None:
                self.closed = True
                return
            now = time.monotonic()
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                et = el.WhichOneof("type")
                if et == "markdown":
                    body = el.markdown.body
                    if m := STEP_RE.search(body):
                        self.steps.setdefault(int(m.group(1)), now)
                    if m := CODE_RE.search(body):
                        self.code = m.group(1)
                    self.texts.append(body)
                elif et == "button":
                    self.buttons[el.button.label] = el.button.id
            elif kind == "new_session" and not fm.metadata.run.fragment_ids:
                self.auto.clear()  # a full run announces its fragments' timers again (the browser's way)
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "auto_rerun":
                fid, interval = fm.auto_rerun.fragment_id, fm.auto_rerun.interval
                self.auto[fid] = interval
                if fid not in self.tickers or self.tickers[fid].done():
                    self.tickers[fid] = asyncio.ensure_future(self._tick(fid))
            elif kind == "stop_auto_rerun":
                for fid in fm.stop_auto_rerun.fragment_ids:
                    self.auto.pop(fid, None)
            elif kind == "script_finished":
                self.runs_finished += 1

    async def _tick(self, fid: str) -> None:
        """The browser's timer for a `run_every` fragment."""
        while fid in self.auto and not self.closed:
            await asyncio.sleep(self.auto[fid])
            if fid in self.auto:
                await self.rerun(fragment_id=fid, auto=True)

    async def wait(self, what, timeout: float, label: str):
        deadline = time.monotonic() + timeout
        while not (got := what()):
            if time.monotonic() > deadline or self.closed:
                raise RuntimeError(f"timed out waiting for {label}")
            await asyncio.sleep(0.05)
        return got

    def close(self) -> None:
        for t in [*self.tasks, *self.tickers.values()]:
            t.cancel()
        if self.conn is not None:
            self.conn.close()


# -- real browsers alongside ----------------------------------------------------------------------------------------
class Browsers:
    """A few real students: one headless Chromium, one page per student on the room link. Each page's script
    (SEEN_JS) notes when its screen first showed each step; `seen(n)` reads those times."""

    def __init__(self) -> None:
        self.pw = self.browser = None
        self.pages: list = []

    async def open(self, urls: list[str], code: str, n: int) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:
            raise RuntimeError("--browsers needs Playwright (the dev extra); pass --browsers 0") from exc
        if not Path(CHROMIUM).exists():
            raise RuntimeError(f"--browsers needs Chromium at {CHROMIUM}; pass --browsers 0")
        self.pw = await async_playwright().start()
        self.browser = await self.pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = await self.browser.new_context(viewport={"width": 1280, "height": 900})
        await ctx.add_init_script(SEEN_JS)
        for i in range(n):
            page = await ctx.new_page()
            await page.goto(f"{urls[i % len(urls)]}/classroom?room={code}")
            self.pages.append(page)

    async def seen(self, n: int) -> list[float | None]:
        """When (epoch s) each page first showed step `n`, None where it has not."""
        out = []
        for page in self.pages:
            ms = await page.evaluate("n => window.__kcSeen && window.__kcSeen[n]", str(n))
            out.append(None if ms is None else ms / 1000)
        return out

    async def close(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.pw is not None:
            await self.pw.stop()


# -- the run ----------------------------------------------------------------------------------------------------
async def lecture(
    urls: list[str], students: int, steps: int, interval: float, idle: float, meter: Meter, browsers: int = 0
) -> dict:
    sampler = asyncio.ensure_future(meter.sample())
    real = Browsers()
    try:
        return await _lecture(urls, students, steps, interval, idle, meter, browsers, real)
    finally:
        sampler.cancel()
        await real.close()


async def _lecture(
    urls: list[str],
    students: int,
    steps: int,
    interval: float,
    idle: float,
    meter: Meter,
    browsers: int,
    real: Browsers,
) -> dict:
    teacher = Session(urls[0])
    await teacher.open()
    await teacher.wait(lambda: "Start a room" in teacher.buttons, 60, "the Classroom lobby")
    await teacher.click("Start a room")
    code = await teacher.wait(lambda: teacher.code, 60, "the room code")
    await teacher.wait(lambda: "Step" in teacher.buttons, 60, "the teacher's Step button")
    started = time.monotonic()
    crowd = [Session(urls[i % len(urls)], query=f"room={code}") for i in range(students)]
    for i in range(0, students, 10):  # a class arrives over a few seconds, not in one instant
        await asyncio.gather(*(s.open() for s in crowd[i : i + 10]))
    await asyncio.gather(*(s.wait(lambda s=s: 0 in s.steps, 120, "a student's first picture") for s in crowd))
    if browsers:
        await real.open(urls, code, browsers)
        deadline = time.monotonic() + 120
        while None in await real.seen(0):
            if time.monotonic() > deadline:
                raise RuntimeError("a browser student never showed the room's picture (step 0)")
            await asyncio.sleep(0.25)
    joined_s = time.monotonic() - started
    await asyncio.sleep(2)  # everyone's poll fragment ticking
    cpu0, t0 = meter.cpu(), time.monotonic()
    await asyncio.sleep(idle)
    idle_cpu = 100 * (meter.cpu() - cpu0) / (time.monotonic() - t0)
    per_step, lost, jitter = [], set(), random.Random(20)
    lost_browsers: set[int] = set()
    cpu0, t0, gen0 = meter.cpu(), time.monotonic(), time.process_time()
    for n in range(1, steps + 1):
        pressed, pressed_wall = time.monotonic(), time.time()  # (a browser page notes epoch time)
        await teacher.click("Step")
        deadline = pressed + LOST_AFTER_S
        while time.monotonic() < deadline and not all(n in s.steps or s.closed for s in crowd):
            await asyncio.sleep(0.05)
        got = [1000 * (s.steps[n] - pressed) for s in crowd if n in s.steps]
        lost |= {i for i, s in enumerate(crowd) if n not in s.steps}
        shown: list[float | None] = []
        while browsers:
            shown = await real.seen(n)
            if None not in shown or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        lost_browsers |= {i for i, t in enumerate(shown) if t is None}
        q = statistics.quantiles(got, n=20, method="inclusive") if len(got) > 1 else got * 19
        per_step.append(
            {
                "step": n,
                "received": len(got),
                "p50_ms": round(statistics.median(got), 1) if got else None,
                "p95_ms": round(q[18], 1) if got else None,
                "max_ms": round(max(got), 1) if got else None,
                # how the arrivals spread over the step (all at the end, or one after another)
                "deciles_ms": [round(x) for x in statistics.quantiles(got, n=10)] if len(got) > 1 else None,
            }
        )
        if browsers:  # each browser student's screen: step pressed -> narration and both charts drawn
            per_step[-1]["browsers_ms"] = [
                None if t is None else round(1000 * (t - pressed_wall)) for t in shown
            ]
        print(f"# step {n}: {per_step[-1]}", file=sys.stderr, flush=True)
        # every `interval` s on average, +-25 %: a step must not always land just after the students' polls
        wait = interval * (0.75 + 0.5 * jitter.random())
        await asyncio.sleep(max(0.0, wait - (time.monotonic() - pressed)))
    stepping_cpu = 100 * (meter.cpu() - cpu0) / (time.monotonic() - t0)
    # this load generator's own CPU meanwhile (it shares the machine: near 100 % it, not the app, is the limit)
    generator_cpu = 100 * (time.process_time() - gen0) / (time.monotonic() - t0)
    lost |= {i for i, s in enumerate(crowd) if s.closed}
    for s in [teacher, *crowd]:
        s.close()
    return {
        "students": students,
        "browsers": browsers,
        "lost_browsers": len(lost_browsers),
        "processes": len(urls),
        "joined_s": round(joined_s, 1),
        "idle_cpu_pct_one_core": round(idle_cpu, 1),
        "stepping_cpu_pct_one_core": round(stepping_cpu, 1),
        "generator_stepping_cpu_pct_one_core": round(generator_cpu, 1),
        "peak_rss_mb": round(meter.peak_rss / 1e6, 1),
        "lost_sessions": len(lost),
        "per_step": per_step,
    }


def measure(
    students: int, steps: int, interval: float, processes: int, idle: float, browsers: int = 0
) -> dict:
    with tempfile.TemporaryDirectory(prefix="lecture-hall-") as tmp:
        log_dir = Path(tmp)
        procs: list[subprocess.Popen] = []
        try:
            env: dict[str, str] = {"KC_ROOM_STORE": ""}
            if processes > 1:
                redis_proc, redis_url = start_redis(log_dir)
                procs.append(redis_proc)
                env["KC_ROOM_STORE"] = redis_url
            apps = [
                start_streamlit(log_dir / f"streamlit-{i}.log", env, timeout=90) for i in range(processes)
            ]
            procs += [p for p, _ in apps]
            meter = Meter([p.pid for p, _ in apps])
            return asyncio.run(
                lecture([u for _, u in apps], students, steps, interval, idle, meter, browsers)
            )
        finally:
            for p in reversed(procs):
                stop(p)


def summary(d: dict) -> dict:
    rows = [r for r in d["per_step"] if r["p95_ms"] is not None]
    return {
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rows), 1) if rows else None,
        "p95_ms": max((r["p95_ms"] for r in rows), default=None),  # the worst step's p95
    }


def results(d: dict, name: str) -> list[Result]:
    s = summary(d)
    who = f"{d['students']} students, {d['processes']} process{'es' if d['processes'] > 1 else ''}"
    browsers = d.get("browsers", 0)
    lost = f"{d['lost_sessions']} lost"
    if browsers:
        who += f" + {browsers} Chromium"
        lost += f", {d['lost_browsers']} Chromium never showed a step"
    ok = s["p95_ms"] is not None and d["lost_sessions"] == 0 and d.get("lost_browsers", 0) == 0
    detail = {**d, **s}
    return [
        Result(
            f"{name}_step",
            s["p95_ms"],
            f"ms ({who}, {lost})",
            f"<= {P95_BAR_MS:,} ms, none lost, 200 followers",
            ok and s["p95_ms"] <= P95_BAR_MS,
            note="no step reached the students",
            detail=detail,
        ),
        Result(
            f"{name}_idle_cpu",
            d["idle_cpu_pct_one_core"],
            f"% of one core ({who}, idle room)",
            f"<= {IDLE_CPU_BAR:.0f} % with 200 followers",
            d["idle_cpu_pct_one_core"] <= IDLE_CPU_BAR,
        ),
        Result(
            f"{name}_rss",
            d["peak_rss_mb"],
            f"MB peak RSS ({who})",
            f"<= {RSS_BAR_MB:,} MB",
            d["peak_rss_mb"] <= RSS_BAR_MB,
        ),
    ]


def run(quick: bool = False) -> list[Result]:
    """`python -m bench`: 200 followers on one process, then 100 on each of two with Redis (the issue's bars);
    `--quick`: two students, two steps, one process (a smoke run of the protocol client)."""
    if quick:
        return results(measure(students=2, steps=2, interval=1.0, processes=1, idle=1.0), "lecture_hall")
    out = results(measure(200, steps=30, interval=2.0, processes=1, idle=10.0, browsers=3), "lecture_hall")
    try:
        out += results(
            measure(200, steps=30, interval=2.0, processes=2, idle=10.0, browsers=3), "lecture_hall_redis"
        )
    except RuntimeError as exc:  # no redis-server: say so instead of a figure
        out.append(
            Result("lecture_hall_redis_step", None, "ms", f"<= {P95_BAR_MS:,} ms", None, note=str(exc))
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.lecture_hall", description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=20, help="student sessions (the bar is for 200)")
    ap.add_argument("--steps", type=int, default=10, help="teacher steps")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between teacher steps")
    ap.add_argument("--processes", type=int, default=1, choices=(1, 2), help="2: two app processes on Redis")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle room measured for CPU")
    ap.add_argument("--browsers", type=int, default=3, help="real Chromium students alongside (0: none)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    if args.students < 1 or args.steps < 1:
        ap.error("--students and --steps: give at least 1")
    if not 0 <= args.browsers <= 20:
        ap.error("--browsers: give 0 to 20 (each is a Chromium page on the same machine)")
    d = measure(args.students, args.steps, args.interval, args.processes, args.idle, args.browsers)
    name = "lecture_hall" if args.processes == 1 else "lecture_hall_redis"
    for r in results(d, name):
        print(r.line())
    if args.json:
        args.json.write_text(json.dumps(d, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
