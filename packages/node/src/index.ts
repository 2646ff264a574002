export { DEFAULT_FOLLOWER_TIMEOUT_MS, serveLog } from "./serve-log.ts";
export type { LogServer, ServeLogOptions, ServingNode } from "./serve-log.ts";
