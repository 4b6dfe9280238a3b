// The slice of the k6-side helpers' API that wire.test.ts uses, typed for Node
// (the helpers themselves are checked against @types/k6 by scenarios/tsconfig.json).
type Result = { ok: true; data: unknown } | { ok: false; error: { code: string; httpStatus: number; message: string; reason?: string } };
type Call = (path: string, input: unknown, options?: { credential?: string; adminToken?: string }) => Promise<Result>;

export interface TrpcHttp {
  query: Call;
  mutate: Call;
}

export interface InboxConnectionLike {
  lastEventId: string | null;
  ack(id: string): void;
  close(): void;
}

export interface Inbox {
  InboxConnection: new (credential: string, handlers: object, options?: { lastEventId?: string | null }) => InboxConnectionLike;
}

export interface Content {
  sentAtOf(content: string): number | null;
  timestampedContent(bytes: number, sentAtMs: number): string;
  uuid(): string;
}
