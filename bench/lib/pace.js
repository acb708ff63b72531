#!/usr/bin/env node
// bench/lib/pace.js: the fixed-rate load of the cutover benchmark (open loop).
//
//   node bench/lib/pace.js --url http://127.0.0.1:PORT --rate 2000 --out pace.csv
//        [--slow-every 20] [--slow-ms 5000] [--big-every-ms 2000] [--big-mib 10] [--max-seconds 600]
//
// Request i is due at start + i / rate, whatever happened to the ones before
// it (a stalled request does not hold the next one back, unlike wrk or
// autocannon, whose connections wait for their previous answer), and its
// latency is measured from the instant it was due, so a stall shows in full.
// Every `--slow-every`-th request is GET /slow?ms=SLOW_MS (20: 5%), the rest
// alternate GET / and POST /echo (a small JSON body); besides the rate, one
// POST /echo of BIG_MIB MiB starts every BIG_EVERY_MS.
//
// Node's keep-alive agent, no retries (Node resends nothing): what a client
// library sees. On SIGINT or SIGTERM it stops sending, gives the requests in
// flight up to 30 s, counts the rest as failed ("unfinished"), writes one CSV
// line per request to --out and exits.
//   kind,due_ms,end_ms,status,version,error,id
// due_ms and end_ms are epoch milliseconds (fractional); status 0 when no
// response arrived (error says why).
"use strict";
const http = require("http");
const fs = require("fs");

function options(argv) {
  const o = { slowEvery: 20, slowMs: 5000, bigEveryMs: 2000, bigMib: 10, maxSeconds: 600 };
  const names = {
    "--url": "url", "--rate": "rate", "--out": "out", "--slow-every": "slowEvery", "--slow-ms": "slowMs",
    "--big-every-ms": "bigEveryMs", "--big-mib": "bigMib", "--max-seconds": "maxSeconds",
  };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`pace.js: ${argv[i]}: unknown option or missing value; see the comment at the top`);
      process.exit(2);
    }
    o[key] = key === "url" || key === "out" ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!o.url || !o.out || !(o.rate > 0)) {
    console.error("pace.js: --url, --out and a positive --rate are required");
    process.exit(2);
  }
  return o;
}

const o = options(process.argv);
const base = new URL(o.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const small = Buffer.from('{"greeting":"hello","n":12345}');
const big = Buffer.alloc(o.bigMib * 1024 * 1024, 0x61);
const rows = [];
const pending = new Map(); // id -> [kind, due], while in flight
let ids = 0;
let stopping = false;

function now() {
  return performance.timeOrigin + performance.now();
}

function send(kind, due) {
  let method = "GET", path = "/", body = null;
  if (kind === "post") { method = "POST"; path = "/echo"; body = small; }
  const id = ids++;
  // The long ones carry their id, which nginx's log of long requests records
  // with the upstream(s) that served them: a request nginx resent to another
  // slot shows two.
  if (kind === "slow") { path = `/slow?ms=${o.slowMs}&id=${id}`; }
  if (kind === "big") { method = "POST"; path = `/echo?big=${id}`; body = big; }
  pending.set(id, [kind, due]);
  let done = false;
  const finish = (status, version, error) => {
    if (done || stopping === "written") return;
    done = true;
    pending.delete(id);
    rows.push(`${kind},${due.toFixed(1)},${now().toFixed(1)},${status},${version || ""},${error || ""},${id}`);
  };
  const headers = body ? { "Content-Type": "application/json", "Content-Length": body.length } : {};
  const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
    let received = 0;
    res.on("data", (chunk) => { received += chunk.length; });
    res.on("end", () => {
      const short = body && res.statusCode === 200 && received !== body.length ? "short body" : "";
      finish(short ? 0 : res.statusCode, res.headers["x-app-version"], short);
    });
    res.on("error", (e) => finish(0, res.headers["x-app-version"], e.code || e.message));
    res.on("aborted", () => finish(0, res.headers["x-app-version"], "aborted"));
  });
  req.setTimeout(o.slowMs + 30000, () => req.destroy(new Error("timeout")));
  req.on("error", (e) => finish(0, "", e.code || e.message));
  req.end(body || undefined);
}

const start = now() + 50;
const interval = 1000 / o.rate;
let next = 0, nextBig = 0;
function tick() {
  if (stopping) return;
  const t = now();
  while (start + next * interval <= t) {
    const kind = next % o.slowEvery === o.slowEvery - 1 ? "slow" : next % 2 === 0 ? "get" : "post";
    send(kind, start + next * interval);
    next++;
  }
  while (o.bigEveryMs > 0 && start + nextBig * o.bigEveryMs <= t) {
    send("big", start + nextBig * o.bigEveryMs);
    nextBig++;
  }
  if (t - start > o.maxSeconds * 1000) return stop();
  setTimeout(tick, 1);
}

function stop() {
  if (stopping) return;
  stopping = true;
  const deadline = now() + 30000;
  const wait = () => {
    if (pending.size > 0 && now() < deadline) return setTimeout(wait, 20);
    const unfinished = pending.size;
    for (const [id, [kind, due]] of pending) rows.push(`${kind},${due.toFixed(1)},${now().toFixed(1)},0,,unfinished,${id}`);
    stopping = "written";
    fs.writeFileSync(o.out, "kind,due_ms,end_ms,status,version,error,id\n" + rows.join("\n") + (rows.length ? "\n" : ""));
    console.error(`pace.js: ${next} paced and ${nextBig} big requests sent, ${unfinished} unfinished at the stop`);
    process.exit(0);
  };
  wait();
}

process.on("SIGINT", stop);
process.on("SIGTERM", stop);
setTimeout(tick, 50);
