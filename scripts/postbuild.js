'use strict';
// Writes the ESM entry (build/src/index.mjs) as named re-exports of the CommonJS build, so
// `import { Arena } from 'kafka-arena'` and `require('kafka-arena')` share one module instance.
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'build', 'src');
const cjs = require(path.join(dir, 'index.js'));
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule');
const lines = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
];
fs.writeFileSync(path.join(dir, 'index.mjs'), lines.join('\n'));
fs.writeFileSync(path.join(dir, 'index.d.mts'), "export * from './index.js';\n");
const cli = path.join(dir, 'cli', 'main.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
