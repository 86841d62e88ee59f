// README.md works as written: every code block type-checks (on the Deno side,
// with `deno task check`'s command), every block that serves runs on the
// runtime it names and answers as the text around it says, and every shell
// command is run here or named below with the test that runs it. A block or
// command added to the README without a test fails "every command is covered".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect } from "../client.ts";
import type { ServeHandle } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import {
  closedPort,
  type Exited,
  launch,
  type Launched,
  listening,
  RedisServer,
  redisSkip,
  run,
  runtimeName,
  start,
} from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const onDeno = runtimeName === "deno";

interface Block {
  lang: string;
  code: string;
  /** The heading the block stands under, for messages. */
  section: string;
}

function blocks(): Block[] {
  const out: Block[] = [];
  let section = "";
  const re = /^(#{2,3} .*)$|^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(README));) {
    if (m[1]) section = m[1];
    else out.push({ lang: m[2], code: m[3], section });
  }
  return out;
}

const ts = blocks().filter((b) => b.lang === "ts");
const commands = blocks().filter((b) => b.lang === "sh").flatMap((b) =>
  b.code.split("\n").map((l) => l.replace(/ +#.*$/, "").trim()).filter(Boolean)
);

// A folder on PATH holding the runtime under test by its plain name (Bun's npm binary is bun.exe).
const BIN = mkdtempSync(join(tmpdir(), "mcp-readme-bin-"));
symlinkSync(process.execPath, join(BIN, runtimeName));
const PATH = `${BIN}:${process.env.PATH}`;
const SCRATCH = join(ROOT, `.tmp-readme-${process.pid}`);
mkdirSync(SCRATCH, { recursive: true });
after(() => {
  rmSync(SCRATCH, { recursive: true, force: true });
  rmSync(BIN, { recursive: true, force: true });
});

/** Runs a README command line in a shell at the repository root, with 8080 replaced by `port`. */
function sh(line: string, port: number, env: Record<string, string | undefined> = {}): Promise<Exited> {
  return run("/bin/sh", ["-c", line.replaceAll("8080", String(port))], {
    cwd: ROOT,
    env: { PATH, ...env },
    timeout: 60_000,
  });
}

/** Writes a README block beside the repository's files (its imports are relative) with 8080 replaced by `port`. */
function place(block: Block, port: number): string {
  const file = join(SCRATCH, `block_${ts.indexOf(block)}_${port}.ts`);
  writeFileSync(
    file,
    block.code.replaceAll(`"./mod.ts"`, `"../mod.ts"`).replaceAll(`"./client.ts"`, `"../client.ts"`)
      .replaceAll("8080", String(port)),
  );
  return file;
}

/** Runs a serving README block; resolves once it listens. `flags` are Deno's permissions for it. */
async function serveBlock(
  block: Block,
  flags: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ port: number; child: Launched }> {
  const port = await closedPort();
  const file = place(block, port);
  const args = onDeno ? ["run", ...flags, file] : ["run", file];
  const child = await launch(process.execPath, args, { cwd: ROOT, env, timeout: 120_000 });
  await listening(port, child);
  return { port, child };
}

function find(what: string, pred: (b: Block) => boolean): Block {
  const found = ts.filter(pred);
  assert.equal(found.length, 1, `exactly one README block is ${what}`);
  return found[0];
}

const quickStart = find("the Quick start", (b) => b.section === "## Quick start");
const denoRoutes = find("the Deno routes example", (b) => b.code.includes("Deno.serve"));
const bunRoutes = find("the Bun routes example", (b) => b.code.includes("Bun.serve"));
const bearer = find("the bearer-token example", (b) => b.section === "## Security");
const corsBlock = find("the CORS example", (b) => b.section === "### Browser clients (CORS)");
const deploy = find("the public-hostname example", (b) => b.code.includes(`hostname: "0.0.0.0"`));
const clientBlock = find("the client example", (b) => b.code.includes(`connect("ws://`));
const clusterBlock = find("the cluster example", (b) => b.code.includes("redisCluster({"));

async function post(port: number, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "readme", version: "1" } },
    }),
  });
}

/** The status of a WebSocket upgrade, read off a raw handshake (a refused WebSocket shows no status). */
async function upgradeStatus(port: number, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      ...headers,
    },
  }).catch((e) => ({ status: 0, body: null, error: e }));
  await (res as Response).body?.cancel();
  return res.status;
}

describe("README code blocks", () => {
  test("every block type-checks (deno task check's command)", { skip: !onDeno && "the Deno side checks" }, async () => {
    const files = ["README.md", ...readdirTs()];
    const r = await run(process.execPath, ["check", "--config", "tools/deno.docs.json", "--doc-only", ...files], {
      cwd: ROOT,
      timeout: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ts.length >= 8, "the README's TypeScript blocks were found");
  });

  test("Quick start: serves add, which adds", async () => {
    const { port, child } = await serveBlock(quickStart, ["--allow-net=127.0.0.1"]);
    try {
      const client = await connect(`ws://127.0.0.1:${port}/mcp`);
      const result = await client.callTool("add", { a: 2, b: 3 });
      assert.deepEqual(result.content, [{ type: "text", text: "5" }]);
      await client.close();
      assert.match(child.stdout, new RegExp(`MCP server on ws://127\\.0\\.0\\.1:${port}/mcp`));
    } finally {
      await child.kill();
    }
  });

  test("Beside your own routes: the MCP endpoint and the app's own route", async () => {
    const block = onDeno ? denoRoutes : bunRoutes;
    const { port, child } = await serveBlock(block, ["--allow-net=127.0.0.1"]);
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "hello");
      const client = await connect(`ws://127.0.0.1:${port}/mcp`);
      assert.equal(client.serverInfo.name, "demo");
      await client.close();
      const http = await post(port);
      assert.equal(http.status, 200);
      assert.ok(http.headers.get("mcp-session-id"));
      await http.body?.cancel();
    } finally {
      await child.kill();
    }
  });

  describe("Security: the bearer token fails closed", () => {
    const flags = ["--allow-net=127.0.0.1", "--allow-env=MCP_TOKEN"];
    for (const [name, value] of [["unset", undefined], ["empty", ""]] as const) {
      test(`MCP_TOKEN ${name}: every request is refused, and a warning says why`, async () => {
        const { port, child } = await serveBlock(bearer, flags, { MCP_TOKEN: value });
        try {
          for (const auth of [undefined, "Bearer ", "Bearer undefined", "Bearer anything"]) {
            const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
            const res = await post(port, headers);
            assert.equal(res.status, 401, `HTTP with ${auth}`);
            assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
            await res.body?.cancel();
            assert.equal(await upgradeStatus(port, headers), 401, `WebSocket with ${auth}`);
          }
          assert.match(child.stderr, /no token is configured/);
        } finally {
          await child.kill();
        }
      });
    }

    test("MCP_TOKEN set: the right token is admitted as alice, a wrong or missing one gets 401", async () => {
      const { port, child } = await serveBlock(bearer, flags, { MCP_TOKEN: "s3cret-token" });
      try {
        for (const auth of [undefined, "Bearer s3cret", "Bearer s3cret-token2", "Basic s3cret-token", "s3cret-token"]) {
          const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
          const res = await post(port, headers);
          assert.equal(res.status, 401, `HTTP with ${auth}`);
          await res.body?.cancel();
          assert.equal(await upgradeStatus(port, headers), 401, `WebSocket with ${auth}`);
        }
        const ok = await post(port, { authorization: "Bearer s3cret-token" });
        assert.equal(ok.status, 200);
        await ok.body?.cancel();
        const client = await connect(`ws://127.0.0.1:${port}/mcp`, {
          headers: { authorization: "bearer s3cret-token" },
        });
        const who = await client.callTool("whoami", {});
        assert.deepEqual(who.content, [{ type: "text", text: '{"user":"alice"}' }]);
        await client.close();
        assert.doesNotMatch(child.stderr, /no token/);
      } finally {
        await child.kill();
      }
    });
  });

  test("Browser clients (CORS): the page's origin gets a preflight and readable answers, others 403", async () => {
    const { port, child } = await serveBlock(corsBlock, ["--allow-net=127.0.0.1", "--allow-env=MCP_TOKEN"], {
      MCP_TOKEN: "t0ken",
    });
    try {
      const app = "https://app.example.com";
      const pre = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: "OPTIONS",
        headers: {
          origin: app,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), app);
      assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization/);
      const ok = await post(port, { origin: app, authorization: "Bearer t0ken" });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), app);
      assert.match(ok.headers.get("access-control-expose-headers") ?? "", /Mcp-Session-Id/);
      assert.ok(ok.headers.get("mcp-session-id"));
      await ok.body?.cancel();
      const noToken = await post(port, { origin: app });
      assert.equal(noToken.status, 401);
      assert.match(noToken.headers.get("access-control-expose-headers") ?? "", /WWW-Authenticate/);
      await noToken.body?.cancel();
      for (const origin of ["https://evil.example", "http://localhost:5173"]) {
        const res = await post(port, { origin, authorization: "Bearer t0ken" });
        assert.equal(res.status, 403, origin);
        assert.equal(res.headers.get("access-control-allow-origin"), null);
        await res.body?.cancel();
      }
    } finally {
      await child.kill();
    }
  });

  test("Deployment: every interface, the public origin admitted, others refused", async () => {
    const { port, child } = await serveBlock(deploy, ["--allow-net", "--allow-env=MCP_TOKEN,MCP_STATE_SECRET"], {
      MCP_TOKEN: "t0ken",
      MCP_STATE_SECRET: "0123456789abcdef0123456789abcdef",
    });
    try {
      const auth = { authorization: "Bearer t0ken" };
      const good = await post(port, { ...auth, origin: "https://mcp.example.com" });
      assert.equal(good.status, 200);
      await good.body?.cancel();
      const local = await post(port, { ...auth, origin: "http://localhost:3000" });
      assert.equal(local.status, 403, "the list replaces the loopback default");
      await local.body?.cancel();
      assert.equal(await upgradeStatus(port, { ...auth, origin: "https://evil.example" }), 403);
      const none = await post(port, { origin: "https://mcp.example.com" });
      assert.equal(none.status, 401);
      await none.body?.cancel();
    } finally {
      await child.kill();
    }
  });

  test(
    "Running several instances: the block serves in cluster mode over a real Redis",
    { skip: redisSkip || (!onDeno && "the block imports npm:redis, for Deno") },
    async () => {
      const redis = new RedisServer(await closedPort());
      await redis.start();
      const { port, child } = await serveBlock(clusterBlock, ["--allow-net", "--allow-env"], {
        REDIS_URL: redis.url,
        MCP_STATE_SECRET: "a secret shared by every instance",
      });
      try {
        const res = await post(port);
        assert.equal(res.status, 200);
        // A session id that names its instance: the cluster is on.
        assert.match(res.headers.get("mcp-session-id") ?? "", /^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]+$/);
        await res.body?.cancel();
      } finally {
        await child.kill();
        await redis.stop();
      }
    },
  );

  test("the client example runs against the example server", async () => {
    const port = await closedPort();
    const h: ServeHandle = start(createServer(), { port });
    try {
      const r = await run(
        process.execPath,
        onDeno ? ["run", "-A", place(clientBlock, port)] : ["run", place(clientBlock, port)],
        {
          cwd: ROOT,
          timeout: 60_000,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^5 5$/m, "progress reached 5 of 5");
    } finally {
      await h.close({ timeout: 100 });
    }
  });
});

function readdirTs(): string[] {
  // The library's own files: their JSDoc examples are checked with the README's blocks.
  return readdirSync(ROOT).filter((name) => name.endsWith(".ts"));
}

// CI sets REQUIRE_NGINX=1 so that a missing nginx fails instead of skipping.
const NGINX = "/usr/sbin/nginx";
const nginxSkip = existsSync(NGINX) || process.env.REQUIRE_NGINX === "1"
  ? false
  : `skipped: ${NGINX} is missing (apt-get install -y nginx-light to run it)`;

describe("README Deployment: the nginx block in a real nginx, with TLS", { skip: nginxSkip }, () => {
  const block = blocks().filter((b) => b.lang === "nginx");
  let dir: string;
  let h: ServeHandle;
  let nginx: Launched;
  let proxyPort: number;
  let cert: string;

  before(async () => {
    assert.equal(block.length, 1, "the README has one nginx block");
    dir = mkdtempSync(join(tmpdir(), "mcp-nginx-"));
    cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const made = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      // A leaf, not a CA: Deno's TLS (webpki) refuses a CA certificate as the server's own.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    assert.equal(made.code, 0, made.stderr);
    const serverPort = await closedPort();
    proxyPort = await closedPort();
    h = start(createServer(), { port: serverPort });
    // The block as written; only where it listens, its certificate and the upstream port differ here.
    let site = block[0].code;
    for (
      const [from, to] of [
        ["listen 443 ssl;", `listen 127.0.0.1:${proxyPort} ssl;`],
        ["/etc/ssl/certs/mcp.example.com.pem", cert],
        ["/etc/ssl/private/mcp.example.com.key", key],
        ["http://127.0.0.1:8080", `http://127.0.0.1:${serverPort}`],
      ]
    ) {
      assert.ok(site.includes(from), `the nginx block has ${from}`);
      site = site.replace(from, to);
    }
    writeFileSync(
      join(dir, "nginx.conf"),
      `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
${site}
}
`,
    );
    nginx = await launch(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")]);
    await listening(proxyPort, nginx);
  });
  after(async () => {
    await nginx?.kill();
    await h?.close({ timeout: 100 });
    rmSync(dir, { recursive: true, force: true });
  });

  test("WebSocket over wss:// through the proxy (cli.ts trusting the throwaway certificate)", async () => {
    const trust = onDeno ? { DENO_CERT: cert } : { NODE_EXTRA_CA_CERTS: cert };
    const r = await run(
      process.execPath,
      [
        ...(onDeno ? ["run", "-A"] : ["run"]),
        "cli.ts",
        `wss://localhost:${proxyPort}/mcp`,
        "tools/call",
        "add",
        '{"a":2,"b":3}',
      ],
      { cwd: ROOT, env: trust },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "5");
  });

  test("Streamable HTTP over https:// through the proxy: a session, a call streamed as SSE, the plain GET", async () => {
    const curl = (...args: string[]) => run("curl", ["-sS", "--cacert", cert, "-D", "-", ...args]);
    const url = `https://localhost:${proxyPort}/mcp`;
    const json = ["-H", "content-type: application/json", "-H", "accept: application/json, text/event-stream"];
    const init = await curl(
      ...json,
      "--data",
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "curl", version: "1" } },
      }),
      url,
    );
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^HTTP\/1\.1 200/);
    const sid = /^mcp-session-id: (\S+)/im.exec(init.stdout)?.[1];
    assert.ok(sid, init.stdout);
    const session = [...json, "-H", `mcp-session-id: ${sid}`, "-H", "mcp-protocol-version: 2025-11-25"];
    const done = await curl(...session, "--data", '{"jsonrpc":"2.0","method":"notifications/initialized"}', url);
    assert.match(done.stdout, /^HTTP\/1\.1 202/);
    const call = await curl(
      ...session,
      "--data",
      JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "slow", arguments: { ms: 50, steps: 2 }, _meta: { progressToken: "p" } },
      }),
      url,
    );
    assert.match(call.stdout, /content-type: text\/event-stream/i);
    assert.match(call.stdout, /"method":"notifications\/progress"/);
    assert.match(call.stdout, /"result":\{"content":\[\{"type":"text","text":"waited 50 ms"\}\]\}/);
    const info = await run("curl", ["-sS", "--cacert", cert, url]);
    assert.match(info.stdout, /MCP \(Model Context Protocol\) server endpoint/);
    assert.ok(
      info.stdout.includes(`wss://localhost:${proxyPort}/mcp`),
      `the public URL, through Host and X-Forwarded-Proto:\n${info.stdout}`,
    );
  });
});

describe("README commands", () => {
  let h: ServeHandle;
  let port: number;
  before(async () => {
    port = await closedPort();
    h = start(createServer(), { port });
  });
  after(() => h.close({ timeout: 100 }));

  test("cli.ts: each example exits 0 against the example server", async () => {
    const mine = commands.filter((c) => c.includes(" cli.ts ") && c.startsWith(runtimeName + " "));
    assert.ok(mine.length >= 1, `the README shows cli.ts on ${runtimeName}`);
    for (const line of mine) {
      const r = await sh(line, port);
      assert.equal(r.code, 0, `${line}\n${r.stderr}`);
      assert.notEqual(r.stdout, "", line);
    }
  });
});

// Each README command line, and where it runs. Those run elsewhere say where; a new line fails until it is added.
const COVERED: Record<string, string> = {
  "npm start": "tests/fresh_clone.test.ts: npm start serves the example server",
  "npm test": ".ci/run runs it: it is this suite",
  "deno run --allow-net=127.0.0.1 --allow-env=PORT examples/server.ts": "tests/fresh_clone.test.ts, no npm install",
  "bun run examples/server.ts": "tests/fresh_clone.test.ts, no npm install",
  "deno run examples/server.ts --stdio": "tests/fresh_clone.test.ts, no permission flags",
  "deno add jsr:@mcp-ws/server npm:zod":
    "not runnable until 0.1.0 is published (README says so); tests/fresh_clone.test.ts runs deno publish --dry-run",
  'redis-server --port 6379 --save "" &': "tests/cluster.test.ts starts its redis-servers with these flags",
  "REDIS_URL=redis://127.0.0.1:6379 PORT=8080 deno run --allow-net --allow-env examples/cluster.ts &":
    "tests/cluster.test.ts runs examples/cluster.ts with these permissions and variables",
  "REDIS_URL=redis://127.0.0.1:6379 PORT=8081 bun run examples/cluster.ts &":
    "tests/cluster.test.ts runs examples/cluster.ts on Bun with these variables",
  "deno run --allow-net=127.0.0.1 --allow-env --allow-read examples/workers.ts":
    "tests/cluster_broadcast.test.ts, on Deno",
  "bun run examples/workers.ts": "tests/cluster_broadcast.test.ts, on Bun",
  "bun add @mcp-ws/server zod":
    "not runnable until 0.1.0 is published (README says so); tests/fresh_clone.test.ts installs the npm pack tarball with bun add",
};

test("every README block is of a kind a test runs", () => {
  assert.deepEqual([...new Set(blocks().map((b) => b.lang))].sort(), ["nginx", "sh", "ts"]);
});

test("every README command is run by a test", () => {
  const missing = commands.filter((c) => !(c in COVERED) && !/^(deno run -A|bun run) cli\.ts /.test(c));
  assert.deepEqual(missing, [], "README commands no test runs");
  for (const c of Object.keys(COVERED)) assert.ok(commands.includes(c), `README no longer shows ${c}`);
});
