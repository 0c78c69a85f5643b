// jsonata-peer.mjs — the reference's side of bench/jsonata.py: npm `jsonata` (JSONATA_DIR names
// the folder where it is installed) compiles one expression once, then evaluates it back to
// back for a bounded time, each evaluation awaited as a caller of the library would.
//   node jsonata-peer.mjs --jsonata-file F [--input-file F] [--bindings-file F] [--seconds S]
// Prints the line jsonata-bench prints: {"evals","seconds","evals_per_s","result"|"undefined"}.
import fs from 'node:fs';
import { createRequire } from 'node:module';
const jsonata = createRequire((process.env.JSONATA_DIR || process.cwd()) + '/')('jsonata');
const a = {};
const v = process.argv.slice(2);
for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
const read = (k) => (a[k] ? JSON.parse(fs.readFileSync(a[k], 'utf8')) : undefined);
try {
  const expr = jsonata(fs.readFileSync(a['jsonata-file'], 'utf8'));
  const input = read('input-file');
  const bindings = read('bindings-file') || {};
  const seconds = Number(a.seconds || 2);
  const first = await expr.evaluate(input, bindings); // the warm-up, not counted
  let n = 0;
  const t0 = performance.now();
  let t1 = t0;
  do {
    await expr.evaluate(input, bindings);
    n++;
    t1 = performance.now();
  } while (t1 - t0 < seconds * 1000);
  const s = (t1 - t0) / 1000;
  const out = { evals: n, seconds: s, evals_per_s: n / s };
  if (first === undefined) out.undefined = true;
  else out.result = first;
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
  process.exitCode = 1;
}
