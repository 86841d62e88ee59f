// The client's error class. It lives below client.ts, which re-exports it,
// so that the internals client.ts imports never import client.ts back at
// run time (only its types).

import { ErrorCode, McpError } from "../jsonrpc.ts";
import type { CloseInfo } from "../client.ts";

/**
 * A JSON-RPC error answer from the server, or a failure of the client
 * itself: a timeout ({@linkcode ErrorCode.RequestTimeout}, -32001) or a lost
 * connection ({@linkcode ErrorCode.ConnectionClosed}, -32000).
 *
 * @example
 * ```ts
 * import { connect, McpClientError } from "../client.ts";
 * const client = await connect("ws://127.0.0.1:8080/mcp");
 * try {
 *   await client.readResource("nope://x");
 * } catch (e) {
 *   if (e instanceof McpClientError) console.log(e.code, e.message); // -32002 Resource not found: nope://x
 * }
 * await client.close();
 * ```
 */
export class McpClientError extends McpError {
  /** The method of the request that failed, when there was one. */
  readonly method?: string;

  /** Creates an error with a JSON-RPC `code`, a `message`, optional `data` and the failed `method`. */
  constructor(code: number, message: string, data?: unknown, method?: string) {
    super(code, message, data);
    this.name = "McpClientError";
    this.method = method;
  }
}

/** The error of a request (or of a server → client request's handler) cut off by a closed connection. */
export function closedError(info: CloseInfo, method?: string): McpClientError {
  const how = `code ${info.code}${info.reason ? `: ${info.reason}` : ""}`;
  const what = method ? ` before the answer to ${method} arrived` : "";
  return new McpClientError(ErrorCode.ConnectionClosed, `Connection closed (${how})${what}`, info, method);
}
