"""Default rubrics a centre starts with (reference data, in Chinese by design).

Application review follows the usual 公益创投 expert-review sheet; project evaluation the
mid-term / final evaluation of funded projects and purchased services; capacity
assessment the dimensions of SPEC §3.
"""

from __future__ import annotations

from typing import Any

from evaluations.rubrics.models import RoundPurpose

DEFAULT_BANDS: list[dict[str, Any]] = [
    {"code": "excellent", "min_score": "90"},
    {"code": "good", "min_score": "80"},
    {"code": "pass", "min_score": "60"},
    {"code": "fail", "min_score": "0"},
]


def _criterion(
    key: str, name: str, points: int, guidance: str, sub: list[str] | None = None, *, bonus: bool = False
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "guidance": guidance,
        "max_points": str(points),
        "sub_criteria": sub or [],
        "bonus": bonus,
    }


DEFAULT_RUBRICS: list[dict[str, Any]] = [
    {
        "name": "公益创投项目申报评审表",
        "purpose": RoundPurpose.application_review,
        "description": "专家评审申报书：需求、设计、创新、团队、预算、可持续，另设配套资金加分。",
        "criteria": [
            _criterion(
                "need",
                "需求分析",
                20,
                "社区需求是否真实、具体，有调研依据；服务对象界定是否清晰。",
                ["需求调研依据", "服务对象明确"],
            ),
            _criterion(
                "design",
                "项目设计",
                20,
                "目标、活动与产出逻辑是否一致，进度安排是否可行。",
                ["目标可衡量", "活动与目标匹配", "进度合理"],
            ),
            _criterion("innovation", "创新性", 15, "服务方式或资源整合是否有新意，能否复制推广。"),
            _criterion("team", "团队能力", 15, "执行团队的专业背景、过往项目经验与志愿者动员能力。"),
            _criterion(
                "budget",
                "预算合理性",
                15,
                "预算是否与活动对应，单价合理，管理费与人员费符合比例要求。",
                ["预算与活动对应", "费用比例合规"],
            ),
            _criterion("sustainability", "可持续性", 15, "项目结束后服务能否延续，有无后续资源。"),
            _criterion(
                "matched_funds",
                "配套资金加分",
                5,
                "已落实的配套资金每达申请金额10%加1分，最高5分。",
                bonus=True,
            ),
        ],
    },
    {
        "name": "公益项目中期/末期评估表",
        "purpose": RoundPurpose.final,
        "description": "资助项目与政府购买服务项目的中期、末期绩效评估。",
        "criteria": [
            _criterion(
                "management",
                "项目管理",
                20,
                "执行进度、档案资料、活动记录是否完整规范。",
                ["进度符合计划", "档案完整"],
            ),
            _criterion(
                "finance",
                "财务管理",
                20,
                "资金使用是否专款专用，票据合规，支出与预算一致。",
                ["专款专用", "票据合规"],
            ),
            _criterion("outputs", "项目产出", 20, "服务人次、活动场次等产出指标的完成情况。"),
            _criterion("outcomes", "项目成效", 25, "服务对象的改变与社区影响，是否达成预期成效。"),
            _criterion("satisfaction", "满意度", 15, "服务对象及社区的满意度调查结果。"),
        ],
    },
    {
        "name": "社会组织能力评估表",
        "purpose": RoundPurpose.capacity,
        "description": "入壳、中期与出壳时的组织能力评估。",
        "criteria": [
            _criterion("governance", "内部治理", 20, "章程、理事会、决策与制度建设。"),
            _criterion("project_management", "项目管理", 20, "项目策划、执行与评估能力。"),
            _criterion("financial", "财务管理", 15, "财务制度、账目规范与信息公开。"),
            _criterion("people", "人力与志愿者", 15, "专职人员稳定性、志愿者招募与管理。"),
            _criterion("fundraising", "资源筹集", 15, "资金来源多元化与资源链接能力。"),
            _criterion("community", "社区参与", 15, "居民参与程度与社区认可度。"),
        ],
    },
]
