"""A NUL character in any query, form or JSON field is refused with 400, naming the field."""

from __future__ import annotations

from tests.conftest import TODAY, login
from tests.integration.helpers import Api, snapshot


def test_query_parameter_with_nul_is_a_problem_naming_it(client, org):
    response = Api(client, org.admin).get("/admin/members", q="张\x00", page=1)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "q" in response.get_json()["errors"]


def test_json_field_with_nul_changes_nothing(client, org):
    api = Api(client, org.m1)
    before = snapshot()
    response = api.put(f"/reports/{TODAY.isoformat()}", {"total": 5, "note": "学\x00习"})
    assert response.status_code == 400
    assert "note" in response.get_json()["errors"]
    assert snapshot() == before
    assert api.put(f"/reports/{TODAY.isoformat()}", {"total": 5, "note": "学习"}).status_code in (
        200,
        201,
    )


def test_form_field_with_nul_gets_a_page_not_a_server_error(client, org):
    response = login(client, "m1\x00")
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)


def test_a_multipart_part_without_a_name_is_not_a_server_error(client, org):
    body = (
        b"--b\r\nContent-Disposition: form-data\r\n\r\nx\x00y\r\n"
        b"--b\r\nContent-Disposition: form-data\r\n\r\nplain\r\n--b--\r\n"
    )
    response = client.post(
        "/api/v1/admin/imports/reports/preview",
        data=body,
        content_type="multipart/form-data; boundary=b",
        headers=Api(client, org.admin).headers,
    )
    assert response.status_code < 500
