// The McpClient methods that are one request each, or a loop of them over cursors: lists, calls, reads,
// prompts, completion, ping. They need nothing of the connection but its request(), which client.ts gives.

import { ErrorCode } from "../jsonrpc.ts";
import type {
  CallToolResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "../types.ts";
import type {
  CompleteRef,
  Completion,
  ListParams,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  ListToolsResult,
  RequestOptions,
} from "../client.ts";
import { McpClientError } from "./error.ts";

async function page<T>(
  client: ClientCalls,
  method: string,
  field: string,
  params: ListParams | undefined,
  options?: RequestOptions,
): Promise<T> {
  const res = await client.request(
    method,
    params?.cursor === undefined ? undefined : { cursor: params.cursor },
    options,
  );
  if (!Array.isArray(res[field])) {
    throw new McpClientError(
      ErrorCode.InternalError,
      `The server's ${method} result has no ${field} array`,
      res,
      method,
    );
  }
  return res as T;
}

async function every<T>(client: ClientCalls, method: string, field: string, options?: RequestOptions): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const got = await page<Record<string, unknown>>(client, method, field, { cursor }, options);
    items.push(...got[field] as T[]);
    const next = got.nextCursor;
    cursor = typeof next === "string" ? next : undefined;
    if (cursor !== undefined) {
      if (seen.has(cursor)) {
        throw new McpClientError(
          ErrorCode.InternalError,
          `The server sent the ${method} cursor ${JSON.stringify(cursor)} twice; stopping instead of looping`,
          undefined,
          method,
        );
      }
      seen.add(cursor);
    }
  } while (cursor !== undefined);
  return items;
}

/** The requests of an McpClient that are its methods; a subclass gives the connection's `request`. */
export abstract class ClientCalls {
  /** Sends a request and resolves with its result. */
  abstract request(
    method: string,
    params?: Record<string, unknown>,
    options?: RequestOptions,
  ): Promise<Record<string, unknown>>;

  listTools(params?: ListParams, options?: RequestOptions): Promise<ListToolsResult> {
    return page(this, "tools/list", "tools", params, options);
  }
  listAllTools(options?: RequestOptions): Promise<Tool[]> {
    return every(this, "tools/list", "tools", options);
  }
  async callTool(name: string, args: Record<string, unknown> = {}, options?: RequestOptions): Promise<CallToolResult> {
    const res = await this.request("tools/call", { name, arguments: args }, options);
    if (!Array.isArray(res.content)) {
      throw new McpClientError(
        ErrorCode.InternalError,
        "The server's tools/call result has no content array",
        res,
        "tools/call",
      );
    }
    return res as unknown as CallToolResult;
  }
  listResources(params?: ListParams, options?: RequestOptions): Promise<ListResourcesResult> {
    return page(this, "resources/list", "resources", params, options);
  }
  listAllResources(options?: RequestOptions): Promise<Resource[]> {
    return every(this, "resources/list", "resources", options);
  }
  listResourceTemplates(params?: ListParams, options?: RequestOptions): Promise<ListResourceTemplatesResult> {
    return page(this, "resources/templates/list", "resourceTemplates", params, options);
  }
  listAllResourceTemplates(options?: RequestOptions): Promise<ResourceTemplate[]> {
    return every(this, "resources/templates/list", "resourceTemplates", options);
  }
  async readResource(uri: string, options?: RequestOptions): Promise<ReadResourceResult> {
    return await this.request("resources/read", { uri }, options) as unknown as ReadResourceResult;
  }

  listPrompts(params?: ListParams, options?: RequestOptions): Promise<ListPromptsResult> {
    return page(this, "prompts/list", "prompts", params, options);
  }
  listAllPrompts(options?: RequestOptions): Promise<Prompt[]> {
    return every(this, "prompts/list", "prompts", options);
  }
  async getPrompt(name: string, args?: Record<string, string>, options?: RequestOptions): Promise<GetPromptResult> {
    const params: Record<string, unknown> = args === undefined ? { name } : { name, arguments: args };
    return await this.request("prompts/get", params, options) as unknown as GetPromptResult;
  }
  async complete(
    ref: CompleteRef,
    argument: { name: string; value: string },
    context?: { arguments?: Record<string, string> },
    options?: RequestOptions,
  ): Promise<Completion> {
    const params: Record<string, unknown> = context === undefined ? { ref, argument } : { ref, argument, context };
    const res = await this.request("completion/complete", params, options);
    const c = res.completion as Completion | undefined;
    if (typeof c !== "object" || c === null || !Array.isArray(c.values)) {
      throw new McpClientError(
        ErrorCode.InternalError,
        "The server's completion/complete result has no completion.values",
        res,
        "completion/complete",
      );
    }
    return c;
  }
  async ping(options?: RequestOptions): Promise<void> {
    await this.request("ping", undefined, options);
  }
}
