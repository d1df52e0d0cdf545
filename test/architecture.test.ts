/**
 * The shape of src/: the import graph of every src/**\/*.ts file (static imports, `import type`,
 * re-exports and dynamic `import('…')` of relative paths, read with the TypeScript compiler's
 * parser) has no circle, and dependencies point one way — the library (data, signal, model)
 * knows nothing of the server, the command line or the web app; the browser code imports no
 * server code at run time (a type-only import is erased by the bundler); inside the server, the
 * storage layer knows nothing of the rooms above it, and a route file imports no other route file
 * nor what registers it (services reach routes through http/deps.ts).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '..');
const SRC = join(ROOT, 'src');

interface Edge { to: string; typeOnly: boolean }

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []);
}

/** A relative specifier ("./x.js", "../y/index.js") as the .ts file it names, or null (a package, or not found). */
function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const f of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) if (existsSync(f)) return f;
  return null;
}

/** Every relative import of a file: static, type-only, re-exports, `import('…')` and `import type` in type positions. */
function imports(file: string): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => { const to = resolveSpecifier(file, spec); if (to) out.push({ to, typeOnly }); };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      add(n.arguments[0].text, false);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const rel = (f: string) => relative(ROOT, f).split(sep).join('/');
const graph = new Map(files(SRC).map((f) => [f, imports(f)]));

/** The circles of the graph: one per strongly connected component of more than one file (or a file importing itself), as a path. */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!idx.has(to)) { strong(to); low.set(v, Math.min(low.get(v)!, low.get(to)!)); } else if (on.has(to)) low.set(v, Math.min(low.get(v)!, idx.get(to)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).some((e) => e.to === v)) found.push(pathThrough(new Set(comp), v));
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return found;
}

/** One circle inside a strongly connected component, from `start` back to it (breadth-first, shortest). */
function pathThrough(comp: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const { to } of graph.get(v) ?? []) {
      if (!comp.has(to)) continue;
      if (to === start) { const p = [v]; let u = v; while (u !== start) { u = prev.get(u)!; p.unshift(u); } return [...p, start].map(rel); }
      if (!prev.has(to)) { prev.set(to, v); queue.push(to); }
    }
  }
  return [rel(start)];
}

/** Imports from files under `from/` into files under any of `to/` (run-time only when `runtimeOnly`). */
function arrows(from: string, to: string[], runtimeOnly = false): string[] {
  const out: string[] = [];
  for (const [f, edges] of graph) {
    if (!rel(f).startsWith(`src/${from}/`)) continue;
    for (const e of edges) if ((!runtimeOnly || !e.typeOnly) && to.some((t) => rel(e.to).startsWith(`src/${t}/`))) out.push(`${rel(f)} → ${rel(e.to)}`);
  }
  return out;
}

describe('architecture of src/', () => {
  it('reads the whole source tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect([...graph.values()].reduce((s, e) => s + e.length, 0)).toBeGreaterThan(300);
  });

  it('has no import circle', () => {
    expect(cycles().map((c) => c.join(' → '))).toEqual([]);
  });

  it('the library (data, signal, model) imports nothing from the server, the command line or the web app', () => {
    for (const lib of ['data', 'signal', 'model']) expect(arrows(lib, ['server', 'cli', 'web'])).toEqual([]);
  });

  it('the browser code imports no server code at run time', () => {
    expect(arrows('web', ['server', 'cli'], true)).toEqual([]);
  });

  it('the server\'s storage imports nothing from its HTTP, jobs, monitoring or services rooms', () => {
    expect(arrows('server/storage', ['server/http', 'server/jobs', 'server/monitoring', 'server/services'])).toEqual([]);
  });

  it('a route file imports no other route file, nor the app or composition root that register it', () => {
    const routes = [...graph.keys()].filter((f) => rel(f).startsWith('src/server/http/routes/'));
    const wrong = routes.flatMap((f) => graph.get(f)!.filter((e) => rel(e.to).startsWith('src/server/http/routes/') || ['src/server/server.ts', 'src/server/http/app.ts'].includes(rel(e.to)))
      .map((e) => `${rel(f)} → ${rel(e.to)}`));
    expect(routes.length).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });
});
