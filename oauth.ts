/**
 * `oauthResource()`: the server as an OAuth 2.1 resource server, as the MCP
 * authorization specification asks. Pass it as the `oauth` option of
 * {@linkcode serve} or the handlers, and they:
 *
 * - serve the Protected Resource Metadata (RFC 9728) at
 *   `/.well-known/oauth-protected-resource` and its path-suffixed form
 *   (`/.well-known/oauth-protected-resource/mcp`), naming the authorization
 *   servers;
 * - answer a request without a token with 401 and
 *   `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`, from which
 *   an MCP client discovers where to get one;
 * - verify each token with your `verifyToken` hook (a JOSE library against
 *   the authorization server's JWKS, or token introspection), then check
 *   themselves that it was issued for this server (RFC 8707 audience), has
 *   not expired, and grants the `requiredScopes`; a failure is a 401
 *   (`invalid_token`) or a 403 (`insufficient_scope`) with the challenge;
 * - refuse a tool whose `scopes` the token lacks: over HTTP with 403 and a
 *   scope challenge, so the client can step up and retry; over WebSocket
 *   with the JSON-RPC error `ErrorCode.InsufficientScope`;
 * - close a WebSocket when its token expires, with code 4401 (see
 *   {@linkcode TOKEN_EXPIRED_CLOSE_CODE}).
 *
 * Handlers see the verified {@linkcode OAuthToken} as `ctx.auth`. The
 * module has no dependency: the cryptography is the hook's.
 *
 * @module
 */

import { principals } from "./_util/principal.ts";
import { isRecord, isScopeToken } from "./_util/values.ts";

/**
 * What `verifyToken` gives for a valid token: its claims, under the names
 * of JWT access tokens (RFC 9068) and of token introspection (RFC 7662),
 * so that a JWT's payload or an introspection response fits as it is.
 */
export interface TokenClaims {
  /** The audience: the resource(s) the token was issued for. It must name this server's canonical URI. */
  aud?: string | readonly string[];
  /** Expiry, in seconds since the epoch. A token past it is refused. */
  exp?: number;
  /** The granted scopes: space-separated, as in JWTs and introspection, or a list (map a `scp` claim here). */
  scope?: string | readonly string[];
  /** The subject: the user (or, for client credentials, the client) the token stands for. */
  sub?: string;
  /** The OAuth client the token was issued to. */
  client_id?: string;
  /** The issuer: the authorization server. */
  iss?: string;
  /** Introspection: `false` for a token the authorization server no longer honours. */
  active?: boolean;
  /** Any other claim, kept in {@linkcode OAuthToken.claims}. */
  [claim: string]: unknown;
}

/**
 * A verified access token, as handlers see it in `ctx.auth`. The token
 * itself is left out: a server must not pass it on to other services.
 *
 * @example
 * ```ts
 * import { type Context, McpServer, type OAuthToken } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.tool("whoami", {}, (_args, ctx: Context) => {
 *   const token = ctx.auth as OAuthToken;
 *   return `${token.subject} (${token.scopes.join(" ")})`;
 * });
 * ```
 */
export interface OAuthToken {
  /** `sub`: the user (or, for client credentials, the client) the token stands for. */
  readonly subject?: string;
  /** `client_id`: the OAuth client it was issued to. */
  readonly clientId?: string;
  /** `iss`: the authorization server that issued it. */
  readonly issuer?: string;
  /** The scopes it grants. */
  readonly scopes: readonly string[];
  /** `exp`: when it expires, in seconds since the epoch. */
  readonly expiresAt?: number;
  /** Every claim `verifyToken` gave. */
  readonly claims: Readonly<TokenClaims>;
}

/** Options of {@linkcode oauthResource}. */
export interface OAuthResourceOptions {
  /**
   * The server's canonical URI (RFC 8707): the endpoint's public URL, e.g.
   * `https://mcp.example.com/mcp`. Clients ask the authorization server for
   * tokens for it, and a token whose audience does not name it is refused.
   * An absolute http(s) URL without query or fragment; scheme and host are
   * compared without case, and a trailing `/` alone is dropped.
   */
  resource: string;
  /** Issuer URLs of the authorization servers that issue tokens for this server (at least one). */
  authorizationServers: readonly string[];
  /** The scopes this server knows, published as `scopes_supported`. */
  scopesSupported?: readonly string[];
  /**
   * Scopes every request needs; a token without them gets 403. They are also
   * the `scope` of the 401 challenge (without them, `scopesSupported` is).
   * Default: none.
   */
  requiredScopes?: readonly string[];
  /**
   * Verifies a bearer token's signature and issuer (or introspects it) and
   * gives its claims. Return nothing, `false` or throw for a token that is
   * not valid (401; a throw is also logged, once); return a `Response` to
   * answer with it instead (say 503 when the key set cannot be fetched).
   * The audience, expiry and required scopes are checked after it.
   */
  verifyToken: (
    token: string,
  ) => TokenClaims | Response | undefined | null | false | Promise<TokenClaims | Response | undefined | null | false>;
  /** More fields for the metadata document, e.g. `resource_name` or `resource_documentation`. */
  metadata?: Record<string, unknown>;
}

/**
 * An OAuth resource server, from {@linkcode oauthResource}: pass it as the
 * `oauth` option of {@linkcode serve}, {@linkcode mcpHandler},
 * {@linkcode httpHandler} or {@linkcode websocketHandler}. Its methods also
 * protect routes of your own.
 */
export interface OAuthResource {
  /** The canonical URI of the server. */
  readonly resource: string;
  /** Where its metadata is: the well-known URL suffixed with the resource's path. */
  readonly metadataUrl: string;
  /** The Protected Resource Metadata document (RFC 9728). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * Answers a GET of `/.well-known/oauth-protected-resource` or of its form
   * suffixed with the resource's path with the metadata; gives `undefined`
   * for any other path. The handlers call it for the paths that are not
   * their endpoint; mount it yourself when your router sends them only
   * the endpoint path.
   */
  metadataResponse(request: Request): Response | undefined;
  /**
   * Checks a request's bearer token: gives the verified token, or the
   * response to refuse the request with (401 with a challenge, or 403 when
   * it lacks a required scope).
   */
  verify(request: Request): Promise<OAuthToken | Response>;
  /**
   * A 403 with the scope challenge for a request that needs
   * `requiredScopes`: their union with what `token` grants, so a client
   * asking for a new token keeps what it had. `body` is sent as JSON; by
   * default the body is a sentence.
   */
  insufficientScope(requiredScopes: readonly string[], token?: unknown, body?: string): Response;
}

/**
 * The WebSocket close code for a connection whose access token expired:
 * 4401, with the reason "access token expired". The client reconnects with
 * a fresh token.
 */
export const TOKEN_EXPIRED_CLOSE_CODE = 4401;

const WELL_KNOWN = "/.well-known/oauth-protected-resource";
// RFC 6750's b64token: what may follow "Bearer ".
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Why verified `claims` do not admit a request to `resource` (as a 401's description), or undefined when they do. */
function refuseClaims(claims: unknown, resource: string, warnMs: () => void): string | undefined {
  // Introspection says active: true of a token it vouches for; anything else there is a refusal.
  if (!isRecord(claims) || (claims.active !== undefined && claims.active !== true)) {
    return "The access token is not valid";
  }
  const aud = claims.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.some((a) => typeof a === "string" && (a === resource || canonicalUri(a) === resource))) {
    return `The access token was not issued for ${resource}`;
  }
  const exp = claims.exp;
  if (exp !== undefined && (typeof exp !== "number" || !(exp * 1000 > Date.now()))) return "The access token expired";
  // exp is in seconds; one in milliseconds would keep an expired token valid for millennia.
  if (typeof exp === "number" && exp > 1e11) return warnMs(), "The access token's exp is not in seconds";
  return undefined;
}

/**
 * Makes the server an OAuth 2.1 resource server for the tokens of
 * `authorizationServers`; see the module documentation for what the
 * handlers then do.
 *
 * @example Verifying JWT access tokens with `jose`
 * ```ts
 * import { createRemoteJWKSet, jwtVerify } from "jose";
 * import { McpServer, oauthResource, serve } from "./mod.ts";
 *
 * const issuer = "https://auth.example.com";
 * const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
 * const server = new McpServer({ name: "notes", version: "1.0.0" });
 * server.tool("add_note", { scopes: ["notes:write"] }, () => "added");
 *
 * serve(server, {
 *   oauth: oauthResource({
 *     resource: "https://mcp.example.com/mcp",
 *     authorizationServers: [issuer],
 *     scopesSupported: ["notes:read", "notes:write"],
 *     requiredScopes: ["notes:read"],
 *     verifyToken: async (token) => (await jwtVerify(token, jwks, { issuer, typ: "at+jwt" })).payload,
 *   }),
 * });
 * ```
 */
export function oauthResource(options: OAuthResourceOptions): OAuthResource {
  const resource = canonicalUri(options?.resource);
  if (resource === undefined) {
    throw new TypeError(
      `oauthResource: resource must be the server's absolute http(s) URL, without query or fragment (got ${
        JSON.stringify(options?.resource)
      })`,
    );
  }
  const servers = options.authorizationServers;
  if (!Array.isArray(servers) || !servers.length || !servers.every((s) => canonicalUri(s) !== undefined)) {
    throw new TypeError("oauthResource: authorizationServers must list at least one issuer URL (absolute http(s))");
  }
  if (typeof options.verifyToken !== "function") throw new TypeError("oauthResource: verifyToken must be a function");
  const supported = scopeList(options.scopesSupported, "scopesSupported");
  const required = scopeList(options.requiredScopes, "requiredScopes");
  const verifyToken = options.verifyToken;
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname;
  const metadataUrl = `${url.origin}${WELL_KNOWN}${path}`;
  const metadata = Object.freeze({
    ...options.metadata,
    resource,
    authorization_servers: [...servers],
    ...(supported.length ? { scopes_supported: supported } : {}),
    bearer_methods_supported: ["header"],
  });
  const body = JSON.stringify(metadata);
  const known = new Set([...supported, ...required]);
  const initialScope = required.length ? required : supported;
  let warned = false;
  let warnedMs = false;

  const challenge = (params: { error?: string; scope?: string; error_description?: string }) =>
    "Bearer " + Object.entries({
      error: params.error,
      resource_metadata: metadataUrl,
      scope: params.scope,
      error_description: params.error_description,
    })
      .filter(([, v]) => v !== undefined && v !== "")
      .map(([k, v]) => `${k}="${v}"`)
      .join(", ");
  const unauthorized = (error?: string, description?: string) =>
    refusal(401, description ?? "Unauthorized: send an OAuth access token (Authorization: Bearer)", {
      "WWW-Authenticate": challenge({ error, error_description: description, scope: initialScope.join(" ") }),
    });

  const self: OAuthResource = {
    resource,
    metadataUrl,
    metadata,
    metadataResponse(request) {
      const p = new URL(request.url).pathname;
      if (p !== WELL_KNOWN && p !== WELL_KNOWN + path) return undefined;
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
      }
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "content-type": "application/json" },
      });
    },
    async verify(request) {
      const header = request.headers.get("authorization");
      const m = header === null ? null : BEARER.exec(header);
      if (!m) {
        if (header === null || !/^bearer(\s|$)/i.test(header)) return unauthorized();
        return refusal(400, "Bad Request: send one token after Bearer (letters, digits and -._~+/ only)", {
          "WWW-Authenticate": challenge({ error: "invalid_request" }),
        });
      }
      let claims: unknown;
      try {
        claims = await verifyToken(m[1]);
      } catch (err) {
        // JOSE libraries throw for every bad token, but the first throw may show a misconfiguration: log it.
        if (!warned) {
          warned = true;
          console.error(
            "oauthResource: a token was refused with 401 as verifyToken threw (only the first is logged):",
            err,
          );
        }
        claims = undefined;
      }
      // A copy: CORS headers go on the answer, and a hook may hand out one Response object to many requests.
      if (claims instanceof Response) return new Response(claims.body, claims);
      const why = refuseClaims(claims, resource, () => {
        if (warnedMs) return;
        warnedMs = true;
        console.error("oauthResource: verifyToken gave an exp in milliseconds; JWT exp is in seconds (logged once)");
      });
      if (why) return unauthorized("invalid_token", why);
      const token = await tokenOf(claims as TokenClaims, m[1]);
      if (required.some((s) => !token.scopes.includes(s))) return self.insufficientScope(required, token);
      return token;
    },
    insufficientScope(requiredScopes, token, json) {
      // Scopes go into a quoted header parameter: a name that cannot is left out.
      const needed = requiredScopes.filter(isScopeToken);
      const granted = (token as { scopes?: unknown } | undefined)?.scopes;
      // What the token grants (of this server's scopes) and what is needed: a new token keeps the old powers.
      const had = Array.isArray(granted) ? granted.filter((s) => known.has(s) || !known.size) : [];
      const scope = [...new Set([...required, ...had.filter(isScopeToken), ...needed])].join(" ");
      const description = `The access token needs the scope${needed.length > 1 ? "s" : ""} ${needed.join(" ")}`;
      const headers = {
        "WWW-Authenticate": challenge({ error: "insufficient_scope", scope, error_description: description }),
      };
      if (json === undefined) return refusal(403, `Forbidden: ${description}`, headers);
      return new Response(json, { status: 403, headers: { "content-type": "application/json", ...headers } });
    },
  };
  return self;
}

/**
 * The verified token handlers see, bound to who it names so that a refreshed token keeps its sessions and
 * tasks: its subject (with issuer and client). A token with no subject names no user: the users of one
 * client would all share the client's id, so such a token is its own principal (by its hash; the token
 * itself is never kept). Give client-credentials tokens `sub` = the client id (RFC 9068) to keep sessions
 * across a refresh.
 */
async function tokenOf(claims: TokenClaims, raw: string): Promise<OAuthToken> {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const scope = claims.scope;
  const scopes = typeof scope === "string"
    ? scope.split(" ").filter((s) => s)
    : Array.isArray(scope)
    ? scope.filter((s): s is string => typeof s === "string")
    : [];
  const token: OAuthToken = Object.freeze({
    subject: str(claims.sub),
    clientId: str(claims.client_id),
    issuer: str(claims.iss),
    scopes: Object.freeze(scopes),
    expiresAt: typeof claims.exp === "number" ? claims.exp : undefined,
    claims: Object.freeze({ ...claims }),
  });
  if (token.subject !== undefined) {
    principals.set(token, JSON.stringify([token.issuer, token.subject, token.clientId]));
  } else {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)));
    principals.set(token, `token:${btoa(String.fromCharCode(...digest))}`);
  }
  return token;
}

/** RFC 8707's canonical form: lowercase scheme and host (URL does it), no lone trailing `/`; undefined if not one. */
function canonicalUri(uri: unknown): string | undefined {
  if (typeof uri !== "string") return undefined;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if ((u.protocol !== "https:" && u.protocol !== "http:") || uri.includes("#") || u.search || u.username) {
    return undefined;
  }
  return u.origin + (u.pathname === "/" ? "" : u.pathname);
}

function scopeList(list: readonly string[] | undefined, what: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every(isScopeToken)) {
    throw new TypeError(`oauthResource: ${what} must be an array of scope names (no spaces or quotes)`);
  }
  return [...list];
}

function refusal(status: number, text: string, headers: Record<string, string>): Response {
  return new Response(text + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
