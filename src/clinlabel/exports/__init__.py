"""Output formats as pure functions over label rows; the store feeds them, nothing here queries."""

from clinlabel.exports.rows import BASIC_COLUMNS, DETAILED_COLUMNS, LabelRow

__all__ = ["BASIC_COLUMNS", "DETAILED_COLUMNS", "LabelRow"]
