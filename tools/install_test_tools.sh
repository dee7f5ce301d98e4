#!/bin/sh
# Install the Debian packages the report's tests use:
#   chromium                  tests/report/test_browser.py (headless screenshot of the report)
#   chromium-driver           tests/demo/test_viewer.py (Selenium drives the web viewer)
#   libreoffice-writer-nogui  tests/demo/test_report_pages.py (DOCX → PDF, page count)
#   poppler-utils             the same test (pdftoppm: the pages as pictures)
#   fonts-noto-cjk            Chinese glyphs for LibreOffice (else the PDF shows boxes)
#
#   sh tools/install_test_tools.sh          # as root, or as a user with password-less sudo
#
# Idempotent and quiet: does nothing for a tool already on PATH, and exits 0 with a message when
# it cannot install (not root, no apt-get, no network); the tests that need a tool then skip.
set -u

need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v chromedriver >/dev/null 2>&1 || need="$need chromium-driver"
command -v soffice >/dev/null 2>&1 || need="$need libreoffice-writer-nogui"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
    need="$need fonts-noto-cjk"
fi
if [ -z "$need" ]; then
    echo "install_test_tools: chromium(-driver), soffice, pdftoppm and a CJK font installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_test_tools: apt-get not found; install$need by hand (their tests skip)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install_test_tools: not root; run 'sudo apt-get install -y$need' (their tests skip)"
    exit 0
fi

LOG=$(mktemp "${TMPDIR:-/tmp}/install_test_tools.XXXXXX")
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >"$LOG" 2>&1 || true
# shellcheck disable=SC2086
if $SUDO apt-get install -y -qq --no-install-recommends $need >>"$LOG" 2>&1; then
    echo "install_test_tools: installed$need"
    rm -f "$LOG"
else
    echo "install_test_tools: apt-get install$need failed (log: $LOG); their tests skip"
fi
exit 0
