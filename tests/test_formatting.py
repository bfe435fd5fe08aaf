"""How times are written and read back (crawler.formatting): the ``--json`` contract's forms, exactly (#17)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from crawler.formatting import iso, iso_precise, parse_iso

#: Any aware time (offsets of whole minutes, as ISO 8601 writes them) or a naive one (taken as UTC).
TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).flatmap(
    lambda t: st.one_of(st.just(t), st.integers(-1439, 1439).map(
        lambda m: t.replace(tzinfo=timezone(timedelta(minutes=m))))))


@given(TIMES)
def test_iso_is_the_utc_time_to_the_second_with_z(t):
    as_utc = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    written = iso(t)
    assert written == as_utc.strftime("%Y-%m-%dT%H:%M:%SZ")  # the form the JSON contract has always had
    if as_utc.year >= 1000:  # before, strftime writes the year without its leading zeros: not ISO 8601
        assert parse_iso(written) == as_utc.replace(microsecond=0) and parse_iso(written).tzinfo is timezone.utc


@given(TIMES.filter(lambda t: t.year > 1000))
def test_parse_iso_reads_back_the_precise_form_as_aware_utc(t):
    back = parse_iso(iso_precise(t))
    assert back == (t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t) and back.tzinfo is timezone.utc
    assert parse_iso(None) is None and parse_iso("") is None
