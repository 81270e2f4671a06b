"""The customer's words for capabilities and consent decisions, shared by the window and the
headless lines (no Tk here)."""

from __future__ import annotations

from wire import protocol

from .i18n import t


def operator_label(name: str, organisation: str | None) -> str:
    """Who the customer is dealing with: ``Alice Smith (Acme IT)``, or the name alone."""
    if organisation:
        return t("operator.with_organisation", name=name, organisation=organisation)
    return name


def may_now(capability: str) -> str:
    if capability in protocol.CAPABILITY_BY_NAME:
        return t(f"capability.{capability}.may_now")
    return capability


def question(capability: str, operator: str) -> str:
    spec = protocol.CAPABILITY_BY_NAME.get(capability)
    if spec is None or not spec.question:
        return t("consent.question_unknown", operator=operator, capability=capability)
    return t(f"capability.{capability}.question", operator=operator)


def answers(capability: str) -> tuple[str, str]:
    """The words of the question's yes and no buttons: what the operator shows is offered
    ("Show" / "Not now"), everything else is allowed or denied."""
    if capability in ("show_screen", "show_camera"):
        return t("show.yes"), t("show.no")
    return t("consent.allow"), t("consent.deny")


def capability_name(capability: str) -> str:
    """The customer's word for a capability (its token, for one this peer does not know)."""
    if capability in protocol.CAPABILITY_BY_NAME:
        return t(f"capability.{capability}.name")
    return capability


#: Reasons that end something that was allowed: "stopped", not "denied".
_STOPPED = frozenset({"customer_revoked", "operator_released", "session_ended"})


def decided_text(capability: str, allowed: bool, why: str) -> str:
    """``view allowed (pre-granted by --allow)``, in the customer's language."""
    name = (
        t(f"capability.{capability}.name")
        if capability in protocol.CAPABILITY_BY_NAME
        else (capability)
    )
    if allowed:
        verdict = t("verdict.allowed")
    elif why in _STOPPED:
        verdict = t("verdict.stopped")
    else:
        verdict = t("verdict.denied")
    return t("line.decided", capability=capability, name=name, verdict=verdict, why=t(f"why.{why}"))
