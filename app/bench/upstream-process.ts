// The fake upstream in a process of its own, so that in the proxy benchmark it
// competes with tandem for the CPU the way a remote provider would not: it
// prints its URL on stdout and serves until killed.
import { startFakeUpstream } from "../dev/fake-upstream.js";

const upstream = await startFakeUpstream(Number(process.env.PORT ?? 0));
process.stdout.write(`${upstream.url}\n`);
