"""The one rule that keeps a CSV cell from being read as a formula by a spreadsheet."""

from __future__ import annotations

import pytest

from contacthub.spreadsheet import inert_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3*A1", "'-2+3*A1"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+1 (800) 555-0100", "+1 (800) 555-0100"),
        ("+91 92000 11111", "+91 92000 11111"),
        ("-", "-"),
        ("-1.5", "-1.5"),
        ("+", "+"),
        ("Asha", "Asha"),
        ("a=1", "a=1"),
        ("", ""),
        (None, None),
        (42, 42),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_gets_a_leading_quote(
    value: object, written: object
) -> None:
    assert inert_cell(value) == written
