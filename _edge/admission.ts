// What every transport does at its edge, whatever it carries: admitting a request (Origin check, then
// the authenticate hook or the OAuth token check), short plain answers (404, 426, what the endpoint
// is, the OAuth metadata), finding the runtime, and a shutdown that drains sessions against a deadline.

import type { Session } from "../session.ts";
import type { McpServer } from "../server.ts";
import type { OAuthResource } from "../oauth.ts";
import { waitAtMost } from "../_util/timers.ts";

/** The admission options every HTTP-based transport shares. */
export interface AdmissionOptions {
  allowedOrigins?: string[] | "*" | ((origin: string) => boolean);
  authenticate?: (request: Request) => unknown;
  realm?: string;
  oauth?: OAuthResource;
}

/** What admission found: who the client is, and (an OAuth token's) when that stops holding, in ms since the epoch. */
export interface Admission {
  auth: unknown;
  expires?: number;
}

/** Refuses options that admit in two ways at once. */
export function checkAdmissionOptions(options: AdmissionOptions): void {
  if (options.oauth && options.authenticate) {
    throw new TypeError("pass either oauth or authenticate, not both: oauth authenticates every request itself");
  }
}

/** With `oauth`, the answer for a path other than the endpoint's: its metadata document, if it asks for it. */
export function otherPath(req: Request, path: string, options: AdmissionOptions): Response {
  return options.oauth?.metadataResponse(req) ?? notFound(path);
}

// deno-lint-ignore no-explicit-any
type Api = any;
/** The runtime's globals, where present: `Deno` or `Bun`. */
export const runtime: { Deno?: Api; Bun?: Api } = globalThis as never;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The origin predicate for an `allowedOrigins` option: by default, loopback origins only. */
export function originCheck(allowed: AdmissionOptions["allowedOrigins"]): (origin: string) => boolean {
  if (allowed === "*") return () => true;
  if (typeof allowed === "function") return allowed;
  if (Array.isArray(allowed)) {
    const set = new Set(allowed);
    return (o) => set.has(o);
  }
  return (o) => {
    try {
      const u = new URL(o);
      return (u.protocol === "http:" || u.protocol === "https:") && LOOPBACK.has(u.hostname);
    } catch {
      return false;
    }
  };
}

/**
 * The Origin check (403), then the `authenticate` hook (401 with
 * `WWW-Authenticate`, or the hook's own Response) or the OAuth token check
 * (401 or 403 with a challenge). Gives the auth result when admitted: at
 * once without either, so that most requests take no promise hop here.
 */
export function checkRequest(
  req: Request,
  originAllowed: (origin: string) => boolean,
  options: AdmissionOptions,
): Response | Admission | Promise<Response | Admission> {
  const origin = req.headers.get("origin");
  if (origin !== null && !originAllowed(origin)) return originRefused(origin);
  return admit(req, options);
}

/** The 403 for an `Origin` that `allowedOrigins` does not admit. */
export function originRefused(origin: string): Response {
  return text(403, `Origin ${origin} is not allowed`);
}

/**
 * The `authenticate` hook or the OAuth token check alone, for a request
 * whose Origin was checked already; see {@linkcode checkRequest}.
 */
export function admit(
  req: Request,
  options: AdmissionOptions,
): Response | Admission | Promise<Response | Admission> {
  if (options.oauth) return admitToken(req, options.oauth);
  if (!options.authenticate) return NO_AUTH;
  return authenticate(req, options.authenticate, options.realm);
}

async function admitToken(req: Request, oauth: OAuthResource): Promise<Response | Admission> {
  const token = await oauth.verify(req);
  if (token instanceof Response) return token;
  return { auth: token, expires: token.expiresAt === undefined ? undefined : token.expiresAt * 1000 };
}

const NO_AUTH = Object.freeze({ auth: undefined });

async function authenticate(
  req: Request,
  hook: (request: Request) => unknown,
  realm = "mcp",
): Promise<Response | Admission> {
  let auth: unknown;
  try {
    auth = await hook(req);
  } catch (err) {
    // A throw refuses the request like `undefined` does, but is most likely a bug: say so, once per hook.
    if (!warnedThrow.has(hook)) {
      warnedThrow.add(hook);
      console.error("authenticate threw, so the request was refused with 401 (logged once):", err);
    }
    auth = undefined;
  }
  // A copy: CORS headers go on the answer, and a hook may hand out one Response object to many requests.
  if (auth instanceof Response) return new Response(auth.body, auth);
  if (auth === undefined || auth === null || auth === false) {
    return text(401, "Unauthorized", { "WWW-Authenticate": `Bearer realm="${realm}"` });
  }
  return { auth };
}

const warnedThrow = new WeakSet<object>();

/**
 * The endpoint's public URLs as the client reached it (behind a TLS proxy,
 * `X-Forwarded-Proto: https` makes them https and wss).
 */
export function endpointUrls(req: Request): { http: string; ws: string } {
  const url = new URL(req.url);
  url.search = url.hash = "";
  if (req.headers.get("x-forwarded-proto")?.toLowerCase() === "https") url.protocol = "https:";
  return { http: url.href, ws: `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}${url.pathname}` };
}

/**
 * Whether the request is for `path`. The raw URL is compared first, which
 * spares parsing it on every request; anything else (encoded or dotted
 * segments) is left to URL's own normalization.
 */
export function isPath(req: Request, path: string): boolean {
  const url = req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start > 0 && url.startsWith(path, start)) {
    const next = url.charCodeAt(start + path.length);
    if (next !== next || next === 63 || next === 35) return true; // end, "?" or "#"
  }
  return new URL(url).pathname === path;
}

/** The 404 for a path other than the endpoint's, naming it. */
export function notFound(path: string): Response {
  return text(404, `Not Found: the MCP endpoint is ${path}`);
}

/** A short plain answer for a person who opens the endpoint: what it is and how to connect. */
export function endpointInfo(req: Request, server: McpServer, websocket: boolean): Response {
  const urls = endpointUrls(req);
  const { name, version } = server.serverInfo;
  const lines = [
    `This is an MCP (Model Context Protocol) server endpoint: ${name} ${version}.`,
    "It speaks JSON-RPC to MCP clients, not to browsers. Connect an MCP client to",
    ...(websocket ? [`  ${urls.ws}  (WebSocket, subprotocol "mcp")`] : []),
    `  ${urls.http}  (Streamable HTTP: POST an initialize request)`,
  ];
  return new Response(lines.join("\n") + "\n", {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** A short plain-text response. */
export function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

/**
 * Graceful shutdown of sessions: each stops taking requests, those in flight
 * get up to `timeout` to finish, and whatever still runs then is aborted.
 */
export async function drainSessions(sessions: Iterable<Session>, timeout: number): Promise<void> {
  const all = [...sessions];
  await waitAtMost(Promise.all(all.map((s) => s.drain())), timeout);
  for (const s of all) s.abortAll("The server is shutting down");
}
