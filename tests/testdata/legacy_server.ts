// Servers the client meets besides this library's: the official SDK's 2025-only McpServer in a child process, and
// hand-made WebSocket servers that answer as a test scripts them (a 2025 server silent or hanging up on
// server/discover, a 2026-07-28 server that misbehaves).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer as createTcpServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { encodeFrame, FrameReader } from "../../bench/ws_frames.ts";
import { runtimeName, waitFor, within } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The official SDK's server, running. */
export interface SdkServer {
  /** Its WebSocket URL. */
  url: string;
  /** Stops it and waits for its exit. */
  close(): Promise<void>;
}

/**
 * Starts the official SDK's McpServer (2025-11-25, no 2026-07-28; one tool,
 * `echo`; name `bench-sdk`) over WebSocket, as bench/hotpath.ts runs it. It
 * lives while its standard input is open.
 */
export async function sdkServer(): Promise<SdkServer> {
  const args = runtimeName === "bun" ? ["run", "bench/server_sdk_ws.ts"] : ["run", "-A", "bench/server_sdk_ws.ts"];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((r) => child.once("close", r));
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  let gone = false;
  exited.then(() => (gone = true));
  await waitFor(() => gone || /READY (\S+)/.test(out), "the SDK server to listen", 60_000);
  if (gone) throw new Error(`the SDK server exited before listening: ${out}`);
  return {
    url: /READY (\S+)/.exec(out)![1],
    async close() {
      child.stdin!.end("exit\n");
      await within(exited, "the SDK server to exit");
    },
  };
}

/** What a {@linkcode scriptedServer} does with a message: answer with a result or an error, say nothing, hang up. */
export type Reply =
  | { result: unknown }
  | { error: { code: number; message: string; data?: unknown } }
  | "silent"
  | "hang up";

/** A WebSocket server made by hand (node:net), answering each message as `reply` says. */
export interface ScriptedServer {
  url: string;
  /** The methods received, in order, over every connection. */
  methods: string[];
  /** The messages received, in order. */
  messages: { id?: unknown; method: string; params?: Record<string, unknown> }[];
  /** How many connections it accepted. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A WebSocket MCP server made by hand (node:net) that answers each request
 * (`id` and `method`) as `reply` says; notifications get no answer.
 */
export async function scriptedServer(
  reply: (msg: { method: string; params?: Record<string, unknown> }) => Reply,
): Promise<ScriptedServer> {
  const messages: ScriptedServer["messages"] = [];
  const methods: string[] = [];
  const sockets = new Set<Socket>();
  let count = 0;
  const srv = createTcpServer((s) => {
    sockets.add(s);
    count++;
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    let head = "";
    let upgraded = false;
    const frames = new FrameReader((opcode, _fin, payload) => {
      if (opcode === 0x8) return void s.end(serverFrame(0x8, payload!.slice(0, 2)));
      if (opcode !== 0x1) return;
      const msg = JSON.parse(new TextDecoder().decode(payload));
      messages.push(msg);
      methods.push(msg.method);
      if (msg.id === undefined || !msg.method) return;
      const r = reply(msg);
      if (r === "hang up") s.end(serverFrame(0x8, new Uint8Array([0x03, 0xe8])));
      else if (r !== "silent") s.write(serverFrame(0x1, JSON.stringify({ jsonrpc: "2.0", id: msg.id, ...r })));
    });
    s.on("data", (chunk: Uint8Array) => {
      if (!upgraded) {
        head += new TextDecoder().decode(chunk);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
        const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
        s.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mcp\r\n\r\n`,
        );
        upgraded = true;
        return;
      }
      frames.push(chunk);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/mcp`,
    methods,
    messages,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/**
 * A 2025-only server: it answers initialize (2025-06-18) and any other
 * request with a tool result, and on server/discover either says nothing
 * ("silent", as the spec warns some servers do) or closes the connection
 * ("hang up", as servers on the Rust SDK do).
 */
export function handMadeLegacyServer(how: "silent" | "hang up"): Promise<ScriptedServer> {
  return scriptedServer(({ method }) => {
    if (method === "server/discover") return how;
    if (method === "initialize") {
      return {
        result: {
          protocolVersion: "2025-06-18",
          capabilities: { tools: {} },
          serverInfo: { name: "old", version: "0" },
        },
      };
    }
    return { result: { content: [{ type: "text", text: "legacy" }] } };
  });
}

/** One unmasked server frame. */
function serverFrame(opcode: number, payload: Uint8Array | string): Uint8Array {
  return encodeFrame(opcode, payload, true, null);
}
