// A real OAuth 2.1 authorization server for tests/oauth.test.ts: oidc-provider, run by Node (the
// authorization server is an outside peer of the MCP server, so it runs as one). It issues JWT access
// tokens (RFC 9068) by client_credentials, with the audience the client names by RFC 8707's
// `resource`. Prints `listening <port>` once it accepts connections.
//
//   node tests/testdata/oauth_as.mjs
//
// Clients (id / secret / scopes it may be granted / token lifetime):
//   agent  / agent-secret  / notes:read notes:write / 300 s
//   reader / reader-secret / notes:read             / 300 s
//   brief  / brief-secret  / notes:read notes:write / 2 s (to watch a token expire)

import { createServer } from "node:http";
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const SCOPES = "notes:read notes:write";
const client = (id, scope) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ["client_credentials"],
  redirect_uris: [],
  response_types: [],
  scope,
});

let handle = (_req, res) => res.writeHead(503).end();
const http = createServer((req, res) => handle(req, res));
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const port = http.address().port;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "RS256" }] },
  clients: [client("agent", SCOPES), client("reader", "notes:read"), client("brief", SCOPES)],
  scopes: SCOPES.split(" "),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: (_ctx, resource, client) => ({
        scope: SCOPES,
        audience: resource,
        accessTokenTTL: client.clientId === "brief" ? 2 : 300,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
});
handle = provider.callback();
console.log(`listening ${port}`);
