// The Deno side of the WebSocket transport: `Deno.upgradeWebSocket`, its events into the shared core.

import { type Admitted, type Conn, deferred, fitReason, type WsCore } from "./core.ts";
import { runtime } from "../_edge/admission.ts";

/** Upgrades an admitted request and wires the socket to the core. */
export function upgradeDeno(core: WsCore, req: Request, admitted: Admitted): Response {
  const keepAlive = core.keepAlive;
  const { socket, response } = runtime.Deno.upgradeWebSocket(req, {
    protocol: admitted.protocol,
    // Deno pings after idleTimeout/2 of silence and closes after idleTimeout.
    idleTimeout: keepAlive > 0 ? Math.max(1, Math.ceil((2 * keepAlive) / 1000)) : 0,
  }) as { socket: WebSocket; response: Response };
  const ended = deferred();
  const conn: Conn = {
    auth: admitted.auth,
    expires: admitted.expires,
    ended: ended.promise,
    close(code, reason) {
      try {
        socket.close(code, fitReason(reason));
      } catch { /* already closing */ }
      core.gone(conn);
    },
  };
  core.add(conn);
  // Reading bufferedAmount is a call into the runtime: look at it once per 64 KiB sent (or per the limit,
  // when that is lower), not on every frame.
  const every = Math.min(65_536, core.maxBufferedBytes);
  let unchecked = 0;
  socket.onopen = () =>
    core.open(conn, {
      send(data) {
        socket.send(data);
        if ((unchecked += data.length) < every) return;
        unchecked = 0;
        if (socket.bufferedAmount > core.maxBufferedBytes) conn.close(1008, "client is not reading: send buffer full");
      },
      close: (reason) => conn.close(1000, reason),
    });
  socket.onmessage = (e) => core.message(conn, e.data);
  socket.onclose = () => (core.gone(conn), ended.resolve());
  socket.onerror = () => (core.gone(conn), ended.resolve());
  return response;
}
