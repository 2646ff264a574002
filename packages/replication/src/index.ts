export { createMemoryLog } from "./log.ts";
export type { LogEntry, LogRead, ReplicationLog } from "./log.ts";
export { createLogClient, LeaderReplyError, LeaderUnreachableError } from "./log-client.ts";
export type { LogClient } from "./log-client.ts";
export { DEFAULT_EVENTS_LIMIT, MAX_EVENTS_LIMIT } from "./protocol.ts";
export type { EventsReply, OffsetOutOfRangeReply, WriteReply } from "./protocol.ts";
export { createReadYourWritesClient } from "./read-your-writes.ts";
export type { ReadYourWritesClient, ReadYourWritesOptions, SessionReply } from "./read-your-writes.ts";
