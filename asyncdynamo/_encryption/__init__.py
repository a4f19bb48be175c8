"""Field encryption: ``Encrypted`` fields sealed with KMS envelope encryption, bound to their item.

Layers (each module imports only what it needs; ``cryptography`` only in ``_aead``, and only
when a model with an encrypted field is first used):

```
_policy     DataKeyCachePolicy (a Config setting; imported with the config, stdlib only)
_plaintext  an AttributeValue ⇄ the bytes that get sealed
_format     the stored envelope, byte by byte, and the associated data that binds it
_cache      bounded caches of data keys (for sealing and for opening), single-flight loads
_kms        GenerateDataKey / Decrypt through the DB's transport machinery
_aead       AES-256-GCM (the one module that imports ``cryptography``)
_engine     FieldEncryption: seal and open the encrypted attributes of items and updates
_hooks      the small async entry points the DB, readers, batches and transactions call
```
This ``__init__`` imports nothing, so importing the policy costs one tiny module.
"""
