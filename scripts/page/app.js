// The page a browser gets at the endpoint (see _page/route.ts; built into _page/page.ts by scripts/build_page.ts). It
// connects with the library's own client to the WebSocket at the page's own URL (same path, same query, so that a
// token in the URL reaches authenticate), and lets a person use everything the server offers. Everything the
// server sends is shown as text (textContent), never as HTML.
import { connect } from "../../client.ts";
import { UriTemplate } from "../../uri_template.ts";

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

const $ = (id) => document.getElementById(id);

/** An element: `props` sets properties (value, checked…), `on…` listeners, the rest attributes. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (["value", "checked", "disabled", "selected", "multiple", "indeterminate"].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const json = (v) => JSON.stringify(v, null, 2);
const clock = () => new Date().toLocaleTimeString([], { hour12: false });
const errorText = (e) => (e && e.message) || String(e);
let uid = 0;

// ---------------------------------------------------------------------------------------------------------------
// Forms from JSON Schema: tools' inputSchema, elicitation's requestedSchema.

const isObj = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** The options of an enum-like schema, as [value, label] pairs, or undefined. */
function choices(s) {
  // A const's title, if any, is its field's label (its one option shows the value).
  if ("const" in s) return [[s.const, String(s.const)]];
  if (Array.isArray(s.enum)) return s.enum.map((v, i) => [v, s.enumNames?.[i] ?? String(v)]);
  const alts = s.oneOf ?? s.anyOf;
  if (Array.isArray(alts) && alts.length && alts.every((a) => isObj(a) && "const" in a)) {
    return alts.map((a) => [a.const, a.title ?? String(a.const)]);
  }
  return undefined;
}

/**
 * A form for an object schema: one field per property. Returns the form's element and `read()`, which gives the
 * value (absent optional fields left out) or throws naming the field that is wrong.
 */
function schemaForm(schema, { submit, extra = [], idPrefix }) {
  const props = isObj(schema?.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const fields = Object.entries(props).map(([name, s]) => field(name, isObj(s) ? s : {}, required.has(name), idPrefix));
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "fields", novalidate: true },
    fields.map((f) => f.el),
    error,
    h("div", { class: "actions" }, submit, extra),
  );
  return {
    form,
    read() {
      error.hidden = true;
      const out = {};
      for (const f of fields) {
        f.input.classList.remove("invalid");
        try {
          const v = f.read();
          if (v !== undefined) out[f.name] = v;
          else if (f.required) throw new Error("is required");
        } catch (e) {
          f.input.classList.add("invalid");
          f.input.focus();
          error.textContent = `${f.name}: ${errorText(e)}`;
          error.hidden = false;
          throw e;
        }
      }
      return out;
    },
  };
}

function field(name, schema, required, idPrefix) {
  const id = `${idPrefix}-${++uid}`;
  // A union of one schema and null (an optional or nullable field, as zod writes it) is that schema.
  const alts = (schema.anyOf ?? schema.oneOf)?.filter((a) => !(isObj(a) && a.type === "null"));
  const { anyOf: _a, oneOf: _o, ...outer } = schema;
  const s = alts?.length === 1 && isObj(alts[0]) && !choices(schema)
    ? { ...alts[0], ...outer, ...("type" in alts[0] ? { type: alts[0].type } : {}) }
    : schema;
  const type = Array.isArray(s.type) ? s.type.filter((t) => t !== "null") : [s.type];
  const hint = [s.description, s.format && `format: ${s.format}`].filter(Boolean).join(" · ");
  const label = h(
    "label",
    { for: id },
    s.title ?? name,
    required ? h("span", { class: "req", text: "*" }) : h("span", { class: "opt", text: "optional" }),
  );
  const wrap = (input, cls = "field") =>
    h("div", { class: cls }, label, input, hint && h("span", { class: "hint", text: hint }));
  const opts = choices(s);
  const itemChoices = type[0] === "array" && isObj(s.items) ? choices(s.items) : undefined;
  let input;
  let read;
  if (opts) {
    // A required field with one possible value (a const) has it chosen already. A default that is none of the
    // options (null for a nullable field) chooses nothing: the browser would show, and send, the first option.
    const preset = s.default !== undefined ? s.default : required && opts.length === 1 ? opts[0][0] : undefined;
    const presetIndex = opts.findIndex(([v]) => v === preset);
    input = h(
      "select",
      { id, name },
      !required || presetIndex < 0 ? h("option", { value: "", text: required ? "choose…" : "(none)" }) : null,
      opts.map(([, l], i) => h("option", { value: String(i), text: l, selected: i === presetIndex })),
    );
    read = () => (input.value === "" ? undefined : opts[Number(input.value)][0]);
  } else if (itemChoices) {
    input = h(
      "select",
      { id, name, multiple: true, size: Math.min(6, itemChoices.length) },
      itemChoices.map(([v, l], i) =>
        h("option", { value: String(i), text: l, selected: Array.isArray(s.default) && s.default.includes(v) })
      ),
    );
    read = () => {
      const picked = [...input.selectedOptions].map((o) => itemChoices[Number(o.value)][0]);
      return picked.length || required ? picked : undefined;
    };
  } else if (type.length === 1 && type[0] === "boolean") {
    if (required) {
      input = h("input", { id, name, type: "checkbox", checked: s.default === true });
      read = () => input.checked;
      return {
        name,
        required,
        input,
        read,
        el: h("div", { class: "field check" }, input, label, hint && h("span", { class: "hint", text: hint })),
      };
    }
    input = h(
      "select",
      { id, name },
      ["", "true", "false"].map((v) =>
        h("option", { value: v, text: v || "(none)", selected: String(s.default ?? "") === v })
      ),
    );
    read = () => (input.value === "" ? undefined : input.value === "true");
  } else if (type.length === 1 && (type[0] === "number" || type[0] === "integer")) {
    input = h("input", {
      id,
      name,
      type: "number",
      step: type[0] === "integer" ? "1" : "any",
      min: s.minimum,
      max: s.maximum,
      value: s.default ?? "",
      placeholder: s.default !== undefined ? String(s.default) : "",
    });
    read = () => {
      // A browser gives "" for what it cannot read as a number ("12e", "-"): that is an error, not an empty field.
      if (input.validity.badInput) throw new Error("is not a number");
      if (input.value.trim() === "") return undefined;
      const n = Number(input.value);
      if (!Number.isFinite(n)) throw new Error("is not a number");
      if (type[0] === "integer" && !Number.isInteger(n)) throw new Error("must be an integer");
      return n;
    };
  } else if (type.length === 1 && type[0] === "string") {
    const kind = { email: "email", uri: "url", date: "date", "date-time": "datetime-local" }[s.format] ?? "text";
    const long = (s.maxLength ?? Infinity) > 200 && /text|body|content|code|message|prompt/i.test(name);
    const initial = kind === "datetime-local" ? localDateTime(s.default) : s.default ?? "";
    input = long
      ? h("textarea", { id, name, rows: 4, value: initial })
      : h("input", { id, name, type: kind, value: initial, placeholder: s.default ?? "" });
    read = () => {
      if (input.value === "") return undefined;
      if (kind !== "datetime-local") return input.value;
      // Untouched, the default goes back as it was: a local time loses its zone, and is ambiguous when clocks
      // go back.
      if (input.value === initial && typeof s.default === "string") return s.default;
      return new Date(input.value).toISOString();
    };
  } else {
    // Objects, arrays and unions: JSON, checked before sending.
    const example = type[0] === "array" ? "[]" : type[0] === "object" ? "{}" : "";
    input = h("textarea", {
      id,
      name,
      class: "json",
      rows: 3,
      placeholder: `JSON${example ? `, e.g. ${example}` : ""}`,
      value: s.default !== undefined ? json(s.default) : "",
    });
    read = () => {
      if (input.value.trim() === "") return undefined;
      try {
        return JSON.parse(input.value);
      } catch (e) {
        throw new Error(`is not valid JSON (${errorText(e)})`);
      }
    };
  }
  return { name, required, input, read, el: wrap(input) };
}

/** An ISO date-time (`…Z`, `…+02:00`) as a datetime-local input takes it (local time, no zone), or "". */
function localDateTime(iso) {
  const d = new Date(typeof iso === "string" ? iso : NaN);
  if (Number.isNaN(d.getTime())) return "";
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, d.getMilliseconds() ? 23 : 19);
}

// ---------------------------------------------------------------------------------------------------------------
// Content: results of tools, resources and prompts.

function dataUrl(mime, base64) {
  return `data:${mime || "application/octet-stream"};base64,${base64}`;
}

function base64Bytes(b64) {
  const s = b64.replace(/\s/g, "");
  return Math.floor(s.length * 3 / 4) - (s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0);
}

/**
 * Text shown in a `<pre>`: past PRE_LIMIT characters, the start and a button for the rest, as putting megabytes
 * in the page at once freezes it for seconds.
 */
const PRE_LIMIT = 100_000;

function pre(text, cls) {
  if (text.length <= PRE_LIMIT) return h("pre", { class: cls, text });
  const el = h("pre", { class: cls, text: text.slice(0, PRE_LIMIT) });
  const more = h("button", {
    type: "button",
    class: "secondary small",
    text: `Show all ${text.length.toLocaleString("en")} characters`,
    onclick: () => (el.textContent = text, more.remove()),
  });
  return h("div", { class: "long" }, el, more);
}

function block(kind, ...children) {
  return h("div", { class: "block" }, h("span", { class: "kind", text: kind }), children);
}

/** One content block (text, image, audio, resource link, embedded resource). */
function renderContent(c) {
  if (!isObj(c)) return block("value", pre(json(c)));
  switch (c.type) {
    case "text":
      return block("text", pre(String(c.text ?? ""), "text"));
    case "image":
      return block(`image · ${c.mimeType ?? ""}`, h("img", { src: dataUrl(c.mimeType, c.data), alt: "image content" }));
    case "audio":
      return block(`audio · ${c.mimeType ?? ""}`, h("audio", { controls: true, src: dataUrl(c.mimeType, c.data) }));
    case "resource_link": {
      const out = h("div");
      return block(
        "resource link",
        h(
          "div",
          { class: "sub" },
          h("code", { text: c.uri }),
          c.name && h("span", { text: c.name }),
          c.mimeType && h("span", { class: "badge", text: c.mimeType }),
          h("button", { type: "button", class: "secondary small", text: "Read", onclick: () => readInto(c.uri, out) }),
        ),
        c.description && h("span", { class: "muted", text: c.description }),
        out,
      );
    }
    case "resource":
      return block("embedded resource", renderResourceContents(c.resource ?? {}));
    default:
      return block(String(c.type ?? "unknown"), pre(json(c)));
  }
}

/** One item of `resources/read`'s contents (or an embedded resource). */
function renderResourceContents(r) {
  const head = h(
    "div",
    { class: "sub" },
    h("code", { text: r.uri ?? "" }),
    r.mimeType && h("span", { class: "badge", text: r.mimeType }),
  );
  if (typeof r.text === "string") {
    let text = r.text;
    if (/json/.test(r.mimeType ?? "")) {
      try {
        text = json(JSON.parse(text));
      } catch { /* shown as it is */ }
    }
    return h("div", { class: "block" }, head, pre(text));
  }
  if (typeof r.blob === "string") {
    const mime = r.mimeType ?? "application/octet-stream";
    const src = dataUrl(mime, r.blob);
    const view = mime.startsWith("image/")
      ? h("img", { src, alt: r.uri })
      : mime.startsWith("audio/")
      ? h("audio", { controls: true, src })
      : h("a", {
        href: src,
        download: (r.uri ?? "resource").split("/").pop() || "resource",
        text: `Download (${base64Bytes(r.blob)} bytes)`,
      });
    return h("div", { class: "block" }, head, view);
  }
  return h("div", { class: "block" }, head, pre(json(r)));
}

async function readInto(uri, el) {
  el.replaceChildren(h("span", { class: "muted", text: "reading…" }));
  try {
    const res = await client.readResource(uri);
    el.replaceChildren(...(res.contents ?? []).map(renderResourceContents));
  } catch (e) {
    el.replaceChildren(h("span", { class: "error-text", text: errorText(e) }));
  }
}

/** A card for one call: its head (what, state, Cancel), progress, and body. */
function card(what, onCancel) {
  const state = h("span", { class: "state", text: "running…" });
  const cancel = onCancel &&
    h("button", { type: "button", class: "secondary small danger", text: "Cancel", onclick: onCancel });
  const bar = h("progress", { max: 1 });
  const barText = h("span");
  const progress = h("div", { class: "progress", hidden: true }, bar, barText);
  const body = h("div", { class: "card-body" });
  const el = h(
    "div",
    { class: "card", dataset: { state: "running" } },
    h("div", { class: "card-head" }, h("span", { class: "what", title: what, text: what }), state, cancel),
    progress,
    body,
  );
  const started = performance.now();
  return {
    el,
    body,
    progress(p) {
      progress.hidden = false;
      if (p.total) {
        bar.max = p.total;
        bar.value = p.progress;
      } else bar.removeAttribute("value");
      barText.textContent = `${p.progress}${p.total ? ` / ${p.total}` : ""}${p.message ? ` · ${p.message}` : ""}`;
      el.dataset.progress = String(p.progress);
    },
    end(name, text = name) {
      el.dataset.state = name;
      state.textContent = `${text} · ${Math.round(performance.now() - started)} ms`;
      cancel?.remove();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The catalog: tools, resources and templates, prompts.

const kinds = { tools: [], resources: [], templates: [], prompts: [] };
let tab = "tools";
const selected = { tools: undefined, resources: undefined, prompts: undefined };
/** The detail view of each item, kept while the item is unchanged, so its results survive switching. */
const views = new Map();
/**
 * The subscriptions, by resource URI: `off` ends one, `show` is the current view's way of showing an update (a
 * resource whose definition changes gets a new view, which takes the subscription over).
 */
const subscriptions = new Map();

function setTab(name) {
  tab = name;
  for (const b of document.querySelectorAll(".tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  }
  renderList();
}

function itemsOfTab() {
  if (tab === "tools") {
    return kinds.tools.map((t) => ({
      key: `tool:${t.name}`,
      name: t.name,
      desc: t.title ?? t.description,
      def: t,
      view: toolView,
    }));
  }
  if (tab === "prompts") {
    return kinds.prompts.map((p) => ({
      key: `prompt:${p.name}`,
      name: p.name,
      desc: p.title ?? p.description,
      def: p,
      view: promptView,
    }));
  }
  return [
    ...kinds.resources.map((r) => ({
      key: `resource:${r.uri}`,
      name: r.uri,
      desc: r.title ?? r.name,
      def: r,
      view: resourceView,
      group: "Resources",
    })),
    ...kinds.templates.map((t) => ({
      key: `template:${t.uriTemplate}`,
      name: t.uriTemplate,
      desc: t.title ?? t.name,
      def: t,
      view: templateView,
      group: "Templates",
    })),
  ];
}

function renderList() {
  const items = itemsOfTab();
  const list = $("list");
  list.replaceChildren();
  let group;
  for (const item of items) {
    if (item.group !== group) list.append(h("li", { class: "group", text: group = item.group }));
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            dataset: { key: item.key, name: item.name },
            "aria-current": String(selected[tab] === item.key),
            onclick: () => select(item.key),
          },
          h("span", { class: "name", text: item.name }),
          item.desc && h("span", { class: "desc", text: item.desc }),
        ),
      ),
    );
  }
  if (!items.length) list.append(h("li", { class: "empty muted", text: `This server offers no ${tab}.` }));
  if (!items.some((i) => i.key === selected[tab])) selected[tab] = items[0]?.key;
  for (const b of list.querySelectorAll("button")) {
    b.setAttribute("aria-current", String(b.dataset.key === selected[tab]));
  }
  const item = items.find((i) => i.key === selected[tab]);
  const view = item ? viewOf(item) : h("p", { class: "empty", text: "Nothing to show." });
  // The same view stays in place, so that a list change does not take the focus from a field being typed in.
  const detail = $("detail");
  if (detail.childElementCount !== 1 || detail.firstElementChild !== view) detail.replaceChildren(view);
  detail.dataset.key = item?.key ?? "";
}

function select(key) {
  selected[tab] = key;
  renderList();
}

function viewOf(item) {
  const def = JSON.stringify(item.def);
  const cached = views.get(item.key);
  if (cached && cached.def === def) return cached.el;
  const el = item.view(item.def);
  views.set(item.key, { def, el });
  return el;
}

function head(def, id) {
  const ann = def.annotations ?? {};
  const badges = [
    ann.readOnlyHint && "read-only",
    ann.destructiveHint && "destructive",
    ann.idempotentHint && "idempotent",
    ann.openWorldHint && "open world",
    def.mimeType,
  ].filter(Boolean);
  return [
    h(
      "div",
      { class: "item-head" },
      h("h3", { text: def.title ?? id }),
      def.title && def.title !== id && h("code", { text: id }),
      badges.map((b) => h("span", { class: "badge", text: b })),
    ),
    def.description && h("p", { class: "desc-full", text: def.description }),
  ];
}

function toolView(tool) {
  const results = h("div", { class: "results" });
  const call = h("button", { type: "submit", class: "primary", text: "Call" });
  const f = schemaForm(tool.inputSchema, { submit: call, idPrefix: `tool-${tool.name}` });
  f.form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let args;
    try {
      args = f.read();
    } catch {
      return;
    }
    const stop = new AbortController();
    const c = card(`${tool.name}(${JSON.stringify(args)})`, () => stop.abort());
    results.prepend(c.el);
    try {
      const res = await client.callTool(tool.name, args, {
        signal: stop.signal,
        timeout: 0,
        onProgress: (p) => c.progress(p),
      });
      c.body.append(...(res.content ?? []).map(renderContent));
      if (res.structuredContent !== undefined) {
        c.body.append(block("structuredContent", pre(json(res.structuredContent))));
      }
      if (res.isError) c.body.prepend(h("span", { class: "badge error", text: "isError: true" }));
      c.end(res.isError ? "error" : "done", res.isError ? "tool error" : "done");
    } catch (e) {
      if (stop.signal.aborted) c.end("cancelled");
      else {
        c.body.append(h("span", { class: "error-text", text: errorText(e) }));
        c.end("failed");
      }
    }
  });
  return h("div", { dataset: { tool: tool.name } }, head(tool, tool.name), f.form, results);
}

function resourceView(r) {
  const out = h("div", { class: "results" });
  const updates = h("span", { class: "updates", text: "" });
  let count = 0;
  const read = async () => {
    const c = card(`read ${r.uri}`);
    out.prepend(c.el);
    while (out.children.length > 5) out.lastChild.remove();
    try {
      const res = await client.readResource(r.uri);
      c.body.append(...(res.contents ?? []).map(renderResourceContents));
      c.end("done");
    } catch (e) {
      c.body.append(h("span", { class: "error-text", text: errorText(e) }));
      c.end("failed");
    }
  };
  const canSubscribe = !!client.serverCapabilities.resources?.subscribe;
  const sub = h("button", {
    type: "button",
    class: "secondary",
    text: subscriptions.has(r.uri) ? "Unsubscribe" : "Subscribe",
    disabled: !canSubscribe,
    title: canSubscribe ? "" : "The server does not offer subscriptions",
  });
  const show = () => {
    updates.textContent = `${++count} update${count === 1 ? "" : "s"}, last at ${clock()}`;
    updates.dataset.count = String(count);
    read();
  };
  const current = subscriptions.get(r.uri);
  if (current) {
    current.show = show;
    updates.textContent = "subscribed: each update is read here";
  }
  sub.addEventListener("click", async () => {
    sub.disabled = true;
    try {
      const entry = subscriptions.get(r.uri);
      if (entry) {
        subscriptions.delete(r.uri);
        await entry.off?.();
        sub.textContent = "Subscribe";
        updates.textContent = "";
      } else {
        const mine = { off: undefined, show };
        subscriptions.set(r.uri, mine);
        try {
          mine.off = await client.subscribe(r.uri, () => mine.show());
        } catch (e) {
          if (subscriptions.get(r.uri) === mine) subscriptions.delete(r.uri);
          throw e;
        }
        // Unsubscribed from another view of it while this was on its way.
        const kept = subscriptions.get(r.uri) === mine;
        if (!kept) await mine.off();
        sub.textContent = kept ? "Unsubscribe" : "Subscribe";
        updates.textContent = kept ? "subscribed: each update is read here" : "";
      }
    } catch (e) {
      updates.textContent = errorText(e);
    } finally {
      sub.disabled = false;
    }
  });
  return h(
    "div",
    { dataset: { resource: r.uri } },
    head({ ...r, title: r.title ?? r.name }, r.uri),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", text: "Read", onclick: read }),
      sub,
      updates,
    ),
    out,
  );
}

function templateView(t) {
  const out = h("div", { class: "results" });
  let template;
  try {
    template = new UriTemplate(t.uriTemplate);
  } catch (e) {
    return h(
      "div",
      {},
      head(t, t.uriTemplate),
      h("p", { class: "error-text", text: `Invalid template: ${errorText(e)}` }),
    );
  }
  const preview = h("code", { class: "preview" });
  const inputs = template.variables.map((name) => {
    const list = h("datalist", { id: `dl-${++uid}` });
    const input = h("input", { name, list: list.id, autocomplete: "off" });
    return { name, input, list, el: h("div", { class: "field" }, h("label", { text: name }), input, list) };
  });
  const values = () =>
    Object.fromEntries(inputs.filter((i) => i.input.value !== "").map((i) => [i.name, i.input.value]));
  const update = () => (preview.textContent = template.expand(values()));
  const canComplete = !!client.serverCapabilities.completions;
  for (const i of inputs) {
    let seq = 0;
    i.input.addEventListener("input", async () => {
      update();
      if (!canComplete) return;
      const mine = ++seq;
      try {
        const { values: found } = await client.complete({ type: "ref/resource", uri: t.uriTemplate }, {
          name: i.name,
          value: i.input.value,
        }, { arguments: values() });
        if (mine === seq) i.list.replaceChildren(...found.map((v) => h("option", { value: v })));
        i.input.dataset.completions = found.join(",");
      } catch { /* completion is a convenience */ }
    });
  }
  update();
  const read = h("button", { type: "submit", class: "primary", text: "Read" });
  const form = h(
    "form",
    { class: "fields" },
    inputs.map((i) => i.el),
    h("div", { class: "sub" }, "URI:", preview),
    h("div", { class: "actions" }, read),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const uri = template.expand(values());
    const c = card(`read ${uri}`);
    out.prepend(c.el);
    readInto(uri, c.body).then(() => c.end(c.body.querySelector(".error-text") ? "failed" : "done"));
  });
  return h(
    "div",
    { dataset: { template: t.uriTemplate } },
    head({ ...t, title: t.title ?? t.name }, t.uriTemplate),
    form,
    out,
  );
}

function promptView(p) {
  const out = h("div", { class: "results" });
  const args = p.arguments ?? [];
  const schema = {
    type: "object",
    properties: Object.fromEntries(
      args.map((a) => [a.name, { type: "string", title: a.title ?? a.name, description: a.description }]),
    ),
    required: args.filter((a) => a.required).map((a) => a.name),
  };
  const get = h("button", { type: "submit", class: "primary", text: "Get" });
  const f = schemaForm(schema, { submit: get, idPrefix: `prompt-${p.name}` });
  if (client.serverCapabilities.completions) {
    for (const input of f.form.querySelectorAll("input")) {
      const list = h("datalist", { id: `dl-${++uid}` });
      input.setAttribute("list", list.id);
      input.setAttribute("autocomplete", "off");
      input.after(list);
      input.addEventListener("input", async () => {
        try {
          const { values } = await client.complete({ type: "ref/prompt", name: p.name }, {
            name: input.name,
            value: input.value,
          });
          list.replaceChildren(...values.map((v) => h("option", { value: v })));
        } catch { /* a convenience */ }
      });
    }
  }
  f.form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let values;
    try {
      values = f.read();
    } catch {
      return;
    }
    const c = card(`${p.name}(${JSON.stringify(values)})`);
    out.prepend(c.el);
    try {
      const res = await client.getPrompt(p.name, values);
      if (res.description) c.body.append(h("p", { class: "muted", text: res.description }));
      for (const m of res.messages ?? []) {
        c.body.append(
          h(
            "div",
            { class: `message ${m.role}` },
            h("span", { class: "role", text: m.role }),
            renderContent(m.content),
          ),
        );
      }
      c.end("done");
    } catch (e) {
      c.body.append(h("span", { class: "error-text", text: errorText(e) }));
      c.end("failed");
    }
  });
  return h("div", { dataset: { prompt: p.name } }, head(p, p.name), f.form, out);
}

async function relist(which) {
  const caps = client.serverCapabilities;
  try {
    if ((which === "tools" || !which) && caps.tools) kinds.tools = await client.listAllTools();
    if ((which === "resources" || !which) && caps.resources) {
      [kinds.resources, kinds.templates] = await Promise.all([
        client.listAllResources(),
        client.listAllResourceTemplates(),
      ]);
    }
    if ((which === "prompts" || !which) && caps.prompts) kinds.prompts = await client.listAllPrompts();
  } catch (e) {
    log("error", `listing ${which ?? "everything"} failed`, errorText(e));
  }
  $("count-tools").textContent = String(kinds.tools.length);
  $("count-resources").textContent = String(kinds.resources.length + kinds.templates.length);
  $("count-prompts").textContent = String(kinds.prompts.length);
  renderList();
}

// ---------------------------------------------------------------------------------------------------------------
// The server's requests to the client, answered by the person.

const IDLE = "None waiting. Elicitation and sampling requests appear here for you to answer.";

/** Shows a request of the server's for the person to answer; returns the function that removes it. */
function pending(title, message, body, signal) {
  const req = $("requests");
  req.querySelector(".empty")?.remove();
  const el = h(
    "div",
    { class: "request" },
    h("div", { class: "title", text: title }),
    message && h("div", { class: "message-text", text: message }),
    body,
  );
  req.prepend(el);
  countPending();
  // Focus its first field, unless the person is typing elsewhere.
  const active = document.activeElement;
  if (!active || active === document.body || active.tagName === "BUTTON") {
    body.querySelector("input, select, textarea")?.focus();
  }
  const done = () => {
    el.remove();
    if (!req.children.length) req.append(h("p", { class: "empty", text: IDLE }));
    countPending();
  };
  signal.addEventListener("abort", () => {
    log("info", "request withdrawn", `${title}: ${signal.reason?.message ?? "cancelled by the server"}`);
    done();
  }, { once: true });
  return done;
}

function countPending() {
  const n = $("requests").querySelectorAll(".request").length;
  $("pending").textContent = `${n} request${n === 1 ? "" : "s"} waiting for you`;
  $("pending").hidden = !n;
}

function onElicit(params, { signal }) {
  return new Promise((resolve) => {
    if (params.mode === "url") {
      const answer = (action) => (done(), resolve({ action }));
      const done = pending(
        "The server asks you to open a page",
        params.message,
        h(
          "div",
          { class: "actions" },
          // Only a web page is a link: never a javascript: or data: URL from the server.
          /^https?:\/\//i.test(params.url ?? "")
            ? h("a", { href: params.url, target: "_blank", rel: "noopener noreferrer", text: params.url })
            : h("code", { text: String(params.url) }),
          h("button", { type: "button", class: "primary", text: "Opened", onclick: () => answer("accept") }),
          h("button", { type: "button", class: "secondary", text: "Decline", onclick: () => answer("decline") }),
        ),
        signal,
      );
      return;
    }
    const accept = h("button", { type: "submit", class: "primary", text: "Accept" });
    const decline = h("button", {
      type: "button",
      class: "secondary",
      text: "Decline",
      onclick: () => finish({ action: "decline" }),
    });
    const cancel = h("button", {
      type: "button",
      class: "secondary",
      text: "Cancel",
      onclick: () => finish({ action: "cancel" }),
    });
    const f = schemaForm(params.requestedSchema ?? {}, {
      submit: accept,
      extra: [decline, cancel],
      idPrefix: "elicit",
    });
    f.form.dataset.elicitation = "";
    const done = pending("The server asks for input (elicitation)", params.message, f.form, signal);
    const finish = (answer) => {
      done();
      log("info", "elicitation answered", answer.action);
      resolve(answer);
    };
    f.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      try {
        finish({ action: "accept", content: f.read() });
      } catch { /* the form shows what is wrong */ }
    });
  });
}

function onSample(params, { signal }) {
  return new Promise((resolve, reject) => {
    const convo = (params.messages ?? []).map((m) =>
      h(
        "div",
        { class: `message ${m.role}` },
        h("span", { class: "role", text: m.role }),
        (Array.isArray(m.content) ? m.content : [m.content]).map(renderContent),
      )
    );
    const reply = h("textarea", { name: "reply", rows: 4, placeholder: "The assistant's reply" });
    const model = h("input", { name: "model", value: "human" });
    const send = h("button", { type: "submit", class: "primary", text: "Send reply" });
    const decline = h("button", {
      type: "button",
      class: "secondary",
      text: "Decline",
      onclick: () => (done(), reject(Object.assign(new Error("The user declined the sampling request"), { code: -1 }))),
    });
    const meta = [
      params.systemPrompt && `system prompt: ${params.systemPrompt}`,
      params.maxTokens && `max tokens: ${params.maxTokens}`,
    ].filter(Boolean).join(" · ");
    const form = h(
      "form",
      { class: "fields", dataset: { sampling: "" } },
      convo,
      meta && h("span", { class: "muted small", text: meta }),
      h("div", { class: "field" }, h("label", { text: "Reply" }), reply),
      h("div", { class: "field" }, h("label", { text: "Model" }), model),
      h("div", { class: "actions" }, send, decline),
    );
    const done = pending("The server asks for a model's reply (sampling)", "", form, signal);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      done();
      resolve({
        role: "assistant",
        model: model.value || "human",
        stopReason: "endTurn",
        content: { type: "text", text: reply.value },
      });
    });
  });
}

// Roots: a list the person edits; the server is told when it changes.
const roots = [];

function renderRoots() {
  const ul = $("roots");
  ul.replaceChildren(...roots.map((r, i) => {
    const uri = h("input", { value: r.uri, placeholder: "file:///path/to/project", "aria-label": "root URI" });
    const name = h("input", { value: r.name ?? "", placeholder: "name", "aria-label": "root name" });
    const changed = () => {
      roots[i] = { uri: uri.value, ...(name.value ? { name: name.value } : {}) };
      client?.notifyRootsListChanged();
    };
    uri.addEventListener("change", changed);
    name.addEventListener("change", changed);
    const remove = h("button", {
      type: "button",
      class: "secondary small",
      text: "Remove",
      onclick: () => (roots.splice(i, 1), renderRoots(), client?.notifyRootsListChanged()),
    });
    return h("li", {}, uri, name, remove);
  }));
  if (!roots.length) ul.append(h("li", { class: "empty", text: "No roots." }));
}

// ---------------------------------------------------------------------------------------------------------------
// The log of notifications.

function log(level, what, detail) {
  const ol = $("log");
  const text = detail === undefined ? "" : typeof detail === "string" ? detail : json(detail);
  ol.prepend(
    h(
      "li",
      { dataset: { level } },
      h("time", { text: clock() }),
      h("div", {}, h("span", { class: `m lvl-${level}`, text: what }), text && h("pre", { text })),
    ),
  );
  while (ol.children.length > 500) ol.lastChild.remove();
}

function listen() {
  client.on(
    "notifications/message",
    (p) => log(p.level ?? "info", `${p.level ?? "log"}${p.logger ? ` · ${p.logger}` : ""}`, p.data),
  );
  client.on(
    "notifications/progress",
    (p) => log("debug", "progress", `${p.progress}${p.total ? `/${p.total}` : ""}${p.message ? ` ${p.message}` : ""}`),
  );
  client.on("notifications/resources/updated", (p) => log("info", "resource updated", p.uri));
  for (const kind of ["tools", "resources", "prompts"]) {
    client.on(`notifications/${kind}/list_changed`, () => {
      log("info", `${kind} list changed`, "listed again");
      relist(kind);
    });
  }
  client.on("notifications/cancelled", (p) => log("info", "cancelled by the server", p.reason ?? p.requestId));
  client.on("notifications/elicitation/complete", (p) => log("info", "elicitation complete", p.elicitationId));
}

// ---------------------------------------------------------------------------------------------------------------
// The connection.

let client;

function setStatus(state, text = state) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = text;
  $("reconnect").hidden = state !== "closed";
}

function banner(text) {
  const b = $("banner");
  b.textContent = text ?? "";
  b.hidden = !text;
}

// Why the socket was refused, as far as a page can tell: a browser hides a WebSocket handshake's answer, so the
// page asks the endpoint again over plain HTTP, which passes the same checks.
async function diagnose(url, error) {
  let res;
  try {
    res = await fetch(location.href, { headers: { accept: "text/plain" }, cache: "no-store" });
  } catch {
    return `Could not reach the server at ${url}: is it still running?`;
  }
  const body = (await res.text()).trim();
  if (res.status === 401) {
    return "The server's authenticate hook refused the page (401). A browser cannot set headers such as " +
      "Authorization on a WebSocket: let authenticate accept a cookie or a token in the URL (open this page " +
      "as …?token=…; its socket carries the same query), or use an MCP client that sends the header.";
  }
  if (res.status >= 400) return `The server refused the page (${res.status}): ${body}`;
  return `The server did not accept the page's WebSocket connection to ${url} (${errorText(error)}). A browser ` +
    "does not show a page why; the server's authenticate hook, allowedOrigins or maxConnections may refuse it.";
}

async function start() {
  // A new connection: nothing of the old one's (subscriptions, views bound to its capabilities) carries over.
  subscriptions.clear();
  views.clear();
  const url = new URL(location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  setStatus("connecting");
  banner();
  try {
    client = await connect(url, {
      clientInfo: { name: "mcp-ws-page", title: "mcp-ws browser page", version: "0.1.0" },
      // onElicit answers both modes: a form, or a link for the person to open.
      capabilities: { elicitation: { form: {}, url: {} } },
      timeout: 30_000,
      reconnect: { retries: 20, maxDelay: 5_000 },
      onElicit,
      onSample,
      onListRoots: () => roots.filter((r) => r.uri),
      onDisconnect: (info) => {
        setStatus("reconnecting");
        log("warning", "disconnected", `code ${info.code}${info.reason ? `: ${info.reason}` : ""}`);
      },
      onReconnect: () => {
        setStatus("open", "connected");
        log("info", "reconnected");
        relist();
      },
      onError: (e) => log("error", "client error", errorText(e)),
    });
  } catch (e) {
    setStatus("closed", "not connected");
    $("server-name").textContent = "Not connected";
    banner(await diagnose(url.href, e));
    return;
  }
  const info = client.serverInfo;
  document.title = `${info.title ?? info.name} · MCP`;
  $("server-name").textContent = info.title ?? info.name;
  $("server-version").textContent = [info.title && info.name, info.version && `v${info.version}`].filter(Boolean).join(
    " · ",
  );
  $("protocol").textContent = client.protocolVersion;
  const instructions = client.instructions ?? info.description;
  $("instructions").textContent = instructions ?? "";
  $("instructions").hidden = !instructions;
  setStatus("open", "connected");
  listen();
  client.closed.then((c) => {
    setStatus("closed", "disconnected");
    banner(`The connection closed (code ${c.code}${c.reason ? `: ${c.reason}` : ""}).`);
  });
  if (client.serverCapabilities.logging) {
    client.setLogLevel($("log-level").value).catch((e) => log("error", "logging/setLevel failed", errorText(e)));
  } else $("log-level").disabled = true;
  await relist();
  document.body.dataset.ready = "true";
}

for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => setTab(b.dataset.tab));
$("log-level").addEventListener("change", (ev) => {
  client?.setLogLevel(ev.target.value).then(
    () => log("info", "log level", ev.target.value),
    (e) => log("error", "logging/setLevel failed", errorText(e)),
  );
});
$("clear-log").addEventListener("click", () => $("log").replaceChildren());
$("add-root").addEventListener("click", () => {
  roots.push({ uri: "" });
  renderRoots();
  $("roots").querySelector("li:last-child input")?.focus();
});
$("reconnect").addEventListener("click", () => start());
renderRoots();
start();
