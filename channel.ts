/**
 * The contract between a transport and the dispatcher. A transport opens a
 * {@linkcode Session} per connection with `McpServer.connect(channel)`,
 * feeds it what the client sent, and carries what the session sends through
 * the {@linkcode Channel}. The {@linkcode SendMeta} of each message tells
 * the transport what it needs to route and answer it (which request it
 * answers, whether it is an error and with which code), so no transport
 * reads a frame the dispatcher wrote.
 *
 * @module
 */

import type { RequestId } from "./jsonrpc.ts";

/**
 * The link a transport gives a session: send one text message, or close.
 *
 * @example A channel over a WebSocket
 * ```ts
 * import type { Channel } from "./mod.ts";
 * function channelOf(socket: WebSocket): Channel {
 *   return { send: (text) => socket.send(text), close: (reason) => socket.close(1000, reason) };
 * }
 * ```
 */
export interface Channel {
  /** Sends one JSON-RPC message (or batch) as text; `meta` says what it is. */
  send(text: string, meta?: SendMeta): void;
  /** Ends the connection from the server side (a socket closes normally, with the reason). */
  close(reason: string): void;
  /** Called when a client request ends without a response (it was cancelled). */
  noResponse?(id: RequestId): void;
}

/** What an outgoing message is, for transports that route or answer per request (HTTP). A socket ignores it. */
export interface SendMeta {
  /** The message is the response to this client request (the ids of a batch for a batch response). */
  responseTo?: RequestId | RequestId[];
  /** The message was sent by the handler of this client request (progress, log, a request to the client). */
  relatedTo?: RequestId;
  /** The message is an error response, with this JSON-RPC error code. */
  error?: number;
  /**
   * The error refuses a request for want of these OAuth scopes
   * (`InsufficientScope`): HTTP answers it with 403 and a scope challenge.
   */
  requiredScopes?: readonly string[];
  /**
   * The message refuses a whole incoming message (not JSON, a batch the
   * protocol version does not allow): it answers no request.
   */
  refusal?: boolean;
}

/** What a transport knows about a connection when it opens. */
export interface SessionInit {
  /** The result of the `authenticate` hook, exposed to handlers as `ctx.auth`. */
  auth?: unknown;
  /** The transport's name, e.g. `"websocket"`. */
  transport?: string;
}

/**
 * The dispatcher's refusal of a whole message, returned by
 * `Session.dispatch` for the transport to answer on the request that carried
 * it (HTTP answers it with status 400).
 */
export interface Refusal {
  /** The JSON-RPC error response, with id null. */
  readonly text: string;
  /** Its error code. */
  readonly code: number;
}

/** Options of a transport's `close()`. */
export interface CloseOptions {
  /** Milliseconds to let requests in flight finish before their handlers are aborted. Default 10,000. */
  timeout?: number;
}
