"""The wire protocol against its golden examples, plus properties over generated input."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire import protocol
from wire.protocol import ProtocolError

GOLDEN = json.loads((Path(__file__).parent / "data" / "messages.json").read_text("utf-8"))
CHANNELS: dict[str, protocol.Registry] = {
    "signaling": protocol.SIGNALING,
    "control": protocol.CONTROL,
    "input": protocol.INPUT,
    "chat": protocol.CHAT,
    "files": protocol.FILES,
    "annotate": protocol.ANNOTATE,
}
PROTOCOL_CODES = {"bad_json", "too_large", "unknown_type", "bad_message"}


def _id(example: dict[str, Any]) -> str:
    if "message" in example:
        return f"{example['channel']}:{example['message']['type']}"
    return f"{example['channel']}:{example['why']}"


# --------------------------------------------------------------------------- golden examples


def test_golden_covers_every_message_type() -> None:
    seen = {(ex["channel"], ex["message"]["type"]) for ex in GOLDEN["valid"]}
    expected = {(name, t) for name, registry in CHANNELS.items() for t in registry}
    assert seen == expected


def test_golden_invalid_codes_are_protocol_codes() -> None:
    assert len(GOLDEN["invalid"]) >= 30
    for ex in GOLDEN["invalid"]:
        assert ex["code"] in PROTOCOL_CODES
        assert ex["code"] in protocol.ERROR_CODES
        assert ex["channel"] in CHANNELS


@pytest.mark.parametrize("example", GOLDEN["valid"], ids=_id)
def test_golden_valid_round_trips(example: dict[str, Any]) -> None:
    registry = CHANNELS[example["channel"]]
    msg = protocol.parse(json.dumps(example["message"], ensure_ascii=False), registry)
    assert type(msg) is registry[example["message"]["type"]]
    text = protocol.serialize(msg)
    assert json.loads(text) == example["message"]
    assert protocol.parse(text, registry) == msg
    # the same frame as UTF-8 bytes reads the same
    assert protocol.parse(text.encode("utf-8"), registry) == msg


@pytest.mark.parametrize("example", GOLDEN["invalid"], ids=_id)
def test_golden_invalid_is_refused_with_its_code(example: dict[str, Any]) -> None:
    registry = CHANNELS[example["channel"]]
    with pytest.raises(ProtocolError) as info:
        protocol.parse(example["text"], registry)
    assert info.value.code == example["code"]
    assert info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("vector", GOLDEN["verification"])
def test_golden_verification_codes(vector: dict[str, str]) -> None:
    assert protocol.verification_code(vector["a"], vector["b"]) == vector["code"]
    assert protocol.verification_code(vector["b"], vector["a"]) == vector["code"]


@pytest.mark.parametrize("vector", GOLDEN["fingerprints"])
def test_golden_fingerprints(vector: dict[str, str]) -> None:
    assert protocol.sdp_fingerprint(vector["sdp"]) == vector["fingerprint"]


def test_golden_verification_differs_when_a_fingerprint_is_swapped() -> None:
    codes = {v["code"] for v in GOLDEN["verification"]}
    assert len(codes) >= len(GOLDEN["verification"]) - 1  # one pair is the same in both orders


def test_sdp_without_fingerprint_is_refused() -> None:
    with pytest.raises(ValueError):
        protocol.sdp_fingerprint("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")


# --------------------------------------------------------------------------- size limits


def test_signaling_frame_over_limit_is_too_large() -> None:
    text = json.dumps({"type": "offer", "sdp": "x" * protocol.MAX_SIGNAL_BYTES})
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text)
    assert info.value.code == "too_large"


def test_limit_counts_utf8_bytes_not_characters() -> None:
    # 6,000 three-byte characters: 18 KB of UTF-8 in about 6,000 characters.
    text = json.dumps(
        {"type": "consent_state", "granted": [], "pad": "あ" * 6000}, ensure_ascii=False
    )
    assert len(text) < protocol.MAX_CONTROL_BYTES < len(text.encode("utf-8"))
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text, protocol.CONTROL)
    assert info.value.code == "too_large"
    # the same frame is within the signaling limit: it fails for its content instead
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text, protocol.SIGNALING)
    assert info.value.code == "unknown_type"


def test_frame_at_exactly_the_control_limit_is_not_too_large() -> None:
    head = '{"type":"release","capability":"view","pad":"'
    text = head + "x" * (protocol.MAX_CONTROL_BYTES - len(head) - 2) + '"}'
    assert len(text.encode()) == protocol.MAX_CONTROL_BYTES
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text, protocol.CONTROL)
    assert info.value.code == "bad_message"  # the unknown field, not the size


def test_deeply_nested_json_is_bad_json() -> None:
    text = "[" * 20_000 + "]" * 20_000
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text)
    assert info.value.code == "bad_json"


def test_messages_validate_when_built_in_python() -> None:
    with pytest.raises(ProtocolError) as info:
        protocol.Join(code="1234", host="h", user="u", os="o")
    assert info.value.code == "bad_message"
    with pytest.raises(ProtocolError):
        protocol.ConsentState(granted=("view", "view"))


# ------------------------------------------- edge rules shared with webui/protocol.js


def test_lone_surrogates_are_refused_so_relayed_text_always_encodes() -> None:
    join = '{"type":"join","code":"12345678","host":"\\ud800","user":"u","os":"o"}'
    with pytest.raises(ProtocolError) as err:
        protocol.parse(join)
    assert err.value.code == "bad_message"
    pair = '{"type":"join","code":"12345678","host":"\\ud83d\\ude00","user":"u","os":"o"}'
    assert protocol.parse(pair).host == "\U0001f600"


def test_nesting_past_the_limit_is_bad_json_whatever_the_stack() -> None:
    def nested(depth: int) -> str:
        return '{"type":"bye","reason":' + "[" * depth + "]" * depth + "}"

    with pytest.raises(ProtocolError) as shallow:
        protocol.parse(nested(protocol.MAX_JSON_DEPTH - 1))
    assert shallow.value.code == "bad_message"
    for depth in (protocol.MAX_JSON_DEPTH, 5000):
        with pytest.raises(ProtocolError) as deep:
            protocol.parse(nested(depth))
        assert deep.value.code == "bad_json"
    brackets_in_text = '{"type":"bye","reason":"' + "[" * 100 + '"}'
    with pytest.raises(ProtocolError) as in_text:
        protocol.parse(brackets_in_text)
    assert in_text.value.code == "bad_message"


def test_byte_frames_must_be_utf8() -> None:
    assert protocol.parse(b'{"type":"bye","reason":"peer_ended"}') == protocol.Bye(
        reason="peer_ended"
    )
    with pytest.raises(ProtocolError) as err:
        protocol.parse('{"type":"bye","reason":"peer_ended"}'.encode("utf-16"))
    assert err.value.code == "bad_json"


def test_unknown_type_key_in_nested_ice_server_is_refused() -> None:
    frame = {
        "type": "paired",
        "session_id": "s_7Hq2LmZ0xKp4RtYw",
        "mode": "screen",
        "operator": "a",
        "host": "h",
        "user": "u",
        "os": "o",
        "ice_servers": [{"urls": ["stun:s.example"], "type": "relay"}],
    }
    with pytest.raises(ProtocolError):
        protocol.parse(json.dumps(frame))


# --------------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
all_types = sorted({t for registry in CHANNELS.values() for t in registry})
channel = st.sampled_from(sorted(CHANNELS))


def _refuses_only_with_protocol_error(text: str | bytes, chan: str) -> None:
    try:
        protocol.parse(text, CHANNELS[chan])
    except ProtocolError as exc:
        assert exc.code in PROTOCOL_CODES


@given(value=json_values, chan=channel)
def test_any_json_value_parses_or_raises_protocol_error(value: Any, chan: str) -> None:
    _refuses_only_with_protocol_error(json.dumps(value), chan)


@given(text=st.text(max_size=200) | st.binary(max_size=200), chan=channel)
def test_any_text_parses_or_raises_protocol_error(text: str | bytes, chan: str) -> None:
    _refuses_only_with_protocol_error(text, chan)


def _field_names(msg_type: str) -> list[str]:
    names = {"type"}
    for registry in CHANNELS.values():
        if msg_type in registry:
            names.update(f.name for f in dataclasses.fields(registry[msg_type]))
    return sorted(names)


@st.composite
def dicts_with_a_valid_type(draw: st.DrawFn) -> dict[str, Any]:
    msg_type = draw(st.sampled_from(all_types))
    keys = st.sampled_from(_field_names(msg_type)) | st.text(max_size=8)
    body = draw(st.dictionaries(keys, json_values, max_size=8))
    body["type"] = msg_type
    return body


@given(body=dicts_with_a_valid_type(), chan=channel)
def test_dicts_with_a_valid_type_parse_or_raise_protocol_error(
    body: dict[str, Any], chan: str
) -> None:
    _refuses_only_with_protocol_error(json.dumps(body), chan)


# Strategies for valid messages, derived from each field's spec.

_TEXT_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


def _strategy(spec: protocol.Spec) -> st.SearchStrategy[Any]:
    if isinstance(spec, protocol.Optional):
        return st.none() | _strategy(spec.inner)
    if isinstance(spec, protocol.Str):
        if spec.choices is not None:
            return st.sampled_from(spec.choices)
        size = {"min_size": spec.min_len, "max_size": min(spec.max_len, 80)}
        if spec.pattern is not None:
            pattern = re.compile(spec.pattern)
            return st.from_regex(pattern, fullmatch=True).filter(
                lambda s: spec.min_len <= len(s) <= spec.max_len and "\x00" not in s
            )
        return st.text(_TEXT_CHARS, **size)
    if isinstance(spec, protocol.Int):
        return st.integers(spec.minimum, spec.maximum)
    if isinstance(spec, protocol.Num):
        return st.integers(int(spec.minimum), int(spec.maximum)) | st.floats(
            spec.minimum, spec.maximum, allow_nan=False
        )
    if isinstance(spec, protocol.Bool):
        return st.booleans()
    if isinstance(spec, protocol.Seq):
        return st.lists(
            _strategy(spec.item), max_size=min(spec.max_items, 4), unique=spec.unique
        ).map(tuple)
    if isinstance(spec, protocol.Record):
        return _message(spec.cls)
    raise AssertionError(f"no strategy for {spec!r}")


def _message(cls: type[Any]) -> st.SearchStrategy[Any]:
    fields = {f.name: _strategy(f.metadata["spec"]) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


valid_messages: st.SearchStrategy[tuple[Any, protocol.Registry]] = st.one_of(
    *(
        st.tuples(_message(cls), st.just(registry))
        for registry in CHANNELS.values()
        for cls in registry.values()
    )
)


def _no_none(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return all(_no_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_none(v) for v in value)
    return True


@settings(max_examples=300)
@given(pair=valid_messages)
def test_every_valid_message_round_trips(pair: tuple[Any, protocol.Registry]) -> None:
    msg, registry = pair
    text = protocol.serialize(msg)
    assert protocol.parse(text, registry) == msg
    data = json.loads(text)
    assert data["type"] == msg.type
    assert _no_none(data), text


@given(a=st.text(max_size=120), b=st.text(max_size=120))
def test_verification_code_is_symmetric_and_seven_chars(a: str, b: str) -> None:
    code = protocol.verification_code(a, b)
    assert code == protocol.verification_code(b, a)
    assert len(code) == 7
    assert re.fullmatch(r"[0-9]{3} [0-9]{3}", code)


def test_clean_text_leaves_what_any_protocol_string_accepts() -> None:
    cleaned = protocol.clean_text("a\x00b\ud800c\U0001f600é")
    assert cleaned == "abc\U0001f600é"
    protocol.Clipboard(text=cleaned)  # builds: nothing in it is refused


# --------------------------------------------------------------------------- the tables


def test_schema_file_is_what_the_tables_say() -> None:
    """tests/data/schema.json is what the JS mirror is checked against: it must be current
    (regenerate with ``python -m wire.schema > tests/data/schema.json``)."""
    from wire.schema import render

    path = Path(__file__).parent / "data" / "schema.json"
    assert path.read_text("utf-8") == render()


def test_every_channel_registry_is_described_and_every_capability_channel_exists() -> None:
    assert {c.registry.name for c in protocol.CHANNELS} == {
        "control",
        "input",
        "chat",
        "files",
        "annotate",
    }
    for cap in protocol.CAPABILITY_TABLE:
        for label in cap.channels:
            assert label in protocol.CHANNEL_BY_LABEL
        if cap.consent != "none":
            assert "{operator}" in cap.question


def test_a_bad_table_row_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="no_such_channel"):
        protocol.CapabilitySpec("x", ("screen",), ("no_such_channel",), (), "none", "", "do x", "x")
    with pytest.raises(ValueError, match="must name the operator"):
        protocol.CapabilitySpec("x", ("screen",), (), (), "on_request", "Allow?", "do x", "x")
    with pytest.raises(ValueError, match="'nope'"):
        protocol.ChannelSpec(
            "x", True, None, False, protocol.CHAT, frozenset({"nope"}), frozenset()
        )


def test_capabilities_of_each_mode_come_from_the_table() -> None:
    assert protocol.capabilities_of("screen") == (
        "view",
        "control",
        "clipboard",
        "files",
        "voice",
        "annotate",
        "camera",
        "show_screen",
        "show_camera",
        "chat",
    )
    assert protocol.capabilities_of("call") == (
        "view",
        "clipboard",
        "files",
        "voice",
        "camera",
        "show_screen",
        "show_camera",
        "chat",
    )


def test_screen_viewing_is_asked_at_the_start_of_a_screen_session_only() -> None:
    view = protocol.CAPABILITY_BY_NAME["view"]
    assert view.consent_in("screen") == "at_start"
    assert view.consent_in("call") == "on_request"
    assert protocol.CAPABILITY_BY_NAME["voice"].consent_in("call") == "on_request"
    assert protocol.CAPABILITY_BY_NAME["chat"].consent_in("call") == "none"


LENGTHS = json.loads((Path(__file__).parent / "data" / "user_lengths.json").read_text("utf-8"))


@pytest.mark.parametrize(("text", "length"), LENGTHS["vectors"])
def test_user_length_counts_what_a_person_sees(text: str, length: int) -> None:
    assert protocol.user_length(text) == length


@given(text=st.text(max_size=200))
def test_user_length_never_exceeds_the_code_points(text: str) -> None:
    length = protocol.user_length(text)
    assert 0 <= length <= len(text)
    assert (length == 0) == (text == "")


@settings(max_examples=200)
@given(
    granted=st.lists(
        st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True), max_size=32, unique=True
    )
)
def test_any_capability_tokens_parse_whether_known_or_not(granted: list[str]) -> None:
    """Version skew: a peer newer than this side may name capabilities it does not know."""
    text = json.dumps({"type": "consent_state", "granted": granted})
    assert protocol.parse(text, protocol.CONTROL).granted == tuple(granted)
    text = json.dumps({"type": "capabilities", "supported": granted})
    assert protocol.parse(text, protocol.CONTROL).supported == tuple(granted)
