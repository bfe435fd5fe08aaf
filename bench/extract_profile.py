"""Where the CPU of one page goes (#17): ``extract()`` by phase, and the WARC write of its exchange.

Over the real pages the tests keep (``tests/pages/``: challenge pages and a news article;
``tests/corpus/pages/``: news, government and company pages shipped by extraction libraries, see
``tests/corpus/SOURCES.md``), this prints, per page and in total:

* ``extract()`` as the pipeline calls it (``select: auto``, the default, and ``select: page``; and
  with one ``ignore`` selector, which builds a BeautifulSoup tree for soupsieve), best of ``--repeat``;
* the same work phase by phase, calling the package's own steps in the order ``extract()`` does:
  decoding (charset), the lxml parse, title/heading/description, the one text-and-links walk,
  ``find_main`` (trafilatura), and for reference a BeautifulSoup(``lxml``) tree of the same text and a
  bare ``lxml.html`` parse;
* the WARC write of the page's request + response pair (``crawler.warc.WarcWriter.exchange``, the
  page served uncompressed), and the gzip of the same uncompressed records at levels 9, 6 and 1
  (``zlib.compressobj`` as ``_HashingGzip`` drives it): milliseconds and bytes;
* a cProfile of ``extract(select="auto")`` over every page, its top functions by own time;
* before/after pairs, in turn on each page (``--pairs``): ``extract()`` with ``lxml.html``'s own element
  class lookup (a Python method per element, as before #17) against the one made in C that the package
  uses (``crawler.extract.html._ELEMENT_CLASSES``); every ``href`` resolved against one resolved once per
  page; and both; each pair's outputs checked equal; and the WARC
  writer's request + response pair at warcio's gzip level 9 against ``crawler.warc.GZIP_LEVEL``: ms and
  bytes, each pair's members decompressed and compared.

``python bench/extract_profile.py [--repeat N] [--top N]``; timings are the best of N (a shared
machine's noise only slows) of CPU time, so ratios inside one run are what to read.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import statistics
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import lxml.html  # noqa: E402

import crawler.extract.html  # noqa: E402
import crawler.extract.links  # noqa: E402
import crawler.warc  # noqa: E402
from crawler.extract import AUTO, PAGE, extract  # noqa: E402
from crawler.extract.decoding import _decode, _prescan_meta  # noqa: E402
from crawler.extract.html import _parse_html, _parse_soup, _TextBuilder, _without_early_end  # noqa: E402
from crawler.extract.links import _find_description, _find_heading, _find_title, _http_base  # noqa: E402
from crawler.extract.main import find_main  # noqa: E402
from crawler.fetch.model import Exchange  # noqa: E402
from crawler.warc import WarcWriter  # noqa: E402

PAGE_DIRS = (REPO / "tests" / "pages", REPO / "tests" / "corpus" / "pages")
URL = "https://www.example.gov/news/item"
IGNORE = ("nav, footer, .cookie-banner",)


def pages() -> list[tuple[str, bytes]]:
    found = []
    for folder in PAGE_DIRS:
        for path in sorted(folder.rglob("*.html")):
            found.append((str(path.relative_to(REPO / "tests")), path.read_bytes()))
    return found


def best(fn, repeat: int) -> float:
    """The best of ``repeat`` calls of ``fn``, in milliseconds of this process's CPU time (the machine's
    other work slows the wall clock far more than it does the CPU time of this one thread)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times) * 1000


def phases(body: bytes, repeat: int) -> dict[str, float]:
    """Milliseconds of each step of extract(select=auto) on ``body``, as extract() runs them."""
    out: dict[str, float] = {}
    out["decode"] = best(lambda: _decode(body, None, _prescan_meta), repeat)
    text = _decode(body, None, _prescan_meta)[0]
    text = _without_early_end(text)
    out["parse"] = best(lambda: _parse_html(text), repeat)
    root = _parse_html(text)
    out["meta"] = best(lambda: (_find_title(root), _find_heading(root), _find_description(root),
                                _http_base(URL, root)), repeat)

    def walk():
        builder = _TextBuilder(URL)
        builder.walk(root)
        return builder

    out["walk"] = best(walk, repeat)
    builder = walk()
    out["main"] = best(lambda: find_main(root, builder.lines, builder.link_chars), repeat)
    out["bs4 tree (ref)"] = best(lambda: _parse_soup(text), repeat)
    out["lxml.html (ref)"] = best(lambda: lxml.html.document_fromstring(text), repeat)
    return out


def exchange(body: bytes) -> Exchange:
    return Exchange(
        url=URL, method="GET", started=1_790_000_000.0, duration=0.1, protocol="HTTP/1.1", status=200, reason="OK",
        request_headers=[("Host", "www.example.gov"), ("User-Agent", "lastseen/bench"), ("Accept", "*/*")],
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                          ("Date", "Sat, 28 Nov 2026 07:00:00 GMT"), ("Server", "bench")],
        body=body, ip="127.0.0.1",
    )


def warc_pair(body: bytes, repeat: int, levels=(9, 6, 1)) -> dict:
    """The writer's request + response pair, and the gzip of those records at each of ``levels``."""
    ex = exchange(body)

    def write():
        out = io.BytesIO()
        WarcWriter(out, make_id=lambda: "<urn:uuid:00000000-0000-0000-0000-000000000000>").exchange(ex)
        return out

    result = {"pair": best(write, repeat)}
    written = write().getvalue()
    result["stored"] = len(written)
    raw = _members(written)
    result["members"] = raw
    for level in levels:
        def gz(level=level):
            sizes = 0
            for member in raw:
                comp = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
                sizes += len(comp.compress(member)) + len(comp.flush())
            return sizes

        result[f"gzip{level}"] = best(gz, repeat)
        result[f"bytes{level}"] = gz()
    result["raw"] = sum(map(len, raw))
    return result


def _members(data: bytes) -> list[bytes]:
    """The uncompressed bytes of each gzip member of ``data``."""
    out = []
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS + 16)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


@contextlib.contextmanager
def python_lookup():
    """``extract()`` parsing with ``lxml.html.HTMLParser``'s element class lookup, as before #17."""
    kept = crawler.extract.html._ELEMENT_CLASSES
    crawler.extract.html._ELEMENT_CLASSES = lxml.html.HtmlElementClassLookup()
    try:
        yield
    finally:
        crawler.extract.html._ELEMENT_CLASSES = kept


@contextlib.contextmanager
def uncached_hrefs():
    """``extract()`` resolving every ``href`` it meets, as before #17 (not each distinct one once)."""
    kept = crawler.extract.links._LinkCollector.link

    def link(self, href):
        if len(self.links) >= self.max_links:
            return None
        absolute = crawler.extract.links._absolute_link(self.base, href)
        if absolute is not None:
            self.links.setdefault(absolute, None)
        return absolute

    crawler.extract.links._LinkCollector.link = link
    try:
        yield
    finally:
        crawler.extract.links._LinkCollector.link = kept


@contextlib.contextmanager
def before_17():
    """``extract()`` as before #17: both of the above."""
    with python_lookup(), uncached_hrefs():
        yield


#: What each pair's "before" undoes: one change of #17, or all of them.
BEFORE = {"lookup": python_lookup, "hrefs": uncached_hrefs, "both": before_17}


def pairs(found: list[tuple[str, bytes]], repeat: int) -> None:
    """Before/after ``extract()`` on each page, in turn (best of ``repeat`` each), outputs compared."""
    for label, undo in BEFORE.items():
        _pair(found, repeat, label, undo)


def _pair(found: list[tuple[str, bytes]], repeat: int, label: str, undo) -> None:
    print(f"\nBefore / after ({label}: {undo.__doc__.strip().rstrip('.')}), CPU ms per page, best of", repeat)
    print("page".ljust(44) + "".join(c.rjust(10) for c in ("auto was", "auto now", "ratio", "page was",
                                                           "page now", "ratio")))
    sums = dict.fromkeys(("auto was", "auto now", "page was", "page now"), 0.0)
    for name, body in found:
        row = {}
        for select in (AUTO, PAGE):
            was, now = [], []
            for _ in range(repeat):
                with undo():
                    was.append(best(lambda: extract(body, "text/html", URL, select=select), 1))
                now.append(best(lambda: extract(body, "text/html", URL, select=select), 1))
            with undo():
                before = extract(body, "text/html", URL, select=select)
            assert extract(body, "text/html", URL, select=select) == before, f"{name}: {select} differs"
            row[f"{select} was"], row[f"{select} now"] = min(was), min(now)
            sums[f"{select} was"] += min(was)
            sums[f"{select} now"] += min(now)
        print(name[:43].ljust(44) + "".join(
            f"{row[f'{s} was']:10.2f}{row[f'{s} now']:10.2f}{row[f'{s} was'] / row[f'{s} now']:9.2f}x"
            for s in (AUTO, PAGE)))
    print("sum".ljust(44) + "".join(
        f"{sums[f'{s} was']:10.1f}{sums[f'{s} now']:10.1f}{sums[f'{s} was'] / sums[f'{s} now']:9.2f}x"
        for s in (AUTO, PAGE)))
    print("outputs identical on every page: yes")


def warc_pairs(found: list[tuple[str, bytes]], repeat: int) -> None:
    """The WARC pair at gzip level 9 against crawler.warc.GZIP_LEVEL, in turn on each page."""
    level = crawler.warc.GZIP_LEVEL
    print(f"\nWARC request + response pair, gzip level 9 / level {level}: CPU ms and stored bytes, best of", repeat)
    print("page".ljust(44) + "".join(c.rjust(10) for c in ("ms at 9", f"ms at {level}", "ratio", "KB at 9",
                                                           f"KB at {level}", "size")))
    sums = dict.fromkeys(("ms9", "msN", "b9", "bN", "raw"), 0.0)
    try:
        for name, body in found:
            ms, stored = {}, {}
            times: dict[int, list[float]] = {9: [], level: []}
            for _ in range(repeat):
                for lv in (9, level):
                    crawler.warc.GZIP_LEVEL = lv
                    times[lv].append(warc_pair(body, 1, levels=())["pair"])
            for lv in (9, level):
                crawler.warc.GZIP_LEVEL = lv
                ms[lv], found_pair = min(times[lv]), warc_pair(body, 1, levels=())
                stored[lv] = found_pair
            assert stored[9]["members"] == stored[level]["members"], f"{name}: records differ"
            sums["ms9"] += ms[9]
            sums["msN"] += ms[level]
            sums["b9"] += stored[9]["stored"]
            sums["bN"] += stored[level]["stored"]
            sums["raw"] += stored[9]["raw"]
            print(name[:43].ljust(44) + f"{ms[9]:10.2f}{ms[level]:10.2f}{ms[9] / ms[level]:9.2f}x"
                  f"{stored[9]['stored'] / 1024:10.1f}{stored[level]['stored'] / 1024:10.1f}"
                  f"{100 * (stored[level]['stored'] / stored[9]['stored'] - 1):+9.2f}%")
    finally:
        crawler.warc.GZIP_LEVEL = level
    print("sum".ljust(44) + f"{sums['ms9']:10.1f}{sums['msN']:10.1f}{sums['ms9'] / sums['msN']:9.2f}x"
          f"{sums['b9'] / 1024:10.0f}{sums['bN'] / 1024:10.0f}{100 * (sums['bN'] / sums['b9'] - 1):+9.2f}%")
    print(f"records identical once decompressed on every page: yes ({sums['raw'] / 1024:.0f} KB uncompressed)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--pairs", action="store_true", help="only the before/after pairs")
    args = parser.parse_args(argv)
    found = pages()
    extract(found[0][1], "text/html", URL, select=AUTO)  # imports trafilatura, warms its settings
    if args.pairs:
        pairs(found, args.repeat)
        warc_pairs(found, args.repeat)
        return
    rows = []
    for name, body in found:
        row = {"page": name, "kb": len(body) / 1024}
        row["auto"] = best(lambda: extract(body, "text/html", URL, select=AUTO), args.repeat)
        row["page_ms"] = best(lambda: extract(body, "text/html", URL, select=PAGE), args.repeat)
        row["ignore"] = best(lambda: extract(body, "text/html", URL, select=PAGE, ignore=IGNORE), args.repeat)
        row.update(phases(body, args.repeat))
        row.update(warc_pair(body, args.repeat))
        rows.append(row)
    cols = ["kb", "auto", "page_ms", "ignore", "decode", "parse", "meta", "walk", "main", "bs4 tree (ref)",
            "lxml.html (ref)", "pair", "gzip9", "gzip6", "gzip1"]
    print("page".ljust(44) + "".join(c[:9].rjust(10) for c in cols))
    for row in rows:
        print(row["page"][:43].ljust(44) + "".join(f"{row[c]:10.2f}" for c in cols))
    print("mean".ljust(44) + "".join(f"{statistics.mean(r[c] for r in rows):10.2f}" for c in cols))
    print("median".ljust(44) + "".join(f"{statistics.median(r[c] for r in rows):10.2f}" for c in cols))
    total = {c: sum(r[c] for r in rows) for c in cols}
    print(f"\n{len(rows)} pages, {total['kb']:.0f} KB. Shares of extract(select=auto) by phase (sum of pages):")
    for c in ("decode", "parse", "meta", "walk", "main"):
        print(f"  {c:8} {100 * total[c] / total['auto']:5.1f} %")
    print(f"  page-only share of auto: {100 * total['page_ms'] / total['auto']:.1f} %; "
          f"ignore= costs {total['ignore'] / total['page_ms']:.2f}x select=page")
    for level in (9, 6, 1):
        size = sum(r[f"bytes{level}"] for r in rows)
        print(f"gzip level {level}: {total[f'gzip{level}'] / len(rows):.2f} ms per pair, "
              f"{size / 1024:.0f} KB stored ({100 * size / sum(r['raw'] for r in rows):.1f} % of raw)")
    print(f"WARC pair as written today: {total['pair'] / len(rows):.2f} ms per pair")

    profile = cProfile.Profile()
    profile.enable()
    for _name, body in found:
        extract(body, "text/html", URL, select=AUTO)
    profile.disable()
    stream = io.StringIO()
    pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(args.top)
    print("\ncProfile of extract(select=auto) over every page, by own time:")
    print("\n".join(line for line in stream.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
