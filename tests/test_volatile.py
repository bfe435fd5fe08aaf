"""Volatile parts (pure): keys of replaced blocks, the 3-of-4 rule, leaving them out."""

from __future__ import annotations

from crawler.volatile import changed_keys, learn, leave_out, shape

BODY = ["Tender 12/2026: 40 cameras for the city centre.", "Deadline: 15 January 2027.",
        "What our citizens say", "QUOTE", "This page has been accessed 587,321 times."]


def page(quote: str = "Great service.", visits: str = "587,321", extra: list[str] = ()) -> str:
    lines = [line.replace("QUOTE", quote).replace("587,321", visits) for line in BODY]
    return "\n".join([*extra, *lines])


def test_a_counter_keeps_its_key_and_a_rotating_quote_is_its_slot():
    assert shape("accessed 587,321 times in 0.12 s") == "accessed #,# times in #.# s"
    assert changed_keys(page(), page(visits="587,325")) == {"line:This page has been accessed #,# times."}
    assert changed_keys(page(), page(quote="Fast and fair.")) == {"after:What our citizens say"}


def test_new_items_in_a_list_are_never_keys():
    assert changed_keys(page(), page(extra=["Tender 13/2026: drones."])) == frozenset()
    assert changed_keys(page(extra=["a", "b"]), page(extra=["b"])) == frozenset()


def test_learned_after_three_of_the_last_four():
    counter = "line:This page has been accessed #,# times."
    assert learn([{counter}, {counter}]) == frozenset()
    assert learn([{counter}, set(), {counter}, {counter}]) == {counter}
    assert learn([{counter}, {counter}, {counter}, set(), set()]) == frozenset()  # only the last four count


def test_leave_out_drops_only_the_named_blocks():
    keys = {"line:This page has been accessed #,# times.", "after:What our citizens say"}
    kept, left = leave_out(page(quote="Fast and fair.", visits="600,000"), keys)
    assert kept == page().replace("\nGreat service.", "").replace("\nThis page has been accessed 587,321 times.", "")
    assert left == ["Fast and fair.", "This page has been accessed 600,000 times."]
    # a real edit elsewhere is still in the compared text
    edited = page().replace("40 cameras", "400 cameras")
    assert "400 cameras" in leave_out(edited, keys)[0]
