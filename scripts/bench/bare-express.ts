import express from "express";

/**
 * The yardstick for the leader's write throughput: an Express 5 JSON POST handler that does
 * nothing but keep the order in a Map and count, with no log, no replication and no validation
 * beyond what a real handler must do, and Express's defaults (the leader turns off the ETag,
 * which its replies never use). What the leader serves next to this is what its own work and
 * replication cost it. Started by `pnpm bench` as its own process (PORT, loopback only).
 */
const orders = new Map<string, { id: string; status: string; updatedAt: number }>();
let count = 0;

const app = express();
app.use(express.json({ limit: 1024 }));
app.post("/orders", (req, res) => {
  const id = String(req.body?.id ?? "");
  if (!id) {
    res.status(400).json({ ok: false, error: "id is required" });
    return;
  }
  const order = { id, status: "PENDING", updatedAt: Date.now() };
  orders.set(id, order);
  res.status(201).json({ ok: true, order, event: { offset: count++ } });
});

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  console.log(`[bare] listening on http://127.0.0.1:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
