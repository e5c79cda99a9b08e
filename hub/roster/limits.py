"""How much of a roster file is read: bounds that keep a hostile or broken file from taking the
hub's memory and CPU (a zip bomb, a million-row sheet, one endless CSV line)."""

from __future__ import annotations

from dataclasses import dataclass


class TableError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too large)."""


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_rows: int = 50_000
    """Data rows (the header and blank lines not counted); reading stops at the first one over."""
    max_columns: int = 32
    """A roster has at most 9 columns; a value further right is refused, not dropped."""
    max_line_chars: int = 64 * 1024
    """One CSV line (a roster's row is about 100 characters)."""
    max_ratio: int = 100
    """Compression ratio of one .xlsx part of 1 MiB or more (real sheets: 10 to 16)."""
    max_members: int = 200
    """Parts of an .xlsx (a workbook has about ten)."""

    @property
    def max_unpacked_bytes(self) -> int:
        """What an .xlsx may unpack to, declared and counted while reading: 64 MiB for 50,000
        rows (50,000 rows of nine columns as openpyxl writes them: 25 MB)."""
        return max(1024 * 1024, self.max_rows * 1342)

    @property
    def max_tags(self) -> int:
        """XML tags (``<``) in an .xlsx: each element costs parse time whatever its size
        (about 5 µs here), so 4 million for 50,000 rows (50,000 rows of nine columns as openpyxl
        writes them: 2.8 million)."""
        return max(10_000, self.max_rows * 80)
