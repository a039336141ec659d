'use strict'
// Copies the measured tables from bench/results/*.md into the reports under docs/ (not the
// README, which keeps only the headline figures), between markers such as
//   <!-- results:codecs -->  …  <!-- /results:codecs -->
// so the reports always show what the last committed run printed. Run after `npm run bench`.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const docs = path.join(root, 'docs');
const re = /<!-- results:([\w/-]+) -->[\s\S]*?<!-- \/results:\1 -->/g;
let refreshed = 0;
for (const name of fs.readdirSync(docs).filter((f) => f.endsWith('.md'))) {
  const file = path.join(docs, name);
  const text = fs.readFileSync(file, 'utf8');
  const updated = text.replace(re, (_, result) => {
    const source = path.join(root, 'bench', 'results', `${result}.md`);
    if (!fs.existsSync(source)) throw new Error(`missing ${path.relative(root, source)}: run the benchmark first`);
    refreshed++;
    // Result files use ### headings, which nest under a report's ## sections as they are.
    const body = fs.readFileSync(source, 'utf8').trim();
    return `<!-- results:${result} -->\n${body}\n<!-- /results:${result} -->`;
  });
  if (updated !== text) fs.writeFileSync(file, updated);
}
console.log(`${refreshed} result tables refreshed in docs/`);
