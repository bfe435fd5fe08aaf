"""Due times (pure): tolerance, jitter, defaults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.schedule import is_due, jitter_offset, next_due
from crawler.watchlist import parse_watchlist

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def wl(text: str):
    return parse_watchlist(text, "w.yaml")


BASE = wl("""
settings: {every: 1d}
targets:
  - {name: six, url: "https://a.example/six", every: 6h}
  - {name: daily, url: "https://a.example/daily"}
""")


def test_never_attempted_is_due():
    assert is_due(BASE.targets[0], BASE, None, NOW)


def test_six_hourly_cron_never_skips_a_six_hour_target():
    six = BASE.targets[0]
    # the last run started a few seconds later in its cron slot than this one
    last = NOW - timedelta(hours=6) + timedelta(seconds=20)
    assert is_due(six, BASE, last, NOW)
    assert not is_due(six, BASE, NOW - timedelta(hours=3), NOW)


def test_settings_every_is_the_default():
    daily = BASE.targets[1]
    assert not is_due(daily, BASE, NOW - timedelta(hours=12), NOW)
    assert is_due(daily, BASE, NOW - timedelta(hours=24), NOW)
    assert next_due(daily, BASE, NOW) > NOW + timedelta(hours=23)


def test_no_every_means_every_run():
    plain = wl('targets: [{name: p, url: "https://a.example/"}]')
    assert is_due(plain.targets[0], plain, NOW - timedelta(seconds=1), NOW)


def test_jitter_is_stable_and_bounded():
    t = BASE.targets[0]
    a = jitter_offset(t, 3600)
    assert a == jitter_offset(t, 3600) and 0 <= a < 3600
    assert jitter_offset(t, 0) == 0


def test_jitter_setting_delays_a_target_by_its_fixed_share():
    jittered = wl("""
settings: {every: 1d, jitter: 6h}
targets:
  - {name: a, url: "https://a.example/a"}
""")
    t = jittered.targets[0]
    share = jitter_offset(t, 6 * 3600)
    assert 0 < share < 6 * 3600
    last = NOW - timedelta(days=2)
    expected = last + timedelta(seconds=86400 + share - (864 + 60))
    assert next_due(t, jittered, last) == expected
    assert not is_due(t, jittered, last, expected - timedelta(seconds=1))
    assert is_due(t, jittered, last, expected)


def test_a_failure_awaiting_confirmation_is_due_again_within_the_hour():
    daily, six = BASE.targets[1], BASE.targets[0]
    an_hour_ago = NOW - timedelta(hours=1)
    assert not is_due(daily, BASE, an_hour_ago, NOW)
    assert is_due(daily, BASE, an_hour_ago, NOW, unconfirmed=True)
    assert not is_due(six, BASE, NOW - timedelta(minutes=30), NOW, unconfirmed=True)
    # a confirmed failure (or none) keeps the target's own pace
    assert not is_due(six, BASE, an_hour_ago, NOW, unconfirmed=False)


def test_confirm_after_defaults_to_settings_and_is_bounded():
    import pytest

    from crawler.errors import WatchlistError

    w = wl("settings: {confirm_after: 5}\ntargets:\n  - {name: a, url: 'https://a.example/'}\n"
           "  - {name: b, url: 'https://a.example/b', confirm_after: 1}\n")
    assert [t.confirm_after for t in w.targets] == [5, 1]
    with pytest.raises(WatchlistError, match="confirm_after: must be at most 100"):
        wl("targets:\n  - {name: a, url: 'https://a.example/', confirm_after: 500}\n")
