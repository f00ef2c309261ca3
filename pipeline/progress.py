"""Progress of a use case, reported through one callback so that every face can show it.

    def on_step(step: Step) -> None: ...      # the CLI draws rich bars; the portal a page

A use case never prints. It calls `on_step` with the stage it is in (`label` in plain Chinese),
and, for work it can count (files read, workbooks written), `done` of `total`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Step:
    stage: str                    # read | files | check | reconcile | outputs | workbooks | expectations | save | notice
    label: str                    # what people are shown, in Chinese
    done: int | None = None       # counted work: done of total
    total: int | None = None
    item: str | None = None       # e.g. the file just read
    data: Any = None              # stage "files": the file reports (list of dicts)


OnStep = Callable[[Step], None]

LABELS = {
    "read": "读取文件", "files": "文件载入情况", "check": "规则检查", "reconcile": "部门比对",
    "outputs": "写出结果", "workbooks": "村级问题清单", "expectations": "整表期望检查",
    "save": "保存数据库", "notice": "提示",
}


def quiet(step: Step) -> None:
    """The callback that shows nothing."""


def step(stage: str, **kw) -> Step:
    return Step(stage, LABELS.get(stage, stage), **kw)
