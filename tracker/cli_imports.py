"""``flask --app tracker import units|members|reports FILE [--commit]``: a dry run by default."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from .services import imports

PROGRESS_FROM_ROWS = 1000  # shorter files finish before a bar would be worth drawing


def init_app(app: Flask) -> None:
    app.cli.add_command(import_command)


@click.command("import")
@click.argument("kind", type=click.Choice(imports.KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Write every row, or nothing if any row is bad.")
@click.option("--backfill-days", type=int, help="Reports: how far back dates may go.")
def import_command(kind: str, file: Path, commit: bool, backfill_days: int | None) -> None:
    """Import units, members or daily reports from a CSV or XLSX FILE.

    Without --commit this is a dry run: it prints what would change and every bad row (row
    number, column, reason) and writes nothing. The exit code is 1 when the file is rejected.
    """
    data = file.read_bytes()
    try:
        table = imports.read(kind, file.name, data)
    except imports.TableError as e:
        raise click.ClickException(f"{file.name}: {e}") from None
    rows = len(table.rows)
    options = {"backfill_days": backfill_days} if kind == "reports" else {}
    label = f"{'importing' if commit else 'checking'} {rows} rows"
    try:
        if rows >= PROGRESS_FROM_ROWS:
            with click.progressbar(length=rows, label=label, file=sys.stderr) as bar:
                result = imports.run(
                    kind,
                    table,
                    None,
                    commit=commit,
                    source=file.name,
                    progress=bar.update,
                    **options,
                )
        else:
            result = imports.run(kind, table, None, commit=commit, source=file.name, **options)
    except imports.ImportRejected as e:
        result = e.result
    _report(result, commit)
    if result.errors:
        sys.exit(1)


def _report(result: imports.Result, commit: bool) -> None:
    counts = "，".join(f"{k} {v}" for k, v in result.counts.items() if v) or "无改动"
    if result.ignored_columns:
        click.echo(f"未读取的列：{'、'.join(result.ignored_columns)}")
    if result.errors:
        for error in result.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(result.errors)} 处错误，{result.rows} 行，未写入任何数据", err=True)
        return
    if not commit:
        for change in result.changes:
            click.echo(f"第 {change.row} 行 {change.action}：{change.text}")
        click.echo(f"预览：{result.rows} 行，{counts}。加上 --commit 写入。")
    else:
        click.echo(f"已导入：{result.rows} 行，{counts}")
