import { listen } from "@lab/service";
import type { Express } from "express";
import { afterEach } from "vitest";

/**
 * For a test file: `serve(dashboard)` listens on 127.0.0.1, port 0, and answers the dashboard's
 * URL; after each test every dashboard served is closed, its server first.
 */
export function serveDashboards() {
  const served: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of served.splice(0)) await close();
  });
  return async (dashboard: { app: Express; close(): Promise<void> }) => {
    const server = await listen(dashboard.app, { host: "127.0.0.1", port: 0 });
    served.push(async () => {
      await server.close();
      await dashboard.close();
    });
    return server.url;
  };
}
