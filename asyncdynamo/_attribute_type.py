"""The DynamoDB type names ``Path.is_type`` accepts.

Its own module: a conditional write that never asks for a type does not build the enum (an
``Enum`` class costs about as much at import as all of ``asyncdynamo._expr``'s records).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AttributeType"]


class AttributeType(StrEnum):
    """Types accepted by ``attribute_type``."""

    STRING = "S"
    NUMBER = "N"
    BINARY = "B"
    BOOL = "BOOL"
    NULL = "NULL"
    LIST = "L"
    MAP = "M"
    STRING_SET = "SS"
    NUMBER_SET = "NS"
    BINARY_SET = "BS"
