"""Excel workbooks of lists: bold Chinese headers, money as numbers shown with two places,
text that can never turn into a formula."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.clock import SHANGHAI

MONEY_FORMAT = "#,##0.00"
SCORE_FORMAT = "0.00"


def text(value: str | None) -> str:
    """Text as a worksheet accepts it: control characters dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value or "")


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None) if value.tzinfo else value
    return value


class ListSheet:
    """One worksheet: an optional title line, a header row, then the rows.

    ``money`` and ``scores`` name the columns (0-based) whose numbers get the two-place
    formats; the values stay numbers so that finance can add them up.
    """

    def __init__(
        self,
        title: str,
        headers: Sequence[str],
        *,
        money: Iterable[int] = (),
        scores: Iterable[int] = (),
        widths: Sequence[int] = (),
        caption: str | None = None,
    ) -> None:
        self.workbook = Workbook()
        sheet = self.workbook.active
        assert sheet is not None
        self.sheet: Worksheet = sheet
        self.sheet.title = text(title)[:31] or "Sheet"
        self.money = set(money)
        self.scores = set(scores)
        if caption:
            self.sheet.append([text(caption)])
            self.sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
        self.sheet.append(list(headers))
        self.header_row = self.sheet.max_row
        for cell in self.sheet[self.header_row]:
            cell.font = Font(bold=True)
        self.sheet.freeze_panes = f"A{self.header_row + 1}"
        for i, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width

    def append(self, values: Sequence[Any], *, bold: bool = False) -> None:
        self.sheet.append([_cell_value(v) for v in values])
        row = self.sheet.max_row
        for i, cell in enumerate(self.sheet[row]):
            if cell.data_type == "f":  # a name such as "=HYPERLINK(...)" stays text, never a formula
                cell.data_type = "s"
            if isinstance(cell.value, int | float | Decimal) and not isinstance(cell.value, bool):
                if i in self.money:
                    cell.number_format = MONEY_FORMAT
                elif i in self.scores:
                    cell.number_format = SCORE_FORMAT
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if bold:
                cell.font = Font(bold=True)

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()
