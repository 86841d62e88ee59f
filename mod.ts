/**
 * MCP (Model Context Protocol) servers for Deno and Bun, with no
 * dependencies: register tools, resources and prompts with Standard Schema
 * (zod 4) schemas, then serve them on one endpoint over WebSocket (one
 * full-duplex connection per client) and Streamable HTTP, or over stdio.
 * Protocol versions 2024-11-05 to 2025-11-25 through `initialize`, and the
 * per-request 2026-07-28, side by side.
 *
 * - {@linkcode McpServer}: what the server offers (`tool`, `resource`,
 *   `resourceTemplate`, `prompt`) and what it pushes (`resourceUpdated`,
 *   `log`); handlers get a {@linkcode Context} for progress, logging,
 *   cancellation and requests to the client (sampling, elicitation, roots).
 * - {@linkcode serve}: listens with `Deno.serve` or `Bun.serve`;
 *   {@linkcode mcpHandler}, {@linkcode websocketHandler} and
 *   {@linkcode httpHandler} mount beside your own routes;
 *   {@linkcode serveStdio} serves standard input and output.
 * - {@linkcode bearerAuth} and the `authenticate` option admit clients;
 *   {@linkcode oauthResource} makes the server an OAuth 2.1 resource server;
 *   `allowedOrigins` and the limits in the options keep hostile peers out.
 * - Tasks: a tool with `task: "optional"` or `"required"` answers with a
 *   task the client polls, in both eras (2025-11-25 `tasks/*` and the
 *   2026-07-28 extension); {@linkcode memoryTaskStore} or your own
 *   {@linkcode TaskStore} keeps them.
 * - The `cluster` option runs several instances as one server, with no
 *   sticky sessions: {@linkcode redisCluster} across processes and
 *   machines, {@linkcode broadcastCluster} across workers.
 * - The client lives at the `./client` subpath (`client.ts`): a WebSocket
 *   MCP client for Deno, Bun and browsers, which a server never loads.
 *
 * @example A server with one tool, on Deno or Bun
 * ```ts
 * import { McpServer, serve } from "./mod.ts";
 * import { z } from "zod";
 *
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.tool("add", {
 *   description: "Add two numbers",
 *   input: z.object({ a: z.number(), b: z.number() }),
 * }, ({ a, b }) => String(a + b));
 *
 * serve(server, { port: 8080, onListen: (url) => console.log(`MCP server on ${url}`) });
 * ```
 *
 * @module
 */

export {
  type CacheHint,
  type Completer,
  McpServer,
  type McpServerOptions,
  type PromptDefinition,
  type PromptHandler,
  type PromptReturn,
  type Registered,
  type ResourceDefinition,
  type ResourceReader,
  type ResourceReturn,
  type ResourceTemplateDefinition,
  type TemplateReader,
  type ToolDefinition,
  type ToolHandler,
  type ToolReturn,
} from "./server.ts";
export { type ClientRequestOptions, Session } from "./session.ts";
export { Context } from "./context.ts";
export type { Channel, CloseOptions, Refusal, SendMeta, SessionInit } from "./channel.ts";
export { LATEST_PROTOCOL_VERSION, PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "./versions.ts";
export {
  type BunServerLike,
  type BunSocketLike,
  type BunWebSocketHandlers,
  type WebSocketHandler,
  websocketHandler,
  type WebSocketOptions,
} from "./transport_ws.ts";
export {
  type BunHttpServerLike,
  closeSseStream,
  type HttpHandler,
  httpHandler,
  type HttpOptions,
} from "./transport_http.ts";
export { type McpHandler, mcpHandler, type McpHandlerOptions } from "./mcp_handler.ts";
export { serve, type ServeHandle, type ServeOptions } from "./serve.ts";
export { bearerAuth, type BearerAuthOptions } from "./auth.ts";
export {
  type OAuthResource,
  oauthResource,
  type OAuthResourceOptions,
  type OAuthToken,
  TOKEN_EXPIRED_CLOSE_CODE,
  type TokenClaims,
} from "./oauth.ts";
export { serveStdio, type StdioHandle, type StdioOptions } from "./transport_stdio.ts";
export {
  ErrorCode,
  type JsonRpcError,
  type JsonRpcErrorObject,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResult,
  McpError,
  type RequestId,
} from "./jsonrpc.ts";
export { UriTemplate } from "./uri_template.ts";
export {
  memoryTaskStore,
  type MemoryTaskStoreOptions,
  type TaskOptions,
  type TaskRecord,
  type TaskStatus,
  type TaskStore,
  type TaskSupport,
} from "./tasks.ts";
export { type RedisKeys, redisTaskStore, type RedisTaskStoreOptions } from "./tasks_redis.ts";
export {
  type ElicitUrlOptions,
  type UrlElicitation,
  UrlElicitationRequiredError,
  type UrlElicitResult,
} from "./url_elicitation.ts";
export type { ClusterTransport } from "./cluster.ts";
export { broadcastCluster, type BroadcastClusterOptions } from "./cluster_broadcast.ts";
export { redisCluster, type RedisClusterOptions, type RedisPublisher, type RedisSubscriber } from "./cluster_redis.ts";
export type * from "./types.ts";
