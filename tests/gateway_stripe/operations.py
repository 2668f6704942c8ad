"""The GraphQL operations the Stripe tests send, as a frontend or a merchant backend would."""

from __future__ import annotations

from typing import Any

from conftest import Portal
from services.businesses import NewBusiness

NEXT_ACTION = "nextAction { type clientSecret publishableKey }"

CREATE_SUBSCRIPTION = f"""
mutation($input: CreateSubscriptionInput!) {{
  createSubscription(input: $input) {{
    subscription {{ id status paymentMethod {{ id brand last4 }} }}
    payment {{ id status failureCode cardLast4 }}
    invoice {{ id status amountDue {{ amount }} }}
    {NEXT_ACTION}
    userErrors {{ code field message }}
  }}
}}"""

CREATE_PAYMENT = f"""
mutation($input: CreatePaymentInput!) {{
  createPayment(input: $input) {{
    payment {{ id status failureCode failureMessage cardBrand cardLast4 }}
    invoice {{ id status }}
    {NEXT_ACTION}
    userErrors {{ code field message }}
  }}
}}"""

CONFIRM_PAYMENT = f"""
mutation($input: ConfirmPaymentInput!) {{
  confirmPayment(input: $input) {{
    payment {{ id status failureCode }}
    subscription {{ id status paymentMethod {{ brand last4 }} }}
    invoice {{ id status amountDue {{ amount }} }}
    {NEXT_ACTION}
    userErrors {{ code field message }}
  }}
}}"""

ADD_PAYMENT_METHOD = f"""
mutation($input: AddPaymentMethodInput!) {{
  addPaymentMethod(input: $input) {{
    paymentMethod {{ id brand last4 }}
    {NEXT_ACTION}
    userErrors {{ code field message }}
  }}
}}"""

UPDATE_PAYMENT_METHOD = f"""
mutation($input: UpdatePaymentMethodInput!) {{
  updatePaymentMethod(input: $input) {{
    subscription {{ id status outstandingAmount {{ amount }} paymentMethod {{ last4 }} }}
    payment {{ id status failureCode }}
    invoice {{ id status }}
    {NEXT_ACTION}
    userErrors {{ code field message }}
  }}
}}"""

PAYMENT = f"""
query($id: ID!) {{
  node(id: $id) {{ ... on Payment {{ id status failureCode {NEXT_ACTION} }} }}
}}"""

SUBSCRIPTION = """
query($id: ID!) {
  subscription(id: $id) {
    id status nextBillingDate outstandingAmount { amount } paymentMethod { last4 }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def create_subscription(
    portal: Portal, shop: NewBusiness, customer_id: str, product_id: str, pm: str, **extra: Any
) -> dict[str, Any]:
    data = await portal.gql(
        CREATE_SUBSCRIPTION,
        {
            "input": {
                "customerId": customer_id,
                "productId": product_id,
                "gatewayPaymentMethodId": pm,
                **extra,
            }
        },
        token=shop.test_api_key,
    )
    return dict(data["createSubscription"])


async def create_payment(
    portal: Portal, shop: NewBusiness, customer_id: str, product_id: str, pm: str, **extra: Any
) -> dict[str, Any]:
    data = await portal.gql(
        CREATE_PAYMENT,
        {
            "input": {
                "customerId": customer_id,
                "productId": product_id,
                "gatewayPaymentMethodId": pm,
                **extra,
            }
        },
        token=shop.test_api_key,
    )
    return dict(data["createPayment"])


async def confirm_payment(portal: Portal, token: str, payment_id: str) -> dict[str, Any]:
    data = await portal.gql(CONFIRM_PAYMENT, {"input": {"paymentId": payment_id}}, token=token)
    return dict(data["confirmPayment"])
