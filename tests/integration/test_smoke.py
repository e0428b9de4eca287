from tests.conftest import login


def test_member_reports_today_through_the_page_and_sees_it_on_the_board(org, client):
    assert login(client, "m1").status_code == 302
    page = client.get("/report")
    assert "当日上限" in page.get_data(as_text=True)
