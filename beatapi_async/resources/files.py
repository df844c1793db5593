"""``client.files``: upload local images, audio and subtitles; use the returned URL as an input."""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import AsyncIterable, Callable
from typing import IO, TYPE_CHECKING, Any

import aiohttp

from .. import _models, _rules
from .._exceptions import RequestValidationError
from .._options import call_options
from .._validate import check_upload
from ._common import Resource

if TYPE_CHECKING:
    from .._models import File
    from .._options import RequestOptions, Unpack

Uploadable = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
_CHUNK = 256 * 1024


class _Borrowed(io.RawIOBase):
    """A read-only, nameless view of a file, for aiohttp to send and close.

    aiohttp closes a file payload once sent; closing this view leaves the real file
    open, so the caller keeps their file and a retry can re-send it. ``fileno`` lets
    aiohttp size the part (a Content-Length, not a chunked upload). Having no
    ``name``, it leaves the part's file name to us (aiohttp would read the path's).

    A file that ends before the size announced (truncated while it is sent) raises
    at once: otherwise the server would wait for the missing bytes until the read
    timeout. ``on_short`` records why, for the transport to report.
    """

    def __init__(self, file: IO[bytes], on_short: Callable[[RequestValidationError], None]) -> None:
        super().__init__()
        self._file = file
        self._on_short = on_short
        self._left = os.fstat(file.fileno()).st_size - file.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        data = self._file.read(size)
        self._left -= len(data)
        if not data and size != 0 and self._left > 0:
            error = RequestValidationError("file", f"was truncated while being uploaded ({self._left} bytes short)")
            self._on_short(error)
            raise error
        return data

    def readinto(self, buffer: Any, /) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()


def _has_fileno(file: IO[bytes]) -> bool:
    try:
        file.fileno()
    except (OSError, AttributeError, ValueError):
        return False
    return True


class _UploadBody:
    """Makes a fresh multipart body per attempt (so retries re-send from the start).

    A path is opened per attempt and streamed from disk with a Content-Length; a
    caller's file object is re-read from its start offset and never closed here.
    """

    def __init__(
        self, source: str | bytes | IO[bytes], filename: str, mime_type: str, start: int = 0, size: int = 0
    ) -> None:
        self._source, self._filename, self._mime = source, _wire_name(filename), mime_type
        self._start, self._size = start, size
        self._opened: list[IO[bytes]] = []
        self.failure: RequestValidationError | None = None  # why the last attempt's body broke off

    def _short(self, error: RequestValidationError) -> None:
        self.failure = error

    def __call__(self) -> aiohttp.FormData:
        value: Any = self._source
        self.failure = None
        try:
            if isinstance(self._source, str):
                opened = open(self._source, "rb")  # noqa: SIM115 - closed by release()
                self._opened.append(opened)
                value = _Borrowed(opened, self._short)
            elif not isinstance(self._source, bytes):
                self._source.seek(self._start)
                # Without a file descriptor aiohttp cannot size a stream (it would go
                # chunked, which BeatAPI refuses); such streams are in memory already.
                if _has_fileno(self._source):
                    value = _Borrowed(self._source, self._short)
                else:
                    value = self._source.read(self._size)
        except (OSError, ValueError) as exc:  # gone, or closed, since it was checked
            raise RequestValidationError("file", f"could not be read: {exc}") from None
        form = aiohttp.FormData()
        form.add_field("file", value, filename=self._filename, content_type=self._mime)
        form.add_field("purpose", "input")
        return form

    def release(self) -> None:
        while self._opened:
            self._opened.pop().close()


def _wire_name(name: str) -> str:
    """The file name as sent in the multipart header: valid UTF-8 and on one line."""
    # A name read from disk may hold undecodable bytes (surrogate escapes).
    name = name.encode("utf-8", "replace").decode("utf-8")
    if not name.isprintable():
        raise RequestValidationError("filename", "must not contain line breaks or control characters")
    return name


def _too_big(size: int) -> RequestValidationError:
    return RequestValidationError("file", f"must be at most 50 MB (got more than {size} bytes)")


class Files(Resource):
    """``POST /v1/files``."""

    async def upload(
        self,
        file: Uploadable,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> File:
        """Upload a path, bytes, a binary file object or an async byte iterator.

        Bytes and streams need ``filename=`` (or ``mime_type=``) to tell the type.
        The MIME type sent is BeatAPI's spelling (``.wav`` -> ``audio/wav``,
        ``.srt`` -> ``application/x-subrip``), not Python's ``mimetypes`` guess.

        Raises:
            RequestValidationError: unsupported type, empty, or over 50 MB (nothing is sent).
        """
        checked = call_options(options)
        spooled: IO[bytes] | None = None
        try:
            if isinstance(file, (str, os.PathLike)):
                path = os.fspath(file)
                import anyio  # here, not with the package: only path uploads use it (import time)

                try:
                    info = await anyio.Path(path).stat()
                except FileNotFoundError:
                    raise RequestValidationError("file", f"no such file: {path!r}") from None
                except OSError as exc:
                    raise RequestValidationError("file", f"cannot read {path!r}: {exc.strerror or exc}") from None
                _check_regular(path, info.st_mode)
                name = filename or os.path.basename(path)
                size = info.st_size
                body = _UploadBody(path, name, check_upload(filename=name, mime_type=mime_type, size=size))
            elif isinstance(file, (bytes, bytearray, memoryview)):
                data = bytes(file)
                mime = check_upload(filename=filename, mime_type=mime_type, size=len(data))
                body = _UploadBody(data, filename or _default_name(mime), mime)
            elif hasattr(file, "read"):
                given = filename or _name_of(file)
                check_upload(filename=given, mime_type=mime_type, size=None)
                stream, start, size = _sized_stream(file)
                mime = check_upload(filename=given, mime_type=mime_type, size=size)
                body = _UploadBody(stream, given or _default_name(mime), mime, start, size)
            elif isinstance(file, AsyncIterable):
                check_upload(filename=filename, mime_type=mime_type, size=None)
                spooled = await _spool(file)
                size = spooled.tell()
                mime = check_upload(filename=filename, mime_type=mime_type, size=size)
                body = _UploadBody(spooled, filename or _default_name(mime), mime, 0, size)
            else:
                raise RequestValidationError(
                    "file", "must be a path, bytes, a binary file object or an async iterator of bytes"
                )
            # Uploads are not billed: a retry at worst stores a second copy.
            data_out = await self._client._request(
                "POST", "/v1/files", body_factory=body, replayable=True, options=checked
            )
            uploaded = self._client._load(data_out, _models.File)
            self._client._remember_upload(uploaded)  # its audio length prices estimates
            return uploaded
        finally:
            if spooled is not None:
                spooled.close()


def _check_regular(what: str, mode: int) -> None:
    """Refuse what is not a regular file with what it is (a FIFO would block, /dev/zero never ends)."""
    if stat.S_ISREG(mode):
        return
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise RequestValidationError(
        "file", f"{what!r} is {kind}, not a regular file: pass a file's path, its bytes or an open binary file"
    )


def _default_name(mime: str) -> str:
    ext = next(e for e, m in _rules.MIME_BY_EXTENSION.items() if m == mime)
    return f"upload{ext}"


def _name_of(file: Any) -> str | None:
    name = getattr(file, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else None


def _sized_stream(file: Any) -> tuple[IO[bytes], int, int]:
    """Return a stream, its start offset and the bytes to send, reading it into memory only if unseekable."""
    try:
        probe = file.read(0)
    except (OSError, ValueError) as exc:
        raise RequestValidationError("file", f"could not be read: {exc}") from None
    if not isinstance(probe, bytes):
        raise RequestValidationError("file", "open the file in binary mode ('rb')")
    try:
        mode = os.fstat(file.fileno()).st_mode
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISDIR(mode)):
        _check_regular(_name_of(file) or "file", mode)  # /dev/zero "seeks" fine and never ends
    try:
        if mode is not None and not stat.S_ISREG(mode):
            raise OSError("not a regular file: read it as a stream")  # a pipe: read below, bounded
        if file.seekable():
            start = file.tell()
            end = file.seek(0, io.SEEK_END)
            file.seek(start)
            return file, start, end - start
    except (OSError, AttributeError, ValueError):
        pass
    data = file.read(_rules.MAX_UPLOAD_BYTES + 1)
    if len(data) > _rules.MAX_UPLOAD_BYTES:
        raise _too_big(_rules.MAX_UPLOAD_BYTES)
    return io.BytesIO(data), 0, len(data)


async def _spool(chunks: AsyncIterable[bytes]) -> IO[bytes]:
    """Copy an async byte stream to a temporary file, so it can be sent with a Content-Length."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
    try:
        async for chunk in chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise RequestValidationError("file", "an async iterator must yield bytes")
            spool.write(chunk)
            if spool.tell() > _rules.MAX_UPLOAD_BYTES:
                raise _too_big(_rules.MAX_UPLOAD_BYTES)
    except BaseException:
        spool.close()
        raise
    return spool
