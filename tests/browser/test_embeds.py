"""Embeds in a real browser (issue 19): a page on another origin frames Memphis's card and Chromium
shows it; the same page framing the full detail page gets nothing (X-Frame-Options: DENY and
frame-ancestors 'none'); the card fits a phone; the embed code is there to select without script."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.conftest import SCREENSHOTS, fits_without_sideways_scrolling

pytestmark = pytest.mark.browser

# Another origin than the live server's (localhost:<port>): another host, and a port of its own
# (chosen by the system, so that two runs at once never collide).
OTHER_HOST = "127.0.0.1"
PHONE_390 = 390


@pytest.fixture
def other_origin():
    """A news site on another origin: serves `pages[path]` (HTML) and nothing else."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((OTHER_HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pages, f"http://{OTHER_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def article_framing(src):
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>A news article</title><link rel='icon' href='data:,'></head>"
        "<body style='margin:0'><h1>City news</h1>"
        f"<iframe src='{src}' title='Status card' width='100%' height='540' style='border:0'></iframe>"
        "</body></html>"
    )


def test_a_page_on_another_origin_shows_memphiss_card(
    open_page, console_errors, site_url, seeded, other_origin
):
    pages, origin = other_origin
    assert origin.split("://")[1].split(":")[0] != site_url.split("://")[1].split(":")[0]  # cross-origin
    pages["/article.html"] = article_framing(f"{site_url}/embed/jurisdictions/memphis-tn/")
    page = open_page()
    page.goto(f"{origin}/article.html")
    card = page.frame_locator("iframe")
    assert card.get_by_role("heading", level=1).inner_text() == "Memphis, Tennessee"
    assert card.locator(".card__status .status").inner_text() == "Participating"
    assert card.get_by_text("In effect since").is_visible()
    assert card.locator(".answer--yes").count() == 3
    frame = page.frames[1]
    assert frame.url == f"{site_url}/embed/jurisdictions/memphis-tn/"
    # Styled by its own stylesheet, inside the frame.
    assert frame.evaluate("getComputedStyle(document.querySelector('.card')).borderStyle") == "solid"
    assert frame.evaluate("document.cookie") == ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "embed-memphis-framed.png", full_page=True)
    assert console_errors == []


def test_the_full_detail_page_is_refused_in_a_frame(
    open_page, console_errors, site_url, seeded, other_origin
):
    pages, origin = other_origin
    pages["/framing-detail.html"] = article_framing(f"{site_url}/jurisdictions/memphis-tn/")
    page = open_page()
    page.goto(f"{origin}/framing-detail.html")
    page.wait_for_timeout(1000)
    frame = page.frames[1]
    # Chromium replaces a refused document with its error page: nothing of ours is shown.
    assert frame.url != f"{site_url}/jurisdictions/memphis-tn/"
    assert page.frame_locator("iframe").get_by_text("Memphis").count() == 0
    assert any("violates" in m and "frame-ancestors 'none'" in m for m in console_errors), console_errors
    console_errors.clear()


@pytest.mark.parametrize("path", ["/embed/jurisdictions/memphis-tn/", "/embed/programs/psp/"])
def test_the_card_fits_a_390_px_phone(open_page, console_errors, site_url, seeded, other_origin, path):
    page = open_page(width=PHONE_390, height=800)
    page.goto(path)
    assert fits_without_sideways_scrolling(page)
    # And framed at the full width of a phone's article column.
    pages, origin = other_origin
    pages["/phone.html"] = article_framing(f"{site_url}{path}")
    page.goto(f"{origin}/phone.html")
    page.frame_locator("iframe").get_by_role("heading", level=1).wait_for()
    frame = page.frames[1]
    assert frame.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    assert fits_without_sideways_scrolling(page)
    assert console_errors == []


def test_the_embed_code_is_selected_whole_without_javascript(open_page, console_errors, seeded):
    page = open_page(width=PHONE_390, javascript=False)
    page.goto("/jurisdictions/memphis-tn/")
    code = page.get_by_label("Embed code")
    assert code.input_value().startswith('<iframe src="http://localhost:')
    assert code.input_value().endswith("></iframe>")
    code.click()
    page.keyboard.press("Control+A")
    # Select-all inside the box takes the snippet only, ready to copy.
    assert code.evaluate("box => box.value.slice(box.selectionStart, box.selectionEnd)") == code.input_value()
    assert fits_without_sideways_scrolling(page)
    assert console_errors == []
