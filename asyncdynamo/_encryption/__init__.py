"""Field encryption: ``Encrypted`` fields sealed with KMS envelope encryption, bound to their item.

Layers (each module imports only what it needs; ``cryptography`` only in ``_aead``, and only
when a model with an encrypted field is first used):

```
_plaintext  an AttributeValue ⇄ the bytes that get sealed
_format     the stored envelope, byte by byte, and the associated data that binds it
_cache      bounded caches of data keys (for sealing and for opening), single-flight loads
_kms        GenerateDataKey / Decrypt through the DB's transport machinery
_aead       AES-256-GCM (the one module that imports ``cryptography``)
_engine     FieldEncryption: seal and open the encrypted attributes of items and updates
_hooks      the small async entry points the DB, readers, batches and transactions call
```
The cache bounds, :class:`~asyncdynamo.DataKeyCachePolicy`, are a Config setting and live with
the config (``asyncdynamo._config``): nothing here is imported until a model with an encrypted
field is used.
"""
