"""Keeping a CSV cell from being run as a formula when the file is opened in a spreadsheet.

OWASP's rule for CSV injection: a cell that starts with `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading `'`, which spreadsheets read as
"this is text". A value made only of digits, spaces and `+ - ( ) .` is left as
it is: without letters, `!` or `|` it can name no function, cell or program
(it is at most arithmetic on its own digits), and a phone number typed
`+91 92000 11111` must stay importable as it was typed. Pure: `contacthub
export`, a client-side command, imports it, as does the server.
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"[0-9 +\-().]+")


def inert_cell(value: object) -> object:
    """`value`, with a leading `'` when a spreadsheet would take it for a formula."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PHONE_LIKE.fullmatch(value)
    ):
        return "'" + value
    return value
