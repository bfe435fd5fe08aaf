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
    # the change's page (the first run's report has the first capture's page, under the same name)
    [detail] = [text for p in (tmp_path / "reports").glob("*/keyword.html")
                if 'class="badge v-changed"' in (text := p.read_text())]
    assert '<mark class="kw">HUAWEI</mark>' in detail  # highlighted in the report
    assert "<h2>Significance</h2>" in detail and "Score <strong>1.00</strong>" in detail
    # the evidence box says how to check the capture with standard tools: the command gives the bytes served
    import html as html_module
    import re
    import subprocess
    import sys
    from pathlib import Path

    commands = re.findall(r"<code>(warcio extract --payload [^<]+)</code>", detail)
    assert len(commands) == 2  # the last good capture and this one
    warcio = Path(sys.executable).parent / "warcio"
    out = subprocess.run([str(warcio), *html_module.unescape(commands[1]).split()[1:]], cwd=tmp_path / "archive",
                         capture_output=True, timeout=60, check=True).stdout
    assert out == site.sent("/keyword")
    assert re.search(r"/&lt;collection&gt;/\d{14}id_/http://127\.0\.0\.1:\d+/keyword", detail)
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


def test_volatile_parts_are_learned_left_out_and_unlearned(tmp_path, site, monkeypatch):
    def quoted(n: int, edit: str = "") -> str:
        quotes = ["Great service.", "Fast and fair.", "Very helpful staff.", "Open and honest.", "Clear answers."]
        return page(ARTICLE.replace("contract 3", f"contract 3{edit}") + "<h2>What citizens say</h2>"
                    f"<p>{quotes[n % 5]}</p><p>This page has been accessed {587321 + n * 17:,} times.</p>")

    site.set("/q", quoted(0))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "q", "url": site.url("/q"), "tags": ["city"]}])
    verdicts = []
    for n in range(5):
        site.set("/q", quoted(n))
        verdicts.append(run(tmp_path)["q"])
    # changed twice (the evidence), learned on the third change in a row, then quiet
    assert [e["verdict"] for e in verdicts] == ["new", "changed", "changed", "unchanged", "unchanged"]
    learned = verdicts[3]["evidence"]["volatile_learned"]
    assert learned == ["after:What citizens say", "line:This page has been accessed #,# times."]
    assert verdicts[4]["evidence"]["volatile_left_out"] == ["Clear answers.", "This page has been accessed 587,389 times."]
    # a real edit still alerts; its diff leaves the volatile blocks out
    site.set("/q", quoted(5, edit="0"))
    ran = lastseen(tmp_path, "run", "--json", "--force")
    edit = ran.event("q")
    assert (edit["verdict"], edit["alert"]) == ("changed", True)
    assert edit["diff"]["insertions"] == 1 and edit["diff"]["deletions"] == 1
    report = (tmp_path / ran.json["run"]["report"]).parent
    detail = next(p for p in report.glob("*.html") if p.name != "index.html").read_text()
    assert "<ul class=\"volatile\"><li>Great service.</li>" in detail  # shown greyed, not compared
    monkeypatch.setenv("COLUMNS", "250")
    shown = lastseen(tmp_path, "status", "--only", "city")
    assert 'volatile in q: the block shaped "This page has been accessed #,# times."' in shown.stdout
    listed = lastseen(tmp_path, "status", "--only", "q", "--json").json
    assert [v["key"] for v in listed["volatile"]] == learned and [t["target"] for t in listed["targets"]] == ["q"]
    forgot = lastseen(tmp_path, "unlearn", "--only", "q")
    assert forgot.exit_code == 0 and "forgot 2 volatile parts of q" in forgot.stdout
    assert lastseen(tmp_path, "status", "--only", "q", "--json").json["volatile"] == []
    site.set("/q", quoted(6, edit="0"))
    assert run(tmp_path)["q"]["verdict"] == "changed"  # compared whole again


def test_a_moved_paragraph_is_shown_as_a_move_and_counts_little(tmp_path, site):
    paragraphs = [f"<p>Paragraph {i}: the ministry signed contract {i} for cameras in district {i}.</p>"
                  for i in range(1, 9)]
    site.set("/m", page("".join(paragraphs)))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "m", "url": site.url("/m")}])
    run(tmp_path)
    site.set("/m", page("".join(paragraphs[1:6] + paragraphs[:1] + paragraphs[6:])))
    ran = lastseen(tmp_path, "run", "--json", "--force")
    event = ran.event("m")
    assert event["verdict"] == "changed" and event["diff"]["moves"] == 1
    assert (event["diff"]["insertions"], event["diff"]["deletions"]) == (0, 0)
    assert event["significance"]["score"] < 0.05 and "1 paragraph moved" in event["summary"]
    detail = next(p for p in (tmp_path / ran.json["run"]["report"]).parent.glob("*.html") if p.name != "index.html")
    html = detail.read_text()
    assert html.count('class="moved-from"') == 1 and html.count('class="moved-to"') == 1
    assert "Paragraph 1: the ministry signed contract 1" in html.split('class="moved-to"')[1][:300]


def test_new_extraction_rules_compare_the_baseline_read_again_not_a_false_change(tmp_path, site):
    # the user adds `ignore` and `ignore_text` to a target after its baseline: the next capture is
    # compared with the baseline read again under the new rules, from the WARC record
    site.set("/t", page(ARTICLE + "<aside class='ad'>Buy cameras now</aside><p>Visits: 1</p>"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "t", "url": site.url("/t")}])
    run(tmp_path)
    site.set("/t", page(ARTICLE + "<aside class='ad'>Buy drones now</aside><p>Visits: 2</p>"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "t", "url": site.url("/t"), "ignore": [".ad"],
                                                   "ignore_text": [r"Visits: \d+"]}])
    assert run(tmp_path)["t"]["verdict"] == "unchanged"
    site.set("/t", page(ARTICLE.replace("contract 2", "contract 22") + "<aside class='ad'>x</aside>"))
    assert run(tmp_path)["t"]["verdict"] == "changed"


def test_main_content_by_default_a_change_outside_it_is_unchanged_and_said(tmp_path, site):
    article = "".join(f"<p>The municipality signed contract {i} for {i * 12} cameras in district {i}, "
                      f"after an open procedure with three bidders.</p>" for i in range(1, 7))

    def full(sidebar: str, body: str = article) -> str:
        return (f"<html><head><title>Notice</title></head><body><nav><ul>{NAV}</ul></nav><main><article>"
                f"<h1>Contract notice 7/2024</h1>{body}</article><aside><h2>Latest news</h2><ul>{sidebar}</ul>"
                f"</aside></main><footer><p>Visits: 12</p></footer></body></html>")

    site.set("/n", full("<li><a href='/a'>Mayor opens a park</a></li>"))
    site.set("/p", full("<li><a href='/a'>Mayor opens a park</a></li>"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "n", "url": site.url("/n")},
                                                  {"name": "p", "url": site.url("/p"), "select": "page"}])
    run(tmp_path)
    site.set("/n", full("<li><a href='/b'>New bus line</a></li>"))
    site.set("/p", full("<li><a href='/b'>New bus line</a></li>"))
    ran = lastseen(tmp_path, "run", "--json", "--force")
    n, p = ran.event("n"), ran.event("p")
    assert (n["verdict"], n["alert"], n["flags"]) == ("unchanged", False, ["outside-main"])
    assert (p["verdict"], p["alert"]) == ("changed", True)  # select: page compares the whole page
    index = (tmp_path / ran.json["run"]["report"]).read_text()
    assert '<details class="outside"><summary>1 unchanged page changed outside the compared part' in index
    # a real edit of the article alerts; the whole page's text is stored as well as the compared text
    site.set("/n", full("<li><a href='/b'>New bus line</a></li>", article.replace("contract 3", "contract 33")))
    assert run(tmp_path)["n"]["verdict"] == "changed"
    import sqlite3

    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    page_text, text = db.execute("select p.text, t.text from captures c join texts p on p.sha256 = c.page_text_sha256 "
                                 "join texts t on t.sha256 = c.text_sha256 where c.target = 'n' "
                                 "order by c.id desc").fetchone()
    assert "New bus line" in page_text and "New bus line" not in text and "contract 33" in text


def test_the_excerpt_of_a_change_is_whole_words():
    from crawler.diff import diff_texts
    from crawler.summary import excerpt

    assert excerpt(diff_texts("vredan 1.200.000 dinara.", "vredan 1.950.000 dinara.")) == \
        "\u201c1.200.000\u201d \u2192 \u201c1.950.000\u201d"
    assert excerpt(diff_texts("Cameras for the police.", "Cameras and drones for the police.")) == \
        "+ \u201cand drones\u201d"
    assert excerpt(diff_texts("A. Gone sentence.", "A.")) == "\u2212 \u201cGone sentence.\u201d"
    long = "word " * 40
    assert excerpt(diff_texts("A.", f"A. {long}")).endswith("\u2026\u201d")  # cut at a word, marked
