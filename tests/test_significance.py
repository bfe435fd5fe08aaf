"""Significance (pure): a score from 0 to 1 and its parts; it changes only whether a change alerts."""

from __future__ import annotations

from crawler.diff import diff_texts
from crawler.significance import LINK, TITLE, significance

PARAGRAPHS = [f"Paragraph {i}: the ministry signed contract {i} for cameras in district {i}, worth {i} million."
              for i in range(1, 11)]
PAGE = "\n".join(PARAGRAPHS) + "\nThis page has been accessed 587,321 times."


def score(old: str, new: str, **kw):
    return significance(diff_texts(old, new), old, new, **kw)


def test_a_visit_counter_scores_almost_nothing_and_a_rewrite_much():
    counter = score(PAGE, PAGE.replace("587,321", "587,325"))
    assert 0 < counter.score < 0.01
    assert counter.parts["changed_chars"] == 6 and not counter.parts["title_changed"]  # "321" out, "325" in
    rewritten = PAGE.replace(PARAGRAPHS[3], "A new contract was signed with Huawei for facial recognition.")
    assert score(PAGE, rewritten).score > 0.15  # one paragraph of ten rewritten
    assert score(PAGE, "Gone.").score == 1.0


def test_title_links_and_keywords_add_to_the_score():
    base = score(PAGE, PAGE + " x")
    titled = score(PAGE, PAGE + " x", old_title="Contracts", new_title="Contracts (archived)")
    assert titled.score == round(base.score + TITLE, 4) and titled.parts["title_changed"]
    linked = score(PAGE, PAGE + " x", old_links=["a", "b", "c"], new_links=["a"])
    assert linked.parts["links_removed"] == 2 and linked.score == round(base.score + 2 * LINK, 4)
    keyword = score(PAGE, PAGE + " Huawei", appeared=["Huawei"])
    assert keyword.score == 1.0 and keyword.parts["keywords_appeared"] == ["Huawei"]


def test_moved_text_counts_a_tenth():
    moved = "\n".join(PARAGRAPHS[1:] + PARAGRAPHS[:1])
    as_words = significance(diff_texts(PAGE, moved, moves=False), PAGE, moved)
    as_move = score(PAGE, moved)   # the diff finds the move itself
    assert as_move.parts["moved_chars"] == len(PARAGRAPHS[0]) + 1
    assert as_move.score < as_words.score / 3


def test_binary_content_compared_by_digest_changed_entirely():
    assert significance(None, None, None).score == 1.0
