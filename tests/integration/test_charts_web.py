"""Chart URLs: formats, ETag and 304 until the data changes, and the boards' access rules."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

from tests.charts.conftest import WEEK, collector_off, pictures_alive, put_week
from tests.conftest import login
from tests.integration.helpers import Api
from tracker.domain.validation import ReportInput
from tracker.services import reports

UNITS = "/charts/units.png"


def args(org, **extra):
    return {"parent": org.party.id, "period": "week", "date": "2026-11-16", **extra}


def test_unit_chart_is_served_with_an_etag_and_304_until_a_report_changes(client, org):
    put_week(org)
    login(client, "admin")
    first = client.get(UNITS, query_string=args(org))
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.data.startswith(b"\x89PNG")
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(UNITS, query_string=args(org), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    svg = client.get("/charts/units.svg", query_string=args(org), headers={"If-None-Match": etag})
    assert svg.status_code == 200 and svg.headers["ETag"] != etag  # the format is in the tag
    reports.put(org.admin, org.m2, date(2026, 11, 18), ReportInput(total=33))
    changed = client.get(UNITS, query_string=args(org), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_every_chart_answers_in_every_format(client, org):
    put_week(org)
    login(client, "leader")
    for path, query in [
        ("units", args(org)),
        ("members", {"unit": org.b1.id, "period": "2026-W47"}),
        ("trend", {"unit": org.b1.id, "date": "2026-11-22"}),
        ("trend", {"member": org.m1.id}),
    ]:
        for fmt, mime in [
            ("png", "image/png"),
            ("svg", "image/svg+xml"),
            ("pdf", "application/pdf"),
        ]:
            r = client.get(f"/charts/{path}.{fmt}", query_string=query)
            assert r.status_code == 200, (path, fmt, r.data[:200])
            assert r.mimetype == mime
    download = client.get("/charts/members.png", query_string={"unit": org.b1.id, "download": 1})
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_drawn_chart_leaves_no_picture_behind_once_it_is_sent(client, org):
    # A figure is a web of reference cycles holding its picture; with the collector's own
    # runs off, only the collection the response asks for once it is sent can free it.
    put_week(org)
    login(client, "admin")
    with collector_off():
        assert pictures_alive() == 0
        for path, query in [
            ("units.png", args(org)),
            ("members.png", {"unit": org.b1.id, "period": "2026-W47"}),
            ("trend.png", {"unit": org.b1.id, "date": "2026-11-22"}),
        ]:
            r = client.get(f"/charts/{path}", query_string=query, buffered=True)
            assert r.status_code == 200 and r.data.startswith(b"\x89PNG")
            assert pictures_alive() == 0, path


def test_leader_versions_are_only_for_leaders_of_that_subtree(client, org):
    put_week(org)
    login(client, "m1")
    assert client.get(UNITS, query_string=args(org)).status_code == 200
    assert client.get(UNITS, query_string=args(org, audience="public")).status_code == 200
    assert client.get(UNITS, query_string=args(org, audience="leader")).status_code == 403
    member = {"unit": org.b1.id, "audience": "leader"}
    assert client.get("/charts/members.png", query_string=member).status_code == 403
    # someone else's trend is theirs and their leaders' only
    assert client.get("/charts/trend.png", query_string={"member": org.m2.id}).status_code == 403
    assert client.get("/charts/trend.png", query_string={"member": org.m1.id}).status_code == 200
    client.post("/logout")
    login(client, "leader")  # leads 第一支部, not the 机关党委 above it
    assert client.get(UNITS, query_string=args(org, audience="leader")).status_code == 403
    ok = client.get("/charts/members.png", query_string=member)
    assert ok.status_code == 200
    assert client.get("/charts/trend.png", query_string={"member": org.m2.id}).status_code == 200


def test_leader_and_public_versions_differ_in_what_they_mark(client, org):
    put_week(org)
    login(client, "admin")
    leader = client.get(UNITS, query_string=args(org))
    public = client.get(UNITS, query_string=args(org, audience="public"))
    assert leader.headers["ETag"] != public.headers["ETag"]


def test_charts_need_a_login_and_the_api_twin_takes_a_token(app, client, org):
    assert app.test_client().get(UNITS).status_code == 302
    r = client.get("/api/v1/charts/units.png")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    api = Api(client, org.m3)
    r = api.get("/charts/units.svg", parent=org.party.id, period="2026-W47")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    bad = api.get("/charts/units.gif")
    assert bad.status_code == 400 and "format" in bad.get_json()["errors"]


def test_unit_charts_follow_the_unit_rankings_switch(app_factory, org):
    put_week(org, WEEK)
    app = app_factory(UNIT_RANKINGS_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        login(client, "admin")
        assert client.get(UNITS, query_string=args(org)).status_code == 404
        assert client.get("/exports/units.csv").status_code == 404


def _download_links(html: str) -> list[str]:
    """The chart image and every download link in the page's 图表与下载 block."""
    import html as html_lib
    import re

    block = html.split('<details class="downloads">', 1)[1].split("</details>", 1)[0]
    return [html_lib.unescape(h) for h in re.findall(r'(?:href|src)="([^"]+)"', block)]


def test_board_pages_offer_chart_and_table_downloads_that_work(client, org):
    put_week(org)
    login(client, "leader")
    expected = {
        "png": "image/png",
        "svg": "image/svg+xml",
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv",
    }
    for page, chart in (
        (f"/boards/units?parent={org.party.id}&period=week&date=2026-11-16", "/charts/units."),
        (f"/boards/members?unit={org.b1.id}&period=week&date=2026-11-16", "/charts/members."),
    ):
        response = client.get(page)
        assert response.status_code == 200
        links = _download_links(response.get_data(as_text=True))
        fmts = set()
        for link in links:
            assert "period=week" in link and "date=2026-11-16" in link
            got = client.get(link)
            assert got.status_code == 200, link
            fmt = link.split("?")[0].rsplit(".", 1)[1]
            assert got.mimetype == expected[fmt], link
            header = got.headers["Content-Disposition"]
            header.encode("latin-1")  # a real server refuses anything else on the wire
            name = unquote(header.split("filename*=UTF-8''", 1)[1])
            assert name.endswith(f".{fmt}") and ("学习" in name), header
            fmts.add(fmt)
        assert fmts == set(expected)
        assert any(link.startswith(chart) for link in links)


def test_a_sent_chart_hands_its_freed_pages_back(client, org, monkeypatch):
    from tracker import serving

    assert serving.malloc_trim() is not None  # glibc, as on the servers run
    trims = []
    monkeypatch.setattr(serving, "malloc_trim", lambda: trims.append)
    put_week(org)
    login(client, "admin")
    client.get("/charts/units.png", query_string=args(org), buffered=True).close()
    assert trims == [0]
