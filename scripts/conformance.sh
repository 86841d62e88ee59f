#!/usr/bin/env bash
# Runs every server scenario of the official MCP conformance suite
# (@modelcontextprotocol/conformance 0.1.16) against examples/conformance_server.ts
# on Deno, over Streamable HTTP. Fails when a scenario fails (a FAILURE or a
# WARNING check, as the suite's own baseline check counts them) unless
# conformance-expected-failures.txt lists it, and when a listed scenario passes.
#
#   scripts/conformance.sh            (needs only npm run setup: Deno comes from tools/node_modules)
#
# Environment: DENO (the deno binary), CONFORMANCE (the suite to run: an npm:
# specifier or a path to its dist/index.js; default npm:@modelcontextprotocol/conformance@0.1.16,
# which Deno fetches from npm and caches), KEEP_RESULTS=1 (keep the result directory).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DENO=${DENO:-$ROOT/tools/node_modules/.bin/deno}
SUITE=${CONFORMANCE:-npm:@modelcontextprotocol/conformance@0.1.16}
EXPECTED=$ROOT/conformance-expected-failures.txt
export NO_COLOR=1

if [ ! -x "$DENO" ]; then
  echo "conformance: $DENO not found; run npm run setup first" >&2
  exit 2
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${KEEP_RESULTS:-}" = 1 ]; then echo "conformance: results kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bounded waits and runs when coreutils' timeout exists.
limit() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }

# 1. The fixture server on a free port; it prints its URL.
PORT=0 "$DENO" run -A examples/conformance_server.ts >"$work/server.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 600); do # up to 60 s (a cold Deno cache compiles zod first)
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$work/server.log" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "conformance: the fixture server exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "conformance: the fixture server did not start within 60 s" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "conformance: fixture server at $url"

# 2. The suite, run from an empty directory so Deno resolves the npm: package itself
#    rather than through this project's node_modules.
suite() { (cd "$work" && limit "$1" "$DENO" run -A "$SUITE" "${@:2}"); }
suite 300 list --server >"$work/list.log" 2>&1 || {
  echo "conformance: could not list the scenarios:" >&2
  cat "$work/list.log" >&2
  exit 1
}
scenarios=$(sed -n 's/^  - \([a-z0-9-]*\).*/\1/p' "$work/list.log")
if [ -z "$scenarios" ]; then
  echo "conformance: no server scenarios listed:" >&2
  cat "$work/list.log" >&2
  exit 1
fi
echo "conformance: $(echo "$scenarios" | wc -l | tr -d ' ') server scenarios"
suite_status=0
suite 600 server --url "$url" --suite all -o "$work/results" >"$work/suite.log" 2>&1 || suite_status=$?
# The suite exits 1 when a check failed; anything else means it did not run to the end.
if [ "$suite_status" -ne 0 ] && [ "$suite_status" -ne 1 ]; then
  echo "conformance: the suite did not run to the end (exit $suite_status):" >&2
  tail -n 40 "$work/suite.log" >&2
  exit 1
fi

# 3. Judge each scenario from its checks.json against the expected failures.
echo "$scenarios" >"$work/scenarios.txt"
"$DENO" eval --quiet '
  const [dir, listFile, expectedFile] = Deno.args;
  const scenarios = Deno.readTextFileSync(listFile).split("\n").filter(Boolean);
  let expected = new Set();
  try {
    expected = new Set(Deno.readTextFileSync(expectedFile).split("\n")
      .map((l) => l.replace(/#.*/, "").trim()).filter(Boolean));
  } catch { /* no file: nothing expected to fail */ }
  const results = new Map();
  for (const e of Deno.readDirSync(dir)) {
    const m = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(e.name);
    if (m) results.set(m[1], JSON.parse(Deno.readTextFileSync(`${dir}/${e.name}/checks.json`)));
  }
  let unexpected = 0;
  for (const name of scenarios) {
    const checks = results.get(name);
    const bad = checks
      ? checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING")
      : [{ status: "FAILURE", name, errorMessage: "no results (the scenario did not run)" }];
    const passed = checks ? checks.filter((c) => c.status === "SUCCESS").length : 0;
    if (!bad.length && expected.has(name)) {
      unexpected++;
      console.log(`STALE  ${name}: passes but conformance-expected-failures.txt lists it; remove it`);
    } else if (!bad.length) {
      console.log(`PASS   ${name} (${passed} checks)`);
    } else if (expected.has(name)) {
      console.log(`XFAIL  ${name} (listed in conformance-expected-failures.txt)`);
    } else {
      unexpected++;
      console.log(`FAIL   ${name}`);
      for (const c of bad) console.log(`         ${c.status} ${c.name}: ${c.errorMessage ?? c.description ?? ""}`);
    }
  }
  for (const name of expected) {
    if (!scenarios.includes(name)) {
      unexpected++;
      console.log(`STALE  ${name}: listed in conformance-expected-failures.txt but not a scenario of this suite`);
    }
  }
  console.log(unexpected ? `conformance: ${unexpected} unexpected result(s)` : "conformance: all server scenarios pass");
  Deno.exit(unexpected ? 1 : 0);
' "$work/results" "$work/scenarios.txt" "$EXPECTED" || {
  echo "conformance: suite output follows" >&2
  tail -n 80 "$work/suite.log" >&2
  exit 1
}
