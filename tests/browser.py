"""Headless Chromium for the browser tests: Debian's `chromium` driven by Playwright (no browser download)."""
import contextlib, os, shutil, tempfile
import pytest

CHROMIUM = os.environ.get('VMEVAL_CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
# The test machines have no network: these flags stop Chromium from trying to reach Google's services at start.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

@contextlib.contextmanager
def chromium_page(viewport=(1400, 1000)):
    "A fresh headless Chromium page (its own empty profile); fails the test clearly when Chromium is missing."
    if not CHROMIUM: pytest.fail("Chromium is not installed: run scripts/setup.sh (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    profile = tempfile.mkdtemp(prefix='vmeval-chromium-')
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                        args=CHROMIUM_ARGS, viewport=dict(zip(('width', 'height'), viewport)))
            try: yield ctx.pages[0] if ctx.pages else ctx.new_page()
            finally: ctx.close()
    finally: shutil.rmtree(profile, ignore_errors=True)
