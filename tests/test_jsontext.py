"""JSON by structure (pure): what ``extract`` makes of JSON payloads, however they are served."""

from __future__ import annotations

import json

import pytest

from crawler.extract import extract

URL = "https://api.example/tenders.json"
DOC = {
    "items": [{"name": "Camera", "price": 12.5}, {"name": "Lens", "price": 3}],
    "meta": {"updated at": "2024-05-01"},
    "tags": [],
}
EXPECTED = (
    '$.items[0].name: "Camera"\n'
    "$.items[0].price: 12.5\n"
    '$.items[1].name: "Lens"\n'
    "$.items[1].price: 3\n"
    '$.meta["updated at"]: "2024-05-01"\n'
    "$.tags: []"
)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/ld+json; charset=utf-8",
        "text/plain",
        "application/octet-stream",
        None,
    ],
)
def test_json_is_one_line_per_leaf_with_sorted_keys_however_served(content_type):
    result = extract(json.dumps(DOC).encode(), content_type, URL)
    assert (result.kind, result.text, result.flags) == ("json", EXPECTED, ())
    assert result.title is None and result.links == ()


def test_key_order_and_layout_do_not_change_the_text():
    reordered = {
        "tags": [],
        "meta": {"updated at": "2024-05-01"},
        "items": [{"price": 12.5, "name": "Camera"}, {"price": 3, "name": "Lens"}],
    }
    one = extract(json.dumps(DOC).encode(), "application/json", URL)
    two = extract(json.dumps(reordered, indent=4).encode(), "application/json", URL)
    assert one.fingerprint == two.fingerprint and one.text == two.text


def test_values_are_kept_as_written_and_keys_quoted_when_needed():
    body = (
        '{"k: v": "a\\nb", "n": 12.50, "big": 1'
        + "0" * 5000
        + ', "x\u2028y": null, "ok": true}'
    )
    text = extract(body.encode(), "application/json", URL).text
    assert text.split("\n") == [
        "$.big: 1" + "0" * 5000,
        '$["k: v"]: "a\\nb"',
        "$.n: 12.50",
        "$.ok: true",
        '$["x\\u2028y"]: null',
    ]


def test_duplicate_keys_keep_both_values_in_document_order():
    text = extract(b'{"b": 1, "a": 2, "a": 3}', "application/json", URL).text
    assert text == "$.a: 2\n$.a: 3\n$.b: 1"


def test_invalid_json_served_as_json_is_text_and_flagged():
    result = extract(b'{"price": 12.5,, oops', "application/json", URL)
    assert (result.kind, result.text, result.flags) == (
        "text",
        '{"price": 12.5,, oops',
        ("json-invalid",),
    )


def test_text_that_is_not_json_stays_text_or_binary_without_a_flag():
    plain = extract(b"[draft] notes: {not json}", "text/plain", URL)
    assert (plain.kind, plain.flags) == ("text", ())
    opaque = extract(b"{\xff\xfe binary", "application/octet-stream", URL)
    assert opaque.kind == "binary" and opaque.text is None
    scalar = extract(b'"just a string"', "text/plain", URL)
    assert scalar.kind == "text"
    assert extract(b"42", "application/json", URL).text == "$: 42"


def test_hostile_deep_nesting_is_text_flagged_and_does_not_crash():
    depth = 100_000
    result = extract(b"[" * depth + b"]" * depth, "application/json", URL)
    assert (result.kind, result.flags) == ("text", ("json-too-deep",))
    assert result.text == "[" * depth + "]" * depth
    obj = extract(b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json", URL)
    assert obj.flags == ("json-too-deep",)
    shallow = extract(b"[" * 150 + b"]" * 150, "application/json", URL)
    assert shallow.kind == "json" and shallow.text == "$" + "[0]" * 149 + ": []"


def test_max_text_bounds_the_text():
    doc = {"rows": [{"id": i, "name": f"row {i}"} for i in range(2000)]}
    body = json.dumps(doc).encode()
    result = extract(body, "application/json", URL, max_text=len(body) // 3)
    assert (
        result.kind == "json"
        and result.truncated
        and len(result.text) <= len(body) // 3
    )
    assert result.text.startswith('$.rows[0].id: 0\n$.rows[0].name: "row 0"\n')
    assert result.text.split("\n")[-1].startswith("$.rows[")  # cut at a whole line
    # a body too long to read whole (past 4 × max_text) is its start, as text: cut JSON does not parse
    cut = extract(body, "application/json", URL, max_text=len(body) // 5)
    assert (cut.kind, cut.truncated, cut.flags) == ("text", True, ())
