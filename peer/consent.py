"""What the operator may do right now: the peer's single authority on consent (sans-IO).

Every rule comes from ``protocol.CAPABILITY_TABLE``: which capabilities a session of each mode
has, which are asked for as soon as the session is paired (``at_start``), which only when the
operator requests them (``on_request``) and which are on without a question (``none``).

Inputs are events (paired, the operator asked, the customer answered, revoked, the operator
released a capability); each returns the actions to carry out, in order:

* ``Ask(capability)``              -- show the customer the question (GUI only)
* ``Decided(capability, allowed, why)`` -- carry it out (the feature starts or stops), and
                                      one line for the customer / the log; ``why`` is a
                                      token the UI puts in words (``why.*`` in the catalogue)
* ``Reply(capability, allowed)``   -- send ``consent_reply`` to the operator
* ``State(granted)``               -- send ``consent_state`` to the operator

Without anyone to ask (headless), a request for a capability not pre-granted is denied at
once. What the customer revokes is no longer pre-granted: asking again asks the customer (or,
headless, is denied); what the operator hands back (``release``) may be asked for again.
A capability this peer does not carry out in this session (not in ``supported``: another
mode's, or one this peer does not know) is always denied. Screen viewing exists in a call too,
but only on request (``CapabilitySpec.consent_in``): a call never shares the screen before the
operator asks, even with ``--allow view``. Nor does voice start at pairing: with
``--allow voice`` the microphone opens when the operator starts voice, not before.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire import protocol


@dataclass(frozen=True)
class Ask:
    capability: str


@dataclass(frozen=True)
class Decided:
    capability: str
    allowed: bool
    why: str


@dataclass(frozen=True)
class Reply:
    capability: str
    allowed: bool


@dataclass(frozen=True)
class State:
    granted: tuple[str, ...]


Action = Ask | Decided | Reply | State


class Consent:
    """Grants, pending questions, denials and revocations for one session."""

    def __init__(self, pregranted: frozenset[str] = frozenset(), *, can_ask: bool) -> None:
        unknown = sorted(pregranted - set(protocol.CAPABILITIES))
        if unknown:
            raise ValueError(f"unknown capability {unknown[0]!r}")
        self.pregranted = pregranted
        self.can_ask = can_ask
        self.mode = "screen"
        self.supported: tuple[str, ...] = ()
        self._granted: set[str] = set()
        self._pending: set[str] = set()
        self._ended = False

    @property
    def granted(self) -> tuple[str, ...]:
        """Granted capabilities in table order."""
        return tuple(c for c in protocol.CAPABILITIES if c in self._granted)

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._pending)

    def allows(self, capability: str) -> bool:
        return not self._ended and capability in self._granted

    # ------------------------------------------------------------------ events

    def paired(self, mode: str, supported: tuple[str, ...] | None = None) -> list[Action]:
        """The operator accepted us: capabilities without consent and ``--allow`` start, and
        the ``at_start`` questions are asked. ``supported`` defaults to the mode's row set."""
        if mode not in protocol.MODES:
            raise ValueError(f"unknown session mode {mode!r}")
        self.mode = mode
        if supported is None:
            supported = protocol.capabilities_of(mode)
        self.supported = tuple(c for c in supported if mode in _spec(c).modes)
        actions: list[Action] = []
        for name in self.supported:
            spec = _spec(name)
            if spec.consent == "none":
                actions += self._grant(name, "always_on", reply=False)
            elif (
                name in self.pregranted
                and spec.consent_in(mode) == spec.consent
                and not (spec.consent == "on_request" and (spec.tracks or spec.receives))
            ):
                # asked at the start elsewhere but only on request here (screen viewing in a
                # call), or media asked for (a microphone, a camera, the operator's screen):
                # even pre-granted, it starts when the operator asks
                actions += self._grant(name, "allow_option", reply=False)
        for name in self.supported:
            if _spec(name).consent_in(mode) == "at_start" and name not in self._granted:
                actions += self._question(name)
        actions.append(State(self.granted))
        return actions

    def request(self, capability: str) -> list[Action]:
        """The operator asked for ``capability`` (``consent_request``)."""
        if self._ended:
            return []
        if capability in self._granted:
            return [Reply(capability, True), State(self.granted)]
        if capability in self._pending:
            return []
        if capability not in self.supported:
            if capability in protocol.CAPABILITY_BY_NAME:
                why = f"not_in_{self.mode}_session"
            else:
                why = "unknown_capability"
            return self._deny(capability, why)
        if capability in self.pregranted:
            return [*self._grant(capability, "allow_option"), State(self.granted)]
        return self._question(capability)

    def answer(self, capability: str, allowed: bool) -> list[Action]:
        """The customer answered the question about ``capability``."""
        if self._ended or capability not in self._pending:
            return []
        self._pending.discard(capability)
        if allowed:
            return [*self._grant(capability, "customer_allowed"), State(self.granted)]
        return self._deny(capability, "customer_denied")

    def revoke(self, capability: str) -> list[Action]:
        """The customer takes a capability back; ``--allow`` no longer grants it."""
        self.pregranted = self.pregranted - {capability}
        return self._withdraw(capability, "customer_revoked")

    def release(self, capability: str) -> list[Action]:
        """The operator hands a capability back (``release``)."""
        return self._withdraw(capability, "operator_released")

    def end(self) -> list[Action]:
        """The session is over: everything stops, nothing is granted again."""
        ended = [Decided(c, False, "session_ended") for c in self.granted]
        self._granted.clear()
        self._pending.clear()
        self._ended = True
        return list(ended)

    # ------------------------------------------------------------------ helpers

    def _question(self, capability: str) -> list[Action]:
        if not self.can_ask:
            return self._deny(capability, "not_in_allow_option")
        self._pending.add(capability)
        return [Ask(capability)]

    def _grant(self, capability: str, why: str, *, reply: bool = True) -> list[Action]:
        self._granted.add(capability)
        actions: list[Action] = [Decided(capability, True, why)]
        if reply:
            actions.append(Reply(capability, True))
        return actions

    def _deny(self, capability: str, why: str) -> list[Action]:
        return [Decided(capability, False, why), Reply(capability, False), State(self.granted)]

    def _withdraw(self, capability: str, why: str) -> list[Action]:
        if self._ended or capability not in self._granted:
            return []
        self._granted.discard(capability)
        return [Decided(capability, False, why), State(self.granted)]


def _spec(name: str) -> protocol.CapabilitySpec:
    return protocol.CAPABILITY_BY_NAME[name]
