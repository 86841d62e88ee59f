// The limit: a bare WebSocket server (Deno.upgradeWebSocket or Bun.serve's
// websocket handlers) that answers every text frame with a canned frame of
// the size of a tools/call result. No parsing, no MCP.
// Run: deno run -A --v8-flags=--expose-gc bench/server_echo.ts | bun bench/server_echo.ts
// BENCH_ASYNC=1: answer from a promise continuation instead of inside the message event.
import process from "node:process";
import { resultFrame, rt, serveControl } from "./common.ts";

const REPLY = resultFrame(1_000_000);
const later = process.env.BENCH_ASYNC === "1";
let open = 0;

if (rt.Bun) {
  const server = rt.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req: Request, srv: { upgrade(r: Request, o: unknown): boolean }) {
      return srv.upgrade(req, { headers: { "Sec-WebSocket-Protocol": "mcp" }, data: {} })
        ? undefined
        : new Response("upgrade failed", { status: 400 });
    },
    websocket: {
      open() {
        open++;
      },
      message(ws: { send(s: string): number }) {
        if (later) Promise.resolve().then(() => ws.send(REPLY));
        else ws.send(REPLY);
      },
      close() {
        open--;
      },
      maxPayloadLength: 4 * 1024 * 1024,
    },
  });
  serveControl(`ws://127.0.0.1:${server.port}/mcp`, () => ({ sessions: open }));
} else {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "mcp" });
    socket.onopen = () => open++;
    socket.onmessage = later ? () => Promise.resolve().then(() => socket.send(REPLY)) : () => socket.send(REPLY);
    socket.onclose = () => open--;
    return response;
  });
  serveControl(`ws://127.0.0.1:${server.addr.port}/mcp`, () => ({ sessions: open }));
}
