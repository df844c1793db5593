"""The package's loggers, and the one filter that keeps keys and secrets out of their records.

``logging`` runs a logger's filters only on records logged on that very logger, never
on those of its children (``beatapi_async.webhooks`` would pass the parent's filter
by). So every module takes its logger from ``get_logger``, which attaches the one
shared ``REDACTOR``: message, arguments, traceback and stack are all masked before
any handler (ours or the application's) sees the record.
"""

from __future__ import annotations

import logging
import threading

from ._protocol import redact

# Secrets that do not look like BeatAPI's (an API key of another shape): masked verbatim.
_known: set[str] = set()
_known_lock = threading.Lock()
_MIN_SECRET = 8  # shorter strings would mask ordinary words
_formatter = logging.Formatter()


def remember_secret(*secrets: str | None) -> None:
    """Mask these exact strings in every record of the package's loggers from now on."""
    with _known_lock:
        _known.update(s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET)


def mask(text: str) -> str:
    """``text`` with every key and secret masked: BeatAPI's shapes, and those remembered."""
    return redact(text, *sorted(_known, key=len, reverse=True))


class RedactingFilter(logging.Filter):
    """Masks keys and secrets in a record: message, arguments, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A filter that raised would break the caller's code path: never let it.
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = mask(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _formatter.formatException(record.exc_info)
            # Handlers render ``exc_text`` when it is set; the raw exception (whose
            # text may quote a secret) is dropped so no formatter re-renders it.
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


REDACTOR = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """Return the logger ``name`` (under ``beatapi_async``) with the shared redacting filter."""
    logger = logging.getLogger(name)
    if REDACTOR not in logger.filters:
        logger.addFilter(REDACTOR)
    return logger
