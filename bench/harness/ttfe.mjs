// Streaming time-to-first-event: for each target, N sequential `stream: true` requests (1 KB
// prompt), measuring from sending the request to receiving the first SSE event line
// (`event: message_start`), and to the end of the stream. Prints one JSON line per target.
// Usage: node ttfe.mjs N name=url[|header:value;header:value] ...   (loopback targets only)
import http from 'node:http';

const n = Number.parseInt(process.argv[2] ?? '200', 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const prompt = ('Please reply to jane.doe@example.com and joe@example.org about the quarterly report. ').repeat(12).slice(0, 1024);
const body = JSON.stringify({ model: 'claude-mock-1', max_tokens: 256, stream: true, messages: [{ role: 'user', content: prompt }] });

function once(url, headers) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.hostname !== '127.0.0.1') reject(new Error('loopback only'));
    const t0 = process.hrtime.bigint();
    let first = null;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-mock', ...headers,
        'content-length': Buffer.byteLength(body) } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        if (first === null) { buf += d; if (buf.includes('event: message_start')) first = process.hrtime.bigint(); }
      });
      res.on('end', () => {
        if (res.statusCode !== 200 || first === null) return reject(new Error(`status ${res.statusCode}: ${buf.slice(0, 200)}`));
        resolve([Number(first - t0) / 1e6, Number(process.hrtime.bigint() - t0) / 1e6]);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
for (const spec of process.argv.slice(3)) {
  const [name, rest] = spec.split(/=(.*)/s);
  const [url, hdrs] = rest.split('|');
  const headers = Object.fromEntries((hdrs ?? '').split(';').filter(Boolean).map((h) => h.split(/:(.*)/s)));
  for (let i = 0; i < Math.min(50, n); i++) await once(url, headers); // warm-up
  const firsts = [], totals = [];
  for (let i = 0; i < n; i++) { const [f, t] = await once(url, headers); firsts.push(f); totals.push(t); }
  console.log(JSON.stringify({ target: name, n, ttfe_p50_ms: q(firsts, 0.5), ttfe_p90_ms: q(firsts, 0.9), ttfe_p99_ms: q(firsts, 0.99),
    total_p50_ms: q(totals, 0.5) }));
}
agent.destroy();
