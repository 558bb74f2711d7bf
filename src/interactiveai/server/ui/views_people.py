"""Sessions (with a conversation replay) and users pages, each with its JSON twin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from interactiveai.server.clock import now_us
from interactiveai.server.json_values import bound_key
from interactiveai.server.query import session_turns, ui_people, ui_sessions
from interactiveai.server.query.filters import SessionFilter, UserFilter
from interactiveai.server.query.pagination import Page
from interactiveai.server.query.records import Session, User
from interactiveai.server.query.scores import scores_for_session
from interactiveai.server.query.sessions import list_sessions
from interactiveai.server.query.ui_people import (
    DEFAULT_SORT,
    SORTS,
    Kind,
    PeopleQuery,
    list_people,
    sortable_by_figures,
)
from interactiveai.server.query.ui_traces import TraceListFilter, list_trace_page
from interactiveai.server.query.users import get_user, list_users
from interactiveai.server.ui.auth import NotFoundPage, project_access
from interactiveai.server.ui.filters import DEFAULT_RANGE, RANGES, page_number
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_comments import session_comments_data
from interactiveai.server.ui.views_traces import trace_json

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


class ListArgs:
    """Time range, id prefix search, sort and page number of the sessions and users lists."""

    def __init__(self, params: QueryParams, kind: Kind) -> None:
        self.kind = kind
        self.range = params.get("range") or DEFAULT_RANGE
        if self.range not in RANGES:
            self.range = DEFAULT_RANGE
        seconds = RANGES[self.range]
        self.from_us = None if seconds is None else now_us() - seconds * 1_000_000
        # the start of an id (a long one bounded as ingestion stored it: json_values.bound_key)
        self.search = bound_key((params.get("q") or "").strip()) or None
        self.page = page_number(params.get("page"))
        self.default_sort = DEFAULT_SORT[kind]
        sort = params.get("sort") or self.default_sort
        self.sort = sort if sort in SORTS[kind] else self.default_sort
        self.descending = (params.get("dir") or ("asc" if self.sort == "id" else "desc")) != "asc"
        self.note: str | None = None  # why the list is not sorted as asked

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def url(self, path: str, page: int = 1, **changes: str) -> str:
        params = {"range": self.range, "sort": self.sort, "dir": "desc" if self.descending else "asc"}
        params |= changes
        if self.search:
            params["q"] = self.search
        params["page"] = str(page)
        return f"{path}?{urlencode(params)}"

    def sort_url(self, path: str, key: str) -> str:
        """The link of a column header: sort by it (figures largest first), or flip it when sorted."""
        if key == self.sort:
            return self.url(path, sort=key, dir="asc" if self.descending else "desc")
        return self.url(path, sort=key, dir="asc" if key == "id" else "desc")

    def query(self) -> PeopleQuery:
        return PeopleQuery(self.kind, self.from_us, self.search, self.sort, self.descending)


def _page_of(request: Request, project_id: str, args: ListArgs) -> Page[Any]:
    """The list's page: the default order without a search through the list queries (their
    window and aggregates), anything else through ``ui_people``; totals bounded either way."""
    engine = request.app.state.engine
    if args.sort == args.default_sort and args.descending and not args.search:
        if args.kind == "sessions":
            return list_sessions(
                engine, project_id, SessionFilter(from_us=args.from_us), page=args.page, limit=PAGE_SIZE
            )
        return list_users(engine, project_id, UserFilter(from_us=args.from_us), page=args.page, limit=PAGE_SIZE)
    if args.sort != "id" and not sortable_by_figures(engine, project_id, args.query()):
        limit = f"{ui_people.SORT_SCAN_LIMIT:,}"
        args.note = (
            f"Sorted by id: sorting by a figure is offered up to {limit} traces in the range; choose a shorter one."
        )
        args.sort, args.descending = "id", False
    return list_people(engine, project_id, args.query(), page=args.page, limit=PAGE_SIZE)


def _meta(args: ListArgs, page: Page[Any]) -> dict[str, Any]:
    total = page.total or 0
    more = not page.total_exact or args.page * PAGE_SIZE < total
    meta: dict[str, Any] = {"page": args.page, "limit": PAGE_SIZE, "hasMore": more, "totalItems": total}
    meta |= {"totalExact": page.total_exact, "sort": args.sort, "dir": "desc" if args.descending else "asc"}
    if args.note:
        meta["note"] = args.note
    return meta


def total_text(page: Page[Any], noun: str) -> str:
    """The list's total: exact ("1,234 sessions"), or a lower bound past the count's bound
    ("≥ 1,001 sessions"), as the REST lists' meta.totalItems."""
    total = page.total or 0
    if not page.total_exact:
        return f"≥ {total:,} {noun}s"
    return f"{total:,} {noun}{'' if total == 1 else 's'}"


def _list_context(args: ListArgs, page: Page[Any], base: str, noun: str) -> dict[str, Any]:
    meta = _meta(args, page)
    return {
        "args": args,
        "rows": page.items,
        "ranges": list(RANGES),
        "base": base,
        "total_text": total_text(page, noun),
        "prev_url": args.url(base, args.page - 1) if args.page > 1 else None,
        "next_url": args.url(base, args.page + 1) if meta["hasMore"] else None,
    }


def _times(row: dict[str, Any]) -> dict[str, Any]:
    """Aggregates in the JSON twins' shape."""
    return {
        "traceCount": row["trace_count"],
        "firstTimestamp": iso_time(row["first_us"]),
        "lastTimestamp": iso_time(row["last_us"]),
        "durationSeconds": (row["last_us"] - row["first_us"]) / 1_000_000,
        "inputTokens": row["input_tokens"],
        "outputTokens": row["output_tokens"],
        "totalTokens": row["total_tokens"],
        "inputCost": row["input_cost"],
        "outputCost": row["output_cost"],
        "totalCost": row["total_cost"],
        "errorCount": row["error_count"],
    }


def session_data(s: Session) -> dict[str, Any]:
    return {
        "id": s.id,
        "environment": s.environment,
        "userIds": s.user_ids,
        "traceCount": s.trace_count,
        "firstTimestamp": iso_time(s.created_at_us),
        "lastTimestamp": iso_time(s.end_time_us),
        "durationSeconds": (s.end_time_us - s.created_at_us) / 1_000_000,
        "inputTokens": s.input_tokens,
        "outputTokens": s.output_tokens,
        "totalTokens": s.total_tokens,
        "totalCost": s.total_cost,
    }


def user_data(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "firstTimestamp": iso_time(u.first_seen_us),
        "lastTimestamp": iso_time(u.last_seen_us),
        "traceCount": u.trace_count,
        "inputTokens": u.input_tokens,
        "outputTokens": u.output_tokens,
        "totalTokens": u.total_tokens,
        "totalCost": u.total_cost,
    }


def _sessions(request: Request, project_id: str) -> tuple[Any, ListArgs, Page[Session]]:
    access = project_access(request, project_id)
    args = ListArgs(request.query_params, "sessions")
    return access, args, _page_of(request, project_id, args)


@router.get("/project/{project_id}/sessions.json")
def sessions_json(request: Request, project_id: str) -> Response:
    _access, args, page = _sessions(request, project_id)
    return json_response(request, {"data": [session_data(r) for r in page.items], "meta": _meta(args, page)})


@router.get("/project/{project_id}/sessions")
def sessions_page(request: Request, project_id: str) -> Response:
    access, args, page = _sessions(request, project_id)
    base = f"/project/{project_id}/sessions"
    if args.search and len(page.items) == 1 and page.items[0].id == args.search and args.page == 1:
        # the whole id was typed: open that session, as the search box always did
        return RedirectResponse(f"{base}/{quote(args.search, safe='')}", status_code=303)
    context = {"access": access, "section": "sessions", **_list_context(args, page, base, "session")}
    return render(request, "sessions.html", context)


def _session(request: Request, project_id: str, session_id: str) -> tuple[Any, dict[str, Any]]:
    access = project_access(request, project_id)
    session_id = bound_key(session_id)  # the id as linked, or a long one as the client knows it
    data = ui_sessions.session_replay(request.app.state.engine, project_id, session_id)
    if data is None:
        raise NotFoundPage()
    engine = request.app.state.engine
    data["scores"] = [asdict(s) for s in scores_for_session(engine, project_id, session_id)]
    ids = [t["id"] for t in data["traces"]]
    data["trace_scores"] = session_turns.scores_by_trace(engine, project_id, ids)
    failed = [t["id"] for t in data["traces"] if t["level"] in ("ERROR", "WARNING")]
    data["problems"] = session_turns.problems_by_trace(engine, project_id, failed) if failed else {}
    data["comments"] = session_comments_data(request, access, session_id, ids)
    return access, data


def _page_of_dotjson(request: Request, name: str, found: Callable[[], Any], page: Callable[[str], Response]) -> Any:
    """What a ``….json`` path of a session or user asks for: the JSON twin of ``name`` (``found``
    returns its data), or the page of the session or user named ``name + ".json"`` (an id may
    end in ".json"): when the last dot was sent encoded (``%2Ejson``), or when only it exists."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw.lower().endswith(b"%2ejson"):
        return page(name + ".json")
    try:
        return found()
    except NotFoundPage:
        return page(name + ".json")  # its own 404 when there is no such one either


@router.get("/project/{project_id}/sessions/{session_id:path}.json")
def session_json(request: Request, project_id: str, session_id: str) -> Response:
    found = _page_of_dotjson(
        request,
        session_id,
        lambda: _session(request, project_id, session_id),
        lambda name: session_page(request, project_id, name),
    )
    if isinstance(found, Response):
        return found
    _access, data = found
    turns = [
        {
            "traceId": t["id"],
            "timestamp": iso_time(t["timestamp_us"]),
            "name": t["name"],
            "userId": t["user_id"],
            "level": t["level"],
            "input": t["input"],
            "output": t["output"],
            "inputTruncated": (t["input_length"] or 0) > ui_sessions.TURN_CHARS,
            "outputTruncated": (t["output_length"] or 0) > ui_sessions.TURN_CHARS,
            "htmlPath": f"/project/{project_id}/traces/{t['id']}",
            "scores": [
                {
                    "name": sc["name"],
                    "value": sc["value"],
                    "stringValue": sc["string_value"],
                    "dataType": sc["data_type"],
                }
                for sc in data["trace_scores"].get(t["id"], [])
            ],
            "problems": [
                {"observationId": p.observation_id, "name": p.name, "level": p.level, "statusMessage": p.status_message}
                for p in data["problems"].get(t["id"], [])
            ],
            "comments": data["comments"]["traces"].get(t["id"], []),
        }
        for t in data["traces"]
    ]
    scores = [{"name": sc["name"], "value": sc["value"], "stringValue": sc["string_value"]} for sc in data["scores"]]
    body = {"id": bound_key(session_id), "userIds": data["users"], **_times(data), "traces": turns, "scores": scores}
    body["comments"] = data["comments"]["session"]
    return json_response(request, body)


@router.get("/project/{project_id}/sessions/{session_id:path}")
def session_page(request: Request, project_id: str, session_id: str) -> Response:
    access, data = _session(request, project_id, session_id)
    return render(
        request,
        "session.html",
        {"access": access, "section": "sessions", "session": data, "turn_chars": ui_sessions.TURN_CHARS},
    )


def _users(request: Request, project_id: str) -> tuple[Any, ListArgs, Page[User]]:
    access = project_access(request, project_id)
    args = ListArgs(request.query_params, "users")
    return access, args, _page_of(request, project_id, args)


@router.get("/project/{project_id}/users.json")
def users_json(request: Request, project_id: str) -> Response:
    _access, args, page = _users(request, project_id)
    return json_response(request, {"data": [user_data(r) for r in page.items], "meta": _meta(args, page)})


@router.get("/project/{project_id}/users")
def users_page(request: Request, project_id: str) -> Response:
    access, args, page = _users(request, project_id)
    base = f"/project/{project_id}/users"
    context = {"access": access, "section": "users", **_list_context(args, page, base, "user")}
    return render(request, "users.html", context)


def _user(request: Request, project_id: str, user_id: str) -> tuple[Any, User, Any, list[Session]]:
    access = project_access(request, project_id)
    engine = request.app.state.engine
    summary = get_user(engine, project_id, user_id)
    if summary is None:
        raise NotFoundPage()
    traces_page = list_trace_page(engine, project_id, TraceListFilter(user_ids=[user_id]), limit=25)
    sessions = list_sessions(engine, project_id, SessionFilter(user_id=user_id), limit=25, with_total=False).items
    return access, summary, traces_page, sessions


@router.get("/project/{project_id}/users/{user_id:path}.json")
def user_json(request: Request, project_id: str, user_id: str) -> Response:
    found = _page_of_dotjson(
        request, user_id, lambda: _user(request, project_id, user_id), lambda name: user_page(request, project_id, name)
    )
    if isinstance(found, Response):
        return found
    _access, summary, traces_page, sessions = found
    body = {
        **user_data(summary),
        "recentTraces": [trace_json(r, project_id) for r in traces_page.rows],
        "recentSessions": [session_data(s) for s in sessions],
    }
    return json_response(request, body)


@router.get("/project/{project_id}/users/{user_id:path}")
def user_page(request: Request, project_id: str, user_id: str) -> Response:
    access, summary, traces_page, sessions = _user(request, project_id, user_id)
    return render(
        request,
        "user.html",
        {
            "access": access,
            "section": "users",
            "user": summary,
            "traces": traces_page.rows,
            "sessions": sessions,
            "all_traces_url": f"/project/{project_id}/traces?range=all&user=" + quote(user_id, safe=""),
        },
    )
