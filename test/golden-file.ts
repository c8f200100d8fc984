/**
 * The one golden-file helper for test/mesh, test/report and test/runner/kube: a generated text (or a
 * tree of generated files) must equal its copy under test/golden/ byte for byte. `UPDATE_GOLDEN=1`
 * rewrites the copies instead; review the diff (git diff test/golden) before committing it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const updating = () => Boolean(process.env.UPDATE_GOLDEN);
const shown = (f: string) => path.relative(process.cwd(), f) || f;

/** `text` against the golden file `file`; `what` names the case in the failure. */
export function matchGoldenText(file: string, text: string, what: string): void {
  if (updating()) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return;
  }
  assert.ok(fs.existsSync(file), `missing golden file ${shown(file)}; run with UPDATE_GOLDEN=1`);
  assert.equal(
    text,
    fs.readFileSync(file, 'utf8'),
    `${what} differs from ${shown(file)} (UPDATE_GOLDEN=1 to accept, then review the diff)`,
  );
}

/** The generated `files` (relative to `actualDir`) against `goldenDir`: the same set, each byte-identical. */
export function matchGoldenTree(actualDir: string, goldenDir: string, files: string[]): void {
  if (updating()) {
    fs.rmSync(goldenDir, { recursive: true, force: true });
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(goldenDir, f)), { recursive: true });
      fs.copyFileSync(path.join(actualDir, f), path.join(goldenDir, f));
    }
    return;
  }
  const golden = fs
    .readdirSync(goldenDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(goldenDir, path.join(e.parentPath, e.name)))
    .sort();
  assert.deepEqual(files.slice().sort(), golden, `the dry run wrote a different set of files than ${shown(goldenDir)}`);
  for (const f of files)
    assert.equal(
      fs.readFileSync(path.join(actualDir, f), 'utf8'),
      fs.readFileSync(path.join(goldenDir, f), 'utf8'),
      `${f} differs from the golden copy in ${shown(goldenDir)} (UPDATE_GOLDEN=1 to accept)`,
    );
}
