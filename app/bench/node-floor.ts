// The least any Node gateway does per completion: Node's HTTP server reads the
// body and parses it, undici sends it upstream on a kept-alive pool, and the
// answer is parsed and written back. No auth, limits, spend or metrics. The
// proxy benchmark runs it as `node-floor`, so tandem's CPU per request is
// reported against what Node itself costs on the same machine in the same run.
// Prints its URL on stdout and serves until killed.
import { createServer } from "node:http";
import { Agent, request } from "undici";

const upstream = `${process.env.UPSTREAM_URL}/chat/completions`;
const agent = new Agent({ connections: 256 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString());
    request(upstream, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", authorization: "Bearer sk-upstream" },
      body,
    })
      .then(async (answer) => {
        const text = JSON.stringify(JSON.parse(await answer.body.text()));
        res.writeHead(answer.statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
