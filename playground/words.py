"""The page's texts, through the bot's own gettext catalogs (English and Russian)."""

from __future__ import annotations

from bot.i18n import DeskI18n


def N_(text: str) -> str:  # noqa: N802 - gettext's marker for texts translated later
    """Mark a text for the catalog; it is translated when a page is drawn."""
    return text


WORDS = {
    "title": N_("Frontdesk playground"),
    "clients": N_("Clients"),
    "staff": N_("Staff group"),
    "add_client": N_("Add a client"),
    "name": N_("Name"),
    "language": N_("Language"),
    "cancel": N_("Cancel"),
    "message": N_("Message"),
    "send": N_("Send"),
    "attach": N_("Attach a photo or a file"),
    "edit": N_("Edit"),
    "editing": N_("Editing"),
    "edited": N_("edited"),
    "block": N_("Block the bot"),
    "unblock": N_("Unblock the bot"),
    "blocked": N_("You blocked the bot"),
    "start": N_("Start"),
    "post_as": N_("Post as"),
    "add_agent": N_("Add an agent"),
    "agent": N_("agent"),
    "supervisor": N_("supervisor"),
    "general": N_("General"),
    "closed": N_("closed"),
    "clock": N_("Desk clock"),
    "jump_10m": N_("+10 min"),
    "jump_1h": N_("+1 h"),
    "jump_1d": N_("+1 day"),
    "ahead": N_("ahead of real time"),
    "pick_client": N_("Pick a client on the left, or add one."),
    "pick_topic": N_("Pick a topic: General, or a ticket's topic."),
    "no_messages": N_("No messages here yet."),
    "file": N_("File"),
    "photo": N_("Photo"),
    "too_long": N_("Telegram refused the message: it is longer than 4096 characters."),
    "caption_too_long": N_("Telegram refused the caption: it is longer than 1024 characters."),
    "offline": N_("Connection to the playground lost; reconnecting…"),
    "note_hint": N_("Start with // for an internal note; commands like /take, /stats work."),
    "guide_title": N_("How to play"),
    "guide_1": N_("You are the client on the left: press Start, then New request, and answer "
                  "the bot (contract C-100 is active, C-200 is premium with special requests, "
                  "C-300 has expired)."),
    "guide_2": N_("You are the staff on the right: open the ticket's topic, press Take on the "
                  "card, and write to the client; choose who you post as below the topic."),
    "guide_3": N_("Jump the desk's clock ahead to see SLA warnings, breaches, reminders and "
                  "auto-close."),
    "guide_4": N_("This is a stand-in for Telegram on your machine: nothing leaves it. The "
                  "README tells how to connect a real bot."),
    "topic_created": N_("Topic created"),
    "topic_closed": N_("Topic closed"),
    "topic_reopened": N_("Topic reopened"),
    "topic_edited": N_("Topic renamed"),
    "pinned": N_("Message pinned"),
    "interface": N_("Interface language"),
    "clients_tab": N_("Clients"),
    "staff_tab": N_("Staff"),
}


def words(i18n: DeskI18n, language: str) -> dict[str, str]:
    """Every text of the page in `language`."""
    return {key: i18n.gettext(text, locale=language) for key, text in WORDS.items()}
