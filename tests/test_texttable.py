"""The status table's drawing (crawler.texttable, #17): rich's look, every cell's text kept, within the width."""

from rich.cells import cell_len

from crawler.texttable import draw_table

HEADERS = ("target", "last capture (UTC)", "status")
ROWS = [
    ("Ministry press 000000", "2026-11-20 06:00", "200"),
    ("渋谷区の監視カメラ通知", "2026-11-20 06:00", "-"),  # wide characters: two cells each
    ("a-name-without-any-space-that-is-longer-than-any-column", "never", "-"),
]


def _columns(lines, bar):
    """Each body line's cells (stripped), by column."""
    return [[c.strip() for c in line.strip(bar).split(bar)] for line in lines if line.startswith(bar)]


def test_a_table_that_fits_is_one_line_per_row_in_rich_box():
    lines = list(draw_table(HEADERS, ROWS, 200))
    assert lines[0].startswith("┏━") and lines[-1].startswith("└─") and lines[2].startswith("┡━")
    assert lines[1] == f"┃ {'target':55s} ┃ last capture (UTC) ┃ status ┃"
    assert _columns(lines, "│") == [list(r) for r in ROWS]
    assert len({cell_len(line) for line in lines}) == 1  # wide characters padded by their cells


def test_a_table_wider_than_the_console_wraps_and_folds_keeping_every_character():
    lines = list(draw_table(HEADERS, ROWS, 40))
    assert {cell_len(line) for line in lines} == {40}
    first = [row[0] for row in _columns(lines, "│")]
    assert first[:2] == ["Ministry", "press 000000"]  # wrapped at a space
    assert max(cell_len(c) for c in first) < len(ROWS[2][0])  # the long word folded
    assert "".join(first).replace(" ", "") == "".join(r[0] for r in ROWS).replace(" ", "")  # nothing lost
    assert [c for c in _columns(lines[1:2], "┃")[0]] == ["", "last capture", ""]  # headers bottom-aligned


def test_an_output_that_is_not_utf_gets_ascii_boxes():
    lines = list(draw_table(HEADERS, ROWS[:1], 200, ascii_only=True))
    assert lines[0].startswith("+-") and lines[2].startswith("|-") and lines[-1].startswith("+-")
    assert all(ord(ch) < 128 for line in lines for ch in line)


def test_without_a_width_each_row_is_one_line_as_wide_as_its_widest_cells():
    """What ``lastseen status`` draws for a pipe or a file (#17): nothing wrapped, wide characters counted two."""
    long = ("a-target-name-far-longer-than-any-terminal " * 5).strip()
    rows = ROWS + [(long, "2026-11-20 06:00", "200")]
    lines = list(draw_table(HEADERS, rows, None))
    assert _columns(lines, "│") == [list(r) for r in rows] and len(lines) == 4 + len(rows)
    assert len({cell_len(line) for line in lines}) == 1 and cell_len(lines[0]) == len(long) + 2 + 21 + 9 + 2
    ascii_rows = [r for r in rows if "".join(r).isascii()]  # every cell ASCII: the same picture
    assert _columns(list(draw_table(HEADERS, ascii_rows, None)), "│") == [list(r) for r in ascii_rows]
