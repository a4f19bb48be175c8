"""Models for the data-fidelity tests (enums in collections, output-only pydantic settings)."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from pydantic.alias_generators import to_camel

from asyncdynamo import Model, PartitionKey


class Color(str, Enum):  # noqa: UP042 - the point: str() is not the value
    """A ``(str, Enum)``: ``str(Color.RED)`` is ``"Color.RED"``, its value is ``"red"``."""

    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Size(IntEnum):
    SMALL = 1
    LARGE = 2


class Palette(Model):
    """Enum members inside sets, lists and maps."""

    __table__ = "fidelity_palettes"

    palette_id: Annotated[str, PartitionKey]
    colors: set[Color] = set()
    sizes: frozenset[Size] = frozenset()
    ordered: list[Color] = []
    by_color: dict[Color, Size] = {}
    doc: dict[str, Any] = {}


class Holder(BaseModel):
    """A nested model whose output view differs from what it holds."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    holder_name: str
    secret_ref: str = Field(default="", exclude=True)

    @field_serializer("holder_name")
    def _initials(self, value: str) -> str:
        return value[:1] + "."


class Card(Model):
    """A masking serializer and an excluded field: API output settings, not storage ones."""

    __table__ = "fidelity_cards"

    card_id: Annotated[str, PartitionKey]
    number: str
    internal_note: str = Field(default="", exclude=True)
    holder: Holder | None = None

    @field_serializer("number")
    def _mask(self, value: str) -> str:
        return "**** " + value[-4:]
