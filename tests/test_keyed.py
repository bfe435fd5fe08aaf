"""Keyed diffs (pure): ``<key>: <value>`` lines (spreadsheet cells, JSON paths) compared by key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.diff import Diff
from crawler.keyed import KeyChange, diff_by_kind, diff_keyed, keyed_changes, split_line
from crawler.summary import excerpt

SHEET = (
    "Sheet1!A1: Item\n"
    "Sheet1!B1: Quantity\n"
    "Sheet1!C1: Price\n"
    "Sheet1!A2: Cameras\n"
    "Sheet1!B2: 120\n"
    "Sheet1!C14: 1,200,000"
)


def _changed_cell(old_value: str, new_value: str) -> tuple[str, str]:
    return SHEET, SHEET.replace(f"Sheet1!C14: {old_value}", f"Sheet1!C14: {new_value}")


def test_a_changed_cell_reads_as_a_change_of_that_cell():
    old, new = _changed_cell("1,200,000", "1,950,000")
    diff = diff_keyed(old, new, unit="cell")
    assert keyed_changes(old, new) == [
        KeyChange("Sheet1!C14", "1,200,000", "1,950,000")
    ]
    assert (diff.changed_units, diff.insertions, diff.deletions, diff.moves) == (
        1,
        0,
        0,
        0,
    )
    assert diff.summary() == "1 cell changed"
    assert excerpt(diff) == "Sheet1!C14: 1,200,000 \u2192 1,950,000"
    assert diff.to_json() == {
        "insertions": 0,
        "deletions": 0,
        "unit": "cell",
        "fallback": False,
        "moves": 0,
        "changed": 1,
    }
    # the key is kept, only the value is deleted and inserted: the diff's changed text is the value's
    assert [(op, text) for op, text in diff.ops if op] == [
        (-1, "1,200,000"),
        (1, "1,950,000"),
    ]


def test_a_row_inserted_adds_its_cells_in_place():
    old = SHEET
    new = SHEET.replace("Sheet1!C14:", "Sheet1!A3: Lenses\nSheet1!B3: 40\nSheet1!C14:")
    diff = diff_keyed(old, new, unit="cell")
    assert keyed_changes(old, new) == [
        KeyChange("Sheet1!A3", None, "Lenses"),
        KeyChange("Sheet1!B3", None, "40"),
    ]
    assert (diff.insertions, diff.deletions, diff.changed_units) == (2, 0, 0)
    assert diff.summary() == "2 cells added"
    assert excerpt(diff) == "+ Sheet1!A3: Lenses"
    assert diff.new == new and diff.old == old


def test_a_row_removed_and_a_cell_changed_are_told_apart_in_order():
    old = SHEET
    new = SHEET.replace("Sheet1!A2: Cameras\nSheet1!B2: 120\n", "").replace(
        "Price", "Unit price"
    )
    assert keyed_changes(old, new) == [
        KeyChange("Sheet1!C1", "Price", "Unit price"),
        KeyChange("Sheet1!A2", "Cameras", None),
        KeyChange("Sheet1!B2", "120", None),
    ]
    diff = diff_keyed(old, new, unit="cell")
    assert diff.summary() == "1 cell changed, 2 removed"
    assert excerpt(diff) == "Sheet1!C1: Price \u2192 Unit price"


def test_values_holding_the_separator_are_one_value():
    old = "Sheet1!D7: Note: delivery by 1 May: strict\nSheet1!D8: x"
    new = "Sheet1!D7: Note: delivery by 9 May: strict\nSheet1!D8: x"
    assert split_line("Sheet1!D7: Note: delivery by 1 May: strict") == (
        "Sheet1!D7",
        "Note: delivery by 1 May: strict",
    )
    assert keyed_changes(old, new) == [
        KeyChange(
            "Sheet1!D7",
            "Note: delivery by 1 May: strict",
            "Note: delivery by 9 May: strict",
        )
    ]


def test_quoted_json_keys_may_hold_the_separator():
    assert split_line('$["a: b"].c: "x: y"') == ('$["a: b"].c', '"x: y"')
    assert split_line('$["say \\"hi\\": now"]: 1') == ('$["say \\"hi\\": now"]', "1")
    old, new = '$["a: b"]: 1\n$.z: 2', '$["a: b"]: 3\n$.z: 2'
    assert keyed_changes(old, new) == [KeyChange('$["a: b"]', "1", "3")]
    assert excerpt(diff_keyed(old, new, unit="path")) == '$["a: b"]: 1 \u2192 3'


def test_a_key_that_moved_with_its_value_is_a_move_not_a_change():
    old = "k1: a\nk2: b\nk3: c\nk4: d"
    new = "k2: b\nk3: c\nk4: d\nk1: a"
    diff = diff_keyed(old, new, unit="path")
    assert keyed_changes(old, new) == []
    assert (diff.moves, diff.insertions, diff.deletions, diff.changed_units) == (
        1,
        0,
        0,
        0,
    )
    assert diff.summary() == "1 path moved"
    moved_and_changed = new.replace("k1: a", "k1: z")
    assert keyed_changes(old, moved_and_changed) == [KeyChange("k1", "a", "z")]


def test_lines_without_a_key_and_repeated_keys():
    old = "heading\nk: 1\nk: 2"
    new = "heading\nk: 1\nk: 3\nfooter"
    assert keyed_changes(old, new) == [
        KeyChange("k", "2", "3"),
        KeyChange("footer", None, ""),
    ]
    assert diff_keyed(old, new, unit="cell").summary() == "1 cell changed, 1 added"


def test_the_differ_is_chosen_by_kind():
    old, new = _changed_cell("1,200,000", "1,950,000")
    assert diff_by_kind(old, new, "xlsx", timeout=5).unit == "cell"
    assert diff_by_kind(old, new, "ods", timeout=5).unit == "cell"
    assert diff_by_kind(old, new, "json", timeout=5).unit == "path"
    assert diff_by_kind(old, new, "html", timeout=5).unit == "word"
    assert diff_by_kind(old, new, None, timeout=5).unit == "word"


def test_stored_keyed_diffs_are_read_back_with_their_counts():
    old, new = _changed_cell("1,200,000", "1,950,000")
    new += "\nSheet1!A20: Total"
    diff = diff_keyed(old, new, unit="cell")
    again = Diff.ops_from_json(diff.ops_to_json(), unit="cell")
    assert again == diff
    assert (again.changed_units, again.insertions) == (1, 1)


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit"):
        diff_keyed("a: 1", "a: 2", unit="word")


_keys = st.sampled_from(
    [f"Sheet1!{c}{r}" for c in "AB" for r in range(1, 4)]
    + ['$["x: y"]', "$.a", "plain"]
)
_values = st.text(alphabet=st.sampled_from('ab1: "'), max_size=6)
_texts = st.lists(st.tuples(_keys, _values), max_size=8).map(
    lambda rows: "\n".join(f"{k}: {v}" if v else k for k, v in rows)
)


@given(_texts, _texts)
def test_ops_rebuild_both_texts_and_counts_are_keys(old, new):
    diff = diff_keyed(old, new, unit="cell")
    assert diff.old == old and diff.new == new
    changes = keyed_changes(old, new, "cell")
    assert diff.changed_units == sum(1 for c in changes if c.kind == "changed")
    assert diff.insertions == sum(1 for c in changes if c.kind == "added")
    assert diff.deletions == sum(1 for c in changes if c.kind == "removed")
    assert diff.changed == (old != new)


@given(_texts)
def test_a_text_against_itself_has_no_change(text):
    diff = diff_keyed(text, text, unit="path")
    assert (
        not diff.changed
        and keyed_changes(text, text) == []
        and diff.summary() == "no changes"
    )


def _sheet(rows: list[tuple[str, str]]) -> str:
    """Row n (from 1) of ``rows`` as cells A and B: ``Sheet1!A<n>: <item>``, ``Sheet1!B<n>: <amount>``."""
    return "\n".join(
        f"Sheet1!A{n}: {item}\nSheet1!B{n}: {amount}"
        for n, (item, amount) in enumerate(rows, 1)
    )


ROWS = [
    ("Item", "Amount"),
    ("Cameras", "1,200,000"),
    ("Lenses", "40,000"),
    ("Cables", "9,000"),
    ("Total", "1,249,000"),
]


def test_a_row_inserted_in_the_middle_is_its_cells_added_not_every_cell_below_changed():
    old = _sheet(ROWS)
    new = _sheet(
        [*ROWS[:2], ("Servers", "300,000"), *ROWS[2:]]
    )  # rows 3-5 are now rows 4-6
    diff = diff_keyed(old, new, unit="cell")
    assert keyed_changes(old, new, "cell") == [
        KeyChange("Sheet1!A3", None, "Servers"),
        KeyChange("Sheet1!B3", None, "300,000"),
    ]
    assert (diff.insertions, diff.deletions, diff.changed_units, diff.moves) == (
        2,
        0,
        0,
        6,
    )
    assert diff.summary() == "2 cells added, 6 moved"
    assert excerpt(diff) == "+ Sheet1!A3: Servers"
    assert diff.old == old and diff.new == new
    # a shifted cell's line changes only in its row number
    assert (
        (-1, "3") in diff.ops
        and (1, "4") in diff.ops
        and (0, ": Lenses\nSheet1!B") in diff.ops
    )


def test_a_row_removed_and_a_changed_cell_in_a_shifted_row():
    old = _sheet(ROWS)
    new = _sheet(
        [ROWS[0], ROWS[2], ("Cables", "12,000"), ("Total", "1,252,000")]
    )  # Cameras' row deleted
    diff = diff_keyed(old, new, unit="cell")
    assert diff.old == old and diff.new == new
    changes = keyed_changes(old, new, "cell")
    assert [c for c in changes if c.kind == "changed"] == [
        KeyChange("Sheet1!B3", "9,000", "12,000"),
        KeyChange("Sheet1!B4", "1,249,000", "1,252,000"),
    ]
    assert {c.key for c in changes if c.kind == "removed"} == {
        "Sheet1!A2",
        "Sheet1!B2",
    }  # the Cameras row
    assert not [c for c in changes if c.kind == "added"]
    # Lenses (both cells), Cables and Total (their names) only moved up a row
    assert diff.moves == 4 and diff.summary() == "2 cells changed, 2 removed, 4 moved"


def test_paths_are_never_renumbered():
    old, new = "$.a[1]: 1\n$.a[2]: 2", "$.a[2]: 1\n$.a[3]: 2"
    assert diff_keyed(old, new, unit="path").moves == 0
    assert keyed_changes(old, new, "path") == [
        KeyChange("$.a[1]", "1", None),
        KeyChange("$.a[2]", "2", "1"),
        KeyChange("$.a[3]", None, "2"),
    ]


_cell_rows = st.lists(
    st.tuples(st.sampled_from(["x", "y", "z", "1: 2"]), st.sampled_from(["a", "b"])),
    max_size=7,
)


@given(_cell_rows, _cell_rows)
def test_sheets_with_shifted_rows_rebuild_both_texts(old_rows, new_rows):
    old, new = _sheet(old_rows), _sheet(new_rows)
    diff = diff_keyed(old, new, unit="cell")
    assert diff.old == old and diff.new == new
    changes = keyed_changes(old, new, "cell")
    assert (diff.insertions, diff.deletions, diff.changed_units) == tuple(
        sum(1 for c in changes if c.kind == kind)
        for kind in ("added", "removed", "changed")
    )
    assert Diff.ops_from_json(diff.ops_to_json(), unit="cell") == diff
    assert diff.changed == (old != new)


def test_a_row_inserted_among_thousands_of_identical_rows_is_still_two_cells_added():
    rows = [("same", "0")] * 5000
    diff = diff_keyed(
        _sheet(rows), _sheet([*rows[:2500], ("new", "1"), *rows[2500:]]), unit="cell"
    )
    assert (diff.insertions, diff.deletions, diff.changed_units, diff.moves) == (
        2,
        0,
        0,
        5000,
    )


def test_past_the_matching_bound_rows_pair_by_their_own_numbers():
    from crawler.keyed import MAX_MATCHED_ROWS

    rows = [(f"item {i}", "0") for i in range(MAX_MATCHED_ROWS + 1)]
    old = _sheet([("a", "1"), *rows, ("z", "1")])
    new = _sheet(
        [("b", "1"), ("new", "1"), *rows, ("y", "1")]
    )  # both ends differ: the whole middle is compared
    diff = diff_keyed(old, new, unit="cell")
    assert (
        diff.old == old and diff.new == new and diff.moves == 0
    )  # no row matched: every cell by its reference
    assert diff.changed_units > MAX_MATCHED_ROWS
