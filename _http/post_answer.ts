// The answer to one POST of a Streamable HTTP session: where the messages its requests lead to go,
// in which mode it is answered, and its moves from one mode to the next. It starts undecided, the
// messages waiting in order; the endpoint then picks JSON (the responses in the body, anything else
// on the session's GET stream) or SSE (everything on a stream of its own). Nothing here reads a
// frame: what a message is comes from the dispatcher's SendMeta.

import type { RequestId } from "../jsonrpc.ts";
import type { EventLog, Stream } from "./sse.ts";

type Mode = "undecided" | "json" | "sse";

export class PostAnswer {
  /** The requests of the POST not answered yet. */
  readonly pending: Set<RequestId>;
  /** A response refused its request for want of these OAuth scopes. */
  requiredScopes?: readonly string[];
  #mode: Mode = "undecided";
  /** Messages sent before the mode was chosen, in order. */
  #buffer: { text: string; response: boolean }[] = [];
  #stream?: Stream;
  #json: string[] = [];
  #resolveJson?: (frames: string[]) => void;
  /** A handler asked to close the stream before the mode was chosen (closeSseStream). */
  #closeRequested = false;

  constructor(ids: RequestId[], private readonly events: EventLog) {
    this.pending = new Set(ids);
  }

  /** Whether every request of the POST has been answered. */
  get answered(): boolean {
    return this.pending.size === 0;
  }

  /** Whether the undecided answer holds messages other than responses (they need a stream to ride on). */
  get hasExtras(): boolean {
    return this.#buffer.some((b) => !b.response);
  }

  /** Whether a handler asked for the stream to be closed before it was chosen. */
  get closeRequested(): boolean {
    return this.#closeRequested;
  }

  /** Whether a message a handler sends would go out with this answer (else: on the session's GET stream). */
  get carriesMessages(): boolean {
    return this.#mode !== "json";
  }

  /** The responses buffered so far, for an answer given before a mode was chosen. */
  responses(): string[] {
    return this.#buffer.filter((b) => b.response).map((b) => b.text);
  }

  /** A message a handler of the POST sent (progress, a log, a request to the client). */
  push(text: string): void {
    if (this.#mode === "undecided") this.#buffer.push({ text, response: false });
    else if (this.#mode === "sse") this.events.write(this.#stream!, text);
    else this.events.write(this.events.standalone, text);
  }

  /** The response to `ids` (several for a batch response). */
  respond(text: string, ids: RequestId[]): void {
    for (const id of ids) this.pending.delete(id);
    if (this.#mode === "undecided") this.#buffer.push({ text, response: true });
    else if (this.#mode === "sse") this.events.write(this.#stream!, text);
    else this.#json.push(text);
    this.#settled();
  }

  /** Request `id` ended without a response (it was cancelled). */
  unanswered(id: RequestId): void {
    this.pending.delete(id);
    this.#settled();
  }

  /** The POST is refused or held only notifications: what handlers sent goes on the GET stream. */
  drop(): void {
    for (const b of this.#buffer) if (!b.response) this.events.write(this.events.standalone, b.text);
    this.#buffer = [];
  }

  /**
   * Answers with JSON: the frames of every response, once all are in (at once if they are). What
   * else was sent, and will be, goes on the session's GET stream.
   */
  json(): string[] | Promise<string[]> {
    this.#mode = "json";
    for (const b of this.#buffer) {
      if (b.response) this.#json.push(b.text);
      else this.events.write(this.events.standalone, b.text);
    }
    this.#buffer = [];
    if (this.answered) return this.#json;
    return new Promise((resolve) => (this.#resolveJson = resolve));
  }

  /** Answers on `stream`, whose connection the endpoint has opened: what was buffered goes first. */
  sse(stream: Stream): void {
    this.#mode = "sse";
    this.#stream = stream;
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const b of buffered) this.events.write(stream, b.text);
    if (this.answered) this.#finish();
    else if (this.#closeRequested) this.events.closeConnection(stream);
  }

  /**
   * Closes the connection of the answer's stream without ending it (2025-11-25 polling); before the
   * mode is chosen, asks for that. False for a JSON answer, which has no stream.
   */
  closeStream(): boolean {
    if (this.#mode === "undecided") return (this.#closeRequested = true);
    if (this.#mode !== "sse") return false;
    return this.events.closeConnection(this.#stream!);
  }

  #settled(): void {
    if (this.pending.size || this.#mode === "undecided") return;
    this.#finish();
  }

  // Every response is out: end the stream, or hand the JSON to the waiting response.
  #finish(): void {
    if (this.#mode === "sse") this.events.finish(this.#stream!);
    else if (this.#resolveJson) {
      const resolve = this.#resolveJson;
      this.#resolveJson = undefined;
      resolve(this.#json);
    }
  }
}
