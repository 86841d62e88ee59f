/**
 * URL-mode elicitation: the server sends the user to a web page of its own
 * for what must not pass through the client (an API key, a third-party
 * OAuth consent, a payment). `ctx.elicitUrl` asks the client
 * to open a URL; {@linkcode UrlElicitationRequiredError} refuses a request
 * until the user has been there; `session.elicitationComplete`
 * tells the client the page is done. Protocol 2025-11-25 and, through
 * `input_required`, 2026-07-28.
 *
 * @module
 */

import { ErrorCode, McpError } from "./jsonrpc.ts";
import type { ClientRequestOptions } from "./session.ts";
import { urlElicitation } from "./_dispatch/elicitation.ts";

/** One page the user must visit: why, where, and the id that names it in `notifications/elicitation/complete`. */
export interface UrlElicitation {
  /** Why the user should open the page, shown by the client. */
  message: string;
  /** An absolute `http:` or `https:` URL. */
  url: string;
  /** A unique id; a random UUID when absent. */
  elicitationId?: string;
}

/** Options of `ctx.elicitUrl`. */
export interface ElicitUrlOptions extends ClientRequestOptions {
  /** The elicitation's id (unique on this server); a random UUID when absent. */
  elicitationId?: string;
}

/**
 * The user's answer to a URL elicitation. `accept` means they agreed to open
 * the page, not that they finished there: the server learns that from its
 * own web route.
 */
export interface UrlElicitResult {
  /** Whether the user agreed to open the URL (`accept`), refused (`decline`) or dismissed the prompt (`cancel`). */
  action: "accept" | "decline" | "cancel";
  /**
   * The elicitation's id, to pass to `session.elicitationComplete`. Under
   * 2026-07-28 it is not sent (the protocol has none); pass your own
   * `elicitationId` to keep the same one across a retry's rounds.
   */
  elicitationId: string;
}

/**
 * Thrown by a handler that cannot go on until the user has visited one or
 * more pages. Under 2025-11-25 the client gets JSON-RPC error -32042 with
 * the pages in `data.elicitations` (a tool call included: it is no tool
 * error); under 2026-07-28 it gets an `input_required` result asking for
 * the same URL elicitations, and its retry runs the handler again.
 *
 * @example A tool that needs the user's account at another service
 * ```ts
 * import { McpServer, type OAuthToken, type Session, UrlElicitationRequiredError } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const tokens = new Map<string, string>(); // user -> token, filled by the server's /connect route
 * const waiting = new Map<string, Session>(); // elicitationId -> session, for the completion notification
 * server.tool("list_repos", {}, (_args, ctx) => {
 *   const user = (ctx.auth as OAuthToken | undefined)?.subject; // a stable id, not String() of an object
 *   if (!user) throw new Error("Sign in first");
 *   if (!tokens.has(user)) {
 *     const elicitationId = crypto.randomUUID();
 *     waiting.set(elicitationId, ctx.session);
 *     throw new UrlElicitationRequiredError({
 *       message: "Connect your code host account",
 *       url: `https://mcp.example.com/connect?id=${elicitationId}`,
 *       elicitationId,
 *     });
 *   }
 *   return "repos: ...";
 * });
 * ```
 */
export class UrlElicitationRequiredError extends McpError {
  /** The pages to visit, each with its id. */
  readonly elicitations: readonly Required<UrlElicitation>[];

  /** Checks each page (message, absolute http(s) URL, id) and gives the ones without an id a random UUID. */
  constructor(elicitations: UrlElicitation | readonly UrlElicitation[], message?: string) {
    const list = Array.isArray(elicitations) ? elicitations : [elicitations as UrlElicitation];
    if (list.length === 0) throw new TypeError("UrlElicitationRequiredError needs at least one URL elicitation");
    const checked = list.map((e) => urlElicitation(e?.message, e?.url, e?.elicitationId));
    super(
      ErrorCode.UrlElicitationRequired,
      message ?? (checked.length === 1 ? checked[0].message : `${checked.length} URL elicitations are required`),
      { elicitations: checked.map((e) => ({ mode: "url", ...e })) },
    );
    this.name = "UrlElicitationRequiredError";
    this.elicitations = checked;
  }
}
