"""Verdicts (pure): the decision order, confirmation, the evidence, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.classify import (
    THRESHOLDS,
    VERDICTS,
    HostEvidence,
    HostPage,
    Observation,
    Previous,
    classify,
    is_home_redirect,
    same_page,
)

URL = "https://vendor.example/case/belgrade"
NAV = " ".join(f"Menu item {i} of the vendor site." for i in range(20))
ARTICLE = " ".join(f"Sentence {i} of the Safe City case study describes cameras in district {i}." for i in range(80))
GOOD_TEXT = f"{NAV}\n{ARTICLE}"
GOOD = Previous(last_verdict="unchanged", good_fingerprint="f1", has_good=True, good_text=GOOD_TEXT,
                state="unchanged")


def prev(**kw) -> Previous:
    return Previous(**{**GOOD.__dict__, **kw})


def page(text: str, fp: str = "f2", **kw) -> Observation:
    return Observation(URL, 200, URL, fingerprint=fp, text=text, chain=((200, URL),), **kw)


def redirect(to: str, text: str, fp: str = "f2", status: int = 301) -> Observation:
    return Observation(URL, 200, to, fingerprint=fp, text=text, chain=((status, URL), (200, to)))


def judged(obs, previous, **kw):
    v = classify(obs, previous, **kw)
    return v.verdict, v.reason, v.alert, v.confirmed


@pytest.mark.parametrize("obs,previous,expected", [
    (Observation(URL, 200, URL, fingerprint="f1"), Previous(), ("new", None, False, None)),
    (Observation(URL, 200, URL, fingerprint="f1"), Previous("unreachable", None, False, state="unreachable"),
     ("new", None, False, None)),
    (Observation(URL, 200, URL, fingerprint="f1"), GOOD, ("unchanged", None, False, None)),
    (page(GOOD_TEXT + " One more sentence."), GOOD, ("changed", None, True, None)),
    # vanished on a transition: awaits the re-fetch; persisting: confirmed already, no alert
    (Observation(URL, 404, URL), GOOD, ("vanished", "http-404", False, False)),
    (Observation(URL, 410, URL), GOOD, ("vanished", "http-410", False, False)),
    (Observation(URL, 404, URL), prev(last_verdict="vanished", state="vanished"), ("vanished", "http-404", False, True)),
    # failures: unconfirmed until confirm_after in a row; at once for a target never captured
    (Observation(URL, 503, URL), GOOD, ("unreachable", "http-5xx", False, False)),
    (Observation(URL, 503, URL), prev(failures=1), ("unreachable", "http-5xx", False, False)),
    (Observation(URL, 503, URL), prev(failures=2), ("unreachable", "http-5xx", True, True)),
    (Observation(URL, 503, URL), prev(failures=3, state="unreachable"), ("unreachable", "http-5xx", False, True)),
    (Observation(URL, None, error_kind="dns"), Previous(), ("unreachable", "dns", True, True)),
    (Observation(URL, None, error_kind="dns"), Previous("unreachable", state="unreachable", failures=1),
     ("unreachable", "dns", False, True)),
    (Observation(URL, 403, URL), GOOD, ("blocked", "http-403", False, False)),
    (Observation(URL, 401, URL), prev(failures=2), ("blocked", "http-401", True, True)),
    (Observation(URL, 429, URL), prev(failures=5, state="unreachable"), ("blocked", "http-429", False, True)),
    (Observation(URL, 400, URL), GOOD, ("unreachable", "http-4xx", False, False)),
    # restored only after a confirmed state
    (Observation(URL, 200, URL, fingerprint="f1"), prev(last_verdict="vanished", state="vanished"),
     ("restored", None, True, None)),
    (Observation(URL, 200, URL, fingerprint="f1"), prev(last_verdict="unreachable", state="unreachable"),
     ("restored", None, True, None)),
    (Observation(URL, 200, URL, fingerprint="f1"), prev(last_verdict="unreachable", failures=2),
     ("unchanged", None, False, None)),
])
def test_decision_table(obs, previous, expected):
    assert judged(obs, previous) == expected


def test_a_refetch_that_agrees_confirms_and_alerts():
    first = classify(Observation(URL, 404, URL), GOOD)
    assert first.needs == "refetch"
    assert judged(Observation(URL, 404, URL), GOOD, first=first) == ("vanished", "http-404", True, True)
    # one that disagrees: its own verdict stands
    assert judged(Observation(URL, 200, URL, fingerprint="f1"), GOOD, first=first) == ("unchanged", None, False, None)
    moved = classify(redirect("https://vendor.example/archive/belgrade", GOOD_TEXT), GOOD)
    assert judged(Observation(URL, 410, URL), GOOD, first=moved) == ("vanished", "http-410", False, False)


def test_redirects_that_keep_the_page_are_not_moves():
    for to in (URL + "/", "http://vendor.example/case/belgrade", "https://www.vendor.example/case/belgrade",
               "https://vendor.example:443/case/belgrade#top"):
        assert same_page(URL, to)
        assert judged(redirect(to, GOOD_TEXT, fp="f1"), GOOD)[0] == "unchanged"
    assert not same_page(URL, "https://vendor.example/case/belgrade?page=2")


def test_a_redirect_is_judged_by_what_it_lands_on():
    new_url = "https://vendor.example/archive/2024/belgrade"
    assert judged(redirect(new_url, GOOD_TEXT.replace("Menu item 3", "Menu entry 3")), GOOD) == \
        ("moved", None, False, False)
    for to, text, like in (
        ("https://vendor.example/", f"{NAV}\nLatest news from the vendor.", "home"),
        ("https://vendor.example/login?next=/case", f"{NAV}\nSign in. Password.", "login"),
        ("https://vendor.example/search?q=belgrade", f"{NAV}\nNo results for belgrade.", "search"),
        ("https://vendor.example/archive", f"{NAV}\nThis page has moved to our archive.", None),
    ):
        v = classify(redirect(to, text), GOOD)
        assert (v.verdict, v.reason, v.needs) == ("vanished", "redirected", "refetch"), to
        assert v.evidence["redirect_to"] == to
        assert v.evidence.get("redirect_looks_like") == like
        assert v.evidence["similarity_to_last_good"] < THRESHOLDS.moved_kept
    # after the move, the same redirect is the page: compared as usual
    assert judged(redirect(new_url, GOOD_TEXT, fp="f1"), prev(good_final_url=new_url))[0] == "unchanged"
    # a first capture that redirects home is gone; elsewhere, it is new
    assert judged(redirect("https://vendor.example/", "home"), Previous())[:2] == ("vanished", "redirected")
    assert judged(redirect("https://vendor.example/other", "other"), Previous())[0] == "new"


@pytest.mark.parametrize("title", ["Page not found – Vendor", "Страница није пронађена", "Stranica nije pronađena",
                                   "页面不存在"])
def test_soft_404_by_title_on_a_page_that_kept_little(title):
    v = classify(page(f"{NAV}\nSorry.", title=title), GOOD)
    assert (v.verdict, v.reason) == ("vanished", "soft-404")
    assert v.evidence["title_says_not_found"]


def test_not_found_words_in_the_body_or_a_page_that_kept_its_text_are_not_soft_404():
    body = GOOD_TEXT + " Regulation 404/2024 says the page not found errors must be logged."
    assert judged(page(body, title="Regulation 404/2024 explained"), GOOD)[0] == "changed"
    assert judged(page(GOOD_TEXT + " edit", title="Page not found: a history"), GOOD)[0] == "changed"


def test_soft_404_by_the_hosts_error_or_home_page():
    generic = f"{NAV}\nThe content you asked for is unavailable."
    obs = page(generic, title="Vendor – content unavailable")
    assert classify(obs, GOOD).needs == "host"
    error = HostEvidence(error_page=HostPage("https://vendor.example/x1", 404, text=generic),
                         home_page=HostPage("https://vendor.example/", 200, text=f"{NAV}\nNews."))
    v = classify(obs, GOOD, error)
    assert (v.verdict, v.reason, v.needs) == ("vanished", "soft-404", "refetch")
    assert v.evidence["similar_to_error_page"] >= THRESHOLDS.same_page
    assert v.evidence["error_page_status"] == 404
    home = HostEvidence(error_page=HostPage("https://vendor.example/x1", 404, text="Not Found"),
                        home_page=HostPage("https://vendor.example/", 200, text=generic))
    assert judged(obs, GOOD, host=home)[:2] == ("vanished", "soft-404")
    # a big rewrite that is neither is a change
    rewrite = page(" ".join(f"Entirely new sentence {i} about a new contract." for i in range(90)))
    assert judged(rewrite, GOOD, host=error)[:2] == ("changed", None)


def test_emptied_and_select_empty():
    stub = page(f"{NAV[:300]}\nThis case study is no longer available.")
    v = classify(stub, GOOD, HostEvidence())
    assert (v.verdict, v.reason) == ("vanished", "emptied")
    assert v.evidence["text_ratio"] <= THRESHOLDS.emptied_ratio
    assert classify(page(stub.text, flags=("js-shell",)), GOOD, HostEvidence()).verdict == "changed"
    gone = Observation(URL, 200, URL, fingerprint="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       text="", chain=((200, URL),), flags=("select-empty",), selected=True)
    assert judged(gone, GOOD, host=HostEvidence()) == ("changed", "select-empty", True, None)


def test_challenge_marks_decide_before_the_status():
    challenge = Observation(URL, 200, URL, fingerprint="c", text="Just a moment...", title="Just a moment...",
                            headers=(("cf-mitigated", "challenge"), ("server", "cloudflare")),
                            chain=((200, URL),), markup="<html><title>just a moment...</title>")
    v = classify(challenge, GOOD)
    assert (v.verdict, v.reason, v.alert, v.confirmed) == ("blocked", "challenge", False, False)
    assert v.evidence["challenge"] == "cloudflare"
    assert not v.good


def test_home_page_itself_is_not_redirected_away():
    assert not is_home_redirect("https://vendor.example/", "https://www.vendor.example/")
    assert not is_home_redirect("http://a.example/page", "https://b.example/")
    assert is_home_redirect("http://a.example/page", "https://a.example/")


fingerprints = st.text(min_size=1, max_size=8)
verdict_names = st.sampled_from([None, *VERDICTS])


@given(fingerprints, st.sampled_from([None, "new", "unchanged", "changed", "restored"]))
def test_same_fingerprint_as_last_good_is_unchanged(fp, state):
    v = classify(Observation(URL, 200, URL, fingerprint=fp), Previous(state, fp, True, state=state))
    assert (v.verdict, v.alert) == ("unchanged", False)


@given(st.one_of(st.none(), st.integers(100, 599)),
       st.sampled_from(["dns", "refused", "timeout", "reset", "tls", "redirects", "robots", "protocol", None]),
       verdict_names, st.booleans(), fingerprints, st.integers(0, 5))
def test_classify_is_total_and_speaks_the_vocabulary(status, kind, state, has_good, fp, failures):
    previous = Previous(state, "x" if has_good else None, has_good, state=state, failures=failures)
    v = classify(Observation(URL, status, URL, error_kind=kind, fingerprint=fp), previous)
    assert v.verdict in VERDICTS
    assert v.reason is None or v.reason in VERDICTS[v.verdict].reason_names
    if v.verdict in ("vanished", "unreachable", "blocked") and state == v.verdict:
        assert not v.alert and v.confirmed
    assert (v.confirmed is None) == (VERDICTS[v.verdict].confirm is None)
    assert not (v.alert and v.confirmed is False)


def test_every_fetch_error_kind_is_a_reason_of_unreachable():
    from crawler.fetch.model import ERROR_KINDS

    assert set(ERROR_KINDS) <= set(VERDICTS["unreachable"].reason_names)
    for kind in ERROR_KINDS:
        assert judged(Observation(URL, None, error_kind=kind), prev(failures=2)) == ("unreachable", kind, True, True)
