"""Search over big payloads (migration 0007): whatever the payload, the trace is stored and found.

A tsvector holds at most 1 MiB, so PostgreSQL's full-text index covers the first
POSTGRES_SEARCH_CHARS characters of each of input and output; SQLite's FTS5 indexes everything.
Before 0007 a trace with megabytes of distinct words was refused on PostgreSQL (400, SQLSTATE
54000) while SQLite stored it.
"""

from __future__ import annotations

import base64
import os
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from interactiveai.server.query.search import POSTGRES_SEARCH_CHARS, POSTGRES_TSVECTOR, trace_fulltext_condition
from interactiveai.server.storage.schema import traces
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id
from tests.server.query.seed import add_trace
from tests.server.query.seed import trace_id as seed_trace_id
from tests.server.ui.conftest import PASSWORD, login

TSVECTOR_MAX_BYTES = 1_048_575  # PostgreSQL's MAXSTRPOS: lexemes and positions of one tsvector


def _uuids(total_chars: int) -> str:
    """A tool output listing UUIDs: every word distinct (and each UUID a hyphenated word)."""
    return " ".join(str(uuid.uuid4()) for _ in range(total_chars // 37 + 1))


def _distinct_words(total_chars: int) -> str:
    words = base64.b32encode(os.urandom(total_chars * 10 // 17)).decode().lower()
    return " ".join(words[i : i + 16] for i in range(0, len(words), 16))


@pytest.fixture
def ui(client: Any, engine: Any, project: Any) -> Any:
    add_membership(engine, create_user(engine, "member@example.com", PASSWORD, name="Mia Member"), project.id)
    assert login(client, "member@example.com").status_code == 303
    return client


def test_a_trace_with_megabytes_of_distinct_words_is_stored_read_and_found(
    client: Any, engine: Any, project: Any, ui: Any
) -> None:
    tid = trace_id()
    head = "zanzibarite " + _uuids(20_000)  # within the first POSTGRES_SEARCH_CHARS characters
    big_input = head + " " + _uuids(3_000_000) + " quagmirelast"
    big_output = "ultramarine " + _distinct_words(3_000_000) + " farawayword"
    assert len(big_input) > 3_000_000 and len(big_output) > 3_000_000
    attributes = {"interactiveai.trace.input": big_input, "interactiveai.trace.output": big_output}
    Ingest(client, engine, project).ok([SpanSpec(tid, span_id(), "retrieval", attributes=attributes)])

    trace = client.get(f"/api/public/traces/{tid}", headers=project.headers)
    assert trace.status_code == 200
    assert trace.json()["input"] == big_input and trace.json()["output"] == big_output
    assert ui.get(f"/project/{project.id}/traces/{tid}").status_code == 200

    def found(query: str) -> bool:
        body = ui.get(f"/project/{project.id}/traces.json?range=all&q={query}").json()
        return [t["id"] for t in body["data"]] == [tid]

    first_uuid = head.split()[1]
    assert found("zanzibarite") and found("ultramarine") and found("zanzibarite+ultramar")
    assert found(first_uuid.split("-")[0])  # a part of a hyphenated word
    # beyond the first POSTGRES_SEARCH_CHARS characters: indexed by FTS5 only (docs/server.md)
    beyond = engine.dialect.name == "sqlite"
    assert found("quagmirelast") is beyond and found("farawayword") is beyond


def test_the_bound_holds_for_the_worst_text(engine: Any, project: Any) -> None:
    """Text built to need the most tsvector bytes per character: 4-byte letters, each word distinct,
    each in two lexemes (a hyphenated word and its parts). The index expression of every such row
    stays well inside the limit, where the whole text would not fit."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a limit of PostgreSQL's tsvector")
    rnd = random.Random(10)
    letters = [chr(c) for c in range(0x20000, 0x2A6DF)]  # CJK Extension B: 4 bytes each in UTF-8
    rnd.shuffle(letters)

    def pairs(n: int, width: int, start: int = 0) -> str:
        pick = iter(letters[start:] + letters[:start] + letters * 3)
        return " ".join(
            "".join(next(pick) for _ in range(width)) + "-" + "".join(next(pick) for _ in range(width))
            for _ in range(n)
        )

    def urls(first: int) -> str:
        return " ".join(f"h{i}.example/{letters[i]}-{letters[-i]}" for i in range(first, first + 10_000))

    half = len(letters) // 2  # input and output share no word: their lexemes add up
    worst = {
        "hyphenated pairs of letters": (pairs(60_000, 1), pairs(60_000, 1, half)),
        "hyphenated pairs of 4-letter words": (pairs(20_000, 4), pairs(20_000, 4, half)),
        "hyphenated URLs": (urls(1), urls(10_001)),
        "UUIDs": (_uuids(300_000), _uuids(300_000)),
    }
    for n, (name, (worst_input, worst_output)) in enumerate(worst.items(), 1):
        assert min(len(worst_input), len(worst_output)) > POSTGRES_SEARCH_CHARS, name
        add_trace(engine, project.id, seed_trace_id(n), name=name, input=worst_input, output=worst_output)
    with engine.connect() as conn:
        # the bytes the limit counts (lexemes and positions): the vector less its header and entries
        used = dict(
            conn.execute(
                text(
                    f"SELECT name, pg_column_size(v) - 8 - 4 * length(v) FROM"
                    f" (SELECT name, {POSTGRES_TSVECTOR} AS v FROM traces WHERE project_id = :p) AS vectors"
                ),
                {"p": project.id},
            ).all()
        )
        # the whole text would exceed the limit: the data is a real test of the bound
        whole = " ".join(worst["hyphenated pairs of 4-letter words"])
        with pytest.raises(Exception, match="too long for tsvector"), conn.begin_nested():
            conn.execute(text("SELECT to_tsvector('simple', :t)"), {"t": whole})
    assert set(used) == set(worst)
    for name, size in used.items():
        assert size < TSVECTOR_MAX_BYTES / 1.5, (name, size)  # the margin the bound's choice promises


def test_postgresql_search_uses_the_index(engine: Any, project: Any) -> None:
    """query/search.py builds exactly the index's expression: the planner can use the index."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's FTS5 is a table of its own, always used")
    for n in range(1, 41):
        add_trace(engine, project.id, seed_trace_id(n), input=f'"word{n} shared"', output='"reply"')
    condition = trace_fulltext_condition("postgresql", "word7 shar")
    assert condition is not None
    query = select(traces.c.id).where(condition)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE traces"))
        conn.execute(text("SET enable_seqscan = off"))
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + str(compiled).replace(":", r"\:"))))
        assert "ix_traces_fulltext" in plan, plan
        assert conn.execute(query).scalars().all() == [seed_trace_id(7)]
        assert conn.execute(select(func.count()).select_from(traces)).scalar_one() == 40
