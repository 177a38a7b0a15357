"""`frontdesk playground` as a command: what it says when it cannot start."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.browser.conftest import PlaygroundProcess, free_port


def test_a_taken_port_is_named_with_the_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        process = PlaygroundProcess(tmp_path, port)
        status = process.process.wait(180)
        said = "".join(process.output) + process.process.stdout.read()  # type: ignore[union-attr]
        process.process.stdout.close()  # type: ignore[union-attr]
    assert status == 2
    assert said.strip() == (f"frontdesk: port {port} on 127.0.0.1 is in use; "
                            "choose another with --port")
