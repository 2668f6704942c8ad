"""Who is asking, as the services see it. Every query in a service starts from one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Mode


@dataclass(frozen=True)
class Scope:
    business_id: str
    mode: Mode
    # Set for a customer's portal session: the customer may see only their own objects.
    customer_id: str | None = None

    def filters(self) -> dict[str, Any]:
        """Keyword filters for models that carry business, mode (and customer)."""
        found: dict[str, object] = {"business_id": self.business_id, "mode": self.mode}
        if self.customer_id is not None:
            found["customer_id"] = self.customer_id
        return found

    def customer_filters(self, customer_id: str) -> dict[str, Any] | None:
        """Column filters for one customer's objects, or None when a customer's session asks
        for another customer's (which then finds nothing, as a missing customer would)."""
        if self.customer_id is not None and self.customer_id != customer_id:
            return None
        return {"business_id": self.business_id, "mode": self.mode, "customer_id": customer_id}
