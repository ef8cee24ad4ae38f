// Paired measurement across processes: long-lived workers (peer-worker.mjs, `python_bench.py
// --serve`) each hold the same index file and run one short request at a time, every worker in
// turn, in rotating order. On this 2-core VM two-thread speed drifts by up to 1.7x for seconds
// at a time (in Python as in Node), so figures taken minutes apart compare the machine's moods;
// figures taken in the same round do not.
import { spawn } from 'node:child_process';

export const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** A worker process speaking JSON lines: request(obj) resolves with its answer. */
export function worker(cmd, args, env = process.env) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const waiting = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let nl; (nl = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(nl + 1)) waiting.shift().resolve(JSON.parse(buffered.slice(0, nl)));
  });
  child.on('exit', (code) => waiting.splice(0).forEach((w) => w.reject(new Error(`${cmd} exited with ${code}`))));
  return {
    request: (req) => new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin.write(JSON.stringify(req) + '\n');
    }),
    close: () => child.stdin.end(),
  };
}

/**
 * One request on every worker (an object of name -> worker; the first is the reference) in
 * paired rounds, up to `rounds`, fewer (at least 3) once `budgetS` seconds are spent: per worker
 * the median time (the median of each answer's `us`), per other worker the median over rounds
 * of its time / the reference's time.
 */
export async function pairedRounds(workers, req, { rounds = 15, budgetS = 12 } = {}) {
  const names = Object.keys(workers);
  for (const name of names) await workers[name].request(req); // warm-up
  const times = Object.fromEntries(names.map((s) => [s, []]));
  const t0 = Date.now();
  for (let r = 0; r < rounds && (r < 3 || Date.now() - t0 < budgetS * 1e3); r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      times[name].push(median((await workers[name].request(req)).us));
    }
  }
  const ref = times[names[0]];
  return {
    rounds: ref.length,
    us: Object.fromEntries(names.map((s) => [s, median(times[s])])),
    ratio: Object.fromEntries(names.slice(1).map((s) => [s, median(times[s].map((t, r) => t / ref[r]))])),
  };
}
