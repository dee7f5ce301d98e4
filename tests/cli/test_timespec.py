"""The time of a dataset: a year, an ISO date or a period, checked by the library."""

from __future__ import annotations

import pytest

from minecarbon.errors import InputDataError
from minecarbon.io.timespec import parse_time


@pytest.mark.parametrize(("value", "expected"), [
    ("2020", "2020"), (" 2020 ", "2020"), ("1900", "1900"), ("2100", "2100"),
    ("2020-07-15", "2020-07-15"), ("2024-02-29", "2024-02-29"),
    ("2000/2024", "2000/2024"), ("2020/2020", "2020/2020"),
])
def test_accepted(value: str, expected: str) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(("value", "why"), [
    ("abc", "is not a year"), ("", "is not a year"), ("20", "is not a year"),
    ("2020.5", "is not a year"), ("2020-7-15", "is not a year"), ("2020/21", "is not a year"),
    ("１９９９", "is not a year"),  # full-width digits
    ("1899", "outside 1900–2100"), ("2101", "outside 1900–2100"),
    ("1850-01-01", "outside"), ("2021-02-30", "not a real calendar date"),
    ("2024/2000", "ends (2000) before it starts (2024)"), ("1800/2000", "outside"),
])
def test_refused_with_the_name_and_a_fix(value: str, why: str) -> None:
    with pytest.raises(InputDataError) as caught:
        parse_time(value, name="--year")
    message = str(caught.value)
    assert message.startswith(f"--year {value!r}")
    assert why in message
    assert "fix: give a year 1900–2100" in message
