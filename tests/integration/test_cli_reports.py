"""The report commands write charts, exports and the review to files."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.charts.conftest import put_week


def test_charts_weekly_writes_every_chart_for_every_unit_with_children(app, org, tmp_path):
    put_week(org)
    out = tmp_path / "charts"
    result = app.test_cli_runner().invoke(
        args=["charts", "weekly", "--week", "2026-W47", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    parents = [org.root, org.party, org.b1]  # the units with children
    expected = {
        f"{u.id}-{kind}-public.png" for u in parents for kind in ("units", "members", "trend")
    }
    assert {p.name for p in out.iterdir()} == expected
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in out.iterdir())


def test_charts_weekly_defaults_to_last_week_in_the_instance_folder(app, org):
    result = app.test_cli_runner().invoke(args=["charts", "weekly", "--leader", "--format", "svg"])
    assert result.exit_code == 0, result.output
    assert "2026-W47" in result.output  # TODAY is Monday of W48


def test_export_rankings_writes_xlsx_and_csv(app, org, tmp_path):
    put_week(org)
    runner = app.test_cli_runner()
    xlsx = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=[
            "export",
            "rankings",
            "--period",
            "week",
            "--date",
            "2026-11-18",
            "--format",
            "xlsx",
            "--out",
            str(xlsx),
            "--unit",
            str(org.party.id),
        ]
    )
    assert result.exit_code == 0, result.output
    ws = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert ws["B2"].value == "李一" and ws["D2"].value == 280
    csv_file = tmp_path / "u.csv"
    result = runner.invoke(
        args=[
            "export",
            "rankings",
            "--period",
            "2026-W47",
            "--format",
            "csv",
            "--kind",
            "units",
            "--unit",
            str(org.party.id),
            "--out",
            str(csv_file),
        ]
    )
    assert result.exit_code == 0, result.output
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")
    bad = runner.invoke(args=["export", "rankings", "--period", "fortnight", "--out", str(xlsx)])
    assert bad.exit_code != 0 and "period" in bad.output


def test_review_quarterly_writes_a_pdf(app, org, tmp_path):
    put_week(org)
    out = tmp_path / "review.pdf"
    result = app.test_cli_runner().invoke(
        args=[
            "review",
            "quarterly",
            "--quarter",
            "2026-Q4",
            "--unit",
            str(org.party.id),
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "5 members" in result.output
    bad = app.test_cli_runner().invoke(
        args=["review", "quarterly", "--quarter", "2026-W47", "--unit", str(org.party.id)]
    )
    assert bad.exit_code != 0
