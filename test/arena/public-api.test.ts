/**
 * The published type declarations (every build/src/**\/*.d.ts and .d.mts, which the package
 * ships): no `_`-prefixed member or export anywhere, and one way to create each thing of the
 * core entry (a public constructor or a factory function, not both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..', '..');
const buildSrc = join(root, 'build', 'src');

function declarationFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...declarationFiles(p));
    else if (entry.name.endsWith('.d.ts') || entry.name.endsWith('.d.mts')) out.push(p);
  }
  return out;
}

/** `file:line name` of every declaration named with a leading underscore. */
function underscoreNames(file: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    const name = (node as { name?: ts.Node }).name;
    const named =
      ts.isPropertyDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node) ||
      ts.isPropertySignature(node) ||
      ts.isMethodSignature(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isVariableDeclaration(node) ||
      ts.isEnumMember(node) ||
      ts.isExportSpecifier(node);
    if (named && name !== undefined && (ts.isIdentifier(name) || ts.isStringLiteral(name)) && name.text.startsWith('_')) {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
      found.push(`${relative(root, file.fileName)}:${line + 1} ${name.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test('no published declaration has a _-prefixed member or export', () => {
  const files = declarationFiles(buildSrc);
  assert.ok(files.length > 20, `declarations found under ${buildSrc}: ${files.length}`);
  const found: string[] = [];
  for (const f of files) {
    const text = ts.sys.readFile(f)!;
    found.push(...underscoreNames(ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true)));
  }
  assert.deepEqual(found, [], `internals in the published types:\n${found.join('\n')}`);
});

test('the scan sees a _-prefixed member when there is one', () => {
  const probe = ts.createSourceFile('probe.d.ts', 'export declare class A { _x: number; get _y(): number; ok(): void; }\nexport interface I { _z(): void }', ts.ScriptTarget.ES2022, true);
  assert.deepEqual(
    underscoreNames(probe).map((s) => s.split(' ')[1]),
    ['_x', '_y', '_z'],
  );
});

/** Exported classes of an entry's declarations: whether `new` is allowed, and the exported functions. */
function entryShape(entry: string): { constructible: string[]; classes: string[]; functions: string[] } {
  const program = ts.createProgram([entry], { strict: true, skipLibCheck: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const shape = { constructible: [] as string[], classes: [] as string[], functions: [] as string[] };
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    // A type-only export is no way to create anything at run time.
    const typeOnly = exported.declarations?.some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly));
    if (typeOnly) continue;
    if (symbol.flags & ts.SymbolFlags.Class) {
      shape.classes.push(exported.name);
      const decl = symbol.declarations!.find(ts.isClassDeclaration)!;
      const ctor = decl.members.find(ts.isConstructorDeclaration);
      const hidden = ctor?.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword);
      if (!hidden) shape.constructible.push(exported.name);
    } else if (symbol.flags & ts.SymbolFlags.Function) {
      shape.functions.push(exported.name);
    }
  }
  return shape;
}

test('kafka-arena: one way to create each thing (a public constructor or a factory, never both)', () => {
  const shape = entryShape(join(buildSrc, 'index.d.ts'));
  // The classes users make themselves, and those only the library makes.
  assert.deepEqual(shape.constructible.filter((c) => !c.endsWith('Error')).sort(), ['Arena', 'ByteQueue', 'WorkerPool']);
  // Made only by pool.decodeRecordBatches(): a type, not a value.
  assert.ok(!shape.classes.includes('PooledRecordBatches'), 'PooledRecordBatches is exported as a type only');
  for (const made of ['Lease', 'RecordBatch', 'RecordBatches', 'RecordCursor', 'RecordView']) {
    assert.ok(shape.classes.includes(made), `${made} is exported for instanceof`);
    assert.ok(!shape.constructible.includes(made), `${made} has a private constructor`);
  }
  const factories = (name: string) => [name[0].toLowerCase() + name.slice(1), `create${name}`, `new${name}`, `make${name}`];
  const both = shape.constructible.filter((c) => factories(c).some((f) => shape.functions.includes(f)));
  assert.deepEqual(both, [], 'classes that also have a factory');
});

test('kafka-arena/kafkajs: boundedProducer is the one way to make a BoundedProducer', () => {
  const shape = entryShape(join(buildSrc, 'kafkajs', 'index.d.ts'));
  assert.ok(shape.functions.includes('boundedProducer'));
  assert.ok(!shape.classes.includes('BoundedProducer'), 'the class is exported as a type only');
});
