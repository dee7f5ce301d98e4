#!/bin/sh
# Refresh the OpenLayers build shipped with the web viewer (src/minecarbon/view/static/vendor/ol)
# from the npm registry:   sh tools/update_openlayers.sh [VERSION]
set -eu
version="${1:-latest}"
dest="$(cd "$(dirname "$0")/.." && pwd)/src/minecarbon/view/static/vendor/ol"
tmp=$(mktemp -d)
(cd "$tmp" && npm pack "ol@$version" --silent >/dev/null && tar xzf ol-*.tgz)
cp "$tmp/package/dist/ol.js" "$tmp/package/ol.css" "$tmp/package/LICENSE.md" "$dest/"
got=$(node -e "console.log(require('$tmp/package/package.json').version)")
echo "ol $got from the npm registry (package 'ol', BSD-2-Clause): dist/ol.js, ol.css, LICENSE.md. Refresh with tools/update_openlayers.sh." > "$dest/VERSION.txt"
rm -rf "$tmp"
echo "OpenLayers $got in $dest"
