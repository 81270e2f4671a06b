"""The consent core, without an event loop."""

from __future__ import annotations

import pytest

from peer.consent import Ask, Consent, Decided, Reply, StartView, State, StopView


def test_screen_session_asks_for_view_and_nothing_runs_before_allow() -> None:
    consent = Consent(can_ask=True)
    actions = consent.paired("screen")
    assert actions == [Ask("view"), State(())]
    assert not consent.allows("view") and consent.pending == {"view"}
    assert consent.answer("view", True) == [
        Decided("view", True, "allowed by the customer"),
        Reply("view", True),
        StartView(),
        State(("view",)),
    ]
    assert consent.allows("view")


def test_deny_then_the_operator_may_ask_again() -> None:
    consent = Consent(can_ask=True)
    consent.paired("screen")
    assert consent.answer("view", False) == [
        Decided("view", False, "denied by the customer"),
        Reply("view", False),
        State(()),
    ]
    assert consent.answer("view", True) == []  # no question pending: ignored
    assert consent.request("view") == [Ask("view")]
    assert consent.request("view") == []  # already asking: no second dialog


def test_pregranted_by_allow_and_headless_denies_the_rest() -> None:
    consent = Consent(frozenset({"view", "clipboard"}), can_ask=False)
    actions = consent.paired("screen")
    assert actions == [
        Decided("view", True, "pre-granted by --allow"),
        StartView(),
        Decided("clipboard", True, "pre-granted by --allow"),
        State(("view", "clipboard")),
    ]
    assert consent.request("control") == [
        Decided("control", False, "not in --allow"),
        Reply("control", False),
        State(("view", "clipboard")),
    ]
    assert consent.request("view") == [Reply("view", True), State(("view", "clipboard"))]


def test_headless_without_view_never_starts_capture() -> None:
    consent = Consent(can_ask=False)
    actions = consent.paired("screen")
    assert StartView() not in actions
    assert Decided("view", False, "not in --allow") in actions
    assert not consent.allows("view")


def test_revoke_and_release_stop_view_at_once() -> None:
    consent = Consent(frozenset({"view", "control"}), can_ask=True)
    consent.paired("screen")
    assert consent.revoke("view") == [
        StopView(),
        Decided("view", False, "revoked by the customer"),
        State(("control",)),
    ]
    assert consent.release("control") == [
        Decided("control", False, "released by the operator"),
        State(()),
    ]
    assert consent.revoke("view") == []  # nothing left to revoke
    # what the customer revoked is asked about again; what the operator released is not
    assert consent.request("view") == [Ask("view")]
    assert consent.request("control")[0] == Decided("control", True, "pre-granted by --allow")


def test_call_session_never_shares_the_screen() -> None:
    consent = Consent(frozenset({"view", "voice"}), can_ask=True)
    actions = consent.paired("call")
    assert not any(isinstance(a, Ask | StartView) for a in actions)
    assert consent.granted == ("voice",)
    assert consent.request("view")[0] == Decided(
        "view", False, "a call session never shares the screen"
    )


def test_end_stops_everything_for_good() -> None:
    consent = Consent(frozenset({"view"}), can_ask=True)
    consent.paired("screen")
    assert consent.end() == [StopView()]
    assert consent.granted == ()
    assert consent.request("view") == []
    assert not consent.allows("view")


def test_channel_open_reports_the_current_grants() -> None:
    consent = Consent(frozenset({"control"}), can_ask=True)
    consent.paired("screen")
    assert consent.channel_open() == [State(("control",))]


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="'mouse'"):
        Consent(frozenset({"mouse"}), can_ask=True)
