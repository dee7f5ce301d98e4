#!/bin/sh
# Install Debian's chromium for tests/report/test_browser.py (headless screenshot of the report).
#
#   sh tools/install_chromium.sh          # as root, or as a user with password-less sudo
#
# Idempotent and quiet: does nothing when chromium is already on PATH, and exits 0 with a
# message when it cannot install (not root, no apt-get, no network); the browser test then skips.
set -u

if command -v chromium >/dev/null 2>&1; then
    echo "install_chromium: chromium already installed ($(command -v chromium))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: apt-get not found; install Chromium by hand (the browser test skips)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install_chromium: not root; run 'sudo apt-get install -y chromium' (the browser test skips)"
    exit 0
fi

LOG=$(mktemp "${TMPDIR:-/tmp}/install_chromium.XXXXXX")
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >"$LOG" 2>&1 || true
if $SUDO apt-get install -y -qq chromium >>"$LOG" 2>&1 && command -v chromium >/dev/null 2>&1; then
    echo "install_chromium: installed $(chromium --version 2>/dev/null | head -n 1)"
    rm -f "$LOG"
else
    echo "install_chromium: apt-get install chromium failed (log: $LOG); the browser test skips"
fi
exit 0
