"""Loading DMS documents into models, and the errors for what cannot be represented."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pydantic
import pytest

from asyncdynamo import (
    TTL,
    Attr,
    Compat,
    CreatedAt,
    GlobalIndex,
    IndexKind,
    KeyRole,
    LocalIndex,
    Model,
    OmitEmpty,
    PartitionKey,
    Projection,
    SortKey,
    TableSpec,
    UpdatedAt,
    Version,
    spec_of,
)
from asyncdynamo._item import to_item
from asyncdynamo._ops import prepare_put
from asyncdynamo.dms import DmsSchemaError, load_dms, load_dms_file, python_name

FIXTURE = Path(__file__).parent.parent / "fixtures" / "shop.dms.yml"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def document(**model: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Thing",
        "table": {"name": "things"},
        "keys": {"partition": {"attribute": "PK", "type": "S"}},
        "attributes": [{"attribute": "PK", "type": "S", "required": True, "roles": ["pk"]}],
    }
    base.update(model)
    return {"dms_version": "0.1", "models": [base]}


def attributes(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"attribute": "PK", "type": "S", "required": True, "roles": ["pk"]}, *extra]


class TestShopFixture:
    def test_two_models_with_keys_indexes_and_lifecycle_fields(self) -> None:
        schema = load_dms_file(FIXTURE)
        assert (schema.version, schema.namespace, list(schema)) == (
            "0.1",
            "shop.test",
            ["Customer", "Invoice"],
        )
        customer = spec_of(schema["Customer"])
        assert customer.compat is Compat.DYNAMORM
        assert (customer.partition.attribute, customer.sort.attribute) == ("PK", "SK")  # type: ignore[union-attr]
        assert [(i.name, i.partition.attribute) for i in customer.indexes] == [
            ("gsi-email", "emailHash")
        ]
        assert customer.version is not None and customer.version.attribute == "version"
        assert customer.ttl is not None and customer.ttl.attribute == "ttl"
        assert customer.created_at is not None and customer.created_at.attribute == "createdAt"
        assert customer.field("prefs").json_blob
        assert customer.field("login_count").omit_empty

        invoice = spec_of(schema["Invoice"])
        status, amount = invoice.indexes
        assert (status.kind, status.sort.attribute, status.projection, status.include) == (  # type: ignore[union-attr]
            IndexKind.GLOBAL,
            "createdAt",
            Projection.INCLUDE,
            ("amount",),
        )
        assert (amount.kind, amount.sort.attribute, amount.projection) == (  # type: ignore[union-attr]
            IndexKind.LOCAL,
            "amount",
            Projection.KEYS_ONLY,
        )

    def test_a_loaded_model_equals_the_same_model_declared_in_python(self) -> None:
        loaded = load_dms_file(FIXTURE)["Invoice"]

        class DmsBase(Model):
            __compat__ = Compat.DYNAMORM

        fields: dict[str, Any] = {
            "__table__": (ClassVar[str], "invoices"),
            "customer_id": (Annotated[str, PartitionKey, Attr("customerId")], ...),
            "invoice_id": (Annotated[str, SortKey, Attr("invoiceId")], ...),
            "status": (
                Annotated[
                    str | None,
                    GlobalIndex("gsi-status", projection=Projection.INCLUDE, include=("amount",)),
                ],
                None,
            ),
            "amount": (
                Annotated[Decimal, OmitEmpty, LocalIndex("lsi-amount", Projection.KEYS_ONLY)],
                Decimal(0),
            ),
            "created_at": (
                Annotated[
                    datetime | None,
                    CreatedAt,
                    GlobalIndex("gsi-status", role=KeyRole.SORT),
                    Attr("createdAt"),
                ],
                None,
            ),
            "updated_at": (Annotated[datetime | None, UpdatedAt, Attr("updatedAt")], None),
            "version": (Annotated[int, Version], 0),
            "expires_at": (Annotated[datetime | None, TTL, OmitEmpty, Attr("expiresAt")], None),
        }
        declared: type[Model] = pydantic.create_model("Invoice", __base__=DmsBase, **fields)
        ours, theirs = spec_of(loaded), spec_of(declared)
        for name, field in ours.fields.items():
            other = theirs.field(name)
            assert (field.attribute, field.kind, field.optional, field.omit_empty) == (
                other.attribute,
                other.kind,
                other.optional,
                other.omit_empty,
            )
        assert _index_shapes(ours) == _index_shapes(theirs)
        values = {"customer_id": "c", "invoice_id": "i", "status": "open", "amount": 0}
        a = prepare_put(ours, "t", loaded(**values), overwrite=False, condition=None, now=NOW)
        b = prepare_put(theirs, "t", declared(**values), overwrite=False, condition=None, now=NOW)
        assert a.params == b.params


def _index_shapes(spec: TableSpec) -> list[tuple[Any, ...]]:
    return [
        (
            index.name,
            index.kind,
            index.partition.attribute,
            index.sort.attribute if index.sort else None,
            index.projection,
            index.include,
        )
        for index in spec.indexes
    ]


class TestTypes:
    def test_types_defaults_and_names(self) -> None:
        model = load_dms(
            document(
                attributes=attributes(
                    {"attribute": "displayName", "type": "S"},
                    {"attribute": "score", "type": "N"},
                    {"attribute": "count", "type": "N", "format": "int"},
                    {"attribute": "blob", "type": "B", "binary": True, "optional": True},
                    {"attribute": "active", "type": "BOOL"},
                    {"attribute": "meta", "type": "M"},
                    {"attribute": "items", "type": "L"},
                    {"attribute": "ids", "type": "NS"},
                    {"attribute": "json", "type": "S", "json": True},
                )
            )
        )["Thing"]
        thing = model(pk="p")
        assert thing.model_dump() == {
            "pk": "p",
            "display_name": "",
            "score": Decimal(0),
            "count": 0,
            "blob": None,
            "active": False,
            "meta": {},
            "items": [],
            "ids": set(),
            "json_": None,
        }
        assert spec_of(model).field("json_").attribute == "json"

    @pytest.mark.parametrize(
        ("attribute", "name"),
        [
            ("PK", "pk"),
            ("createdAt", "created_at"),
            ("userID", "user_id"),
            ("HTTPStatus", "http_status"),
            ("gsi-email", "gsi_email"),
            ("2fa", "f_2fa"),
            ("class", "class_"),
            ("copy", "copy_"),
            ("model_name", "f_model_name"),
        ],
    )
    def test_python_name(self, attribute: str, name: str) -> None:
        assert python_name(attribute) == name

    def test_yaml_text_and_parsed_documents_load_the_same(self) -> None:
        text = FIXTURE.read_text()
        import yaml

        parsed = yaml.safe_load(text)
        from_text, from_mapping = load_dms(text), load_dms(parsed)
        for name in from_text:
            assert spec_of(from_text[name]).by_attribute.keys() == (
                spec_of(from_mapping[name]).by_attribute.keys()
            )

    def test_native_compat_can_be_asked_for(self) -> None:
        schema = load_dms_file(FIXTURE, compat=Compat.NATIVE)
        assert spec_of(schema["Customer"]).compat is Compat.NATIVE
        item = to_item(spec_of(schema["Customer"]), schema["Customer"](pk="p", sk="s"))
        assert item["loginCount"] == {"N": "0"}  # native omit-empty keeps 0


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown key", document(attributes=attributes({"attribute": "a", "type": "S",
                                                    "omitempty": True})), "unknown key"),
    ("bad type", document(attributes=attributes({"attribute": "a", "type": "X"})), "type"),
    ("key not declared", document(keys={"partition": {"attribute": "id", "type": "S"}}),
     "not declared"),
    ("key type mismatch", document(keys={"partition": {"attribute": "PK", "type": "N"}}),
     "declared as S"),
    ("json needs S", document(attributes=attributes({"attribute": "a", "type": "M",
                                                     "json": True})), "json"),
    ("format type", document(attributes=attributes({"attribute": "a", "type": "S",
                                                    "format": "int"})), "format int needs"),
    ("yes is not a bool", document(attributes=attributes({"attribute": "a", "type": "S",
                                                          "optional": "yes"})), "true or false"),
    ("encrypted key", document(attributes=[{"attribute": "PK", "type": "S", "required": True,
                                            "encryption": {"v": 1}}]), "encrypted"),
    ("envelope version", document(attributes=attributes({"attribute": "a", "type": "S",
                                                         "encryption": {"v": 2}})), "version"),
    ("role disagrees", document(attributes=attributes({"attribute": "a", "type": "S",
                                                       "roles": ["sk"]})), "disagrees"),
    ("index role", document(attributes=attributes({"attribute": "a", "type": "S",
                                                   "roles": ["index_pk:nope"]})), "indexes"),
    ("unknown role", document(attributes=attributes({"attribute": "a", "type": "S",
                                                     "roles": ["owner"]})), "unknown role"),
    ("lsi partition", document(
        attributes=attributes({"attribute": "a", "type": "S"}, {"attribute": "b", "type": "S"}),
        indexes=[{"name": "lsi-b", "type": "LSI", "partition": {"attribute": "a", "type": "S"},
                  "sort": {"attribute": "b", "type": "S"}}]), "partition key"),
    ("index key type", document(
        attributes=attributes({"attribute": "a", "type": "BOOL"}),
        indexes=[{"name": "gsi-a", "type": "GSI",
                  "partition": {"attribute": "a", "type": "BOOL"}}]), "type"),
    ("include unknown", document(
        attributes=attributes({"attribute": "a", "type": "S"}),
        indexes=[{"name": "gsi-a", "type": "GSI", "partition": {"attribute": "a", "type": "S"},
                  "projection": {"type": "INCLUDE", "fields": ["zz"]}}]), "zz"),
    ("version type", document(attributes=attributes({"attribute": "v", "type": "S",
                                                     "roles": ["version"]})), "type N"),
    ("naming", document(naming={"convention": "snake_case"},
                        attributes=attributes({"attribute": "camelName", "type": "S"})),
     "convention"),
    ("table name", document(table={"name": "ab"}), "3 to 255"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "doc", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_what_cannot_be_represented_is_a_typed_error(
    case: str, doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(DmsSchemaError, match=message) as caught:
        load_dms(doc)
    assert caught.value.path  # the error names the place in the document


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dms_version: 0.1\nmodels: []\n", "not supported"),
        ('dms_version: "0.2"\nmodels: []\n', "not supported"),
        ('dms_version: "0.1"\nmodels: &m []\nother: *m\n', "aliases"),
        ('dms_version: "0.1"\nmodels: [\n', "not valid YAML"),
        ('dms_version: "0.1"\nmodels: []\n', "no models"),
    ],
)
def test_document_level_errors(text: str, message: str) -> None:
    with pytest.raises(DmsSchemaError, match=message):
        load_dms(text)


def test_yaml_timestamps_stay_text() -> None:
    # YAML 1.1 would turn an unquoted date into a datetime; DMS is the JSON subset.
    doc = document(table={"name": "2024-01-01"})
    text = (
        'dms_version: "0.1"\nmodels:\n  - name: Thing\n    table: {name: 2024-01-01}\n'
        "    keys: {partition: {attribute: PK, type: S}}\n"
        "    attributes: [{attribute: PK, type: S, required: true, roles: [pk]}]\n"
    )
    assert spec_of(load_dms(text)["Thing"]).table == doc["models"][0]["table"]["name"]


def test_nothing_heavy_is_imported_until_used() -> None:
    script = (
        "import sys\n"
        "from typing import Annotated\n"
        "from asyncdynamo import Model, PartitionKey\n"
        "class Plain(Model):\n"
        "    __table__ = 'plain'\n"
        "    pk: Annotated[str, PartitionKey]\n"
        "plain = [m for m in ('asyncdynamo.dms', 'asyncdynamo._dms') if m in sys.modules]\n"
        "import asyncdynamo.dms\n"
        "dms = [m for m in ('yaml', 'cryptography') if m in sys.modules]\n"
        "print(','.join(plain + dms))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == ""
