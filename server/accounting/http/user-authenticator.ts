/** A user the relay knows, as a bearer token proves it. */
export interface AuthenticatedUser {
  readonly username: string;
  readonly domain: string;
}

/**
 * Verifies a user's bearer token for the user endpoints (`/api/v1/me/…`).
 * The relay issues the token (a JWT it signs for the portal); the lead
 * wires the implementation. `undefined` for anything that is not a valid,
 * unexpired token of a user.
 *
 * @example
 * ```ts
 * const users: UserAuthenticator = { verify: async (bearer) => (await verifyPortalJwt(bearer))?.user };
 * ```
 */
export interface UserAuthenticator {
  verify(bearer: string): Promise<AuthenticatedUser | undefined> | AuthenticatedUser | undefined;
}

/**
 * Verifies the operator's bearer token for `/admin/v1` — the same check as
 * the relay's admin API (`admin.token` or an admin API key).
 */
export type AdminVerifier = (bearer: string) => Promise<boolean> | boolean;
