"""Share tables with Go services using DynamORM: its DMS schema files, encodings and cursors.

```python
from asyncdynamo.dms import DYNAMORM_CURSORS, load_dms_file

schema = load_dms_file("schema/shop.dms.yml")   # needs PyYAML: pip install 'asyncdynamo-lambda[dms]'
Customer = schema["Customer"]                    # an ordinary Model, with __compat__ = DYNAMORM
customer = await db.get(Customer, "CUSTOMER#1", "PROFILE")
page = await db.query(Customer).where(...).cursor_format(DYNAMORM_CURSORS).page(cursor=token)
```

Not imported by ``import asyncdynamo``; PyYAML is imported only when YAML text is loaded.
``docs/dynamorm.md`` lists, rule by rule, how ``Compat.DYNAMORM`` differs from asyncdynamo's own
behaviour.

Errors (under ``AsyncDynamoError``): :class:`DmsSchemaError` (a ``ModelDeclarationError``) for
a document that is malformed or asks for what cannot be represented; :class:`InvalidEnvelopeError`
for a stored value that is not a DynamORM envelope that opens.
"""

from ._compat import Compat, EnvelopeFormat
from ._dms._cursor import DYNAMORM_CURSORS, DynamormCursors
from ._dms._envelope import (
    DataKeySource,
    DmsEnvelope,
    envelope_aad,
    is_envelope,
    kms_data_keys,
    open_envelope,
    open_value,
    parse_envelope,
    plaintext_of,
    seal_envelope,
    seal_value,
    value_of_plaintext,
)
from ._dms._errors import DmsSchemaError, InvalidEnvelopeError
from ._dms._fields import is_empty
from ._dms._loader import python_name
from ._dms._schema import DmsSchema, load_dms, load_dms_file
from ._dms._time import NanoDatetime, format_time, parse_time

__all__ = [
    "DYNAMORM_CURSORS",
    "Compat",
    "DataKeySource",
    "DmsEnvelope",
    "DmsSchema",
    "DmsSchemaError",
    "DynamormCursors",
    "EnvelopeFormat",
    "InvalidEnvelopeError",
    "NanoDatetime",
    "envelope_aad",
    "format_time",
    "is_empty",
    "is_envelope",
    "kms_data_keys",
    "load_dms",
    "load_dms_file",
    "open_envelope",
    "open_value",
    "parse_envelope",
    "parse_time",
    "plaintext_of",
    "python_name",
    "seal_envelope",
    "seal_value",
    "value_of_plaintext",
]
