// The log levels of `notifications/message`, least severe first, and their order.

import type { LoggingLevel } from "../types.ts";

/** Log levels, least severe first. */
export const LEVELS: readonly LoggingLevel[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** The rank of a level in {@linkcode LEVELS}; -1 for an unknown one. */
export const levelRank = (l: string): number => LEVELS.indexOf(l as LoggingLevel);
