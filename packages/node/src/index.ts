export { DEFAULT_FOLLOWER_TIMEOUT_MS, MAX_WAIT_MS, serveLog } from "./serve-log.ts";
export type { LogServer, ServeLogOptions, ServingNode } from "./serve-log.ts";
export { createChangeFeed, followersSignature, MAX_WATCH_WAIT_MS, watchRoute } from "./watch.ts";
export type { ChangeFeed } from "./watch.ts";
