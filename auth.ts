/**
 * `bearerAuth()`: an `authenticate` hook that admits requests carrying a
 * known bearer token, and refuses every request when no token is configured.
 *
 * @module
 */

/** Options of {@linkcode bearerAuth}. */
export interface BearerAuthOptions {
  /**
   * The accepted token, or several (to rotate one without downtime). Unset
   * or empty (a missing environment variable, say): every request is
   * refused with 401, and a warning is logged once.
   */
  token: string | readonly (string | undefined)[] | undefined;
  /**
   * What `ctx.auth` becomes for an admitted request: a stable identity, not
   * `false` (which would refuse). Default `"bearer"`.
   */
  principal?: unknown;
}

const enc = new TextEncoder();
// RFC 6750's b64token: what may follow "Bearer ".
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * An `authenticate` hook for {@linkcode serve} and the handlers that checks
 * `Authorization: Bearer <token>` in constant time. It fails closed: with no
 * token configured it admits no one, so a deployment that forgot to set its
 * secret is locked rather than open.
 *
 * @example
 * ```ts
 * import { bearerAuth, McpServer, serve } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * serve(server, { authenticate: bearerAuth({ token: process.env.MCP_TOKEN, principal: { user: "alice" } }) });
 * ```
 */
export function bearerAuth(options: BearerAuthOptions): (request: Request) => unknown {
  const list = typeof options.token === "string" ? [options.token] : options.token ?? [];
  const given = list.filter((t): t is string => typeof t === "string" && t !== "");
  for (const t of given) {
    // A token no header can carry would lock everyone out without a word: say so now.
    if (!TOKEN.test(t)) {
      throw new TypeError(
        "bearerAuth: a token may hold only letters, digits and - . _ ~ + / (then = padding); " +
          (/\s/.test(t)
            ? "this one has white space (a trailing newline from a file?)"
            : "this one has other characters"),
      );
    }
  }
  const tokens = given.map((t) => enc.encode(t));
  const principal = options.principal ?? "bearer";
  if (principal === false) throw new TypeError("bearerAuth: principal false would refuse every request");
  if (!tokens.length) {
    console.error("bearerAuth: no token is configured (unset or empty), so every request is refused with 401");
    return () => undefined;
  }
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m || !TOKEN.test(m[1])) return undefined;
    const sent = enc.encode(m[1]);
    let ok = false;
    for (const t of tokens) ok = equal(sent, t) || ok; // every token compared: the time does not tell which matched
    return ok ? principal : undefined;
  };
}

/** Compares in time that depends on the lengths only, not on where the bytes differ. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}
