// What users would pick instead: the official SDK's McpServer behind
// StreamableHTTPServerTransport, set up as the SDK's own examples do
// (createMcpExpressApp, i.e. Express with express.json()).
//   stateless: a new McpServer and transport per request (simpleStatelessStreamableHttp)
//   stateful:  one McpServer and transport per session, found by Mcp-Session-Id (simpleStreamableHttp)
// Responses are plain JSON (enableJsonResponse) unless BENCH_SDK_SSE=1: that is the SDK's fastest setting.
// Run: bun bench/server_sdk.ts stateless|stateful   (deno run -A also works)
import process from "node:process";
import { randomUUID } from "node:crypto";
import { z } from "zod";
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { serveControl } from "./common.ts";

const mode = process.argv[2] === "stateful" ? "stateful" : "stateless";
const enableJsonResponse = process.env.BENCH_SDK_SSE !== "1";

function getServer(): McpServer {
  const server = new McpServer({ name: "bench-sdk", version: "1.0.0" });
  server.registerTool("echo", {
    description: "Echoes its text",
    inputSchema: { text: z.string() },
  }, ({ text }: { text: string }) => ({ content: [{ type: "text", text }] }));
  return server;
}

// deno-lint-ignore no-explicit-any
type Req = any;
// deno-lint-ignore no-explicit-any
type Res = any;

const app = createMcpExpressApp();
const transports = new Map<string, StreamableHTTPServerTransport>();

function fail(res: Res, status: number, message: string) {
  if (!res.headersSent) res.status(status).json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null });
}

if (mode === "stateless") {
  app.post("/mcp", async (req: Req, res: Res) => {
    const server = getServer();
    try {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
      res.on("close", () => {
        transport.close();
        server.close();
      });
    } catch (e) {
      fail(res, 500, `Internal server error: ${e}`);
    }
  });
} else {
  app.post("/mcp", async (req: Req, res: Res) => {
    try {
      const sid = req.headers["mcp-session-id"] as string | undefined;
      let transport = sid ? transports.get(sid) : undefined;
      if (!transport) {
        if (sid || req.body?.method !== "initialize") return fail(res, 400, "Bad Request: no valid session ID");
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse,
          onsessioninitialized: (id: string) => void transports.set(id, t),
        });
        t.onclose = () => {
          if (t.sessionId) transports.delete(t.sessionId);
        };
        await getServer().connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, req.body);
    } catch (e) {
      fail(res, 500, `Internal server error: ${e}`);
    }
  });
  app.delete("/mcp", async (req: Req, res: Res) => {
    const t = transports.get(req.headers["mcp-session-id"] as string);
    if (!t) return fail(res, 404, "Session not found");
    await t.handleRequest(req, res);
  });
}

const listener = app.listen(0, "127.0.0.1", () => {
  const port = (listener.address() as { port: number }).port;
  serveControl(`http://127.0.0.1:${port}/mcp`, () => ({ sessions: transports.size }));
});
