// Paging of list results: opaque cursors that name their list, and one page of a list.

import { ErrorCode, McpError } from "../jsonrpc.ts";

/** The cursor of the page of list `kind` that starts at `offset`; it names its list so another list refuses it. */
export function encodeCursor(kind: string, offset: number): string {
  return btoa(`${kind}:${offset}`);
}

/** The offset a client's cursor names in list `kind` (0 without one); an invalid params error for any other value. */
export function decodeCursor(kind: string, cursor: unknown): number {
  if (cursor === undefined) return 0;
  const bad = () =>
    new McpError(ErrorCode.InvalidParams, "Invalid cursor: pass the nextCursor of a previous page unchanged");
  if (typeof cursor !== "string" || cursor.length > 200) throw bad();
  let text: string;
  try {
    text = atob(cursor);
  } catch {
    throw bad();
  }
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix)) throw bad();
  const digits = text.slice(prefix.length);
  if (!/^[0-9]{1,9}$/.test(digits)) throw bad();
  return Number(digits);
}

/** The page of `all` at `offset`, as the result `{ [field]: items, nextCursor? }` of list `kind`. */
export function pageOf(
  kind: string,
  field: string,
  all: readonly unknown[],
  offset: number,
  size: number,
): Record<string, unknown> {
  const result: Record<string, unknown> = { [field]: all.slice(offset, offset + size) };
  if (offset + size < all.length) result.nextCursor = encodeCursor(kind, offset + size);
  return result;
}
