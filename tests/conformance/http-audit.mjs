// graphql-http's own server audit (the reference implementation of the GraphQL-over-HTTP
// specification) against a running Portico:
// `node http-audit.mjs http://127.0.0.1:PORT/graphql [access token] [workspace]`. With a token the
// audit runs as that member (some audits send `__type`, which anonymous callers may not run in
// production).
// Prints one line per audit that is not ok and a JSON summary; exits 1 on any error or warning.
import { serverAudits } from 'graphql-http';

const [url, token, workspace] = process.argv.slice(2);
if (!url) {
  console.error('usage: node http-audit.mjs <graphql url>');
  process.exit(2);
}
const summary = { ok: 0, warnings: 0, errors: 0 };
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (workspace) headers.set('x-workspace', workspace);
  return fetch(input, { ...init, headers });
};
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    summary.ok += 1;
    continue;
  }
  if (result.status === 'warn') summary.warnings += 1;
  else summary.errors += 1;
  console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${result.reason}`);
}
console.log(JSON.stringify(summary));
process.exit(summary.errors || summary.warnings ? 1 : 0);
