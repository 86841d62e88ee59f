#!/usr/bin/env -S deno run -A
/**
 * A command-line inspector for MCP servers over WebSocket, on Deno or Bun.
 *
 * ```sh
 * deno run -A cli.ts ws://127.0.0.1:8080/mcp tools/list
 * deno run -A cli.ts ws://127.0.0.1:8080/mcp tools/call add '{"a":1,"b":2}'
 * bun run cli.ts ws://127.0.0.1:8080/mcp resources/read config://app --json
 * ```
 *
 * Run it with `--help` for every command and option.
 *
 * @module
 */

import {
  type CallToolResult,
  CLIENT_PROTOCOL_VERSION,
  CLIENT_PROTOCOL_VERSIONS,
  connect,
  type ContentBlock,
  ErrorCode,
  type McpClient,
  McpClientError,
  type Prompt,
  type PromptArgument,
  type ResourceContents,
} from "./client.ts";

const USAGE = `Usage: cli.ts <url> <command> [arguments] [options]

Talks to an MCP server over WebSocket, e.g. ws://127.0.0.1:8080/mcp. An http:// or
https:// URL is taken as the same endpoint's ws:// or wss:// (this library serves both
on one path).

Commands:
  info                       server name, version, protocol, capabilities, instructions
  ping                       check the server answers
  tools/list                 list the tools (all pages)
  tools/call NAME [JSON]     call a tool with a JSON object of arguments
  resources/list             list the resources (all pages)
  resources/templates/list   list the resource templates (all pages)
  resources/read URI         read a resource
  prompts/list               list the prompts (all pages)
  prompts/get NAME [JSON]    get a prompt with a JSON object of string arguments

Options:
  --json                     print results as JSON (errors go to stderr as JSON)
  -H, --header 'Name: value' send an HTTP header with the WebSocket handshake (repeatable)
  --timeout MS               time limit of each request in milliseconds (default 60000)
  --protocol VERSION|auto    the protocol: 2026-07-28 (per request, after server/discover),
                             2025-11-25 or older (initialize), or auto (2026-07-28 when the
                             server lists it, else initialize); default ${CLIENT_PROTOCOL_VERSION}
  -h, --help                 show this help

Exit codes: 0 success, 1 the server answered with an error or the tool reported
isError, 2 wrong usage, 3 could not connect.

Examples:
  cli.ts ws://127.0.0.1:8080/mcp tools/call add '{"a":1,"b":2}'
  cli.ts wss://example.com/mcp tools/list -H 'Authorization: Bearer secret' --json
  cli.ts ws://127.0.0.1:8080/mcp info --protocol auto`;

const COMMANDS: Record<string, { args: string[]; optional?: string[] }> = {
  info: { args: [] },
  ping: { args: [] },
  "tools/list": { args: [] },
  "tools/call": { args: ["NAME"], optional: ["JSON"] },
  "resources/list": { args: [] },
  "resources/templates/list": { args: [] },
  "resources/read": { args: ["URI"] },
  "prompts/list": { args: [] },
  "prompts/get": { args: ["NAME"], optional: ["JSON"] },
};

/** Exit codes of the CLI. */
export const Exit = {
  /** Success. */
  Ok: 0,
  /** The server answered with an error, or the tool reported `isError`. */
  Failed: 1,
  /** Wrong usage. */
  Usage: 2,
  /** Could not connect. */
  Connect: 3,
} as const;

/** Where the CLI writes, and whether to color. */
export interface Io {
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** Whether stdout is a terminal that takes ANSI colors. */
  color: boolean;
}

class UsageError extends Error {}

interface Parsed {
  url: string;
  command: string;
  rest: string[];
  json: boolean;
  headers: Record<string, string>;
  timeout?: number;
  protocol?: string;
}

function parse(args: string[]): Parsed | "help" | "usage" {
  const positional: string[] = [];
  const headers: Record<string, string> = {};
  let json = false;
  let timeout: number | undefined;
  let protocol: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (name: string) => {
      const eq = a.indexOf("=");
      if (a.startsWith("--") && eq > 0) return a.slice(eq + 1);
      if (i + 1 >= args.length) throw new UsageError(`${name} needs a value`);
      return args[++i];
    };
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    } else if (a === "-h" || a === "--help") return "help";
    else if (a === "--json") json = true;
    else if (a === "-H" || a === "--header" || a.startsWith("--header=")) {
      const h = value("--header");
      const colon = h.indexOf(":");
      const name = colon > 0 ? h.slice(0, colon).trim() : "";
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw new UsageError(`--header wants 'Name: value', got ${JSON.stringify(h)}`);
      }
      headers[name] = h.slice(colon + 1).trim();
    } else if (a === "--timeout" || a.startsWith("--timeout=")) {
      const v = value("--timeout");
      timeout = Number(v);
      if (!Number.isFinite(timeout) || timeout < 0) throw new UsageError(`--timeout wants milliseconds, got ${v}`);
    } else if (a === "--protocol" || a.startsWith("--protocol=")) {
      protocol = value("--protocol");
      if (protocol !== "auto" && !CLIENT_PROTOCOL_VERSIONS.includes(protocol)) {
        throw new UsageError(`--protocol wants auto or one of ${CLIENT_PROTOCOL_VERSIONS.join(", ")}, got ${protocol}`);
      }
    } else if (a.startsWith("-") && a.length > 1) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length === 0) return "usage"; // nothing to do is a usage error (exit 2), with the help text
  const [url, command, ...rest] = positional;
  if (!/^(wss?|https?):\/\//i.test(url)) {
    throw new UsageError(`the first argument must be a ws://, wss://, http:// or https:// URL, got ${url}`);
  }
  if (command === undefined) throw new UsageError("no command given");
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command ${command}`);
  if (rest.length < spec.args.length) throw new UsageError(`${command} needs ${spec.args.join(" ")}`);
  if (rest.length > spec.args.length + (spec.optional?.length ?? 0)) {
    throw new UsageError(`too many arguments for ${command}: ${rest.join(" ")}`);
  }
  return { url, command, rest, json, headers, timeout, protocol };
}

function parseObject(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} must be JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new UsageError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Human output

function painter(color: boolean) {
  const wrap = (open: number, close: number) => (s: string) => color ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), cyan: wrap(36, 39) };
}

function indent(text: string, by = "  "): string {
  return text.split("\n").map((l) => by + l).join("\n");
}

function base64Bytes(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((b64.length * 3) / 4) - pad);
}

function contentsText(c: ResourceContents): string {
  if ("text" in c && typeof c.text === "string") return c.text;
  const blob = (c as { blob?: string }).blob ?? "";
  return `[binary ${c.mimeType ?? "data"}, ${base64Bytes(blob)} bytes]`;
}

function blockText(b: ContentBlock): string {
  switch (b.type) {
    case "text":
      return b.text;
    case "image":
    case "audio":
      return `[${b.type} ${b.mimeType}, ${base64Bytes(b.data)} bytes]`;
    case "resource_link":
      return `[link ${b.uri}${b.name && b.name !== b.uri ? ` (${b.name})` : ""}]`;
    case "resource":
      return `[resource ${b.resource.uri}]\n${contentsText(b.resource)}`;
    default:
      return JSON.stringify(b);
  }
}

function argsLines(props: Record<string, Record<string, unknown>>, required: Set<string>): string[] {
  return Object.entries(props).map(([name, p]) => {
    const type = typeof p.type === "string" ? p.type : Array.isArray(p.type) ? p.type.join("|") : "any";
    const req = required.has(name) ? ", required" : "";
    const desc = typeof p.description === "string" ? `: ${p.description}` : "";
    return `    - ${name} (${type}${req})${desc}`;
  });
}

function promptArgLines(args: PromptArgument[] | undefined): string[] {
  return (args ?? []).map((a) =>
    `    - ${a.name}${a.required ? " (required)" : ""}${a.description ? `: ${a.description}` : ""}`
  );
}

function structuredMatchesText(r: CallToolResult): boolean {
  const json = JSON.stringify(r.structuredContent);
  return r.content.some((b) => {
    if (b.type !== "text") return false;
    try {
      return JSON.stringify(JSON.parse(b.text)) === json;
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------------------
// Commands

function info(client: McpClient, p: Parsed, io: Io): number {
  const c = painter(io.color);
  const info = {
    protocolVersion: client.protocolVersion,
    serverInfo: client.serverInfo,
    capabilities: client.serverCapabilities,
    instructions: client.instructions,
  };
  if (p.json) return io.out(JSON.stringify(info, null, 2)), Exit.Ok;
  const s = client.serverInfo;
  io.out(`${c.bold(s.name)} ${s.version}${s.title ? ` (${s.title})` : ""}`);
  io.out(`protocol ${client.protocolVersion}`);
  const caps = Object.entries(client.serverCapabilities).map(([k, v]) => {
    const flags = typeof v === "object" && v !== null
      ? Object.keys(v).filter((f) => (v as Record<string, unknown>)[f])
      : [];
    return flags.length ? `${k} (${flags.join(", ")})` : k;
  });
  io.out(`capabilities: ${caps.join(", ") || "none"}`);
  if (client.instructions) io.out(`instructions:\n${indent(client.instructions)}`);
  return Exit.Ok;
}

async function callTool(client: McpClient, p: Parsed, io: Io): Promise<number> {
  const c = painter(io.color);
  const [name, json] = p.rest;
  const args = parseObject(json, "the tool arguments");
  const result = await client.callTool(name, args, {
    timeout: p.timeout,
    onProgress: p.json ? undefined : ({ progress, total, message }) =>
      io.err(
        c.dim(`progress ${progress}${total !== undefined ? `/${total}` : ""}${message ? ` ${message}` : ""}`),
      ),
  });
  if (p.json) return io.out(JSON.stringify(result, null, 2)), result.isError ? Exit.Failed : Exit.Ok;
  const text = result.content.map(blockText).join("\n");
  if (result.isError) {
    io.err(`${c.red("tool error:")} ${name} reported isError`);
    if (text) io.err(text);
    return Exit.Failed;
  }
  if (text) io.out(text);
  if (result.structuredContent !== undefined && !structuredMatchesText(result)) {
    io.out(`${c.dim("structured content:")}\n${JSON.stringify(result.structuredContent, null, 2)}`);
  }
  if (!text && result.structuredContent === undefined) io.out(c.dim("(empty result)"));
  return Exit.Ok;
}

async function run(client: McpClient, p: Parsed, io: Io): Promise<number> {
  const c = painter(io.color);
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  const opts = { timeout: p.timeout };
  switch (p.command) {
    case "info":
      return info(client, p, io);
    case "ping": {
      const t0 = Date.now();
      await client.ping(opts);
      if (p.json) return print({}), Exit.Ok;
      io.out(`pong from ${client.serverInfo.name} in ${Date.now() - t0} ms`);
      return Exit.Ok;
    }
    case "tools/list": {
      const tools = await client.listAllTools(opts);
      if (p.json) return print({ tools }), Exit.Ok;
      if (!tools.length) io.out(c.dim("(no tools)"));
      for (const t of tools) {
        io.out(`${c.bold(c.cyan(t.name))}${t.title ? `  ${t.title}` : ""}`);
        if (t.description) io.out(indent(t.description));
        const props = (t.inputSchema?.properties ?? {}) as Record<string, Record<string, unknown>>;
        const required = new Set(Array.isArray(t.inputSchema?.required) ? t.inputSchema.required as string[] : []);
        const lines = argsLines(props, required);
        if (lines.length) io.out(`  ${c.dim("arguments:")}\n${lines.join("\n")}`);
      }
      return Exit.Ok;
    }
    case "tools/call":
      return await callTool(client, p, io);
    case "resources/list": {
      const resources = await client.listAllResources(opts);
      if (p.json) return print({ resources }), Exit.Ok;
      if (!resources.length) io.out(c.dim("(no resources)"));
      for (const r of resources) {
        const label = r.title ?? (r.name !== r.uri ? r.name : "");
        io.out(`${c.cyan(r.uri)}${label ? `  ${label}` : ""}${r.mimeType ? `  ${c.dim(r.mimeType)}` : ""}`);
        if (r.description) io.out(indent(r.description));
      }
      return Exit.Ok;
    }
    case "resources/templates/list": {
      const resourceTemplates = await client.listAllResourceTemplates(opts);
      if (p.json) return print({ resourceTemplates }), Exit.Ok;
      if (!resourceTemplates.length) io.out(c.dim("(no resource templates)"));
      for (const t of resourceTemplates) {
        const label = t.title ?? (t.name !== t.uriTemplate ? t.name : "");
        io.out(`${c.cyan(t.uriTemplate)}${label ? `  ${label}` : ""}${t.mimeType ? `  ${c.dim(t.mimeType)}` : ""}`);
        if (t.description) io.out(indent(t.description));
      }
      return Exit.Ok;
    }
    case "resources/read": {
      const result = await client.readResource(p.rest[0], opts);
      if (p.json) return print(result), Exit.Ok;
      const many = result.contents.length > 1;
      for (const item of result.contents) {
        if (many) io.out(c.dim(`--- ${item.uri}${item.mimeType ? ` (${item.mimeType})` : ""}`));
        io.out(contentsText(item));
      }
      return Exit.Ok;
    }
    case "prompts/list": {
      const prompts: Prompt[] = await client.listAllPrompts(opts);
      if (p.json) return print({ prompts }), Exit.Ok;
      if (!prompts.length) io.out(c.dim("(no prompts)"));
      for (const pr of prompts) {
        io.out(`${c.bold(c.cyan(pr.name))}${pr.title ? `  ${pr.title}` : ""}`);
        if (pr.description) io.out(indent(pr.description));
        const lines = promptArgLines(pr.arguments);
        if (lines.length) io.out(`  ${c.dim("arguments:")}\n${lines.join("\n")}`);
      }
      return Exit.Ok;
    }
    case "prompts/get": {
      const [name, json] = p.rest;
      const raw = parseObject(json, "the prompt arguments");
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") throw new UsageError(`prompt argument ${k} must be a string`);
      }
      const result = await client.getPrompt(name, raw as Record<string, string>, opts);
      if (p.json) return print(result), Exit.Ok;
      if (result.description) io.out(c.dim(result.description));
      for (const m of result.messages) io.out(`${c.bold(`${m.role}:`)}\n${indent(blockText(m.content))}`);
      return Exit.Ok;
    }
  }
  throw new UsageError(`unknown command ${p.command}`);
}

function describeError(e: unknown): { code?: number; message: string; data?: unknown } {
  if (e instanceof McpClientError) {
    return e.data === undefined
      ? { code: e.code, message: e.message }
      : { code: e.code, message: e.message, data: e.data };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/**
 * Runs the CLI with `args` (without the program name) and resolves with the
 * exit code.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const code = await main(["ws://127.0.0.1:8080/mcp", "tools/list"], {
 *   out: console.log,
 *   err: console.error,
 *   color: false,
 * });
 * ```
 */
export async function main(args: string[], io: Io): Promise<number> {
  let parsed: Parsed | "help" | "usage";
  try {
    parsed = parse(args);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n\nRun with --help for usage.`);
    return Exit.Usage;
  }
  if (parsed === "help") {
    io.out(USAGE);
    return Exit.Ok;
  }
  if (parsed === "usage") {
    io.err(USAGE);
    return Exit.Usage;
  }
  const p = parsed;
  const fail = (e: unknown) => {
    const d = describeError(e);
    if (p.json) io.err(JSON.stringify({ error: d }));
    else io.err(`${painter(io.color).red("error:")} ${d.message}${d.code !== undefined ? ` (code ${d.code})` : ""}`);
  };
  let client: McpClient;
  try {
    client = await connect(p.url, {
      clientInfo: { name: "mcp-ws-cli", version: "0.1.0" },
      headers: Object.keys(p.headers).length ? p.headers : undefined,
      timeout: p.timeout,
      protocolVersion: p.protocol,
    });
  } catch (e) {
    fail(e);
    return Exit.Connect;
  }
  try {
    return await run(client, p, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return Exit.Usage;
    }
    fail(e);
    return e instanceof McpClientError && e.code === ErrorCode.ConnectionClosed ? Exit.Connect : Exit.Failed;
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------
// Entry point: Deno or Bun (feature-detected).

interface DenoLike {
  args: string[];
  exitCode: number;
  stdout: { isTerminal(): boolean };
  env: { get(name: string): string | undefined };
}
interface ProcessLike {
  argv: string[];
  exitCode?: number;
  stdout: { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

if (import.meta.main) {
  const g = globalThis as { Deno?: DenoLike; process?: ProcessLike };
  const deno = g.Deno;
  const proc = g.process;
  const args = deno ? deno.args : proc ? proc.argv.slice(2) : [];
  let noColor = false;
  try {
    noColor = !!(deno ? deno.env.get("NO_COLOR") : proc?.env.NO_COLOR);
  } catch { /* no env permission */ }
  const tty = deno ? deno.stdout.isTerminal() : !!proc?.stdout.isTTY;
  const code = await main(args, { out: (l) => console.log(l), err: (l) => console.error(l), color: tty && !noColor });
  if (deno) deno.exitCode = code;
  else if (proc) proc.exitCode = code;
}
