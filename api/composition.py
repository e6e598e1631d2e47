"""The composition root's wiring between domains (lower domains declare, api passes in).

Each lower domain declares a small callable type for the fact it needs from a higher
one; these are the implementations handed to it.
"""

from __future__ import annotations

from incubator.service import CompletedProjects

# Grants' count of an organisation's completed projects, for the incubator's graduation
# check. None while no grants implementation is wired: the criterion is then shown as
# not applicable rather than failing every organisation.
completed_projects: CompletedProjects | None = None
