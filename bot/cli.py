"""`frontdesk` — run the bot, migrate the database, manage contracts, report, forget clients."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bot import cli_reports, logs
from bot.policy_file import load_policy
from bot.settings import ConfigError, load_config_path, load_database_url, load_settings
from domain.clients import Contract
from domain.clock import SystemClock
from domain.contracts import ContractFileInvalid, parse_contracts, spreadsheet_cell
from storage.engine import make_engine, make_sessionmaker, schema_is_current, upgrade
from storage.uow import UnitOfWorkFactory

EXIT_CONFIG = 2
EXIT_DATA = 1


def parser() -> argparse.ArgumentParser:
    """The command line."""
    root = argparse.ArgumentParser(prog="frontdesk",
                                   description="Telegram front door of a support desk.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling, or webhook if WEBHOOK_URL)")
    commands.add_parser("doctor", help="check the setup (Telegram, staff chats, database, "
                                       "Redis), one line each with the fix")
    play = commands.add_parser(
        "playground", help="the whole desk in a browser, on a stand-in Telegram (no token)")
    play.add_argument("--host", default="127.0.0.1", help="address of the page (127.0.0.1)")
    play.add_argument("--port", type=int, default=8080, help="port of the page (8080)")
    play.add_argument("--data", type=Path, default=Path("playground-data"),
                      help="folder of the desk's database and chats (./playground-data)")
    play.add_argument("--fresh", action="store_true",
                      help="start from an empty desk (forget the folder's tickets and chats)")
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the schema migrations")
    db_commands.add_parser("status", help="say whether the schema is current")
    saver = db_commands.add_parser(
        "backup", help="copy a SQLite database to FILE while the bot runs (PostgreSQL: shows "
                       "the pg_dump command)")
    saver.add_argument("file", type=Path)
    contracts = commands.add_parser("contracts", help="the contract registry")
    contract_commands = contracts.add_subparsers(dest="contracts_command", required=True,
                                                 metavar="ACTION")
    importer = contract_commands.add_parser(
        "import", help="import FILE.csv (number,customer,sla_level[,valid_until,...])")
    importer.add_argument("file", type=Path)
    contract_commands.add_parser("list", help="list the contracts")
    cli_reports.add_commands(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `frontdesk` console script."""
    args = parser().parse_args(argv)
    try:
        logs.configure(os.environ)
        return asyncio.run(_dispatch(args))
    except ConfigError as error:
        print(f"frontdesk: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        settings = load_settings(os.environ)
        policy = load_policy(settings.config_path, explicit=settings.config_explicit)
        from bot.app import run

        await run(settings, policy)
        return 0
    if args.command == "doctor":
        from bot.doctor import doctor

        logging.getLogger().setLevel(logging.WARNING)  # its lines are the output, not INFO logs
        return await doctor(os.environ, lambda finding: print(finding.line(), flush=True))
    if args.command == "playground":
        from playground.main import playground

        return await playground(args)
    if args.command == "db" and args.db_command == "backup":
        from bot.backup import backup

        return backup(load_database_url(os.environ), args.file)
    if args.command == "db":
        return await _db(args.db_command)
    if args.command in cli_reports.COMMANDS:
        return await cli_reports.dispatch(args, open_database)
    return await _contracts(args)


async def _db(action: str) -> int:
    url = load_database_url(os.environ)
    engine = make_engine(url)
    try:
        if action == "upgrade":
            path, explicit = load_config_path(os.environ)
            await upgrade(engine, policy=load_policy(path, explicit=explicit))
            print("frontdesk: the database schema is up to date")
            return 0
        current = await schema_is_current(engine)
        print("frontdesk: schema is current" if current else
              "frontdesk: schema is out of date — run `frontdesk db upgrade`")
        return 0 if current else EXIT_DATA
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_database() -> AsyncIterator[UnitOfWorkFactory]:
    """Units of work on DATABASE_URL: a SQLite file is upgraded, PostgreSQL must be current."""
    url = load_database_url(os.environ)
    engine = make_engine(url)
    try:
        if url.startswith("sqlite"):
            await upgrade(engine)
        elif not await schema_is_current(engine):
            raise ConfigError("the database schema is out of date: run `frontdesk db upgrade`")
        yield UnitOfWorkFactory(make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def _contracts(args: argparse.Namespace) -> int:
    path, explicit = load_config_path(os.environ)
    policy = load_policy(path, explicit=explicit)
    async with open_database() as uow_factory:
        if args.contracts_command == "list":
            async with uow_factory() as uow:
                for contract in await uow.contracts.all():
                    print("\t".join(spreadsheet_cell(cell) for cell in (
                        contract.number, contract.customer, contract.sla_level,
                        str(contract.valid_until or ""),
                        "special" if contract.special_requests else "",
                        contract.license_key or "")))
            return 0
        return await _import(args.file, [level.key for level in policy.sla_levels],
                             uow_factory)


async def _import(path: Path, levels: list[str], uow_factory: UnitOfWorkFactory) -> int:
    try:
        data = path.read_bytes()
    except OSError as error:
        print(f"frontdesk: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_DATA
    try:
        rows = parse_contracts(data, levels)
    except ContractFileInvalid as invalid:
        print(f"frontdesk: {path} was not imported (nothing changed); fix these rows:",
              file=sys.stderr)
        for problem in invalid.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_DATA
    contracts = [Contract(row.number, row.customer, row.sla_level, row.valid_until,
                          row.special_requests, row.license_key) for row in rows]
    async with uow_factory() as uow:
        added, updated = await uow.contracts.upsert_many(contracts, SystemClock().now())
        await uow.commit()
    print(f"frontdesk: imported {len(contracts)} contracts from {path} "
          f"({added} new, {updated} updated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
