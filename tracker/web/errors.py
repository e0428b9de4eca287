"""Errors answer as the client speaks: problem+json (RFC 9457) for the API, HTML for pages."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import HTTPException

from tracker.extensions import db

PROBLEM = "application/problem+json"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM])
    return best in ("application/json", PROBLEM)


def problem(status: int, title: str, detail: str = "", errors: dict | None = None, **extra):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_login_required():
    """For an API blueprint's ``before_request``: a user (session or Bearer) and, for writes
    over a session cookie, the ``X-CSRFToken`` header. Returns a problem response or None."""
    if not current_user.is_authenticated:
        return problem(401, "Unauthorized", "请登录，或在 Authorization 头中提供 Bearer 令牌")
    if request.method in UNSAFE and "Authorization" not in request.headers:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except CSRFError as e:
            return problem(400, "CSRF token missing or invalid", e.description)
        except Exception:  # flask_wtf raises wtforms ValidationError for a bad token
            return problem(400, "CSRF token missing or invalid", "缺少或无效的 X-CSRFToken 头")
    return None


def nul_field() -> str | None:
    """The name of the first query, form or JSON field that holds a NUL character, if any."""
    for source in (request.args, request.form):
        for key, values in source.lists():
            # A multipart part without a name arrives under the key None.
            texts = [key, *values] if isinstance(key, str) else list(values)
            if any(isinstance(t, str) and "\x00" in t for t in texts):
                return (key or "").replace("\x00", "") or "form"
    if request.is_json:
        return _nul_in_json(request.get_json(silent=True), "body")
    return None


def _nul_in_json(value, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = "\x00" in key and path or _nul_in_json(item, str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_in_json(item, f"{path}[{i}]")
            if found:
                return found
    return None


ZH = {
    400: ("请求有误", "提交的内容无法处理，请返回重试。"),
    403: ("无权访问", "你没有查看或修改这项内容的权限。"),
    404: ("页面不存在", "要找的页面或记录不存在。"),
    405: ("不支持该操作", "这个地址不支持这种操作。"),
    413: ("文件太大", "上传的文件超过了大小限制。"),
    429: ("操作太频繁", "请稍后再试。"),
}


def init_app(app: Flask) -> None:
    from tracker.services.access import Forbidden
    from tracker.web.params import BadParam

    @app.before_request
    def _refuse_nul_characters():
        # No text column may hold U+0000 (PostgreSQL refuses it outright), and no real input
        # contains one: refuse it at the door, naming the field, before anything is read.
        name = nul_field()
        if name is not None:
            raise BadParam(name, f"{name} 含有空字符（U+0000），请删除后重试")

    @app.errorhandler(BadParam)
    def _bad_param(e: BadParam):
        if wants_json():
            return problem(400, "Invalid parameter", e.message, {e.name: e.message})
        return render_template("error.html", code=400, title="参数有误", detail=e.message), 400

    @app.errorhandler(Forbidden)
    def _forbidden(e: Forbidden):
        if wants_json():
            return problem(403, "Forbidden", str(e))
        return render_template("error.html", code=403, title="无权访问", detail=str(e)), 403

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if wants_json():
            return problem(e.code or 500, e.name, e.description or "")
        title, detail = ZH.get(e.code or 500, (e.name, e.description or ""))
        if isinstance(e, CSRFError):
            detail = "页面已过期，请刷新后重新提交。"
        return render_template("error.html", code=e.code, title=title, detail=detail), e.code

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if wants_json():
            return problem(500, "Internal Server Error", "服务器内部错误，请稍后再试")
        return render_template(
            "error.html", code=500, title="服务器内部错误", detail="请稍后再试"
        ), 500
