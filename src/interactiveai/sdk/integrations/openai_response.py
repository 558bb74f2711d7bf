"""What an instrumented OpenAI call records from its answer: output, model, usage, cost.

Responses are read through attributes (or keys, for raw dicts) without copying them; the objects
returned to the caller are never changed. Streams are read chunk by chunk by the accumulators below,
which rebuild the same output a non-streamed call would have given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interactiveai.sdk.integrations.usage import field as get
from interactiveai.sdk.integrations.usage import fields_of, openai_usage_and_cost


@dataclass(slots=True)
class Outcome:
    """The fields recorded when a call ends."""

    output: Any = None
    model: str | None = None
    usage: dict[str, int] | None = None
    cost: dict[str, float] | None = None
    metadata: dict[str, Any] | None = None


def _dump(value: Any) -> Any:
    """A pydantic object as plain data (left as is otherwise; the serializer copes with anything)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:
            return value
    return value


def chat_message(message: Any) -> dict[str, Any]:
    """An assistant message as the chat shape: role, content and tool calls (when any)."""
    values = fields_of(message)
    get = values.get
    out: dict[str, Any] = {"role": get("role") or "assistant", "content": get("content")}
    for key in ("tool_calls", "function_call", "refusal", "audio"):
        value = get(key)
        if value:
            out[key] = [_dump(v) for v in value] if type(value) is list else _dump(value)
    return out


def _one_or_all(items: list[Any]) -> Any:
    if not items:
        return None
    return items[0] if len(items) == 1 else items


def read_response(kind: str, response: Any) -> Outcome:
    """The outcome of a non-streamed call (a ChatCompletion, Completion, embedding list or Response)."""
    values = fields_of(response)
    model = values.get("model")
    outcome = Outcome(model=model if isinstance(model, str) else None)
    outcome.usage, outcome.cost = openai_usage_and_cost(values.get("usage"))
    if kind == "chat":
        outcome.output = _one_or_all([chat_message(fields_of(c).get("message")) for c in values.get("choices") or ()])
    elif kind == "completion":
        outcome.output = _one_or_all([get(c, "text") for c in values.get("choices") or ()])
    elif kind == "embedding":
        data = values.get("data") or []
        vector = get(data[0], "embedding") if data else None
        outcome.output = {"dimensions": len(vector) if isinstance(vector, list) else None, "count": len(data)}
    else:
        outcome.output = _one_or_all([_dump(item) for item in values.get("output") or ()])
    return outcome


@dataclass
class _Choice:
    role: str | None = None
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    function_call: dict[str, str] | None = None
    finish_reason: str | None = None

    def add(self, delta: Any) -> None:
        role = get(delta, "role")
        if role:
            self.role = role
        text = get(delta, "content")
        if text:
            self.content.append(text)
        refusal = get(delta, "refusal")
        if refusal:
            self.refusal.append(refusal)
        for call in get(delta, "tool_calls") or ():
            index = get(call, "index") or 0
            slot = self.tool_calls.setdefault(
                index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
            )
            slot["id"] = get(call, "id") or slot["id"]
            slot["type"] = get(call, "type") or slot["type"]
            function = get(call, "function")
            if function is not None:
                slot["function"]["name"] += get(function, "name") or ""
                slot["function"]["arguments"] += get(function, "arguments") or ""
        function_call = get(delta, "function_call")
        if function_call is not None:
            if self.function_call is None:
                self.function_call = {"name": "", "arguments": ""}
            self.function_call["name"] += get(function_call, "name") or ""
            self.function_call["arguments"] += get(function_call, "arguments") or ""

    def message(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role or "assistant", "content": "".join(self.content) or None}
        if self.tool_calls:
            out["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if self.function_call is not None:
            out["function_call"] = self.function_call
        if self.refusal:
            out["refusal"] = "".join(self.refusal)
        return out


class StreamReader:
    """Accumulates the chunks (or events) of one stream into an :class:`Outcome`.

    ``add`` returns False for the usage-only chunk a call asked for on our behalf (hidden from the
    caller, who did not ask for it); ``first_token`` says when a chunk first carried output.
    """

    __slots__ = ("kind", "hide_usage_chunk", "started", "model", "usage", "choices", "texts", "final", "error")

    def __init__(self, kind: str, hide_usage_chunk: bool) -> None:
        self.kind = kind
        self.hide_usage_chunk = hide_usage_chunk
        self.started = False
        self.model: str | None = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}
        self.texts: dict[int, list[str]] = {}
        self.final: Any = None  # the Responses API's completed response
        self.error: str | None = None

    def add(self, chunk: Any) -> bool:
        """Read one chunk; True when the caller sees it."""
        if self.kind == "response":
            return self._add_event(chunk)
        if self.model is None:
            model = get(chunk, "model")
            self.model = model if isinstance(model, str) and model else None
        usage = get(chunk, "usage")
        if usage is not None:
            self.usage = usage
        choices = get(chunk, "choices")
        if not choices:
            return not (self.hide_usage_chunk and usage is not None)
        self.started = True
        for choice in choices:
            index = get(choice, "index") or 0
            if self.kind == "chat":
                state = self.choices.get(index) or self.choices.setdefault(index, _Choice())
                delta = get(choice, "delta")
                if delta is not None:
                    state.add(delta)
                state.finish_reason = get(choice, "finish_reason") or state.finish_reason
            else:
                text = get(choice, "text")
                if text:
                    self.texts.setdefault(index, []).append(text)
        return True

    def _add_event(self, event: Any) -> bool:
        kind = get(event, "type") or ""
        if kind.endswith(".delta"):
            self.started = True
            if kind == "response.output_text.delta":
                self.texts.setdefault(0, []).append(get(event, "delta") or "")
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = get(event, "response")
            if kind == "response.failed":
                error = get(self.final, "error")
                self.error = str(get(error, "message") or error or "response failed")
        elif kind == "error":
            self.error = str(get(event, "message") or "stream error")
        elif kind == "response.created" and self.model is None:
            self.model = get(get(event, "response"), "model")
        return True

    def outcome(self) -> Outcome:
        if self.kind == "response":
            if self.final is not None:
                outcome = read_response("response", self.final)
                outcome.model = outcome.model or self.model
                return outcome
            text = "".join(self.texts.get(0, ()))
            return Outcome(output=text or None, model=self.model)
        usage, cost = openai_usage_and_cost(self.usage)
        outcome = Outcome(model=self.model, usage=usage, cost=cost)
        if self.kind == "chat":
            outcome.output = _one_or_all([self.choices[i].message() for i in sorted(self.choices)])
            reasons = [c.finish_reason for c in self.choices.values() if c.finish_reason]
            if reasons:
                outcome.metadata = {"finish_reason": reasons[0] if len(reasons) == 1 else reasons}
        else:
            outcome.output = _one_or_all(["".join(self.texts[i]) for i in sorted(self.texts)])
        return outcome
