import { listen, type Clock } from "@lab/service";
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

/** A count a test can wait on: `reached(n)` resolves once it is n or more. */
export function waitableCount() {
  let value = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  return {
    get value() {
      return value;
    },
    add() {
      value++;
      for (const w of waiters.filter((w) => value >= w.n)) w.resolve();
      waiters = waiters.filter((w) => value < w.n);
    },
    reached: (n: number) => new Promise<void>((resolve) => (value >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

/** One stand-in node of a test: its `GET /watch` requests as they came, when (on the test's clock) and with what query. */
export interface FakeNode {
  url: string;
  asked: { at: number; query: URLSearchParams }[];
  /** Resolves once the node has been asked `count` times (its answer may still be on its way). */
  whenAsked(count: number): Promise<void>;
}

/**
 * For a test file: `fakeNode(clock, answer)` serves a stand-in node's `GET /watch` on
 * 127.0.0.1, port 0, answering its n-th request (from 1) with `answer(n, query)` once that
 * resolves (a test holds an answer by resolving it later); closed after each test.
 */
export function serveFakeNodes() {
  const served: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of served.splice(0)) await close();
  });
  return async (clock: Clock, answer: (n: number, query: URLSearchParams) => object | Promise<object>): Promise<FakeNode> => {
    const asked: FakeNode["asked"] = [];
    const count = waitableCount();
    const server = await listen(
      async (req, res) => {
        asked.push({ at: clock.now(), query: new URL(req.url ?? "/", "http://node").searchParams });
        count.add();
        const view = await answer(asked.length, asked.at(-1)!.query);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, ...view }));
      },
      { host: "127.0.0.1", port: 0 },
    );
    served.push(() => server.close());
    return { url: server.url, asked, whenAsked: count.reached };
  };
}
