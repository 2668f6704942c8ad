from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class CreateCustomerPortalSession(BaseModel):
    create_customer_portal_session: "CreateCustomerPortalSessionCreateCustomerPortalSession" = Field(
        alias="createCustomerPortalSession"
    )


class CreateCustomerPortalSessionCreateCustomerPortalSession(BaseModel):
    portal_session: Optional[
        "CreateCustomerPortalSessionCreateCustomerPortalSessionPortalSession"
    ] = Field(alias="portalSession")
    user_errors: list[
        "CreateCustomerPortalSessionCreateCustomerPortalSessionUserErrors"
    ] = Field(alias="userErrors")


class CreateCustomerPortalSessionCreateCustomerPortalSessionPortalSession(BaseModel):
    link: str
    expires_at: datetime = Field(alias="expiresAt")


class CreateCustomerPortalSessionCreateCustomerPortalSessionUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


CreateCustomerPortalSession.model_rebuild()
CreateCustomerPortalSessionCreateCustomerPortalSession.model_rebuild()
