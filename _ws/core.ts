// What the WebSocket core (transport_ws.ts) and its runtime adapters (deno.ts, bun.ts)
// share: a socket as the core sees it, and the core's side of every socket.

import type { Channel } from "../channel.ts";
import type { Session } from "../session.ts";

/** One socket, as the shared core sees it; the runtime adapters make them. */
export interface Conn {
  session?: Session;
  auth: unknown;
  /** When the connection's access token expires, in ms since the epoch; the socket closes then. */
  expires?: number;
  /** Cancels the close at `expires`. */
  expiry?: () => void;
  close(code: number, reason: string): void;
  /** Resolves when the socket has really closed (its close frame is out). */
  ended: Promise<void>;
  /** Bun only: a pong (or any frame) arrived since the last keep-alive ping. */
  alive?: boolean;
  ping?(): void;
}

/** What the runtime adapters call: the core's side of every socket. */
export interface WsCore {
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  readonly keepAlive: number;
  /** A socket is open: count it and start its session on `channel`. */
  open(conn: Conn, channel: Channel): void;
  /** Counts a socket before it opens (Deno upgrades, then opens). */
  add(conn: Conn): void;
  message(conn: Conn, data: unknown): void;
  gone(conn: Conn): void;
}

/** What the admission checks found: who the client is, and the subprotocol to answer with. */
export interface Admitted {
  auth: unknown;
  /** When the access token expires, in ms since the epoch. */
  expires?: number;
  protocol?: string;
}

/** A promise and the function that resolves it. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A close reason that fits a close frame: at most 123 bytes of UTF-8. Deno
 * throws on a longer one (and the socket would stay open); Bun cuts it.
 */
export function fitReason(reason: string): string {
  if (reason.length <= 41) return reason; // 41 characters are at most 123 bytes
  let out = reason.slice(0, 123);
  while (utf8Length(out) > 123) out = out.slice(0, -1);
  // A cut through a surrogate pair would leave half a character.
  const last = out.charCodeAt(out.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? out.slice(0, -1) : out;
}

/** The UTF-8 length of a string, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) (n += 4, i++);
    else n += 3;
  }
  return n;
}
