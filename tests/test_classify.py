"""Verdicts (pure): the table of the run contract, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.classify import VERDICTS, Observation, Previous, classify, is_home_redirect

URL = "https://vendor.example/case/belgrade"
GOOD = Previous(last_verdict="unchanged", good_fingerprint="f1", has_good=True)


@pytest.mark.parametrize("obs,prev,expected", [
    (Observation(URL, 200, URL, fingerprint="f1"), Previous(), ("new", None, False)),
    (Observation(URL, 200, URL, fingerprint="f1"), Previous("unreachable", None, False), ("new", None, False)),
    (Observation(URL, 200, URL, fingerprint="f1"), GOOD, ("unchanged", None, False)),
    (Observation(URL, 200, URL, fingerprint="f2"), GOOD, ("changed", None, True)),
    (Observation(URL, 404, URL), GOOD, ("vanished", "http-404", True)),
    (Observation(URL, 404, URL), Previous("vanished", "f1", True), ("vanished", "http-404", False)),
    (Observation(URL, 410, URL), GOOD, ("vanished", "http-410", True)),
    (Observation(URL, 404, URL), Previous(), ("vanished", "http-404", True)),
    (Observation(URL, 200, "https://www.vendor.example/", fingerprint="h"), GOOD, ("vanished", "redirected", True)),
    (Observation(URL, 200, "http://vendor.example", fingerprint="h"), GOOD, ("vanished", "redirected", True)),
    (Observation(URL, 200, URL + "/", fingerprint="f1"), GOOD, ("unchanged", None, False)),
    (Observation(URL, None, error_kind="dns"), GOOD, ("unreachable", "dns", True)),
    (Observation(URL, None, error_kind="timeout"), Previous("unreachable", "f1", True), ("unreachable", "timeout", False)),
    (Observation(URL, 503, URL), GOOD, ("unreachable", "http-5xx", True)),
    (Observation(URL, None, error_kind="robots"), GOOD, ("unreachable", "robots", True)),
    (Observation(URL, None, error_kind="robots"), Previous("unreachable", "f1", True), ("unreachable", "robots", False)),
    (Observation(URL, None, error_kind="redirects"), Previous(), ("unreachable", "redirects", True)),
    (Observation(URL, 403, URL), GOOD, ("unreachable", "http-4xx", True)),
    (Observation(URL, 200, URL, fingerprint="f1"), Previous("vanished", "f1", True), ("restored", None, True)),
    (Observation(URL, 200, URL, fingerprint="f9"), Previous("unreachable", "f1", True), ("restored", None, True)),
])
def test_contract_table(obs, prev, expected):
    v = classify(obs, prev)
    assert (v.verdict, v.reason, v.alert) == expected


def test_home_page_itself_is_not_redirected_away():
    assert not is_home_redirect("https://vendor.example/", "https://www.vendor.example/")
    assert not is_home_redirect("http://a.example/page", "https://b.example/")
    assert is_home_redirect("http://a.example/page", "https://a.example/")


fingerprints = st.text(min_size=1, max_size=8)
verdict_names = st.sampled_from([None, *VERDICTS])


@given(fingerprints, st.sampled_from([None, "new", "unchanged", "changed", "restored"]))
def test_same_fingerprint_as_last_good_is_unchanged(fp, last):
    v = classify(Observation(URL, 200, URL, fingerprint=fp), Previous(last, fp, True))
    assert (v.verdict, v.alert) == ("unchanged", False)


@given(st.one_of(st.none(), st.integers(100, 599)), st.sampled_from(["dns", "refused", "timeout", "reset", "tls", "redirects", "robots", "protocol", None]),
       verdict_names, st.booleans(), fingerprints)
def test_classify_is_total_and_speaks_the_vocabulary(status, kind, last, has_good, fp):
    v = classify(Observation(URL, status, URL, error_kind=kind, fingerprint=fp), Previous(last, "x" if has_good else None, has_good))
    assert v.verdict in VERDICTS
    assert v.reason is None or v.reason in VERDICTS[v.verdict].reason_names
    if v.verdict in ("vanished", "unreachable") and last == v.verdict:
        assert not v.alert


def test_every_fetch_error_kind_is_a_reason_of_unreachable():
    from crawler.fetch.model import ERROR_KINDS

    assert set(ERROR_KINDS) <= set(VERDICTS["unreachable"].reason_names)
    for kind in ERROR_KINDS:
        v = classify(Observation(URL, None, error_kind=kind), GOOD)
        assert (v.verdict, v.reason, v.alert) == ("unreachable", kind, True)
