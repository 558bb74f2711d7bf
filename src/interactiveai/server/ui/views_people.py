"""Sessions (with a conversation replay) and users pages, each with its JSON twin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from interactiveai.server.clock import now_us
from interactiveai.server.json_values import bound_key
from interactiveai.server.query import ui_sessions
from interactiveai.server.query.filters import SessionFilter, UserFilter
from interactiveai.server.query.records import Session, User
from interactiveai.server.query.scores import scores_for_session
from interactiveai.server.query.sessions import list_sessions
from interactiveai.server.query.ui_traces import TraceListFilter, list_trace_page
from interactiveai.server.query.users import get_user, list_users
from interactiveai.server.ui.auth import NotFoundPage, project_access
from interactiveai.server.ui.filters import DEFAULT_RANGE, RANGES, page_number
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_traces import trace_json

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


class ListArgs:
    """Time range, prefix search and page number of the sessions and users lists."""

    def __init__(self, params: QueryParams) -> None:
        self.range = params.get("range") or DEFAULT_RANGE
        if self.range not in RANGES:
            self.range = DEFAULT_RANGE
        seconds = RANGES[self.range]
        self.from_us = None if seconds is None else now_us() - seconds * 1_000_000
        # an exact id: a long one bounded as ingestion stored it (json_values.bound_key)
        self.search = bound_key((params.get("q") or "").strip()) or None
        self.page = page_number(params.get("page"))

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def url(self, path: str, page: int) -> str:
        query = f"range={self.range}&page={page}"
        if self.search:
            query += "&q=" + quote(self.search, safe="")
        return f"{path}?{query}"


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


def _sessions(request: Request, project_id: str) -> tuple[Any, ListArgs, list[Session], bool]:
    access = project_access(request, project_id)
    args = ListArgs(request.query_params)
    page = list_sessions(
        request.app.state.engine,
        project_id,
        SessionFilter(from_us=args.from_us),
        page=args.page,
        limit=PAGE_SIZE + 1,  # one more row tells whether a next page exists, without counting
        with_total=False,
    )
    return access, args, page.items[:PAGE_SIZE], len(page.items) > PAGE_SIZE


@router.get("/project/{project_id}/sessions.json")
def sessions_json(request: Request, project_id: str) -> Response:
    _access, args, rows, more = _sessions(request, project_id)
    data = [session_data(r) for r in rows]
    return json_response(request, {"data": data, "meta": {"page": args.page, "limit": PAGE_SIZE, "hasMore": more}})


@router.get("/project/{project_id}/sessions")
def sessions_page(request: Request, project_id: str) -> Response:
    access, args, rows, more = _sessions(request, project_id)
    base = f"/project/{project_id}/sessions"
    if args.search:  # "open session id…": sessions are found by their exact id
        return RedirectResponse(f"{base}/{quote(args.search, safe='')}", status_code=303)
    return render(
        request,
        "sessions.html",
        {
            "access": access,
            "section": "sessions",
            "args": args,
            "rows": rows,
            "ranges": list(RANGES),
            "base": base,
            "prev_url": args.url(base, args.page - 1) if args.page > 1 else None,
            "next_url": args.url(base, args.page + 1) if more else None,
        },
    )


def _session(request: Request, project_id: str, session_id: str) -> tuple[Any, dict[str, Any]]:
    access = project_access(request, project_id)
    session_id = bound_key(session_id)  # the id as linked, or a long one as the client knows it
    data = ui_sessions.session_replay(request.app.state.engine, project_id, session_id)
    if data is None:
        raise NotFoundPage()
    data["scores"] = [asdict(s) for s in scores_for_session(request.app.state.engine, project_id, session_id)]
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
        }
        for t in data["traces"]
    ]
    scores = [{"name": sc["name"], "value": sc["value"], "stringValue": sc["string_value"]} for sc in data["scores"]]
    body = {"id": bound_key(session_id), "userIds": data["users"], **_times(data), "traces": turns, "scores": scores}
    return json_response(request, body)


@router.get("/project/{project_id}/sessions/{session_id:path}")
def session_page(request: Request, project_id: str, session_id: str) -> Response:
    access, data = _session(request, project_id, session_id)
    return render(
        request,
        "session.html",
        {"access": access, "section": "sessions", "session": data, "turn_chars": ui_sessions.TURN_CHARS},
    )


def _users(request: Request, project_id: str) -> tuple[Any, ListArgs, list[User], bool]:
    access = project_access(request, project_id)
    args = ListArgs(request.query_params)
    page = list_users(
        request.app.state.engine,
        project_id,
        UserFilter(from_us=args.from_us, user_ids=[args.search] if args.search else ()),
        page=args.page,
        limit=PAGE_SIZE + 1,
        with_total=False,
    )
    return access, args, page.items[:PAGE_SIZE], len(page.items) > PAGE_SIZE


@router.get("/project/{project_id}/users.json")
def users_json(request: Request, project_id: str) -> Response:
    _access, args, rows, more = _users(request, project_id)
    data = [user_data(r) for r in rows]
    return json_response(request, {"data": data, "meta": {"page": args.page, "limit": PAGE_SIZE, "hasMore": more}})


@router.get("/project/{project_id}/users")
def users_page(request: Request, project_id: str) -> Response:
    access, args, rows, more = _users(request, project_id)
    base = f"/project/{project_id}/users"
    return render(
        request,
        "users.html",
        {
            "access": access,
            "section": "users",
            "args": args,
            "rows": rows,
            "ranges": list(RANGES),
            "base": base,
            "prev_url": args.url(base, args.page - 1) if args.page > 1 else None,
            "next_url": args.url(base, args.page + 1) if more else None,
        },
    )


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
