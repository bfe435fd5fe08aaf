"""Tests for crawler.diff: word-level diffs with an honest time limit."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.diff import DELETE, EQUAL, INSERT, Diff, diff_texts, tokenize_lines, tokenize_words
from crawler.errors import ArchiveError

# Text drawn from every plane, including the code points on both sides of
# the surrogate block, astral characters and combining marks.
_EDGE_CHARS = st.sampled_from(
    ["\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff", "\u0301", "\n", " ", "\u00a0", "中"]
)
unicode_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), _EDGE_CHARS), max_size=200
)
wordy_text = st.lists(
    st.sampled_from(["alpha", "beta", "gamma", "delta", " ", "  ", "\n", ",", ".", "ñandú", "日本", "😀"]),
    max_size=60,
).map("".join)


def _old(diff: Diff) -> str:
    return "".join(text for op, text in diff.ops if op in (EQUAL, DELETE))


def _new(diff: Diff) -> str:
    return "".join(text for op, text in diff.ops if op in (EQUAL, INSERT))


def _words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


# --- properties ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(unicode_text)
def test_diff_of_a_text_with_itself_is_empty(text):
    diff = diff_texts(text, text)
    assert not diff.changed
    assert all(op == EQUAL for op, _ in diff.ops)
    assert (diff.insertions, diff.deletions) == (0, 0)
    assert diff.summary() == "no changes"


@settings(max_examples=300, deadline=None)
@given(unicode_text, unicode_text)
def test_ops_rebuild_both_texts(old, new):
    diff = diff_texts(old, new)
    assert _old(diff) == old
    assert _new(diff) == new
    assert diff.old == old and diff.new == new
    assert diff.changed is (old != new)
    assert all(text for _, text in diff.ops)


@settings(max_examples=300, deadline=None)
@given(wordy_text, wordy_text)
def test_word_ops_never_split_a_word(old, new):
    diff = diff_texts(old, new)
    assert _old(diff) == old and _new(diff) == new
    for _, text in diff.ops:
        # Every op is a whole number of tokens of the text it came from.
        assert "".join(tokenize_words(text)) == text
    old_tokens = tokenize_words(old)
    boundaries = {0}
    position = 0
    for token in old_tokens:
        position += len(token)
        boundaries.add(position)
    position = 0
    for op, text in diff.ops:
        if op != INSERT:
            position += len(text)
            assert position in boundaries


@settings(max_examples=200, deadline=None)
@given(unicode_text, unicode_text)
def test_counts_match_the_ops(old, new):
    diff = diff_texts(old, new)
    inserted = sum(1 for op, t in diff.ops if op == INSERT for tok in tokenize_words(t) if not tok.isspace())
    deleted = sum(1 for op, t in diff.ops if op == DELETE for tok in tokenize_words(t) if not tok.isspace())
    assert (diff.insertions, diff.deletions) == (inserted, deleted)


@settings(max_examples=200, deadline=None)
@given(unicode_text)
def test_tokenizers_are_lossless(text):
    assert "".join(tokenize_words(text)) == text
    assert "".join(tokenize_lines(text)) == text


@settings(max_examples=100, deadline=None)
@given(unicode_text, unicode_text)
def test_ops_round_trip_through_json(old, new):
    diff = diff_texts(old, new)
    stored = json.dumps(diff.ops_to_json())
    meta = json.loads(json.dumps(diff.to_json()))
    rebuilt = Diff.ops_from_json(json.loads(stored), unit=meta["unit"], fallback=meta["fallback"])
    assert rebuilt == diff


# --- examples ----------------------------------------------------------------------


def test_one_word_edit_in_a_long_text():
    words = _words(5000, seed=1)
    old = " ".join(words)
    edited = list(words)
    edited[2500] = "replacement"
    diff = diff_texts(old, " ".join(edited))
    assert (diff.insertions, diff.deletions) == (1, 1)
    assert [(op, t) for op, t in diff.ops if op != EQUAL] == [(DELETE, words[2500]), (INSERT, "replacement")]
    assert diff.unit == "word" and diff.fallback is False
    assert diff.summary() == "1 insertion, 1 deletion"


def test_inserted_sentence_counts_words():
    diff = diff_texts("Alpha beta.\nGamma.", "Alpha beta.\nNew words here\nGamma.")
    assert (diff.insertions, diff.deletions) == (3, 0)
    assert diff.summary() == "3 insertions, 0 deletions"


def test_words_are_units_not_characters():
    diff = diff_texts("the colour of money", "the color of money")
    assert [(op, t) for op, t in diff.ops if op != EQUAL] == [(DELETE, "colour"), (INSERT, "color")]


def test_deleted_paragraph_counts_words():
    diff = diff_texts("Keep this.\nDrop these four words.\nKeep that.", "Keep this.\nKeep that.")
    assert diff.insertions == 0
    assert diff.deletions == 5  # four words and the full stop


def test_cjk_is_diffed_per_character():
    diff = diff_texts("東京は晴れです", "東京は雨です")
    assert (diff.insertions, diff.deletions) == (1, 2)


def test_whitespace_only_change():
    diff = diff_texts("a b", "a\nb")
    assert diff.changed and (diff.insertions, diff.deletions) == (0, 0)
    assert diff.summary() == "whitespace changes only"


def test_summary_wording():
    def summary(ins, dels, fallback=False):
        ops = ((DELETE, "x"),) if ins or dels else ((EQUAL, "x"),)
        return Diff(ops, ins, dels, "line" if fallback else "word", fallback).summary()

    assert summary(0, 0) == "no changes"
    assert summary(1, 1) == "1 insertion, 1 deletion"
    assert summary(3, 1) == "3 insertions, 1 deletion"
    assert summary(1, 2) == "1 insertion, 2 deletions"
    assert summary(0, 7) == "0 insertions, 7 deletions"
    assert summary(2, 0, fallback=True) == "2 insertions, 0 deletions (line-level: word diff timed out)"


def test_empty_texts():
    assert diff_texts("", "").ops == ()
    assert diff_texts("", "new text").ops == ((INSERT, "new text"),)
    assert diff_texts("old text", "").ops == ((DELETE, "old text"),)
    assert diff_texts("", "new text").insertions == 2


def test_to_json_shape():
    diff = diff_texts("a b c", "a x c")
    assert diff.to_json() == {"insertions": 1, "deletions": 1, "unit": "word", "fallback": False, "moves": 0}
    assert json.loads(json.dumps(diff.to_json())) == diff.to_json()


def test_ops_json_is_plain_lists():
    diff = diff_texts("a b c", "a x c")
    assert diff.ops_to_json() == [[0, "a "], [-1, "b"], [1, "x"], [0, " c"]]


@pytest.mark.parametrize(
    "bad",
    [{"ops": []}, [[3, "x"]], [[0]], [["0", "x"]], [[0, 5]], [[True, "x"]], "nope"],
)
def test_ops_from_json_rejects_malformed(bad):
    with pytest.raises(ArchiveError):
        Diff.ops_from_json(bad)


def test_ops_from_json_rejects_unknown_unit():
    with pytest.raises(ArchiveError, match="unit"):
        Diff.ops_from_json([], unit="char")


def test_negative_timeout_rejected():
    with pytest.raises(ValueError):
        diff_texts("a", "b", timeout=-1)


# --- time limit ------------------------------------------------------------------


def _really_different(n_words: int) -> tuple[str, str]:
    words = _words(n_words, seed=7)
    shuffled = list(words)
    random.Random(3).shuffle(shuffled)
    return " ".join(words), " ".join(shuffled)


def test_timeout_falls_back_to_lines():
    old_body, new_body = _really_different(40_000)
    old = f"Header line\n{old_body}\nFooter line"
    new = f"Header line\n{new_body}\nFooter line"
    diff = diff_texts(old, new, timeout=1e-6)
    assert diff.fallback is True
    assert diff.unit == "line"
    assert _old(diff) == old and _new(diff) == new
    # The line diff kept what really is unchanged.
    assert diff.ops == (
        (EQUAL, "Header line\n"),
        (DELETE, old_body + "\n"),
        (INSERT, new_body + "\n"),
        (EQUAL, "Footer line"),
    )
    assert (diff.insertions, diff.deletions) == (1, 1)
    assert diff.summary().endswith("(line-level: word diff timed out)")
    assert diff.to_json()["fallback"] is True


def test_timeout_on_both_levels_is_still_flagged():
    old_lines, new_lines = _words(30_000, seed=5), _words(30_000, seed=6)
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    diff = diff_texts(old, new, timeout=1e-6)
    assert diff.fallback is True and diff.unit == "line"
    assert _old(diff) == old and _new(diff) == new


def test_fallback_round_trips_through_json():
    old, new = _really_different(20_000)
    diff = diff_texts("x\n" + old, "x\n" + new, timeout=1e-6)
    meta = diff.to_json()
    assert Diff.ops_from_json(diff.ops_to_json(), unit=meta["unit"], fallback=meta["fallback"]) == diff


def test_zero_timeout_means_no_limit():
    old, new = _really_different(800)
    diff = diff_texts(old, new, timeout=0)
    assert diff.fallback is False and diff.unit == "word"
    assert _old(diff) == old and _new(diff) == new


def test_honest_total_rewrite_is_not_a_fallback():
    diff = diff_texts("alpha beta gamma", "delta epsilon", timeout=5)
    assert diff.fallback is False
    assert (diff.insertions, diff.deletions) == (2, 3)


def test_many_distinct_tokens_stay_exact():
    # More distinct tokens than the BMP offers single code points for.
    old = " ".join(f"t{i}" for i in range(70_000))
    new = old.replace("t35000 ", "changed ")
    diff = diff_texts(old, new)
    assert _old(diff) == old and _new(diff) == new
    assert (diff.insertions, diff.deletions) == (1, 1)


def test_out_of_code_points_the_rest_is_one_opaque_token_and_both_texts_rebuild(monkeypatch):
    import crawler.diff

    monkeypatch.setattr(crawler.diff, "_MAX_TOKENS", 30)  # as if Unicode ran out after 30 distinct tokens
    old = " ".join(f"t{i}" for i in range(40))
    new = old.replace("t5 ", "changed ").replace("t35", "t35b")
    diff = diff_texts(old, new, moves=False)
    assert _old(diff) == old and _new(diff) == new
    # the edit before the limit is a word; the rest of each text, past the limit, is one token
    assert [text for op, text in diff.ops if op == 1][0] == "changed"
    assert [text for op, text in diff.ops if op == -1][-1].endswith("t39")


def test_large_texts_set_their_common_lines_aside_and_still_rebuild_both(monkeypatch):
    lines = [f"line {i}: the ministry bought {i} cameras for the city" for i in range(5000)]
    old = "\n".join(lines)
    edited = list(lines)
    edited[10] = "line 10: the ministry bought 999 drones for the city"
    edited[4990] = edited[4990] + " and more"
    new = "\n".join(edited)
    diff = diff_texts(old, new, timeout=0)
    assert diff.old == old and diff.new == new and not diff.fallback
    import crawler.diff

    monkeypatch.setattr(crawler.diff, "_TRIM_FROM", 10**9)  # the same diff over the whole texts
    whole = diff_texts(old, new, timeout=0)
    assert (diff.insertions, diff.deletions) == (whole.insertions, whole.deletions) == (4, 2)
    assert [(op, text) for op, text in diff.ops if op != 0] == [(op, text) for op, text in whole.ops if op != 0]
    changed = [text for op, text in diff.ops if op != 0]
    assert changed and all(len(text) < 40 for text in changed)
    assert diff.ops[0][0] == 0 and diff.ops[0][1].startswith("line 0:")  # the common head is one equal run


def test_a_paragraph_that_moved_is_a_move_not_a_deletion_and_an_insertion():
    from crawler.moves import MOVED_FROM, MOVED_TO

    paragraphs = [f"Paragraph {i}: the ministry signed contract {i} for cameras in district {i}." for i in range(6)]
    old = "\n".join(paragraphs)
    new = "\n".join(paragraphs[1:4] + paragraphs[:1] + paragraphs[4:]).replace("contract 5", "contract 55")
    d = diff_texts(old, new)
    assert (d.insertions, d.deletions, d.moves) == (1, 1, 1)
    assert d.old == old and d.new == new
    assert [op for op, _ in d.ops].count(MOVED_FROM) == 1 and [op for op, _ in d.ops].count(MOVED_TO) == 1
    assert "1 paragraph moved" in d.summary()
    again = Diff.ops_from_json(d.ops_to_json())
    assert (again.moves, again.old, again.new) == (1, old, new)
    # short lines ("Contact") and repeated lines are never moves
    assert diff_texts("Contact\nA long paragraph about the tender for city cameras.", "A long paragraph about "
                      "the tender for city cameras.\nContact").moves == 1
    assert diff_texts("Home\nNews", "News\nHome").moves == 0
