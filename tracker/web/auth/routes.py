from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from tracker import security

from .forms import LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            member = security.authenticate(
                form.login.data.strip(), form.password.data, security.client_address()
            )
        except security.TooManyAttempts:
            form.password.errors.append("尝试次数过多，请 15 分钟后再试")
            status = 429
        else:
            if member is not None:
                # Remembered, so nobody is made to log in again every day (SPEC §9).
                login_user(member, remember=True)
                target = request.args.get("next", "")
                if not target.startswith("/") or urlsplit(target).netloc or target.startswith("//"):
                    target = url_for("pages.report")
                return redirect(target)
            form.password.errors.append("账号或密码不正确")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("已退出登录")
    return redirect(url_for("auth.login"))
