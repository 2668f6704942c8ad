#!/usr/bin/env bash
# Refreshes app/static/graphiql from the npm registry: GraphiQL's UMD build and the React it
# was built for, each with its license. The source-map comments are dropped (the maps are not
# shipped, and a browser's developer tools would otherwise ask for them).
# Usage: scripts/vendor_graphiql.sh [graphiql-version] [react-version]
set -euo pipefail
GRAPHIQL=${1:-3.8.3}
REACT=${2:-18.2.0}
DEST=$(cd "$(dirname "$0")/.." && pwd)/app/static/graphiql
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for package in graphiql react react-dom; do
  mkdir "$package"
  tar xzf "$package"-*.tgz -C "$package"
done
cp graphiql/package/graphiql.min.js graphiql/package/graphiql.min.css "$DEST/"
cp react/package/umd/react.production.min.js react-dom/package/umd/react-dom.production.min.js "$DEST/"
cp graphiql/package/LICENSE "$DEST/LICENSE.graphiql"
cp react/package/LICENSE "$DEST/LICENSE.react"
cp react-dom/package/LICENSE "$DEST/LICENSE.react-dom"
sed -i 's|//# sourceMappingURL=graphiql.min.js.map||' "$DEST/graphiql.min.js"
sed -i 's|/\*# sourceMappingURL=graphiql.min.css.map\*/||' "$DEST/graphiql.min.css"
(cd "$DEST" && sha256sum ./*.min.js ./*.min.css)
echo "now update the versions and checksums in app/static/graphiql/README.md"
