'use strict';
// Writes each ESM entry (build/src/index.mjs, build/src/kafkajs/index.mjs) as named re-exports of
// the CommonJS build, so `import { Arena } from 'kafka-arena'` and `require('kafka-arena')` share
// one module instance. The default export is the CommonJS namespace, typed as such.
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'build', 'src');
for (const entry of ['index', 'kafkajs/index']) {
  const cjsFile = path.join(dir, `${entry}.js`);
  const cjs = require(cjsFile);
  const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule');
  const lines = [
    "import cjs from './index.js';",
    ...names.map((n) => `export const ${n} = cjs.${n};`),
    'export default cjs;',
    '',
  ];
  const base = path.join(dir, entry);
  fs.writeFileSync(`${base}.mjs`, lines.join('\n'));
  fs.writeFileSync(
    `${base}.d.mts`,
    ["export * from './index.js';", "import * as ns from './index.js';", 'export default ns;', ''].join('\n'),
  );
}
const cli = path.join(dir, 'cli', 'main.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
