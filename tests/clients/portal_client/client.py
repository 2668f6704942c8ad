from typing import Any

from .async_base_client import AsyncBaseClient
from .create_customer import CreateCustomer
from .create_customer_portal_session import CreateCustomerPortalSession
from .create_product import CreateProduct
from .create_subscription import CreateSubscription
from .input_types import (
    CreateCustomerInput,
    CreateCustomerPortalSessionInput,
    CreateProductInput,
    CreateSubscriptionInput,
    SignInInput,
    UpdatePaymentMethodInput,
    UpdateSubscriptionInput,
)
from .portal_dashboard import PortalDashboard
from .run_billing_cycle import RunBillingCycle
from .sign_in import SignIn
from .subscription_state import SubscriptionState
from .update_payment_method import UpdatePaymentMethod
from .update_subscription import UpdateSubscription


def gql(q: str) -> str:
    return q


class PortalClient(AsyncBaseClient):
    async def create_customer(
        self, input: CreateCustomerInput, **kwargs: Any
    ) -> CreateCustomer:
        query = gql("""
            mutation CreateCustomer($input: CreateCustomerInput!) {
              createCustomer(input: $input) {
                customer {
                  id
                  email
                  name
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateCustomer", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateCustomer.model_validate(data)

    async def create_product(
        self, input: CreateProductInput, **kwargs: Any
    ) -> CreateProduct:
        query = gql("""
            mutation CreateProduct($input: CreateProductInput!) {
              createProduct(input: $input) {
                product {
                  id
                  name
                  price {
                    amount
                    currency
                  }
                  interval
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateProduct", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateProduct.model_validate(data)

    async def create_subscription(
        self, input: CreateSubscriptionInput, **kwargs: Any
    ) -> CreateSubscription:
        query = gql("""
            mutation CreateSubscription($input: CreateSubscriptionInput!) {
              createSubscription(input: $input) {
                subscription {
                  id
                  status
                  nextBillingDate
                  paymentMethod {
                    id
                    last4
                  }
                }
                payment {
                  id
                  status
                  amount {
                    amount
                    currency
                  }
                  failureCode
                }
                invoice {
                  id
                  number
                  status
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="CreateSubscription",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return CreateSubscription.model_validate(data)

    async def create_customer_portal_session(
        self, input: CreateCustomerPortalSessionInput, **kwargs: Any
    ) -> CreateCustomerPortalSession:
        query = gql("""
            mutation CreateCustomerPortalSession($input: CreateCustomerPortalSessionInput!) {
              createCustomerPortalSession(input: $input) {
                portalSession {
                  link
                  expiresAt
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="CreateCustomerPortalSession",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return CreateCustomerPortalSession.model_validate(data)

    async def update_subscription(
        self, input: UpdateSubscriptionInput, **kwargs: Any
    ) -> UpdateSubscription:
        query = gql("""
            mutation UpdateSubscription($input: UpdateSubscriptionInput!) {
              updateSubscription(input: $input) {
                subscription {
                  id
                  nextBillingDate
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="UpdateSubscription",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return UpdateSubscription.model_validate(data)

    async def run_billing_cycle(self, **kwargs: Any) -> RunBillingCycle:
        query = gql("""
            mutation RunBillingCycle {
              runBillingCycle {
                renewedCount
                failedCount
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="RunBillingCycle", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RunBillingCycle.model_validate(data)

    async def subscription_state(self, id: str, **kwargs: Any) -> SubscriptionState:
        query = gql("""
            query SubscriptionState($id: ID!) {
              subscription(id: $id) {
                id
                status
                nextBillingDate
                outstandingAmount {
                  amount
                  currency
                  formatted
                }
                paymentMethod {
                  brand
                  last4
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="SubscriptionState",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return SubscriptionState.model_validate(data)

    async def sign_in(self, input: SignInInput, **kwargs: Any) -> SignIn:
        query = gql("""
            mutation SignIn($input: SignInInput!) {
              signIn(input: $input) {
                sessionToken
                expiresAt
                customer {
                  id
                  email
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="SignIn", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SignIn.model_validate(data)

    async def update_payment_method(
        self, input: UpdatePaymentMethodInput, **kwargs: Any
    ) -> UpdatePaymentMethod:
        query = gql("""
            mutation UpdatePaymentMethod($input: UpdatePaymentMethodInput!) {
              updatePaymentMethod(input: $input) {
                subscription {
                  id
                  status
                  nextBillingDate
                  paymentMethod {
                    id
                    brand
                    last4
                  }
                  outstandingAmount {
                    amount
                    currency
                  }
                }
                payment {
                  id
                  status
                  amount {
                    amount
                    currency
                  }
                  failureCode
                  failureMessage
                }
                invoice {
                  id
                  number
                  status
                  amountDue {
                    amount
                  }
                }
                userErrors {
                  code
                  field
                  message
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="UpdatePaymentMethod",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return UpdatePaymentMethod.model_validate(data)

    async def portal_dashboard(self, **kwargs: Any) -> PortalDashboard:
        query = gql("""
            query PortalDashboard {
              me {
                id
                email
                subscriptions {
                  edges {
                    node {
                      id
                      status
                      nextBillingDate
                      price {
                        amount
                        currency
                        formatted
                      }
                      product {
                        id
                        name
                        price {
                          amount
                        }
                      }
                      paymentMethod {
                        brand
                        last4
                      }
                      outstandingAmount {
                        amount
                      }
                    }
                  }
                }
                invoices(first: 100) {
                  edges {
                    node {
                      id
                      number
                      status
                      total {
                        amount
                      }
                      amountDue {
                        amount
                      }
                      subscription {
                        id
                      }
                      pdfUrl
                    }
                  }
                }
                payments(first: 100) {
                  edges {
                    node {
                      id
                      status
                      amount {
                        amount
                      }
                      invoice {
                        number
                      }
                      paymentMethod {
                        last4
                      }
                    }
                  }
                }
                paymentMethods {
                  id
                  brand
                  last4
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="PortalDashboard", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PortalDashboard.model_validate(data)
