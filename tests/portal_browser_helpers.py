"""What the browser tests of the web portal share (tests/test_portal_browser_*.py): the
widths, Chromium's flags, signing in through the form, axe-core (WCAG 2.2 A and AA) in every
page shot at 390 and 1280 px, and the screenshots saved in `tests/screenshots/` (git-ignored).
The `browser` fixture (Debian's Chromium driven by Playwright) is in tests/conftest.py."""

import shutil

import pytest
from playwright.sync_api import Browser, Page

from devstack.deployment import REPO_ROOT

from e2e_helpers import ok

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = REPO_ROOT / "tests" / "screenshots"  # git-ignored
# axe-core (npm, tests/package.json; `make browser` runs `npm ci` there), run in every page
# shot at both widths: any WCAG 2.2 A/AA violation fails the test.
AXE = REPO_ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# As root, on a machine with no network: no sandbox, and nothing that calls home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def signed_in(browser: Browser, gateway_url: str, token: str, viewport=DESKTOP, **options) -> Page:
    page = browser.new_context(base_url=gateway_url, viewport=viewport, **options).new_page()
    page.goto("/portal/sign-in")
    if options.get("java_script_enabled", True):  # the sign-in page too, at this width
        assert axe_violations(page) == [], f"sign-in at {viewport['width']} px"
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    return page


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A and AA violations on the page as it is now, one line each."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `make browser` (npm ci in tests/)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())  # by the driver: the portal's CSP allows no script
    found = page.evaluate(
        """async tags => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
            .violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target)})`)""",
        WCAG_AA,
    )
    return list(found)


def shoot(page: Page, name: str) -> None:
    """The page at desktop and phone widths, each checked by axe-core and saved."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size or DESKTOP
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert axe_violations(page) == [], f"{name} at {viewport['width']} px ({page.url})"
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(width)


def disputes_of(agent, order_id):
    tickets = ok(agent.get(f"/v1/orders/{order_id}/tickets"))["items"]
    return next((t for t in tickets if t["reason"] == "not_as_described"), None)
