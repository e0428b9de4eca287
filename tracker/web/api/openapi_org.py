"""OpenAPI paths for activities, onboarding, fair-play flags and privacy settings."""

from __future__ import annotations

from typing import Any

_INT = {"type": "integer"}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}


def _problem() -> dict:
    return {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _body(properties: dict, required: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, tag: str, *, body=None, params=None, ok="200", public=False) -> dict:
    responses: dict[str, Any] = {
        ok: {"description": "OK", "content": {"application/json": {"schema": {}}}}
        if ok != "204"
        else {"description": "Done"},
        "400": {"description": "Invalid parameter", "content": _problem()},
        "403": {"description": "Not allowed", "content": _problem()},
        "422": {"description": "Invalid input; nothing changed", "content": _problem()},
    }
    if not public:
        responses["401"] = {"description": "Not logged in", "content": _problem()}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    if public:
        op["security"] = []
    return op


def _q(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_ID = [{"name": "activity_id", "in": "path", "required": True, "schema": _INT}]
_UNIT = _q("unit", _STR, "a unit id (default: the top unit the viewer leads)")
_ACTIVITY = {
    "date": _DATE,
    "title": _STR,
    "attendees": {"type": "array", "items": _INT},
    "note": _STR,
}

PATHS: dict[str, Any] = {
    "/activity-kinds": {
        "get": _op("Activity kinds and the points each attendee earns", "activities")
    },
    "/activity-kinds/{code}": {
        "put": _op(
            "Change the points of a kind for future activities (admins)",
            "activities",
            body=_body({"points": _INT}, ["points"]),
            params=[{"name": "code", "in": "path", "required": True, "schema": _STR}],
        )
    },
    "/activities": {
        "get": _op(
            "Activities of a unit's subtree (its leaders)",
            "activities",
            params=[_UNIT, _q("from", _DATE), _q("to", _DATE)],
        ),
        "post": _op(
            "Record an activity with its attendance; attendees earn the kind's points",
            "activities",
            body=_body(
                {"unit_id": _INT, "kind": _STR, **_ACTIVITY},
                ["unit_id", "kind", "date", "title"],
            ),
            ok="201",
        ),
    },
    "/activities/{activity_id}": {
        "get": _op("One activity", "activities", params=_ID),
        "put": _op(
            "Change date, title, note or attendance; points follow",
            "activities",
            params=_ID,
            body=_body(_ACTIVITY),
        ),
        "delete": _op(
            "Delete an activity and take back its points", "activities", params=_ID, ok="204"
        ),
    },
    "/activities/gaps": {
        "get": _op(
            "支部 and 党小组 that have not held this month's 集中学习",
            "activities",
            params=[_UNIT, _q("date", _DATE, "a day in the month")],
        )
    },
    "/me/activities": {"get": _op("Activities the current member attended", "activities")},
    "/onboarding/pending": {
        "get": _op(
            "Members of a subtree who have not activated, 200 a page by unit and name",
            "onboarding",
            params=[_UNIT, _q("page", {"type": "integer", "minimum": 1}, "from 1")],
        )
    },
    "/onboarding/invitations": {
        "post": _op(
            "Issue activation codes and links (shown once; earlier ones stop working)",
            "onboarding",
            body=_body({"member_ids": {"type": "array", "items": _INT}}, ["member_ids"]),
            ok="201",
        )
    },
    "/activate": {
        "post": _op(
            "Activate one's own account: name and code, or link; sets one's own password",
            "onboarding",
            body=_body(
                {"name": _STR, "code": _STR, "link": _STR, "login": _STR, "password": _STR},
                ["password"],
            ),
            public=True,
        )
    },
    "/flags": {
        "get": _op(
            "Fair-play flags of a subtree (its leaders and admins only)",
            "flags",
            params=[_UNIT, _q("status", {"type": "string", "enum": ["open", "reviewed", "all"]})],
        )
    },
    "/flags/{flag_id}/review": {
        "post": _op(
            "Mark a flag reviewed, with an optional note",
            "flags",
            params=[{"name": "flag_id", "in": "path", "required": True, "schema": _INT}],
            body=_body({"note": _STR}),
        )
    },
    "/settings": {
        "get": _op("Privacy and humane settings of the organisation", "settings"),
        "put": _op(
            "Change settings (admins)",
            "settings",
            body=_body(
                {
                    "hide_below_target": _BOOL,
                    "evidence_enabled": _BOOL,
                    "unit_rankings_enabled": _BOOL,
                    "weekly_bulletin_enabled": _BOOL,
                }
            ),
        ),
    },
    "/me/privacy": {
        "get": _op("Whether the member appears anonymously to other members", "settings"),
        "put": _op(
            "Choose to appear anonymously on boards other members see",
            "settings",
            body=_body({"anonymous_on_boards": _BOOL}, ["anonymous_on_boards"]),
        ),
    },
}
