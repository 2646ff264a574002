/**
 * A node's base URL as a request gives it (`http://127.0.0.1:3001`, a trailing slash allowed):
 * http or https, a host and port, no path, query or fragment, at most 200 characters. Returns
 * it without the trailing slash, or undefined for anything else.
 */
export function baseUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 200 || !/^https?:\/\/[^\s/?#]+\/?$/.test(value)) return undefined;
  return value.replace(/\/$/, "");
}

/** Whether two base URLs name the same node (localhost, 127.0.0.1 and [::1] alike; a trailing slash or not). */
export function sameNode(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const parsed = new URL(u);
      const host = parsed.hostname === "localhost" || parsed.hostname === "[::1]" ? "127.0.0.1" : parsed.hostname;
      return `${parsed.protocol}//${host}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}
