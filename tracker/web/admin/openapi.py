"""The admin part of the OpenAPI document (paths under /admin)."""

from __future__ import annotations

from typing import Any


def _problem() -> dict:
    return {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _json_body(properties: dict, required: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, body: dict | None = None, ok: str = "200", params=None) -> dict:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["admin"],
        "responses": {
            ok: {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "401": {"description": "Not logged in", "content": _problem()},
            "403": {"description": "Not allowed", "content": _problem()},
            "422": {"description": "Invalid input; nothing changed", "content": _problem()},
        },
    }
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    return op


_INT = {"type": "integer"}
_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_ID = [{"name": "id", "in": "path", "required": True, "schema": _INT}]
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "sha256": {"type": "string", "description": "commit only: the preview's hash"},
                },
                "required": ["file"],
            }
        }
    },
}
_KIND = [
    {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["units", "members", "reports"]},
    }
]
_query = [
    {"name": n, "in": "query", "schema": s}
    for n, s in (
        ("member", _INT),
        ("unit", _INT),
        ("actor", _INT),
        ("kind", _STR),
        ("start", _DATE),
        ("end", _DATE),
        ("page", _INT),
    )
]

PATHS: dict[str, Any] = {
    "/admin/units": {
        "get": _op("The unit tree (admins)"),
        "post": _op(
            "Add a unit",
            _json_body({"name": _STR, "kind": _STR, "parent": _INT}, ["name", "kind"]),
            "201",
        ),
    },
    "/admin/units/{id}": {
        "patch": _op(
            "Rename a unit", _json_body({"name": _STR, "kind": _STR}, ["name"]), params=_ID
        )
    },
    "/admin/units/{id}/move": {
        "post": _op("Move a unit under another parent", _json_body({"parent": _INT}), params=_ID)
    },
    "/admin/units/{id}/retire": {
        "post": _op("Retire an empty unit from a date", _json_body({"date": _DATE}), params=_ID)
    },
    "/admin/units/{id}/leaders": {
        "get": _op("The leaders (书记, 负责人) of a unit", params=_ID),
        "post": _op(
            "Appoint a member as a leader of the unit's subtree",
            _json_body({"member": _INT}, ["member"]),
            "201",
            params=_ID,
        ),
    },
    "/admin/units/{id}/leaders/remove": {
        "post": _op(
            "Remove a member's leader role for the unit",
            _json_body({"member": _INT}, ["member"]),
            params=_ID,
        )
    },
    "/admin/members": {
        "get": _op(
            "Members the caller manages",
            params=[
                {"name": "unit", "in": "query", "schema": _INT},
                {"name": "q", "in": "query", "schema": _STR},
                {"name": "page", "in": "query", "schema": _INT},
            ],
        ),
        "post": _op(
            "Add a member (no password: they activate their own account)",
            _json_body(
                {
                    "name": _STR,
                    "unit": _INT,
                    "active_from": _DATE,
                    "login": _STR,
                    "retired": {"type": "boolean"},
                },
                ["name", "unit", "active_from"],
            ),
            "201",
        ),
    },
    "/admin/members/{id}": {"get": _op("A member with their dated memberships", params=_ID)},
    "/admin/members/{id}/move": {
        "post": _op(
            "Move a member to another unit from a date",
            _json_body({"unit": _INT, "date": _DATE}, ["unit", "date"]),
            params=_ID,
        )
    },
    "/admin/members/{id}/leave": {
        "post": _op(
            "Set the last day a member counts (null: back on the roster)",
            _json_body({"date": {"type": ["string", "null"], "format": "date"}}),
            params=_ID,
        )
    },
    "/admin/members/{id}/password": {
        "post": _op("Reset the password; the new one-time password is returned once", params=_ID)
    },
    "/admin/members/{id}/token": {"post": _op("Issue a new API token, returned once", params=_ID)},
    "/admin/rules": {
        "get": _op("Rule versions"),
        "post": _op(
            "Start a version from a date, copying the one in force",
            _json_body({"valid_from": _DATE, "name": _STR}, ["valid_from"]),
            "201",
        ),
    },
    "/admin/rules/{id}": {
        "patch": _op(
            "Edit caps and weekdays of a version no report uses yet",
            _json_body(
                {
                    "categories": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "daily_cap": _INT,
                                "weekly_cap": {"type": ["integer", "null"]},
                                "weekdays": {"type": "array", "items": _INT},
                            },
                        },
                    }
                },
                ["categories"],
            ),
            params=_ID,
        ),
        "delete": _op(
            "Delete a version that has not taken effect and that no report uses", params=_ID
        ),
    },
    "/admin/locks": {
        "get": _op("Period locks"),
        "post": _op(
            "Lock the week or month containing a date",
            _json_body(
                {
                    "kind": {"type": "string", "enum": ["week", "month"]},
                    "date": _DATE,
                    "reason": _STR,
                },
                ["kind", "date"],
            ),
            "201",
        ),
    },
    "/admin/locks/{id}/unlock": {
        "post": _op(
            "Lift a lock, with a reason", _json_body({"reason": _STR}, ["reason"]), params=_ID
        )
    },
    "/admin/adjustments": {
        "get": _op("Recent awards and deductions the caller manages"),
        "post": _op(
            "Award (points > 0) or deduct (points < 0) with a reason",
            _json_body(
                {"member": _INT, "date": _DATE, "points": _INT, "reason": _STR},
                ["member", "date", "points", "reason"],
            ),
            "201",
        ),
    },
    "/admin/audit": {"get": _op("The audit log, newest first, 50 a page", params=_query)},
    "/admin/imports/{kind}/preview": {
        "post": _op(
            "Dry run of a CSV or XLSX file: changes and every bad row", _UPLOAD, params=_KIND
        )
    },
    "/admin/imports/{kind}/commit": {
        "post": _op("Import the file: every row or nothing", _UPLOAD, "201", params=_KIND)
    },
    "/admin/imports/{kind}/template": {
        "get": _op(
            "A blank template",
            params=[
                *_KIND,
                {"name": "format", "in": "query", "schema": {"enum": ["xlsx", "csv"]}},
            ],
        )
    },
}
