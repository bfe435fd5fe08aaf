#!/bin/sh
# Make sure lastseen can find a Chromium: already there, Playwright's download
# (the normal path on a workstation), or Debian's package (when running as root).
set -eu
BIN=${VENV_BIN:-.venv/bin}
found() { "$BIN/python" -c 'from crawler.fetch.browser import find_chromium; print(find_chromium())' 2>/dev/null; }
if path=$(found); then echo "chromium: $path"; exit 0; fi
echo "no Chromium found; trying 'playwright install chromium'" >&2
"$BIN/playwright" install chromium >/dev/null 2>&1 || true
if path=$(found); then echo "chromium: $path"; exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "trying Debian's chromium package" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if path=$(found); then echo "chromium: $path"; exit 0; fi
"$BIN/python" -c 'from crawler.fetch.browser import find_chromium; find_chromium()'
