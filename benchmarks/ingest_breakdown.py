"""Where the server's CPU per span goes, small payloads against the realistic mix, step by step.

In one process, without HTTP, on a fresh SQLite file each: decode the protobuf exports
(ingest/otlp.py), map the spans (conventions, JSON payloads, pricing), then write them with the
ingestion writer's own function (ingest/writes.py ``write_batch``, one transaction per request
as the group commit does at low load), once as migrated and once without the traces' full-text
triggers (what FTS indexing costs), counting the WAL bytes each writes. The top functions of the
mapping step follow (cProfile), for the realistic mix.

    .venv/bin/python benchmarks/ingest_breakdown.py --spans 20000
    .venv/bin/python benchmarks/ingest_breakdown.py --spans 10000 --postgresql

``--postgresql`` measures the write step on a throwaway PostgreSQL cluster instead (as the
tests start one): the writer's own CPU and the cluster's (every process of it, so index
maintenance and background writes count) per span, as migrated and without the traces'
full-text GIN index, plus what computing that index's tsvector alone costs per span.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks.workload import SPANS_PER_TRACE, Workload  # noqa: E402
from tests.server.ingest.otlp_builders import ResourceSpec, encode_protobuf, realistic_trace  # noqa: E402

from interactiveai.server.ingest.otlp import decode_protobuf  # noqa: E402
from interactiveai.server.ingest.pricing import Pricing  # noqa: E402
from interactiveai.server.ingest.service import _map_all  # noqa: E402
from interactiveai.server.ingest.writes import write_batch  # noqa: E402
from interactiveai.server.storage import migrate  # noqa: E402
from interactiveai.server.storage.engines import create_db_engine  # noqa: E402
from interactiveai.server.tenancy import create_project  # noqa: E402

PROJECT = "breakdown"
FTS_TRIGGERS = ("traces_fts_insert", "traces_fts_update", "traces_fts_delete")
# What other full-text layouts would cost (a throwaway database: the layout itself is migration 0002's)
FTS_VARIANTS = {
    "fts detail=column": ("detail=column", "new.input", "new.output"),
    "fts first 2,000 chars": ("", "substr(new.input, 1, 2000)", "substr(new.output, 1, 2000)"),
}


def _fts_variant(conn: Any, detail: str, input_expr: str, output_expr: str) -> None:
    for trigger in FTS_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    conn.exec_driver_sql("DROP TABLE traces_fts")
    options = f", {detail}" if detail else ""
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE traces_fts USING fts5(input, output, content='traces', content_rowid='rowid', "
        f"tokenize='unicode61 remove_diacritics 2'{options})"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER traces_fts_insert AFTER INSERT ON traces BEGIN "
        f"INSERT INTO traces_fts(rowid, input, output) VALUES (new.rowid, {input_expr}, {output_expr}); END"
    )


def bodies(workload: str, spans: int, batch: int) -> list[bytes]:
    traces = max(1, spans // SPANS_PER_TRACE)
    if workload == "realistic":
        return [body for body, _ in Workload(traces, seed=7).requests(0, traces, batch)]
    per_request = max(1, batch // SPANS_PER_TRACE)
    return [
        encode_protobuf([ResourceSpec([s for _ in range(per_request) for s in realistic_trace()])])
        for _ in range(0, traces, per_request)
    ]


def _cpu(step: Callable[[], Any]) -> tuple[Any, float]:
    began = time.process_time()
    result = step()
    return result, time.process_time() - began


def _write(mapped: list[list[Any]], fts: bool | str) -> tuple[float, int, int]:
    """CPU seconds, WAL bytes written and database bytes, for writing every request's spans."""
    with tempfile.TemporaryDirectory(prefix="ia-breakdown-") as tmp:
        path = Path(tmp) / "db.sqlite"
        engine = create_db_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        create_project(engine, "Breakdown", PROJECT)
        with engine.connect() as conn:
            if fts is False:
                for trigger in FTS_TRIGGERS:
                    conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
            elif isinstance(fts, str):
                _fts_variant(conn, *FTS_VARIANTS[fts])
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # the WAL's size is then what was written
            conn.commit()
            began = time.process_time()
            for spans in mapped:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                write_batch(conn, [(PROJECT, spans)])
                conn.exec_driver_sql("COMMIT")
            cpu = time.process_time() - began
            wal = os.path.getsize(str(path) + "-wal")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        return cpu, wal, os.path.getsize(path)


def _write_postgresql(server_url: str, mapped: list[list[Any]], without_fulltext: bool) -> tuple[float, float, int]:
    """Writer CPU seconds, PostgreSQL cluster CPU seconds and database bytes, for every request's
    spans written in its own transaction (``write_batch``), on a fresh database."""
    from benchmarks.ingest import _postgres_cpu_seconds, _postmaster_pid
    from tests.support.postgres import create_database

    url = create_database(server_url)
    engine = create_db_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrate.upgrade(engine)
    create_project(engine, "Breakdown", PROJECT)
    postmaster = _postmaster_pid(server_url)
    with engine.connect() as conn:
        if without_fulltext:
            conn.exec_driver_sql("DROP INDEX ix_traces_fulltext")
        conn.commit()
        began, cluster_began = time.process_time(), _postgres_cpu_seconds(postmaster)
        for spans in mapped:
            with conn.begin():
                write_batch(conn, [(PROJECT, spans)])
        if not without_fulltext:  # what the GIN index defers to its pending list counts too
            conn.exec_driver_sql("SELECT gin_clean_pending_list('ix_traces_fulltext'::regclass)")
            conn.commit()
        cpu, cluster = time.process_time() - began, _postgres_cpu_seconds(postmaster) - cluster_began
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
        conn.commit()
    engine.dispose()
    return cpu, cluster, size


def _tsvector_cpu(server_url: str, mapped: list[list[Any]]) -> float:
    """PostgreSQL CPU seconds to compute the full-text index's expression over the traces once."""
    from benchmarks.ingest import _postgres_cpu_seconds, _postmaster_pid
    from tests.support.postgres import create_database

    from interactiveai.server.query.search import POSTGRES_TSVECTOR

    url = create_database(server_url)
    engine = create_db_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrate.upgrade(engine)
    create_project(engine, "Breakdown", PROJECT)
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP INDEX ix_traces_fulltext")
        conn.commit()
        for spans in mapped:
            with conn.begin():
                write_batch(conn, [(PROJECT, spans)])
        postmaster = _postmaster_pid(server_url)
        began = _postgres_cpu_seconds(postmaster)
        conn.exec_driver_sql(f"SELECT sum(length({POSTGRES_TSVECTOR})) FROM traces").scalar()
        cpu = _postgres_cpu_seconds(postmaster) - began
        conn.commit()
    engine.dispose()
    return cpu


def measure_postgresql(server_url: str, workload: str, spans: int, batch: int) -> dict[str, float]:
    decoded = [decode_protobuf(body) for body in bodies(workload, spans, batch)]
    count = sum(len(one) for one in decoded)
    pricing = Pricing(None)
    per = 1e6 / count
    figures: dict[str, float] = {"spans": count}
    for label, without in (("", False), (" without GIN", True)):
        mapped = [_map_all(one, PROJECT, pricing) for one in decoded]
        cpu, cluster, size = _write_postgresql(server_url, mapped, without)
        figures[f"writer_us{label}"] = cpu * per
        figures[f"postgres_us{label}"] = cluster * per
        figures[f"db_bytes_per_span{label}"] = size / count
    figures["tsvector_us"] = _tsvector_cpu(server_url, [_map_all(one, PROJECT, pricing) for one in decoded]) * per
    return figures


def measure(workload: str, spans: int, batch: int, fts_variants: bool = True) -> dict[str, float]:
    posted = bodies(workload, spans, batch)
    decoded, decode_cpu = _cpu(lambda: [decode_protobuf(body) for body in posted])
    count = sum(len(spans) for spans in decoded)
    pricing = Pricing(None)  # the catalog only, as a project without models of its own
    mapped, map_cpu = _cpu(lambda: [_map_all(spans, PROJECT, pricing) for spans in decoded])
    write_cpu, wal, size = _write(mapped, fts=True)
    write_cpu_no_fts, wal_no_fts, size_no_fts = _write(
        [_map_all(spans, PROJECT, pricing) for spans in decoded], fts=False
    )
    variants = {
        name: _write([_map_all(spans, PROJECT, pricing) for spans in decoded], fts=name)
        for name in (FTS_VARIANTS if fts_variants else ())
    }
    per = 1e6 / count
    extra = {}
    for name, (cpu, _, db_bytes) in variants.items():
        extra[f"write_us, {name}"] = cpu * per
        extra[f"db_bytes_per_span, {name}"] = db_bytes / count
    return {
        "spans": count,
        "wire_bytes_per_span": sum(map(len, posted)) / count,
        "decode_us": decode_cpu * per,
        "map_us": map_cpu * per,
        "write_us": write_cpu * per,
        "write_us_without_fts": write_cpu_no_fts * per,
        "wal_bytes_per_span": wal / count,
        "wal_bytes_per_span_without_fts": wal_no_fts / count,
        "db_bytes_per_span": size / count,
        "db_bytes_per_span_without_fts": size_no_fts / count,
        **extra,
    }


def compression(spans: int, batch: int) -> list[tuple[str, int, float, float, float]]:
    """Each codec on the realistic mix's observation payloads above a size: (codec, threshold,
    stored bytes per span, saved bytes per span, CPU µs per span to compress + decompress)."""
    import zlib

    import zstandard

    pricing = Pricing(None)
    decoded = [decode_protobuf(body) for body in bodies("realistic", spans, batch)]
    payloads = [
        value.encode()
        for one in decoded
        for mapped in _map_all(one, PROJECT, pricing)
        for value in (mapped.row.get("input"), mapped.row.get("output"))
        if value
    ]
    count = sum(len(one) for one in decoded)
    zstd_c, zstd_d = zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor()
    codecs: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
        "zlib-1": (lambda b: zlib.compress(b, 1), zlib.decompress),
        "zlib-6": (lambda b: zlib.compress(b, 6), zlib.decompress),
        "zstd-3": (zstd_c.compress, zstd_d.decompress),
    }
    rows = []
    for name, (compress, decompress) in codecs.items():
        for threshold in (0, 1024, 4096):
            chosen = [p for p in payloads if len(p) >= threshold]
            began = time.process_time()
            packed = [compress(p) for p in chosen]
            for p in packed:
                decompress(p)
            cpu = time.process_time() - began
            stored = sum(map(len, payloads)) - sum(map(len, chosen)) + sum(map(len, packed))
            saved = sum(map(len, payloads)) - stored
            rows.append((name, threshold, stored / count, saved / count, cpu / count * 1e6))
    return rows


def profile_mapping(spans: int, batch: int, top: int) -> str:
    decoded = [decode_protobuf(body) for body in bodies("realistic", spans, batch)]
    pricing = Pricing(None)
    profiler = cProfile.Profile()
    profiler.enable()
    for one in decoded:
        _map_all(one, PROJECT, pricing)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="Spans per request (one transaction each).")
    parser.add_argument("--top", type=int, default=25, help="Functions listed from the mapping profile (0: none).")
    parser.add_argument(
        "--fts-variants", action=argparse.BooleanOptionalAction, default=True, help="Also write with other FTS layouts."
    )
    parser.add_argument(
        "--postgresql", action="store_true", help="Measure the write step on a throwaway PostgreSQL cluster instead."
    )
    args = parser.parse_args()
    if args.postgresql:
        from tests.support.postgres import postgres_server

        with postgres_server() as server_url:
            pg = {w: measure_postgresql(server_url, w, args.spans, args.batch) for w in ("small", "realistic")}
        print(f"{'PostgreSQL, per span':>32} {'small':>10} {'realistic':>10} {'difference':>10}")
        for key in pg["small"]:
            small, realistic = pg["small"][key], pg["realistic"][key]
            print(f"{key:>32} {small:>10,.1f} {realistic:>10,.1f} {realistic - small:>+10,.1f}")
        return
    results = {w: measure(w, args.spans, args.batch, args.fts_variants) for w in ("small", "realistic")}
    print(f"{'per span':>32} {'small':>10} {'realistic':>10} {'difference':>10}")
    for key in results["small"]:
        small, realistic = results["small"][key], results["realistic"][key]
        print(f"{key:>32} {small:>10,.1f} {realistic:>10,.1f} {realistic - small:>+10,.1f}")
    for name, figures in results.items():
        fts = figures["write_us"] - figures["write_us_without_fts"]
        total = figures["decode_us"] + figures["map_us"] + figures["write_us"]
        print(
            f"{name}: {total:.0f} µs/span in these steps = decode {figures['decode_us']:.0f} + map "
            f"{figures['map_us']:.0f} + write {figures['write_us']:.0f} (of which FTS {fts:.0f})"
        )
    print(f"{'payload compression':>24} {'above':>6} {'stored B/span':>14} {'saved B/span':>13} {'µs/span':>8}")
    for name, threshold, stored, saved, cpu in compression(args.spans, args.batch):
        print(f"{name:>24} {threshold:>6} {stored:>14,.0f} {saved:>13,.0f} {cpu:>8.1f}")
    if args.top:
        print(profile_mapping(args.spans, args.batch, args.top))


if __name__ == "__main__":
    main()
