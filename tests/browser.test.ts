// client.ts in a real browser: headless Chromium loads a page that imports
// the client (bundled to JavaScript by the runtime under test: `deno bundle`
// or `bun build`), calls the example server and renders the results; the
// test reads the rendered DOM with --dump-dom.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServeHandle } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import { chromiumSkip, dumpDom, run, runtimeName, start } from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SKIP = chromiumSkip;
if (SKIP) console.log(`browser.test.ts ${SKIP}`);

/** Bundles client.ts for the browser with the runtime running this test. */
async function bundle(dir: string): Promise<string> {
  const out = join(dir, "client.js");
  const args = runtimeName === "bun"
    ? ["build", "client.ts", "--target=browser", "--format=esm", "--outfile", out]
    : ["bundle", "--platform=browser", "--format=esm", "-o", out, "client.ts"];
  const r = await run(process.execPath, args, { cwd: ROOT, timeout: 30_000 });
  assert.equal(r.code, 0, `bundling failed:\n${r.stderr}`);
  return readFileSync(out, "utf8");
}

function page(mcpUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>mcp client</title></head><body>
<p id="status">pending</p>
<p id="server">pending</p>
<p id="tools">pending</p>
<pre id="result">pending</pre>
<p id="progress">pending</p>
<p id="resource">pending</p>
<p id="headers">pending</p>
<!-- The load event (and so --dump-dom) waits for this image until the script is done. -->
<img src="/hold" alt="">
<script type="module">
import { connect } from "/client.js";
const show = (id, text) => (document.getElementById(id).textContent = text);
try {
  const client = await connect(${JSON.stringify(mcpUrl)}, { clientInfo: { name: "browser", version: "1.0.0" } });
  show("server", client.serverInfo.name + " " + client.protocolVersion);
  show("tools", (await client.listAllTools()).map((t) => t.name).join(","));
  const sum = await client.callTool("add", { a: 20, b: 22 });
  show("result", sum.content[0].text);
  const steps = [];
  await client.callTool("slow", { ms: 30, steps: 3 }, { onProgress: (p) => steps.push(p.progress + "/" + p.total) });
  show("progress", steps.join(" "));
  show("resource", (await client.readResource("config://app")).contents[0].text);
  try {
    await connect(${JSON.stringify(mcpUrl)}, { headers: { Authorization: "Bearer x" } });
    show("headers", "no error");
  } catch (e) {
    show("headers", e.name);
  }
  await client.close();
  show("status", "done");
} catch (e) {
  show("status", "failed: " + (e && e.message));
} finally {
  await fetch("/release", { method: "POST" });
}
</script>
</body></html>`;
}

describe("client.ts in headless Chromium", () => {
  let mcp: ServeHandle;
  let http: Server;
  let httpUrl: string;
  let dir: string;
  let release: () => void = () => {};
  let holdTimer: ReturnType<typeof setTimeout> | undefined;

  before(async () => {
    if (SKIP) return;
    dir = mkdtempSync(join(tmpdir(), "mcp-browser-"));
    const js = await bundle(dir);
    mcp = start(createServer());
    const html = page(mcp.url.href);
    const released = new Promise<void>((r) => {
      release = r;
      holdTimer = setTimeout(r, 20_000); // never hold the page forever
    });
    http = createHttpServer((req, res) => {
      if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
      } else if (req.url === "/client.js") {
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(js);
      } else if (req.url === "/hold") {
        released.then(() => res.writeHead(204).end());
      } else if (req.url === "/release") {
        release();
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    httpUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/`;
  });

  after(async () => {
    if (SKIP) return;
    release();
    clearTimeout(holdTimer);
    (http as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((r) => http.close(() => r()));
    await mcp.close({ timeout: 100 });
    rmSync(dir, { recursive: true, force: true });
  });

  test("connects, lists tools, calls a tool with progress, reads a resource; headers are refused", {
    skip: SKIP,
  }, async () => {
    const profile = mkdtempSync(join(dir, "profile-"));
    const r = await dumpDom(httpUrl, profile, { cwd: ROOT, timeout: 45_000 });
    assert.equal(r.code, 0, `chromium failed:\n${r.stderr.slice(-2000)}`);
    const dom = r.stdout;
    assert.match(dom, /<p id="status">done<\/p>/, `page status; DOM:\n${dom.slice(0, 600)}`);
    assert.match(dom, /<p id="server">example 2025-11-25<\/p>/);
    assert.match(dom, /<p id="tools">echo,add,divide,slow,greet_user,summarize,list_roots<\/p>/);
    assert.match(dom, /<pre id="result">42<\/pre>/);
    assert.match(dom, /<p id="progress">1\/3 2\/3 3\/3<\/p>/);
    assert.match(dom, /<p id="resource">\{"theme":"dark","debug":false\}<\/p>/);
    assert.match(dom, /<p id="headers">TypeError<\/p>/);
  });
});
