#!/usr/bin/env bash
# Headless Chromium for the report's browser test (tests/python/report/test_browser.py).
#
# Playwright (a Python dev dependency) drives the *system* Chromium through executable_path, so
# the only thing to install is the Debian/Ubuntu package `chromium` (plus `chromium-driver` for
# WebDriver users). Nothing is downloaded by Playwright itself.
#
# Idempotent and quick: exits at once when a Chromium binary is already there. Never fails the
# CI: without root or passwordless sudo, or without apt-get, it prints why and exits 0 (the
# browser test then skips with the same reason).
set -uo pipefail

found=""
for candidate in "${NBA_PROPS_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then found="$candidate"; break; fi
done
if [ -n "$found" ]; then
    echo "browser-deps: Chromium already installed: $found ($("$found" --version 2>/dev/null | head -n1))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps: no apt-get on this machine: install Chromium yourself and set NBA_PROPS_CHROMIUM;" \
         "the browser test will be skipped." >&2
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "browser-deps: not root and no passwordless sudo: cannot install the Debian packages" \
         "'chromium chromium-driver'; the browser test will be skipped." >&2
    exit 0
fi

# Ubuntu's `chromium-browser` is a snap wrapper: prefer the Debian package names, fall back.
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
    echo "browser-deps: apt-get update failed; the browser test will be skipped." >&2
    exit 0
fi
if $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null \
   || $SUDO apt-get install -y -qq --no-install-recommends chromium-browser chromium-chromedriver >/dev/null; then
    for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
        if [ -x "$candidate" ]; then
            echo "browser-deps: installed $("$candidate" --version 2>/dev/null | head -n1)"
            exit 0
        fi
    done
fi
echo "browser-deps: could not install Chromium with apt-get; the browser test will be skipped." >&2
exit 0
