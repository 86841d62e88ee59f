/**
 * MCP message shapes (protocol 2025-11-25) used by the public API, and the
 * Standard Schema interface through which schemas arrive.
 *
 * Only what handler authors touch is typed here; the dispatcher checks
 * the rest of each message by hand.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Standard Schema (https://standardschema.dev), inlined so the core needs no
// import. zod 4, valibot and arktype implement it.

/** The result of {@linkcode StandardSchemaV1} validation. */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

/** One validation problem. */
export interface StandardIssue {
  /** What is wrong, for a person. */
  readonly message: string;
  /** Where it is wrong. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

/** A schema that implements the Standard Schema and Standard JSON Schema interfaces. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** Always 1. */
    readonly version: 1;
    /** The schema library's name. */
    readonly vendor: string;
    /** Validates a value. */
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    /** Standard JSON Schema conversion; zod 4 provides it. */
    readonly jsonSchema?: {
      /** JSON Schema of the accepted input. */
      readonly input: (options: { target: string }) => Record<string, unknown>;
      /** JSON Schema of the produced output. */
      readonly output: (options: { target: string }) => Record<string, unknown>;
    };
    /** Type carrier; never set at run time. */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** The output type of a Standard Schema. */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never;

// ---------------------------------------------------------------------------
// Common

/** Arbitrary metadata attached to an MCP object. */
export type Meta = Record<string, unknown>;

/** An icon a client may show beside a tool, resource, prompt or server. */
export interface Icon {
  /** An `https:` or `data:` URI. */
  src: string;
  /** MIME type, e.g. `image/png`. */
  mimeType?: string;
  /** Sizes, e.g. `["48x48"]` or `["any"]`. */
  sizes?: string[];
  /** The theme the icon is drawn for. */
  theme?: "light" | "dark";
}

/** Hints about who a piece of content is for and how important it is. */
export interface Annotations {
  /** Who the content is meant for. */
  audience?: ("user" | "assistant")[];
  /** 0 (least) to 1 (most important). */
  priority?: number;
  /** ISO 8601 time of the last change. */
  lastModified?: string;
}

/** Name and version of a client or server. */
export interface Implementation {
  /** Programmatic name. */
  name: string;
  /** Version string. */
  version: string;
  /** Display name. */
  title?: string;
  /** What it is, in a sentence. */
  description?: string;
  /** Icons for display. */
  icons?: Icon[];
  /** Home page. */
  websiteUrl?: string;
}

// ---------------------------------------------------------------------------
// Content

/** Plain text content. */
export interface TextContent {
  /** Discriminator. */
  type: "text";
  /** The text. */
  text: string;
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** Base64 image content. */
export interface ImageContent {
  /** Discriminator. */
  type: "image";
  /** Base64 data. */
  data: string;
  /** MIME type, e.g. `image/png`. */
  mimeType: string;
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** Base64 audio content. */
export interface AudioContent {
  /** Discriminator. */
  type: "audio";
  /** Base64 data. */
  data: string;
  /** MIME type, e.g. `audio/wav`. */
  mimeType: string;
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** A link to a resource the client may read. */
export interface ResourceLink {
  /** Discriminator. */
  type: "resource_link";
  /** The resource's URI. */
  uri: string;
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it is. */
  description?: string;
  /** MIME type. */
  mimeType?: string;
  /** Size in bytes. */
  size?: number;
  /** Icons for display. */
  icons?: Icon[];
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** Text contents of a resource. */
export interface TextResourceContents {
  /** The resource's URI. */
  uri: string;
  /** MIME type. */
  mimeType?: string;
  /** The text. */
  text: string;
  /** Metadata. */
  _meta?: Meta;
}

/** Binary contents of a resource, base64 encoded. */
export interface BlobResourceContents {
  /** The resource's URI. */
  uri: string;
  /** MIME type. */
  mimeType?: string;
  /** Base64 data. */
  blob: string;
  /** Metadata. */
  _meta?: Meta;
}

/** The contents of a resource. */
export type ResourceContents = TextResourceContents | BlobResourceContents;

/** A resource embedded in a message or tool result. */
export interface EmbeddedResource {
  /** Discriminator. */
  type: "resource";
  /** The contents. */
  resource: ResourceContents;
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** Any content block. */
export type ContentBlock =
  | TextContent
  | ImageContent
  | AudioContent
  | ResourceLink
  | EmbeddedResource;

// ---------------------------------------------------------------------------
// Tools

/** Hints about a tool's behaviour. Clients must not trust them from untrusted servers. */
export interface ToolAnnotations {
  /** Display name. */
  title?: string;
  /** The tool does not change its environment. */
  readOnlyHint?: boolean;
  /** The tool may destroy or overwrite data. */
  destructiveHint?: boolean;
  /** Calling it twice with the same arguments has no further effect. */
  idempotentHint?: boolean;
  /** The tool reaches an open world (e.g. the web). */
  openWorldHint?: boolean;
}

/** A tool as `tools/list` describes it. */
export interface Tool {
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it does, for a model. */
  description?: string;
  /** JSON Schema of the arguments. */
  inputSchema: Record<string, unknown>;
  /** JSON Schema of `structuredContent`. */
  outputSchema?: Record<string, unknown>;
  /** Behaviour hints. */
  annotations?: ToolAnnotations;
  /** Whether the tool may run as a task (2025-11-25). */
  execution?: { taskSupport?: "forbidden" | "optional" | "required" };
  /** Icons for display. */
  icons?: Icon[];
  /** Metadata. */
  _meta?: Meta;
}

/** The result of `tools/call`. */
export interface CallToolResult {
  /** Unstructured content. */
  content: ContentBlock[];
  /** Structured content matching the tool's output schema. */
  structuredContent?: Record<string, unknown>;
  /** True when the tool failed; the content says why. */
  isError?: boolean;
  /** Metadata. */
  _meta?: Meta;
}

// ---------------------------------------------------------------------------
// Resources

/** A resource as `resources/list` describes it. */
export interface Resource {
  /** The resource's URI. */
  uri: string;
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it is. */
  description?: string;
  /** MIME type. */
  mimeType?: string;
  /** Size in bytes. */
  size?: number;
  /** Icons for display. */
  icons?: Icon[];
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** A resource template as `resources/templates/list` describes it. */
export interface ResourceTemplate {
  /** RFC 6570 URI template. */
  uriTemplate: string;
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it is. */
  description?: string;
  /** MIME type. */
  mimeType?: string;
  /** Icons for display. */
  icons?: Icon[];
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
}

/** The result of `resources/read`. */
export interface ReadResourceResult {
  /** One or more contents. */
  contents: ResourceContents[];
  /** Metadata. */
  _meta?: Meta;
}

// ---------------------------------------------------------------------------
// Prompts

/** An argument of a prompt. */
export interface PromptArgument {
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it is for. */
  description?: string;
  /** Whether it must be given. */
  required?: boolean;
}

/** A prompt as `prompts/list` describes it. */
export interface Prompt {
  /** Programmatic name. */
  name: string;
  /** Display name. */
  title?: string;
  /** What it is for. */
  description?: string;
  /** Its arguments. */
  arguments?: PromptArgument[];
  /** Icons for display. */
  icons?: Icon[];
  /** Metadata. */
  _meta?: Meta;
}

/** One message of a prompt. */
export interface PromptMessage {
  /** Who speaks. */
  role: "user" | "assistant";
  /** What is said. */
  content: ContentBlock;
}

/** The result of `prompts/get`. */
export interface GetPromptResult {
  /** What the prompt is for. */
  description?: string;
  /** The messages. */
  messages: PromptMessage[];
  /** Metadata. */
  _meta?: Meta;
}

/** The 2026-07-28 subscription filter of `subscriptions/listen`. */
export interface SubscriptionFilter {
  /** Send `notifications/tools/list_changed`. */
  toolsListChanged?: boolean;
  /** Send `notifications/prompts/list_changed`. */
  promptsListChanged?: boolean;
  /** Send `notifications/resources/list_changed`. */
  resourcesListChanged?: boolean;
  /** Send `notifications/resources/updated` for these URIs. */
  resourceSubscriptions?: string[];
}

// ---------------------------------------------------------------------------
// Logging, sampling, roots

/** Syslog severities, least to most severe. */
export type LoggingLevel =
  | "debug"
  | "info"
  | "notice"
  | "warning"
  | "error"
  | "critical"
  | "alert"
  | "emergency";

/** One message of a sampling conversation. */
export interface SamplingMessage {
  /** Who speaks. */
  role: "user" | "assistant";
  /** What is said (a block or, since 2025-11-25, an array of blocks). */
  content: unknown;
  /** Metadata. */
  _meta?: Meta;
}

/** Parameters of `sampling/createMessage`. */
export interface CreateMessageParams {
  /** The conversation so far. */
  messages: SamplingMessage[];
  /** Upper bound on generated tokens. */
  maxTokens: number;
  /** A system prompt the client may use. */
  systemPrompt?: string;
  /** Model preferences (hints, priorities). */
  modelPreferences?: Record<string, unknown>;
  /** Which MCP context to include. */
  includeContext?: "none" | "thisServer" | "allServers";
  /** Sampling temperature. */
  temperature?: number;
  /** Stop sequences. */
  stopSequences?: string[];
  /** Provider-specific metadata. */
  metadata?: Record<string, unknown>;
  /** Further fields (e.g. `tools`, `toolChoice`). */
  [key: string]: unknown;
}

/** The result of `sampling/createMessage`. */
export interface CreateMessageResult {
  /** Who speaks (the model: `assistant`). */
  role: "user" | "assistant";
  /** The generated content. */
  content: unknown;
  /** The model that answered. */
  model: string;
  /** Why generation stopped. */
  stopReason?: string;
  /** Further fields. */
  [key: string]: unknown;
}

/** A root the client exposes. */
export interface Root {
  /** A `file://` URI. */
  uri: string;
  /** Display name. */
  name?: string;
  /** Metadata. */
  _meta?: Meta;
}

/** The client's answer to `elicitation/create`. */
export type ElicitResult<T> =
  | { action: "accept"; content: T }
  | { action: "decline" }
  | { action: "cancel" };
