/**
 * RFC 6570 URI templates for MCP resource templates: expansion of levels 1–3
 * plus the level-4 explode (`*`) and prefix (`:n`) modifiers, and a linear-time
 * matcher that extracts variables back out of a concrete URI. See {@link UriTemplate}.
 * @module
 */

type Op = "" | "+" | "#" | "." | "/" | ";" | "?" | "&";
type VarSpec = { name: string; explode: boolean; prefix?: number };
type Expr = { op: Op; specs: VarSpec[] };
type Part = string | Expr;
type Value = string | string[];

interface OpInfo {
  first: string; // emitted before a non-empty expansion; must be present to match
  sep: string;
  named: boolean; // `name=value` pairs
  ifemp: string; // what follows a named variable whose value is empty
  reserved: boolean; // reserved characters pass through unencoded
  stops: string; // raw characters an expansion of this operator never contains
}

// RFC 6570 Appendix A table. `stops` is what keeps matching predictable: a
// plain `{var}` can never swallow a path segment, query or fragment.
const OPS: Record<Op, OpInfo> = {
  "": { first: "", sep: ",", named: false, ifemp: "", reserved: false, stops: "/?#&" },
  "+": { first: "", sep: ",", named: false, ifemp: "", reserved: true, stops: "" },
  "#": { first: "#", sep: ",", named: false, ifemp: "", reserved: true, stops: "" },
  ".": { first: ".", sep: ".", named: false, ifemp: "", reserved: false, stops: "/?#&," },
  "/": { first: "/", sep: "/", named: false, ifemp: "", reserved: false, stops: "?#&," },
  ";": { first: ";", sep: ";", named: true, ifemp: "", reserved: false, stops: "/?#&," },
  "?": { first: "?", sep: "&", named: true, ifemp: "=", reserved: false, stops: "#" },
  "&": { first: "&", sep: "&", named: true, ifemp: "=", reserved: false, stops: "#" },
};

const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/;
const UNRESERVED_RUN = /[^A-Za-z0-9\-._~]+/g;
// Existing %XX triplets are kept so already-encoded input is not double-encoded.
const RESERVED_RUN = /%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+|%/g;
const utf8 = new TextEncoder();

const pct = (s: string): string =>
  Array.from(utf8.encode(s), (b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");

function encode(s: string, reserved: boolean): string {
  return reserved
    ? s.replace(RESERVED_RUN, (m) => (m[0] === "%" && m.length === 3 ? m : pct(m)))
    : s.replace(UNRESERVED_RUN, pct);
}

function parse(template: string): Part[] {
  const fail = (msg: string): never => {
    throw new TypeError(`Invalid URI template ${JSON.stringify(template)}: ${msg}`);
  };
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    const literal = template.slice(i, open < 0 ? undefined : open);
    if (literal.includes("}")) fail(`unmatched "}" at index ${i + literal.indexOf("}")}`);
    if (literal) parts.push(literal);
    if (open < 0) break;
    const close = template.indexOf("}", open);
    const body = template.slice(open + 1, close);
    if (close < 0 || body.includes("{")) fail(`unclosed "{" at index ${open}`);
    if (!body) fail(`empty expression at index ${open}`);
    if ("=,!@|".includes(body[0])) fail(`operator "${body[0]}" is reserved and not supported`);
    const op = ("+#./;?&".includes(body[0]) ? body[0] : "") as Op;
    const specs = body.slice(op.length).split(",").map((raw): VarSpec => {
      const [, name, star, len] = /^([^:*]*)(?:(\*)|:(.*))?$/.exec(raw) ?? fail(`invalid variable name "${raw}"`);
      if (len !== undefined && !/^[1-9][0-9]{0,3}$/.test(len)) fail(`invalid prefix length in "${raw}"`);
      if (!VARNAME.test(name)) fail(`invalid variable name "${raw}"`);
      return { name, explode: star === "*", prefix: len ? Number(len) : undefined };
    });
    parts.push({ op, specs });
    i = close + 1;
  }
  return parts;
}

function expandExpr(expr: Expr, vars: Record<string, unknown>): string {
  const op = OPS[expr.op];
  const named = (name: string, v: string) => (op.named ? name + (v ? "=" + v : op.ifemp) : v);
  const items: string[] = [];
  for (const { name, explode, prefix } of expr.specs) {
    // hasOwn: a variable called "constructor" must not read Object.prototype.
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (v == null || (Array.isArray(v) && v.length === 0)) continue;
    if (Array.isArray(v)) {
      const encoded = v.map((x) => encode(String(x), op.reserved));
      if (explode) items.push(...encoded.map((x) => named(name, x)));
      else items.push(named(name, encoded.join(",")));
    } else {
      const s = prefix ? Array.from(String(v)).slice(0, prefix).join("") : String(v);
      items.push(named(name, encode(s, op.reserved)));
    }
  }
  return items.length ? op.first + items.join(op.sep) : "";
}

// Index where a value starting at `start` must end: the first stop character,
// or the separator that would begin one piece more than `limit`. One pass, no
// backtracking, which is what keeps hostile input linear.
function scan(uri: string, start: number, stops: string, sep: string, limit: number): number {
  let pieces = 1;
  for (let i = start; i < uri.length; i++) {
    const c = uri[i];
    if (stops.includes(c) || (c === sep && ++pieces > limit)) return i;
  }
  return uri.length;
}

const isQuery = (p: Part | undefined): p is Expr => typeof p === "object" && OPS[p.op].sep === "&";

/**
 * An RFC 6570 URI template, as used by MCP resource templates.
 *
 * Matching never backtracks, so it runs in linear time. A value ends at the
 * first character its operator cannot produce (`/ ? # & ,` for `{var}`), at the
 * next expression's operator character, or at the next literal: at the URI's
 * end if that literal ends the template, else at the literal's last occurrence
 * for `{+var}`/`{#var}` and its first occurrence for the other operators.
 * @example
 * ```ts
 * const t = new UriTemplate("repo://{owner}/{repo}/{+path}");
 * t.variables; // ["owner", "repo", "path"]
 * t.match("repo://denoland/deno/cli/main.rs");
 * // { owner: "denoland", repo: "deno", path: "cli/main.rs" }
 * t.expand({ owner: "a", repo: "b", path: "src/x y.ts" }); // "repo://a/b/src/x%20y.ts"
 * ```
 */
export class UriTemplate {
  /** The template source, exactly as given. @example `new UriTemplate("a://{x}").template; // "a://{x}"` */
  readonly template: string;
  /** Distinct variable names in order of first appearance. @example `new UriTemplate("{a}/{b}{?c}").variables; // ["a", "b", "c"]` */
  readonly variables: readonly string[];
  readonly #parts: readonly Part[];

  /**
   * Parses a template.
   * @throws {TypeError} On an unclosed or stray brace, an empty expression, an
   * invalid variable name or prefix, or a reserved operator (`= , ! @ |`).
   * @example
   * ```ts
   * new UriTemplate("file:///logs/{name}");
   * try {
   *   new UriTemplate("file:///{");
   * } catch (e) {
   *   console.log(e instanceof TypeError); // true: unclosed "{"
   * }
   * ```
   */
  constructor(template: string) {
    if (typeof template !== "string") throw new TypeError("URI template must be a string");
    this.template = template;
    this.#parts = parse(template);
    const names = this.#parts.flatMap((p) => (typeof p === "string" ? [] : p.specs.map((s) => s.name)));
    this.variables = Object.freeze([...new Set(names)]);
  }

  /**
   * True when `s` contains at least one `{...}` expression; it does not validate it.
   * @example
   * ```ts
   * UriTemplate.isTemplate("users://{id}"); // true
   * UriTemplate.isTemplate("users://42"); // false
   * ```
   */
  static isTemplate(s: string): boolean {
    return /\{[^{}]+\}/.test(s);
  }

  /**
   * Expands the template (RFC 6570 levels 1–3, plus `*` and `:n`). Undefined
   * variables and empty arrays are omitted; numbers and booleans are
   * stringified. Prefixes do not apply to arrays.
   * @example
   * ```ts
   * new UriTemplate("search://q{?query,limit}").expand({ query: "a b", limit: 5 });
   * // "search://q?query=a%20b&limit=5"
   * new UriTemplate("x{/list*}").expand({ list: ["a", "b"] }); // "x/a/b"
   * ```
   */
  expand(vars: Record<string, string | number | boolean | string[] | undefined>): string {
    return this.#parts.map((part) => (typeof part === "string" ? part : expandExpr(part, vars))).join("");
  }

  /**
   * Matches a URI against the template and returns the percent-decoded
   * variables, or `null`. Variables missing from the URI are absent from the
   * result; exploded (`*`) variables are always arrays. Query variables
   * (`{?a,b}{&c}`) are optional, order-free, and unknown keys are ignored.
   * A variable matched twice with different values, or malformed
   * percent-encoding, means no match. A `:n` prefix is not enforced.
   * @example
   * ```ts
   * const t = new UriTemplate("users://{id}/posts/{postId}");
   * t.match("users://a%20b/posts/7"); // { id: "a b", postId: "7" }
   * t.match("users://a/b/posts/7"); // null
   * ```
   */
  match(uri: string): Record<string, string | string[]> | null {
    try {
      return this.#match(uri);
    } catch (e) {
      if (e instanceof URIError) return null; // from decodeURIComponent
      throw e;
    }
  }

  /** Returns the template source. @example `String(new UriTemplate("a://{x}")); // "a://{x}"` */
  toString(): string {
    return this.template;
  }

  #match(uri: string): Record<string, Value> | null {
    const parts = this.#parts;
    // A Map, because variable names such as "__proto__" are legal.
    const found = new Map<string, Value>();
    const loose = new Set<string>(); // known only from a `:n` prefix, so a full value wins
    const put = (spec: VarSpec, value: Value): boolean => {
      const prev = found.get(spec.name);
      if (prev !== undefined && !loose.has(spec.name)) {
        return spec.prefix !== undefined || JSON.stringify(prev) === JSON.stringify(value);
      }
      found.set(spec.name, value);
      if (spec.prefix) loose.add(spec.name);
      else loose.delete(spec.name);
      return true;
    };
    let pos = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (typeof part === "string") {
        if (!uri.startsWith(part, pos)) return null;
        pos += part.length;
        continue;
      }
      const op = OPS[part.op];
      let specs = part.specs;
      // `{?a}{&b}` is one query string whose keys may come in any order.
      while (isQuery(part) && isQuery(parts[i + 1])) specs = specs.concat((parts[++i] as Expr).specs);
      if (op.first && uri[pos] !== op.first) continue; // every variable undefined
      const next = parts[i + 1];
      const start = pos + op.first.length;
      const explode = specs.some((s) => s.explode);
      // A lone `{+var}`/`{#var}` keeps its commas; everything else splits on sep.
      const split = !op.reserved || specs.length > 1 || explode;
      const limit = explode || op.sep === "&" || !split ? Infinity : specs.length;
      const stops = op.stops + (typeof next === "object" ? OPS[next.op].first : "");
      let end = scan(uri, start, stops, split ? op.sep : "", limit);
      if (typeof next === "string") {
        // A literal that ends the template is anchored to the end. Otherwise `{+var}`, which
        // spans segments, runs to the literal's last occurrence and other values to its first.
        let at = uri.length - next.length;
        if (i + 2 < parts.length) at = op.reserved ? uri.lastIndexOf(next, end) : uri.indexOf(next, start);
        if (at < start || at > end) return null;
        end = at; // the literal itself is checked on the next iteration
      }
      const raw = uri.slice(start, end);
      pos = end;
      if (op.named) {
        const lists = new Map(specs.filter((s) => s.explode).map((s) => [s, [] as string[]]));
        for (const pair of raw.split(op.sep)) {
          const eq = pair.indexOf("=");
          const spec = specs.find((s) => s.name === (eq < 0 ? pair : pair.slice(0, eq)));
          if (!spec && op.sep === "&") continue; // extra query parameters are tolerated
          if (!spec) return null;
          const value = decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1));
          if (spec.explode) lists.get(spec)!.push(value);
          else if (!put(spec, value)) return null;
        }
        for (const [spec, list] of lists) if (list.length && !put(spec, list)) return null;
      } else {
        const pieces = split ? raw.split(op.sep) : [raw];
        const extra = pieces.length - specs.length;
        const greedy = specs.findIndex((s) => s.explode); // absorbs surplus pieces
        if (extra > 0 && greedy < 0) return null;
        for (let k = 0, p = 0; k < specs.length && p < pieces.length; k++) {
          const take = k === greedy ? 1 + Math.max(extra, 0) : 1;
          const values = pieces.slice(p, p + take).map((x) => decodeURIComponent(x));
          p += take;
          if (!put(specs[k], specs[k].explode ? values : values[0])) return null;
        }
      }
    }
    return pos === uri.length ? Object.fromEntries(found) : null;
  }
}
