"""Large watchlists kept validated between commands (#17, crawler.watchlist.cache): never stale, never trusted."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.errors import WatchlistError
from crawler.watchlist import cache, load_watchlist, parse_watchlist

REPO = Path(__file__).resolve().parent.parent
TARGETS = 3000


def _text(url_of_7: str = "https://press.example/7") -> str:
    lines = ["settings:", "  every: 1d", "targets:"]
    for i in range(TARGETS):
        url = url_of_7 if i == 7 else f"https://site{i % 13}.example/page/{i}?lang=en"
        lines += [f"  - name: target-{i:05d}", f'    url: "{url}"', "    tags: [police, procurement]",
                  f"    every: {('6h', '1d')[i % 2]}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def big(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("LASTSEEN_CACHE_DIR", str(folder))
    path = tmp_path / "watchlist.yaml"
    path.write_text(_text())
    assert path.stat().st_size >= cache.CACHE_MIN_BYTES
    return path, folder


def _kept(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle")) if folder.exists() else []


def test_a_large_watchlist_is_kept_and_read_back_the_same(big):
    path, folder = big
    first = load_watchlist(path)
    (kept,) = _kept(folder)
    assert kept.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    again = load_watchlist(path)
    assert again == first == parse_watchlist(path.read_bytes(), str(path))
    assert again.targets[7].url == "https://press.example/7" and again.targets[7].every == 86400
    assert load_watchlist(path).sha256 == first.sha256 and _kept(folder) == [kept]


def test_an_edited_watchlist_is_parsed_again_and_its_errors_name_file_and_line(big):
    path, _ = big
    load_watchlist(path)
    path.write_text(_text("https://moved.example/7"))
    assert load_watchlist(path).targets[7].url == "https://moved.example/7"
    path.write_text(_text("not a url"))
    with pytest.raises(WatchlistError) as caught:
        load_watchlist(path)
    assert f"{path}:33: target 'target-00007': url:" in str(caught.value)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2 and f"{path}:33: target 'target-00007'" in result.output


def test_a_kept_file_naming_other_code_is_refused_and_never_run(big, tmp_path):
    path, folder = big
    load_watchlist(path)
    (kept,) = _kept(folder)
    proof = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {proof}",))

    key, watchlist = pickle.loads(kept.read_bytes())
    kept.write_bytes(pickle.dumps((key, Evil())))
    assert load_watchlist(path) == watchlist and not proof.exists()


def test_a_kept_file_others_can_write_is_not_read(big):
    path, folder = big
    load_watchlist(path)
    (kept,) = _kept(folder)
    key, watchlist = pickle.loads(kept.read_bytes())
    forged = replace(watchlist, targets=(replace(watchlist.targets[0], url="https://forged.example/"),)
                     + watchlist.targets[1:])
    kept.write_bytes(pickle.dumps((key, forged)))
    kept.chmod(0o666)
    assert load_watchlist(path).targets[0].url == "https://site0.example/page/0?lang=en"


def test_a_watchlist_naming_files_is_never_kept(big, tmp_path):
    path, folder = big
    (tmp_path / "ca.pem").write_text("not a certificate")
    path.write_text(_text().replace("settings:\n", "settings:\n  ca_certs: ca.pem\n"))
    with pytest.raises(WatchlistError, match="holds no PEM certificate"):
        load_watchlist(path)
    assert _kept(folder) == []


def test_check_run_twice_says_the_same_as_a_process(big):
    path, folder = big
    env = {**os.environ, "PYTHONPATH": str(REPO), "LASTSEEN_CACHE_DIR": str(folder)}
    outs = [subprocess.run([sys.executable, "-m", "crawler", "check", str(path)], env=env, capture_output=True,
                           text=True, check=True).stdout for _ in range(2)]
    assert outs[0] == outs[1] and outs[0].startswith(f"{path}: OK, {TARGETS} targets") and len(_kept(folder)) == 1


def test_status_from_a_kept_watchlist_loads_no_validator_nor_extraction_module(big, tmp_path):
    """A kept watchlist is read without the libraries that validate it, and ``status`` without the run's and
    the extraction's (#17): ``python -X importtime`` lists every module the process loaded."""
    path, folder = big
    env = {**os.environ, "PYTHONPATH": str(REPO), "LASTSEEN_CACHE_DIR": str(folder)}
    env.pop("COLUMNS", None)
    args = [sys.executable, "-X", "importtime", "-m", "crawler", "status", "--watchlist", str(path),
            "--archive", str(tmp_path / "archive")]
    runs = [subprocess.run(args, env=env, capture_output=True, text=True, check=True) for _ in range(2)]
    assert len(_kept(folder)) == 1 and runs[0].stdout == runs[1].stdout
    assert runs[1].stdout.count("│ target-") == TARGETS and runs[1].stdout.count(" never ") == TARGETS
    loaded = {line.rsplit("|", 1)[1].strip() for line in runs[1].stderr.splitlines() if line.startswith("import time:")}
    assert "crawler.status" in loaded and "crawler.watchlist.kinds" in loaded  # what is read: really listed
    heavy = {"soupsieve", "bs4", "w3lib", "lxml", "jinja2", "scrapy", "twisted", "trafilatura", "crawler.extract",
             "crawler.monitor", "crawler.listing", "crawler.report"}
    assert loaded & heavy == set()
