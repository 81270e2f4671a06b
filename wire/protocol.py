"""Every SupportLink wire message, defined once.

Standard library only: the server, the customer's peer and (through the mirror in
``webui/protocol.js``) the operator's browser all speak exactly what is written here.
Golden examples in ``tests/data/messages.json`` are checked by pytest and ``node --test``.

Two channels carry these messages:

* **signaling** -- JSON text frames on the server's WebSockets (``/ws/operator``,
  ``/ws/peer``). The server pairs the two sides and relays offer/answer/candidates.
* **data channels** -- end to end between the operator's browser and the customer's peer,
  one row each in ``CHANNELS`` (label, delivery, registry, who may send what):

  - ``control``: consent, what the peer supports, monitors, window limit, clipboard;
  - ``input``: pointer, buttons, wheel and keys, operator to peer. Coordinates are fractions
    (0..1) of the picture the operator sees; the peer maps them onto what it shares;
  - ``chat``: text both ways;
  - ``files``: file offers, answers and data both ways;
  - ``annotate``: strokes drawn on the customer's screen, by the operator and by the customer.

What the operator may ask the customer for is a table too: ``CAPABILITY_TABLE`` holds one row
per capability (the session modes it exists in, what carries it, how consent is given, the
words shown on each side). On the wire a capability is a token, not a closed list: a side that
meets one it does not know shows it by its name and carries on. ``schema()`` (in
``wire.schema``) writes all these tables to ``tests/data/schema.json``, which the JS mirror is
checked against.

A session, as the signaling channel sees it::

    operator                       server                          peer
    hello(role=operator) ------->
                         <------- welcome
    create_session ------------->
                         <------- session_created(code, expires_at)
                                               <------------------ hello(role=peer)
                                               welcome ---------->
                                               <------------------ join(code, host, user, os)
                         <------- join_request(host, user, os)
                                               join_pending ----->
    accept --------------------->
                         <------- paired(ice_servers) ---------->  paired(ice_servers)
                                               <------------------ offer   (the peer offers)
                         <------- offer
    answer --------------------->             answer ----------->
    candidate <---------------------------------------------------> candidate
    bye ------------------------>             bye(reason) ------->  (either side may end it)

Errors::

    ProtocolError(ValueError)   .code is one of ERROR_CODES' protocol entries:
                                bad_json, too_large, unknown_type, bad_message

Every ``error`` message the server sends carries a stable ``code`` (see ``ERROR_CODES``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

PROTOCOL_VERSION = 1

#: Largest signaling frame accepted, in bytes of UTF-8 text.
MAX_SIGNAL_BYTES = 64 * 1024
#: Largest control data-channel message accepted, in bytes of UTF-8 text.
MAX_CONTROL_BYTES = 16 * 1024
#: Largest input data-channel message accepted, in bytes of UTF-8 text.
MAX_INPUT_BYTES = 512
#: Longest clipboard text carried in one ``clipboard`` message, in characters.
MAX_CLIPBOARD_CHARS = 4000

ROLES = ("operator", "peer")
BUTTONS = ("left", "middle", "right")
MODES = ("screen", "call")
#: Largest chat data-channel message accepted, in bytes of UTF-8 text.
MAX_CHAT_BYTES = 64 * 1024
#: Longest chat message, in characters as a person counts them (``user_length``).
MAX_CHAT_CHARS = 4000
#: Longest chat message in code points: the wire's bound on text of ``MAX_CHAT_CHARS``
#: characters that carry combining marks or emoji sequences.
MAX_CHAT_CODEPOINTS = 4 * MAX_CHAT_CHARS
#: Largest annotation data-channel message accepted, in bytes of UTF-8 text.
MAX_ANNOTATE_BYTES = 16 * 1024
#: Most points one ``stroke`` message carries (a stroke may take many messages).
MAX_STROKE_POINTS_PER_MESSAGE = 256
#: Widest line, in thousandths of the picture's height.
MAX_STROKE_WIDTH = 50
#: The drawing tools: free lines (pen, highlighter) and shapes given by two corners.
ANNOTATION_TOOLS = ("pen", "highlighter", "rect", "ellipse", "arrow")
#: Most capabilities one message may name.
MAX_CAPABILITIES = 32
#: Largest text message on the files channel (offers, answers, ends), in bytes of UTF-8.
MAX_FILES_BYTES = 64 * 1024
#: Most files (and folders) one transfer may hold.
MAX_FILES_PER_TRANSFER = 10_000
#: Largest file size and offset the wire carries (what a JavaScript number holds exactly).
MAX_FILE_SIZE = 2**53

#: Stable error codes, with what they mean. A client may switch on these.
ERROR_CODES: Mapping[str, str] = {
    # malformed input (ProtocolError.code)
    "bad_json": "the frame is not a JSON object",
    "too_large": "the frame is larger than the protocol allows",
    "unknown_type": "the message type is not part of the protocol",
    "bad_message": "a field is missing, unknown, of the wrong type or out of range",
    # state
    "unexpected_message": "the message is not valid from this side in this state",
    "not_authenticated": "log in first",
    "session_exists": "this connection already has a live session",
    "no_session": "there is no session to act on",
    # HTTP (login, WebSocket upgrade)
    "bad_credentials": "wrong user name or password",
    "bad_request": "the request body is not what this endpoint takes",
    "bad_origin": "the request came from another site",
    # codes
    "unknown_code": "no session has this code",
    "expired_code": "this code has expired",
    "used_code": "this code has already been used",
    "rate_limited": "too many attempts; retry later",
    # server
    "server_busy": "the server cannot take more sessions now",
    # data channels
    "not_allowed": "the customer has not allowed what this message needs",
    "too_long": "the text is longer than the limit",
    "internal": "the server failed; the session was closed",
}

#: Why a session (or one side of it) ended, as sent in ``bye.reason`` by the server.
BYE_REASONS: Mapping[str, str] = {
    "operator_ended": "the operator ended the session",
    "peer_ended": "the customer ended the session",
    "operator_left": "the operator's connection was lost",
    "peer_left": "the customer's connection was lost",
    "rejected": "the operator rejected the customer",
    "cancelled": "the operator cancelled the session before anyone joined",
    "expired": "the code expired before anyone joined",
    "server_shutdown": "the server is shutting down",
    "connection_failed": "no network path between customer and operator (a TURN relay may help)",
}

_TOKEN = r"[a-z][a-z0-9_]{0,39}"
#: A media section's id in SDP (RFC 8843 allows any token; aiortc and browsers use digits).
_MID = r"[A-Za-z0-9_.-]{1,32}"

_FINGERPRINT_RE = re.compile(r"^a=fingerprint:(\S+)[ \t]+([0-9A-Fa-f:]+)[ \t]*$", re.MULTILINE)
#: No message nests deeper than this; deeper frames are ``bad_json`` wherever they are parsed.
MAX_JSON_DEPTH = 32
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_UNCARRIABLE_RE = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS_RE = re.compile(r"[\[\]{}]")


class ProtocolError(ValueError):
    """A message could not be parsed or built; ``code`` says how (see ``ERROR_CODES``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- field specs


class Spec:
    """How one field is checked and converted from JSON."""

    def check(self, where: str, value: Any) -> None:
        raise ProtocolError("bad_message", f"{where}: no check defined")

    def decode(self, where: str, value: Any) -> Any:
        return value

    def encode(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class Str(Spec):
    max_len: int
    min_len: int = 0
    pattern: str | None = None
    choices: tuple[str, ...] | None = None

    def check(self, where: str, value: Any) -> None:
        if not isinstance(value, str):
            raise ProtocolError("bad_message", f"{where}: expected a string, got {_kind(value)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise ProtocolError(
                "bad_message",
                f"{where}: length {len(value)} is outside {self.min_len}..{self.max_len}",
            )
        if self.choices is not None and value not in self.choices:
            raise ProtocolError(
                "bad_message", f"{where}: {value[:40]!r} is not one of {', '.join(self.choices)}"
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ProtocolError("bad_message", f"{where}: {value[:40]!r} is not well formed")
        if "\x00" in value:
            raise ProtocolError("bad_message", f"{where}: NUL characters are not allowed")
        if _SURROGATE_RE.search(value):
            raise ProtocolError("bad_message", f"{where}: lone UTF-16 surrogates are not text")


@dataclass(frozen=True)
class Int(Spec):
    minimum: int
    maximum: int

    def check(self, where: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError("bad_message", f"{where}: expected an integer, got {_kind(value)}")
        if not self.minimum <= value <= self.maximum:
            raise ProtocolError(
                "bad_message", f"{where}: {value} is outside {self.minimum}..{self.maximum}"
            )


@dataclass(frozen=True)
class Num(Spec):
    minimum: float
    maximum: float

    def check(self, where: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError("bad_message", f"{where}: expected a number, got {_kind(value)}")
        if not self.minimum <= value <= self.maximum:  # also rejects NaN
            raise ProtocolError(
                "bad_message", f"{where}: {value} is outside {self.minimum}..{self.maximum}"
            )


@dataclass(frozen=True)
class Bool(Spec):
    def check(self, where: str, value: Any) -> None:
        if not isinstance(value, bool):
            raise ProtocolError(
                "bad_message", f"{where}: expected true or false, got {_kind(value)}"
            )


@dataclass(frozen=True)
class Optional(Spec):
    inner: Spec

    def check(self, where: str, value: Any) -> None:
        if value is not None:
            self.inner.check(where, value)

    def decode(self, where: str, value: Any) -> Any:
        return None if value is None else self.inner.decode(where, value)

    def encode(self, value: Any) -> Any:
        return None if value is None else self.inner.encode(value)


@dataclass(frozen=True)
class Seq(Spec):
    """A JSON array; a tuple in Python so messages stay immutable."""

    item: Spec
    max_items: int
    unique: bool = False

    def check(self, where: str, value: Any) -> None:
        if not isinstance(value, tuple):
            raise ProtocolError(
                "bad_message", f"{where}: expected a tuple (a JSON list), got {_kind(value)}"
            )
        if len(value) > self.max_items:
            raise ProtocolError(
                "bad_message", f"{where}: {len(value)} items, at most {self.max_items} allowed"
            )
        for i, item in enumerate(value):
            self.item.check(f"{where}[{i}]", item)
        if self.unique and len(set(value)) != len(value):
            raise ProtocolError("bad_message", f"{where}: items must not repeat")

    def decode(self, where: str, value: Any) -> Any:
        if not isinstance(value, list):
            raise ProtocolError("bad_message", f"{where}: expected a list, got {_kind(value)}")
        if len(value) > self.max_items:
            raise ProtocolError(
                "bad_message", f"{where}: {len(value)} items, at most {self.max_items} allowed"
            )
        return tuple(self.item.decode(f"{where}[{i}]", v) for i, v in enumerate(value))

    def encode(self, value: Any) -> Any:
        return [self.item.encode(v) for v in value]


@dataclass(frozen=True)
class Record(Spec):
    """A nested JSON object described by another message-like dataclass."""

    cls: type[Any]

    def check(self, where: str, value: Any) -> None:
        if not isinstance(value, self.cls):
            raise ProtocolError("bad_message", f"{where}: expected an object, got {_kind(value)}")

    def decode(self, where: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ProtocolError("bad_message", f"{where}: expected an object, got {_kind(value)}")
        return _build(self.cls, value, where, nested=True)

    def encode(self, value: Any) -> Any:
        return _to_json(value)


def spec(s: Spec) -> Any:
    """A required field checked by ``s``."""
    return field(metadata={"spec": s})


def optional(s: Spec) -> Any:
    """A field that may be absent or null (``None`` in Python)."""
    return field(default=None, metadata={"spec": Optional(s)})


def clean_text(text: str) -> str:
    """``text`` with what no protocol string may hold (NUL, lone surrogates) taken out."""
    return _UNCARRIABLE_RE.sub("", text)


def user_length(text: str) -> int:
    """How many characters a person sees in ``text``: combining and spacing marks (``e\u0301``,
    the vowel signs of Indic scripts), Hangul vowel and final jamo, variation selectors,
    emoji modifiers and whatever a zero-width joiner glues on count with the character
    before them, and a pair of regional indicators (a flag) counts once. Close to Unicode's
    grapheme clusters, which the console counts with ``Intl.Segmenter``."""
    count = 0
    join_next = False
    flag_open = False
    for ch in text:
        cp = ord(ch)
        if join_next:
            join_next = False
            continue
        if cp == 0x200D and count:  # zero-width joiner: glues the next one on
            join_next = True
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:  # regional indicator: two make one flag
            if flag_open:
                flag_open = False
                continue
            flag_open = True
            count += 1
            continue
        flag_open = False
        if count and (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0x1160 <= cp <= 0x11FF  # Hangul vowel and final jamo
            or 0xD7B0 <= cp <= 0xD7FF
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
        ):
            continue
        count += 1
    return count


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _validate(obj: Any) -> None:
    name = getattr(obj, "type", type(obj).__name__)
    for f in dataclasses.fields(obj):
        f.metadata["spec"].check(f"{name}.{f.name}", getattr(obj, f.name))


def _build(cls: type[T], data: Mapping[str, Any], where: str, *, nested: bool = False) -> T:
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(k for k in data if k not in known and (nested or k != "type"))
    if unknown:
        raise ProtocolError("bad_message", f"{where}: unknown field {unknown[0][:40]!r}")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        s: Spec = f.metadata["spec"]
        if name not in data:
            if isinstance(s, Optional):
                continue
            raise ProtocolError("bad_message", f"{where}.{name}: missing")
        kwargs[name] = s.decode(f"{where}.{name}", data[name])
    return cls(**kwargs)


def _to_json(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    msg_type = getattr(type(obj), "type", None)
    if isinstance(msg_type, str):
        out["type"] = msg_type
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        out[f.name] = f.metadata["spec"].encode(value)
    return out


T = TypeVar("T")


class _Validated:
    """Mixin: every message checks its own fields when built, in Python as on the wire."""

    def __post_init__(self) -> None:
        _validate(self)


# --------------------------------------------------------------------------- shared records

_ID = Str(max_len=64, min_len=8, pattern=r"[A-Za-z0-9_-]+")
_CODE = Str(max_len=8, min_len=8, pattern=r"[0-9]{8}")
_LABEL = Str(max_len=128)  # host, user, os, operator names: shown, never trusted
_SDP = Str(max_len=60_000, min_len=1)
_CAP = Str(max_len=40, pattern=_TOKEN)


@dataclass(frozen=True, kw_only=True)
class IceServer(_Validated):
    """One entry of ``RTCConfiguration.iceServers`` (TURN REST credentials when present)."""

    urls: tuple[str, ...] = spec(
        Seq(Str(max_len=512, pattern=r"(stun|stuns|turn|turns):\S+"), max_items=8)
    )
    username: str | None = optional(Str(max_len=256))
    credential: str | None = optional(Str(max_len=256))


# --------------------------------------------------------------------------- signaling


@dataclass(frozen=True, kw_only=True)
class Hello(_Validated):
    """First frame on every WebSocket: who is speaking and which protocol."""

    type: ClassVar[str] = "hello"
    role: str = spec(Str(max_len=16, choices=ROLES))
    protocol: int = spec(Int(1, 1000))
    agent: str | None = optional(Str(max_len=64))


@dataclass(frozen=True, kw_only=True)
class Welcome(_Validated):
    """Server's answer to ``hello``; ``operator`` is the logged-in name on the operator side."""

    type: ClassVar[str] = "welcome"
    role: str = spec(Str(max_len=16, choices=ROLES))
    protocol: int = spec(Int(1, 1000))
    operator: str | None = optional(_LABEL)


@dataclass(frozen=True, kw_only=True)
class CreateSession(_Validated):
    type: ClassVar[str] = "create_session"
    mode: str = spec(Str(max_len=16, choices=MODES))


@dataclass(frozen=True, kw_only=True)
class SessionCreated(_Validated):
    """The code to read to the customer; ``expires_at`` is Unix time in seconds."""

    type: ClassVar[str] = "session_created"
    session_id: str = spec(_ID)
    code: str = spec(_CODE)
    mode: str = spec(Str(max_len=16, choices=MODES))
    expires_at: float = spec(Num(0, 1e11))
    ttl: int = spec(Int(1, 7 * 86400))


@dataclass(frozen=True, kw_only=True)
class Join(_Validated):
    """The customer's peer claims a code and says who it is (shown, never trusted)."""

    type: ClassVar[str] = "join"
    code: str = spec(_CODE)
    host: str = spec(_LABEL)
    user: str = spec(_LABEL)
    os: str = spec(_LABEL)


@dataclass(frozen=True, kw_only=True)
class JoinPending(_Validated):
    """To the peer: the code was right, the operator is deciding."""

    type: ClassVar[str] = "join_pending"
    operator: str = spec(_LABEL)
    mode: str = spec(Str(max_len=16, choices=MODES))
    organisation: str | None = optional(_LABEL)


@dataclass(frozen=True, kw_only=True)
class JoinRequest(_Validated):
    """To the operator: someone claimed the code; accept or reject them."""

    type: ClassVar[str] = "join_request"
    session_id: str = spec(_ID)
    host: str = spec(_LABEL)
    user: str = spec(_LABEL)
    os: str = spec(_LABEL)
    address: str = spec(Str(max_len=64))


@dataclass(frozen=True, kw_only=True)
class Accept(_Validated):
    type: ClassVar[str] = "accept"
    session_id: str = spec(_ID)


@dataclass(frozen=True, kw_only=True)
class Reject(_Validated):
    type: ClassVar[str] = "reject"
    session_id: str = spec(_ID)


@dataclass(frozen=True, kw_only=True)
class Paired(_Validated):
    """To both sides after accept. The peer then sends the offer.

    ``operator`` is the name the customer is shown (the operator's display name, else the
    login); ``organisation`` the server's ``--organisation``, when set."""

    type: ClassVar[str] = "paired"
    session_id: str = spec(_ID)
    mode: str = spec(Str(max_len=16, choices=MODES))
    operator: str = spec(_LABEL)
    host: str = spec(_LABEL)
    user: str = spec(_LABEL)
    os: str = spec(_LABEL)
    ice_servers: tuple[IceServer, ...] = spec(Seq(Record(IceServer), max_items=8))
    organisation: str | None = optional(_LABEL)
    #: This member's secret for ``resume`` after a lost connection (each side its own).
    resume: str | None = optional(_ID)
    #: Seconds the server keeps the session for a member whose connection was lost.
    resume_within: int | None = optional(Int(0, 3600))


@dataclass(frozen=True, kw_only=True)
class Offer(_Validated):
    """``fresh``: the offer of a new connection that replaces a lost one (same session, same
    certificates, so the same verification code); the console answers it with a new one."""

    type: ClassVar[str] = "offer"
    sdp: str = spec(_SDP)
    fresh: bool | None = optional(Bool())
    #: the m-lines on which the peer receives the operator's screen / camera (it adds them
    #: only once the customer allows ``show_screen`` / ``show_camera``)
    show_screen_mid: str | None = optional(Str(max_len=32, pattern=_MID))
    show_camera_mid: str | None = optional(Str(max_len=32, pattern=_MID))


@dataclass(frozen=True, kw_only=True)
class Answer(_Validated):
    type: ClassVar[str] = "answer"
    sdp: str = spec(_SDP)


@dataclass(frozen=True, kw_only=True)
class Candidate(_Validated):
    """A trickled ICE candidate; an empty ``candidate`` marks the end of candidates."""

    type: ClassVar[str] = "candidate"
    candidate: str = spec(Str(max_len=1024))
    sdp_mid: str | None = optional(Str(max_len=64))
    sdp_mline_index: int | None = optional(Int(0, 64))


@dataclass(frozen=True, kw_only=True)
class Bye(_Validated):
    """From a client: end the session. From the server: the session is over, and why."""

    type: ClassVar[str] = "bye"
    reason: str = spec(Str(max_len=40, pattern=_TOKEN))


@dataclass(frozen=True, kw_only=True)
class Resume(_Validated):
    """Instead of ``create_session`` / ``join`` on a new socket: take one's place again in a
    paired session whose connection was lost, with the ``resume`` secret ``paired`` gave."""

    type: ClassVar[str] = "resume"
    session_id: str = spec(_ID)
    token: str = spec(_ID)


@dataclass(frozen=True, kw_only=True)
class Interrupted(_Validated):
    """Server to a member: the other side's connection is lost; the session is kept for
    ``resume_within`` more seconds, then ends (``bye``)."""

    type: ClassVar[str] = "interrupted"
    resume_within: int = spec(Int(0, 3600))


@dataclass(frozen=True, kw_only=True)
class Resumed(_Validated):
    """Server to both members: both are back after a lost connection; the peer now offers a
    fresh connection (``offer`` with ``fresh``). ``ice_servers`` are new TURN credentials."""

    type: ClassVar[str] = "resumed"
    ice_servers: tuple[IceServer, ...] = spec(Seq(Record(IceServer), max_items=8))


@dataclass(frozen=True, kw_only=True)
class Granted(_Validated):
    """Peer to server: the capabilities the customer has allowed so far in this session.

    Names only, for the audit (``supportlink audit``, the console's history); the server
    relays it to no one and keeps only names of the capability table."""

    type: ClassVar[str] = "granted"
    capabilities: tuple[str, ...] = spec(Seq(_CAP, max_items=MAX_CAPABILITIES, unique=True))


@dataclass(frozen=True, kw_only=True)
class Error(_Validated):
    """A stable ``code`` (see ``ERROR_CODES``), words for people, and when to retry."""

    type: ClassVar[str] = "error"
    code: str = spec(Str(max_len=40, pattern=_TOKEN))
    message: str = spec(Str(max_len=500))
    retry_after: float | None = optional(Num(0, 86400))


# --------------------------------------------------------------------------- control channel


@dataclass(frozen=True, kw_only=True)
class ConsentRequest(_Validated):
    """Operator asks the customer for one capability."""

    type: ClassVar[str] = "consent_request"
    capability: str = spec(_CAP)


@dataclass(frozen=True, kw_only=True)
class ConsentReply(_Validated):
    """The customer's answer to one request."""

    type: ClassVar[str] = "consent_reply"
    capability: str = spec(_CAP)
    allowed: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class ConsentState(_Validated):
    """What the operator may do right now, as the customer's peer enforces it.

    Sent by the peer after every change (grant, deny, revoke) and once when the channel opens.
    """

    type: ClassVar[str] = "consent_state"
    granted: tuple[str, ...] = spec(Seq(_CAP, max_items=MAX_CAPABILITIES, unique=True))


@dataclass(frozen=True, kw_only=True)
class Release(_Validated):
    """Operator hands a capability back (for example: stops controlling)."""

    type: ClassVar[str] = "release"
    capability: str = spec(_CAP)


@dataclass(frozen=True, kw_only=True)
class Monitor(_Validated):
    """One of the customer's monitors, in X screen (or virtual desktop) pixels."""

    index: int = spec(Int(0, 31))
    x: int = spec(Int(-65536, 65536))
    y: int = spec(Int(-65536, 65536))
    width: int = spec(Int(1, 65536))
    height: int = spec(Int(1, 65536))
    primary: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class ViewState(_Validated):
    """Peer to operator: the monitors there are and what is being shared now.

    ``window`` is the title of the one application window the session is limited to, or
    absent when a whole monitor is shared (``monitor`` is then its index).
    """

    type: ClassVar[str] = "view_state"
    monitors: tuple[Monitor, ...] = spec(Seq(Record(Monitor), max_items=32))
    monitor: int = spec(Int(0, 31))
    window: str | None = optional(Str(max_len=256))
    width: int = spec(Int(0, 65536))
    height: int = spec(Int(0, 65536))


@dataclass(frozen=True, kw_only=True)
class SelectMonitor(_Validated):
    """Operator asks to see another monitor (the peer may refuse, e.g. in window mode)."""

    type: ClassVar[str] = "select_monitor"
    index: int = spec(Int(0, 31))


@dataclass(frozen=True, kw_only=True)
class ViewReport(_Validated):
    """Operator to peer, about twice a second while the screen is shown: what the console
    measured of the picture over its last interval. The peer's rate control steers by it
    (``peer/rate_control.py``); values are clamped there, nothing else trusts them.

    ``queue_ms``: presented frames' one-way delay (arrival against RTP timestamp) above the
    lowest of the last seconds; ``loss``: fraction of the screen's packets lost; ``kbps``:
    what arrived; ``fps``: frames presented per second.
    """

    type: ClassVar[str] = "view_report"
    queue_ms: float = spec(Num(0, 60_000))
    loss: float = spec(Num(0, 1))
    kbps: float = spec(Num(0, 1_000_000))
    fps: float = spec(Num(0, 1000))


@dataclass(frozen=True, kw_only=True)
class LimitRequest(_Validated):
    """Operator asks the customer to limit the session to one application window."""

    type: ClassVar[str] = "limit_request"


@dataclass(frozen=True, kw_only=True)
class WholeScreenRequest(_Validated):
    """Operator asks the customer to share the whole screen again (end one-window mode);
    only the customer can, so the peer asks and answers with ``whole_screen_reply``."""

    type: ClassVar[str] = "whole_screen_request"


@dataclass(frozen=True, kw_only=True)
class WholeScreenReply(_Validated):
    """The customer's answer to ``whole_screen_request`` (a yes is followed by the new
    ``view_state``)."""

    type: ClassVar[str] = "whole_screen_reply"
    allowed: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class Clipboard(_Validated):
    """Clipboard text, either way; only while the customer allows ``clipboard``."""

    type: ClassVar[str] = "clipboard"
    text: str = spec(Str(max_len=MAX_CLIPBOARD_CHARS))


#: What the customer's side of a call says about its microphone (``voice_state.mic``):
#: sending, muted by the customer, none there, held by another program, gone mid-call.
MIC_STATES = ("on", "muted", "no_device", "busy", "lost")
#: ... and about its speakers or headset (``voice_state.speaker``).
SPEAKER_STATES = ("on", "no_device", "busy", "lost")


@dataclass(frozen=True, kw_only=True)
class VoiceState(_Validated):
    """Peer to operator while ``voice`` is allowed: how the customer's microphone and speakers
    are doing, sent at every change. A call goes on with what still works: with no
    microphone the customer still hears the operator, with no speakers the operator still
    hears the customer."""

    type: ClassVar[str] = "voice_state"
    mic: str = spec(Str(max_len=16, choices=MIC_STATES))
    speaker: str = spec(Str(max_len=16, choices=SPEAKER_STATES))


#: How the customer's camera is (``camera_state.state``): sending, closed, none there, held by
#: another program, gone mid-session, or failed to open for another reason.
CAMERA_STATES = ("on", "off", "no_camera", "busy", "lost", "failed")
#: The stream id of the customer's camera track (the screen's track is in another stream), so
#: that the console tells the two pictures apart.
CAMERA_STREAM = "supportlink-camera"


@dataclass(frozen=True, kw_only=True)
class CameraState(_Validated):
    """Peer to operator while ``camera`` is allowed: how the customer's camera is, at every
    change. ``name`` is the camera's name as the customer's computer calls it."""

    type: ClassVar[str] = "camera_state"
    state: str = spec(Str(max_len=16, choices=CAMERA_STATES))
    name: str | None = optional(Str(max_len=128))


@dataclass(frozen=True, kw_only=True)
class Capabilities(_Validated):
    """Peer to operator, first on the control channel: the capabilities this peer can carry
    out in this session. The console offers only these."""

    type: ClassVar[str] = "capabilities"
    supported: tuple[str, ...] = spec(Seq(_CAP, max_items=MAX_CAPABILITIES, unique=True))


# --------------------------------------------------------------------------- chat channel


@dataclass(frozen=True, kw_only=True)
class Chat(_Validated):
    """One chat message, either way. Plain text: no side ever interprets markup in it."""

    type: ClassVar[str] = "chat"
    text: str = spec(Str(max_len=MAX_CHAT_CODEPOINTS, min_len=1))


# --------------------------------------------------------------------------- files channel
#
# Binary frames carry file data: a 16-byte big-endian header (u32 transfer, u32 file index,
# u64 offset) and the bytes (``peer/files/frames.py``, ``webui/files/frames.js``). Text
# frames are these messages, on the same ordered channel, so a ``file_end`` never overtakes
# the data before it. Either side may send files: the sender offers, the receiver answers.

_TRANSFER = Int(1, 2**32 - 1)
_FILE_INDEX = Int(0, MAX_FILES_PER_TRANSFER - 1)
_PATH = Str(max_len=4096)
_SHA256 = Str(max_len=64, min_len=64, pattern=r"[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class FileEntry(_Validated):
    """One file (or, with ``folder``, an empty folder) of an offer, by its path inside what is
    offered ('/'-separated; the receiver refuses unsafe names)."""

    path: str = spec(_PATH)
    size: int = spec(Int(0, MAX_FILE_SIZE))
    folder: bool | None = optional(Bool())


@dataclass(frozen=True, kw_only=True)
class FileOffer(_Validated):
    """The sender offers ``count`` entries (``total`` bytes) named ``name``; the entries come
    in order over one or more ``file_offer`` messages of the same ``transfer``, the last with
    ``more`` false. ``from_folder`` is where they are on the sender's machine (for the
    operator's transfer log)."""

    type: ClassVar[str] = "file_offer"
    transfer: int = spec(_TRANSFER)
    name: str = spec(_PATH)
    from_folder: str = spec(_PATH)
    count: int = spec(Int(1, MAX_FILES_PER_TRANSFER))
    total: int = spec(Int(0, MAX_FILE_SIZE))
    entries: tuple[FileEntry, ...] = spec(Seq(Record(FileEntry), max_items=1000))
    more: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class FileResume(_Validated):
    """The receiver already holds the first ``length`` bytes of entry ``index`` (a partial
    file), whose SHA-256 is ``sha256``; the sender resumes there if its own prefix matches."""

    index: int = spec(_FILE_INDEX)
    length: int = spec(Int(1, MAX_FILE_SIZE))
    sha256: str = spec(_SHA256)


@dataclass(frozen=True, kw_only=True)
class FileAnswer(_Validated):
    """The receiver's answer to a whole offer: declined (``reason``), or accepted into
    ``to_folder`` (for the log), with the entries to ``skip`` and the ``resume`` proofs."""

    type: ClassVar[str] = "file_answer"
    transfer: int = spec(_TRANSFER)
    accept: bool = spec(Bool())
    to_folder: str | None = optional(_PATH)
    skip: tuple[int, ...] = spec(Seq(_FILE_INDEX, max_items=MAX_FILES_PER_TRANSFER))
    resume: tuple[FileResume, ...] = spec(Seq(Record(FileResume), max_items=500))
    reason: str | None = optional(Str(max_len=40, pattern=_TOKEN))


@dataclass(frozen=True, kw_only=True)
class FileStart(_Validated):
    """The sender starts entry ``index`` at ``offset`` (0, or a resume proof it checked)."""

    type: ClassVar[str] = "file_start"
    transfer: int = spec(_TRANSFER)
    index: int = spec(_FILE_INDEX)
    offset: int = spec(Int(0, MAX_FILE_SIZE))


@dataclass(frozen=True, kw_only=True)
class FileEnd(_Validated):
    """Every byte of entry ``index`` was sent; ``sha256`` is of the whole file."""

    type: ClassVar[str] = "file_end"
    transfer: int = spec(_TRANSFER)
    index: int = spec(_FILE_INDEX)
    sha256: str = spec(_SHA256)


@dataclass(frozen=True, kw_only=True)
class FileResult(_Validated):
    """The receiver's verdict on entry ``index``: kept under its final name, or why not."""

    type: ClassVar[str] = "file_result"
    transfer: int = spec(_TRANSFER)
    index: int = spec(_FILE_INDEX)
    ok: bool = spec(Bool())
    reason: str | None = optional(Str(max_len=40, pattern=_TOKEN))
    saved_as: str | None = optional(_PATH)


@dataclass(frozen=True, kw_only=True)
class FileCancel(_Validated):
    """Either side stops a transfer (all of it) at once."""

    type: ClassVar[str] = "file_cancel"
    transfer: int = spec(_TRANSFER)
    reason: str = spec(Str(max_len=40, pattern=_TOKEN))


@dataclass(frozen=True, kw_only=True)
class FileAck(_Validated):
    """The receiver has ``received`` bytes of file data of ``transfer`` (counted from its
    ``file_answer``, in this session): the sender keeps only so much on its way
    (``peer/files/flow.py``, ``webui/files/flow.js``)."""

    type: ClassVar[str] = "file_ack"
    transfer: int = spec(_TRANSFER)
    received: int = spec(Int(0, MAX_FILE_SIZE))


#: How an operator's ``file_request`` ended: ``sending`` (the customer said yes), the
#: customer said no (``declined``), nothing is there (``not_found``), SupportLink never sends
#: that (``refused``: a device, a FIFO, ``..``), file transfer is not allowed, or another
#: request is still open (``busy``).
FILE_REQUEST_RESULTS = ("sending", "declined", "not_found", "refused", "not_allowed", "busy")
#: A path as the operator types it: the customer's home (``~``, ``~/...``) or absolute
#: (``/...``, ``C:\...``). The customer reads it in a question, so nothing in it may hide or
#: reorder what follows: no control characters, line separators or bidi controls.
_REQUEST_PATH = Str(
    max_len=4096,
    min_len=1,
    pattern=r"~|(?:~[\\/]|/|[A-Za-z]:[\\/])"
    r"[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]*",
)


@dataclass(frozen=True, kw_only=True)
class FileRequest(_Validated):
    """The operator asks the customer for the file or folder at ``path``. The customer's side
    shows exactly what is there and the customer decides; ``file_request_result`` of the same
    ``request`` says how it went, and what is sent comes like any offer (``file_offer``)."""

    type: ClassVar[str] = "file_request"
    request: int = spec(_TRANSFER)
    path: str = spec(_REQUEST_PATH)


@dataclass(frozen=True, kw_only=True)
class FileRequestResult(_Validated):
    """How ``request`` ended (``result``, one of ``FILE_REQUEST_RESULTS``): when ``sending``,
    the offer of ``transfer`` follows; ``reason`` is a token that says more (``no_answer``,
    ``outside_allowed``, ``special_file``, ...)."""

    type: ClassVar[str] = "file_request_result"
    request: int = spec(_TRANSFER)
    result: str = spec(Str(max_len=40, choices=FILE_REQUEST_RESULTS))
    transfer: int | None = optional(_TRANSFER)
    reason: str | None = optional(Str(max_len=40, pattern=_TOKEN))


# --------------------------------------------------------------------------- input channel

_FRACTION = Num(0.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class PointerMove(_Validated):
    type: ClassVar[str] = "pointer_move"
    x: float = spec(_FRACTION)
    y: float = spec(_FRACTION)


@dataclass(frozen=True, kw_only=True)
class PointerButton(_Validated):
    type: ClassVar[str] = "pointer_button"
    button: str = spec(Str(max_len=8, choices=BUTTONS))
    down: bool = spec(Bool())
    x: float = spec(_FRACTION)
    y: float = spec(_FRACTION)


@dataclass(frozen=True, kw_only=True)
class Wheel(_Validated):
    """Scroll by whole notches: positive ``dy`` scrolls down, positive ``dx`` right."""

    type: ClassVar[str] = "wheel"
    x: float = spec(_FRACTION)
    y: float = spec(_FRACTION)
    dx: int = spec(Int(-50, 50))
    dy: int = spec(Int(-50, 50))


@dataclass(frozen=True, kw_only=True)
class Key(_Validated):
    """A key going down or up: the browser's ``KeyboardEvent.code`` (the physical key) and
    ``KeyboardEvent.key`` (what it produces with the operator's layout: ``"é"``, ``"Enter"``)."""

    type: ClassVar[str] = "key"
    code: str = spec(Str(max_len=32, pattern=r"[A-Za-z0-9]*"))
    key: str = spec(Str(max_len=32, min_len=1))
    down: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class ReleaseAll(_Validated):
    """Let go of every key and button held for the operator (focus left the video)."""

    type: ClassVar[str] = "release_all"


# --------------------------------------------------------------------------- annotate channel
#
# Drawing on the customer's screen. Coordinates are fractions (0..1) of the picture the
# operator sees, as on the ``input`` channel; widths are thousandths of the picture's height. A
# stroke is one ``id`` over several messages: a free line's points are added to it, a shape's
# two points (the corners of its box, or an arrow's tail and head) replace the last ones.
# The customer draws too: the peer sends the customer's strokes (ids of its own) so that the
# console can mark them as the customer's.

_STROKE_ID = Int(1, 2**31 - 1)


@dataclass(frozen=True, kw_only=True)
class Stroke(_Validated):
    """More of stroke ``id`` (the first message starts it). ``points`` is flat: x0, y0, x1,
    y1, ...; ``done`` ends it; ``fade``: it fades away a few seconds after it ends, instead
    of staying until undone or cleared."""

    type: ClassVar[str] = "stroke"
    id: int = spec(_STROKE_ID)
    tool: str = spec(Str(max_len=12, choices=ANNOTATION_TOOLS))
    color: str = spec(Str(max_len=7, min_len=7, pattern=r"#[0-9a-f]{6}"))
    width: int = spec(Int(1, MAX_STROKE_WIDTH))
    fade: bool = spec(Bool())
    points: tuple[float, ...] = spec(Seq(_FRACTION, max_items=2 * MAX_STROKE_POINTS_PER_MESSAGE))
    done: bool = spec(Bool())


@dataclass(frozen=True, kw_only=True)
class StrokeUndo(_Validated):
    """Take stroke ``id`` away."""

    type: ClassVar[str] = "stroke_undo"
    id: int = spec(_STROKE_ID)


@dataclass(frozen=True, kw_only=True)
class StrokesClear(_Validated):
    """Take every stroke away (either side: the customer's clear tells the console)."""

    type: ClassVar[str] = "strokes_clear"


@dataclass(frozen=True, kw_only=True)
class Laser(_Validated):
    """Where the laser pointer is (``shown`` false: it is put away)."""

    type: ClassVar[str] = "laser"
    x: float = spec(_FRACTION)
    y: float = spec(_FRACTION)
    shown: bool = spec(Bool())


SignalMessage = (
    Hello
    | Welcome
    | CreateSession
    | SessionCreated
    | Join
    | JoinPending
    | JoinRequest
    | Accept
    | Reject
    | Paired
    | Offer
    | Answer
    | Candidate
    | Bye
    | Resume
    | Interrupted
    | Resumed
    | Granted
    | Error
)
ControlMessage = (
    ConsentRequest
    | ConsentReply
    | ConsentState
    | Release
    | ViewState
    | SelectMonitor
    | ViewReport
    | LimitRequest
    | WholeScreenRequest
    | WholeScreenReply
    | Clipboard
    | Capabilities
)
InputMessage = PointerMove | PointerButton | Wheel | Key | ReleaseAll
ChatMessage = Chat | Error
FilesMessage = (
    FileOffer
    | FileAnswer
    | FileStart
    | FileEnd
    | FileResult
    | FileCancel
    | FileRequest
    | FileRequestResult
    | Error
)
AnnotateMessage = Stroke | StrokeUndo | StrokesClear | Laser
Message = (
    SignalMessage | ControlMessage | InputMessage | ChatMessage | FilesMessage | AnnotateMessage
)


class Registry(dict[str, type[Any]]):
    """The messages one channel carries, by type, and the largest frame it accepts."""

    def __init__(self, name: str, max_bytes: int, *classes: type[Any]) -> None:
        super().__init__((c.type, c) for c in classes)
        self.name = name
        self.max_bytes = max_bytes


SIGNALING = Registry(
    "signaling",
    MAX_SIGNAL_BYTES,
    Hello,
    Welcome,
    CreateSession,
    SessionCreated,
    Join,
    JoinPending,
    JoinRequest,
    Accept,
    Reject,
    Paired,
    Offer,
    Answer,
    Candidate,
    Bye,
    Resume,
    Interrupted,
    Resumed,
    Granted,
    Error,
)
CONTROL = Registry(
    "control",
    MAX_CONTROL_BYTES,
    ConsentRequest,
    ConsentReply,
    ConsentState,
    Release,
    ViewState,
    SelectMonitor,
    ViewReport,
    LimitRequest,
    WholeScreenRequest,
    WholeScreenReply,
    Clipboard,
    Capabilities,
    VoiceState,
    CameraState,
)
INPUT = Registry("input", MAX_INPUT_BYTES, PointerMove, PointerButton, Wheel, Key, ReleaseAll)
ANNOTATE = Registry("annotate", MAX_ANNOTATE_BYTES, Stroke, StrokeUndo, StrokesClear, Laser)
CHAT = Registry("chat", MAX_CHAT_BYTES, Chat, Error)
FILES = Registry(
    "files",
    MAX_FILES_BYTES,
    FileOffer,
    FileAnswer,
    FileStart,
    FileEnd,
    FileResult,
    FileCancel,
    FileAck,
    FileRequest,
    FileRequestResult,
    Error,
)

#: Which signaling messages each role may send to the server.
FROM_OPERATOR = frozenset(
    {"hello", "create_session", "accept", "reject", "answer", "candidate", "bye", "resume"}
)
FROM_PEER = frozenset({"hello", "join", "offer", "candidate", "bye", "granted", "resume"})


# --------------------------------------------------------------------------- data channels


@dataclass(frozen=True)
class ChannelSpec:
    """One data channel: the peer creates every row before its first offer, the console
    adopts channels by ``label`` from the same table (an unknown label is closed and counted).

    ``max_retransmits`` None means reliable. ``registry`` is what a text frame on it must parse
    as; ``from_operator`` / ``from_peer`` are the message types each side may send on it.
    """

    label: str
    ordered: bool
    max_retransmits: int | None
    binary: bool
    registry: Registry
    from_operator: frozenset[str]
    from_peer: frozenset[str]

    def __post_init__(self) -> None:
        if not re.fullmatch(_TOKEN, self.label):
            raise ValueError(f"channel label {self.label!r} is not a token")
        unknown = sorted((self.from_operator | self.from_peer) - set(self.registry))
        if unknown:
            raise ValueError(f"channel {self.label}: {unknown[0]!r} is not in its registry")


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(
        "control",
        ordered=True,
        max_retransmits=None,
        binary=False,
        registry=CONTROL,
        from_operator=frozenset(
            {
                "consent_request",
                "release",
                "select_monitor",
                "view_report",
                "limit_request",
                "whole_screen_request",
                "clipboard",
            }
        ),
        from_peer=frozenset(
            {
                "capabilities",
                "consent_reply",
                "consent_state",
                "view_state",
                "whole_screen_reply",
                "clipboard",
                "voice_state",
                "camera_state",
            }
        ),
    ),
    ChannelSpec(
        "input",
        ordered=True,
        max_retransmits=None,
        binary=False,
        registry=INPUT,
        from_operator=frozenset(INPUT),
        from_peer=frozenset(),
    ),
    ChannelSpec(
        "chat",
        ordered=True,
        max_retransmits=None,
        binary=False,
        registry=CHAT,
        from_operator=frozenset({"chat", "error"}),
        from_peer=frozenset({"chat", "error"}),
    ),
    ChannelSpec(
        "files",
        ordered=True,
        max_retransmits=None,
        binary=True,
        registry=FILES,
        from_operator=frozenset(FILES) - {"file_request_result"},
        from_peer=frozenset(FILES) - {"file_request"},
    ),
    ChannelSpec(
        "annotate",
        ordered=True,
        max_retransmits=None,
        binary=False,
        registry=ANNOTATE,
        from_operator=frozenset(ANNOTATE),
        from_peer=frozenset({"stroke", "stroke_undo", "strokes_clear"}),
    ),
)
CHANNEL_BY_LABEL: Mapping[str, ChannelSpec] = {c.label: c for c in CHANNELS}


# --------------------------------------------------------------------------- capabilities

#: How a capability is granted: asked as soon as the session is paired, asked when the
#: operator requests it, or on for the whole session without a question.
CONSENT_KINDS = ("at_start", "on_request", "none")


@dataclass(frozen=True)
class CapabilitySpec:
    """One thing the operator may do in a session, and everything each side needs to know
    about it. ``{operator}`` in ``question`` is the operator's display name.

    ``channels`` and ``tracks`` say what carries it (data-channel labels; media kinds the peer
    sends for it); ``receives``: media kinds the peer receives for it (the operator's screen
    or camera), on a transceiver the peer adds only once the customer allows it.
    ``may_now`` completes the customer's "The operator can now ..." line; ``operator_name``
    is what the console calls it.
    """

    name: str
    modes: tuple[str, ...]
    channels: tuple[str, ...]
    tracks: tuple[str, ...]
    consent: str
    question: str
    may_now: str
    operator_name: str
    receives: tuple[str, ...] = ()

    def consent_in(self, mode: str) -> str:
        """How consent is given in a session of ``mode``: ``at_start`` holds only in the
        capability's first mode; in its other modes it is asked for ``on_request`` (screen
        viewing is asked at the start of a screen session, and only when the operator asks
        in a call)."""
        if self.consent == "at_start" and mode != self.modes[0]:
            return "on_request"
        return self.consent

    def __post_init__(self) -> None:
        if not re.fullmatch(_TOKEN, self.name):
            raise ValueError(f"capability name {self.name!r} is not a token")
        for mode in self.modes:
            if mode not in MODES:
                raise ValueError(f"capability {self.name}: unknown mode {mode!r}")
        for label in self.channels:
            if label not in CHANNEL_BY_LABEL:
                raise ValueError(f"capability {self.name}: unknown channel {label!r}")
        if self.consent not in CONSENT_KINDS:
            raise ValueError(
                f"capability {self.name}: consent {self.consent!r} is not one of "
                f"{', '.join(CONSENT_KINDS)}"
            )
        if self.consent != "none" and "{operator}" not in self.question:
            raise ValueError(f"capability {self.name}: the question must name the operator")


CAPABILITY_TABLE: tuple[CapabilitySpec, ...] = (
    CapabilitySpec(
        "view",
        modes=("screen", "call"),
        channels=("control",),
        tracks=("video",),
        consent="at_start",
        question="Allow {operator} to see your screen?",
        may_now="see your screen",
        operator_name="screen viewing",
    ),
    CapabilitySpec(
        "control",
        modes=("screen",),
        channels=("input",),
        tracks=(),
        consent="on_request",
        question="Allow {operator} to use your mouse and keyboard?",
        may_now="use your mouse and keyboard",
        operator_name="remote control",
    ),
    CapabilitySpec(
        "clipboard",
        modes=("screen", "call"),
        channels=("control",),
        tracks=(),
        consent="on_request",
        question="Allow {operator} to read and set your clipboard?",
        may_now="read and set your clipboard",
        operator_name="clipboard",
    ),
    CapabilitySpec(
        "files",
        modes=("screen", "call"),
        channels=("files",),
        tracks=(),
        consent="on_request",
        question="Allow {operator} to send you files and receive files you choose to send?",
        may_now="send you files and receive the files you send",
        operator_name="file transfer",
    ),
    CapabilitySpec(
        "voice",
        modes=("screen", "call"),
        channels=("control",),
        tracks=("audio",),
        consent="on_request",
        question="Allow {operator} to talk with you over your headset?",
        may_now="talk with you over your headset",
        operator_name="voice",
    ),
    CapabilitySpec(
        "annotate",
        modes=("screen",),
        channels=("annotate",),
        tracks=(),
        consent="on_request",
        question="Allow {operator} to draw on your screen to show you things?",
        may_now="draw on your screen",
        operator_name="drawing on the screen",
    ),
    CapabilitySpec(
        "camera",
        modes=("screen", "call"),
        channels=("control",),
        tracks=("video",),
        consent="on_request",
        question="Allow {operator} to see your camera?",
        may_now="see your camera",
        operator_name="the customer's camera",
    ),
    CapabilitySpec(
        "show_screen",
        modes=("screen", "call"),
        channels=("control",),
        tracks=(),
        consent="on_request",
        question="{operator} wants to show you their screen. Show it in a window here?",
        may_now="show you their screen",
        operator_name="showing your screen",
        receives=("video",),
    ),
    CapabilitySpec(
        "show_camera",
        modes=("screen", "call"),
        channels=("control",),
        tracks=(),
        consent="on_request",
        question="{operator} wants to show you their camera picture. Show it in a window here?",
        may_now="show you their camera picture",
        operator_name="showing your camera",
        receives=("video",),
    ),
    CapabilitySpec(
        "chat",
        modes=("screen", "call"),
        channels=("chat",),
        tracks=(),
        consent="none",
        question="",
        may_now="chat with you",
        operator_name="chat",
    ),
)
CAPABILITY_BY_NAME: Mapping[str, CapabilitySpec] = {c.name: c for c in CAPABILITY_TABLE}
#: Every capability this protocol version defines, in table order.
CAPABILITIES: tuple[str, ...] = tuple(c.name for c in CAPABILITY_TABLE)


def capabilities_of(mode: str) -> tuple[str, ...]:
    """The capabilities a session of ``mode`` can have, in table order."""
    return tuple(c.name for c in CAPABILITY_TABLE if mode in c.modes)


# --------------------------------------------------------------------------- parse / serialize


def parse(text: str | bytes, registry: Registry = SIGNALING) -> Any:
    """Parse one frame into its message, or raise ``ProtocolError`` saying what is wrong.

    ``registry`` is ``SIGNALING`` (default) or a data channel's (``CONTROL``, ``INPUT``,
    ``CHAT``); its size limit applies.
    """
    limit = registry.max_bytes
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ProtocolError("too_large", f"frame of {size} bytes exceeds the {limit}-byte limit")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProtocolError("bad_json", f"not UTF-8 text: {exc}") from None
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ProtocolError("bad_json", f"not valid JSON: nested deeper than {MAX_JSON_DEPTH}")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ProtocolError("bad_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", f"expected a JSON object, got {_kind(data)}")
    msg_type = data.get("type")
    if not isinstance(msg_type, str):
        raise ProtocolError("bad_message", "the 'type' field is missing or not a string")
    cls = registry.get(msg_type)
    if cls is None:
        raise ProtocolError("unknown_type", f"unknown message type {msg_type[:40]!r}")
    return _build(cls, data, msg_type)


def serialize(msg: Any) -> str:
    """The JSON text of ``msg``; fields that are ``None`` are left out."""
    return json.dumps(_to_json(msg), ensure_ascii=False, separators=(",", ":"))


def _json_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``, brackets inside strings not counted.

    Checked before ``json.loads`` so that the answer for a deep frame never depends on how
    much of the Python stack the caller already uses."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS_RE.findall(_JSON_STRING_RE.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# --------------------------------------------------------------------------- verification code


def sdp_fingerprint(sdp: str) -> str:
    """The first DTLS fingerprint of an SDP, as ``"sha-256 AB:CD:..."`` (algorithm lower case,
    hex upper case). Raises ``ValueError`` if the SDP has none."""
    m = _FINGERPRINT_RE.search(sdp.replace("\r\n", "\n"))
    if m is None:
        raise ValueError("the SDP carries no DTLS fingerprint")
    return f"{m.group(1).lower()} {m.group(2).upper()}"


def verification_code(fingerprint_a: str, fingerprint_b: str) -> str:
    """Six digits, grouped ``"123 456"``, that both sides compute from the two DTLS fingerprints.

    The order of the arguments does not matter. If a server in the middle swapped the
    fingerprints, the two sides show different codes.
    """
    a, b = sorted((fingerprint_a.strip(), fingerprint_b.strip()))
    try:
        digest = hashlib.sha256(f"supportlink-verify-v1\n{a}\n{b}".encode()).digest()
    except UnicodeEncodeError:
        raise ValueError("a fingerprint is not valid text") from None
    number = int.from_bytes(digest[:8], "big") % 1_000_000
    digits = f"{number:06d}"
    return f"{digits[:3]} {digits[3:]}"
