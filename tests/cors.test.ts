// CORS on the Streamable HTTP endpoint (issue 14): preflights and the headers on every answer, checked with fetch for
// each form of allowedOrigins; then headless Chromium, where a page of another origin calls the server over HTTP and
// a page of a refused origin is blocked by the browser.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearerAuth, httpHandler, type HttpOptions, McpServer, oauthResource, type ServeHandle } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import { chromiumSkip, closedPort, dumpDom, initializeBody, sseMessages, start } from "./testdata/helpers.ts";

const APP = "https://app.example.com";
const EVIL = "https://evil.example";
const TOKEN = "s3cret-token";
const V = "2026-07-28";

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;

interface Listening {
  url: URL;
  close(): Promise<void>;
}

/** Serves a fetch handler on a free loopback port, on Deno or Bun. */
function listen(fetch: (req: Request) => Promise<Response>): Listening {
  if (rt.Bun) {
    const s = rt.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
    return { url: new URL(`http://127.0.0.1:${s.port}/mcp`), close: async () => void (await s.stop(true)) };
  }
  const s = rt.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fetch);
  return { url: new URL(`http://127.0.0.1:${s.addr.port}/mcp`), close: () => s.shutdown() };
}

const JSON_SSE = { "content-type": "application/json", accept: "application/json, text/event-stream" };

function post(url: URL | string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { ...JSON_SSE, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function preflight(url: URL | string, origin: string | null, method = "POST", headers = ""): Promise<Response> {
  const h: Record<string, string> = { "access-control-request-method": method };
  if (origin !== null) h.origin = origin;
  if (headers) h["access-control-request-headers"] = headers;
  return fetch(url, { method: "OPTIONS", headers: h });
}

/** The access-control-* headers of a response. */
function corsHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k.startsWith("access-control-")) out[k] = v;
  });
  return out;
}

const list = (v: string | null) => (v ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);

/** Asserts that `res` lets a page of `origin` read it: what every answer to an admitted origin carries. */
function assertReadable(res: Response, origin: string, what: string): void {
  assert.equal(res.headers.get("access-control-allow-origin"), origin, `${what}: Access-Control-Allow-Origin`);
  assert.equal(res.headers.get("access-control-allow-credentials"), null, `${what}: no credentials`);
  assert.deepEqual(list(res.headers.get("vary")).filter((v) => v === "origin"), ["origin"], `${what}: Vary: Origin`);
  const exposed = list(res.headers.get("access-control-expose-headers"));
  for (const h of ["mcp-session-id", "mcp-protocol-version", "www-authenticate"]) {
    assert.ok(exposed.includes(h), `${what}: ${h} is exposed (${exposed})`);
  }
}

describe("CORS: an origin in allowedOrigins", () => {
  let h: ServeHandle;
  const auth = { authorization: `Bearer ${TOKEN}` };
  before(() => {
    h = start(createServer(), { allowedOrigins: [APP], authenticate: bearerAuth({ token: TOKEN }) });
  });
  after(() => h.close({ timeout: 100 }));

  test("its preflight gets 204 with the methods, the MCP headers (2026-07-28 ones too) and a max age", async () => {
    const res = await preflight(
      h.httpUrl,
      APP,
      "POST",
      "content-type, authorization, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region, x-other",
    );
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.deepEqual(list(res.headers.get("access-control-allow-methods")), ["get", "post", "delete", "options"]);
    const allowed = list(res.headers.get("access-control-allow-headers"));
    for (
      const name of [
        "content-type",
        "accept",
        "authorization",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
        "mcp-method",
        "mcp-name",
        "mcp-param-region",
      ]
    ) assert.ok(allowed.includes(name), `${name} is allowed: ${allowed}`);
    assert.ok(!allowed.includes("x-other"), "a header MCP does not use is not allowed");
    assert.ok(Number(res.headers.get("access-control-max-age")) > 0);
    assert.ok(list(res.headers.get("vary")).includes("origin"));
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    assert.equal(await res.text(), "");
  });

  test("a public page's preflight to a private address is allowed for it (Private Network Access)", async () => {
    const res = await fetch(h.httpUrl, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-private-network": "true",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-private-network"), "true");
    const refused = await fetch(h.httpUrl, {
      method: "OPTIONS",
      headers: {
        origin: EVIL,
        "access-control-request-method": "POST",
        "access-control-request-private-network": "true",
      },
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(corsHeaders(refused), {});
    await refused.body?.cancel();
  });

  test("a preflight needs no credentials; a request header list that is not one is ignored", async () => {
    // No Authorization: browsers never send credentials on a preflight.
    const res = await preflight(h.httpUrl, APP, "DELETE", "mcp-x y, mcp-a/b, mcp-ok");
    assert.equal(res.status, 204);
    const allowed = list(res.headers.get("access-control-allow-headers"));
    assert.ok(allowed.includes("mcp-ok"), String(allowed));
    assert.equal(res.headers.get("access-control-allow-private-network"), null, "not asked");
    assert.ok(!allowed.some((a) => a.startsWith("mcp-x") || a.startsWith("mcp-a")), String(allowed));
  });

  test("every kind of answer carries the CORS headers: JSON, 202, SSE, GET streams, DELETE, errors", async () => {
    const o = { origin: APP, ...auth };
    const init = await post(h.httpUrl, initializeBody("cors"), o);
    assert.equal(init.status, 200);
    assertReadable(init, APP, "initialize");
    const sid = init.headers.get("mcp-session-id")!;
    assert.ok(sid);
    await init.body?.cancel();
    const s = { ...o, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };

    const initialized = await post(h.httpUrl, { jsonrpc: "2.0", method: "notifications/initialized" }, s);
    assert.equal(initialized.status, 202);
    assertReadable(initialized, APP, "202");

    const json = await post(h.httpUrl, {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "add", arguments: { a: 1, b: 2 } },
    }, { ...s, accept: "application/json" });
    assert.equal(json.status, 200);
    assertReadable(json, APP, "JSON");
    assert.equal((await json.json()).result.content[0].text, "3");

    const sse = await post(h.httpUrl, {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "slow", arguments: { ms: 10, steps: 2 }, _meta: { progressToken: "p" } },
    }, s);
    assert.equal(sse.headers.get("content-type"), "text/event-stream");
    assertReadable(sse, APP, "SSE");
    const frames = sseMessages(await sse.text());
    assert.equal(frames.filter((f) => f.method === "notifications/progress").length, 2);
    assert.ok(frames.some((f) => f.id === 3 && f.result));

    const stream = await fetch(h.httpUrl, { headers: { ...s, accept: "text/event-stream" } });
    assert.equal(stream.status, 200);
    assertReadable(stream, APP, "GET stream");
    await stream.body?.cancel();

    const info = await fetch(h.httpUrl, { headers: o });
    assert.equal(info.status, 200);
    assertReadable(info, APP, "GET info");
    await info.text();

    const errors: [string, Promise<Response>, number][] = [
      ["401", post(h.httpUrl, initializeBody(), { origin: APP }), 401],
      [
        "404 session",
        post(h.httpUrl, { jsonrpc: "2.0", id: 4, method: "ping" }, { ...s, "mcp-session-id": "gone" }),
        404,
      ],
      ["400", post(h.httpUrl, { jsonrpc: "2.0", id: 5, method: "ping" }, o), 400],
      ["parse error", post(h.httpUrl, "{", s), 400],
      ["415", post(h.httpUrl, initializeBody(), { ...o, "content-type": "text/plain" }), 415],
      ["405", fetch(h.httpUrl, { method: "PUT", headers: o }), 405],
      ["404 path", fetch(new URL("/other", h.httpUrl), { method: "POST", headers: o }), 404],
    ];
    for (const [what, p, status] of errors) {
      const res = await p;
      assert.equal(res.status, status, what);
      assertReadable(res, APP, what);
      await res.body?.cancel();
    }
    const unauth = await post(h.httpUrl, initializeBody(), { origin: APP });
    assert.match(unauth.headers.get("www-authenticate") ?? "", /^Bearer /);
    await unauth.body?.cancel();

    const del = await fetch(h.httpUrl, { method: "DELETE", headers: s });
    assert.equal(del.status, 200);
    assertReadable(del, APP, "DELETE");
    await del.body?.cancel();
  });

  test("2026-07-28 answers (no session) carry them too: JSON, SSE, a header mismatch", async () => {
    const body = (id: number, name: string, args: Record<string, unknown>) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name,
        arguments: args,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": V,
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "cors", version: "1" },
          progressToken: 1,
        },
      },
    });
    const hdr = { origin: APP, ...auth, "mcp-protocol-version": V, "mcp-method": "tools/call" };
    const json = await post(h.httpUrl, body(1, "add", { a: 2, b: 2 }), { ...hdr, "mcp-name": "add" });
    assert.equal(json.status, 200);
    assertReadable(json, APP, "2026 JSON");
    assert.equal((await json.json()).result.content[0].text, "4");
    const sse = await post(h.httpUrl, body(2, "slow", { ms: 10, steps: 2 }), { ...hdr, "mcp-name": "slow" });
    assert.equal(sse.headers.get("content-type"), "text/event-stream");
    assertReadable(sse, APP, "2026 SSE");
    assert.ok(sseMessages(await sse.text()).some((f) => f.id === 2 && f.result));
    const mismatch = await post(h.httpUrl, body(3, "add", { a: 1, b: 1 }), { ...hdr, "mcp-method": "tools/list" });
    assert.equal(mismatch.status, 400);
    assertReadable(mismatch, APP, "2026 mismatch");
    await mismatch.body?.cancel();
  });
});

describe("CORS: an origin allowedOrigins refuses, and requests without Origin", () => {
  let h: ServeHandle;
  before(() => {
    h = start(createServer(), { allowedOrigins: [APP] });
  });
  after(() => h.close({ timeout: 100 }));

  test("a refused origin's preflight gets 403 and no CORS header; so does every request", async () => {
    const pre = await preflight(h.httpUrl, EVIL, "POST", "content-type");
    assert.equal(pre.status, 403);
    assert.deepEqual(corsHeaders(pre), {});
    assert.equal(pre.headers.get("vary"), null);
    await pre.body?.cancel();
    for (
      const res of [
        await post(h.httpUrl, initializeBody(), { origin: EVIL }),
        await fetch(h.httpUrl, { headers: { origin: EVIL, accept: "text/event-stream" } }),
        await fetch(h.httpUrl, { method: "DELETE", headers: { origin: EVIL, "mcp-session-id": "x" } }),
        // The default's loopback origins are refused too once a list is given.
        await post(h.httpUrl, initializeBody(), { origin: "http://localhost:3000" }),
      ]
    ) {
      assert.equal(res.status, 403);
      assert.deepEqual(corsHeaders(res), {});
      await res.body?.cancel();
    }
  });

  test("without Origin nothing changes: no CORS headers; OPTIONS says what is allowed", async () => {
    const init = await post(h.httpUrl, initializeBody());
    assert.equal(init.status, 200);
    assert.deepEqual(corsHeaders(init), {});
    assert.equal(init.headers.get("vary"), null);
    await init.body?.cancel();
    const options = await preflight(h.httpUrl, null);
    assert.equal(options.status, 204);
    assert.deepEqual(corsHeaders(options), {});
    assert.deepEqual(list(options.headers.get("allow")), ["get", "post", "delete", "options"]);
    const put = await fetch(h.httpUrl, { method: "PUT" });
    assert.equal(put.status, 405);
    assert.deepEqual(corsHeaders(put), {});
    await put.body?.cancel();
  });
});

describe("CORS: the other forms of allowedOrigins", () => {
  const servers: Listening[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const serveWith = (options: HttpOptions) => {
    const handler = httpHandler(createServer(), options);
    const l = listen((req) => handler.fetch(req));
    servers.push(l);
    return { url: l.url, handler };
  };

  test('"*": every origin is admitted, and named (never "*")', async () => {
    const { url } = serveWith({ allowedOrigins: "*" });
    for (const origin of ["https://a.example", "null", "http://127.0.0.1:9"]) {
      const pre = await preflight(url, origin);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), origin);
      const res = await post(url, initializeBody(), { origin });
      assert.equal(res.status, 200);
      assertReadable(res, origin, origin);
      await res.body?.cancel();
    }
  });

  test("a function: called once per request, its answer decides", async () => {
    const asked: string[] = [];
    const { url } = serveWith({ allowedOrigins: (o) => (asked.push(o), o.endsWith(".example.com")) });
    const ok = await post(url, initializeBody(), { origin: APP });
    assert.equal(ok.status, 200);
    assertReadable(ok, APP, "function, admitted");
    await ok.body?.cancel();
    const pre = await preflight(url, "https://example.org");
    assert.equal(pre.status, 403);
    assert.deepEqual(corsHeaders(pre), {});
    await pre.body?.cancel();
    assert.deepEqual(asked, [APP, "https://example.org"]);
    const none = await post(url, initializeBody());
    assert.equal(none.status, 200);
    await none.body?.cancel();
    assert.equal(asked.length, 2, "not asked without Origin");
  });

  test("the default: loopback pages are admitted with CORS, others refused", async () => {
    const { url } = serveWith({});
    const local = await preflight(url, "http://localhost:5173");
    assert.equal(local.status, 204);
    assert.equal(local.headers.get("access-control-allow-origin"), "http://localhost:5173");
    const far = await preflight(url, EVIL);
    assert.equal(far.status, 403);
    assert.deepEqual(corsHeaders(far), {});
    await far.body?.cancel();
  });

  test("an authenticate hook's own Response gets them, even one with immutable headers", async () => {
    const { url } = serveWith({
      allowedOrigins: [APP],
      authenticate: () => Response.redirect("https://login.example.com/", 302),
    });
    const res = await fetch(url, {
      method: "POST",
      headers: { ...JSON_SSE, origin: APP },
      body: initializeBody(),
      redirect: "manual",
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://login.example.com/");
    assertReadable(res, APP, "redirect");
    await res.body?.cancel();
  });

  test("while shutting down, the 503 carries them", async () => {
    const { url, handler } = serveWith({ allowedOrigins: [APP] });
    await handler.close({ timeout: 10 });
    const res = await post(url, initializeBody(), { origin: APP });
    assert.equal(res.status, 503);
    assertReadable(res, APP, "503");
    assert.ok(list(res.headers.get("access-control-expose-headers")).includes("retry-after"));
    await res.body?.cancel();
  });
});

// ---------------------------------------------------------------------------
// Headless Chromium: a page of another origin (another port) calls the server with fetch.

const SKIP = chromiumSkip;
if (SKIP) console.log(`cors.test.ts ${SKIP}`);

// The page's script: a Streamable HTTP client written with fetch alone, as a browser app would, against the allowed
// server; then one request to the server that refuses its origin. It writes what it saw into #out as JSON.
function page(allowed: string, refused: string, token: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>cors</title></head><body>
<pre id="out">pending</pre>
<!-- The load event (and so --dump-dom) waits for this image until the script is done. -->
<img src="/hold" alt="">
<script type="module">
const A = ${JSON.stringify(allowed)};
const R = ${JSON.stringify(refused)};
const base = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const auth = { ...base, authorization: ${JSON.stringify(`Bearer ${token}`)} };
const body = (msg) => JSON.stringify({ jsonrpc: "2.0", ...msg });
const init = body({ id: 1, method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "page", version: "1" } } });
const out = {};
try {
  let r = await fetch(A, { method: "POST", headers: base, body: init });
  out.unauthorized = r.status + " " + r.headers.get("www-authenticate");
  r = await fetch(A, { method: "POST", headers: auth, body: init });
  const sid = r.headers.get("mcp-session-id");
  out.session = typeof sid === "string" && sid.length > 0;
  out.server = (await r.json()).result.serverInfo.name;
  const s = { ...auth, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  r = await fetch(A, { method: "POST", headers: s, body: body({ method: "notifications/initialized" }) });
  out.initialized = r.status;
  r = await fetch(A, { method: "POST", headers: s,
    body: body({ id: 2, method: "tools/call", params: { name: "add", arguments: { a: 20, b: 22 } } }) });
  out.add = (await r.json()).result.content[0].text;
  // An SSE answer read through fetch: progress notifications, then the result.
  r = await fetch(A, { method: "POST", headers: s, body: body({ id: 3, method: "tools/call",
    params: { name: "slow", arguments: { ms: 30, steps: 3 }, _meta: { progressToken: "p" } } }) });
  out.sseType = r.headers.get("content-type");
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  const frames = text.split("\\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
  out.progress = frames.filter((f) => f.method === "notifications/progress").map((f) => f.params.progress).join(",");
  out.slow = frames.find((f) => f.id === 3)?.result?.content?.[0]?.text;
  r = await fetch(A, { method: "DELETE", headers: s });
  out.deleted = r.status;
  // 2026-07-28: no session, and the request headers mirror the body (Mcp-Method, Mcp-Name).
  r = await fetch(A, { method: "POST",
    headers: { ...auth, "mcp-protocol-version": "${V}", "mcp-method": "tools/call", "mcp-name": "add" },
    body: body({ id: 4, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 },
      _meta: { "io.modelcontextprotocol/protocolVersion": "${V}", "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { name: "page", version: "1" } } } }) });
  out.modern = (await r.json()).result.content[0].text;
  try {
    r = await fetch(R, { method: "POST", headers: auth, body: init });
    out.refused = "answered " + r.status;
  } catch (e) {
    out.refused = e.name;
  }
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  document.getElementById("out").textContent = JSON.stringify(out);
  await fetch("/release", { method: "POST" });
}
</script>
</body></html>`;
}

describe("CORS in headless Chromium: a page of another origin", () => {
  let pageServer: Server;
  let pageUrl: string;
  let allowed: ServeHandle;
  let refused: Listening;
  const refusedSaw: string[] = [];
  let dir: string;
  let release: () => void = () => {};
  let holdTimer: ReturnType<typeof setTimeout> | undefined;

  before(async () => {
    if (SKIP) return;
    dir = mkdtempSync(join(tmpdir(), "mcp-cors-"));
    let html = "";
    const released = new Promise<void>((r) => {
      release = r;
      holdTimer = setTimeout(r, 30_000); // never hold the page forever
    });
    pageServer = createHttpServer((req, res) => {
      if (req.url === "/") res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
      else if (req.url === "/hold") released.then(() => res.writeHead(204).end());
      else if (req.url === "/release") (release(), res.writeHead(204).end());
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => pageServer.listen(0, "127.0.0.1", () => r()));
    const pageOrigin = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}`;
    pageUrl = `${pageOrigin}/`;
    allowed = start(createServer(), { allowedOrigins: [pageOrigin], authenticate: bearerAuth({ token: TOKEN }) });
    // The refused server records what reaches it: the browser must stop at the preflight.
    const refusing = httpHandler(new McpServer({ name: "refusing", version: "1" }), { allowedOrigins: [APP] });
    refused = listen((req) => (refusedSaw.push(req.method), refusing.fetch(req)));
    html = page(allowed.httpUrl.href, refused.url.href, TOKEN);
  });

  after(async () => {
    if (SKIP) return;
    release();
    clearTimeout(holdTimer);
    (pageServer as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((r) => pageServer.close(() => r()));
    await allowed.close({ timeout: 100 });
    await refused.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "the allowed origin's page initializes, reads Mcp-Session-Id, calls tools (JSON and SSE); the refused one is blocked",
    {
      skip: SKIP,
    },
    async () => {
      const profile = mkdtempSync(join(dir, "profile-"));
      const r = await dumpDom(pageUrl, profile, { timeout: 60_000 });
      assert.equal(r.code, 0, `chromium failed:\n${r.stderr.slice(-2000)}`);
      const m = /<pre id="out">([^<]*)<\/pre>/.exec(r.stdout);
      assert.ok(m, `no #out in the DOM:\n${r.stdout.slice(0, 800)}`);
      const out = JSON.parse(m[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
      assert.equal(out.error, undefined, out.error);
      assert.deepEqual(out, {
        unauthorized: `401 Bearer realm="mcp"`,
        session: true,
        server: "example",
        initialized: 202,
        add: "42",
        sseType: "text/event-stream",
        progress: "1,2,3",
        slow: "waited 30 ms",
        deleted: 200,
        modern: "3",
        refused: "TypeError",
      });
      assert.deepEqual(refusedSaw, ["OPTIONS"], "the browser sent the refused origin's POST nowhere");
    },
  );
});

describe("CORS with the OAuth resource server", () => {
  test("a page's preflight needs no token; its 401, the metadata document and its answers are readable", async () => {
    const port = await closedPort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    const h = start(createServer(), {
      port,
      allowedOrigins: [APP],
      oauth: oauthResource({
        resource,
        authorizationServers: ["https://auth.example.com"],
        verifyToken: (
          t,
        ) => (t === "good" ? { aud: resource, sub: "page", exp: Math.floor(Date.now() / 1000) + 600 } : undefined),
      }),
    });
    try {
      const pre = await fetch(h.httpUrl, {
        method: "OPTIONS",
        headers: {
          origin: APP,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), APP);
      const denied = await post(h.httpUrl, initializeBody(), { origin: APP });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get("access-control-allow-origin"), APP);
      assert.match(denied.headers.get("access-control-expose-headers")!, /WWW-Authenticate/i);
      assert.match(
        denied.headers.get("www-authenticate")!,
        /resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
      await denied.body?.cancel();
      const metaPre = await fetch(new URL("/.well-known/oauth-protected-resource/mcp", h.httpUrl), {
        method: "OPTIONS",
        headers: {
          origin: APP,
          "access-control-request-method": "GET",
          "access-control-request-headers": "mcp-protocol-version",
        },
      });
      assert.equal(metaPre.status, 204, "the metadata document's preflight passes");
      assert.equal(metaPre.headers.get("access-control-allow-origin"), APP);
      const meta = await fetch(new URL("/.well-known/oauth-protected-resource/mcp", h.httpUrl), {
        headers: { origin: APP },
      });
      assert.equal(meta.status, 200);
      assert.equal(meta.headers.get("access-control-allow-origin"), APP);
      assert.equal((await meta.json()).resource, resource);
      const ok = await post(h.httpUrl, initializeBody(), { origin: APP, authorization: "Bearer good" });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), APP);
      assert.ok(ok.headers.get("mcp-session-id"));
      await ok.body?.cancel();
      const evil = await post(h.httpUrl, initializeBody(), { origin: EVIL, authorization: "Bearer good" });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get("access-control-allow-origin"), null);
      await evil.body?.cancel();
    } finally {
      await h.close({ timeout: 100 });
    }
  });
});

describe("CORS and a Response the authenticate hook returns", () => {
  test("a Response object the hook hands to every request is not marked by one origin for the next", async () => {
    const shared = new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="x"' } });
    const h = start(new McpServer({ name: "s", version: "1" }), {
      allowedOrigins: [APP, "https://b.example"],
      authenticate: () => shared,
    });
    try {
      const a = await post(h.httpUrl, initializeBody(), { origin: APP });
      assert.equal(a.headers.get("access-control-allow-origin"), APP);
      const b = await post(h.httpUrl, initializeBody(), { origin: "https://b.example" });
      assert.equal(b.headers.get("access-control-allow-origin"), "https://b.example");
      assert.equal(
        b.headers.get("access-control-expose-headers")!.split(",").filter((x) => /mcp-session-id/i.test(x)).length,
        1,
      );
      const none = await post(h.httpUrl, initializeBody());
      assert.equal(none.status, 401);
      assert.equal(none.headers.get("access-control-allow-origin"), null);
      assert.equal(shared.headers.get("access-control-allow-origin"), null, "the hook's own object is untouched");
    } finally {
      await h.close({ timeout: 100 });
    }
  });
});
