"""The registry of conventions: ranks decide across modules, scopes keep a library's keys to its
spans, a new convention is one module, and every rule says what it reads (the hot path's skip)."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.ingest.conventions import catalog
from interactiveai.server.ingest.conventions.mapping import map_span
from interactiveai.server.ingest.conventions.registry import Convention, build_profile
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.otlp import Resource, Scope, Span
from interactiveai.server.ingest.pricing import Pricing

STEPS = ("types", "names", "inputs", "outputs", "usage", "costs", "parameters", "first_token")


def _span(attributes: dict[str, Any], scope: str = "some.library", events: Any = ()) -> Span:
    resource = Resource({"service.name": "svc"}, "svc")
    return Span(
        "1" * 32,
        "2" * 16,
        None,
        "op",
        1_000_000_000,
        2_000_000_000,
        attributes,
        list(events),
        0,
        "",
        resource,
        Scope(scope, "1", {}),
    )


def test_ranks_not_module_order_decide() -> None:
    early = Convention(name="early", rank=5, slots={"model": ("early.model",)})
    late = Convention(name="late", rank=90, slots={"model": ("late.model",)})
    promoted = Convention(name="promoted", rank=90, slots={"model": (("promoted.model", 1),)})
    attributes = {"late.model": "late", "early.model": "early", "promoted.model": "promoted"}
    for conventions in ([late, early], [early, late]):
        assert Scan(_span(attributes), build_profile(conventions)).found["model"] == "early"
    for conventions in ([promoted, early], [early, promoted]):
        assert Scan(_span(attributes), build_profile(conventions)).found["model"] == "promoted"


def test_a_new_convention_is_one_module() -> None:
    """A library is a Convention: its keys, its rules, its scope, nothing else to change."""

    def name(scan: Scan) -> Any:
        return f"acme:{scan.found['acme_step']}"

    acme = Convention(
        name="acme",
        rank=40,
        scopes=("acme.*",),
        slots={"acme_step": ("acme.step",), "input": ("acme.prompt",)},
        names=((40, name, ("acme_step",)),),
    )
    original = catalog.CONVENTIONS
    try:
        catalog.CONVENTIONS = (*original, acme)
        catalog._PROFILES.clear()
        catalog._BY_SET.clear()
        attributes = {"acme.step": "plan", "acme.prompt": "hi"}
        mapped = map_span(_span(attributes, scope="acme.agents"), "p", Pricing(None))
        assert mapped.row["name"] == "acme:plan" and mapped.row["input"] == '"hi"'
        elsewhere = map_span(_span(attributes, scope="other"), "p", Pricing(None))
        assert elsewhere.row["name"] == "op" and elsewhere.row["input"] is None
        assert "acme.step" in elsewhere.row["metadata"]  # kept, unread, as the span's attributes
    finally:
        catalog.CONVENTIONS = original
        catalog._PROFILES.clear()
        catalog._BY_SET.clear()


@pytest.mark.parametrize("convention", catalog.CONVENTIONS, ids=lambda c: c.name)
def test_every_rule_of_an_unscoped_convention_names_what_it_reads(convention: Convention) -> None:
    """A rule without ``needs`` runs on every span of every scope: one is enough to make each of
    our SDK's spans call every rule (mapping ~35 % slower)."""
    if convention.scopes is not None:
        return
    for step in STEPS:
        for stage in getattr(convention, step):
            assert len(stage) == 3 and stage[2], f"{convention.name}.{step}: rule without needs"
    if convention.prepare is not None or convention.refine is not None:
        assert convention.needs, f"{convention.name}: prepare/refine without needs"


def test_our_sdk_spans_call_no_rule() -> None:
    profile = catalog.profile("interactiveai")
    attributes = {
        "interactiveai.observation.type": "generation",
        "interactiveai.observation.model.name": "gpt-4o-mini",
        "interactiveai.observation.usage_details": '{"input": 1, "output": 2}',
        "interactiveai.observation.metadata.k": '"v"',
        "user.id": "u",
    }
    assert Scan(_span(attributes, scope="interactiveai"), profile).quiet
    assert not Scan(_span({**attributes, "gen_ai.operation.name": "chat"}, scope="interactiveai"), profile).quiet


def test_scoped_keys_are_read_in_their_scope_only() -> None:
    in_scope = catalog.profile("pydantic-ai")
    elsewhere = catalog.profile("my.library")
    assert "final_result" in in_scope.keys and "final_result" not in elsewhere.keys
    assert catalog.profile("ai") is not elsewhere and "ai.toolCall.name" not in elsewhere.keys
    assert catalog.profile("my.other.library") is elsewhere  # scopes meeting the same conventions share
