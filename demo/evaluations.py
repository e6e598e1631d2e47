"""Demo data of the evaluations domain: the default rubrics of the demo centre."""

from __future__ import annotations

from demo.loader import DemoContext, demo_step
from evaluations.rubrics import service as rubric_service


@demo_step
async def seed_rubrics(context: DemoContext) -> None:
    await rubric_service.seed_default_rubrics(context.session, context.centre.id)
