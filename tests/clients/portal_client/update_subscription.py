from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class UpdateSubscription(BaseModel):
    update_subscription: "UpdateSubscriptionUpdateSubscription" = Field(
        alias="updateSubscription"
    )


class UpdateSubscriptionUpdateSubscription(BaseModel):
    subscription: Optional["UpdateSubscriptionUpdateSubscriptionSubscription"]
    user_errors: list["UpdateSubscriptionUpdateSubscriptionUserErrors"] = Field(
        alias="userErrors"
    )


class UpdateSubscriptionUpdateSubscriptionSubscription(BaseModel):
    id: str
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate")


class UpdateSubscriptionUpdateSubscriptionUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


UpdateSubscription.model_rebuild()
UpdateSubscriptionUpdateSubscription.model_rebuild()
