// Other MCP server libraries over Streamable HTTP, for the HTTP rows of bench/hotpath.ts: the same echo tool
// (zod input { text: string }, answers the text), stateful sessions, served by Deno.serve / Bun.serve the
// way each library's README shows for Deno and Bun.
//   mcp-lite: McpServer({ schemaAdapter: z.toJSONSchema }) + StreamableHttpTransport({ sessionAdapter:
//             InMemorySessionAdapter }) (the README's "single server" setup); transport.bind(server) is the
//             fetch handler. It answers plain JSON when the request's Accept has no text/event-stream.
//   tmcp:     McpServer({ adapter: ZodJsonSchemaAdapter }) + HttpTransport (in-memory sessions by default);
//             transport.respond(req) is the fetch handler. It always answers with a short SSE stream.
// Run: bun bench/server_peer_http.ts mcp-lite|tmcp   (deno run -A also works)
//
// The packages are pinned in bench/peers/package.json. Bun loads them from bench/peers/node_modules (bench/hotpath.ts
// installs it); Deno loads the same versions as npm: specifiers. They are imported dynamically with the small typed
// views below, so `deno check bench/` does not type-check them (Deno's root config has no node_modules for them).
import { readFileSync } from "node:fs";
import process from "node:process";
import { rt, serveControl } from "./common.ts";

const which = process.argv[2];
const PEERS = new URL("./peers/", import.meta.url);
const pinned = (JSON.parse(readFileSync(new URL("package.json", PEERS), "utf8")) as {
  dependencies: Record<string, string>;
}).dependencies;

/** A package of bench/peers/package.json, at its pinned version, on this runtime. */
async function load<T>(name: string): Promise<T> {
  if (rt.Bun) return await import(rt.Bun.resolveSync(name, PEERS.pathname)) as T;
  // A specifier Deno cannot see statically: it resolves it from npm when the server starts.
  const spec = `npm:${name}@${pinned[name]}`;
  return await import(spec) as T;
}

interface Zod {
  z: {
    object(shape: Record<string, unknown>): unknown;
    string(): unknown;
    toJSONSchema(schema: unknown): unknown;
  };
}
type Echo = (args: { text: string }) => { content: { type: "text"; text: string }[] };
type FetchHandler = (req: Request) => Promise<Response>;

const { z } = await load<Zod>("zod");
const input = z.object({ text: z.string() });
const echo: Echo = ({ text }) => ({ content: [{ type: "text", text }] });

let handler: FetchHandler;

if (which === "mcp-lite") {
  interface McpLite {
    McpServer: new (o: { name: string; version: string; schemaAdapter: (s: unknown) => unknown }) => {
      tool(name: string, def: { description: string; inputSchema: unknown; handler: Echo }): unknown;
    };
    StreamableHttpTransport: new (o: { sessionAdapter: unknown }) => { bind(server: unknown): FetchHandler };
    InMemorySessionAdapter: new (o: { maxEventBufferSize: number }) => unknown;
  }
  const lite = await load<McpLite>("mcp-lite");
  const server = new lite.McpServer({
    name: "bench-mcp-lite",
    version: "1.0.0",
    schemaAdapter: (schema) => z.toJSONSchema(schema),
  });
  server.tool("echo", { description: "Echoes its text", inputSchema: input, handler: echo });
  const transport = new lite.StreamableHttpTransport({
    sessionAdapter: new lite.InMemorySessionAdapter({ maxEventBufferSize: 1024 }),
  });
  handler = transport.bind(server);
} else if (which === "tmcp") {
  interface Tmcp {
    McpServer: new (
      info: { name: string; version: string; description: string },
      o: { adapter: unknown; capabilities: Record<string, unknown> },
    ) => { tool(def: { name: string; description: string; schema: unknown }, handler: Echo): void };
  }
  interface TmcpHttp {
    HttpTransport: new (server: unknown, o: { path: string | null }) => {
      respond(req: Request): Promise<Response | null>;
    };
  }
  interface TmcpZod {
    ZodJsonSchemaAdapter: new () => unknown;
  }
  const [tmcp, http, adapter] = await Promise.all([
    load<Tmcp>("tmcp"),
    load<TmcpHttp>("@tmcp/transport-http"),
    load<TmcpZod>("@tmcp/adapter-zod"),
  ]);
  const server = new tmcp.McpServer(
    { name: "bench-tmcp", version: "1.0.0", description: "bench" },
    { adapter: new adapter.ZodJsonSchemaAdapter(), capabilities: { tools: { listChanged: true } } },
  );
  server.tool({ name: "echo", description: "Echoes its text", schema: input }, echo);
  const transport = new http.HttpTransport(server, { path: "/mcp" });
  handler = async (req) => (await transport.respond(req)) ?? new Response("Not Found", { status: 404 });
} else {
  console.log(`FAILED ${JSON.stringify({ error: `usage: server_peer_http.ts mcp-lite|tmcp (got ${which})` })}`);
  process.exit(2);
}

if (rt.Bun) {
  const server = rt.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
  serveControl(`http://127.0.0.1:${server.port}/mcp`);
} else {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  serveControl(`http://127.0.0.1:${server.addr.port}/mcp`);
}
