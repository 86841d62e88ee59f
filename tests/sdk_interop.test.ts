// The official SDK client (@modelcontextprotocol/sdk 1.32.2, WebSocketClientTransport)
// against examples/server.ts: issues 2 and 3.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ServeHandle } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import { start } from "./testdata/helpers.ts";
import { cancelSlowCall, newSdkClient } from "./testdata/sdk_client.ts";

describe("official SDK client over WebSocket", () => {
  let h: ServeHandle;
  let server: ReturnType<typeof createServer>;
  let client: Client;
  before(async () => {
    server = createServer();
    h = start(server);
    client = newSdkClient();
    await client.connect(new WebSocketClientTransport(h.url));
  });
  after(async () => {
    await client.close();
    await h.close({ timeout: 100 });
  });

  test("initialize: server info, version and instructions", () => {
    assert.equal(client.getServerVersion()?.name, "example");
    assert.equal(client.getInstructions()?.includes("arithmetic"), true);
    assert.ok(client.getServerCapabilities()?.tools);
  });

  test("lists tools and calls one", async () => {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t: { name: string }) => t.name === "add"));
    const res = await client.callTool({ name: "add", arguments: { a: 20, b: 22 } });
    assert.deepEqual(res.content, [{ type: "text", text: "42" }]);
  });

  test("structured output is validated by the client against outputSchema", async () => {
    await client.listTools();
    const res = await client.callTool({ name: "divide", arguments: { a: 7, b: 2 } });
    assert.deepEqual(res.structuredContent, { quotient: 3, remainder: 1 });
  });

  test("resources: list, templates, read, subscribe", async () => {
    const { resources } = await client.listResources();
    assert.ok(resources.some((r: { uri: string }) => r.uri === "config://app"));
    assert.ok(
      resources.some((r: { uri: string }) => r.uri === "users://ada/profile"),
      "template list() entries are listed",
    );
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t: { uriTemplate: string }) => t.uriTemplate), ["users://{name}/profile"]);
    const cfg = await client.readResource({ uri: "config://app" });
    assert.deepEqual(JSON.parse((cfg.contents[0] as { text: string }).text), { theme: "dark", debug: false });
    assert.equal(cfg.contents[0].mimeType, "application/json");
    const prof = await client.readResource({ uri: "users://grace/profile" });
    assert.equal((prof.contents[0] as { text: string }).text, "Profile of grace");

    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler(
        ResourceUpdatedNotificationSchema,
        (n: { params: { uri: string } }) => resolve(n.params.uri),
      )
    );
    await client.subscribeResource({ uri: "config://app" });
    server.resourceUpdated("config://app");
    assert.equal(await updated, "config://app");
    await client.unsubscribeResource({ uri: "config://app" });
  });

  test("reading an unknown resource is an error", async () => {
    await assert.rejects(client.readResource({ uri: "nope://x" }), /Resource not found/);
  });

  test("prompts: list with derived arguments, get", async () => {
    const { prompts } = await client.listPrompts();
    const review = prompts.find((p: { name: string }) => p.name === "review_code")!;
    assert.deepEqual(review.arguments, [
      { name: "code", description: "The code to review", required: true },
      { name: "language", description: "Its language", required: false },
    ]);
    const got = await client.getPrompt({ name: "review_code", arguments: { code: "x = 1", language: "python" } });
    assert.equal(got.messages[0].role, "user");
    assert.match((got.messages[0].content as { text: string }).text, /python code:\n\nx = 1/);
    await assert.rejects(client.getPrompt({ name: "review_code", arguments: {} }), /Missing required argument "code"/);
  });

  test("completion for prompt arguments and template variables", async () => {
    const lang = await client.complete({
      ref: { type: "ref/prompt", name: "review_code" },
      argument: { name: "language", value: "t" },
    });
    assert.deepEqual(lang.completion.values, ["typescript"]);
    const user = await client.complete({
      ref: { type: "ref/resource", uri: "users://{name}/profile" },
      argument: { name: "name", value: "a" },
    });
    assert.deepEqual(user.completion.values, ["ada", "alan"]);
    assert.equal(user.completion.total, 2);
    assert.equal(user.completion.hasMore, false);
  });

  test("logging: setLevel filters server log messages", async () => {
    const seen: string[] = [];
    let done!: () => void;
    const last = new Promise<void>((r) => (done = r));
    client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n: { params: { level: string; data: unknown } }) => {
        seen.push(`${n.params.level}:${n.params.data}`);
        if (n.params.data === "end") done();
      },
    );
    await client.setLoggingLevel("warning");
    server.log("info", "hidden");
    server.log("error", "shown");
    server.log("warning", "end");
    await last;
    assert.deepEqual(seen, ["error:shown", "warning:end"]);
  });

  test("progress notifications reach onprogress, increasing", async () => {
    const progress: number[] = [];
    const res = await client.callTool({ name: "slow", arguments: { ms: 20, steps: 4 } }, undefined, {
      onprogress: (p: { progress: number }) => progress.push(p.progress),
    });
    assert.deepEqual(res.content, [{ type: "text", text: "waited 20 ms" }]);
    assert.deepEqual(progress, [1, 2, 3, 4]);
  });

  test("cancellation through AbortSignal stops the handler", async () => {
    await cancelSlowCall(client);
    // Frames on one socket are ordered: the cancel arrived before the echo, so the handler is gone already.
    assert.equal([...server.sessions][0].inFlight, 0);
  });

  test("elicitation: the tool asks, the client answers, the answer is typed", async () => {
    const res = await client.callTool({ name: "greet_user", arguments: {} });
    assert.deepEqual(res.content, [{ type: "text", text: "Hello, Ada!" }]);
  });

  test("sampling: the tool asks the client's model", async () => {
    const res = await client.callTool({ name: "summarize", arguments: { text: "abcdef" } });
    assert.match((res.content as { text: string }[])[0].text, /^summary of \d+ chars$/);
  });

  test("roots: the tool lists the client's roots", async () => {
    const res = await client.callTool({ name: "list_roots", arguments: {} });
    assert.deepEqual(res.content, [{ type: "text", text: "file:///work" }]);
  });

  test("tools/list_changed reaches the client when a tool is added", async () => {
    const changed = new Promise<void>((resolve) =>
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve())
    );
    const reg = server.tool("late", { input: z.object({}) }, () => "late tool");
    await changed;
    const { tools } = await client.listTools();
    assert.ok(tools.some((t: { name: string }) => t.name === "late"));
    reg.remove();
  });
});

describe("examples/server.ts as a process", () => {
  test("answers the SDK client", async () => {
    const runtime = "Bun" in globalThis ? ["run"] : ["run", "-A"];
    const child = spawn(process.execPath, [...runtime, "examples/server.ts"], {
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d) => {
          out += d;
          const m = out.match(/ws:\/\/\S+/);
          if (m) resolve(m[0]);
        });
        child.on("exit", (code) => reject(new Error(`example exited with ${code}`)));
      });
      const client = new Client({ name: "sdk-test", version: "1.0.0" });
      await client.connect(new WebSocketClientTransport(new URL(url)));
      const res = await client.callTool({ name: "echo", arguments: { text: "hi" } });
      assert.deepEqual(res.content, [{ type: "text", text: "hi" }]);
      await client.close();
    } finally {
      child.kill();
    }
  });
});
