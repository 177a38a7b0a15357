"""`frontdesk db backup FILE`: a consistent copy of the desk's database while the bot runs.

A SQLite file is copied with SQLite's online backup API: it reads one snapshot (the bot's
latest commits included, even those still in the -wal file, which a plain `cp` would miss),
and the bot goes on writing meanwhile. PostgreSQL has pg_dump for that; the command is shown.
"""

from __future__ import annotations

import shlex
import sqlite3
import sys
from pathlib import Path

from storage.engine import address_of

EXIT_NOT_DONE = 1


def backup(database_url: str, target: Path) -> int:
    """Back up the database to `target`; say where. 0 when a copy was made."""
    address = address_of(database_url)
    if not address.sqlite:
        print("frontdesk: PostgreSQL is backed up with its own tool, pg_dump; for example:\n"
              f"  {pg_dump_command(database_url, target)}\n"
              "(the password, if any, from PGPASSWORD or ~/.pgpass; restore with pg_restore)")
        return EXIT_NOT_DONE
    source = Path(address.database)
    if not source.is_file():
        print(f"frontdesk: there is no database file {source} to back up", file=sys.stderr)
        return EXIT_NOT_DONE
    if target.exists():
        print(f"frontdesk: {target} exists; name a new file", file=sys.stderr)
        return EXIT_NOT_DONE
    partial = target.with_name(target.name + ".partial")
    try:
        copy_sqlite(source, partial)
    except (sqlite3.Error, OSError, RuntimeError) as error:
        print(f"frontdesk: {source} was not backed up: {error}", file=sys.stderr)
        return EXIT_NOT_DONE
    partial.rename(target)  # a file named FILE is always a whole copy
    print(f"frontdesk: backed up {source.resolve()} to {target.resolve()} "
          f"({target.stat().st_size / 1e6:.1f} MB)")
    return 0


def copy_sqlite(source: Path, target: Path) -> None:
    """One snapshot of `source` into a new file `target`, checked after."""
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing)  # all pages in one step: one snapshot, never restarted
        (verdict,) = writing.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise RuntimeError(f"the copy does not pass SQLite's integrity check: {verdict}")
    except BaseException:
        writing.close()
        target.unlink(missing_ok=True)
        raise
    finally:
        reading.close()
    writing.close()


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump command for this database (without its password)."""
    address = address_of(database_url)
    arguments = ["pg_dump", "--format=custom", f"--file={target}"]
    if address.host:
        arguments.append(f"--host={address.host}")
    if address.port:
        arguments.append(f"--port={address.port}")
    if address.username:
        arguments.append(f"--username={address.username}")
    arguments.append(address.database)
    return shlex.join(arguments)
