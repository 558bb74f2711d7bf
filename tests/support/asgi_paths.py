"""The request path as a real server decodes it, for Starlette's in-process TestClient.

TestClient builds the ASGI ``path`` by unquoting httpx's already decoded path, so a path holding
"%25" is decoded twice: an id stored with a literal "%00" in it reaches the app as a NUL (400),
"%41" as "A" (another id). Uvicorn decodes ``raw_path`` once. :class:`ServerPaths` wraps an app
so that in-process tests see the path uvicorn would give, and passes everything else through
(attributes such as ``state`` or ``routes`` included).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


class ServerPaths:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raw = scope.get("raw_path") if scope["type"] in ("http", "websocket") else None
        if raw is not None:
            scope = {**scope, "path": scope.get("root_path", "") + unquote(raw.decode("ascii"))}
        await self.app(scope, receive, send)
