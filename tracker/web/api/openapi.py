"""The OpenAPI 3.1 description of /api/v1."""

from __future__ import annotations

from typing import Any

from tracker.web.admin.openapi import PATHS as ADMIN_PATHS

from .openapi_org import PATHS as ORG_PATHS


def _problem_ref() -> dict:
    return {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _ok(schema: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


ERRORS = {
    "400": {"description": "Invalid parameter", "content": _problem_ref()},
    "401": {"description": "Not logged in", "content": _problem_ref()},
    "403": {"description": "Not allowed", "content": _problem_ref()},
}

PERIOD_PARAMS = [
    {
        "name": "period",
        "in": "query",
        "schema": {"type": "string", "default": "week"},
        "description": "day, week, month, quarter, year — or a key such as 2026-W48, 2026-Q4",
    },
    {
        "name": "date",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "a day inside the period (default: today in the organisation's time zone)",
    },
]


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "学习积分 tracker API",
            "version": "1",
            "description": "Daily study points, quiz results and rankings. Rankings are for "
            "motivation, not assessment.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/me": {
                "get": {"summary": "The current member", "responses": {"200": _ok("Me"), **ERRORS}}
            },
            "/rules": {
                "get": {
                    "summary": "The rule version in force on a date",
                    "parameters": [PERIOD_PARAMS[1]],
                    "responses": {
                        "200": _ok("Rules"),
                        "404": {"description": "No rules", "content": _problem_ref()},
                        **ERRORS,
                    },
                }
            },
            "/reports/{date}": {
                "parameters": [
                    {
                        "name": "date",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "date"},
                    },
                    {
                        "name": "member",
                        "in": "query",
                        "schema": {"type": "integer"},
                        "description": "another member's id (leaders of their unit and admins)",
                    },
                ],
                "get": {
                    "summary": "One day's report",
                    "responses": {
                        "200": _ok("Report"),
                        "404": {"description": "Not reported", "content": _problem_ref()},
                        **ERRORS,
                    },
                },
                "put": {
                    "summary": "Report a day (replaces any earlier report of that day)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ReportInput"}
                            }
                        },
                    },
                    "responses": {
                        "200": _ok("Report", "Replaced"),
                        "201": _ok("Report", "Created"),
                        "422": {
                            "description": "Invalid report; nothing changed",
                            "content": _problem_ref(),
                        },
                        **ERRORS,
                    },
                },
            },
            "/leaderboards/members": {
                "get": {
                    "summary": "Members ranked by points in a period and subtree",
                    "parameters": [
                        *PERIOD_PARAMS,
                        {"name": "unit", "in": "query", "schema": {"type": "integer"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                    ],
                    "responses": {"200": _ok("MemberBoard"), **ERRORS},
                }
            },
            "/leaderboards/units": {
                "get": {
                    "summary": "The children of a unit ranked by a metric",
                    "parameters": [
                        *PERIOD_PARAMS,
                        {"name": "parent", "in": "query", "schema": {"type": "integer"}},
                        {
                            "name": "metric",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["avg", "participation", "activity", "total"],
                            },
                        },
                    ],
                    "responses": {
                        "200": _ok("UnitBoard"),
                        "404": {
                            "description": "Unit rankings switched off",
                            "content": _problem_ref(),
                        },
                        **ERRORS,
                    },
                }
            },
            **ADMIN_PATHS,
            **ORG_PATHS,
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": SCHEMAS,
        },
    }


_INT = {"type": "integer"}
_NINT = {"type": ["integer", "null"]}
_STR = {"type": "string"}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "properties": {
            "type": _STR,
            "title": _STR,
            "status": _INT,
            "detail": _STR,
            "errors": {"type": "object", "additionalProperties": _STR},
        },
        "required": ["type", "title", "status"],
    },
    "Me": {
        "type": "object",
        "properties": {"id": _INT, "name": _STR, "today": {"type": "string", "format": "date"}},
        "required": ["id", "name", "today"],
    },
    "Rules": {
        "type": "object",
        "properties": {
            "valid_from": {"type": "string", "format": "date"},
            "day_maximum": _INT,
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": _STR,
                        "label": _STR,
                        "daily_cap": _INT,
                        "weekly_cap": _NINT,
                        "weekdays": {"type": "array", "items": _INT},
                        "quiz": {"type": "boolean"},
                        "counts_on_date": {"type": "boolean"},
                    },
                },
            },
        },
        "required": ["valid_from", "day_maximum", "categories"],
    },
    "Quiz": {
        "type": "object",
        "properties": {
            "kind": _STR,
            "questions": {"type": "integer", "minimum": 1},
            "correct": {"type": "integer", "minimum": 0},
            "seconds": {"type": "integer", "minimum": 0},
        },
        "required": ["kind", "questions", "correct"],
    },
    "ReportInput": {
        "type": "object",
        "description": "One of: items (points per category), total (今日积分), cumulative (总积分).",
        "properties": {
            "items": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "total": {"type": "integer", "minimum": 0},
            "cumulative": {"type": "integer", "minimum": 0},
            "note": {"type": "string", "maxLength": 500},
            "quizzes": {"type": "array", "items": {"$ref": "#/components/schemas/Quiz"}},
        },
        "additionalProperties": False,
    },
    "Report": {
        "type": "object",
        "properties": {
            "date": {"type": "string", "format": "date"},
            "member_id": _INT,
            "form": {"type": "string", "enum": ["items", "total", "cumulative"]},
            "total": _INT,
            "cumulative": _NINT,
            "items": {"type": "object", "additionalProperties": _INT},
            "quizzes": {"type": "array", "items": {"$ref": "#/components/schemas/Quiz"}},
            "note": _STR,
        },
        "required": ["date", "form", "total", "items"],
    },
    "MemberBoard": {
        "type": "object",
        "properties": {
            "roster_size": _INT,
            "rows": {"type": "array", "items": {"type": "object"}},
            "me": {"type": ["object", "null"]},
        },
        "required": ["rows", "roster_size"],
    },
    "UnitBoard": {
        "type": "object",
        "properties": {"metric": _STR, "rows": {"type": "array", "items": {"type": "object"}}},
        "required": ["rows", "metric"],
    },
}
