from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class CreateCustomer(BaseModel):
    create_customer: "CreateCustomerCreateCustomer" = Field(alias="createCustomer")


class CreateCustomerCreateCustomer(BaseModel):
    customer: Optional["CreateCustomerCreateCustomerCustomer"]
    user_errors: list["CreateCustomerCreateCustomerUserErrors"] = Field(
        alias="userErrors"
    )


class CreateCustomerCreateCustomerCustomer(BaseModel):
    id: str
    email: str
    name: Optional[str]


class CreateCustomerCreateCustomerUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


CreateCustomer.model_rebuild()
CreateCustomerCreateCustomer.model_rebuild()
