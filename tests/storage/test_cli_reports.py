"""`frontdesk report` and `frontdesk client forget` from the command line, on both databases."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.models import (
    ClientRow,
    EventRow,
    FsmRow,
    MessageLinkRow,
    OutboxRow,
    RatingRow,
    TicketRow,
    TopicRow,
)
from storage.uow import UnitOfWorkFactory
from tests.storage.test_report_queries import prepare

OCTOBER = ["--from", "2026-10-01", "--to", "2026-10-31"]
CAROL = 501  # the Telegram id of the prepared history's client


async def _prepared(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        await prepare(UnitOfWorkFactory(make_sessionmaker(engine)))
        async with engine.begin() as connection:  # a message pair to forget
            ticket_id = (await connection.execute(
                select(TicketRow.id).where(TicketRow.number == 3))).scalar_one()
            await connection.execute(MessageLinkRow.__table__.insert().values(
                ticket_id=ticket_id, direction="in", client_chat_id=CAROL, client_message_id=9,
                staff_chat_id=-100, staff_message_id=90,
                created_at=(await connection.execute(select(TicketRow.created_at).where(
                    TicketRow.id == ticket_id))).scalar_one()))
            await connection.execute(TopicRow.__table__.insert().values(
                ticket_id=ticket_id, chat_id=-100, thread_id=7, card_message_id=70,
                title="#3 · Carol · Ticket 3", closed=True))
            moment = datetime(2026, 10, 3, 13, tzinfo=UTC)
            payload = {"kind": "copy_to_topic", "ticket": 3, "client": 1, "template": None,
                       "data": {"source": {"html": "my password is hunter2"}}}
            await connection.execute(OutboxRow.__table__.insert().values(
                lane="t3", kind="copy_to_topic", payload=json.dumps(payload), state="sent",
                attempts=1, not_before=moment, created_at=moment, sent_at=moment))
            await connection.execute(FsmRow.__table__.insert().values(
                key=f"fsm:{CAROL}:{CAROL}:default", state="Intake:subject",
                data='{"subject": "secret"}'))
    finally:
        await engine.dispose()


@pytest.fixture
def desk_url(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A database holding the prepared history, named by DATABASE_URL; default policy."""
    asyncio.run(_prepared(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("FRONTDESK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # the default policy, the staff reading times in UTC
    (tmp_path / "frontdesk.toml").write_text('[desk]\nstaff_timezone = "UTC"\n')
    return database_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_as_csv_has_the_whole_desk_in_one_row(
        desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "report", *OCTOBER, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    total = rows[0]
    assert (total["slice"], total["opened"], total["closed"], total["reopened"]) == (
        "total", "1", "2", "1")
    assert total["first_response_median_s"] == "3600"
    assert total["resolution_median_s"] == str(16 * 86400)
    assert (total["csat"], total["ratings"], total["deflected"]) == ("4.5", "2", "1")
    assert total["first_response_pct"] == "100.0"


def test_report_without_dates_is_this_month(desk_url: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "report", "--format", "json")
    assert code == 0
    today = datetime.now(UTC).date()  # the staff read times in UTC here
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    assert json.loads(out)["period"] == {"from": first.isoformat(), "to": last.isoformat(),
                                         "timezone": "UTC"}


def test_report_as_json_by_day(desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "report", *OCTOBER, "--format", "json", "--by", "day")
    assert code == 0
    document = json.loads(out)
    assert document["period"] == {"from": "2026-10-01", "to": "2026-10-31", "timezone": "UTC"}
    assert document["backlog"] == {"in_progress": 2}
    days = {row["key"]: row for row in document["rows"]}
    assert len(days) == 31
    assert days["2026-10-03"]["opened"] == 1
    assert days["2026-10-05"]["closed"] == 1 and days["2026-10-11"]["closed"] == 1
    assert days["2026-10-10"]["reopened"] == 1
    assert days["2026-10-01"]["deflected"] == 1
    assert document["total"]["opened"] == 1


def test_report_as_a_table_by_agent(desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "report", *OCTOBER, "--by", "agent")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Figures 2026-10-01 .. 2026-10-31 (UTC)"
    assert lines[2].split()[:4] == ["Alice", "1", "2", "1"]
    assert lines[-1] == "open at the end: in_progress 2"


def test_a_reversed_period_is_refused(desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "--from", "2026-10-31", "--to", "2026-10-01")
    assert (code, out) == (1, "")
    assert "--to must not be before --from" in err


async def _client_and_texts(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            client = (await connection.execute(select(
                ClientRow.name, ClientRow.username, ClientRow.telegram_user_id,
                ClientRow.forgotten_at))).one()
            subjects = set((await connection.execute(select(TicketRow.subject))).scalars())
            details = set((await connection.execute(select(EventRow.detail))).scalars())
            names = set((await connection.execute(select(EventRow.actor_name).where(
                EventRow.actor_kind == "client"))).scalars())
            comments = set((await connection.execute(select(RatingRow.comment))).scalars())
            scores = sorted((await connection.execute(select(RatingRow.score))).scalars())
            links = (await connection.execute(select(MessageLinkRow.id))).all()
            outbox = [(kind, state, json.loads(payload)) for kind, state, payload in (
                await connection.execute(select(OutboxRow.kind, OutboxRow.state,
                                                OutboxRow.payload).order_by(OutboxRow.id)))]
            states = (await connection.execute(select(FsmRow.key))).all()
    finally:
        await engine.dispose()
    return {"client": tuple(client), "subjects": subjects, "details": details, "names": names,
            "comments": comments, "scores": scores, "links": len(links), "outbox": outbox,
            "states": len(states)}


def test_forget_erases_the_texts_and_keeps_the_figures(
        desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _code, before, _err = run(capsys, "report", *OCTOBER, "--format", "json", "--by", "agent")
    code, out, err = run(capsys, "client", "forget", str(CAROL), "--yes")
    assert (code, err.count("frontdesk:")) == (0, 0)
    assert "Client 1: Carol @carol" in out
    assert "subjects and descriptions of 7 ticket(s): #1, #2, #3, #4, #5, #6, #7" in out
    assert "2 rating comment(s), 1 delivered message(s)" in out
    assert "1 message pair(s) and 1 conversation state(s)" in out
    assert "still open, no longer answerable — close them: #2, #5" in out
    after = asyncio.run(_client_and_texts(desk_url))
    name, username, telegram_id, forgotten_at = after["client"]  # type: ignore[misc]
    assert (name, username, telegram_id) == ("", None, None) and forgotten_at is not None
    assert after["subjects"] == {"—"}
    assert after["details"] == {None} and after["names"] == {""}
    assert after["comments"] == {None} and after["scores"] == [1, 4, 5]
    assert after["links"] == 0 and after["states"] == 0
    delivered, card = after["outbox"]  # type: ignore[misc]
    assert delivered[2]["data"] == {}  # the delivered text is gone, the row stays
    assert (card[0], card[1], card[2]["ticket"]) == ("card", "pending", 3)  # refreshed card
    _code, figures, _err = run(capsys, "report", *OCTOBER, "--format", "json", "--by", "agent")
    assert json.loads(figures) == json.loads(before)


def test_forget_by_ticket_asks_first_and_a_script_must_say_yes(
        desk_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal
    code, out, err = run(capsys, "client", "forget", "--ticket", "3")
    assert code == 1
    assert "Client 1: Carol @carol" in out and "nothing was erased" in out
    assert "add --yes" in err
    assert asyncio.run(_client_and_texts(desk_url))["client"][0] == "Carol"  # type: ignore[index]


def test_forget_an_unknown_client(desk_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "client", "forget", "999", "--yes")
    assert code == 1 and "no client has the Telegram id 999" in err


def test_report_csv_cells_never_start_a_formula() -> None:
    from bot.cli_reports import COLUMNS, write_csv

    out = io.StringIO()
    row = dict.fromkeys(COLUMNS, 0) | {"slice": "agent", "key": "-5",
                                       "label": "=HYPERLINK(\"http://x\")", "csat": 4.5}
    write_csv(None, [row], out)  # type: ignore[arg-type]  # the rows are what it writes
    (written,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert (written["key"], written["label"]) == ("'-5", "'=HYPERLINK(\"http://x\")")
    assert (written["opened"], written["csat"]) == ("0", "4.5")
