// The least an Express 5 gateway does per completion: node-floor's work (Node's server, undici
// on a kept-alive pool, the JSON parsed both ways) with Express's router, its JSON body parser
// and res.json in between — the framework tandem is built on, and nothing of tandem's. The proxy
// benchmark runs it beside node-floor, so what Express itself costs is measured, not assumed.
// Prints its URL on stdout and serves until killed.
import express from "express";
import { Agent, request } from "undici";

const upstream = `${process.env.UPSTREAM_URL}/chat/completions`;
const agent = new Agent({ connections: 256 });

const app = express();
// Express at its cheapest: no ETag (a hash of every answer) and no x-powered-by, as tandem runs it.
app.disable("x-powered-by");
app.set("etag", false);
app.use(express.json({ limit: "10mb" }));
app.post("/v1/chat/completions", async (req, res) => {
  try {
    const answer = await request(upstream, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", authorization: "Bearer sk-upstream" },
      body: JSON.stringify(req.body),
    });
    res.status(answer.statusCode).json(JSON.parse(await answer.body.text()));
  } catch {
    res.status(502).end();
  }
});
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
server.keepAliveTimeout = 60_000;
