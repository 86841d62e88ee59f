// Summarizes V8/JSC .cpuprofile files (from `deno run --cpu-prof`, `bun --cpu-prof`, or
// BENCH_PROFILE=dir with bench/run.ts): the functions with the most self time and the most
// inclusive time, as shares of the samples in which JavaScript was busy (not idle).
//
//   deno run -A bench/profile.ts /tmp/prof/lib-deno-3.cpuprofile [top=25] [filter]
//
// `filter` keeps only the inclusive rows whose name contains it (e.g. "server.ts").
import process from "node:process";
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, topArg, filter] = process.argv.slice(2);
if (!file) {
  console.error("usage: deno run -A bench/profile.ts <file.cpuprofile> [top] [filter]");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[] };
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (id: number) => {
  const f = nodes.get(id)!.callFrame;
  const where = f.url ? ` ${f.url.split("/").pop()}` : "";
  return `${f.functionName || "(anonymous)"}${where}`;
};

const counts = new Map<number, number>();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
let idle = 0;
const self = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, c] of counts) {
  const n = name(id);
  if (n.startsWith("(idle)")) {
    idle += c;
    continue;
  }
  self.set(n, (self.get(n) ?? 0) + c);
  const seen = new Set<string>();
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const k = name(x);
    if (!seen.has(k)) (seen.add(k), incl.set(k, (incl.get(k) ?? 0) + c));
  }
}
const total = prof.samples.length;
const busy = total - idle;
const pct = (c: number) => `${((100 * c) / busy).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${total} samples, ${((100 * idle) / total).toFixed(1)}% idle; shares are of the ${busy} busy ones`,
);
console.log("self time:");
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(c)}  ${k}`);
console.log("inclusive time:");
const rows = [...incl].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [k, c] of rows) console.log(`  ${pct(c)}  ${k}`);
