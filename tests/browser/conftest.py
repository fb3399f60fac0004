"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright; never a downloaded browser.

Without chromium or the playwright package, browser tests skip with the reason printed — and
fail in CI (env CI set), where `.ci/run` installs chromium first.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ORCHESTRATOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing() -> str:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return ""


def _need_browser() -> None:
    why = _missing()
    if not why:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need Chromium in CI: {why}")
    print(f"skipping browser tests: {why}")
    pytest.skip(why)


# Package scope: the browser and its Playwright driver end with the browser tests, so later
# tests that check "no process left behind" do not see them.
@pytest.fixture(scope="package")
def browser_context() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="orchestrator-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                viewport={"width": 1400, "height": 900})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Opened:
    """A report open in a page, with everything the page tried to do that a report must not."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.dialogs == [], self.dialogs
        assert [r for r in self.requests if r != self.url] == [], self.requests
        assert self.page.evaluate("typeof window.__pwned") == "undefined"


@pytest.fixture
def open_report(browser_context: Any) -> Iterator[Any]:
    pages: list[Any] = []

    def opener(path: Path) -> Opened:
        page = browser_context.new_page()
        pages.append(page)
        opened = Opened(page, path.resolve().as_uri())
        page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.console_errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: opened.requests.append(r.url))

        def dialog(d: Any) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        # Anything but the page itself is refused, so a leak cannot even reach the network.
        page.route("**/*", lambda route: route.continue_() if route.request.url == opened.url else route.abort())
        page.goto(opened.url)
        page.wait_for_selector("body[data-ready='1'][data-details='1']", timeout=10_000)
        return opened

    yield opener
    for page in pages:
        page.close()


def run_plan(plan: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run a shipped plan with the CLI the way a user does."""
    return subprocess.run([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out), "-q"],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="session")
def shipped_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every shipped plan run once into a temp folder: {plan name: its output folder}."""
    out: dict[str, Path] = {}
    for plan in sorted((REPO / "plans").glob("*.yaml")):
        folder = tmp_path_factory.mktemp(plan.stem)
        proc = run_plan(plan, folder)
        assert (folder / "results.json").is_file(), proc.stdout + proc.stderr
        out[plan.stem] = folder
    return out
