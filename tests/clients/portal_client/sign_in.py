from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class SignIn(BaseModel):
    sign_in: "SignInSignIn" = Field(alias="signIn")


class SignInSignIn(BaseModel):
    session_token: Optional[str] = Field(alias="sessionToken")
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    customer: Optional["SignInSignInCustomer"]
    user_errors: list["SignInSignInUserErrors"] = Field(alias="userErrors")


class SignInSignInCustomer(BaseModel):
    id: str
    email: str


class SignInSignInUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


SignIn.model_rebuild()
SignInSignIn.model_rebuild()
