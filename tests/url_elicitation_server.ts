// The server of tests/url_elicitation.test.ts; run as a program, it serves standard input and output.
import { z } from "zod";
import { McpServer, serveStdio, type Session, UrlElicitationRequiredError } from "../mod.ts";

export function build(): McpServer {
  const server = new McpServer({ name: "url-elicitation", version: "1.0.0" });
  const connected = new Set<string>(); // users who finished on the "web page"
  const waiting = new Map<string, { session: Session; user: string }>();

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

  // Stands in for the web route the user's browser ends on (a tool, so that a stdio child is reached too):
  // marks the user connected and tells the session that started the elicitation.
  server.tool("visit", { input: z.object({ elicitationId: z.string() }) }, ({ elicitationId }) => {
    const w = waiting.get(elicitationId);
    if (!w) throw new Error(`no elicitation ${elicitationId} is waiting`);
    waiting.delete(elicitationId);
    connected.add(w.user);
    return String(w.session.elicitationComplete(elicitationId));
  });
  return server;
}

if (import.meta.main) serveStdio(build());
