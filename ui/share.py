"""Shareable links: the scenario and the commands applied so far, packed into two URL query parameters.

`?step=15&state=<zlib+base64url JSON>`: the engine is deterministic, so scenario + commands + step
reproduce the exact picture. The state carries its version (`v`, engine/timeline.py): a link made before
visible steps has none and replays one event per step, so it still lands on the picture it was made on. Everything read back from a URL is validated (pydantic here, the engine's
own validators for the scenario and commands); a bad link raises `ShareError` naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import UserInputError

MAX_STATE_CHARS = 8000
MAX_STEP = 100_000


class ShareError(UserInputError):
    """A link whose query parameters do not describe a run; the message says which parameter and why."""


class SharedLink(BaseModel):
    """The query parameters of a shared Playground link."""

    model_config = ConfigDict(extra="ignore")
    step: int = Field(0, ge=0, le=MAX_STEP, description="visible steps taken")
    state: str = Field(min_length=4, max_length=MAX_STATE_CHARS, pattern=r"^[A-Za-z0-9_-]+={0,2}$")


def encode_state(state: dict[str, Any]) -> dict[str, str]:
    """Timeline.to_state() -> {"step": ..., "state": ...} for st.query_params."""
    body = {k: v for k, v in state.items() if k != "position"}
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    return {"step": str(int(state.get("position", 0))), "state": packed}


def decode_params(params: dict[str, str], page: str = "the Playground") -> dict[str, Any]:
    """Query parameters -> a dict for Timeline.from_state (raises ShareError with a readable reason);
    `page` names where a good link comes from (the Compare page shares its runs the same way)."""
    try:
        link = SharedLink.model_validate(dict(params))
    except ValidationError as exc:  # said in plain words: no validator jargon, no regular expression
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "state"
        allowed = {
            "step": f"a whole number from 0 to {MAX_STEP}",
            "state": f"the text a Share link carries: 4 to {MAX_STATE_CHARS} letters, digits, - and _",
        }
        got = str(params.get(field, ""))
        shown = f", got '{got[:20]}…'" if len(got) > 20 else f", got '{got}'" if field in params else ""
        raise ShareError(
            f"Link parameter '{field}' is not valid: it must be "
            f"{allowed.get(field, f'as in a link copied from {page}')}{shown}."
        ) from None
    text = link.state + "=" * (-len(link.state) % 4)
    try:
        raw = zlib.decompressobj().decompress(base64.urlsafe_b64decode(text), 256 * 1024)
        body = json.loads(raw)
    except (
        binascii.Error,
        zlib.error,
        ValueError,
    ):  # never the exception's name: it means nothing to a learner
        raise ShareError(
            "Link parameter 'state' could not be read: it is not the packed run a Share link carries "
            "(the link may have been cut short or edited); copy the whole link again from the "
            f"Share box of {page}."
        ) from None
    if not isinstance(body, dict) or "scenario" not in body:
        raise ShareError("Link parameter 'state' does not contain a scenario: copy the link again.")
    return {**body, "position": link.step}
