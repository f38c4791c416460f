"""Learners arriving at once on a freshly started app process (the hosted demo after a restart): every first
Playground run draws its page, none shows an exception. (plotly looks pandas up in sys.modules without importing it, so a first run once drew its figures
against another session's half-imported pandas: "partially initialized module 'pandas' has no attribute
'Series'"; ui/navigation.py imports pandas before any page run.) Each session is spoken to over Streamlit's own
websocket protocol, as bench/lecture_hall.py's students are."""

from __future__ import annotations

import asyncio

import pytest

from bench.lecture_hall import Session
from bench.servers import start_streamlit, stop

ARRIVING = 8  # sessions opened at the same moment (without the fix, 3 runs of 3 showed the error)


class FirstRun(Session):
    """A session that keeps what its page showed: markdown texts and exception messages."""

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.errors: list[str] = []
        while True:
            data = await self.conn.read_message()
            if data is None:
                self.closed = True
                return
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                if el.WhichOneof("type") == "exception":
                    self.errors.append(el.exception.message)
                elif el.WhichOneof("type") == "markdown":
                    self.texts.append(el.markdown.body)
            elif kind == "script_finished":
                self.runs_finished += 1


async def _arrive(url: str) -> list[FirstRun]:
    crowd = [FirstRun(url, page="playground") for _ in range(ARRIVING)]
    await asyncio.gather(*(s.open() for s in crowd))
    await asyncio.gather(*(s.wait(lambda s=s: s.runs_finished, 120, "a first page run") for s in crowd))
    for s in crowd:
        s.conn.close()
    return crowd


@pytest.mark.timeout(300)
def test_sessions_arriving_at_once_on_a_fresh_process_all_draw_their_page(tmp_path):
    proc, url = start_streamlit(tmp_path / "streamlit.log", timeout=90)
    try:
        crowd = asyncio.run(_arrive(url))
    finally:
        stop(proc)
    assert [s.errors for s in crowd] == [[]] * ARRIVING
    assert all(s.texts for s in crowd), "a session's first run drew no text"
