import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listen, type Listening } from "./listen.ts";

const get = (host: string, port: number) =>
  new Promise<string>((resolve, reject) => {
    request({ host, port, path: "/" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });

describe("listen", () => {
  let server: Listening | undefined;
  afterEach(() => server?.close());

  it("binds loopback on both families by default, so localhost works whichever it resolves to", async () => {
    server = await listen((_req, res) => res.end("hi"), { port: 0 });
    expect(server.url).toBe(`http://localhost:${server.port}`);
    expect(server.addresses[0]).toBe("127.0.0.1");
    expect(await get("127.0.0.1", server.port)).toBe("hi");
    if (server.addresses.includes("::1")) expect(await get("::1", server.port)).toBe("hi");
  });

  it("refuses to start when someone else holds the port on ::1, rather than serve localhost only half", async () => {
    const other = await listen((_req, res) => res.end("other"), { host: "::1", port: 0 }).catch(() => undefined);
    if (!other) return; // no IPv6 loopback on this machine: nothing to collide with
    try {
      await expect(listen((_req, res) => res.end("hi"), { port: other.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await other.close();
    }
  });

  it("binds only the HOST it is given", async () => {
    server = await listen((_req, res) => res.end("hi"), { host: "127.0.0.1", port: 0 });
    expect(server.addresses).toEqual(["127.0.0.1"]);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("closes kept-alive connections too, so close() does not wait for clients to hang up", async () => {
    server = await listen((_req, res) => res.end("hi"), { host: "127.0.0.1", port: 0 });
    const held = new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port: server!.port, path: "/", agent: false, headers: { connection: "keep-alive" } }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.end();
    });
    await held;
    await server.close(); // would hang until the keep-alive timeout without closeAllConnections
    server = undefined;
  });
});
