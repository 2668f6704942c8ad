// A portal frontend's API module: typed functions over fetch. The documents and their types
// come from GraphQL Code Generator (`npm run codegen`, into ./gql), so a query that no longer
// fits ../../schema.graphql fails `npm run check` instead of a customer's page.
import {
  PortalDashboardDocument,
  RequestLoginLinkDocument,
  SignInDocument,
  UpdatePaymentMethodDocument,
} from "./gql/graphql";
import type {
  Mode,
  PortalDashboardQuery,
  TypedDocumentString,
  UpdatePaymentMethodInput,
  UpdatePaymentMethodMutation,
} from "./gql/graphql";

export type Dashboard = PortalDashboardQuery["me"];
export type DashboardSubscription = Dashboard["subscriptions"]["edges"][number]["node"];
export type PaymentMethodUpdate = UpdatePaymentMethodMutation["updatePaymentMethod"];

export interface PortalApi {
  /** e.g. "https://portal.example.com/graphql" */
  endpoint: string;
  /** The portal session token from signIn; sent as `Authorization: Bearer …`. */
  sessionToken?: string;
}

export interface UserError {
  code: string;
  message: string;
  field: string[] | null;
}

/** A GraphQL error: not signed in (UNAUTHENTICATED), RATE_LIMITED, NOT_FOUND, … */
export class PortalApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PortalApiError";
  }
}

/** An expected failure of a mutation (userErrors), e.g. LINK_EXPIRED or INVALID_EMAIL. */
export class PortalUserError extends Error {
  constructor(readonly userErrors: readonly UserError[]) {
    super(userErrors.map((error) => `${error.code}: ${error.message}`).join("; "));
    this.name = "PortalUserError";
  }
}

interface GraphQLResponse<TResult> {
  data?: TResult | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

// An operation without variables takes none; one with variables requires them.
type VariablesArgument<TVariables> =
  TVariables extends Record<string, never> ? [] : [variables: TVariables];

export async function execute<TResult, TVariables>(
  api: PortalApi,
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: VariablesArgument<TVariables>
): Promise<TResult> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (api.sessionToken) {
    headers["Authorization"] = `Bearer ${api.sessionToken}`;
  }
  const response = await fetch(api.endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
  });
  const body = (await response.json()) as GraphQLResponse<TResult>;
  const [error] = body.errors ?? [];
  if (error) {
    throw new PortalApiError(error.message, error.extensions?.code);
  }
  if (!body.data) {
    throw new PortalApiError(`HTTP ${response.status} without data`, undefined);
  }
  return body.data;
}

/** The token of a portal link: the last segment of /session/{token} or /test/session/{token}. */
export function tokenFromPath(pathname: string): string | undefined {
  const match = /\/session\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  return match?.[1];
}

/** Exchanges a link's token for a portal session; a link works once. */
export async function signIn(
  endpoint: string,
  token: string,
  mode?: Mode,
): Promise<{ api: PortalApi; expiresAt: string; returnUrl: string | null }> {
  const { signIn: result } = await execute({ endpoint }, SignInDocument, {
    input: { token, mode },
  });
  if (result.userErrors.length > 0 || !result.sessionToken || !result.expiresAt) {
    throw new PortalUserError(result.userErrors);
  }
  return {
    api: { endpoint, sessionToken: result.sessionToken },
    expiresAt: result.expiresAt,
    returnUrl: result.returnUrl,
  };
}

/** Everything the portal's first page shows, in one request. */
export async function loadDashboard(api: PortalApi): Promise<Dashboard> {
  const { me } = await execute(api, PortalDashboardDocument);
  return me;
}

/** The subscriptions waiting for a new card, with what each owes (in minor units). */
export function onHold(dashboard: Dashboard): DashboardSubscription[] {
  return dashboard.subscriptions.edges
    .map((edge) => edge.node)
    .filter((subscription) => subscription.status === "ON_HOLD");
}

/**
 * Replaces a subscription's card. ACTIVE: swapped, nothing charged. ON_HOLD: what is owed is
 * charged; a decline is not thrown but returned in `userErrors` (e.g. CARD_DECLINED), for the
 * form to show. Reuse the idempotency key when retrying the same attempt.
 */
export async function updatePaymentMethod(
  api: PortalApi,
  input: UpdatePaymentMethodInput,
): Promise<PaymentMethodUpdate> {
  const { updatePaymentMethod: result } = await execute(api, UpdatePaymentMethodDocument, {
    input: { idempotencyKey: crypto.randomUUID(), ...input },
  });
  return result;
}

/**
 * The static login page: asks for a sign-in link by email. The answer is the same whether or
 * not the address belongs to a customer; only a malformed address (INVALID_EMAIL) is refused.
 */
export async function requestLoginLink(
  endpoint: string,
  businessId: string,
  email: string,
  mode: Mode = "LIVE",
): Promise<void> {
  const { requestLoginLink: result } = await execute({ endpoint }, RequestLoginLinkDocument, {
    input: { businessId, email, mode },
  });
  if (result.userErrors.length > 0) {
    throw new PortalUserError(result.userErrors);
  }
}
