/**
 * The tree is the pipeline: a folder may import only folders at or below its own layer, and no two
 * files import each other in a circle. Dynamic `import()` counts like a static one, so it cannot hide
 * an upward edge. The only lazily loaded modules are the kind/kube backends (same folder, for start-up).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Bottom first. Folders in one row are peers that must not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['util'],
  ['contracts'],
  ['process'],
  ['mesh'],
  ['oracle'],
  ['experiment'],
  ['workload'],
  ['load'],
  ['runner'],
  ['analysis'],
  ['live'],
  ['report'],
  ['compare'],
  ['orchestrate'],
  ['sweep'],
  ['cli'],
];

const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

export function importsOf(file: string): string[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(IMPORT)].map((m) => path.resolve(path.dirname(file), m[1] ?? m[2]));
}

const folderOf = (file: string, root = SRC) => path.relative(root, file).split(path.sep)[0];
const rankOf = (folder: string) => LAYERS.findIndex((row) => row.includes(folder));

/** Imports that reach a higher layer or a peer folder, as "from -> to" relative to `root`. */
export function upwardImports(root: string, files: readonly string[]): string[] {
  const bad: string[] = [];
  for (const f of files) {
    for (const target of importsOf(f)) {
      const from = folderOf(f, root);
      const to = folderOf(target, root);
      if (from !== to && rankOf(to) >= rankOf(from)) bad.push(`${path.relative(root, f)} -> ${path.relative(root, target)}`);
    }
  }
  return bad;
}

describe('architecture: layers and cycles', () => {
  const files = sourceFiles(SRC);

  it('every folder of src has a layer', () => {
    const unplaced = [...new Set(files.map((f) => folderOf(f)))].filter((f) => rankOf(f) < 0);
    assert.deepEqual(unplaced, [], `add these to LAYERS in ${import.meta.url}`);
  });

  it('no import reaches a higher layer or a peer folder', () => {
    assert.deepEqual(upwardImports(SRC, files), []);
  });

  it('no cycle between files', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => fs.existsSync(t))]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => path.relative(SRC, x)).join(' -> '));
        else if (!state.has(t)) visit(t, [...stack, t]);
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    assert.deepEqual(cycles, []);
  });

  it('sees an upward edge, static or dynamic (the check can fail)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    try {
      fs.mkdirSync(path.join(root, 'mesh'));
      fs.mkdirSync(path.join(root, 'report'));
      fs.writeFileSync(path.join(root, 'report', 'y.ts'), "import { x } from '../mesh/x.ts';\n");
      fs.writeFileSync(path.join(root, 'mesh', 'x.ts'), "export const x = 1;\nconst y = await import('../report/y.ts');\n");
      const files = ['mesh/x.ts', 'report/y.ts'].map((f) => path.join(root, f));
      assert.deepEqual(upwardImports(root, files), [`${path.join('mesh', 'x.ts')} -> ${path.join('report', 'y.ts')}`]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
