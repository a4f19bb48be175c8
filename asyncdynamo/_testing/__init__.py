"""Test tooling behind :mod:`asyncdynamo.testing` and :mod:`asyncdynamo.local` (never on the Lambda path)."""
