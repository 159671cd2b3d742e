#!/usr/bin/env bash
# Brings GraphiQL and React into assets/graphiql/vendor/ from the npm registry, at pinned versions,
# checking each tarball against its pinned sha512 integrity. Portico embeds these files in its
# binary (src/http/graphiql.rs), so /graphiql loads nothing from another origin.
#   assets/graphiql/vendor.sh          refresh the files (then commit them and SHA256SUMS)
#   assets/graphiql/vendor.sh --check  verify that the committed files are what npm serves
set -euo pipefail
cd "$(dirname "$0")"

# name@version  integrity  file in the package  name in vendor/
pins=(
  "react@18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ== umd/react.production.min.js react.production.min.js"
  "react-dom@18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw== umd/react-dom.production.min.js react-dom.production.min.js"
  "graphiql@3.8.3 sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw== graphiql.min.js graphiql.min.js"
  "graphiql@3.8.3 sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw== graphiql.min.css graphiql.min.css"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out"
mkdir -p "$out"
for pin in "${pins[@]}"; do
  read -r spec integrity inner name <<<"$pin"
  tarball="$work/${spec//[@\/]/_}.tgz"
  if [ ! -f "$tarball" ]; then
    (cd "$work" && npm pack --silent "$spec" >/dev/null)
    mv "$work/$(echo "${spec%@*}" | tr -d @ | tr / -)-${spec##*@}.tgz" "$tarball"
  fi
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "integrity mismatch for $spec: $actual" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work" "package/$inner"
  mv "$work/package/$inner" "$out/$name"
done

if [ "${1:-}" = "--check" ]; then
  diff -r "$out" vendor >/dev/null || { echo "assets/graphiql/vendor is stale: run assets/graphiql/vendor.sh" >&2; exit 1; }
  echo "assets/graphiql/vendor matches the pinned packages"
else
  rm -rf vendor
  mv "$out" vendor
  (cd vendor && sha256sum -- * >../SHA256SUMS)
  echo "vendored into assets/graphiql/vendor; commit it with SHA256SUMS"
fi
