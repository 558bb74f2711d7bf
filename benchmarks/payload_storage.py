"""Payload storage: bytes on disk per span with each payload stored once against two copies, and
what compressing the payloads would save for how much CPU (docs/benchmarks.md, "Payload storage").

Seeds ``--traces`` traces of the realistic workload (benchmarks/seed.py: a server subprocess, OTLP
protobuf) into a fresh SQLite file, or into ``--database-url`` (an empty PostgreSQL database).
Then, on that one database:

1. the stored form (a root observation's payload equal to its trace's is kept on the trace row
   only, storage/payload_sharing.py), compacted (``VACUUM`` / ``VACUUM FULL``), measured;
2. compression of the payloads as stored: zstd (the ``zstandard`` package) of every payload of at
   least ``--min-bytes``, CPU per span to compress and to decompress; on PostgreSQL, the payload
   columns copied into tables compressed with pglz (the default) and with lz4, server time per
   span to write and to read them back, and their sizes;
3. the same rows with the copies written back (the form before migration 0010), compacted,
   measured: the baseline, from the same data in the same run.

    .venv/bin/python benchmarks/payload_storage.py --traces 5000 --data-dir /tmp/payload-sqlite
    .venv/bin/python benchmarks/payload_storage.py --traces 5000 --data-dir /tmp/payload-pg \\
        --database-url postgresql+psycopg://user@host/empty_db
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.seed import seed  # noqa: E402
from benchmarks.storage_sizes import print_sizes  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

# Payloads as readers see them: a shared one is read from the trace row (storage/payload_sharing.py).
PAYLOADS_SQL = """
SELECT input, output FROM traces
UNION ALL SELECT input, output FROM observations WHERE io_on_trace = 0
UNION ALL SELECT CASE WHEN io_on_trace IN (1, 3) THEN NULL ELSE input END,
                 CASE WHEN io_on_trace IN (2, 3) THEN NULL ELSE output END FROM observations WHERE io_on_trace > 0
"""
COPIES_BACK = [
    "UPDATE observations SET input = (SELECT t.input FROM traces t WHERE t.project_id = observations.project_id"
    " AND t.id = observations.trace_id) WHERE io_on_trace IN (1, 3)",
    "UPDATE observations SET output = (SELECT t.output FROM traces t WHERE t.project_id = observations.project_id"
    " AND t.id = observations.trace_id) WHERE io_on_trace IN (2, 3)",
    "UPDATE observations SET io_on_trace = 0 WHERE io_on_trace > 0",
    "UPDATE traces SET root_io_shared = 0 WHERE root_io_shared > 0",
]


def _compact(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM" if url.startswith("sqlite") else "VACUUM FULL"))
    engine.dispose()


def _shared_counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        shared = conn.execute(text("SELECT COUNT(*) FROM observations WHERE io_on_trace > 0")).scalar_one()
        roots = conn.execute(text("SELECT COUNT(*) FROM traces WHERE root_observation_id IS NOT NULL")).scalar_one()
    engine.dispose()
    return int(shared), int(roots)


def zstd_figures(url: str, spans: int, min_bytes: int, level: int) -> None:
    """zstd over every stored payload of at least ``min_bytes`` bytes: bytes saved and CPU per span."""
    try:
        import zstandard
    except ImportError:
        print(f"{'zstd':>24}: the zstandard package is not installed")
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        texts = [value.encode() for row in conn.execute(text(PAYLOADS_SQL)) for value in row if value is not None]
    engine.dispose()
    large = [value for value in texts if len(value) >= min_bytes]
    compressor, decompressor = zstandard.ZstdCompressor(level=level), zstandard.ZstdDecompressor()
    began = time.process_time()
    packed = [compressor.compress(value) for value in large]
    compress_s = time.process_time() - began
    began = time.process_time()
    for value in packed:
        decompressor.decompress(value)
    decompress_s = time.process_time() - began
    total, before, after = sum(map(len, texts)), sum(map(len, large)), sum(map(len, packed))
    print(
        f"{f'zstd {level}, >= {min_bytes} B':>24}: {len(large):,} of {len(texts):,} payloads, "
        f"{before / spans:,.0f} -> {after / spans:,.0f} B/span ({after / before:.0%}); all payloads "
        f"{total / spans:,.0f} -> {(total - before + after) / spans:,.0f} B/span; CPU {compress_s / spans * 1e6:.1f} "
        f"us/span to compress, {decompress_s / spans * 1e6:.1f} us/span to decompress"
    )


def postgres_compression(url: str, spans: int) -> None:
    """The payload columns written into a pglz and an lz4 table: server time and size (best of 3)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for method in ("pglz", "lz4"):
            table = f"ia_bench_payload_{method}"
            writes, reads = [], []
            for _ in range(3):
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
                conn.execute(
                    text(f"CREATE TABLE {table} (input text COMPRESSION {method}, output text COMPRESSION {method})")
                )
                began = time.perf_counter()
                conn.execute(text(f"INSERT INTO {table} {PAYLOADS_SQL}"))
                writes.append(time.perf_counter() - began)
                began = time.perf_counter()
                conn.execute(text(f"SELECT SUM(length(input)) + SUM(length(output)) FROM {table}")).scalar_one()
                reads.append(time.perf_counter() - began)
            size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
            conn.execute(text(f"DROP TABLE {table}"))
            print(
                f"{f'PostgreSQL {method}':>24}: {size / spans:,.0f} B/span; write {min(writes) / spans * 1e6:.1f} "
                f"us/span, read back {min(reads) / spans * 1e6:.1f} us/span (server, wall time)"
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=2_000, help="Traces to seed (5 spans each).")
    parser.add_argument("--data-dir", required=True, help="A fresh data dir (the SQLite file, the server's log).")
    parser.add_argument("--database-url", help="An empty PostgreSQL database to seed instead of the SQLite file.")
    parser.add_argument("--senders", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--min-bytes", type=int, default=1024, help="zstd: compress payloads of at least this size.")
    parser.add_argument("--level", type=int, default=3, help="zstd level.")
    args = parser.parse_args()
    if (Path(args.data_dir) / "seed.json").exists():
        raise SystemExit(f"{args.data_dir} was seeded already: give a fresh data dir (and database)")
    seed_args = argparse.Namespace(
        traces=args.traces,
        data_dir=args.data_dir,
        database_url=args.database_url,
        senders=args.senders,
        batch=512,
        workers=1,
        seed=42,
        progress_seconds=60.0,
    )
    result = seed(seed_args)
    if not result["ok"]:
        raise SystemExit(f"seeding failed: {result}")
    url = args.database_url or f"sqlite:///{Path(args.data_dir) / 'interactiveai.db'}"
    spans = result["spans_sent"]
    shared, roots = _shared_counts(url)
    print(f"{'stored once':>24}: {shared:,} root observations share their trace's payload ({roots:,} roots)")
    _compact(url)
    once = print_sizes(url, spans)["bytes"]
    zstd_figures(url, spans, args.min_bytes, args.level)
    if not url.startswith("sqlite"):
        postgres_compression(url, spans)
    print("--- the same rows with the copies written back (before migration 0010) ---")
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in COPIES_BACK:
            conn.execute(text(statement))
    engine.dispose()
    _compact(url)
    copies = print_sizes(url, spans)["bytes"]
    print(f"{'stored once / copies':>24}: {once / spans:,.0f} / {copies / spans:,.0f} B/span = {once / copies:.3f}")


if __name__ == "__main__":
    main()
