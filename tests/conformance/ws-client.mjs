// The reference graphql-ws client (graphql-transport-ws) against a running Portico, configured as
// front ends leave it (no client pings): subscribes to `messageAdded`, posts a message over HTTP,
// and prints the event it receives.
// `node ws-client.mjs <http base> <access token> <workspace> <project id>`; exits 1 on failure.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token, workspace, project] = process.argv.slice(2);
const client = createClient({
  url: base.replace(/^http/, 'ws') + '/graphql/ws',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}`, workspace },
  retryAttempts: 0,
});
const fail = (why) => {
  console.error(why);
  process.exit(1);
};
setTimeout(() => fail('timed out'), 15000);

const events = client.iterate({
  query: 'subscription($p: ID!) { messageAdded(projectId: $p) { body author { name } } }',
  variables: { p: project },
});
const first = events.next();
// Give the subscription time to attach to the bus, then post.
await new Promise((resolve) => setTimeout(resolve, 500));
const posted = await fetch(base + '/graphql', {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    authorization: `Bearer ${token}`,
    'x-workspace': workspace,
  },
  body: JSON.stringify({
    query: 'mutation($p: ID!) { postMessage(projectId: $p, body: "over graphql-ws") { id } }',
    variables: { p: project },
  }),
});
if (posted.status !== 200) fail(`posting answered ${posted.status}: ${await posted.text()}`);
const { value, done } = await first;
if (done) fail('the subscription ended without an event');
console.log(JSON.stringify(value));
await events.return();
await client.dispose();
process.exit(value?.data?.messageAdded?.body === 'over graphql-ws' ? 0 : 1);
