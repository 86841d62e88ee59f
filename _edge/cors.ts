// CORS on the Streamable HTTP endpoint: what lets a page of another origin that `allowedOrigins` admits call the
// server from a browser. Its preflight (`OPTIONS`) is answered here, and every answer to it carries the headers that
// let the page read it. A refused origin gets 403 and none of them, so the browser blocks the call. Requests without
// `Origin` (servers, CLIs) never come here.
//
// No `Access-Control-Allow-Credentials`: MCP clients send their bearer token in `Authorization`, a header the page
// sets itself and the preflight allows. Cookies and HTTP authentication are what credentials mode would add, and
// leaving them out means no page can call this server with a visitor's ambient cookies.

const METHODS = "GET, POST, DELETE, OPTIONS";
// The request headers of MCP clients; 2026-07-28 adds Mcp-Method and Mcp-Name, and Mcp-Param-{name} headers that a
// tool's schema names, so every requested `Mcp-*` header is allowed too.
const HEADERS = [
  "Content-Type",
  "Accept",
  "Authorization",
  "Mcp-Session-Id",
  "MCP-Protocol-Version",
  "Last-Event-ID",
  "Mcp-Method",
  "Mcp-Name",
];
const LISTED = new Set(HEADERS.map((h) => h.toLowerCase()));
const ALLOW_HEADERS = HEADERS.join(", ");
// Response headers a page must read: the session id, the version, the challenge of a 401, and when to retry a 503.
const EXPOSE = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After";
// Seconds a browser may reuse a preflight: two hours, Chromium's cap.
const MAX_AGE = "7200";
// RFC 9110 token characters: anything else in Access-Control-Request-Headers is not a header name.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The headers allowed by a preflight: the listed ones, and any requested `Mcp-*` header. */
function allowedHeaders(requested: string | null): string {
  if (requested === null) return ALLOW_HEADERS;
  let out = ALLOW_HEADERS;
  for (const raw of requested.split(",")) {
    const name = raw.trim();
    const lower = name.toLowerCase();
    if (lower.startsWith("mcp-") && !LISTED.has(lower) && TOKEN.test(name)) out += `, ${name}`;
  }
  return out;
}

/** The answer to `OPTIONS` at the endpoint: a preflight from an admitted `origin`, or, without one, what it allows. */
export function preflight(req: Request, origin: string | null): Response {
  if (origin === null) return new Response(null, { status: 204, headers: { Allow: METHODS } });
  const headers: Record<string, string> = {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Methods": METHODS,
    "Access-Control-Allow-Headers": allowedHeaders(req.headers.get("access-control-request-headers")),
    "Access-Control-Max-Age": MAX_AGE,
    Vary: "Origin, Access-Control-Request-Headers",
  };
  // Chromium asks before a public page calls a server on this machine or network (Private Network Access); an
  // origin listed in allowedOrigins was let in on purpose.
  if (req.headers.get("access-control-request-private-network") === "true") {
    headers["Access-Control-Allow-Private-Network"] = "true";
  }
  return new Response(null, { status: 204, headers });
}

/** The methods the endpoint allows, for a 405. */
export const ALLOW = METHODS;

function addTo(h: Headers, origin: string): void {
  h.set("Access-Control-Allow-Origin", origin);
  const expose = h.get("Access-Control-Expose-Headers");
  h.set("Access-Control-Expose-Headers", expose ? `${expose}, ${EXPOSE}` : EXPOSE);
  const vary = h.get("Vary");
  if (vary === null) h.set("Vary", "Origin");
  else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(vary)) h.set("Vary", `${vary}, Origin`);
}

/** `res` with the CORS headers for the admitted `origin`: JSON, SSE, 202 and errors alike. */
export function withCors(res: Response, origin: string): Response {
  if (res.headers.get("Access-Control-Allow-Origin") === origin) return res; // answered so by a cluster's owner
  try {
    addTo(res.headers, origin);
    return res;
  } catch {
    // Immutable headers: a Response.redirect(), or a fetch() answer an authenticate hook returned as is.
    try {
      const copy = new Response(res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
      addTo(copy.headers, origin);
      return copy;
    } catch {
      return res; // Response.error(): nothing to add to
    }
  }
}
