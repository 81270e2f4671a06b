"""How the screen encoder follows the receiver's bitrate estimate (pure, no codec)."""

from __future__ import annotations

from peer.encoder import EncoderTuning, RateFollower, follow_bitrate

TUNING = EncoderTuning(min_bitrate=150_000, start_bitrate=1_200_000, max_bitrate=2_500_000)


def test_small_moves_never_reopen_the_codec() -> None:
    for requested in (1_000_000, 1_100_000, 1_300_000, 1_700_000):
        assert follow_bitrate(1_200_000, requested, since_change=60.0) == 1_200_000


def test_a_large_fall_is_followed_but_not_at_once_after_a_change() -> None:
    assert follow_bitrate(1_200_000, 500_000, since_change=1.0) == 1_200_000
    assert follow_bitrate(1_200_000, 500_000, since_change=2.0) == 500_000


def test_a_large_rise_waits_and_at_most_doubles() -> None:
    assert follow_bitrate(500_000, 2_000_000, since_change=4.9) == 500_000
    assert follow_bitrate(500_000, 2_000_000, since_change=5.0) == 1_000_000
    assert follow_bitrate(500_000, 800_000, since_change=5.0) == 800_000


def test_a_receiver_estimate_sawing_up_and_down_reopens_rarely() -> None:
    """An estimate that drops to the floor and creeps back up by 10 % every 1.3 s (seen
    from a browser receiving keyframe bursts) changes the rate a few times, not every step."""
    rate = RateFollower(TUNING)
    changes = 0
    aiortc_rate, aiortc_changes = TUNING.start_bitrate, 0  # aiortc: reopen on any 10 % move
    now, estimate = 0.0, 150_000.0
    for _ in range(60):  # 78 s
        before = rate.applied
        rate.request(int(estimate), now)
        changes += rate.applied != before
        wanted = TUNING.clamp(int(estimate))
        if abs(wanted - aiortc_rate) / aiortc_rate > 0.1:
            aiortc_rate, aiortc_changes = wanted, aiortc_changes + 1
        now += 1.3
        estimate = min(estimate * 1.1, 2_500_000)
    assert rate.applied >= 1_500_000  # it did follow the rise
    assert changes * 2 <= aiortc_changes, (changes, aiortc_changes)


def test_requests_are_clamped_to_the_tuning() -> None:
    rate = RateFollower(TUNING)
    rate.request(10_000, 0.0)
    assert rate.applied == 150_000
    rate.request(50_000_000, 100.0)
    assert rate.applied == 300_000  # at most twice per step


def test_while_voice_is_on_the_screen_leaves_it_room_on_a_thin_link() -> None:
    from peer.encoder import screen_share

    assert screen_share(500_000, False) == 500_000
    assert screen_share(500_000, True) == 350_000  # 30 % of a thin link kept free
    assert screen_share(150_000, True) == 86_000  # at least 64 kbit/s ...
    assert screen_share(60_000, True) == 15_000  # ... but the screen keeps a quarter
    assert screen_share(4_000_000, True) == 3_936_000  # a wide link: only voice's own room
