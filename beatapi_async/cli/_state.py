"""The resume record of ``run``: what each line's create was sent with, and the task it made.

JSON Lines, appended, flushed and fsynced record by record, so that a crash right
after a create returns never loses the task id; merged per line on reading (a
torn last record from a crash is ignored).
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

from ._common import CliError
from ._lines import Line

if sys.platform != "win32":
    import fcntl


class StateFile:
    """The durable record of a batch's creates (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        self._file: IO[bytes] | None = None

    def load(self) -> None:
        """Read what earlier runs recorded (a torn last line from a crash is ignored)."""
        try:
            with open(self.path, "rb") as f:
                for raw in f:
                    try:
                        record = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(record, dict) and isinstance(record.get("key"), str):
                        self.records.setdefault(record["key"], {}).update(record)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CliError(f"cannot read the state file {self.path}: {exc.strerror or exc}") from None

    def open(self) -> None:
        """Open for appending, holding a lock so two runs cannot both create a line's task."""
        new = not os.path.exists(self.path)
        try:
            f = open(self.path, "a+b")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise CliError(f"cannot write the state file {self.path}: {exc.strerror or exc}") from None
        if sys.platform != "win32":
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                raise CliError(f"another run is using {self.path}; wait for it to finish") from None
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")  # a torn last record: start ours on a line of its own
        self._file = f
        if new:
            _fsync_dir(os.path.dirname(os.path.abspath(self.path)))

    def record(self, line: Line, **fields: Any) -> None:
        """Append a record for ``line`` and make it durable before returning."""
        assert self._file is not None
        record = {"key": line.key, "line": line.number, "fingerprint": line.fingerprint, **fields}
        try:
            self._file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            # Going on could create tasks a rerun would not know about: stop here.
            raise CliError(f"cannot write the state file {self.path}: {exc.strerror or exc}") from None
        self.records.setdefault(line.key, {}).update(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def created(self) -> int:
        """Tasks recorded as created."""
        return sum(1 for r in self.records.values() if r.get("task_id"))


def _fsync_dir(path: str) -> None:
    # A new file's directory entry is durable only once the directory is synced (POSIX).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_against_state(lines: list[Line], state: StateFile) -> None:
    """Mark lines edited since an earlier run created (or sent) their task."""
    for line in lines:
        if line.error is not None:
            continue
        record = state.records.get(line.key)
        if record is not None and record.get("fingerprint") != line.fingerprint:
            made = record.get("task_id") or "a create"
            line.error = (
                f"changed since an earlier run started it as {made} (state {state.path}); "
                "give it a new id, or remove the state file to start over"
            )
