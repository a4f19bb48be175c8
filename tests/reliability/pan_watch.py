"""A watch for card numbers in everything the reliability scenarios leave behind.

:class:`PanWatch` searches (with :func:`tests.reliability.cards.pans_in`):

* every log record, at DEBUG and up, of every logger (a handler on the root logger, which is set
  to DEBUG): its message, its arguments and its formatted exception. A logger whose own level is
  set higher (the payments handler runtime sets ``payments`` to its configured level) creates no
  record below it, so nothing below it can be searched;
* every exception of asyncdynamo (``AsyncDynamoError``) and payments (``PaymentsError``) created,
  and every failed test's report: ``str``, ``repr``, ``args`` and attributes, with causes;
* every payments ``AuditRecord`` built: its repr and its JSON;
* every span finished on :attr:`PanWatch.tracer_provider` (an in-memory exporter).

Records, audit records and test reports are searched as they come; exceptions and spans when
:meth:`PanWatch.findings` is called. The reliability conftest keeps one watch for the session and
fails the session if it found anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry.sdk import trace as otel_sdk
from opentelemetry.sdk.trace import export
from opentelemetry.sdk.trace.export import in_memory_span_exporter as in_memory

from asyncdynamo import AsyncDynamoError
from payments import AuditRecord, PaymentsError
from tests.reliability.cards import pans_in

_watches: list[PanWatch] = []  # the innermost active watch gets everything
_patched: dict[type[Any], Callable[..., None] | None] = {}


def exception_texts(exc: BaseException | None) -> Iterator[str]:
    """What an exception can show: message, repr, args and attributes, of it and its causes.

    Causes are followed as a traceback prints them: ``raise ... from None`` hides the context.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield str(exc)
        yield repr(exc)
        yield repr(exc.args)
        yield repr(getattr(exc, "__dict__", ""))
        yield from (str(note) for note in getattr(exc, "__notes__", ()))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


class _Handler(logging.Handler):
    def __init__(self, watch: PanWatch) -> None:
        super().__init__(logging.DEBUG)
        self._watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        if _watches and _watches[-1] is self._watch:
            texts = [record.getMessage(), repr(record.args), record.exc_text or ""]
            if record.exc_info and record.exc_info[1] is not None:
                texts.extend(exception_texts(record.exc_info[1]))
            self._watch.search(f"log record of {record.name}", texts)


class PanWatch:
    """Searches logs, exceptions, audit records and spans for card numbers (see the module doc)."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        self.searched = 0
        self.exceptions: list[BaseException] = []
        self.span_exporter = in_memory.InMemorySpanExporter()
        self.tracer_provider = otel_sdk.TracerProvider()
        self.tracer_provider.add_span_processor(export.SimpleSpanProcessor(self.span_exporter))
        self._handler = _Handler(self)
        self._root_level = logging.NOTSET

    def search(self, where: str, texts: list[str]) -> None:
        self.searched += 1
        self.hits.extend((where, pan) for pan in pans_in(texts))

    def __enter__(self) -> PanWatch:
        if not _patched:
            _patch()
        _watches.append(self)
        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self._handler)
        return self

    def __exit__(self, *_: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self._handler)
        root.setLevel(self._root_level)
        _watches.remove(self)
        if not _watches:
            _unpatch()

    def findings(self) -> list[tuple[str, str]]:
        """Every ``(where, pan)`` found so far, exceptions and spans included."""
        for exc in self.exceptions:
            self.search(f"exception {type(exc).__name__}", list(exception_texts(exc)))
        self.exceptions.clear()
        for span in self.span_exporter.get_finished_spans():
            self.search(f"span {span.name}", [span.to_json()])
        self.span_exporter.clear()
        return list(self.hits)


def _patch() -> None:
    def watched_init(cls: type[Any], original: Callable[..., None]) -> Callable[..., None]:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            original(self, *args, **kwargs)
            if _watches:
                if isinstance(self, BaseException):
                    _watches[-1].exceptions.append(self)
                else:
                    _watches[-1].search(cls.__name__, [repr(self), self.model_dump_json()])

        return __init__

    for cls in (AsyncDynamoError, PaymentsError, AuditRecord):
        _patched[cls] = cls.__dict__.get("__init__")
        cls.__init__ = watched_init(cls, cls.__init__)  # type: ignore[method-assign]


def _unpatch() -> None:
    for cls, original in _patched.items():
        if original is None:
            del cls.__init__
        else:
            cls.__init__ = original
    _patched.clear()
