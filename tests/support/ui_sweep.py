"""The UI half of the read-back sweep (``tests/support/read_back.py``): every page and its JSON
twin, signed in as a project member: the trace list (every cursor page, each filter and sort),
each trace and observation, sessions, users, scores, dashboard, datasets and settings."""

from __future__ import annotations

import re
from typing import Any

from interactiveai.server.query.ui_traces import LEVELS, SORTS
from tests.support.sweep import MAX_PAGES, Stored, Sweep, SweepResult, iso, q, sample


class UiSweep(Sweep):
    """Reads one project's stored rows back through the UI, with a member's session cookie."""

    def __init__(
        self, http: Any, project_id: str, credentials: tuple[str, str], result: SweepResult, filter_values: int
    ) -> None:
        super().__init__(http, {}, result, filter_values)  # the session cookie, no API key
        self.project_id = project_id
        self.credentials = credentials

    def run(self, stored: Stored) -> None:
        self.login()
        self.pages(stored)

    def login(self) -> None:
        email, password = self.credentials
        page = self.http.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on the login page ({page.status_code})"
        response = self.http.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": match.group(1), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, f"UI login failed: {response.status_code} {response.text[:300]}"

    def visit(self, path: str, params: Any = None, *, ok: bool = True) -> Any:
        """GET a page, or its JSON twin (parsed) when ``path`` ends in ``.json``."""
        return self.get(path, params, ok=ok, json=path.endswith(".json"))

    def pages(self, st: Stored) -> None:
        base = f"/project/{q(self.project_id)}"
        n = self.filter_values
        self.visit(base, ok=False)  # a redirect to the trace list

        seen = self.trace_list(base, {"range": "all"})
        self.listed("traces", f"GET {base}/traces.json?range=all", (t["id"] for t in st.traces), seen)
        filters: list[dict[str, Any]] = [{"range": r} for r in ("30m", "24h", "7d", "30d")]
        filters += [{"range": "all", "sort": key, "dir": d} for key in SORTS for d in ("asc", "desc")]
        for param, column in (("env", "environment"), ("name", "name"), ("user", "user_id"), ("session", "session_id")):
            filters += [{"range": "all", param: v} for v in sample((t[column] for t in st.traces), n)]
        filters += [{"range": "all", "tag": v} for v in sample((x for t in st.traces for x in t["tags"]), n)]
        filters += [{"range": "all", "level": v} for v in LEVELS]
        filters += [{"range": "all", "q": v[:200]} for v in sample((t["name"] for t in st.traces), n) if v.strip()]
        filters += [{"range": "all", "lat_min": "0", "lat_max": "1e9", "cost_min": "0", "cost_max": "1e9"}]
        for us in sample((t["timestamp_us"] for t in st.traces), n):
            at, after = iso(us), iso(us + 1000)
            if at and after:
                filters.append({"range": "custom", "from": at, "to": after})
        for params in filters:
            self.trace_list(base, params)
        self.visit(f"{base}/traces/delete-matching", {"range": "all"})
        self.visit(f"{base}/traces/delete-matching.json", {"range": "all"})

        for t in st.traces:
            path = f"{base}/traces/{q(t['id'])}"
            self.visit(path)
            self.visit(path + ".json")
            self.visit(path + "/io.json")
        for o in st.observations:
            self.visit(f"{base}/traces/{q(o['trace_id'])}/observations/{q(o['id'])}.json")

        for kind, ids in (("sessions", st.session_ids), ("users", st.user_ids)):
            for params in [{"range": "all"}, {"range": "24h"}]:
                self.paged(f"{base}/{kind}", params, more=lambda body: bool(body.get("meta", {}).get("hasMore")))
            for item in ids:
                self.visit(f"{base}/{kind}/{q(item)}")
                self.visit(f"{base}/{kind}/{q(item)}.json")
        for params in [{"range": "all"}, {"range": "all", "source": "API"}, {"range": "all", "type": "NUMERIC"}]:
            self.paged(f"{base}/scores", params, more=_more_by_total)
        for name in sample((x["name"] for x in st.scores), n):
            self.paged(f"{base}/scores", {"range": "all", "name": name}, more=_more_by_total)
        for trace_id in sample((x["trace_id"] for x in st.scores), n):
            self.paged(f"{base}/scores", {"range": "all", "trace": trace_id}, more=_more_by_total)
        for r in ("1h", "24h", "7d", "30d"):
            self.visit(f"{base}/dashboard", {"range": r})
            self.visit(f"{base}/dashboard.json", {"range": r})
        for env in sample((t["environment"] for t in st.traces), n):
            self.visit(f"{base}/dashboard.json", [("range", "30d"), ("env", env)])
        self.paged(f"{base}/datasets", {}, more=_more_by_total)
        for d in st.datasets:
            self.visit(f"{base}/datasets/{q(d['id'])}")
            self.visit(f"{base}/datasets/{q(d['id'])}.json")
        self.visit(f"{base}/settings")
        self.visit(f"{base}/settings.json")

    def trace_list(self, base: str, params: dict[str, Any]) -> set[str]:
        """Every cursor page of the trace list's JSON twin, and the HTML page of each; the ids seen."""
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page_params = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            self.visit(f"{base}/traces", page_params)
            body = self.visit(f"{base}/traces.json", page_params)
            if not isinstance(body, dict):
                return seen
            seen.update(str(row.get("id")) for row in body.get("data") or [])
            cursor = (body.get("meta") or {}).get("nextCursor")
            if not cursor:
                return seen
        self.problem("unreadable", f"{base}/traces.json", 200, f"more than {MAX_PAGES} cursor pages")
        return seen

    def paged(self, path: str, params: dict[str, Any], *, more: Any) -> None:
        for page in range(1, MAX_PAGES + 1):
            page_params = {**params, "page": page}
            self.visit(path, page_params)
            body = self.visit(path + ".json", page_params)
            if not isinstance(body, dict) or not more(body):
                return


def _more_by_total(body: dict[str, Any]) -> bool:
    meta = body.get("meta") or {}
    return bool(meta.get("page", 1) * meta.get("limit", 50) < (meta.get("totalItems") or 0))
