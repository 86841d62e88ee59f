// The official SDK's McpServer over WebSocket, for the WebSocket rows of bench/hotpath.ts. The SDK ships
// no server-side WebSocket transport, so this is the smallest one: Deno.upgradeWebSocket or Bun.serve's
// websocket handlers feed text frames into a Transport (the SDK's interface in shared/transport.js), one
// McpServer per connection (a Protocol binds one transport). Each frame is parsed and checked against
// JSONRPCMessageSchema as the SDK's own transports do (stdio, the WebSocket client transport).
// Run: deno run -A bench/server_sdk_ws.ts | bun bench/server_sdk_ws.ts
import { z } from "zod";
// Under Deno (npm resolution, no node_modules) these imports are untyped: see bench/server_sdk.ts.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { rt, serveControl } from "./common.ts";

/** What this transport needs of a socket: Deno's WebSocket and Bun's ServerWebSocket both have it. */
interface Socket {
  send(data: string): unknown;
  close(code?: number, reason?: string): void;
}

// deno-lint-ignore no-explicit-any
type Message = any;

/** The SDK's Transport over one server-side WebSocket. */
class ServerWebSocketTransport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: Message, extra?: unknown) => void;
  sessionId: string = crypto.randomUUID();
  #closed = false;

  constructor(readonly socket: Socket) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: Message): Promise<void> {
    if (!this.#closed) this.socket.send(JSON.stringify(message));
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.#closed) this.socket.close(1000);
    this.closed();
    return Promise.resolve();
  }

  /** A text frame from the socket. */
  frame(data: string): void {
    let message: Message;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(data));
    } catch (e) {
      this.onerror?.(e as Error);
      return;
    }
    this.onmessage?.(message);
  }

  /** The socket closed (or close() was called): onclose once. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}

function getServer(): McpServer {
  const server = new McpServer({ name: "bench-sdk", version: "1.0.0" });
  server.registerTool("echo", {
    description: "Echoes its text",
    inputSchema: { text: z.string() },
  }, ({ text }: { text: string }) => ({ content: [{ type: "text", text }] }));
  return server;
}

let open = 0;

function connect(socket: Socket): ServerWebSocketTransport {
  const transport = new ServerWebSocketTransport(socket);
  open++;
  // connect() only awaits transport.start(), which resolves at once: frames that arrive meanwhile are queued
  // by the socket's event loop turn, after onmessage is set.
  void getServer().connect(transport);
  return transport;
}

if (rt.Bun) {
  type BunSocket = Socket & { data: { transport?: ServerWebSocketTransport } };
  const server = rt.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req: Request, srv: { upgrade(r: Request, o: unknown): boolean }) {
      return srv.upgrade(req, { headers: { "Sec-WebSocket-Protocol": "mcp" }, data: {} })
        ? undefined
        : new Response("upgrade failed", { status: 400 });
    },
    websocket: {
      open(ws: BunSocket) {
        ws.data.transport = connect(ws);
      },
      message(ws: BunSocket, data: string | Uint8Array) {
        ws.data.transport?.frame(typeof data === "string" ? data : new TextDecoder().decode(data));
      },
      close(ws: BunSocket) {
        open--;
        ws.data.transport?.closed();
      },
      maxPayloadLength: 4 * 1024 * 1024,
    },
  });
  serveControl(`ws://127.0.0.1:${server.port}/mcp`, () => ({ sessions: open }));
} else {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "mcp" });
    let transport: ServerWebSocketTransport | undefined;
    socket.onopen = () => (transport = connect(socket));
    socket.onmessage = (e) => transport?.frame(typeof e.data === "string" ? e.data : String(e.data));
    socket.onclose = () => {
      open--;
      transport?.closed();
    };
    return response;
  });
  serveControl(`ws://127.0.0.1:${server.addr.port}/mcp`, () => ({ sessions: open }));
}
