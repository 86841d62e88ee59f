// The command-line inspector (cli.ts), run as a child process of the
// runtime under test, against an in-process example server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { McpServer, type ServeHandle } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import { closedPort, type Exited, run, runtimeName, start } from "./testdata/helpers.ts";
import { type SdkServer, sdkServer } from "./testdata/legacy_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUN = runtimeName === "bun" ? ["run", "cli.ts"] : ["run", "-A", "cli.ts"];

/** Runs the CLI with `args`; kills it after 15 s. */
function cli(...args: string[]): Promise<Exited> {
  return run(process.execPath, [...RUN, ...args], { cwd: ROOT, timeout: 15_000 });
}

describe("cli.ts", () => {
  let h: ServeHandle;
  let url: string;
  before(() => {
    h = start(createServer());
    url = h.url.href;
  });
  after(() => h.close({ timeout: 100 }));

  test("tools/list and tools/call print human output and exit 0", async () => {
    const [list, call] = await Promise.all([cli(url, "tools/list"), cli(url, "tools/call", "add", '{"a":20,"b":22}')]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^echo\n {2}Echo the text back\n {2}arguments:\n {4}- text \(string, required\): Text to echo$/m,
    );
    assert.match(list.stdout, /^add {2}Add\n {2}Add two numbers$/m);
    assert.match(list.stdout, /^list_roots$/m);
    assert.equal(list.stdout.includes("\x1b["), false, "no colors when stdout is not a terminal");
    assert.equal(call.code, 0, call.stderr);
    assert.equal(call.stdout, "42\n");
  });

  test("--json prints the result as JSON", async () => {
    const [call, list] = await Promise.all([
      cli(url, "tools/call", "divide", '{"a":7,"b":2}', "--json"),
      cli(url, "--json", "resources/list"),
    ]);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(JSON.parse(call.stdout), {
      content: [{ type: "text", text: '{"quotient":3,"remainder":1}' }],
      structuredContent: { quotient: 3, remainder: 1 },
    });
    assert.equal(list.code, 0, list.stderr);
    const { resources } = JSON.parse(list.stdout);
    assert.deepEqual(resources[0], {
      uri: "config://app",
      name: "config://app",
      title: "App configuration",
      mimeType: "application/json",
    });
    assert.equal(resources.length, 6);
  });

  test("a tool result with isError exits 1 and prints the tool's message", async () => {
    const [human, json] = await Promise.all([
      cli(url, "tools/call", "divide", '{"a":1,"b":0}'),
      cli(url, "tools/call", "divide", '{"a":1,"b":0}', "--json"),
    ]);
    assert.equal(human.code, 1);
    assert.match(human.stderr, /tool error: divide reported isError\nCannot divide by zero/);
    assert.equal(human.stdout, "");
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), {
      content: [{ type: "text", text: "Cannot divide by zero" }],
      isError: true,
    });
  });

  test("a JSON-RPC error exits 1 with its code", async () => {
    const [tool, resource] = await Promise.all([
      cli(url, "tools/call", "nope"),
      cli(url, "resources/read", "nope://x", "--json"),
    ]);
    assert.equal(tool.code, 1);
    assert.match(tool.stderr, /error: Unknown tool: nope \(code -32602\)/);
    assert.equal(resource.code, 1);
    assert.deepEqual(JSON.parse(resource.stderr.trim()), {
      error: { code: -32002, message: "Resource not found: nope://x", data: { uri: "nope://x" } },
    });
  });

  test("a connection failure exits 3", async () => {
    const port = await closedPort();
    const [human, json] = await Promise.all([
      cli(`ws://127.0.0.1:${port}/mcp`, "ping"),
      cli(`ws://127.0.0.1:${port}/mcp`, "ping", "--json"),
    ]);
    assert.equal(human.code, 3);
    assert.match(human.stderr, /error: Could not connect to ws:\/\/127\.0\.0\.1:\d+\/mcp/);
    assert.equal(json.code, 3);
    assert.equal(JSON.parse(json.stderr.trim()).error.code, -32000);
  });

  test("resources, prompts, ping and info", async () => {
    const [read, templates, prompts, prompt, ping, info] = await Promise.all([
      cli(url, "resources/read", "config://app"),
      cli(url, "resources/templates/list"),
      cli(url, "prompts/list"),
      cli(url, "prompts/get", "review_code", '{"code":"x = 1","language":"python"}'),
      cli(url, "ping"),
      cli(url, "info", "--json"),
    ]);
    for (const r of [read, templates, prompts, prompt, ping, info]) assert.equal(r.code, 0, r.stderr);
    assert.equal(read.stdout, '{"theme":"dark","debug":false}\n');
    assert.equal(templates.stdout, "users://{name}/profile  User profile  text/plain\n");
    assert.match(
      prompts.stdout,
      /^review_code {2}Review code\n {2}Ask for a code review\n {2}arguments:\n {4}- code \(required\): The code to review\n {4}- language: Its language$/m,
    );
    assert.equal(prompt.stdout, "Ask for a code review\nuser:\n  Please review this python code:\n  \n  x = 1\n");
    assert.match(ping.stdout, /^pong from example in \d+ ms\n$/);
    const i = JSON.parse(info.stdout);
    assert.equal(i.protocolVersion, "2025-11-25");
    assert.equal(i.serverInfo.name, "example");
    assert.match(i.instructions, /arithmetic/);
  });

  test("--help, and usage errors exit 2", async () => {
    const [help, unknown, badJson, noName, none, badUrl] = await Promise.all([
      cli("--help"),
      cli(url, "tools/frobnicate"),
      cli(url, "tools/call", "add", "{not json"),
      cli(url, "tools/call"),
      cli(),
      cli("ftp://127.0.0.1/mcp", "ping"),
    ]);
    assert.equal(help.code, 0);
    assert.equal(none.code, 2, "no arguments is a usage error");
    assert.match(none.stderr, /^Usage: cli\.ts <url> <command>/);
    assert.equal(none.stdout, "");
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL/);
    assert.match(help.stdout, /^Usage: cli\.ts <url> <command>/);
    assert.match(help.stdout, /--header/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command tools\/frobnicate/);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /the tool arguments must be JSON/);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /tools\/call needs NAME/);
  });
});

describe("cli.ts --header", () => {
  let h: ServeHandle;
  before(() => {
    const server = new McpServer({ name: "auth", version: "1" });
    server.tool("whoami", {}, (_args, ctx) => String((ctx.auth as { user: string }).user));
    h = start(server, {
      authenticate: (req) => req.headers.get("authorization") === "Bearer s3cret" ? { user: "ada" } : undefined,
    });
  });
  after(() => h.close({ timeout: 100 }));

  test("sends the header with the handshake; without it the server refuses (exit 3)", async () => {
    const [withHeader, without] = await Promise.all([
      cli(h.url.href, "tools/call", "whoami", "--header", "Authorization: Bearer s3cret"),
      cli(h.url.href, "tools/call", "whoami"),
    ]);
    assert.equal(withHeader.code, 0, withHeader.stderr);
    assert.equal(withHeader.stdout, "ada\n");
    assert.equal(without.code, 3);
    assert.match(without.stderr, /401/);
  });
});

describe("cli.ts --protocol", () => {
  let h: ServeHandle;
  let sdk: SdkServer;
  before(async () => {
    h = start(createServer());
    sdk = await sdkServer();
  });
  after(async () => {
    await h.close({ timeout: 100 });
    await sdk.close();
  });

  test("2026-07-28 and auto speak 2026-07-28 to this library's server; 2025-11-25 initializes", async () => {
    const url = h.url.href;
    const [modern, auto, legacy, call] = await Promise.all([
      cli(url, "info", "--json", "--protocol", "2026-07-28"),
      cli(url, "--protocol=auto", "info"),
      cli(url, "info", "--json", "--protocol", "2025-11-25"),
      cli(url, "tools/call", "add", '{"a":20,"b":22}', "--protocol", "2026-07-28"),
    ]);
    for (const r of [modern, auto, legacy, call]) assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(modern.stdout);
    assert.equal(m.protocolVersion, "2026-07-28");
    assert.equal(m.serverInfo.name, "example");
    assert.match(m.instructions, /arithmetic/);
    assert.match(auto.stdout, /^protocol 2026-07-28$/m);
    assert.equal(JSON.parse(legacy.stdout).protocolVersion, "2025-11-25");
    assert.equal(call.stdout, "42\n");
  });

  test("against a 2025-only server: auto falls back to initialize; 2026-07-28 exits 3 saying why", async () => {
    const [auto, pinned] = await Promise.all([
      cli(sdk.url, "info", "--json", "--protocol", "auto"),
      cli(sdk.url, "ping", "--protocol", "2026-07-28"),
    ]);
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal(JSON.parse(auto.stdout).protocolVersion, "2025-11-25");
    assert.equal(pinned.code, 3);
    assert.match(pinned.stderr, /does not speak protocol 2026-07-28: it answered server\/discover with/);
  });

  test("an unknown version is a usage error", async () => {
    const [bad, help] = await Promise.all([cli(h.url.href, "ping", "--protocol", "1999-01-01"), cli("--help")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--protocol wants auto or one of 2026-07-28, 2025-11-25, .*got 1999-01-01/);
    assert.match(help.stdout, /--protocol VERSION\|auto/);
  });
});
