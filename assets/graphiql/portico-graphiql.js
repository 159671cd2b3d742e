// Portico's GraphiQL page: signs the admin in (MFA included), keeps the access token in memory
// only, and sends it with the selected workspace on every request and websocket.
(function () {
  "use strict";
  var state = { token: null, mfaToken: null };
  var form = document.getElementById("signin");
  var status = document.getElementById("signin-status");
  var codeRow = document.getElementById("code-row");

  function field(id) { return document.getElementById(id); }

  function post(query, variables) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json", "X-Portico-Client": "graphiql" };
    if (state.token) { headers.Authorization = "Bearer " + state.token; }
    return fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      headers: headers,
      body: JSON.stringify({ query: query, variables: variables })
    }).then(function (r) { return r.json(); });
  }

  function say(text) { status.textContent = text; }

  function start() {
    var workspace = field("workspace").value.trim();
    // Labels the audit log's source (GRAPHIQL); not a permission.
    var headers = { "X-Portico-Client": "graphiql" };
    var params = { client: "graphiql" };
    if (state.token) {
      headers.Authorization = "Bearer " + state.token;
      params.authorization = "Bearer " + state.token;
    }
    if (workspace) {
      headers["X-Workspace"] = workspace;
      params.workspace = workspace;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var fetcher = GraphiQL.createFetcher({
      url: "/graphql",
      subscriptionUrl: scheme + window.location.host + "/graphql/ws",
      headers: headers,
      wsConnectionParams: params
    });
    form.hidden = true;
    var root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, { fetcher: fetcher, shouldPersistHeaders: false }));
  }

  function signedIn(payload) {
    state.token = payload.accessToken;
    state.mfaToken = null;
    say("Signed in as " + payload.user.email + ".");
    start();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (event.submitter && event.submitter.id === "anonymous") { start(); return; }
    var request;
    if (state.mfaToken) {
      request = post(
        "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken user { email } } }",
        { t: state.mfaToken, c: field("code").value.trim() }
      ).then(function (body) {
        if (body.errors) { throw new Error(body.errors[0].message); }
        signedIn(body.data.verifyMfa);
      });
    } else {
      request = post(
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken mfaToken user { email } } }",
        { e: field("email").value.trim(), p: field("password").value }
      ).then(function (body) {
        if (body.errors) { throw new Error(body.errors[0].message); }
        var login = body.data.login;
        if (login.mfaToken) {
          state.mfaToken = login.mfaToken;
          codeRow.hidden = false;
          field("code").focus();
          say("Enter the code of your authenticator app (or a recovery code).");
          return;
        }
        signedIn(login);
      });
    }
    request.catch(function (err) { say(err.message); });
  });
})();
