'use strict';
// Copies the measured tables from bench/results/*.md into README.md, between markers such as
//   <!-- results:codecs -->  …  <!-- /results:codecs -->
// so the README always shows what the last committed run printed. Run after `npm run bench`.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const readmePath = path.join(root, 'README.md');
let readme = fs.readFileSync(readmePath, 'utf8');
const re = /<!-- results:([\w/-]+) -->[\s\S]*?<!-- \/results:\1 -->/g;
readme = readme.replace(re, (_, name) => {
  const file = path.join(root, 'bench', 'results', `${name}.md`);
  if (!fs.existsSync(file)) throw new Error(`missing ${path.relative(root, file)}: run the benchmark first`);
  // Demote headings so result files nest under the README's own sections.
  const body = fs.readFileSync(file, 'utf8').trim().replace(/^(#{1,4}) /gm, '$1# ');
  return `<!-- results:${name} -->\n${body}\n<!-- /results:${name} -->`;
});
fs.writeFileSync(readmePath, readme);
console.log('README.md results refreshed');
