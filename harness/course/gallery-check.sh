#!/usr/bin/env bash
# `make gallery-check`: open plots/index.html in a real browser (Debian's headless Chromium, from
# disk, no server, no network) and check that every image on it loaded; a screenshot of the page
# goes to plots/gallery-screenshot.png. Chromium is installed when missing (as root, from Debian),
# or the exact command is printed.
set -uo pipefail
. harness/lib.sh
out=${GALLERY_DIR:-plots}
page=$out/index.html
[ -s "$page" ] || { echo "[no-gallery] $page does not exist yet: run make plots (or make gallery after some benches)." >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "kit: installing chromium (the browser that checks the gallery)"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }; } \
      >"$KIT_TMP/apt.log" 2>&1 || { tail -n 5 "$KIT_TMP/apt.log"; }
    browser=$(command -v chromium || true)
  fi
  [ -n "$browser" ] || { echo "[no-browser] the gallery check needs Chromium: sudo apt-get install chromium" >&2; exit 1; }
fi

# The flags a sandboxed, offline machine needs: no GPU, no first-run or background traffic (it
# has nowhere to go), a profile of its own; --no-sandbox because the check may run as root.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$KIT_TMP/profile" --allow-file-access-from-files
       --virtual-time-budget=10000)
url="file://$(realpath "$page")"
timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" >"$KIT_TMP/dom.html" 2>"$KIT_TMP/browser.log"
rc=$?
result=$(grep -o 'images: [0-9]* of [0-9]* loaded' "$KIT_TMP/dom.html")
expected=$(grep -o '<img ' "$page" | wc -l)
# The screenshot is a second start of the browser: GALLERY_SCREENSHOT=0 (the self-test) skips it.
shot=
if [ "${GALLERY_SCREENSHOT:-1}" = 1 ]; then
  timeout 120 "$browser" "${flags[@]}" --window-size=1100,2400 --screenshot="$(realpath -m "$out/gallery-screenshot.png")" "$url" \
    >/dev/null 2>>"$KIT_TMP/browser.log" && shot="; screenshot $out/gallery-screenshot.png"
fi
if [ "$rc" -ne 0 ] || [ -z "$result" ]; then
  echo "[gallery-not-loaded] Chromium did not load $page (exit $rc); its last words:" >&2
  tail -n 5 "$KIT_TMP/browser.log" >&2
  exit 1
fi
if [ "$result" != "images: $expected of $expected loaded" ]; then
  echo "[gallery-broken-image] $page: $result, expected $expected of $expected; a chart file is missing or unreadable." >&2
  exit 1
fi
echo "gallery-check: $page opened in $("$browser" --version 2>/dev/null | head -n 1): $result$shot"
