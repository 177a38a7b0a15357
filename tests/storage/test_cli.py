"""The `frontdesk` command line, run as the operator runs it (a real process)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from domain.clients import contract_key

FRONTDESK = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items()
             if key not in ("BOT_TOKEN", "STAFF_CHAT_ID", "DATABASE_URL", "FRONTDESK_CONFIG")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run([*FRONTDESK, *args], capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})}, cwd=cwd or ROOT, check=False)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("run", "db", "contracts"):
        assert command in result.stdout


def test_run_without_a_token_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "named"), [
    ({"BOT_TOKEN": "not-a-token", "STAFF_CHAT_ID": "-1001"}, "BOT_TOKEN"),
    ({"BOT_TOKEN": "123456:" + "A" * 35, "STAFF_CHAT_ID": "staff"}, "STAFF_CHAT_ID"),
    ({"BOT_TOKEN": "123456:" + "A" * 35, "STAFF_CHAT_ID": "-1001",
      "FRONTDESK_CONFIG": "missing.toml"}, "missing.toml"),
])
def test_bad_configuration_is_named_before_touching_telegram(tmp_path: Path, env: dict[str, str],
                                                             named: str) -> None:
    # TELEGRAM_API_URL points nowhere: reaching it would hang or fail differently.
    result = run("run", env={**env, "TELEGRAM_API_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert result.returncode == 2
    assert named in result.stderr and "Traceback" not in result.stderr
    assert "A" * 35 not in result.stderr  # the token never shows


def test_a_bad_toml_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "frontdesk.toml").write_text('[desk]\nnote_prefx = "//"\n', encoding="utf-8")
    result = run("run", env={"BOT_TOKEN": "123456:" + "A" * 35, "STAFF_CHAT_ID": "-1001"},
                 cwd=tmp_path)
    assert result.returncode == 2
    assert "note_prefx" in result.stderr


def test_db_upgrade_then_status(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    assert run("db", "status", env=env).returncode == 1
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    status = run("db", "status", env=env)
    assert status.returncode == 0 and "current" in status.stdout


def test_contracts_import_then_list(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    csv = tmp_path / "contracts.csv"
    csv.write_bytes("\ufeffnumber;customer;sla_level;valid_until\n"
                    "C-1;ООО Ромашка;standard;31.12.2027\n"
                    "C-2;ACME;premium;\n".encode())
    imported = run("contracts", "import", str(csv), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "2 new" in imported.stdout
    listed = run("contracts", "list", env=env)
    assert "C-1\tООО Ромашка\tstandard\t2027-12-31" in listed.stdout
    assert "C-2\tACME\tpremium" in listed.stdout


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    csv = tmp_path / "contracts.csv"
    csv.write_text("number,customer,sla_level\nC-1,ACME,standard\nC-2,Globex,gold\n"
                   "C-3,Initech,basic\n", encoding="utf-8")
    result = run("contracts", "import", str(csv), env=env)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "gold" in result.stderr
    assert "Traceback" not in result.stderr
    listed = run("contracts", "list", env=env)
    assert listed.stdout.strip() == ""


def test_formula_rows_are_refused_and_a_listed_formula_is_neutralized(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    csv = tmp_path / "contracts.csv"
    csv.write_text("number,customer,sla_level\nC-1,ACME,standard\n"
                   "C-2,=cmd|' /C calc'!A0,standard\nC-3,@SUM(A1),basic\n", encoding="utf-8")
    refused = run("contracts", "import", str(csv), env=env)
    assert refused.returncode == 1
    assert "line 3: customer begins with '='" in refused.stderr
    assert "line 4: customer begins with '@'" in refused.stderr
    assert "Traceback" not in refused.stderr
    # a registry imported before formulas were refused: listed, they are text
    with sqlite3.connect(tmp_path / "desk.sqlite3") as db:
        db.execute("INSERT INTO contracts (number, number_norm, customer, sla_level, "
                   "special_requests, imported_at) VALUES ('-C-9', ?, '=HYPERLINK(\"x\")', "
                   "'standard', 0, '2026-01-01 00:00:00')", (contract_key("-C-9"),))
    listed = run("contracts", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "'-C-9\t'=HYPERLINK(\"x\")\tstandard" in listed.stdout


def test_a_utf16_file_as_excel_saves_unicode_text_is_imported(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    csv = tmp_path / "contracts.csv"
    csv.write_bytes("number;customer;sla_level\r\nC-1;ООО Ромашка;standard\r\n"
                    .encode("utf-16"))
    imported = run("contracts", "import", str(csv), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "C-1\tООО Ромашка\tstandard" in run("contracts", "list", env=env).stdout


def test_a_policy_without_a_level_contracts_use_refuses_to_start(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    csv = tmp_path / "contracts.csv"
    csv.write_text("number,customer,sla_level\nC-1,ACME,standard\nC-2,Globex,premium\n"
                   "C-3,Initech,standard\n", encoding="utf-8")
    assert run("contracts", "import", str(csv), env=env, cwd=tmp_path).returncode == 0
    example = (ROOT / "frontdesk.example.toml").read_text(encoding="utf-8")
    start, end = example.index("[sla.levels.standard]"), example.index("# The lowest level")
    (tmp_path / "frontdesk.toml").write_text(example[:start] + example[end:], encoding="utf-8")
    result = run("run", env={**env, "BOT_TOKEN": "123456:" + "A" * 35, "STAFF_CHAT_ID": "-1001",
                             "TELEGRAM_API_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines() if line.startswith("frontdesk:")]
    assert len(said) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "SLA level 'standard' is used by contracts C-1, C-3" in said[0]
