"""The consent core, without an event loop: every rule comes from the capability table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.consent import Ask, Consent, Decided, Reply, State
from wire import protocol

CHAT_ON = Decided("chat", True, "always_on")


def test_screen_session_asks_for_view_and_nothing_runs_before_allow() -> None:
    consent = Consent(can_ask=True)
    actions = consent.paired("screen")
    assert actions == [CHAT_ON, Ask("view"), State(("chat",))]
    assert not consent.allows("view") and consent.pending == {"view"}
    assert consent.answer("view", True) == [
        Decided("view", True, "customer_allowed"),
        Reply("view", True),
        State(("view", "chat")),
    ]
    assert consent.allows("view")


def test_chat_needs_no_question_in_either_mode() -> None:
    for mode in protocol.MODES:
        consent = Consent(can_ask=False)
        consent.paired(mode)
        assert consent.allows("chat"), mode


def test_what_the_table_asks_at_start_is_asked_at_start() -> None:
    for mode in protocol.MODES:
        at_start = {c.name for c in protocol.CAPABILITY_TABLE if c.consent_in(mode) == "at_start"}
        consent = Consent(can_ask=True)
        asked = {a.capability for a in consent.paired(mode) if isinstance(a, Ask)}
        assert asked == at_start & set(protocol.capabilities_of(mode)), mode
    assert Ask("view") not in Consent(can_ask=True).paired("call")


def test_deny_then_the_operator_may_ask_again() -> None:
    consent = Consent(can_ask=True)
    consent.paired("screen")
    assert consent.answer("view", False) == [
        Decided("view", False, "customer_denied"),
        Reply("view", False),
        State(("chat",)),
    ]
    assert consent.answer("view", True) == []  # no question pending: ignored
    assert consent.request("view") == [Ask("view")]
    assert consent.request("view") == []  # already asking: no second dialog


def test_pregranted_by_allow_and_headless_denies_the_rest() -> None:
    consent = Consent(frozenset({"view", "clipboard"}), can_ask=False)
    actions = consent.paired("screen")
    assert actions == [
        Decided("view", True, "allow_option"),
        Decided("clipboard", True, "allow_option"),
        CHAT_ON,
        State(("view", "clipboard", "chat")),
    ]
    assert consent.request("control") == [
        Decided("control", False, "not_in_allow_option"),
        Reply("control", False),
        State(("view", "clipboard", "chat")),
    ]
    assert consent.request("view") == [Reply("view", True), State(("view", "clipboard", "chat"))]


def test_headless_without_view_never_grants_it() -> None:
    consent = Consent(can_ask=False)
    actions = consent.paired("screen")
    assert Decided("view", True, "allow_option") not in actions
    assert Decided("view", False, "not_in_allow_option") in actions
    assert not consent.allows("view")


def test_revoke_and_release_withdraw_at_once() -> None:
    consent = Consent(frozenset({"view", "control"}), can_ask=True)
    consent.paired("screen")
    assert consent.revoke("view") == [
        Decided("view", False, "customer_revoked"),
        State(("control", "chat")),
    ]
    assert consent.release("control") == [
        Decided("control", False, "operator_released"),
        State(("chat",)),
    ]
    assert consent.revoke("view") == []  # nothing left to revoke
    # what the customer revoked is asked about again; what the operator released is not
    assert consent.request("view") == [Ask("view")]
    assert consent.request("control")[0] == Decided("control", True, "allow_option")


def test_call_session_shares_the_screen_only_when_the_operator_asks() -> None:
    consent = Consent(frozenset({"view", "clipboard"}), can_ask=True)
    actions = consent.paired("call")
    assert not any(isinstance(a, Ask) for a in actions)
    assert consent.granted == ("clipboard", "chat")  # --allow view: not before it is asked for
    assert consent.request("control")[0] == Decided("control", False, "not_in_call_session")
    assert consent.request("view")[0] == Decided("view", True, "allow_option")
    assert consent.granted == ("view", "clipboard", "chat")


def test_voice_even_allowed_starts_only_when_the_operator_asks() -> None:
    for mode in ("screen", "call"):
        consent = Consent(frozenset({"voice"}), can_ask=False)
        consent.paired(mode)
        assert not consent.allows("voice")  # no microphone opens at pairing
        assert consent.request("voice")[0] == Decided("voice", True, "allow_option")
        assert consent.allows("voice")


def test_in_a_call_screen_viewing_is_a_question_for_the_customer() -> None:
    consent = Consent(can_ask=True)
    consent.paired("call")
    assert consent.request("view") == [Ask("view")]
    assert consent.answer("view", False)[0] == Decided("view", False, "customer_denied")
    headless = Consent(can_ask=False)
    headless.paired("call")
    assert headless.request("view")[0] == Decided("view", False, "not_in_allow_option")


def test_a_capability_this_peer_does_not_know_is_denied_not_an_error() -> None:
    consent = Consent(can_ask=True)
    consent.paired("screen")
    assert consent.request("teleport") == [
        Decided("teleport", False, "unknown_capability"),
        Reply("teleport", False),
        State(("chat",)),
    ]


def test_a_capability_this_peer_cannot_carry_out_is_denied() -> None:
    consent = Consent(frozenset({"control"}), can_ask=True)
    consent.paired("screen", supported=("view", "chat"))
    assert not consent.allows("control")
    assert consent.request("control")[0] == Decided("control", False, "not_in_screen_session")


def test_end_stops_everything_for_good() -> None:
    consent = Consent(frozenset({"view"}), can_ask=True)
    consent.paired("screen")
    assert consent.end() == [
        Decided("view", False, "session_ended"),
        Decided("chat", False, "session_ended"),
    ]
    assert consent.granted == ()
    assert consent.request("view") == []
    assert not consent.allows("view")


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="'mouse'"):
        Consent(frozenset({"mouse"}), can_ask=True)


# --------------------------------------------------------------------------- properties

_TOKENS = st.sampled_from([*protocol.CAPABILITIES, "teleport", "files", "voice"])
_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["request", "answer_yes", "answer_no", "revoke", "release"]), _TOKENS
    ),
    max_size=30,
)


@settings(max_examples=300)
@given(
    mode=st.sampled_from(protocol.MODES),
    pregranted=st.frozensets(st.sampled_from(protocol.CAPABILITIES)),
    can_ask=st.booleans(),
    events=_EVENTS,
)
def test_nothing_outside_the_modes_row_set_is_ever_granted(
    mode: str, pregranted: frozenset[str], can_ask: bool, events: list[tuple[str, str]]
) -> None:
    """Whatever the operator asks for and the customer answers, in any order: only what the
    table gives the mode is granted, every grant was asked, pre-granted or needs no consent,
    and the operator always hears the result."""
    consent = Consent(pregranted, can_ask=can_ask)
    allowed_here = set(protocol.capabilities_of(mode))
    no_question = {c.name for c in protocol.CAPABILITY_TABLE if c.consent == "none"}
    answered_yes: set[str] = set()
    consent.paired(mode)
    for kind, capability in events:
        if kind == "request":
            actions = consent.request(capability)
            if capability not in allowed_here:
                assert Reply(capability, False) in actions
        elif kind == "answer_yes":
            if capability in consent.pending:
                answered_yes.add(capability)
            consent.answer(capability, True)
        elif kind == "answer_no":
            consent.answer(capability, False)
        elif kind == "revoke":
            consent.revoke(capability)
        else:
            consent.release(capability)
        granted = set(consent.granted)
        assert granted <= allowed_here
        assert granted <= pregranted | answered_yes | no_question
        assert not (set(consent.pending) & granted)
    consent.end()
    assert consent.granted == ()
