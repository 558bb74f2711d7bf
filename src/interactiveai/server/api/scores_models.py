"""Pydantic models of the score and score-config endpoints' JSON: the OpenAPI document and the tests use them.

Wire names are camelCase (see ``api/models.py``). Output models forbid extra fields; the request
bodies only document what the write layer checks (``writes/scores.py``, ``writes/score_configs.py``),
stating its rules as JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from interactiveai.server.api.models import FINITE, Body, Meta, documented, given, one_of_given, requires
from interactiveai.server.api.schemas import PY_SPACE, choice, nullable, text, time_field
from interactiveai.server.json_values import KEY_BYTES
from interactiveai.server.writes.errors import MAX_ID
from interactiveai.server.writes.score_configs import BOOLEAN_CATEGORIES
from interactiveai.server.writes.scores import API_SOURCES as SCORE_SOURCES
from interactiveai.server.writes.scores import DATA_TYPES as SCORE_DATA_TYPES
from interactiveai.server.writes.scores import MAX_ENVIRONMENT as SCORE_MAX_ENVIRONMENT
from interactiveai.server.writes.scores import MAX_TEXT as SCORE_MAX_TEXT

SCORE_MAX_SESSION = 1000  # writes/scores.py: optional_str(item, "sessionId", 1000)
SCORE_MAX_NAME = 200  # writes/scores.py: optional_str(item, "name", 200)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Score(_Out):
    id: str
    projectId: str
    traceId: str | None
    observationId: str | None
    sessionId: str | None
    datasetRunId: str | None
    name: str
    value: float | None
    stringValue: str | None
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    source: str
    comment: str | None
    metadata: dict[str, Any]
    configId: str | None
    authorUserId: str | None
    queueId: None = None
    environment: str
    timestamp: str
    createdAt: str
    updatedAt: str


class Scores(_Out):
    data: list[Score]
    meta: Meta


class Category(BaseModel):
    label: str
    value: float


class ScoreConfig(_Out):
    id: str
    projectId: str
    name: str
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    isArchived: bool
    minValue: float | None
    maxValue: float | None
    categories: list[Category] | None
    description: str | None
    createdAt: str
    updatedAt: str


class ScoreConfigs(_Out):
    data: list[ScoreConfig]
    meta: Meta


# --- request bodies ----------------------------------------------------------------------------
#
# Documentation only (see ``api/models.Body``): the write layer answers each broken rule with one
# sentence (a 400). Rules that depend on stored rows (a config's range or categories, whether a
# config exists) are said in the descriptions, and answered 400 or 404 by the server.

_BOOLEAN_TEXT = f"^[{PY_SPACE}]*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])[{PY_SPACE}]*$"
_SCORE_VALUES: dict[str, dict[str, Any]] = {  # writes/scores.py: _VALIDATORS, without a config
    "NUMERIC": FINITE,
    "BOOLEAN": {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}, {"type": "string", "pattern": _BOOLEAN_TEXT}]},
    "CATEGORICAL": {"type": "string"},
    "TEXT": {"type": "string", "minLength": 1, "maxLength": SCORE_MAX_TEXT},
}
_CONFIG_GIVEN = given("configId")


def _is(data_type: str) -> dict[str, Any]:
    return {"required": ["dataType"], "properties": {"dataType": {"const": data_type}}}


_SCORE_RULES = [
    one_of_given("traceId", "sessionId", "datasetRunId"),
    requires("observationId", "traceId"),
    one_of_given("name", "configId"),
    # with a config, the config decides the type and the values (its range or categories)
    {
        "if": _CONFIG_GIVEN,
        "else": {
            "allOf": [
                {"if": _is(data_type), "then": {"properties": {"value": value}}}
                for data_type, value in _SCORE_VALUES.items()
            ]
        },
    },
]


class ScoreCreate(Body):
    """A score on a trace, an observation (with its trace), a session or a dataset run.

    At least one of traceId, sessionId and datasetRunId is given. With ``configId``, the config
    (of this project, not archived) names the score and decides its data type, and the value must
    fit it: within minValue-maxValue, or one of its categories (label or value); a value that does
    not is a 400, as is an unknown or archived config. Without one, the value fits ``dataType``:
    NUMERIC a number, BOOLEAN 0/1 or true/false, CATEGORICAL a string, TEXT 1-500 characters; an
    absent dataType is inferred (boolean, number or string).
    """

    model_config = documented(
        {"traceId": "0af7651916cd43dd8448eb211c80319c", "name": "correctness", "value": 0.9, "comment": "checked"},
        {"sessionId": "session-7", "name": "resolved", "value": True, "dataType": "BOOLEAN"},
        {"traceId": "0af7651916cd43dd8448eb211c80319c", "name": "tone", "value": "friendly", "dataType": "CATEGORICAL"},
        rules=_SCORE_RULES,
    )

    id: Annotated[str | None, text(MAX_ID)] = Field(
        None, description="Upserts: a score with this id in the project is replaced."
    )
    traceId: Annotated[str | None, text(MAX_ID)] = None
    observationId: Annotated[str | None, text(MAX_ID)] = Field(None, description="Requires traceId.")
    sessionId: Annotated[str | None, text(SCORE_MAX_SESSION)] = Field(
        None, description=f"At most {SCORE_MAX_SESSION} characters and {KEY_BYTES} bytes of UTF-8."
    )
    datasetRunId: Annotated[str | None, text(MAX_ID)] = None
    name: Annotated[str | None, text(SCORE_MAX_NAME)] = Field(
        None, description="Required unless configId is given (the config's name is used)."
    )
    value: Annotated[
        bool | float | str, WithJsonSchema({"anyOf": [{"type": "boolean"}, FINITE, {"type": "string"}]})
    ] = Field(description="Number, boolean (0/1, true/false) or string, as dataType says.")
    dataType: Annotated[str | None, choice(SCORE_DATA_TYPES)] = Field(
        None, description="NUMERIC, BOOLEAN, CATEGORICAL or TEXT (in any case); inferred when absent."
    )
    comment: Annotated[str | None, text()] = None
    configId: Annotated[str | None, text(MAX_ID)] = None
    metadata: Annotated[Any, WithJsonSchema(nullable({"type": "object"}))] = Field(None, description="A JSON object.")
    environment: Annotated[str | None, text(SCORE_MAX_ENVIRONMENT)] = None
    timestamp: Annotated[str | None, time_field()] = Field(None, description="RFC 3339; defaults to now.")
    source: Annotated[str | None, choice(SCORE_SOURCES, empty=True)] = Field(
        None, description="API or ANNOTATION, in any case; API when absent or empty."
    )


CONFIG_NAME_PATTERN = r"^[\p{L}\p{N}_ .()-]{1,35}$"
"""A score config's name (writes/score_configs.py ``_NAME``; Python's ``\\w`` is letters, digits and ``_``)."""
_CATEGORY = {
    "type": "object",
    "required": ["label", "value"],
    "properties": {"label": {"type": "string", "minLength": 1}, "value": FINITE},
}
_CATEGORIES = nullable({"type": "array", "items": _CATEGORY})
_NO_CATEGORIES = {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]}


_CONFIG_RULES: list[dict[str, Any]] = [
    {
        "if": {"not": _is("NUMERIC")},
        "then": {"properties": {"minValue": {"type": "null"}, "maxValue": {"type": "null"}}},
    },
    {"if": {"anyOf": [_is("NUMERIC"), _is("TEXT")]}, "then": {"properties": {"categories": _NO_CATEGORIES}}},
    {
        "if": _is("BOOLEAN"),
        "then": {"properties": {"categories": {"anyOf": [_NO_CATEGORIES, {"const": BOOLEAN_CATEGORIES}]}}},
    },
    {
        "if": _is("CATEGORICAL"),
        "then": {"required": ["categories"], "properties": {"categories": {"type": "array", "minItems": 1}}},
    },
]


_CONFIG_HELP = (
    "NUMERIC configs may have minValue and maxValue (maxValue greater); CATEGORICAL ones need categories with "
    'unique labels and values; BOOLEAN ones have the categories [{"label": "True", "value": 1}, {"label": '
    '"False", "value": 0}] (or none given); TEXT ones neither.'
)


class ScoreConfigCreate(Body):
    __doc__ = "A score config. " + _CONFIG_HELP

    model_config = documented(
        {"name": "correctness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1, "description": "0 to 1"},
        {
            "name": "tone",
            "dataType": "CATEGORICAL",
            "categories": [{"label": "friendly", "value": 1}, {"label": "rude", "value": 0}],
        },
        {"name": "resolved", "dataType": "BOOLEAN"},
        rules=_CONFIG_RULES,
    )

    name: Annotated[str, text(pattern=CONFIG_NAME_PATTERN, optional=False)] = Field(
        description="1-35 letters, digits, spaces and _ . ( ) -"
    )
    dataType: Annotated[str, choice(SCORE_DATA_TYPES, optional=False)] = Field(description="In any case.")
    isArchived: bool | None = None
    minValue: Annotated[float | None, WithJsonSchema(nullable(FINITE))] = None
    maxValue: Annotated[float | None, WithJsonSchema(nullable(FINITE))] = None
    categories: Annotated[list[dict[str, Any]] | None, WithJsonSchema(_CATEGORIES)] = None
    description: Annotated[str | None, text()] = None


class ScoreConfigUpdate(Body):
    __doc__ = (
        "The fields to change; the others keep their values, and the result follows the rules of a new "
        "config (a 400 says which it breaks). " + _CONFIG_HELP
    )

    model_config = documented({"description": "Checked by the support team"}, {"isArchived": True})

    name: Annotated[str | None, text(pattern=CONFIG_NAME_PATTERN, optional=False)] = Field(
        None, description="1-35 letters, digits, spaces and _ . ( ) -"
    )
    dataType: Annotated[str | None, choice(SCORE_DATA_TYPES)] = Field(
        None, description="The config's own dataType, if given: it cannot be changed."
    )
    isArchived: bool | None = None
    minValue: Annotated[float | None, WithJsonSchema(nullable(FINITE))] = None
    maxValue: Annotated[float | None, WithJsonSchema(nullable(FINITE))] = None
    categories: Annotated[list[dict[str, Any]] | None, WithJsonSchema(_CATEGORIES)] = None
    description: Annotated[str | None, text()] = None
