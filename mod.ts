/**
 * MCP (Model Context Protocol) servers over WebSocket, for Deno and Bun.
 *
 * Register tools, resources and prompts with Standard Schema (zod 4)
 * schemas, then serve them: one full-duplex WebSocket per client, at one
 * endpoint. No dependencies; import this file from a URL (Deno) or a path
 * (Bun).
 *
 * @example
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
  type Channel,
  type ClientRequestOptions,
  type Completer,
  Context,
  LATEST_PROTOCOL_VERSION,
  McpServer,
  type McpServerOptions,
  PER_REQUEST_PROTOCOL_VERSIONS,
  type PromptDefinition,
  type PromptHandler,
  type PromptReturn,
  type Registered,
  type ResourceDefinition,
  type ResourceReader,
  type ResourceReturn,
  type ResourceTemplateDefinition,
  type SendMeta,
  Session,
  type SessionInit,
  type SubscriptionFilter,
  SUPPORTED_PROTOCOL_VERSIONS,
  type TemplateReader,
  type ToolDefinition,
  type ToolHandler,
  type ToolReturn,
} from "./server.ts";
export {
  type BunServerLike,
  type BunSocketLike,
  type BunWebSocketHandlers,
  type CloseOptions,
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
  type McpHandler,
  mcpHandler,
  type McpHandlerOptions,
} from "./transport_http.ts";
export { serve, type ServeHandle, type ServeOptions } from "./serve.ts";
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
export type * from "./types.ts";
export * from "./client.ts";
