from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import TimeInterval


class CreateProduct(BaseModel):
    create_product: "CreateProductCreateProduct" = Field(alias="createProduct")


class CreateProductCreateProduct(BaseModel):
    product: Optional["CreateProductCreateProductProduct"]
    user_errors: list["CreateProductCreateProductUserErrors"] = Field(
        alias="userErrors"
    )


class CreateProductCreateProductProduct(BaseModel):
    id: str
    name: str
    price: "CreateProductCreateProductProductPrice"
    interval: Optional[TimeInterval]


class CreateProductCreateProductProductPrice(BaseModel):
    amount: int
    currency: str


class CreateProductCreateProductUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


CreateProduct.model_rebuild()
CreateProductCreateProduct.model_rebuild()
CreateProductCreateProductProduct.model_rebuild()
