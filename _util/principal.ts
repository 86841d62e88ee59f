// Who a request comes from, as a comparable key: sessions, tasks and request states are bound to it.

/**
 * Auth values whose principal is not their JSON: an OAuth token's is who it
 * names (its subject and client), not its expiry or scopes, which a
 * refreshed token changes.
 */
export const principals: WeakMap<object, string> = new WeakMap();

/** The authenticate result as a comparable key: sessions and request states are bound to it. */
export function principalOf(auth: unknown): string {
  const known = typeof auth === "object" && auth !== null ? principals.get(auth) : undefined;
  if (known !== undefined) return known;
  try {
    return JSON.stringify(auth) ?? "";
  } catch {
    return String(auth);
  }
}
