// One instance of a cluster for tests/cluster.test.ts: the notes board of examples/cluster.ts, over the
// same Redis, plus tools that raise each kind of server-wide notification and ask the client things.
// Env: REDIS_URL, PORT, HEARTBEAT (ms), NAME (reported by whoami). Prints "listening <port>".
import { z } from "zod";
import { redisCluster, redisTaskStore, serve } from "../../mod.ts";
import { connectRedis, createBoard } from "../../examples/cluster.ts";
import { coreOf } from "../../server.ts";

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;
const env = (name: string): string | undefined => rt.Deno?.env.get(name) ?? rt.process?.env[name];
const name = env("NAME") ?? "instance";
const { publisher, subscriber, store } = await connectRedis(env("REDIS_URL")!);
let reported = false;
const cluster = redisCluster({
  publisher,
  subscriber,
  heartbeat: Number(env("HEARTBEAT") ?? 1000),
  prefix: "test",
  log: (m) => (reported = true, console.error(m)),
});
const server = createBoard({
  cluster,
  store,
  stateSecret: "a shared secret of the test cluster",
  taskStore: redisTaskStore({ client: publisher, prefix: "test:task:" }),
});

server.tool("whoami", {}, () => `${name} ${rt.Deno ? "deno" : "bun"} ${rt.Deno?.pid ?? rt.process.pid}`);
server.tool("touch", { input: z.object({ uri: z.string() }) }, ({ uri }) => {
  server.resourceUpdated(uri);
  return "touched";
});
server.tool("announce", { input: z.object({ text: z.string() }) }, ({ text }) => {
  server.log("warning", text, name);
  return "announced";
});
server.tool("add_tool", { input: z.object({ tool: z.string() }) }, ({ tool }) => {
  server.tool(tool, {}, () => tool);
  return "added";
});
server.tool("ask", {}, async (_args, ctx) => {
  const r = await ctx.sample({ messages: [{ role: "user", content: { type: "text", text: "2+2?" } }], maxTokens: 5 });
  const content = r.content as { type: string; text?: string };
  return `${name} heard: ${content.text ?? content.type}`;
});
server.tool("greet", {}, async (_args, ctx) => {
  const a = await ctx.elicit("Your name?", z.object({ name: z.string() }));
  return a.action === "accept" ? `Hello, ${a.content.name}, from ${name}` : a.action;
});
server.tool("greet_task", { task: "required" }, async (_args, ctx) => {
  const a = await ctx.elicit("Your name?", z.object({ name: z.string() }));
  return a.action === "accept" ? `Hello, ${a.content.name}, from ${name}` : a.action;
});
server.tool("block", { input: z.object({ ms: z.number() }) }, ({ ms }) => {
  const until = Date.now() + ms; // holds this process's event loop, as a long synchronous task or a GC pause would
  while (Date.now() < until) { /* busy */ }
  return `${name} blocked ${ms} ms`;
});
server.tool("steps", { input: z.object({ n: z.number() }) }, async ({ n }, ctx) => {
  for (let i = 1; i <= n; i++) {
    ctx.log("info", `step ${i}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return `${n} steps on ${name}`;
});

const handle = serve(server, { port: Number(env("PORT") ?? 0), reusePort: true });
// Ready once it hears the bus (or, with Redis down at start, once it has said so): an instance that shares its port
// with another is reachable before it is ready.
const node = coreOf(server).cluster!;
while (!node.up && !reported) await new Promise((r) => setTimeout(r, 10));
console.log(`listening ${handle.port}`);
