"""Reading an import's CSV: the delimiter found in one bounded pass, and rows bounded in size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contacthub.imports import (
    MAX_ROW_CHARS,
    BatchSending,
    ImportFileError,
    Row,
    detect_delimiter,
    plan_import,
    reasons_by_index,
)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("Phone,First Name,Surname\n1,2,3\n", ","),
        ("Phone;First Name;Surname\r\n1;2;3\r\n", ";"),
        ("Phone\tFirst Name\tSurname\n", "\t"),
        ("Phone|First Name|Surname\n", "|"),
        # Delimiters inside quotes are the header's text, not its structure.
        ('"Name, first";"Name, last";"Phone, mobile"\n', ";"),
        ('"a ""quoted"", header";b;c\n', ";"),
        # Only the header line counts; a single column is read with the default.
        ("Phone\n1;2;3;4\n", ","),
        ("", ","),
    ],
)
def test_the_delimiter_is_the_one_the_header_uses_most(sample: str, delimiter: str) -> None:
    assert detect_delimiter(sample) == delimiter


def _people(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_header_crafted_against_sniffing_is_read_in_well_under_a_second(tmp_path: Path) -> None:
    # csv.Sniffer spent 14 s of CPU on this 64 KiB header (`contacthub import` used it too).
    crafted = _people(tmp_path / "crafted.csv", ',"a' * (64 * 1024 // 3) + "\n")
    started = time.process_time()
    with pytest.raises(ImportFileError, match="no column for phone_no"):
        plan_import(crafted, overrides={}, default_region=None, on_duplicate="skip")
    assert time.process_time() - started < 0.5


def test_semicolons_and_spaces_after_delimiters_are_read(tmp_path: Path) -> None:
    source = _people(
        tmp_path / "p.csv",
        'Phone; First Name; Surname\n+91 93000 00001; "Rao; Asha"; Rao\n',
    )
    plan = plan_import(source, overrides={}, default_region=None, on_duplicate="skip")
    [[row]] = plan.batches
    assert row.contact == {
        "phone_no": "+91 93000 00001",
        "first_name": "Rao; Asha",
        "last_name": "Rao",
    }


def test_a_row_longer_than_the_limit_is_refused_by_its_line(tmp_path: Path) -> None:
    long_row = "+919300000002," + "x," * (MAX_ROW_CHARS // 2) + "\n"
    source = _people(
        tmp_path / "long.csv", "Phone,First Name,Surname\n+919300000001,A,B\n" + long_row
    )
    with pytest.raises(ImportFileError, match=r"the row at line 3 is longer than 256 KiB"):
        plan_import(source, overrides={}, default_region=None, on_duplicate="skip")
    # Quoted fields may span lines, each under csv's own limit: the row is bounded as a whole.
    field = '"' + ("x" * 999 + "\n") * 100 + '"'
    spread = "+919300000002," + ",".join([field] * 3) + "\n"
    source = _people(tmp_path / "spread.csv", "Phone,First Name,Surname\n" + spread)
    with pytest.raises(ImportFileError, match="longer than 256 KiB"):
        plan_import(source, overrides={}, default_region=None, on_duplicate="skip")


def test_a_batch_sets_refused_rows_aside_and_keeps_the_rest_in_order() -> None:
    rows = [Row(line, [str(line)], {"phone_no": str(line)}) for line in range(2, 7)]
    sending = BatchSending(rows)
    assert sending.attempt == 0
    sending.set_aside({3: "phone_no: already stored", 1: "email_id: bad"})
    assert [row.line for row in sending.rows] == [2, 4, 6]
    assert [(row.line, reason) for row, reason in sending.refused] == [
        (3, "email_id: bad"),
        (5, "phone_no: already stored"),
    ]
    assert sending.attempt == 1


def test_problems_become_one_reason_per_element_or_none_for_the_whole_request() -> None:
    assert reasons_by_index(
        [(0, "phone_no", "bad"), (2, "last_name", "x"), (0, "company", "y")]
    ) == {
        0: "phone_no: bad; company: y",
        2: "last_name: x",
    }
    assert reasons_by_index([(0, "phone_no", "bad"), (None, "contacts", "too many")]) is None
