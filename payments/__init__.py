"""The payment domain, built only on asyncdynamo's public API (see the payments issue)."""

__all__: list[str] = []
