"""Token buckets with explicit times and no event loop."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling.ratelimit import Buckets, GuessLimiter, LoginLimiter, Rate


def test_burst_then_wait_for_refill() -> None:
    b = Buckets(Rate(burst=3, per_second=0.5))
    for _ in range(3):
        assert b.wait("a", 0.0) == 0.0
        b.take("a", 0.0)
    assert b.wait("a", 0.0) == pytest.approx(2.0)
    assert b.wait("a", 1.0) == pytest.approx(1.0)
    assert b.wait("a", 2.0) == 0.0
    b.take("a", 2.0)
    assert b.wait("a", 2.0) == pytest.approx(2.0)


def test_wait_takes_nothing() -> None:
    b = Buckets(Rate(1, 1.0))
    for _ in range(10):
        assert b.wait("a", 0.0) == 0.0
    assert len(b) == 0


def test_tokens_never_go_negative() -> None:
    b = Buckets(Rate(2, 1.0))
    for _ in range(50):
        b.take("a", 0.0)
    # from zero, one token takes one second, not 49
    assert b.wait("a", 0.0) == pytest.approx(1.0)
    assert b.wait("a", 1.0) == 0.0


def test_keys_are_independent() -> None:
    b = Buckets(Rate(1, 0.1))
    b.take("a", 0.0)
    assert b.wait("a", 0.0) == pytest.approx(10.0)
    assert b.wait("b", 0.0) == 0.0


def test_full_bucket_is_forgotten() -> None:
    b = Buckets(Rate(2, 1.0))
    b.take("a", 0.0)
    assert len(b) == 1
    assert b.wait("a", 0.5) == 0.0
    assert len(b) == 1  # 1.5 tokens: not full yet
    assert b.wait("a", 1.0) == 0.0
    assert len(b) == 0


def test_clock_going_backwards_refills_nothing() -> None:
    b = Buckets(Rate(1, 1.0))
    b.take("a", 100.0)
    assert b.wait("a", 50.0) == pytest.approx(1.0)
    assert b.wait("a", 100.5) == pytest.approx(0.5)


def test_memory_is_capped_least_recently_charged_first() -> None:
    b = Buckets(Rate(5, 0.001), max_keys=3)
    for key in ("a", "b", "c"):
        b.take(key, 0.0)
    b.take("a", 1.0)  # "a" is now the most recently charged
    b.take("d", 2.0)
    assert len(b) == 3
    # "b" was forgotten: it reads as a full bucket again
    assert b.wait("b", 2.0) == 0.0
    b.take("b", 2.0)
    assert len(b) == 3
    for key in ("a", "d", "b"):
        assert key in b._buckets


def test_many_keys_stay_bounded() -> None:
    b = Buckets(Rate(1, 0.01), max_keys=1000)
    for i in range(20_000):
        b.take(f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(b) == 1000


@pytest.mark.parametrize(
    "burst, per_second",
    [(0, 1.0), (0.5, 1.0), (1, 0.0), (1, -1.0), (math.inf, 1.0), (1, math.nan)],
)
def test_bad_rates_are_refused(burst: float, per_second: float) -> None:
    with pytest.raises(ValueError):
        Rate(burst, per_second)


def test_bad_max_keys_is_refused() -> None:
    with pytest.raises(ValueError):
        Buckets(Rate(1, 1), max_keys=0)


@given(
    steps=st.lists(
        st.tuples(st.floats(0, 30, allow_nan=False), st.booleans(), st.sampled_from("abc")),
        max_size=60,
    )
)
def test_wait_matches_a_simple_model(steps: list[tuple[float, bool, str]]) -> None:
    rate = Rate(3, 0.25)
    b = Buckets(rate)
    model = {k: 3.0 for k in "abc"}
    last = {k: 0.0 for k in "abc"}
    now = 0.0
    for dt, take, key in steps:
        now += dt
        for k in model:
            model[k] = min(3.0, model[k] + (now - last[k]) * 0.25)
            last[k] = now
        expected = 0.0 if model[key] >= 1 else (1 - model[key]) / 0.25
        assert b.wait(key, now) == pytest.approx(expected, abs=1e-6)
        if take:
            b.take(key, now)
            model[key] = max(0.0, model[key] - 1)
        assert len(b) <= 3


# --------------------------------------------------------------------------- guess limiter


def test_guess_limiter_per_client() -> None:
    g = GuessLimiter()
    for _ in range(10):
        assert g.wait("198.51.100.1", 0.0) == 0.0
        g.failed("198.51.100.1", 0.0)
    assert g.wait("198.51.100.1", 0.0) == pytest.approx(6.0)
    assert g.wait("198.51.100.2", 0.0) == 0.0
    assert g.wait("198.51.100.1", 6.0) == 0.0


def test_guess_limiter_overall_limits_many_clients() -> None:
    g = GuessLimiter(per_client=Rate(10, 1 / 6), overall=Rate(300, 5.0))
    for i in range(300):
        client = f"203.0.113.{i % 250}/{i // 250}"
        assert g.wait(client, 0.0) == 0.0
        g.failed(client, 0.0)
    # a client that never guessed is held back by the overall bucket
    assert g.wait("192.0.2.77", 0.0) == pytest.approx(0.2)
    assert g.wait("192.0.2.77", 0.2) == 0.0


def test_right_guesses_cost_nothing() -> None:
    g = GuessLimiter(per_client=Rate(1, 0.001))
    for _ in range(100):
        assert g.wait("a", 0.0) == 0.0  # only failed() spends


# --------------------------------------------------------------------------- login limiter


def test_login_limiter_per_user_across_addresses() -> None:
    lim = LoginLimiter()
    for i in range(5):
        assert lim.begin(f"192.0.2.{i}", "alice", 0.0) == 0.0
    assert lim.wait("192.0.2.99", "alice", 0.0) == pytest.approx(12.0)
    assert lim.wait("192.0.2.99", "ALICE", 0.0) == pytest.approx(12.0)  # same name
    assert lim.wait("192.0.2.99", "bob", 0.0) == 0.0


def test_login_limiter_per_client_across_users() -> None:
    lim = LoginLimiter()
    for i in range(10):
        assert lim.begin("192.0.2.1", f"user{i}", 0.0) == 0.0
    assert lim.wait("192.0.2.1", "someone-else", 0.0) == pytest.approx(6.0)
    assert lim.wait("192.0.2.2", "someone-else", 0.0) == 0.0


def test_login_limiter_long_usernames_share_a_bounded_key() -> None:
    lim = LoginLimiter(per_user=Rate(1, 0.001))
    lim.begin("192.0.2.1", "x" * 10_000, 0.0)
    assert lim.wait("192.0.2.2", "x" * 20_000, 0.0) > 0.0
    assert all(len(k) <= 256 for k in lim.per_user._buckets)


def test_login_limiter_charges_before_the_check_and_refunds_success() -> None:
    """Attempts in flight at once each take a token: the sixth concurrent one is refused
    before any password was checked. A right password gives its token back."""
    lim = LoginLimiter()
    for i in range(5):
        assert lim.begin(f"192.0.2.{i}", "alice", 0.0) == 0.0  # none finished yet
    assert lim.begin("192.0.2.9", "alice", 0.0) > 0.0
    lim.succeeded("192.0.2.4", "alice", 0.0)
    assert lim.begin("192.0.2.9", "alice", 0.0) == 0.0
    assert lim.begin("192.0.2.9", "alice", 0.0) > 0.0


def test_give_back_never_overfills() -> None:
    b = Buckets(Rate(2, 1.0))
    b.give_back("k", 0.0)  # full already: nothing to do
    assert b.wait("k", 0.0) == 0.0 and len(b) == 0
    b.take("k", 0.0)
    b.take("k", 0.0)
    b.give_back("k", 0.0)
    b.take("k", 0.0)
    assert b.wait("k", 0.0) > 0.0


def test_one_ipv6_host_is_one_client_across_its_64() -> None:
    """A host with a /64 of its own cannot spread code guesses over its addresses."""
    g = GuessLimiter(per_client=Rate(3, 0.001))
    for i in range(3):
        g.failed(f"2001:db8:1:2::{i + 1}", 0.0)
    assert g.wait("2001:db8:1:2:ffff::9", 0.0) > 0.0
    assert g.wait("2001:db8:1:3::1", 0.0) == 0.0  # another /64 is another client
    assert g.wait("198.51.100.7", 0.0) == 0.0
