// Run by build/build.mjs under the pinned Node 24 (pkg's SEA module refuses hosts older than Node 22):
//   node build/pkg-sea.cjs BUNDLE BASE_NODE OUTPUT USE_CODE_CACHE [ASSETS_JSON]
// ASSETS_JSON: the SEA assets, {"KEY": "/absolute/path"} (sea.getAsset(KEY) in the binary).
// Makes the single executable application with @yao-pkg/pkg's simple SEA mode (lib-es5/sea.js): it writes the
// sea-config.json, generates the blob with BASE_NODE and injects it into a copy of BASE_NODE with postject.
// Offline: BASE_NODE is given as nodePath and the one target is this host's platform and arch, so pkg uses it both as
// base and as blob generator; its download path (getNodejsExecutable without nodePath) is never reached. To make sure,
// fetch() and the https module are replaced by functions that fail the build before pkg is loaded.
'use strict';
const path = require('node:path');
const https = require('node:https');
const http = require('node:http');

const [bundle, baseNode, output, useCodeCache, assetsJson] = process.argv.slice(2);
if (!bundle || !baseNode || !output || !['true', 'false'].includes(useCodeCache)) {
  process.stderr.write('usage: node build/pkg-sea.cjs BUNDLE BASE_NODE OUTPUT true|false [ASSETS_JSON]\n');
  process.exit(2);
}
const noNetwork = (what) =>
  function () {
    throw new Error(`pkg-sea: ${what} called: pkg tried to download something (the build must stay offline)`);
  };
globalThis.fetch = noNetwork('fetch');
for (const m of [https, http]) {
  m.get = noNetwork(`${m === https ? 'https' : 'http'}.get`);
  m.request = noNetwork(`${m === https ? 'https' : 'http'}.request`);
}

const sea = require('@yao-pkg/pkg/lib-es5/sea.js').default;
const major = process.versions.node.split('.')[0];
sea(path.resolve(bundle), {
  nodePath: path.resolve(baseNode),
  targets: [{ nodeRange: `node${major}`, platform: 'linux', arch: 'x64', output: path.resolve(output) }],
  seaConfig: {
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: useCodeCache === 'true',
    assets: assetsJson ? JSON.parse(assetsJson) : {},
  },
}).catch((e) => {
  process.stderr.write(`pkg-sea: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
