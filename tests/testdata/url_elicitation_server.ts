// The server of tests/url_elicitation.test.ts; run as a program, it serves standard input and output.
import { z } from "zod";
import { McpServer, serveStdio, type Session, UrlElicitationRequiredError } from "../../mod.ts";

export function build(): McpServer {
  const server = new McpServer({ name: "url-elicitation", version: "1.0.0" });
  const connected = new Set<string>(); // users who finished on the "web page"
  const waiting = new Map<string, { session: Session; user: string; visited?: () => void }>();

  server.tool("connect", {
    input: z.object({ url: z.string().optional(), id: z.string().optional(), message: z.string().optional() }),
  }, async ({ url, id, message }, ctx) => {
    const r = await ctx.elicitUrl(
      message ?? "Connect your Example account",
      url ?? "https://accounts.example.com/connect",
      {
        elicitationId: id,
      },
    );
    return `${r.action} ${r.elicitationId}`;
  });

  server.tool("files", { input: z.object({ user: z.string() }) }, ({ user }, ctx) => {
    if (connected.has(user)) return `files of ${user}`;
    const elicitationId = crypto.randomUUID();
    waiting.set(elicitationId, { session: ctx.session, user });
    throw new UrlElicitationRequiredError({
      message: `Connect ${user}'s Example account`,
      url: `https://accounts.example.com/connect?id=${elicitationId}`,
      elicitationId,
    });
  });

  // Asks, then waits for the user to finish on the page.
  server.tool("connect_and_wait", { input: z.object({ user: z.string() }) }, async ({ user }, ctx) => {
    const elicitationId = crypto.randomUUID();
    const visited = new Promise<void>((resolve) =>
      waiting.set(elicitationId, { session: ctx.session, user, visited: resolve })
    );
    const r = await ctx.elicitUrl(
      `Connect ${user}'s Example account`,
      `https://accounts.example.com/connect?id=${elicitationId}`,
      {
        elicitationId,
      },
    );
    if (r.action !== "accept") return r.action;
    await visited;
    return `connected ${user}`;
  });

  // Stands in for the web route the user's browser ends on (a tool, so that a stdio child is reached too):
  // marks the user connected and tells the session that started the elicitation.
  server.tool("visit", { input: z.object({ elicitationId: z.string() }) }, ({ elicitationId }) => {
    const w = waiting.get(elicitationId);
    if (!w) throw new Error(`no elicitation ${elicitationId} is waiting`);
    waiting.delete(elicitationId);
    connected.add(w.user);
    const sent = w.session.elicitationComplete(elicitationId);
    w.visited?.();
    return String(sent);
  });
  return server;
}

if (import.meta.main) serveStdio(build());
