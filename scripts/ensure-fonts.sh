#!/bin/sh
# Fonts the report tests need: Arabic and Hebrew glyphs (DejaVu Sans) and CJK ones (Noto Sans CJK),
# so right-to-left and CJK text in reports is rendered, and tested, with real glyphs, not boxes.
# Installs Debian's packages when running as root with apt-get; otherwise says what to install.
set -eu
has() { [ -n "$(fc-list ":lang=$1" family 2>/dev/null | head -n 1)" ]; }
ok() { command -v fc-list >/dev/null 2>&1 && has ar && has he && has zh-cn && has ja; }
if ok; then echo "fonts: Arabic, Hebrew and CJK glyphs found"; exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing fonts-dejavu-core and fonts-noto-cjk (Arabic, Hebrew and CJK glyphs)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-dejavu-core fonts-noto-cjk >/dev/null
fi
if ok; then echo "fonts: Arabic, Hebrew and CJK glyphs found"; exit 0; fi
echo "fonts: no font with Arabic, Hebrew and CJK glyphs found (fc-list :lang=ar / he / zh-cn / ja)." >&2
echo "Install them, e.g. 'apt-get install fonts-dejavu-core fonts-noto-cjk' (Debian/Ubuntu)," >&2
echo "'dnf install dejavu-sans-fonts google-noto-sans-cjk-fonts' (Fedora) or 'brew install --cask font-noto-sans-cjk'." >&2
exit 1
