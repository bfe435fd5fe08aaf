"""Signal, not noise, end to end: ignore_text, keywords, alert_when, equate_scripts in real runs."""

from __future__ import annotations

from .helpers import lastseen, write_watchlist

NAV = "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(12))


def page(body: str, title: str = "Tenders") -> str:
    return (f"<html><head><title>{title}</title></head><body><nav><ul>{NAV}</ul></nav>"
            f"<main><h1>{title}</h1>{body}</main><footer><p>Ministry of Interior, Belgrade</p></footer></body></html>")


ARTICLE = "".join(f"<p>Paragraph {i}: the ministry signed contract {i} for cameras in district {i}.</p>"
                  for i in range(1, 9))


def run(tmp, *args):
    ran = lastseen(tmp, "run", "--json", "--force", *args)
    assert ran.exit_code == 0, ran.stderr
    return {e["target"]: e for e in ran.json["events"]}


def test_ignore_text_keywords_and_alert_when(tmp_path, site):
    site.set("/counter", page(ARTICLE + "<p>This page has been accessed 587,321 times.</p>"))
    site.set("/small", page(ARTICLE + "<p>Visits: 10</p>"))
    site.set("/keyword", page(ARTICLE))
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "counter", "url": site.url("/counter"), "ignore_text": [r"accessed [0-9,]+ times"]},
        {"name": "small", "url": site.url("/small"), "alert_when": {"min_significance": 0.2}},
        {"name": "keyword", "url": site.url("/keyword"), "alert_when": {"min_significance": 0.9}},
    ], settings={"keywords": ["Huawei", "facial recognition"]})
    first = run(tmp_path)
    assert {e["verdict"] for e in first.values()} == {"new"}
    site.set("/counter", page(ARTICLE + "<p>This page has been accessed 587,325 times.</p>"))
    site.set("/small", page(ARTICLE + "<p>Visits: 11</p>"))
    site.set("/keyword", page(ARTICLE + "<p>The cameras were supplied by HUAWEI.</p>"))
    second = run(tmp_path)
    assert (second["counter"]["verdict"], second["counter"]["alert"]) == ("unchanged", False)
    small = second["small"]
    assert (small["verdict"], small["alert"]) == ("changed", False)
    assert "below-threshold" in small["flags"] and small["significance"]["score"] < 0.2
    kw = second["keyword"]
    assert (kw["verdict"], kw["alert"]) == ("changed", True) and "below-threshold" not in kw["flags"]
    assert kw["significance"]["parts"]["keywords_appeared"] == ["Huawei"]
    assert "keyword \u201cHuawei\u201d appeared" in kw["summary"]
    # a real change next to the ignored counter still alerts
    site.set("/counter", page(ARTICLE.replace("contract 3", "contract 33") + "<p>accessed 587,400 times.</p>"))
    third = run(tmp_path, "--only", "counter")
    assert (third["counter"]["verdict"], third["counter"]["alert"]) == ("changed", True)


def test_serbian_republished_in_the_other_script_is_unchanged(tmp_path, site):
    cyr = "<p>Министарство унутрашњих послова објављује јавни позив за набавку камера.</p>" \
          "<p>Љубиша Џајић, НАЧЕЛНИК ОДЕЉЕЊА, потписао је уговор вредан 1.200.000 динара.</p>"
    lat = "<p>Ministarstvo unutrašnjih poslova objavljuje javni poziv za nabavku kamera.</p>" \
          "<p>Ljubiša Džajić, NAČELNIK ODELJENJA, potpisao je ugovor vredan 1.200.000 dinara.</p>"
    for path in ("/eq", "/plain"):
        site.set(path, page(cyr, title="Јавни позив"))
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "eq", "url": site.url("/eq"), "equate_scripts": "sr"},
        {"name": "plain", "url": site.url("/plain")},
    ])
    run(tmp_path)
    for path in ("/eq", "/plain"):
        site.set(path, page(lat, title="Javni poziv"))
    second = run(tmp_path)
    assert (second["eq"]["verdict"], second["eq"]["alert"]) == ("unchanged", False)
    assert second["plain"]["verdict"] == "changed"
    # a real edit in the other script alerts, and the diff reads in the new capture's script
    site.set("/eq", page(lat.replace("1.200.000", "1.950.000"), title="Javni poziv"))
    third = run(tmp_path, "--only", "eq")
    eq = third["eq"]
    assert (eq["verdict"], eq["alert"]) == ("changed", True)
    assert eq["diff"]["insertions"] == 1 and eq["diff"]["deletions"] == 1
