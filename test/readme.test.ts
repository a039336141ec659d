/**
 * The README says nothing a user cannot run: every code snippet is taken from a file in
 * examples/ (which test/examples runs), every shell command is one the package really has (the
 * `kafka-arena dump` lines are run), every local link and image resolves and ships in the package,
 * and the file stays a README (under 14 KB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface Block {
  lang: string;
  body: string;
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    out.push({ lang: m[1]!, body: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

function exampleFiles(dir = join(root, 'examples')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? exampleFiles(join(dir, e.name)) : /\.(c?js|mjs|m?ts)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Lines trimmed; a snippet line `// …` marks lines left out. */
const lines = (text: string) => text.split('\n').map((l) => l.trim());

/** Whether the snippet's segments (split at `// …`) appear in `file`, each contiguous (blank lines aside), in order. */
function takenFrom(snippet: string, file: string): boolean {
  const fileLines = lines(readFileSync(file, 'utf8')).filter((l) => l !== ''); // blank lines do not count
  const segments: string[][] = [[]];
  for (const l of lines(snippet)) {
    if (l === '// …') segments.push([]);
    else if (l !== '') segments[segments.length - 1]!.push(l);
  }
  let from = 0;
  for (const seg of segments.filter((s) => s.length > 0)) {
    let found = -1;
    for (let i = from; i + seg.length <= fileLines.length && found < 0; i++) {
      if (seg.every((l, k) => fileLines[i + k] === l)) found = i;
    }
    if (found < 0) return false;
    from = found + seg.length;
  }
  return true;
}

test('README.md is under 14 KB', () => {
  const size = Buffer.byteLength(readme);
  assert.ok(size < 14 * 1024, `README.md is ${size} bytes`);
});

test('every JavaScript/TypeScript snippet in the README is taken from an example file', () => {
  const blocks = codeBlocks(readme).filter((b) => /^(js|mjs|ts|javascript|typescript)$/.test(b.lang));
  assert.ok(blocks.length >= 5, 'the README shows code');
  for (const b of codeBlocks(readme)) assert.ok(b.lang !== '', `README line ${b.line}: a code block without a language`);
  const files = exampleFiles();
  for (const b of blocks) {
    const from = files.filter((f) => takenFrom(b.body, f));
    assert.ok(from.length > 0, `README line ${b.line}: this snippet is in no file of examples/:\n${b.body}`);
  }
});

test('every shell command in the README exists; the dump commands run', () => {
  const cli = join(root, 'build', 'src', 'cli', 'main.js');
  for (const b of codeBlocks(readme).filter((x) => x.lang === 'sh')) {
    for (const cmd of b.body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
      const run = /^npm run (\S+)/.exec(cmd);
      const dump = /^npx kafka-arena dump (\S+)$/.exec(cmd);
      if (run) assert.ok(pkg.scripts[run[1]!], `README line ${b.line}: no npm script ${run[1]}`);
      else if (dump) {
        // From an install the package lives in node_modules/kafka-arena; here, at the root.
        const file = join(root, dump[1]!.replace(/^node_modules\/kafka-arena\//, ''));
        const out = execFileSync(process.execPath, [cli, 'dump', file], { encoding: 'utf8' });
        assert.match(out, /^# \d+ batches, \d+ records/m);
      } else {
        assert.ok(['npm install kafka-arena kafkajs', 'npm ci', 'npm test'].includes(cmd), `README line ${b.line}: unchecked command ${cmd}`);
      }
    }
  }
});

test('local links and images in the README resolve, and ship in the package', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
  const shipped = new Set(packed[0]!.files.map((f) => f.path));
  const anchors = new Set(
    [...readme.matchAll(/^#+ (.*)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[`:,()]/g, '').trim().replace(/\s+/g, '-')),
  );
  const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  assert.ok(targets.length > 10);
  for (const target of targets) {
    if (/^https?:/.test(target)) continue;
    if (target.startsWith('#')) {
      assert.ok(anchors.has(target.slice(1)), `README links to a missing heading ${target}`);
      continue;
    }
    const file = join(root, target.split('#')[0]!);
    assert.ok(existsSync(file), `README links to a missing file ${target}`);
    const rel = relative(root, file);
    const inPackage = statSync(file).isDirectory() ? [...shipped].some((p) => p.startsWith(`${rel}/`)) : shipped.has(rel);
    assert.ok(inPackage, `README links to ${target}, which is not in the package (package.json "files")`);
  }
});
