// The Bun side of the WebSocket transport: `server.upgrade()` and the `websocket` handlers of
// `Bun.serve`, their events into the shared core.

import { type Admitted, type Conn, deferred, fitReason, type WsCore } from "./core.ts";
import { text } from "../_edge/admission.ts";

/** The subset of Bun's `Server` that {@linkcode WebSocketHandler.fetch} uses. */
export interface BunServerLike {
  /** Upgrades a request to a WebSocket. */
  upgrade(req: Request, options: { headers?: Record<string, string>; data: unknown }): boolean;
}

/** The subset of Bun's `ServerWebSocket` the handler uses. */
export interface BunSocketLike {
  /** Connection state attached at upgrade. */
  data: unknown;
  /** Sends a frame; returns bytes sent, -1 when queued under backpressure, 0 when dropped. */
  send(data: string): number;
  /** Sends a ping frame. */
  ping?(): unknown;
  /** Closes with a code and reason. */
  close(code?: number, reason?: string): void;
  /** Bytes queued. */
  getBufferedAmount?(): number;
}

/** Bun's `websocket` handler object, for `Bun.serve({ websocket })`. */
export interface BunWebSocketHandlers {
  /** A socket opened. */
  open(ws: BunSocketLike): void;
  /** A frame arrived. */
  message(ws: BunSocketLike, message: string | Uint8Array): void;
  /** A socket closed. */
  close(ws: BunSocketLike, code: number, reason: string): void;
  /** A pong arrived. */
  pong(ws: BunSocketLike): void;
  /** Largest frame in bytes; Bun closes with 1009 beyond it. */
  maxPayloadLength: number;
  /** Seconds without traffic before Bun closes the socket; 0, since the handler pings by itself. */
  idleTimeout: number;
  /** Whether Bun sends pings of its own; false, since the handler pings by itself. */
  sendPings: boolean;
  /** Bytes queued before backpressure. */
  backpressureLimit: number;
  /** Whether Bun closes a socket over the backpressure limit. */
  closeOnBackpressureLimit: boolean;
}

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
