"""The lean transport: DynamoDB, KMS and STS over stdlib asyncio, for fast Lambda cold starts.

Private package; :class:`LeanTransport` is the only entry point.
"""

from asyncdynamo._lean._transport import LeanTransport

__all__ = ["LeanTransport"]
