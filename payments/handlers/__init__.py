"""Lambda handlers for the payments package, on asyncdynamo's handler runner.

Each module is one function's entry point (``handler``): ``process`` and ``query`` (API
Gateway HTTP API), ``reconcile`` (a schedule), ``settle`` (batches) and ``lookup`` (cross-account
search). They parse the event, call the processor, and shape the answer; the rules live in the
processor. See docs/handlers.md.

This package imports none of them: a function imports only its own module.
"""

from ._runtime import HandlerSettings, Invocation, Runtime, configure, current, reset

__all__ = ["HandlerSettings", "Invocation", "Runtime", "configure", "current", "reset"]
