"""Shapes shared by every router: the list envelope and the error body (for OpenAPI)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ListResponse(BaseModel, Generic[T]):
    """The one list envelope: a page of items with the total and the page asked for."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @classmethod
    def of_page(cls, page: Any, items: list[T]) -> ListResponse[T]:
        """``items`` read from a repository page (``core.repository.Paged``)."""
        return cls(items=items, total=page.total, page=page.page, page_size=page.page_size)

    @classmethod
    def whole(cls, items: list[T]) -> ListResponse[T]:
        """A list that is never paged (a centre's few rubrics, jobs, plans): one page of all."""
        return cls(items=items, total=len(items), page=1, page_size=max(len(items), 1))


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 413, 422, 429)
}
