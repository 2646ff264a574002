import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A server that is listening, and how to reach and stop it. */
export interface Listening {
  /** The base URL clients should use, e.g. `http://localhost:3000`. */
  url: string;
  port: number;
  /** The addresses actually bound, e.g. `["127.0.0.1", "::1"]`. */
  addresses: string[];
  /** Stops accepting connections, ends open ones (idle keep-alive and long requests alike), and resolves when closed. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** A host or address to bind. Unset: loopback only, both 127.0.0.1 and ::1. */
  host?: string | undefined;
  /** 0 picks a free port. */
  port: number;
}

/**
 * Listens on loopback by default. "localhost" resolves to 127.0.0.1 on some machines and to ::1
 * on others (and Node and curl may disagree about which comes first), so with no `host` the
 * server binds both: `curl http://localhost:3000` and a follower's default LEADER_URL then work
 * either way. A machine without IPv6 simply gets 127.0.0.1 alone.
 */
export async function listen(handler: RequestListener, { host, port }: ListenOptions): Promise<Listening> {
  const servers: Server[] = [];
  const bind = async (address: string, wantPort: number): Promise<number> => {
    const server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(wantPort, address, () => {
        server.off("error", reject);
        resolve();
      });
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };

  let actualPort: number;
  const addresses: string[] = [];
  if (host !== undefined) {
    actualPort = await bind(host, port);
    addresses.push(host);
  } else {
    actualPort = await bind("127.0.0.1", port);
    addresses.push("127.0.0.1");
    try {
      await bind("::1", actualPort);
      addresses.push("::1");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EADDRNOTAVAIL" && code !== "EAFNOSUPPORT") {
        // Someone else holds [::1]:port: a client resolving localhost to ::1 would reach them, not us.
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
        throw err;
      }
      // No IPv6 loopback on this machine: 127.0.0.1 alone serves localhost, which resolves to it here.
    }
  }

  const urlHost = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    addresses,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}
