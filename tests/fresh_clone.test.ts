// A newcomer's first steps, as README's Set up and Install describe them: a
// fresh copy of the repository with no node_modules runs the example server
// on Deno alone and on Bun alone; `deno task` and `npm start` work after
// `npm install`; mod.ts imports by URL; both packages (JSR and npm) are
// complete and usable.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect } from "../client.ts";
import { closedPort, launch, listening, run, runtimeName } from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const onDeno = runtimeName === "deno";
// Deno's half of the suite also runs on a machine with Deno alone (deno task test); CI has everything and must run all.
const missing = (cmd: string) =>
  process.env.CI !== "true" && spawnSync(cmd, ["--version"], { stdio: "ignore" }).status !== 0 &&
  `skipped: ${cmd} is not installed`;
const bunFound = existsSync(join(ROOT, "tools/node_modules/.bin/bun")) || !missing("bun");
const TMP = mkdtempSync(join(tmpdir(), "mcp-fresh-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The repository's files as a fresh clone has them (tracked, and new ones not ignored), in a new folder. */
function freshCopy(): string {
  const dir = mkdtempSync(join(TMP, "clone-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" })
    .split("\0").filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(dir, f));
  }
  assert.ok(!existsSync(join(dir, "node_modules")) && existsSync(join(dir, "examples/server.ts")));
  return dir;
}

/** Calls `add` on a server at `port` over WebSocket. */
async function add(port: number): Promise<string> {
  const client = await connect(`ws://127.0.0.1:${port}/mcp`);
  try {
    const r = await client.callTool("add", { a: 2, b: 3 });
    return (r.content[0] as { text: string }).text;
  } finally {
    await client.close();
  }
}

describe("a fresh clone, with no npm install", () => {
  let clone: string;
  before(() => (clone = freshCopy()));

  test("deno run --allow-net=127.0.0.1 --allow-env=PORT examples/server.ts answers tools/call", {
    skip: !onDeno && "the Deno side runs it",
  }, async () => {
    const port = await closedPort();
    const denoDir = join(TMP, "deno-dir"); // a Deno that has fetched nothing yet
    const child = await launch(
      process.execPath,
      ["run", "--allow-net=127.0.0.1", "--allow-env=PORT", "examples/server.ts"],
      { cwd: clone, env: { PORT: String(port), DENO_DIR: denoDir }, timeout: 120_000 },
    );
    try {
      await listening(port, child, 120_000);
      assert.equal(await add(port), "5");
      assert.match(child.stdout, new RegExp(`ws://127\\.0\\.0\\.1:${port}/mcp \\(WebSocket\\)`));
    } finally {
      await child.kill();
    }
    assert.equal(existsSync(join(clone, "node_modules")), false, "Deno made no node_modules");
    // zod alone: not the test suite's SDK with its web framework, nor package.json's other devDependencies.
    const fetched = readdirSync(join(denoDir, "npm")).flatMap((registry) => readdirSync(join(denoDir, "npm", registry)))
      .filter((name) => !name.endsWith(".json"));
    assert.deepEqual(fetched, ["zod"]);

    // The same clone over stdio, with no permission flag at all.
    const lines = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } },
    ].map((m) => JSON.stringify(m) + "\n").join("");
    const stdio = await launch(process.execPath, ["run", "examples/server.ts", "--stdio"], {
      cwd: clone,
      env: { DENO_DIR: denoDir },
      input: lines,
    });
    const out = await stdio.exited;
    assert.equal(out.code, 0, out.stderr);
    const answers = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(answers[1], { jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "5" }] } });
    assert.doesNotMatch(out.stderr, /NotCapable|permission/i);
  });

  test("bun run examples/server.ts answers tools/call", { skip: onDeno && "the Bun side runs it" }, async () => {
    const port = await closedPort();
    const child = await launch(process.execPath, ["run", "examples/server.ts"], {
      cwd: clone,
      env: { PORT: String(port), BUN_INSTALL_CACHE_DIR: join(TMP, "bun-cache") }, // a Bun that has installed nothing yet
      timeout: 120_000,
    });
    try {
      await listening(port, child, 120_000);
      assert.equal(await add(port), "5");
    } finally {
      await child.kill();
    }
    assert.equal(existsSync(join(clone, "node_modules")), false, "Bun auto-installed zod into its cache");
  });
});

describe("after npm install (the repository as npm test leaves it)", { skip: !onDeno && "Deno's tasks" }, () => {
  test("deno task start serves, from tools/ or PATH alike", async () => {
    const port = await closedPort();
    const child = await launch(process.execPath, ["task", "start"], { cwd: ROOT, env: { PORT: String(port) } });
    try {
      await listening(port, child);
      assert.equal(await add(port), "5");
    } finally {
      await child.kill();
    }
  });

  test("npm start serves the example server", { skip: missing("npm") }, async () => {
    const port = await closedPort();
    const child = await launch("npm", ["start"], { cwd: ROOT, env: { PORT: String(port) }, timeout: 120_000 });
    try {
      await listening(port, child, 120_000);
      assert.equal(await add(port), "5");
    } finally {
      await child.kill();
    }
  });

  test("deno task check: code, README and JSDoc blocks type-check; lint and doc lint are clean", async () => {
    const r = await run(process.execPath, ["task", "check"], { cwd: ROOT, timeout: 300_000 });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
  });

  test("deno task bench starts, finds both runtimes and measures", {
    skip: !bunFound && "skipped: the bench needs Bun (npm run setup, or Bun on PATH)",
  }, async () => {
    const out = join(TMP, "bench.json");
    const r = await run(process.execPath, ["task", "bench"], {
      cwd: ROOT,
      env: { BENCH_ONLY: "coldstart", BENCH_COLD_RUNS: "1", BENCH_TARGETS: "echo-deno", BENCH_OUT: out },
      timeout: 120_000,
    });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    assert.ok(existsSync(out), "results written");
  });
});

describe("the packages", () => {
  test(
    "JSR: deno publish --dry-run is clean and ships the library alone",
    { skip: !onDeno && "Deno publishes" },
    async () => {
      const r = await run(process.execPath, ["publish", "--dry-run", "--allow-dirty"], { cwd: ROOT, timeout: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const all = r.stdout + r.stderr;
      assert.doesNotMatch(all, /warning/i);
      assert.match(all, /mod\.ts/);
      assert.match(all, /transport_ws\.ts/);
      assert.match(all, /_page\/page\.ts/);
      assert.doesNotMatch(all, /\/(tests|bench|examples|scripts|tools|\.ci)\//);
      assert.doesNotMatch(all, /lock/);
    },
  );

  test("npm: the packed tarball installs into an empty Bun project and serves a tool", {
    skip: onDeno && "Bun users take the npm package",
  }, async () => {
    const project = mkdtempSync(join(TMP, "bun-project-"));
    const packed = await run("npm", ["pack", "--pack-destination", project, "--json"], { cwd: ROOT });
    assert.equal(packed.code, 0, packed.stderr);
    const info = JSON.parse(packed.stdout)[0] as { filename: string; files: { path: string }[] };
    const paths = info.files.map((f) => f.path);
    assert.ok(paths.includes("mod.ts") && paths.includes("client.ts") && paths.includes("README.md"));
    assert.ok(paths.includes("_page/page.ts"), "the page, built");
    assert.deepEqual(
      paths.filter((p) => p.includes("/") && !/^_[a-z]+\/[a-z_]+\.ts$/.test(p)),
      ["docs/page.png"],
      "no tests, bench, examples or tools: the library's internal folders and the README's picture",
    );
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "newcomer", private: true, type: "module" }));
    const env = { BUN_INSTALL_CACHE_DIR: join(TMP, "bun-cache-pkg") };
    const added = await run(process.execPath, ["add", `./${info.filename}`, "zod"], {
      cwd: project,
      env,
      timeout: 120_000,
    });
    assert.equal(added.code, 0, added.stderr);
    writeFileSync(
      join(project, "server.ts"),
      `import { McpServer, serve } from "@mcp-ws/server";
import { connect } from "@mcp-ws/server/client";
import { z } from "zod";
const server = new McpServer({ name: "demo", version: "1.0.0" });
server.tool("add", { input: z.object({ a: z.number(), b: z.number() }) }, ({ a, b }) => String(a + b));
const handle = serve(server, { port: 0 });
const client = await connect(handle.url);
const r = await client.callTool("add", { a: 2, b: 3 });
const page = await fetch(handle.httpUrl, { headers: { accept: "text/html" } });
console.log(r.content[0].text, page.status, (await page.text()).startsWith("<!doctype html>"));
await client.close();
await handle.close();
`,
    );
    const r = await run(process.execPath, ["run", "server.ts"], { cwd: project, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "5 200 true", "the tool's answer, and the page at the endpoint");
  });
});

describe("mod.ts by URL (Deno)", { skip: !onDeno && "Bun does not import from URLs" }, () => {
  let http: Server;
  let base: string;
  before(async () => {
    // A static host for the repository's top-level files, as any web server would serve a tagged checkout.
    http = createHttpServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url!, "http://x").pathname.slice(1));
      const file = join(ROOT, name);
      // Top-level files and the library's internal folders (_core/, _http/, ...), nothing else.
      if (!/^(_[a-z]+\/)?[a-z_]+\.ts$/.test(name) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/typescript" }).end(readFileSync(file));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => http.close(() => r())));

  test("a script importing mod.ts and client.ts by URL serves and calls a tool", async () => {
    const dir = mkdtempSync(join(TMP, "url-"));
    writeFileSync(
      join(dir, "main.ts"),
      `import { McpServer, serve } from "${base}/mod.ts";
import { connect } from "${base}/client.ts";
const server = new McpServer({ name: "by-url", version: "1.0.0" });
server.tool("hello", {}, () => "hello from a URL import");
const handle = serve(server, { port: 0 });
const client = await connect(handle.url);
const r = await client.callTool("hello", {});
console.log((r.content[0] as { text: string }).text);
await client.close();
await handle.close();
`,
    );
    const host = base.slice("http://".length);
    const r = await run(process.execPath, ["run", `--allow-import=${host}`, "--allow-net=127.0.0.1", "main.ts"], {
      cwd: dir,
      env: { DENO_DIR: join(TMP, "deno-dir-url") },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello from a URL import");
  });
});
