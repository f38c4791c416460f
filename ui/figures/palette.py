"""One meaning, one colour: every colour a figure uses to *say* something is named here, once.

A student learns a colour's meaning from a legend and then trusts it everywhere, so no two meanings may
share a colour in one picture (tests/ui/test_palette.py checks the built figures). The sets are kept apart
by their CIE Lab distance (ΔE76 ≥ 25 between any two colours of one picture):

- replica states (diagram): in sync (filled = leader, outlined = follower), leader elected, out of ISR,
  failure (broker down, partition offline, record lost); the yellow highlight ring of the current step;
  the followed record's route; the active controller;
- request kinds on the wire (`MESSAGE_FAMILIES`) and consumer / share groups (`GROUP_COLOURS`): disjoint;
- record keys (log strips, `KEY_COLOURS`): 24 colours, handed out per picture so that keys shown
  together never share one, nor a group's colour shown next to them (`key_colours`); further keys are grouped as "other keys", a null key is
  an empty (white) cell. "Above the high watermark" is a hatch and a dashed outline, never a paler tint.

Text, grid and panel greys carry no meaning and are not part of the palette.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

# Replica and broker states (Okabe & Ito 2008 "Color Universal Design", safe for colour-blind readers).
IN_SYNC = "#0072B2"  # blue: an in-sync replica (the leader filled, a follower outlined)
LEADER_ELECT = "#B3D4EA"  # light blue: chosen by the controller, not serving yet
OUT_OF_ISR = "#E69F00"  # orange: a follower that fell out of the ISR / a broker cut off or fenced
FAILURE = "#D55E00"  # vermillion: broker down, partition offline, record lost
FAILURE_FILL = "#FBE3D6"  # the same meaning as a background
ACTIVE_CONTROLLER = "#000000"  # black: the active controller and what it sends
HIGHLIGHT = "#F0E442"  # yellow: the actors of the current step (a ring)
HIGHLIGHT_FILL = "rgba(240,228,66,0.45)"
ROUTE = "#CC79A7"  # reddish purple: the followed record's route (a lost record's route is FAILURE)

# Request kinds on the wire: (legend label, colour). Disjoint from GROUP_COLOURS and the states above.
MESSAGE_FAMILIES: dict[str, tuple[str, str]] = {
    "produce": ("Produce (+ ack)", "#F032E6"),
    "fetch": ("Consumer fetch", "#56B4E9"),
    "replication": ("Follower fetch", "#009E73"),
    "group": ("Group protocol", "#000075"),
    "control": ("Controller / metadata", ACTIVE_CONTROLLER),
}

# Consumer groups and share groups, by rank of their id (see `group_colour`).
GROUP_COLOURS = ("#911EB4", "#808000", "#F99379", "#654522", "#2CA02C", "#882255")

# Record keys: 24 colours at least ΔE 25 apart (picked greedily from Okabe-Ito, Kelly's and Trubetskoy's
# lists of maximally distinct colours), none near white, the greys or the route / failure colours.
KEY_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#000075",
    "#F032E6",
    "#BFEF45",
    "#E6194B",
    "#654522",
    "#808000",
    "#F99379",
    "#AAFFC3",
    "#17BECF",
    "#4363D8",
    "#2CA02C",
    "#800000",
    "#DDCC77",
    "#FFE119",
    "#DCBEFF",
    "#882255",
    "#911EB4",
    "#604E97",
    "#2B3D26",
    "#AA4499",
    "#56B4E9",
)
NULL_KEY = "#FFFFFF"  # a record without a key: an empty cell (outlined), not another colour
NULL_KEY_LINE = "#9AA1AC"
OTHER_KEYS = "#A3A8B0"  # the 21st key and beyond, all alike: the legend says "other keys"
NOT_COMMITTED = "#1F2430"  # the hatch and dashed outline of a record above the high watermark
HATCH = "/"  # plotly pattern shape of the legend entry for "above the high watermark"


def _natural(s: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", s))


def key_text(key: bytes | str | None) -> str | None:
    if key is None:
        return None
    return key.decode("utf-8", "replace") if isinstance(key, bytes | bytearray) else str(key)


def key_colours(keys: Iterable[bytes | str | None], avoid: Iterable[str] = ()) -> dict[str | None, str]:
    """A colour for every key shown together, never the same one twice.

    Each key prefers the slot its CRC-32 names (so a key keeps its colour while the keys around it change)
    and takes the next free one when that is taken; keys are placed in natural order ("user-2" before
    "user-10"), and those beyond the free colours share OTHER_KEYS. A null key is NULL_KEY. Colours in
    `avoid` (the groups drawn in the same picture) are never handed out."""
    texts = sorted({t for t in map(key_text, keys) if t is not None}, key=_natural)
    out: dict[str | None, str] = {None: NULL_KEY}
    taken = {c.upper() for c in avoid}
    free = [c.upper() not in taken for c in KEY_COLOURS]
    for t in texts:
        if not any(free):
            out[t] = OTHER_KEYS
            continue
        i = zlib.crc32(t.encode()) % len(KEY_COLOURS)
        while not free[i]:
            i = (i + 1) % len(KEY_COLOURS)
        free[i] = False
        out[t] = KEY_COLOURS[i]
    return out


def group_colour(group_ids: Iterable[str], group_id: str | None, fallback: str = "#6B7280") -> str:
    """Colour of a consumer or share group: by its rank among the sorted group ids (stable across states)."""
    if group_id is None:
        return fallback
    ids = sorted(set(group_ids) | {group_id})
    return GROUP_COLOURS[ids.index(group_id) % len(GROUP_COLOURS)]


def colour_group_ids(snap) -> list[str]:
    """Every group id a picture can show (consumer groups, their consumers' groups, share groups): the
    ranking `group_colour` uses, so a group has the same colour in every figure."""
    ids = {g.group_id for g in snap.groups} | {k.group_id for k in snap.consumers if k.group_id}
    return sorted(ids | {g.group_id for g in getattr(snap, "share_groups", ())})
