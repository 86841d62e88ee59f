// stdio: newline-delimited JSON-RPC on stdin/stdout. The official SDK's
// StdioClientTransport spawns the example server under the current runtime;
// raw tests drive serveStdio() in-process through its input/output options.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CreateMessageRequestSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, McpServer } from "../mod.ts";
import { serveStdio } from "../transport_stdio.ts";
import { within } from "./testdata/helpers.ts";

const TIMEOUT = 5000;
const runArgs = (file: string) => ("Bun" in globalThis ? ["run", file] : ["run", "-A", file]);
// The example server over stdio: until examples/server.ts takes --stdio, a fixture that serves createServer() the same way.
const STDIO_SERVER = [...runArgs("examples/server.ts"), "--stdio"];

/** In-memory stdin/stdout for serveStdio(): write raw bytes in, read lines out. */
class Pipes {
  input: ReadableStream<Uint8Array>;
  output: WritableStream<Uint8Array>;
  #in!: ReadableStreamDefaultController<Uint8Array>;
  #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];
  #partial = "";
  #encoder = new TextEncoder();

  constructor() {
    this.input = new ReadableStream({ start: (c) => void (this.#in = c) });
    const decoder = new TextDecoder();
    this.output = new WritableStream({
      write: (chunk) => {
        this.#partial += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = this.#partial.indexOf("\n")) >= 0) {
          const line = this.#partial.slice(0, nl);
          this.#partial = this.#partial.slice(nl + 1);
          const w = this.#waiters.shift();
          if (w) w(line);
          else this.#lines.push(line);
        }
      },
    });
  }

  write(text: string): void {
    this.#in.enqueue(this.#encoder.encode(text));
  }

  end(): void {
    this.#in.close();
  }

  /** The next line written to stdout, parsed. */
  next(): Promise<Record<string, unknown>> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return within(new Promise<string>((r) => this.#waiters.push(r)), TIMEOUT, "stdout line").then((l) => JSON.parse(l));
  }
}

function testServer(): McpServer {
  const server = new McpServer({ name: "stdio-test", version: "1.0.0" });
  server.tool("shout", { description: "logs with console.log, returns text" }, () => {
    console.log("this must not reach stdout");
    return "HEY";
  });
  return server;
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

describe("serveStdio in-process", () => {
  test("one JSON-RPC message per line: split chunks, CRLF, blank lines, parse errors", async () => {
    const pipes = new Pipes();
    const h = serveStdio(testServer(), { input: pipes.input, output: pipes.output, redirectConsole: false });
    try {
      // A message split across chunks, and a CRLF line ending.
      pipes.write(INIT.slice(0, 20));
      pipes.write(INIT.slice(20) + "\r\n");
      const init = await pipes.next();
      assert.equal((init.result as { protocolVersion: string }).protocolVersion, "2025-11-25");
      pipes.write('\n  \n{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      pipes.write("{oops\n");
      const parse = await pipes.next();
      assert.equal((parse.error as { code: number }).code, ErrorCode.ParseError);
      // Two messages in one chunk, answered in order of completion (both synchronous).
      pipes.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n');
      const a = await pipes.next();
      const b = await pipes.next();
      assert.deepEqual([a.id, b.id], [1, 2]);
      assert.deepEqual(a.result, {});
      assert.equal((b.result as { tools: { name: string }[] }).tools[0].name, "shout");
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("a line longer than maxMessageBytes is answered with an error and skipped", async () => {
    const pipes = new Pipes();
    const h = serveStdio(testServer(), { input: pipes.input, output: pipes.output, maxMessageBytes: 1000 });
    try {
      pipes.write(INIT + "\n");
      await pipes.next();
      pipes.write('{"jsonrpc":"2.0","id":5,"method":"ping","params":{"pad":"' + "x".repeat(600));
      pipes.write("x".repeat(600) + '"}}\n{"jsonrpc":"2.0","id":6,"method":"ping"}\n');
      const err = await pipes.next();
      assert.equal((err.error as { code: number }).code, ErrorCode.InvalidRequest);
      assert.match((err.error as { message: string }).message, /longer than 1000 bytes/);
      const next = await pipes.next();
      assert.equal(next.id, 6, "the message after the long line is served");
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("console.log goes to stderr while serving, and is restored after", async () => {
    const original = console.log;
    const pipes = new Pipes();
    const h = serveStdio(testServer(), { input: pipes.input, output: pipes.output });
    try {
      assert.notEqual(console.log, original);
      pipes.write(INIT + "\n");
      await pipes.next();
      pipes.write('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shout","arguments":{}}}\n');
      const res = await pipes.next();
      assert.equal(res.id, 1, "the next stdout line is the response, not the handler's console.log");
      assert.deepEqual((res.result as { content: unknown }).content, [{ type: "text", text: "HEY" }]);
    } finally {
      await h.close({ timeout: 100 });
    }
    assert.equal(console.log, original);
  });

  test("end of stdin ends the session", async () => {
    const pipes = new Pipes();
    const server = testServer();
    const h = serveStdio(server, { input: pipes.input, output: pipes.output, redirectConsole: false });
    pipes.write(INIT + "\n");
    await pipes.next();
    assert.equal(server.sessions.size, 1);
    pipes.end();
    await within(h.closed, TIMEOUT, "session end after EOF");
    assert.equal(server.sessions.size, 0);
    assert.equal(h.session.isClosed, true);
  });
});

describe("official SDK client over stdio", () => {
  test("drives the example server: tools, resources, prompts, elicitation and sampling", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: STDIO_SERVER,
      stderr: "pipe",
    });
    const client = new Client({ name: "sdk-stdio-test", version: "1.0.0" }, {
      capabilities: { sampling: {}, elicitation: { form: {} } },
    });
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: "accept", content: { name: "Linus" } }));
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: "assistant",
      model: "m",
      content: { type: "text", text: "a summary" },
    }));
    const errors: unknown[] = [];
    try {
      await within(client.connect(transport), 20_000, "connect over stdio");
      transport.onerror = (e: unknown) => errors.push(e);
      assert.equal(client.getServerVersion()?.name, "example");
      const { tools } = await client.listTools();
      assert.ok(tools.some((t: { name: string }) => t.name === "echo"));
      const echo = await client.callTool({ name: "echo", arguments: { text: "over stdio" } });
      assert.deepEqual(echo.content, [{ type: "text", text: "over stdio" }]);
      const progress: number[] = [];
      await client.callTool({ name: "slow", arguments: { ms: 60, steps: 3 } }, undefined, {
        onprogress: (p: { progress: number }) => progress.push(p.progress),
      });
      // The last report and the response leave back to back; when the pipe delivers them in one chunk,
      // the SDK client handles the response first and drops that report (its notification handlers run a
      // microtask later). The reports followed by a pause always arrive.
      assert.deepEqual(progress.slice(0, 2), [1, 2]);
      const cfg = await client.readResource({ uri: "config://app" });
      assert.equal(cfg.contents[0].mimeType, "application/json");
      const prompt = await client.getPrompt({ name: "review_code", arguments: { code: "fn main() {}" } });
      assert.match((prompt.messages[0].content as { text: string }).text, /fn main/);
      const greet = await client.callTool({ name: "greet_user", arguments: {} });
      assert.deepEqual(greet.content, [{ type: "text", text: "Hello, Linus!" }]);
      const sum = await client.callTool({ name: "summarize", arguments: { text: "long text" } });
      assert.deepEqual(sum.content, [{ type: "text", text: "a summary" }]);
      assert.deepEqual(errors, [], "stdout carried nothing but protocol messages");
    } finally {
      await client.close();
    }
  });

  test("the server process exits once its stdin ends", async () => {
    const child = spawn(process.execPath, STDIO_SERVER, { stdio: ["pipe", "pipe", "ignore"] });
    try {
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const firstLine = new Promise<string>((resolve) => {
        let out = "";
        child.stdout!.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
        });
      });
      child.stdin!.write(INIT + "\n");
      const res = JSON.parse(await within(firstLine, 20_000, "initialize response"));
      assert.equal(res.result.serverInfo.name, "example");
      child.stdin!.end();
      assert.equal(await within(exited, TIMEOUT, "exit after stdin ends"), 0);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
});
