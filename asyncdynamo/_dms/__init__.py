"""DynamORM compatibility: DMS schema loading, value encodings, cursors and envelopes.

Private: the public names are re-exported by :mod:`asyncdynamo.dms`. Nothing here is imported on
the cold path of a model that does not use ``Compat.DYNAMORM`` or ``JsonBlob``.
"""
