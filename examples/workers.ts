/**
 * One process, one port, one server, on every core: N workers each serve
 * the same McpServer on the same port (`reusePort`), and a
 * `BroadcastChannel` cluster makes them one server (notifications reach
 * every worker's clients; an HTTP session works through any worker).
 *
 *   deno run --allow-net=127.0.0.1 --allow-env --allow-read examples/workers.ts
 *   bun run examples/workers.ts
 *
 * Reads PORT (default 8080) and WORKERS (default: the number of cores).
 * Linux spreads connections over the workers; elsewhere `reusePort` may
 * not be available.
 */
import { z } from "zod";
import { broadcastCluster, McpServer, serve } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;
const env = (name: string): string | undefined => rt.Deno?.env.get(name) ?? rt.process?.env[name];
const inWorker = rt.Bun ? !rt.Bun.isMainThread : typeof rt.WorkerGlobalScope === "function";

if (inWorker) {
  const number = await new Promise<number>((resolve) =>
    rt.addEventListener("message", (e: MessageEvent) => resolve(e.data), { once: true })
  );
  const server = new McpServer({
    name: "workers",
    version: "1.0.0",
    cluster: broadcastCluster({ name: "workers-example" }),
  });
  server.tool("worker", { description: "Which worker answers" }, () => `worker ${number}`);
  server.tool("shout", {
    description: "Send a log message to every client of every worker",
    input: z.object({ text: z.string() }),
  }, ({ text }) => {
    server.log("notice", text, `worker ${number}`);
    return "shouted";
  });
  const handle = serve(server, { port: Number(env("PORT") ?? 8080), reusePort: true });
  rt.postMessage(handle.port);
} else if (import.meta.main) {
  const count = Number(env("WORKERS") ?? navigator.hardwareConcurrency ?? 2);
  const ports = await Promise.all(Array.from({ length: count }, (_, i) =>
    new Promise<number>((resolve) => {
      const w = new Worker(import.meta.url, { type: "module" });
      w.onmessage = (e) => resolve(e.data);
      w.postMessage(i + 1);
    })));
  console.log(`${count} workers serving MCP on ws://127.0.0.1:${ports[0]}/mcp and http://127.0.0.1:${ports[0]}/mcp`);
}
