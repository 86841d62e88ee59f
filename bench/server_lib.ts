// This library over WebSocket: serve(server, { port: 0 }) with one echo tool
// whose input is a zod object, the hot path users hit.
// Run: deno run -A --v8-flags=--expose-gc bench/server_lib.ts | bun bench/server_lib.ts
// BENCH_IMPL=<path to a mod.ts> serves another copy of the library (for trying changes).
// BENCH_ASYNC=1 makes the echo handler async.
import process from "node:process";
import { z } from "zod";
import { serveControl } from "./common.ts";

const impl = process.env.BENCH_IMPL ? new URL(process.env.BENCH_IMPL, `file://${process.cwd()}/`).href : "../mod.ts";
const { McpServer, serve } = await import(impl) as typeof import("../mod.ts");

const server = new McpServer({ name: "bench", version: "1.0.0" });
// BENCH_ASYNC=1: the handler is async (answers from a promise continuation), as tools doing I/O are.
const asyncHandler = process.env.BENCH_ASYNC === "1";
server.tool("echo", {
  description: "Echoes its text",
  input: z.object({ text: z.string() }),
}, asyncHandler ? async ({ text }) => await Promise.resolve(text) : ({ text }) => text);

const handle = serve(server, { port: 0 });
serveControl(handle.url.href, () => ({ sessions: server.sessions.size }));
