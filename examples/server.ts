/**
 * The example server: one of each kind of thing an MCP server offers.
 *
 *   deno run --allow-net=127.0.0.1 --allow-env=PORT examples/server.ts
 *   bun run examples/server.ts
 *   deno run examples/server.ts --stdio      (standard input and output; no permission needed)
 *
 * Listens on port 8080 (PORT overrides) at /mcp. Tests import
 * {@linkcode createServer} to get the same server in-process.
 */
import { z } from "zod";
import { McpServer, serve, serveStdio } from "../mod.ts";

/** Builds the example server. */
export function createServer(): McpServer {
  const server = new McpServer({
    name: "example",
    title: "Example MCP server",
    version: "1.0.0",
    instructions: "Tools for arithmetic and echoing; a slow tool for testing cancellation.",
  });

  server.tool("echo", {
    description: "Echo the text back",
    input: z.object({ text: z.string().describe("Text to echo") }),
    annotations: { readOnlyHint: true },
  }, ({ text }) => text);

  server.tool("add", {
    title: "Add",
    description: "Add two numbers",
    input: z.object({ a: z.number(), b: z.number() }),
  }, ({ a, b }) => String(a + b));

  server.tool("divide", {
    description: "Divide a by b, with a structured result",
    input: z.object({ a: z.number(), b: z.number() }),
    output: z.object({ quotient: z.number(), remainder: z.number() }),
  }, ({ a, b }) => {
    if (b === 0) throw new Error("Cannot divide by zero");
    return { quotient: Math.trunc(a / b), remainder: a % b };
  });

  server.tool("slow", {
    description: "Wait, reporting progress, until done or cancelled",
    task: "optional", // a client may run it as a task, and poll for the result
    input: z.object({
      ms: z.number().int().min(0).max(60_000).default(1000),
      steps: z.number().int().min(1).max(100).default(5),
    }),
  }, async ({ ms, steps }, ctx) => {
    for (let i = 1; i <= steps; i++) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms / steps);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      });
      ctx.progress(i, steps, `step ${i} of ${steps}`);
    }
    return `waited ${ms} ms`;
  });

  server.tool("greet_user", {
    description: "Ask the user for their name (elicitation), then greet them",
  }, async (_args, ctx) => {
    const answer = await ctx.elicit("What is your name?", z.object({ name: z.string().describe("Your name") }));
    return answer.action === "accept" ? `Hello, ${answer.content.name}!` : `No name given (${answer.action}).`;
  });

  server.tool("summarize", {
    description: "Summarize text with the client's model (sampling)",
    input: z.object({ text: z.string() }),
  }, async ({ text }, ctx) => {
    const res = await ctx.sample({
      messages: [{ role: "user", content: { type: "text", text: `Summarize in one line:\n${text}` } }],
      maxTokens: 100,
    });
    const content = res.content as { type: string; text?: string };
    return content.type === "text" ? content.text ?? "" : `(model answered with ${content.type})`;
  });

  server.tool("list_roots", { description: "List the client's roots" }, async (_args, ctx) => {
    const roots = await ctx.listRoots();
    return roots.map((r) => r.uri).join("\n") || "(no roots)";
  });

  server.resource("config://app", {
    title: "App configuration",
    mimeType: "application/json",
  }, () => JSON.stringify({ theme: "dark", debug: false }));

  const users = ["ada", "alan", "barbara", "grace", "linus"];
  server.resourceTemplate("users://{name}/profile", {
    title: "User profile",
    mimeType: "text/plain",
    complete: { name: (value) => users.filter((u) => u.startsWith(value)) },
    list: () => users.map((u) => ({ uri: `users://${u}/profile`, name: `${u}'s profile` })),
  }, (_uri, { name }) => `Profile of ${name}`);

  server.prompt("review_code", {
    title: "Review code",
    description: "Ask for a code review",
    args: z.object({
      code: z.string().describe("The code to review"),
      language: z.string().optional().describe("Its language"),
    }),
    complete: { language: (value) => ["typescript", "go", "rust", "python"].filter((l) => l.startsWith(value)) },
  }, ({ code, language }) => `Please review this ${language ? `${language} ` : ""}code:\n\n${code}`);

  return server;
}

if (import.meta.main) {
  // deno-lint-ignore no-explicit-any
  const rt = globalThis as any;
  const args: string[] = rt.Deno?.args ?? rt.process?.argv.slice(2) ?? [];
  if (args.includes("--stdio")) {
    serveStdio(createServer()); // stdout carries protocol only
  } else {
    const port = Number(rt.Deno?.env.get("PORT") ?? rt.process?.env.PORT ?? 8080);
    const handle = serve(createServer(), { port });
    console.log(`MCP server listening on ${handle.url} (WebSocket) and ${handle.httpUrl} (Streamable HTTP)`);
    console.log(`Open ${handle.httpUrl} in a browser to use it.`);
  }
}
