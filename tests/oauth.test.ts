// The OAuth 2.1 resource server (oauth.ts). End to end: a real authorization server (oidc-provider under
// Node, tests/testdata/oauth_as.mjs) issues JWT access tokens by client_credentials; examples/oauth.ts verifies them
// with jose on this runtime; the official SDK client discovers everything from the 401 over Streamable
// HTTP, and the library's own client carries tokens over WebSocket. In process, with a verifyToken that
// looks tokens up in a table: the checks the library makes itself (audience, expiry, scopes, sessions).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  ErrorCode,
  mcpHandler,
  McpServer,
  oauthResource,
  type OAuthResourceOptions,
  type OAuthToken,
  type ServeHandle,
  type TokenClaims,
} from "../mod.ts";
import { connect, McpClientError } from "../client.ts";
import {
  closedPort,
  deferred,
  type Frame,
  launch,
  type Launched,
  listening,
  openHttpSession,
  runtimeName,
  sseMessages,
  start,
  waitFor,
  within,
} from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const JSON_AND_SSE = "application/json, text/event-stream";
const V = "2026-07-28";
const modernMeta = {
  "io.modelcontextprotocol/protocolVersion": V,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "oauth-test", version: "1" },
};

/** POSTs one JSON-RPC message; `token` goes in `Authorization: Bearer`. */
function post(
  url: string | URL,
  body: Record<string, unknown>,
  token?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: JSON_AND_SSE,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", ...body }),
  });
}

/** The JSON-RPC answer in a response, JSON or SSE. */
async function answerOf(res: Response): Promise<Frame> {
  const text = await res.text();
  const frames = res.headers.get("content-type")?.startsWith("text/event-stream")
    ? sseMessages(text)
    : [JSON.parse(text)];
  return frames.find((f) => f.id !== undefined && f.method === undefined)!;
}

const initialize = {
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};
const call = (name: string, args: Record<string, unknown> = {}, id = 2) => ({
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const modernCall = (name: string, args: Record<string, unknown> = {}) => ({
  id: 7,
  method: "tools/call",
  params: { name, arguments: args, _meta: modernMeta },
});
const modernHeaders = { "mcp-protocol-version": V, "mcp-method": "tools/call" };

/** A WebSocket upgrade by hand, for what a refused upgrade answers (a WebSocket object shows no status). */
async function upgrade(url: string, token?: string): Promise<Response> {
  const res = await fetch(url, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-protocol": "mcp",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
  });
  await res.body?.cancel();
  return res;
}

/** The claims of a JWT, unverified: what the authorization server put in it. */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(atob(jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
}

// ---------------------------------------------------------------------------
// End to end: oidc-provider, examples/oauth.ts, the official SDK client.

describe(`examples/oauth.ts on ${runtimeName}, tokens from oidc-provider`, () => {
  let as: Launched;
  let example: Launched;
  let issuer: string;
  let mcp: string;
  let prm: string;

  before(async () => {
    as = await launch("node", ["tests/testdata/oauth_as.mjs"], { cwd: ROOT, timeout: 600_000 });
    await waitFor(() => /listening \d+/.test(as.stdout) || as.stderr.includes("Error"), "the authorization server");
    const m = /listening (\d+)/.exec(as.stdout);
    assert.ok(m, `the authorization server did not start:\n${as.stderr}`);
    issuer = `http://127.0.0.1:${m[1]}`;
    const port = await closedPort();
    mcp = `http://127.0.0.1:${port}/mcp`;
    prm = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
    const args = runtimeName === "deno"
      ? ["run", "--allow-net", "--allow-env", "examples/oauth.ts"]
      : ["run", "examples/oauth.ts"];
    example = await launch(process.execPath, args, {
      cwd: ROOT,
      env: { ISSUER: issuer, PORT: String(port) },
      timeout: 600_000,
    });
    await listening(port, example);
  });
  after(async () => {
    await example?.kill();
    await as?.kill();
  });

  /** An access token from the authorization server, by client_credentials, for `resource`. */
  async function token(client: string, scope: string, resource = mcp): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${client}:${client}-secret`)}` },
      body: new URLSearchParams({ grant_type: "client_credentials", scope, resource }),
    });
    const body = await res.json() as { access_token?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.access_token!;
  }

  /** The official SDK client over Streamable HTTP with a client_credentials provider; `log` records every fetch. */
  async function sdkClient(clientId: string, scope: string, log: string[], headers?: Map<string, Headers>) {
    const provider = new ClientCredentialsProvider({
      clientId,
      clientSecret: `${clientId}-secret`,
      scope,
      expectedIssuer: issuer,
    });
    const logged: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const line = `${init?.method ?? "GET"} ${String(input)} ${res.status}`;
      log.push(line);
      headers?.set(`${log.length - 1}`, res.headers);
      return res;
    };
    const transport = new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider, fetch: logged });
    const client = new Client({ name: "oauth-sdk", version: "1.0.0" });
    await within(client.connect(transport), 20_000, "the SDK client connects");
    return { client, provider };
  }

  test("the metadata document, at the path-suffixed and at the root well-known URL", async () => {
    const expected = {
      resource: mcp,
      authorization_servers: [issuer],
      scopes_supported: ["notes:read", "notes:write"],
      bearer_methods_supported: ["header"],
    };
    for (const url of [prm, new URL("/.well-known/oauth-protected-resource", mcp).href]) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.deepEqual(await res.json(), expected, url);
    }
    const other = await fetch(new URL("/.well-known/oauth-protected-resource/other", mcp));
    assert.equal(other.status, 404);
    await other.body?.cancel();
    const wrongMethod = await fetch(prm, { method: "POST", body: "{}" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "GET, HEAD");
    await wrongMethod.body?.cancel();
  });

  test("no token: 401 with resource_metadata and scope, over HTTP (both versions) and at the WebSocket upgrade", async () => {
    const challenge = `Bearer resource_metadata="${prm}", scope="notes:read"`;
    const http = await post(mcp, initialize);
    assert.equal(http.status, 401);
    assert.equal(http.headers.get("www-authenticate"), challenge);
    await http.body?.cancel();
    const modern = await post(mcp, modernCall("list_notes"), undefined, modernHeaders);
    assert.equal(modern.status, 401);
    assert.equal(modern.headers.get("www-authenticate"), challenge);
    await modern.body?.cancel();
    const ws = await upgrade(mcp);
    assert.equal(ws.status, 401);
    assert.equal(ws.headers.get("www-authenticate"), challenge);
    // Another scheme is no token either.
    const basic = await post(mcp, initialize, undefined, { authorization: "Basic YTpi" });
    assert.equal(basic.status, 401);
    assert.equal(basic.headers.get("www-authenticate"), challenge);
    await basic.body?.cancel();
  });

  test("the official SDK client goes from the 401 to the metadata, the authorization server and a token", async () => {
    const log: string[] = [];
    const { client, provider } = await sdkClient("agent", "notes:read notes:write", log);
    try {
      assert.deepEqual(log.slice(0, 5), [
        `POST ${mcp} 401`,
        `GET ${prm} 200`,
        `GET ${issuer}/.well-known/oauth-authorization-server 200`,
        `POST ${issuer}/token 200`,
        `POST ${mcp} 200`,
      ]);
      const jwt = provider.tokens()!.access_token;
      assert.equal(claimsOf(jwt).aud, mcp, "the SDK asked for a token for the server's canonical URI (RFC 8707)");
      const who = await client.callTool({ name: "whoami", arguments: {} }) as { structuredContent: OAuthToken };
      assert.equal(who.structuredContent.subject, "agent");
      assert.equal(who.structuredContent.clientId, "agent");
      assert.deepEqual(who.structuredContent.scopes, ["notes:read", "notes:write"]);
      assert.equal(who.structuredContent.expiresAt, claimsOf(jwt).exp);
      const added = await client.callTool({ name: "add_note", arguments: { text: "from the SDK" } });
      assert.match((added as { content: { text: string }[] }).content[0].text, /^note \d+ added by agent$/);
      const listed = await client.callTool({ name: "list_notes", arguments: {} });
      assert.match((listed as { content: { text: string }[] }).content[0].text, /from the SDK/);
    } finally {
      await client.close();
    }
  });

  test("a tool's missing scope: 403 with a scope challenge, which the SDK client acts on", async () => {
    const log: string[] = [];
    const headers = new Map<string, Headers>();
    const { client } = await sdkClient("reader", "notes:read", log, headers);
    try {
      const listed = await client.callTool({ name: "list_notes", arguments: {} });
      assert.ok((listed as { isError?: boolean }).isError !== true);
      const before = log.length;
      await assert.rejects(
        client.callTool({ name: "add_note", arguments: { text: "x" } }),
        /403 after trying upscoping/,
        "the SDK asked for a new token once, got the same scopes (client_credentials asks for its configured scope), and gave up",
      );
      const forbidden = log.findIndex((l, i) => i >= before && l === `POST ${mcp} 403`);
      assert.ok(forbidden >= 0, log.join("\n"));
      assert.equal(
        headers.get(String(forbidden))!.get("www-authenticate"),
        `Bearer error="insufficient_scope", resource_metadata="${prm}", scope="notes:read notes:write", ` +
          `error_description="The access token needs the scope notes:write"`,
      );
      assert.ok(log.slice(forbidden).includes(`POST ${issuer}/token 200`), "it stepped up: a new token request");
    } finally {
      await client.close();
    }
  });

  test("stepping up in one HTTP session: the token with the challenged scope is taken on the next request", async () => {
    const reader = await token("agent", "notes:read");
    const init = await post(mcp, initialize, reader);
    assert.equal(init.status, 200);
    const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await init.body?.cancel();
    const refused = await post(mcp, call("add_note", { text: "stepped up" }), reader, session);
    assert.equal(refused.status, 403);
    const challenge = refused.headers.get("www-authenticate")!;
    const scope = /scope="([^"]+)"/.exec(challenge)![1];
    assert.equal(scope, "notes:read notes:write");
    const error = (await refused.json()).error;
    assert.equal(error.code, ErrorCode.InsufficientScope);
    assert.deepEqual(error.data, { requiredScopes: ["notes:write"] });
    const writer = await token("agent", scope);
    const added = await answerOf(await post(mcp, call("add_note", { text: "stepped up" }, 3), writer, session));
    assert.match(added.result?.content?.[0]?.text, /added by agent/);
    // The old token still serves what it grants, in the same session.
    const listed = await answerOf(await post(mcp, call("list_notes", {}, 4), reader, session));
    assert.match(listed.result?.content?.[0]?.text, /stepped up/);
  });

  test("a token issued for another resource is refused with 401 invalid_token (RFC 8707)", async () => {
    const elsewhere = await token("agent", "notes:read notes:write", "http://127.0.0.1:9/mcp");
    assert.equal(claimsOf(elsewhere).aud, "http://127.0.0.1:9/mcp");
    const expected = `Bearer error="invalid_token", resource_metadata="${prm}", scope="notes:read", ` +
      `error_description="The access token was not issued for ${mcp}"`;
    for (const res of [await post(mcp, initialize, elsewhere), await upgrade(mcp, elsewhere)]) {
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), expected);
      await res.body?.cancel();
    }
    const ws = connect(mcp.replace("http:", "ws:"), {
      headers: { authorization: `Bearer ${elsewhere}` },
      timeout: 5000,
    });
    await assert.rejects(ws);
  });

  test("a token signed by someone else is refused with 401", async () => {
    const good = await token("agent", "notes:read");
    const [h, p] = good.split(".");
    const forged = `${h}.${p}.${"A".repeat(342)}`;
    const res = await post(mcp, initialize, forged);
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate")!, /error="invalid_token"/);
    await res.body?.cancel();
  });

  test("a token without a scope every request needs: 403 insufficient_scope, HTTP and WebSocket", async () => {
    const writeOnly = await token("agent", "notes:write");
    const expected = `Bearer error="insufficient_scope", resource_metadata="${prm}", scope="notes:read notes:write", ` +
      `error_description="The access token needs the scope notes:read"`;
    for (const res of [await post(mcp, initialize, writeOnly), await upgrade(mcp, writeOnly)]) {
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("www-authenticate"), expected);
      await res.body?.cancel();
    }
  });

  test("WebSocket: the token at the upgrade is ctx.auth; a tool's missing scope is a JSON-RPC error", async () => {
    const reader = await token("reader", "notes:read");
    const client = await connect(mcp.replace("http:", "ws:"), {
      headers: { authorization: `Bearer ${reader}` },
      timeout: 10_000,
    });
    try {
      const who = await client.callTool("whoami", {});
      assert.deepEqual((who.structuredContent as unknown as OAuthToken).scopes, ["notes:read"]);
      const err = await client.callTool("add_note", { text: "x" }).then(() => undefined, (e) => e);
      assert.ok(err instanceof McpClientError, String(err));
      assert.equal(err.code, ErrorCode.InsufficientScope);
      assert.equal(
        err.message,
        "Insufficient scope: tool add_note needs the scope notes:write, which the access token does not grant; " +
          "use a token that grants it",
      );
      assert.deepEqual(err.data, { requiredScopes: ["notes:write"] });
      assert.equal(client.state, "open", "the connection goes on");
    } finally {
      await client.close();
    }
  });

  test("2026-07-28 over HTTP: the same token checks, and 403 with a challenge for a tool's scope", async () => {
    const reader = await token("reader", "notes:read");
    const listed = await post(mcp, modernCall("list_notes"), reader, modernHeaders);
    assert.equal(listed.status, 200);
    assert.equal((await answerOf(listed)).result?.resultType, "complete");
    const refused = await post(mcp, modernCall("add_note", { text: "x" }), reader, modernHeaders);
    assert.equal(refused.status, 403);
    assert.match(
      refused.headers.get("www-authenticate")!,
      /^Bearer error="insufficient_scope", .*scope="notes:read notes:write"/,
    );
    assert.equal((await refused.json()).error.code, ErrorCode.InsufficientScope);
    const elsewhere = await token("agent", "notes:read", "http://127.0.0.1:9/mcp");
    const wrongAudience = await post(mcp, modernCall("list_notes"), elsewhere, modernHeaders);
    assert.equal(wrongAudience.status, 401);
    await wrongAudience.body?.cancel();
  });

  test("a WebSocket closes with 4401 when its token expires; the expired token is then refused", async () => {
    const brief = await token("brief", "notes:read notes:write"); // lives 2 s
    const exp = claimsOf(brief).exp as number;
    const client = await connect(mcp.replace("http:", "ws:"), {
      headers: { authorization: `Bearer ${brief}` },
      timeout: 10_000,
    });
    const who = await client.callTool("whoami", {});
    assert.equal((who.structuredContent as unknown as OAuthToken).expiresAt, exp);
    const closed = await within(client.closed, 10_000, "the socket closes at expiry");
    assert.deepEqual(closed, { code: 4401, reason: "access token expired" });
    assert.ok(Date.now() >= exp * 1000 - 50, "not before the token expired");
    const http = await post(mcp, initialize, brief);
    assert.equal(http.status, 401);
    assert.match(http.headers.get("www-authenticate")!, /error="invalid_token"/);
    await http.body?.cancel();
    assert.equal((await upgrade(mcp, brief)).status, 401);
  });
});

// ---------------------------------------------------------------------------
// In process: the checks the library makes, with tokens looked up in a table.

function notesServer(): McpServer {
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.tool("read", {}, (_args, ctx) => `read by ${(ctx.auth as OAuthToken).subject}`);
  server.tool("write", { scopes: ["notes:write"] }, () => "written");
  return server;
}

/** A resource whose tokens are the keys of `table`. */
function tableResource(
  url: string,
  table: Record<string, TokenClaims | Response>,
  extra: Partial<OAuthResourceOptions> = {},
) {
  return oauthResource({
    resource: url,
    authorizationServers: ["https://auth.example.com"],
    scopesSupported: ["notes:read", "notes:write"],
    verifyToken: (t) => table[t],
    ...extra,
  });
}

describe("oauthResource in process", () => {
  const future = () => Math.floor(Date.now() / 1000) + 3600;
  let h: ServeHandle;
  let table: Record<string, TokenClaims | Response>;
  before(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/mcp`;
    table = {};
    h = start(notesServer(), { port, oauth: tableResource(url, table) });
  });
  after(() => h.close({ timeout: 100 }));

  test("the audience is compared in canonical form; a token without one is refused", async () => {
    const canonical = h.httpUrl.href;
    const upper = canonical.replace("http://", "HTTP://");
    table.upper = { aud: upper, exp: future(), sub: "a", scope: "notes:read" };
    table.list = { aud: ["https://other.example", canonical], exp: future(), sub: "a" };
    table.none = { exp: future(), sub: "a" };
    table.prefix = { aud: canonical + "/more", exp: future(), sub: "a" };
    table.inactive = { aud: canonical, active: false, sub: "a" };
    table.inactiveText = { aud: canonical, active: "false", sub: "a" } as unknown as TokenClaims;
    table.msExp = { aud: canonical, exp: Date.now() - 3_600_000, sub: "a" }; // exp in ms, an hour ago
    table.noexp = { aud: canonical, sub: "a" };
    for (const t of ["upper", "list", "noexp"]) {
      const res = await post(h.httpUrl, initialize, t);
      assert.equal(res.status, 200, t);
      await res.body?.cancel();
    }
    for (const t of ["none", "prefix", "inactive", "inactiveText", "msExp", "unknown"]) {
      const res = await post(h.httpUrl, initialize, t);
      assert.equal(res.status, 401, t);
      assert.match(res.headers.get("www-authenticate")!, /error="invalid_token"/, t);
      await res.body?.cancel();
    }
  });

  test("WebSocket: a token expiring beyond a timer's reach (24.8 days) does not close the socket early", async () => {
    table.far = { aud: h.httpUrl.href, exp: Math.floor(Date.now() / 1000) + 40 * 86400, sub: "far" };
    const client = await connect(h.url, { headers: { authorization: "Bearer far" }, timeout: 5000 });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await client.callTool("read", {})).content[0].type, "text");
      assert.equal(client.state, "open");
    } finally {
      await client.close();
    }
  });

  test("WebSocket: closed with 4401 at expiry, the client reconnects with a fresh token from its headers function", async () => {
    table.short = { aud: h.httpUrl.href, exp: Math.floor(Date.now() / 1000) + 2, sub: "renewing" };
    table.renewed = { aud: h.httpUrl.href, exp: Math.floor(Date.now() / 1000) + 3600, sub: "renewing" };
    let token = "short";
    const dropped = deferred<{ code: number; reason: string }>();
    const back = deferred();
    const client = await connect(h.url, {
      headers: () => ({ authorization: `Bearer ${token}` }),
      reconnect: { minDelay: 10, maxDelay: 100 },
      onDisconnect: (info) => dropped.resolve(info),
      onReconnect: () => back.resolve(),
      timeout: 5000,
    });
    try {
      token = "renewed"; // what the app's token source gives from now on
      const info = await within(dropped.promise, 10_000, "the close at expiry");
      assert.equal(info.code, 4401);
      await within(back.promise, 10_000, "the reconnection");
      assert.equal((await client.callTool("read", {})).content[0].type, "text");
      assert.equal(client.state, "open");
    } finally {
      await client.close();
    }
  });

  test("a malformed Authorization header is a 400 invalid_request", async () => {
    const res = await post(h.httpUrl, initialize, undefined, { authorization: "Bearer two words" });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("www-authenticate")!, /^Bearer error="invalid_request"/);
    await res.body?.cancel();
  });

  test("verifyToken's own Response is the answer", async () => {
    table.down = new Response("key set unreachable", { status: 503, headers: { "retry-after": "1" } });
    const res = await post(h.httpUrl, initialize, "down");
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "key set unreachable");
  });

  test("an HTTP session belongs to who the token names: a refreshed token keeps it, another subject gets 404", async () => {
    const aud = h.httpUrl.href;
    table.alice1 = { aud, exp: future(), sub: "alice", client_id: "c", scope: "notes:read" };
    table.alice2 = { aud, exp: future() + 60, sub: "alice", client_id: "c", scope: "notes:read notes:write" };
    table.bob = { aud, exp: future(), sub: "bob", client_id: "c", scope: "notes:read notes:write" };
    const init = await post(h.httpUrl, initialize, "alice1");
    const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await init.body?.cancel();
    const refused = await post(h.httpUrl, call("write"), "alice1", session);
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    // A client that takes only SSE gets the 403 too: the refusal is known before any stream starts.
    const sseOnly = await post(h.httpUrl, call("write", {}, 9), "alice1", { ...session, accept: "text/event-stream" });
    assert.equal(sseOnly.status, 403);
    assert.equal((await sseOnly.json()).error.code, ErrorCode.InsufficientScope);
    const written = await answerOf(await post(h.httpUrl, call("write", {}, 3), "alice2", session));
    assert.equal(written.result?.content?.[0]?.text, "written");
    const read = await answerOf(await post(h.httpUrl, call("read", {}, 4), "alice1", session));
    assert.equal(read.result?.content?.[0]?.text, "read by alice");
    const other = await post(h.httpUrl, call("read", {}, 5), "bob", session);
    assert.equal(other.status, 404);
    await other.body?.cancel();
  });

  test("tokens without sub are each their own principal: one user of an app cannot take another's session", async () => {
    const aud = h.httpUrl.href;
    table.appAlice = { aud, exp: future(), client_id: "https://app.example/client.json", scope: "notes:read" };
    table.appBob = { aud, exp: future(), client_id: "https://app.example/client.json", scope: "notes:read" };
    const init = await post(h.httpUrl, initialize, "appAlice");
    const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await init.body?.cancel();
    const mine = await answerOf(await post(h.httpUrl, call("read", {}, 4), "appAlice", session));
    assert.ok(mine.result, JSON.stringify(mine));
    const other = await post(h.httpUrl, call("read", {}, 5), "appBob", session);
    assert.equal(other.status, 404);
    await other.body?.cancel();
  });

  test("an SSE stream ends when the token that opened it expires", async () => {
    const aud = h.httpUrl.href;
    table.brief = { aud, exp: Math.floor(Date.now() / 1000) + 2, sub: "brief", scope: "notes:read" };
    const init = await post(h.httpUrl, initialize, "brief");
    const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await init.body?.cancel();
    const stream = await fetch(h.httpUrl, {
      headers: { ...session, accept: "text/event-stream", authorization: "Bearer brief" },
    });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    // The stream ends by itself (the read resolves done) once the token has expired; a later request gets 401.
    for (;;) if ((await reader.read()).done) break;
    assert.ok(Date.now() / 1000 >= (table.brief as TokenClaims).exp!, "not before the token expired");
    const late = await post(h.httpUrl, call("read", {}, 6), "brief", session);
    assert.equal(late.status, 401);
    await late.body?.cancel();
  });

  test("a tool with scopes, on a connection without OAuth, is refused with the same error", async () => {
    const plain = start(notesServer());
    try {
      const headers = await openHttpSession(plain.httpUrl);
      const res = await post(plain.httpUrl, call("write"), undefined, headers);
      assert.equal(res.status, 200, "no OAuth, no 403: the error is in the JSON-RPC answer");
      const err = (await answerOf(res)).error!;
      assert.equal(err.code, ErrorCode.InsufficientScope);
      assert.match(err.message, /needs the scope notes:write, and this connection has no OAuth token/);
    } finally {
      await plain.close({ timeout: 100 });
    }
  });

  test("a handler may require scopes itself: its InsufficientScope error is a 403 with the challenge", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const server = new McpServer({ name: "admin", version: "1.0.0" });
    server.tool("purge", {}, async () => {
      await Promise.resolve();
      const { McpError } = await import("../mod.ts");
      throw new McpError(ErrorCode.InsufficientScope, "purging needs notes:admin", { requiredScopes: ["notes:admin"] });
    });
    const own = { t: { aud: url, exp: future(), sub: "a", scope: "notes:read" } };
    const handle = start(server, { port, oauth: tableResource(url, own) });
    try {
      const init = await post(url, initialize, "t");
      const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
      await init.body?.cancel();
      // JSON only: the answer waits for the handler, and is still a 403.
      const res = await post(url, call("purge"), "t", { ...session, accept: "application/json" });
      assert.equal(res.status, 403);
      assert.match(res.headers.get("www-authenticate")!, /scope="notes:read notes:admin"/);
      assert.equal((await res.json()).error.message, "purging needs notes:admin");
    } finally {
      await handle.close({ timeout: 100 });
    }
  });

  test("mcpHandler mounted on another path serves the metadata for the resource's path", async () => {
    const server = notesServer();
    const oauth = tableResource("HTTPS://MCP.example.com:443/api/mcp", {});
    assert.equal(oauth.resource, "https://mcp.example.com/api/mcp");
    assert.equal(oauth.metadataUrl, "https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp");
    const handler = mcpHandler(server, { path: "/api/mcp", oauth });
    for (const path of ["/.well-known/oauth-protected-resource/api/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await handler.fetch(new Request(`http://127.0.0.1${path}`));
      assert.equal(res.status, 200, path);
      assert.equal((await res.json()).resource, "https://mcp.example.com/api/mcp");
    }
    const res = await handler.fetch(new Request("http://127.0.0.1/.well-known/oauth-protected-resource/mcp"));
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.equal(oauth.metadataResponse(new Request("http://127.0.0.1/elsewhere")), undefined);
    await handler.close({ timeout: 100 });
  });

  test("bad options are refused at once, saying what is wrong", () => {
    const ok: OAuthResourceOptions = {
      resource: "https://mcp.example.com/mcp",
      authorizationServers: ["https://auth.example.com"],
      verifyToken: () => undefined,
    };
    const cases: [Partial<OAuthResourceOptions>, RegExp][] = [
      [{ resource: "mcp.example.com" }, /resource must be the server's absolute http\(s\) URL/],
      [{ resource: "https://mcp.example.com/mcp#x" }, /without query or fragment/],
      [{ resource: "https://mcp.example.com/mcp?a=1" }, /without query or fragment/],
      [{ authorizationServers: [] }, /authorizationServers must list at least one/],
      [{ scopesSupported: ["two words"] }, /scopesSupported must be an array of scope names/],
      [{ requiredScopes: ['quo"te'] }, /requiredScopes must be an array of scope names/],
      [{ verifyToken: undefined as never }, /verifyToken must be a function/],
    ];
    for (const [change, message] of cases) assert.throws(() => oauthResource({ ...ok, ...change }), message);
    const oauth = oauthResource(ok);
    assert.throws(
      () => mcpHandler(notesServer(), { oauth, authenticate: () => "x" }),
      /pass either oauth or authenticate, not both/,
    );
    assert.throws(
      () => new McpServer({ name: "s", version: "1" }).tool("t", { scopes: ["a b"] }, () => ""),
      /scopes of tool "t" must be an array of OAuth scope names/,
    );
  });
});
