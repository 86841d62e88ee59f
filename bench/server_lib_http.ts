// HOOK(lib-http): this library over its own Streamable HTTP transport, for the HTTP rows of
// bench/run.ts. serve() answers WebSocket and Streamable HTTP on one path; this prints the HTTP URL.
// The library's HTTP transport is session-based (initialize, then Mcp-Session-Id on every request),
// so only "stateful" is served; "stateless" exits with a FAILED line naming why.
// Run: bun bench/server_lib_http.ts stateful   (deno run -A also works)
// BENCH_IMPL=<path to a mod.ts> serves another copy of the library (for trying changes).
import process from "node:process";
import { z } from "zod";
import { serveControl } from "./common.ts";

if (process.argv[2] === "stateless") {
  console.log(`FAILED ${JSON.stringify({ error: "the library's Streamable HTTP has no stateless mode" })}`);
  process.exit(1);
}

const impl = process.env.BENCH_IMPL ? new URL(process.env.BENCH_IMPL, `file://${process.cwd()}/`).href : "../mod.ts";
const lib = await import(impl) as typeof import("../mod.ts");

const server = new lib.McpServer({ name: "bench", version: "1.0.0" });
server.tool("echo", {
  description: "Echoes its text",
  input: z.object({ text: z.string() }),
}, ({ text }) => text);

const handle = lib.serve(server, { port: 0 });
const httpUrl = (handle as { httpUrl?: URL }).httpUrl;
if (!httpUrl) {
  console.log(
    `FAILED ${JSON.stringify({ error: "serve() of this library copy has no Streamable HTTP (no httpUrl)" })}`,
  );
  process.exit(1);
}
serveControl(httpUrl.href, () => ({ sessions: server.sessions.size }));
