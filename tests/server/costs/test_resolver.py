"""ProjectNames: bounded memory whatever names a project sends, and resumable scans."""

from __future__ import annotations

import time

from interactiveai.server.costs.catalog import Catalog
from interactiveai.server.costs.patterns import MAX_NAME_LENGTH, matching_until, subject_of, validate_pattern
from interactiveai.server.costs.resolver import GENERATION, MAX_PENDING, Definition, ProjectNames

CATALOG = Catalog()
LATER = float("inf")  # a deadline never reached


def _names(*patterns: str) -> ProjectNames:
    definitions = [(validate_pattern(p), Definition(f"m{i}", None, i, {"input": 1.0})) for i, p in enumerate(patterns)]
    return ProjectNames(0.0, None, definitions)


def _cached(names: ProjectNames, name: str) -> bool:
    return name in names.young or names.recall(name) is not None


def test_a_flood_of_new_names_keeps_memory_bounded_and_the_names_in_use() -> None:
    names = _names("^my-model$")
    assert names.resolve("my-model", CATALOG, LATER).definitions[0].id == "m0"
    for i in range(5 * GENERATION):
        names.resolve(f"flood-{i}", CATALOG, LATER)
        if i % (GENERATION // 2) == 0:
            assert _cached(names, "my-model")  # used now and then: it stays
    assert len(names.young) + len(names._old) <= 2 * GENERATION
    assert not _cached(names, "flood-0")  # one-off names went


def test_interrupted_scans_are_bounded_and_resumed() -> None:
    names = _names(*(f"^x{i}$" for i in range(4)))
    past = time.perf_counter() - 1  # every scan stops after one search
    for i in range(3 * MAX_PENDING):
        assert not names.resolve(f"n{i}", CATALOG, past).complete
    assert len(names._pending) == MAX_PENDING
    last = f"n{3 * MAX_PENDING - 1}"
    assert [names.resolve(last, CATALOG, past).complete for _ in range(3)] == [False, False, True]
    assert names.young[last].definitions == ()


def test_without_budget_nothing_is_searched_and_nothing_remembered_unless_nothing_was_left() -> None:
    names = _names("^gpt")
    CATALOG.resolve("gpt-4o")
    unsure = names.unresolved("gpt-4o", CATALOG)
    assert (unsure.complete, unsure.definitions, unsure.catalog is not None) == (False, (), True)
    assert "gpt-4o" not in names.young
    # A project without definitions only needed the catalog, which had the answer at hand.
    empty = _names()
    assert empty.unresolved("gpt-4o", CATALOG).complete and "gpt-4o" in empty.young
    assert not empty.unresolved("never-resolved-model-name-9", CATALOG).complete
    # A name too long to be a model name needs no search at all.
    assert names.unresolved("x" * (MAX_NAME_LENGTH + 1), CATALOG).complete


def test_matching_until_searches_at_least_one_pattern_and_says_where_to_resume() -> None:
    candidates = [(validate_pattern(p), i) for i, p in enumerate(["^gpt", "mini$", "^claude", "4o"])]
    subject = subject_of("gpt-4o-mini")
    assert subject is not None
    assert matching_until(candidates, subject, 0, LATER) == (4, [0, 1, 3])
    past = time.perf_counter() - 1
    assert matching_until(candidates, subject, 0, past) == (1, [0])
    assert matching_until(candidates, subject, 1, past) == (2, [1])
    assert matching_until(candidates, subject, 4, past) == (4, [])


def test_catalog_peek_does_no_work() -> None:
    catalog = Catalog()
    assert catalog.peek("gpt-4o") == (False, None)
    found = catalog.resolve("gpt-4o")
    assert found is not None and catalog.peek(" GPT-4o ") == (True, found)
    assert catalog.peek("x" * 300) == (True, None)  # never a model name: known without resolving
