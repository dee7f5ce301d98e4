"""The time a dataset describes: a year, an ISO date or a period of years.

The catalogue records it as text (``"2020"``, ``"2020-07-15"``, ``"2000/2024"``); the STAC export
and the steps read it back in these three forms only, so anything else is refused on the way in.
"""

from __future__ import annotations

import re
from datetime import date

from minecarbon.errors import InputDataError

#: The years a dataset may describe.
YEAR_MIN, YEAR_MAX = 1900, 2100

_YEAR = re.compile(r"[0-9]{4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERIOD = re.compile(r"([0-9]{4})/([0-9]{4})")

_FORMS = (f"a year {YEAR_MIN}–{YEAR_MAX} (2020), an ISO date YYYY-MM-DD (2020-07-15) "
          "or a period YYYY/YYYY (2000/2024)")


def parse_time(value: str, *, name: str = "time") -> str:
    """Check the time of a dataset and return it without surrounding blanks.

    Parameters
    ----------
    value
        ``"2020"`` (a year), ``"2020-07-15"`` (an ISO date) or ``"2000/2024"`` (a period of
        whole years, first ≤ last); years lie in 1900–2100.
    name
        How the input is called in the error message (``--year`` for the command line).

    Raises
    ------
    InputDataError
        Naming ``name`` and the value, if it is none of the three forms, names an impossible
        date (``2021-02-30``), a year outside 1900–2100 or a period that ends before it starts.

    """
    text = str(value).strip()

    def refuse(why: str) -> InputDataError:
        return InputDataError(f"{name} {value!r} {why}", fix=f"give {_FORMS}")

    def check_year(year: int) -> None:
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise refuse(f"names the year {year}, outside {YEAR_MIN}–{YEAR_MAX}")

    if _YEAR.fullmatch(text):
        check_year(int(text))
    elif _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise refuse("is not a real calendar date") from None
        check_year(day.year)
    elif (period := _PERIOD.fullmatch(text)) is not None:
        first, last = int(period[1]), int(period[2])
        check_year(first)
        check_year(last)
        if first > last:
            raise refuse(f"ends ({last}) before it starts ({first})")
    else:
        raise refuse("is not a year, an ISO date or a period")
    return text
