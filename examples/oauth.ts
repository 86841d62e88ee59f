/**
 * An OAuth-protected notes server: an OAuth 2.1 resource server that takes
 * JWT access tokens (RFC 9068) from an authorization server, checked against
 * its JWKS with `jose`.
 *
 *   ISSUER=https://auth.example.com deno run --allow-net --allow-env examples/oauth.ts
 *   ISSUER=https://auth.example.com bun run examples/oauth.ts
 *
 * `ISSUER` is the authorization server; its key set is found through its
 * metadata (or given as `JWKS_URL`). `RESOURCE` is this server's public URL,
 * the audience tokens must name: by default `http://127.0.0.1:$PORT/mcp`,
 * set it to the https URL clients use behind a proxy. Listens on `PORT`
 * (default 8080) on 127.0.0.1.
 *
 * Reading notes needs the scope `notes:read`; `add_note` also needs
 * `notes:write`, which a client gets by stepping up when it first calls it.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import { z } from "zod";
import { type Context, McpServer, oauthResource, type OAuthToken, serve } from "../mod.ts";

/** The key set URL of an authorization server, from its metadata (RFC 8414, then OpenID Connect discovery). */
export async function jwksUrlOf(issuer: string): Promise<URL> {
  const base = new URL(issuer);
  const path = base.pathname === "/" ? "" : base.pathname;
  const candidates = [
    `${base.origin}/.well-known/oauth-authorization-server${path}`,
    `${base.origin}/.well-known/openid-configuration${path}`,
    `${base.origin}${path}/.well-known/openid-configuration`,
  ];
  for (const url of candidates) {
    const res = await fetch(url, { headers: { accept: "application/json" } }).catch(() => undefined);
    if (!res?.ok) {
      await res?.body?.cancel();
      continue;
    }
    const meta = await res.json() as { issuer?: string; jwks_uri?: string };
    if (meta.issuer !== issuer || typeof meta.jwks_uri !== "string") {
      throw new Error(`${url} is not the metadata of ${issuer}, or names no jwks_uri`);
    }
    return new URL(meta.jwks_uri);
  }
  throw new Error(`no authorization server metadata found for ${issuer} (set JWKS_URL)`);
}

/** The notes server: tools that read and write notes, scoped. */
export function createNotesServer(): McpServer {
  const notes: string[] = [];
  const server = new McpServer({ name: "notes", version: "1.0.0" });
  server.tool("list_notes", { description: "List the notes" }, () => notes.join("\n") || "(no notes)");
  server.tool("add_note", {
    description: "Add a note",
    input: z.object({ text: z.string() }),
    scopes: ["notes:write"],
  }, ({ text }, ctx: Context) => {
    notes.push(text);
    return `note ${notes.length} added by ${(ctx.auth as OAuthToken).subject}`;
  });
  server.tool("whoami", { description: "Who the access token names" }, (_args, ctx: Context) => {
    const { subject, clientId, scopes, expiresAt } = ctx.auth as OAuthToken;
    return { subject, clientId, scopes: [...scopes], expiresAt };
  });
  return server;
}

if (import.meta.main) {
  const issuer = process.env.ISSUER;
  if (!issuer) {
    console.error("Set ISSUER to the authorization server's issuer URL, e.g. ISSUER=https://auth.example.com");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 8080);
  const resource = process.env.RESOURCE ?? `http://127.0.0.1:${port}/mcp`;
  const jwks = createRemoteJWKSet(process.env.JWKS_URL ? new URL(process.env.JWKS_URL) : await jwksUrlOf(issuer));

  serve(createNotesServer(), {
    port,
    oauth: oauthResource({
      resource,
      authorizationServers: [issuer],
      scopesSupported: ["notes:read", "notes:write"],
      requiredScopes: ["notes:read"],
      // Signature, issuer and token type here; the audience, expiry and scopes are checked by the library.
      verifyToken: async (token) => (await jwtVerify(token, jwks, { issuer, typ: "at+jwt" })).payload,
    }),
    onListen: (url) => console.log(`MCP notes server on ${url} (and ${resource}), tokens from ${issuer}`),
  });
}
