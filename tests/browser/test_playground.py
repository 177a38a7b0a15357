"""A visitor plays the desk in the browser: a client files a request, the staff handle it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, PlaygroundProcess

pytestmark = pytest.mark.browser


def add_client(page: Any, name: str, language: str = "en") -> None:
    """Add a client with the form on the left; the page opens their chat."""
    form = page.locator("#add-client")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=language]").select_option(language)
    form.locator("button[type=submit]").click()
    page.locator("#client-title", has_text=name).wait_for()


def client_says(page: Any, text: str) -> None:
    """Type in the client's text box and press Enter."""
    box = page.locator("#client-composer textarea")
    box.fill(text)
    box.press("Enter")


def client_presses(page: Any, label: str) -> None:
    """Press the newest inline button with this label in the client's chat."""
    page.locator("#client-messages .keyboard button", has_text=label).last.click()


def staff_presses(page: Any, label: str) -> None:
    """Press the newest inline button with this label in the open topic."""
    page.locator("#topic-messages .keyboard button", has_text=label).last.click()


def client_chat(page: Any) -> Any:
    return page.locator("#client-messages")


def topic(page: Any) -> Any:
    return page.locator("#topic-messages")


def file_request(page: Any, subject: str, urgency: str = "High", *, faq: bool = False) -> int:
    """The open client files a request with contract C-100; its number.

    With `faq`, the subject matches the sample FAQ: its answer comes with the description
    prompt, and describing the problem goes on past it.
    """
    from playwright.sync_api import expect

    page.locator("#start-button").click()
    client_presses(page, "New request")
    expect(client_chat(page)).to_contain_text("contract")
    client_says(page, "C-100")
    expect(client_chat(page)).to_contain_text("What kind of request")
    client_presses(page, "Failure")
    expect(client_chat(page)).to_contain_text("How urgent")
    client_presses(page, urgency)
    expect(client_chat(page)).to_contain_text("subject")
    client_says(page, subject)
    expect(client_chat(page)).to_contain_text("press Done")
    if faq:
        expect(client_chat(page).locator("a", has_text="Cannot log in")).to_be_visible()
    client_says(page, "The login page says error 500")
    # the bot marks a description part as received with a 👍 (no message of its own)
    expect(client_chat(page).locator(".msg", has_text="error 500").locator(".reaction")
           ).to_have_text("👍")
    client_presses(page, "Done")
    expect(client_chat(page)).to_contain_text("Your request")
    client_presses(page, "Confirm")
    registered = client_chat(page).locator(".msg", has_text="registered as #").last
    registered.wait_for()
    found = re.search(r"registered as #(\d+)", registered.inner_text())
    assert found is not None
    return int(found.group(1))


def open_topic(page: Any, number: int) -> None:
    """Open the ticket's topic in the staff group."""
    page.locator("#topic-list li", has_text=f"#{number} ").click()
    page.locator("#topic-title", has_text=f"#{number} ").wait_for()


def test_a_visitor_walks_a_request_from_hello_to_the_rating(page: Any) -> None:
    from playwright.sync_api import expect

    add_client(page, "Dora Visitor")
    number = file_request(page, "Login fails", faq=True)

    open_topic(page, number)
    card = topic(page).locator(".msg", has_text=f"#{number}").first
    expect(card.locator(".keyboard button", has_text="Take")).to_be_visible()
    page.locator("#post-as").select_option(label="Alice Agent — agent")
    staff_presses(page, "Take")
    expect(card).to_contain_text("Alice")

    staff_box = page.locator("#staff-composer textarea")
    staff_box.fill("Please clear the <b>browser</b> cache and try again.")
    staff_box.press("Enter")
    expect(client_chat(page)).to_contain_text("Please clear the <b>browser</b> cache")

    staff_presses(page, "Resolved")
    expect(client_chat(page)).to_contain_text("Does everything work now?")
    client_presses(page, "Yes, solved")
    expect(client_chat(page)).to_contain_text("rate our work")
    client_presses(page, "5")
    expect(topic(page)).to_contain_text(f"rated #{number}: 5/5")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"))


def test_a_clock_jump_shows_an_sla_warning_in_the_topic(page: Any) -> None:
    from playwright.sync_api import expect

    add_client(page, "Eve Waiting")
    number = file_request(page, "Printer jams", urgency="High")  # first response within 1 h
    open_topic(page, number)
    expect(topic(page)).not_to_contain_text("SLA warning")
    for _ in range(5):  # 50 minutes: past 80 % of the hour, not past the hour
        page.locator(".jump[data-jump='10']").click()
    expect(page.locator("#clock-ahead")).to_contain_text("50")
    expect(topic(page)).to_contain_text("SLA warning")


def test_a_client_in_russian_reads_russian(page: Any) -> None:
    from playwright.sync_api import expect

    add_client(page, "Иван Петров", "ru")
    page.locator("#start-button").click()
    expect(client_chat(page)).to_contain_text("Здравствуйте")
    client_presses(page, "Новое обращение")
    expect(client_chat(page)).to_contain_text("договор")


def test_the_page_speaks_russian_when_asked(page: Any, playground: PlaygroundProcess) -> None:
    from playwright.sync_api import expect

    page.goto(playground.url + "?lang=ru")
    expect(page.locator(".guide summary")).to_have_text("Как играть")
    expect(page.locator("#add-client button[type=submit]")).to_have_text("Добавить клиента")


def test_a_text_over_telegrams_limit_gets_telegrams_refusal(page: Any) -> None:
    from playwright.sync_api import expect

    add_client(page, "Finn Long")
    client_says(page, "x" * 4097)
    expect(page.locator("#client-error")).to_contain_text("4096")
    expect(page.locator("#client-error")).to_contain_text("Bad Request: message is too long")
    expect(client_chat(page)).not_to_contain_text("xxxx")
    client_says(page, "y" * 4096)  # exactly the limit is a message like any other
    expect(client_chat(page)).to_contain_text("yyyy")


def test_two_tabs_show_the_same_desk(page: Any) -> None:
    from playwright.sync_api import expect

    second = page.context.new_page()
    second.goto(page.url)
    add_client(page, "Gus Twice")
    client_in_second = second.locator("#client-list li", has_text="Gus Twice")
    client_in_second.click()
    client_says(page, "/start")
    expect(second.locator("#client-messages")).to_contain_text("/start")
    second.locator("#client-composer textarea").fill("hello from the second tab")
    second.locator("#client-composer textarea").press("Enter")
    expect(client_chat(page)).to_contain_text("hello from the second tab")


def test_a_client_sends_a_photo_edits_a_message_and_blocks_the_bot(page: Any) -> None:
    from playwright.sync_api import expect

    add_client(page, "Hana Pictures")
    client_says(page, "hello there")
    expect(client_chat(page)).to_contain_text("New request")  # the bot's greeting
    page.locator("#client-composer input[type=file]").set_input_files(
        files=[{"name": "screen.png", "mimeType": "image/png", "buffer": tiny_png()}])
    client_says(page, "my screen")
    photo = client_chat(page).locator(".msg.out", has_text="my screen").locator("img.photo")
    expect(photo).to_be_visible()

    mine = client_chat(page).locator(".msg.out", has_text="hello there")
    mine.hover()
    mine.locator(".edit-button").click()
    client_says(page, "hello there, edited")
    expect(mine).to_contain_text("hello there, edited")
    expect(mine.locator(".meta")).to_contain_text("edited")

    page.locator("#block").click()
    expect(page.locator("#client-list li.active")).to_contain_text("You blocked the bot")
    expect(page.locator("#block")).to_have_text("Unblock the bot")


def tiny_png() -> bytes:
    """A 2×2 red PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))
