import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UriTemplate } from "../uri_template.ts";

// RFC 6570 section 3.2 example variables (associative arrays are not supported).
const V = {
  var: "value",
  hello: "Hello World!",
  empty: "",
  path: "/foo/bar",
  x: "1024",
  y: "768",
  list: ["red", "green", "blue"],
  undef: undefined,
};

const expands = (cases: [string, string][]) => {
  for (const [template, expected] of cases) {
    test(template, () => assert.equal(new UriTemplate(template).expand(V), expected));
  }
};

describe("expand: RFC 6570 level 1", () => {
  expands([
    ["{var}", "value"],
    ["{hello}", "Hello%20World%21"],
    ["{empty}", ""],
    ["{undef}", ""],
    ["file:///logs/{var}.log", "file:///logs/value.log"],
  ]);
});

describe("expand: RFC 6570 level 2", () => {
  expands([
    ["{+var}", "value"],
    ["{+hello}", "Hello%20World!"],
    ["{+path}/here", "/foo/bar/here"],
    ["here?ref={+path}", "here?ref=/foo/bar"],
    ["X{#var}", "X#value"],
    ["X{#hello}", "X#Hello%20World!"],
  ]);
});

describe("expand: RFC 6570 level 3", () => {
  expands([
    ["map?{x,y}", "map?1024,768"],
    ["{x,hello,y}", "1024,Hello%20World%21,768"],
    ["{+x,hello,y}", "1024,Hello%20World!,768"],
    ["{+path,x}/here", "/foo/bar,1024/here"],
    ["{#x,hello,y}", "#1024,Hello%20World!,768"],
    ["{#path,x}/here", "#/foo/bar,1024/here"],
    ["X{.var}", "X.value"],
    ["X{.x,y}", "X.1024.768"],
    ["{/var}", "/value"],
    ["{/var,x}/here", "/value/1024/here"],
    ["{;x,y}", ";x=1024;y=768"],
    ["{;x,y,empty}", ";x=1024;y=768;empty"],
    ["{?x,y}", "?x=1024&y=768"],
    ["{?x,y,empty}", "?x=1024&y=768&empty="],
    ["?fixed=yes{&x}", "?fixed=yes&x=1024"],
    ["{&x,y,empty}", "&x=1024&y=768&empty="],
    ["{?undef}", ""],
    ["{/undef,var}", "/value"],
  ]);
});

describe("expand: level 4 prefix and explode", () => {
  expands([
    ["{var:3}", "val"],
    ["{var:30}", "value"],
    ["{list}", "red,green,blue"],
    ["{list*}", "red,green,blue"],
    ["{+path:6}/here", "/foo/b/here"],
    ["{#path:6}/here", "#/foo/b/here"],
    ["X{.var:3}", "X.val"],
    ["X{.list}", "X.red,green,blue"],
    ["X{.list*}", "X.red.green.blue"],
    ["{/var:1,var}", "/v/value"],
    ["{/list*}", "/red/green/blue"],
    ["{/list*,path:4}", "/red/green/blue/%2Ffoo"],
    ["{;hello:5}", ";hello=Hello"],
    ["{;list}", ";list=red,green,blue"],
    ["{;list*}", ";list=red;list=green;list=blue"],
    ["{?var:3}", "?var=val"],
    ["{?list}", "?list=red,green,blue"],
    ["{?list*}", "?list=red&list=green&list=blue"],
    ["{&var:3}", "&var=val"],
    ["{&list*}", "&list=red&list=green&list=blue"],
  ]);
});

describe("expand: encoding and value types", () => {
  test("numbers and booleans are stringified", () => {
    assert.equal(new UriTemplate("{?n,b}").expand({ n: 5, b: false }), "?n=5&b=false");
  });
  test("empty arrays are undefined", () => {
    assert.equal(new UriTemplate("a{?l}").expand({ l: [] }), "a");
  });
  test("UTF-8 and sub-delims are percent-encoded", () => {
    assert.equal(new UriTemplate("{v}").expand({ v: "é*'()" }), "%C3%A9%2A%27%28%29");
  });
  test("prefix counts code points, not UTF-16 units", () => {
    assert.equal(new UriTemplate("{v:2}").expand({ v: "😀😀😀" }), "%F0%9F%98%80%F0%9F%98%80");
  });
  test("reserved expansion keeps %XX triplets but encodes a lone %", () => {
    assert.equal(new UriTemplate("{+v}").expand({ v: "a%20b%zz[]" }), "a%20b%25zz[]");
    assert.equal(new UriTemplate("{v}").expand({ v: "a%20b" }), "a%2520b");
  });
  test("inherited property names are not variables", () => {
    assert.equal(new UriTemplate("{constructor}{?toString}").expand({}), "");
  });
});

describe("match", () => {
  const m = (template: string, uri: string) => new UriTemplate(template).match(uri);

  test("simple {var}", () => {
    assert.deepEqual(m("file:///logs/{name}", "file:///logs/app.log"), { name: "app.log" });
    assert.deepEqual(m("users://{id}/posts/{postId}", "users://42/posts/7"), { id: "42", postId: "7" });
    assert.deepEqual(m("{x,y}", "1024,768"), { x: "1024", y: "768" });
    assert.deepEqual(m("{a}-{b}.json", "x-y.z.json"), { a: "x", b: "y.z" });
    assert.deepEqual(m("{name}{.ext}", "report.pdf"), { name: "report", ext: "pdf" });
  });
  test("{var} rejects / ? # & , in values", () => {
    for (const bad of ["a/b", "a?b", "a#b", "a&b", "a,b"]) {
      assert.equal(m("users://{id}", `users://${bad}`), null, bad);
    }
  });
  test("{+var} and {#var} take reserved characters", () => {
    assert.deepEqual(m("repo://{+path}", "repo://src/a,b/c?d#e"), { path: "src/a,b/c?d#e" });
    assert.deepEqual(m("{+path}/here", "/foo/bar/here"), { path: "/foo/bar" });
    assert.deepEqual(m("{+path}/edit/{id}", "a/edit/b/edit/3"), { path: "a/edit/b", id: "3" });
    assert.deepEqual(m("{+path,x}/here", "/foo/bar,1024/here"), { path: "/foo/bar", x: "1024" });
    assert.deepEqual(m("page{#frag}", "page#a/b?c"), { frag: "a/b?c" });
    assert.deepEqual(m("page{#frag}", "page"), {});
    assert.deepEqual(m("repo://{+path}{?ref}", "repo://a/b?ref=main"), { path: "a/b", ref: "main" });
  });
  test("{/var} and {/list*}", () => {
    assert.deepEqual(m("x{/a,b}", "x/1/2"), { a: "1", b: "2" });
    assert.deepEqual(m("x{/a}{/b}", "x/1/2"), { a: "1", b: "2" });
    assert.deepEqual(m("{/var,x}/here", "/value/1024/here"), { var: "value", x: "1024" });
    assert.deepEqual(m("x{/list*}", "x/red/green/blue"), { list: ["red", "green", "blue"] });
    assert.deepEqual(m("x{/a}", "x"), {});
    assert.equal(m("x{/a}", "x/1/2"), null);
  });
  test("{.var}", () => {
    assert.deepEqual(m("X{.x,y}", "X.1024.768"), { x: "1024", y: "768" });
    assert.deepEqual(m("X{.list*}", "X.red.green.blue"), { list: ["red", "green", "blue"] });
    assert.equal(m("X{.x}", "X.a/b"), null);
  });
  test("{;var}", () => {
    assert.deepEqual(m("{;x,y,empty}", ";x=1024;y=768;empty"), { x: "1024", y: "768", empty: "" });
    assert.deepEqual(m("p{;y,x}/z", "p;x=1;y=2/z"), { x: "1", y: "2" });
    assert.deepEqual(m("{;list*}", ";list=red;list=green"), { list: ["red", "green"] });
    assert.equal(m("{;x}", ";nope=1"), null);
  });
  test("{?a,b} and {&c}: optional, any order, extra keys ignored", () => {
    const t = "search://q{?query,limit}";
    assert.deepEqual(m(t, "search://q?query=cats&limit=5"), { query: "cats", limit: "5" });
    assert.deepEqual(m(t, "search://q?limit=5&query=cats"), { query: "cats", limit: "5" });
    assert.deepEqual(m(t, "search://q?limit=5"), { limit: "5" });
    assert.deepEqual(m(t, "search://q"), {});
    assert.deepEqual(m(t, "search://q?query=&page=2&limit"), { query: "", limit: "" });
    assert.deepEqual(m("x{?a}{&b}", "x?b=2&a=1"), { a: "1", b: "2" });
    assert.deepEqual(m("?fixed=yes{&x}", "?fixed=yes&x=1024"), { x: "1024" });
    assert.deepEqual(m("x{?list*}", "x?list=a&list=b"), { list: ["a", "b"] });
    assert.deepEqual(m("x{?q}{#f}", "x?q=1#top"), { q: "1", f: "top" });
    assert.equal(m(t, "search://q?query=a&query=b"), null);
  });
  test("percent-decoding", () => {
    assert.deepEqual(m("users://{id}", "users://a%2Fb%20%C3%A9"), { id: "a/b é" });
    assert.deepEqual(m("q{?s}", "q?s=a%26b%3Dc"), { s: "a&b=c" });
    assert.equal(m("users://{id}", "users://%E0%A4%A"), null);
    assert.equal(m("users://{id}", "users://%zz"), null);
  });
  test("non-matches", () => {
    assert.equal(m("users://{id}", "posts://1"), null);
    assert.equal(m("users://{id}/posts", "users://1/post"), null);
    assert.equal(m("users://{id}", "users://1/"), null);
    assert.equal(m("a{/b}", "a?x"), null);
    assert.equal(m("static://x", "static://y"), null);
    assert.deepEqual(m("static://x", "static://x"), {});
  });
  test("repeated variables must agree", () => {
    assert.deepEqual(m("{a}/{a}", "x/x"), { a: "x" });
    assert.equal(m("{a}/{a}", "x/y"), null);
    assert.deepEqual(m("{/var:1,var}", "/v/value"), { var: "value" });
  });
  test("__proto__ is an ordinary variable", () => {
    const r = m("{__proto__}", "x");
    assert.ok(r && Object.hasOwn(r, "__proto__"));
    assert.equal(r["__proto__"], "x");
  });
});

describe("round trips", () => {
  const cases: [string, Record<string, string | string[]>][] = [
    ["users://{id}/posts/{postId}", { id: "a b/é", postId: "7,8" }],
    ["repo://{+path}", { path: "src/lib/mod.ts" }],
    ["search://q{?query,limit}", { query: "x&y=z #1", limit: "10" }],
    ["x{/list*}{?q}", { list: ["a/b", "c"], q: "?" }],
    ["X{.a,b}{;c}", { a: "1", b: "2", c: "" }],
    ["file:///{+dir}/{name}{.ext}{#frag}", { dir: "a/b", name: "c", ext: "md", frag: "h" }],
  ];
  for (const [template, vars] of cases) {
    test(template, () => {
      const t = new UriTemplate(template);
      assert.deepEqual(t.match(t.expand(vars)), vars);
    });
  }
});

describe("construction", () => {
  test("properties", () => {
    const t = new UriTemplate("users://{id}/x{/id,a*}{?q,limit:3}{&z}");
    assert.equal(t.template, "users://{id}/x{/id,a*}{?q,limit:3}{&z}");
    assert.deepEqual(t.variables, ["id", "a", "q", "limit", "z"]);
    assert.ok(Object.isFrozen(t.variables));
    assert.equal(t.toString(), t.template);
    assert.equal(`${t}`, t.template);
  });
  test("isTemplate", () => {
    assert.equal(UriTemplate.isTemplate("file:///logs/{name}"), true);
    assert.equal(UriTemplate.isTemplate("search://q{?query}"), true);
    assert.equal(UriTemplate.isTemplate("file:///logs/app.log"), false);
    assert.equal(UriTemplate.isTemplate("a{}b"), false);
    assert.equal(UriTemplate.isTemplate("a{b"), false);
  });
  test("malformed templates throw TypeError", () => {
    const bad: [string, RegExp][] = [
      ["file:///{name", /unclosed "\{"/],
      ["a{b{c}", /unclosed "\{"/],
      ["a}b", /unmatched "\}"/],
      ["x{}", /empty expression/],
      ["{a b}", /invalid variable name/],
      ["{a,}", /invalid variable name/],
      ["{-a}", /invalid variable name/],
      ["{a..b}", /invalid variable name/],
      ["{?}", /invalid variable name/],
      ["{=a}", /operator "=" is reserved/],
      ["{|a}", /operator "\|" is reserved/],
      ["{a:0}", /invalid prefix/],
      ["{a:10000}", /invalid prefix/],
      ["{a:3*}", /invalid prefix/],
      ["{a:3:4}", /invalid prefix/],
      ["{a*b}", /invalid variable name/],
    ];
    for (const [template, message] of bad) {
      assert.throws(() => new UriTemplate(template), (e: unknown) => {
        assert.ok(e instanceof TypeError, template);
        assert.match(e.message, message, template);
        return true;
      });
    }
  });
  test("valid edge cases parse", () => {
    assert.deepEqual(new UriTemplate("{a.b,%20c,_9}").variables, ["a.b", "%20c", "_9"]);
    assert.deepEqual(new UriTemplate("").variables, []);
  });
});

describe("hostile input stays linear", () => {
  const MB = 1 << 20;
  const cases: [string, string][] = [
    ["{a}-{b}-{c}.json", "a-".repeat(MB / 2) + "/"],
    ["{a}-{b}-{c}.json", "a-".repeat(MB / 2)],
    ["{+path}/edit/{id}", "x" + "/edit/".repeat(MB / 6)],
    ["{+a}/{+b}/{+c}/z", "/".repeat(MB)],
    ["x{/list*}", "x" + "/a".repeat(MB / 2)],
    ["{;a,b}", ";a=1".repeat(MB / 4)],
    ["search://q{?query,limit}", "search://q?" + "query=1&".repeat(MB / 8)],
    ["search://q{?query,limit}", "search://q?" + "zz=1&".repeat(MB / 5)],
    ["users://{id}", "users://" + "%".repeat(MB)],
    ["users://{id}", "users://" + "a".repeat(MB)],
    ["{a}{b}{c}{.d}{/e}", ".".repeat(MB)],
  ];
  for (const [template, uri] of cases) {
    test(`${template} against ${uri.length} chars`, () => {
      const t = new UriTemplate(template);
      const start = performance.now();
      t.match(uri);
      const ms = performance.now() - start;
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    });
  }
  test("a 1 MB value still matches", () => {
    const big = "a".repeat(MB);
    assert.deepEqual(new UriTemplate("users://{id}").match("users://" + big), { id: big });
  });
});
