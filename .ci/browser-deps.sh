#!/usr/bin/env bash
# Headless Chromium for the report's browser test (tests/python/report/test_browser.py).
#
# Playwright (a Python dev dependency) drives the *system* Chromium through executable_path, so
# the only thing to install is the Debian/Ubuntu package `chromium` (plus `chromium-driver` for
# WebDriver users). Nothing is downloaded by Playwright itself.
#
# Idempotent and quick: exits 0 at once when a Chromium binary is already there. When it cannot
# install one (no apt-get, not root and no passwordless sudo, apt-get failing) it says why and
# exits 1: CI must not go green with the browser tests unable to run (with CI=true they fail
# rather than skip anyway). BROWSER_DEPS_CANDIDATES (space-separated paths) overrides where an
# installed Chromium is looked for (the script's own test uses it).
set -uo pipefail

fail() {
    echo "browser-deps: $*" >&2
    exit 1
}

CANDIDATES="${BROWSER_DEPS_CANDIDATES:-/usr/bin/chromium /usr/bin/chromium-browser}"
found=""
# shellcheck disable=SC2086 # word splitting of the candidate list is intended
for candidate in "${NBA_PROPS_CHROMIUM:-}" $CANDIDATES; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then found="$candidate"; break; fi
done
if [ -n "$found" ]; then
    echo "browser-deps: Chromium already installed: $found ($("$found" --version 2>/dev/null | head -n1))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    fail "no apt-get on this machine: install Chromium yourself and set NBA_PROPS_CHROMIUM"
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    fail "not root and no passwordless sudo: cannot install the Debian packages 'chromium chromium-driver'"
fi

# Ubuntu's `chromium-browser` is a snap wrapper: prefer the Debian package names, fall back.
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
    fail "apt-get update failed"
fi
if $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null \
   || $SUDO apt-get install -y -qq --no-install-recommends chromium-browser chromium-chromedriver >/dev/null; then
    # shellcheck disable=SC2086
    for candidate in $CANDIDATES; do
        if [ -x "$candidate" ]; then
            echo "browser-deps: installed $("$candidate" --version 2>/dev/null | head -n1)"
            exit 0
        fi
    done
fi
fail "could not install Chromium with apt-get"
