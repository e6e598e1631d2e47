"""Who a request acts as: the user, their centre and their roles, without ORM objects."""

from __future__ import annotations

from dataclasses import dataclass

from core.identity.models import Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    full_name: str
    centre_id: int | None
    is_district: bool
    roles: frozenset[Role]
    locale: str | None = None
    centre_name: str | None = None
    community_id: int | None = None
    """A station officer's one community: what they see and record is limited to it."""

    @property
    def station_only(self) -> bool:
        """A station officer with no centre-wide role: sees only their community."""
        return Role.station in self.roles and not self.has(Role.staff, Role.finance, Role.admin)

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    @property
    def sees_all_centres(self) -> bool:
        """District-level users read across centres; admins see everything."""
        return self.is_district or self.is_admin

    def in_centre(self, centre_id: int) -> bool:
        return self.sees_all_centres or self.centre_id == centre_id

    @property
    def read_only(self) -> bool:
        """District-level users read across centres and change nothing."""
        return self.is_district and not self.is_admin
