"""A small generic repository: composable ``Select`` statements, scoping, pagination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Base
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.principal import Principal

M = TypeVar("M", bound=Base)
T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    page_size: int


class Repository(Generic[M]):
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[M]:
        return select(self.model)

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        result = await self.session.execute(statement)
        return result.unique().scalar_one_or_none()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        result = await self.session.execute(statement)
        return result.unique().scalars().all()

    async def paginate(self, statement: Select[M], params: PageParams) -> Paged[M]:
        count_stmt = select(func.count()).select_from(statement.order_by(None).subquery())
        total = (await self.session.execute(count_stmt)).scalar_one()
        rows = await self.get_all(statement.limit(params.page_size).offset(params.offset))
        return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)


class CentreScopedRepository(Repository[M]):
    """Every query starts from the principal's centre: routes cannot forget to filter.

    A record of another centre is simply not found (404), so its existence never leaks.
    """

    not_found_message: ClassVar[str] = N_("Record not found")

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        super().__init__(session)
        self.principal = principal

    def select(self) -> Select[M]:
        statement = select(self.model)
        if not self.principal.sees_all_centres:
            statement = statement.where(self.model.centre_id == self.principal.centre_id)
        return statement

    async def get(self, record_id: int, statement: Select[M] | None = None) -> M:
        base = statement if statement is not None else self.select()
        record = await self.get_one_or_none(base.where(self.model.id == record_id))
        if record is None:
            raise NotFound(_(self.not_found_message))
        return record
