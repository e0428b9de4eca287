"""Chinese message templates (Jinja2 in a sandbox): built-in defaults that admins may replace.

Templates are plain text (robots read it as markdown), so nothing is HTML-escaped; the sandbox
keeps an admin's template from reaching Python internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_env = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)


@dataclass(frozen=True)
class Default:
    label: str
    title: str
    body: str
    variables: dict[str, str]
    sample: dict


DEFAULTS: dict[str, Default] = {
    "daily": Default(
        label="每日学习提醒",
        title="你今天学习了吗？",
        body=(
            "{{ name }}同志，你今天学习了吗？\n"
            "今天已记录 {{ points }} 分，距每日目标 {{ target }} 分还差 {{ gap }} 分。\n"
            "{% if unit_rank %}{{ unit }}本周在同级单位中暂列第 {{ unit_rank }} 名。\n{% endif %}"
            "学有所得就好，不必勉强；如需调整提醒时间或关闭提醒，可在“提醒设置”中修改。"
        ),
        variables={
            "name": "姓名",
            "points": "今日积分",
            "target": "每日目标",
            "gap": "距目标还差",
            "unit": "所在单位",
            "unit_rank": "单位本周排名（未排名时为空）",
            "week_points": "本周积分",
            "date": "日期",
        },
        sample={
            "name": "李学习",
            "points": 0,
            "target": 30,
            "gap": 30,
            "unit": "办公室党支部",
            "unit_rank": 2,
            "week_points": 96,
            "date": "2026-11-23",
        },
    ),
    "weekly": Default(
        label="每周学习通报",
        title="{{ unit }}{{ week }}学习情况",
        body=(
            "### {{ unit }} {{ week }} 学习情况\n"
            "{% if rank %}- 同级排名：第 {{ rank }} 名"
            "{% if change %}（{{ '上升' if change > 0 else '下降' }} {{ change|abs }} 位）{% endif %}\n"
            "{% endif %}"
            "- 人均积分：{{ average }}（目标 {{ target }}）\n"
            "- 参与率：{{ participation }}\n"
            "- 总积分：{{ total }}，党员 {{ roster }} 人\n"
            "{% if top %}- 学习之星：{% for t in top %}{{ t.name }}（{{ t.points }} 分）"
            "{% if not loop.last %}、{% endif %}{% endfor %}\n{% endif %}"
            "\n排名仅用于激励学习，不作考核依据。"
        ),
        variables={
            "unit": "单位",
            "week": "周次，如 2026-W47",
            "rank": "同级排名（未开启单位排名时为空）",
            "change": "名次变化（正数为上升）",
            "average": "人均积分",
            "participation": "参与率",
            "total": "总积分",
            "roster": "党员人数",
            "target": "每周人均目标",
            "top": "学习之星（姓名 name、积分 points）",
        },
        sample={
            "unit": "办公室党支部",
            "week": "2026-W47",
            "rank": 2,
            "change": 1,
            "average": "168.5",
            "participation": "92%",
            "total": 3370,
            "roster": 20,
            "target": 210,
            "top": [{"name": "李学习", "points": 280}, {"name": "王进步", "points": 275}],
        },
    ),
    "quarterly": Default(
        label="季度讲评提醒",
        title="{{ quarter }} 学习讲评提醒",
        body=(
            "{{ name }}同志：{{ quarter }} 已结束，请安排{{ unit }}的季度学习讲评"
            "（一考核、一排名、一通报、一讲评、一兑现）。\n"
            "本季度人均积分 {{ average }}，参与率 {{ participation }}"
            "{% if rank %}，同级排名第 {{ rank }} 名{% endif %}。"
        ),
        variables={
            "name": "负责人姓名",
            "unit": "所领导单位",
            "quarter": "季度，如 2026-Q3",
            "average": "人均积分",
            "participation": "参与率",
            "rank": "同级排名（未开启单位排名时为空）",
        },
        sample={
            "name": "张书记",
            "unit": "办公室党支部",
            "quarter": "2026-Q3",
            "average": "2105.0",
            "participation": "95%",
            "rank": 1,
        },
    ),
}


class TemplateProblem(ValueError):
    """An admin's template that cannot be rendered, with the reason."""


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    """A template's text compiled once: a daily run renders it for every member it reaches
    (compiling took about a millisecond a message, 110 s for 90,000 members)."""
    return _env.from_string(source)


def render(title: str, body: str, variables: dict) -> tuple[str, str]:
    try:
        return (
            _compiled(title).render(variables).strip(),
            _compiled(body).render(variables).strip(),
        )
    except TemplateError as e:
        raise TemplateProblem(f"模板有误：{e}") from e


def check(title: str, body: str, key: str) -> tuple[str, str]:
    """Render an edited template with the sample values: the preview, or the reason it fails."""
    return render(title, body, DEFAULTS[key].sample)
