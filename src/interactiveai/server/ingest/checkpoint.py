"""SQLite WAL checkpoints off the writer's critical path.

By default the connection whose COMMIT grows the WAL past 1000 pages runs the checkpoint inside
that COMMIT (copy pages into the database file, fsync it), and every request waiting on the group
commit waits with it: that was a third of the writer's time. Instead this thread checkpoints
PASSIVE (never blocking the writer or readers) shortly after commits, and the writer keeps a high
auto-checkpoint threshold only as a bound on the WAL's size when this thread cannot keep up.
Durability is unchanged: a committed transaction is in the WAL, which survives a process crash.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

logger = logging.getLogger("interactiveai.server.ingest")

WRITER_AUTOCHECKPOINT_PAGES = 16_384  # 64 MiB of 4 KiB pages: the WAL's bound under sustained load
_INTERVAL_SECONDS = 0.2


class WalCheckpointer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """The writer committed: there is something to checkpoint."""
        self._dirty.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="interactiveai-wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._checkpoint("PASSIVE")  # never waits for readers, so shutdown never hangs here

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.wait(_INTERVAL_SECONDS):  # let a few commits accumulate
                return
            self._dirty.clear()
            wal_pages = self._checkpoint("PASSIVE")
            if wal_pages > WRITER_AUTOCHECKPOINT_PAGES:
                # Under sustained load a passive checkpoint never catches up with the writer, so
                # the WAL is never rewound and keeps growing. Past the bound, checkpoint RESTART:
                # it briefly holds new write transactions back so that the next one starts the
                # WAL from its beginning.
                self._checkpoint("RESTART")

    def _checkpoint(self, mode: str) -> int:
        """Run a checkpoint; returns the WAL's size in pages (0 if unknown)."""
        try:
            with self._engine.connect() as conn:
                row = conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").first()
        except Exception as exc:  # a failed checkpoint only delays the next one
            logger.warning("WAL checkpoint failed: %s", exc)
            return 0
        return int(row[1]) if row is not None and row[1] is not None else 0
