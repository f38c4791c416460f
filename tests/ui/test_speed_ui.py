"""Issue 17, Speed: the shortcuts that make clicks fast must not change what a student sees."""

from __future__ import annotations

from ui.session import DEFAULT_PRESET, REPLAY_TAIL, PlaygroundSession, preset


def test_a_long_shared_link_copies_the_cluster_rarely_and_back_stays_exact():
    """Issue 17 speed: a link replays 600 steps with few checkpoints; Back and jumps give the original pictures."""
    s = PlaygroundSession.new(preset(DEFAULT_PRESET))
    s.step(600)
    opened = PlaygroundSession.from_link(s.share_params())
    assert opened.position == 600
    assert len(opened.timeline._checkpoints) <= 8  # every 25 steps would be 24 copies of the cluster
    for _ in range(REPLAY_TAIL + 5):
        assert opened.cluster.snapshot() == s.cluster.snapshot(), s.position
        s.back()
        opened.back()
    s.goto(130)
    opened.goto(130)
    assert opened.cluster.snapshot() == s.cluster.snapshot()
    assert opened.cluster.events.seq == s.cluster.events.seq
