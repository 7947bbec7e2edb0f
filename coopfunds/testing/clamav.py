"""A real ClamAV daemon for tests: `clamd` from Debian's clamav-daemon, started on a socket of its own with a
signature database made here (nothing downloaded): the EICAR test string, matched anywhere in a file."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import clamdpy

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Coopfunds-Test-EICAR"
FOUND = f"{SIGNATURE}.UNOFFICIAL"  # how clamd names a match from a database it did not sign


def available() -> bool:
    return shutil.which("clamd") is not None


@contextmanager
def clamd(folder: Path) -> Iterator[str]:
    """Run clamd until the block ends; yields its CLAMAV_ADDRESS (`unix:<socket>`)."""
    database = folder / "db"
    database.mkdir(parents=True)
    (database / "coopfunds-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    socket = folder / "clamd.sock"
    config = folder / "clamd.conf"
    config.write_text(
        f"Foreground yes\nLocalSocket {socket}\nDatabaseDirectory {database}\nLogFile {folder / 'clamd.log'}\n"
    )
    process = subprocess.Popen(  # noqa: S603 (our own clamd and config)
        [str(shutil.which("clamd")), f"--config-file={config}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                clamdpy.ClamdUnixSocket(str(socket), timeout=5).ping()
                break
            except (clamdpy.exceptions.ClamdException, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"clamd did not start: {(folder / 'clamd.log').read_text()}") from None
                time.sleep(0.1)
        yield f"unix:{socket}"
    finally:
        process.terminate()
        process.wait(timeout=30)
