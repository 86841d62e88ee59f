// What an McpServer offers: its tools, resources, templates and prompts, the lookups the method
// handlers make, and list pages serialized once. The server's core owns one (core.registry).

import { decodeCursor, pageOf } from "./paging.ts";
import type { Prompt, Resource, ResourceTemplate, StandardSchemaV1, Tool } from "../types.ts";
import type { UriTemplate } from "../uri_template.ts";
import type { TaskSupport } from "../tasks.ts";
import type { Context } from "../context.ts";
import type {
  CacheHint,
  Completer,
  PromptHandler,
  Registered,
  ResourceReader,
  ResourceReturn,
  TemplateReader,
  ToolHandler,
} from "../server.ts";

/** The kinds of things a server lists; each has its own list_changed notification. */
export type Kind = "tools" | "resources" | "prompts";

export interface ToolEntry {
  def: Tool;
  input?: StandardSchemaV1;
  output?: StandardSchemaV1;
  handler: ToolHandler<StandardSchemaV1 | undefined, StandardSchemaV1 | undefined>;
  task: TaskSupport;
  /** OAuth scopes a call needs. */
  scopes?: readonly string[];
  enabled: boolean;
}

export interface ResourceEntry {
  def: Resource;
  read: ResourceReader;
  cache?: CacheHint;
  enabled: boolean;
}

export interface TemplateEntry {
  def: ResourceTemplate;
  template: UriTemplate;
  read: TemplateReader;
  complete?: Record<string, Completer>;
  list?: (ctx: Context) => Resource[] | Promise<Resource[]>;
  enabled: boolean;
}

export interface PromptEntry {
  def: Prompt;
  args?: StandardSchemaV1;
  complete?: Record<string, Completer>;
  handler: PromptHandler<StandardSchemaV1 | undefined>;
  enabled: boolean;
}

/** A resource found by URI: how to read it. */
export interface FoundResource {
  read: (ctx: Context) => ResourceReturn | Promise<ResourceReturn>;
  mimeType?: string;
  cache?: CacheHint;
}

export class Registry {
  readonly tools: Map<string, ToolEntry> = new Map();
  readonly resources: Map<string, ResourceEntry> = new Map();
  readonly templates: Map<string, TemplateEntry> = new Map();
  readonly prompts: Map<string, PromptEntry> = new Map();
  #listCache = new Map<string, string>();

  /** `changed` is told of every change to what a kind lists. */
  constructor(
    readonly pageSize: number,
    private readonly changed: (kind: Kind) => void,
  ) {}

  register<E extends { enabled: boolean }>(
    kind: Kind,
    map: Map<string, E>,
    key: string,
    entry: E,
    what: string,
  ): Registered {
    if (map.has(key)) throw new Error(`${what} is already registered`);
    map.set(key, entry);
    this.#changed(kind);
    const changed = () => this.#changed(kind);
    return {
      get enabled() {
        return entry.enabled;
      },
      enable() {
        if (!entry.enabled && map.get(key) === entry) (entry.enabled = true, changed());
      },
      disable() {
        if (entry.enabled && map.get(key) === entry) (entry.enabled = false, changed());
      },
      remove() {
        if (map.get(key) === entry) (map.delete(key), changed());
      },
    };
  }

  #changed(kind: Kind): void {
    for (const k of this.#listCache.keys()) if (k.startsWith(kind)) this.#listCache.delete(k);
    this.changed(kind);
  }

  /** A page of a list method's result, serialized once and cached. */
  page(kind: string, cursor: unknown, items: () => unknown[]): string {
    const offset = decodeCursor(kind, cursor);
    const key = `${kind}:${offset}`;
    let json = this.#listCache.get(key);
    if (json === undefined) {
      const field = kind === "resources/templates" ? "resourceTemplates" : kind;
      json = JSON.stringify(pageOf(kind, field, items(), offset, this.pageSize));
      this.#listCache.set(key, json);
    }
    return json;
  }

  listTools(): Tool[] {
    return [...this.tools.values()].filter((t) => t.enabled).map((t) => t.def);
  }

  /** Whether an enabled tool may run as a task. */
  taskTools(): boolean {
    for (const t of this.tools.values()) if (t.enabled && t.task !== "forbidden") return true;
    return false;
  }

  tool(name: unknown): ToolEntry | undefined {
    const t = typeof name === "string" ? this.tools.get(name) : undefined;
    return t?.enabled ? t : undefined;
  }

  listResources(): Resource[] {
    return [...this.resources.values()].filter((r) => r.enabled).map((r) => r.def);
  }

  templateLists(): TemplateEntry[] {
    return [...this.templates.values()].filter((t) => t.enabled && t.list);
  }

  listTemplates(): ResourceTemplate[] {
    return [...this.templates.values()].filter((t) => t.enabled).map((t) => t.def);
  }

  /** Finds the reader for a URI: exact resources first, then templates in registration order. */
  findResource(uri: string): FoundResource | undefined {
    const r = this.resources.get(uri);
    if (r?.enabled) return { read: (ctx) => r.read(uri, ctx), mimeType: r.def.mimeType, cache: r.cache };
    for (const t of this.templates.values()) {
      if (!t.enabled) continue;
      const vars = t.template.match(uri);
      if (vars) return { read: (ctx) => t.read(uri, vars, ctx), mimeType: t.def.mimeType };
    }
    return undefined;
  }

  template(uriTemplate: unknown): TemplateEntry | undefined {
    const t = typeof uriTemplate === "string" ? this.templates.get(uriTemplate) : undefined;
    return t?.enabled ? t : undefined;
  }

  listPrompts(): Prompt[] {
    return [...this.prompts.values()].filter((p) => p.enabled).map((p) => p.def);
  }

  prompt(name: unknown): PromptEntry | undefined {
    const p = typeof name === "string" ? this.prompts.get(name) : undefined;
    return p?.enabled ? p : undefined;
  }
}
