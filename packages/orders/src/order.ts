/**
 * An order as both leader and follower hold it. `updatedAt` is the time the leader decided the
 * last change (carried in the event), never the time a follower happened to apply it.
 */
export interface Order {
  id: string;
  status: OrderStatus;
  updatedAt: number;
}

export type OrderStatus = "PENDING" | "CONFIRMED" | "CANCELED";

/** The state machine's whole state: every order, by id. */
export type Orders = Map<string, Order>;

/** A new, empty state. */
export function createOrders(): Orders {
  return new Map();
}

const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * Checks a client-supplied order id and returns it, or a sentence saying what is wrong with it.
 * Ids go into URLs and log lines, so they are kept to a short, safe alphabet.
 */
export function checkOrderId(value: unknown): { ok: true; id: string } | { ok: false; message: string } {
  if (value === undefined || value === null) return { ok: false, message: "id is required" };
  if (typeof value !== "string") return { ok: false, message: `id must be a string, got ${typeof value}` };
  if (value === "") return { ok: false, message: "id must not be empty" };
  if (!ORDER_ID.test(value)) {
    return {
      ok: false,
      message: "id must be 1-64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    };
  }
  return { ok: true, id: value };
}
