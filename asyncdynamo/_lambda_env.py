"""What the Lambda runtime tells us about the container, read from the environment once.

This is the only module of the framework that reads ``os.environ`` (house rule: settings are passed
in explicitly; the Lambda runtime is the one place where the platform hands them over that way).
Everything derived from it (pool size, cleanup buffer) is a pure function of the frozen
:class:`LambdaEnvironment`, so it is unit-tested without touching the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ._record import FrozenRecord, frozen, setfield

__all__ = [
    "LambdaEnvironment",
    "default_pool_size",
    "default_timeout_buffer",
    "is_lambda",
    "lambda_environment",
    "reread_lambda_environment",
]

# Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion to memory below that.
_FULL_VCPU_MB = 1769
# When the memory size is unknown (local runs), plan as if for one full vCPU.
_UNKNOWN_MEMORY_MB = _FULL_VCPU_MB


@frozen
class LambdaEnvironment(FrozenRecord):
    """The Lambda container as its runtime describes it.

    Attributes:
        function_name: ``AWS_LAMBDA_FUNCTION_NAME``; ``None`` outside Lambda.
        function_version: ``AWS_LAMBDA_FUNCTION_VERSION``.
        memory_size_mb: ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, when set and numeric.
        region: ``AWS_REGION`` (else ``AWS_DEFAULT_REGION``).
        execution_env: ``AWS_EXECUTION_ENV`` (``AWS_Lambda_python3.12``...).
        initialization_type: ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand``,
            ``provisioned-concurrency``, ``snap-start``).
        log_group_name: ``AWS_LAMBDA_LOG_GROUP_NAME``.
        log_stream_name: ``AWS_LAMBDA_LOG_STREAM_NAME``.
    """

    __slots__ = (
        "execution_env",
        "function_name",
        "function_version",
        "initialization_type",
        "log_group_name",
        "log_stream_name",
        "memory_size_mb",
        "region",
    )
    function_name: str | None
    function_version: str | None
    memory_size_mb: int | None
    region: str | None
    execution_env: str | None
    initialization_type: str | None
    log_group_name: str | None
    log_stream_name: str | None

    def __init__(
        self,
        function_name: str | None = None,
        function_version: str | None = None,
        memory_size_mb: int | None = None,
        region: str | None = None,
        execution_env: str | None = None,
        initialization_type: str | None = None,
        log_group_name: str | None = None,
        log_stream_name: str | None = None,
    ) -> None:
        setfield(self, "function_name", function_name)
        setfield(self, "function_version", function_version)
        setfield(self, "memory_size_mb", memory_size_mb)
        setfield(self, "region", region)
        setfield(self, "execution_env", execution_env)
        setfield(self, "initialization_type", initialization_type)
        setfield(self, "log_group_name", log_group_name)
        setfield(self, "log_stream_name", log_stream_name)

    @property
    def in_lambda(self) -> bool:
        """Whether this process runs inside a Lambda execution environment."""
        if self.function_name is None:
            return False
        # The emulators (SAM, the runtime interface emulator) set the function name too; the
        # execution environment marker is what the real service always sets.
        return self.execution_env is None or self.execution_env.startswith("AWS_Lambda")

    @property
    def effective_memory_mb(self) -> int:
        """The memory size, or a full vCPU's worth when it is unknown."""
        return self.memory_size_mb or _UNKNOWN_MEMORY_MB

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> LambdaEnvironment:
        """Parse a mapping shaped like ``os.environ`` (used directly by tests)."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        memory = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        return cls(
            function_name=get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size_mb=int(memory) if memory is not None and memory.isdigit() else None,
            region=get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
            execution_env=get("AWS_EXECUTION_ENV"),
            initialization_type=get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            log_group_name=get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=get("AWS_LAMBDA_LOG_STREAM_NAME"),
        )


_ENVIRONMENT: LambdaEnvironment | None = None


def lambda_environment() -> LambdaEnvironment:
    """The container's :class:`LambdaEnvironment`, read from ``os.environ`` on first use only.

    The runtime sets these variables before the handler module is imported and never changes
    them for the container's life, so one read is enough.
    """
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = LambdaEnvironment.from_environ(os.environ)
    return _ENVIRONMENT


def reread_lambda_environment() -> LambdaEnvironment:
    """Read the container's variables again (after a SnapStart restore, where a restored copy
    has its own log stream and initialization type)."""
    global _ENVIRONMENT
    _ENVIRONMENT = None
    return lambda_environment()


def is_lambda() -> bool:
    """Whether this process runs inside AWS Lambda (per :func:`lambda_environment`)."""
    return lambda_environment().in_lambda


def default_pool_size(env: LambdaEnvironment) -> int:
    """HTTP connections to keep warm: one per 128 MB, between 4 and 64.

    One container serves one invocation at a time, so the pool only serves the fan-out inside an
    invocation, and how much of it can run usefully grows with the CPU share, which Lambda ties
    to memory.
    """
    return max(4, min(64, env.effective_memory_mb // 128))


def default_timeout_buffer(env: LambdaEnvironment) -> float:
    """Seconds kept back from each invocation for cleanup: 0.2 s at one full vCPU, scaled.

    Smaller functions get a slower CPU share, so the same cleanup takes longer there; the buffer
    grows inversely with memory, between 0.1 s and 1 s.
    """
    return max(0.1, min(1.0, 0.2 * _FULL_VCPU_MB / env.effective_memory_mb))


def _reset_for_tests() -> None:
    """Forget the cached environment so the next read sees ``os.environ`` again."""
    global _ENVIRONMENT
    _ENVIRONMENT = None
