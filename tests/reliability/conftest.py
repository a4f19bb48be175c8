"""The payments fixtures (tables, gateway, processor), shared with the reliability scenarios."""

from tests.payments.conftest import gateway, payment_tables, processor

__all__ = ["gateway", "payment_tables", "processor"]
