"""The composition root's wiring between domains (lower domains declare, api passes in).

Each lower domain declares a small callable type for the fact it needs from a higher
one; these are the implementations handed to it.
"""

from __future__ import annotations

from grants.awards import repository as award_queries
from incubator.service import CompletedProjects

# Grants' count of an organisation's completed projects, for the incubator's graduation check.
completed_projects: CompletedProjects | None = award_queries.completed_projects
