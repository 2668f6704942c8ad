from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class RunBillingCycle(BaseModel):
    run_billing_cycle: "RunBillingCycleRunBillingCycle" = Field(alias="runBillingCycle")


class RunBillingCycleRunBillingCycle(BaseModel):
    renewed_count: int = Field(alias="renewedCount")
    failed_count: int = Field(alias="failedCount")
    user_errors: list["RunBillingCycleRunBillingCycleUserErrors"] = Field(
        alias="userErrors"
    )


class RunBillingCycleRunBillingCycleUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


RunBillingCycle.model_rebuild()
RunBillingCycleRunBillingCycle.model_rebuild()
