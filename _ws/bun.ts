// The Bun side of the WebSocket transport: `server.upgrade()` and the `websocket` handlers of
// `Bun.serve`, their events into the shared core.

import type { BunServerLike, BunSocketLike, BunWebSocketHandlers } from "../transport_ws.ts";
import { type Admitted, type Conn, deferred, fitReason, type WsCore } from "./core.ts";
import { text } from "../_edge/admission.ts";

/** Whether `x` is Bun's server (Deno passes its connection info in that place). */
export function isBunServer(x: unknown): x is BunServerLike {
  return typeof (x as BunServerLike | undefined)?.upgrade === "function";
}

interface SocketData {
  auth: unknown;
  expires?: number;
  conn?: Conn;
  ended?: () => void;
}

/** Upgrades an admitted request; Bun then calls the handlers of {@linkcode bunWebSocket}. */
export function upgradeBun(req: Request, bunServer: BunServerLike, admitted: Admitted): Response | undefined {
  const data: SocketData = { auth: admitted.auth, expires: admitted.expires };
  const headers = admitted.protocol ? { "Sec-WebSocket-Protocol": admitted.protocol } : undefined;
  if (bunServer.upgrade(req, { headers, data })) return undefined;
  return text(400, "WebSocket upgrade failed");
}

/** The `websocket` handlers for `Bun.serve`, feeding the core. */
export function bunWebSocket(core: WsCore): BunWebSocketHandlers {
  const connOf = (ws: BunSocketLike) => (ws.data as SocketData).conn;
  return {
    open(ws) {
      const data = ws.data as SocketData;
      const ended = deferred();
      data.ended = ended.resolve;
      const conn: Conn = {
        auth: data.auth,
        expires: data.expires,
        ended: ended.promise,
        alive: true,
        ping: core.keepAlive > 0 && ws.ping ? () => ws.ping!() : undefined,
        close(code, reason) {
          try {
            ws.close(code, fitReason(reason));
          } catch { /* already closed */ }
          core.gone(conn);
        },
      };
      data.conn = conn;
      core.open(conn, {
        send(text) {
          const r = ws.send(text);
          if (r === 0 || (r === -1 && (ws.getBufferedAmount?.() ?? 0) > core.maxBufferedBytes)) {
            conn.close(1008, "client is not reading: send buffer full");
          }
        },
        close: (reason) => conn.close(1000, reason),
      });
    },
    message(ws, msg) {
      const conn = connOf(ws);
      if (conn) core.message(conn, msg);
    },
    close(ws) {
      const conn = connOf(ws);
      if (conn) core.gone(conn);
      (ws.data as SocketData).ended?.();
    },
    pong(ws) {
      const conn = connOf(ws);
      if (conn) conn.alive = true;
    },
    maxPayloadLength: core.maxMessageBytes,
    idleTimeout: 0,
    sendPings: false,
    backpressureLimit: core.maxBufferedBytes,
    closeOnBackpressureLimit: true,
  };
}
