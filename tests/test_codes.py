"""The session-code registry, with explicit times and no event loop."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from signaling.codes import CodeError, CodeRegistry, IssuedCode
from wire import protocol

TTL = 900.0


def scripted(*codes: str) -> Callable[[], str]:
    """A draw function that yields the given codes in order."""
    it: Iterator[str] = iter(codes)
    return lambda: next(it)


def refused(registry: CodeRegistry, code: str, now: float) -> str:
    with pytest.raises(CodeError) as info:
        registry.claim(code, now)
    assert info.value.message
    assert info.value.code in protocol.ERROR_CODES
    return info.value.code


def test_issue_gives_eight_digits_and_expiry() -> None:
    reg = CodeRegistry(TTL)
    issued = reg.issue("sess-0001", now=100.0)
    assert isinstance(issued, IssuedCode)
    assert re.fullmatch(r"[0-9]{8}", issued.code)
    assert issued.session_id == "sess-0001"
    assert issued.expires_at == 1000.0
    assert len(reg) == 1
    assert reg.next_deadline() == 1000.0


def test_default_codes_differ() -> None:
    reg = CodeRegistry(TTL)
    codes = {reg.issue(f"sess-{i:04d}", now=0.0).code for i in range(500)}
    assert len(codes) == 500


def test_claim_once_then_used() -> None:
    reg = CodeRegistry(TTL, draw=scripted("12345678"))
    reg.issue("sess-a", now=0.0)
    assert reg.claim("12345678", now=10.0) == "sess-a"
    assert len(reg) == 0
    assert refused(reg, "12345678", now=11.0) == "used_code"
    assert reg.next_deadline() is None


def test_unknown_code() -> None:
    reg = CodeRegistry(TTL, draw=scripted("12345678"))
    reg.issue("sess-a", now=0.0)
    assert refused(reg, "87654321", now=1.0) == "unknown_code"
    assert refused(reg, "", now=1.0) == "unknown_code"
    assert refused(reg, "not a code", now=1.0) == "unknown_code"
    assert len(reg) == 1  # a wrong guess changes nothing


def test_expired_before_expire_is_called() -> None:
    reg = CodeRegistry(TTL, draw=scripted("12345678"))
    reg.issue("sess-a", now=0.0)
    assert refused(reg, "12345678", now=900.0) == "expired_code"  # expiry is inclusive
    # the session is still reported by expire(), exactly once
    assert reg.expire(now=900.0) == ["sess-a"]
    assert reg.expire(now=901.0) == []
    assert refused(reg, "12345678", now=902.0) == "expired_code"


def test_claim_just_before_expiry_succeeds() -> None:
    reg = CodeRegistry(TTL, draw=scripted("12345678"))
    reg.issue("sess-a", now=0.0)
    assert reg.claim("12345678", now=899.999) == "sess-a"
    assert reg.expire(now=1000.0) == []


def test_expire_reports_in_deadline_order_and_skips_claimed() -> None:
    reg = CodeRegistry(TTL, draw=scripted("00000001", "00000002", "00000003"))
    reg.issue("sess-a", now=0.0)
    reg.issue("sess-b", now=5.0)
    reg.issue("sess-c", now=10.0)
    assert reg.claim("00000002", now=20.0) == "sess-b"
    assert reg.next_deadline() == 900.0
    assert reg.expire(now=899.0) == []
    assert reg.expire(now=2000.0) == ["sess-a", "sess-c"]
    assert len(reg) == 0
    assert reg.next_deadline() is None


def test_revoke_kills_the_code_as_used_and_is_idempotent() -> None:
    reg = CodeRegistry(TTL, draw=scripted("12345678"))
    reg.issue("sess-a", now=0.0)
    reg.revoke("sess-a")
    reg.revoke("sess-a")
    reg.revoke("never-issued")
    assert len(reg) == 0
    assert reg.next_deadline() is None
    assert refused(reg, "12345678", now=1.0) == "used_code"
    assert reg.expire(now=5000.0) == []


def test_reissue_for_a_session_replaces_its_code() -> None:
    reg = CodeRegistry(TTL, draw=scripted("11111111", "22222222"))
    reg.issue("sess-a", now=0.0)
    second = reg.issue("sess-a", now=100.0)
    assert second.code == "22222222"
    assert len(reg) == 1
    assert refused(reg, "11111111", now=101.0) == "used_code"
    assert reg.next_deadline() == 1000.0
    assert reg.claim("22222222", now=102.0) == "sess-a"


def test_issue_skips_live_and_remembered_codes() -> None:
    reg = CodeRegistry(
        TTL, draw=scripted("11111111", "11111111", "22222222", "11111111", "22222222", "33333333")
    )
    assert reg.issue("sess-a", now=0.0).code == "11111111"
    assert reg.issue("sess-b", now=0.0).code == "22222222"  # 11111111 is live
    reg.claim("11111111", now=1.0)
    assert reg.issue("sess-c", now=2.0).code == "33333333"  # 11111111 is remembered


def test_exhausted_code_space_is_server_busy() -> None:
    reg = CodeRegistry(TTL, draw=lambda: "42424242")
    reg.issue("sess-a", now=0.0)
    with pytest.raises(CodeError) as info:
        reg.issue("sess-b", now=0.0)
    assert info.value.code == "server_busy"
    assert len(reg) == 1


def test_bad_draw_is_a_programming_error() -> None:
    reg = CodeRegistry(TTL, draw=lambda: "1234")
    with pytest.raises(ValueError, match="8 ASCII digits"):
        reg.issue("sess-a", now=0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ttl": 0.0},
        {"ttl": -1.0},
        {"ttl": TTL, "tombstone_ttl": -1.0},
        {"ttl": TTL, "max_tombstones": -1},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CodeRegistry(**kwargs)  # type: ignore[arg-type]


def test_tombstones_bounded_by_count_oldest_first() -> None:
    reg = CodeRegistry(TTL, max_tombstones=2, draw=scripted("00000001", "00000002", "00000003"))
    for i, sid in enumerate(("sess-a", "sess-b", "sess-c")):
        reg.issue(sid, now=float(i))
        reg.revoke(sid)
    assert refused(reg, "00000001", now=10.0) == "unknown_code"  # forgotten
    assert refused(reg, "00000002", now=10.0) == "used_code"
    assert refused(reg, "00000003", now=10.0) == "used_code"


def test_tombstones_bounded_by_age() -> None:
    reg = CodeRegistry(TTL, tombstone_ttl=60.0, draw=scripted("00000001", "00000002", "00000001"))
    reg.issue("sess-a", now=0.0)
    reg.claim("00000001", now=10.0)
    reg.issue("sess-b", now=40.0)
    reg.claim("00000002", now=50.0)
    assert refused(reg, "00000001", now=69.0) == "used_code"
    assert refused(reg, "00000001", now=70.0) == "unknown_code"  # 60 s after it was used
    assert refused(reg, "00000002", now=70.0) == "used_code"
    # a forgotten code may be issued again
    assert reg.issue("sess-c", now=80.0).code == "00000001"


def test_ten_thousand_live_codes_stay_fast() -> None:
    reg = CodeRegistry(TTL)
    start = time.perf_counter()
    issued = [reg.issue(f"sess-{i:06d}", now=i * 0.01) for i in range(10_000)]
    assert len(reg) == 10_000
    assert len({c.code for c in issued}) == 10_000
    for c in issued[::2]:
        assert reg.claim(c.code, now=200.0) == c.session_id
    for c in issued[1::4]:
        reg.revoke(c.session_id)
    assert reg.next_deadline() == issued[3].expires_at
    ended = reg.expire(now=TTL + 1000.0)
    assert ended == [c.session_id for c in issued[3::4]]
    assert len(reg) == 0
    assert time.perf_counter() - start < 2.0
    # stale heap entries do not pile up
    assert len(reg._deadlines) <= 64


def test_issue_claim_churn_keeps_memory_bounded() -> None:
    reg = CodeRegistry(TTL, max_tombstones=1000)
    for i in range(20_000):
        issued = reg.issue(f"sess-{i:06d}", now=float(i))
        reg.claim(issued.code, now=float(i))
    assert len(reg) == 0
    assert len(reg._tombs) == 1000
    assert len(reg._deadlines) <= 64


# --------------------------------------------------------------------------- model-based


class CodeMachine(RuleBasedStateMachine):
    """Random issue/claim/revoke/expire with advancing time, against a plain model.

    Codes come from a tiny space so that collisions with live and remembered codes happen.
    """

    @initialize(seed=st.integers(0, 2**32))
    def setup(self, seed: int) -> None:
        rng = random.Random(seed)
        self.reg = CodeRegistry(100.0, draw=lambda: f"{rng.randrange(300):08d}")
        self.now = 0.0
        self.count = 0
        self.live: dict[str, tuple[str, float]] = {}  # code -> (session, expires_at)
        self.dead: dict[str, str] = {}  # code -> "used_code" | "expired_code"
        self.reported: set[str] = set()

    @rule(dt=st.floats(0, 60, allow_nan=False))
    def tick(self, dt: float) -> None:
        self.now += dt

    @precondition(lambda self: len(self.live) < 60)
    @rule()
    def issue(self) -> None:
        self.count += 1
        sid = f"sess-{self.count:04d}"
        issued = self.reg.issue(sid, self.now)
        assert issued.code not in self.live
        assert issued.code not in self.dead
        assert issued.expires_at == self.now + 100.0
        self.live[issued.code] = (sid, issued.expires_at)

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        pool = sorted(self.live) + sorted(self.dead) + ["99999999"]
        code = data.draw(st.sampled_from(pool))
        if code in self.live and self.now < self.live[code][1]:
            assert self.reg.claim(code, self.now) == self.live.pop(code)[0]
            self.dead[code] = "used_code"
            return
        with pytest.raises(CodeError) as info:
            self.reg.claim(code, self.now)
        if code in self.live:
            assert info.value.code == "expired_code"
        else:
            assert info.value.code == self.dead.get(code, "unknown_code")

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(sorted(self.live)))
        self.reg.revoke(self.live.pop(code)[0])
        self.dead[code] = "used_code"
        self.reg.revoke(f"sess-{0:04d}")  # unknown: no effect

    @rule()
    def expire(self) -> None:
        due = {c: s for c, (s, exp) in self.live.items() if exp <= self.now}
        ended = self.reg.expire(self.now)
        assert sorted(ended) == sorted(due.values())
        assert not self.reported & set(ended)
        self.reported.update(ended)
        for code in due:
            del self.live[code]
            self.dead[code] = "expired_code"

    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "reg"):
            return
        assert len(self.reg) == len(self.live)
        deadline = min((exp for _, exp in self.live.values()), default=None)
        assert self.reg.next_deadline() == deadline


TestCodeMachine = CodeMachine.TestCase
TestCodeMachine.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
