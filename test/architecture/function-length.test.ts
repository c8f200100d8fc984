/**
 * No function in src over 80 lines (CONTRIBUTING: "functions under ~80 lines"), counted by the
 * TypeScript compiler from the function's first token to its closing brace, comments inside included,
 * nested functions counted in their parent too. Tables of data are excepted, by their shape and not by
 * name: a function whose whole body returns an object or array literal that holds only data (literals,
 * names, nested tables, calls on data such as `row('a', 1)`), and no function, condition or statement.
 * A top-level `const` table is not a function, so it is never counted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
export const MAX_FUNCTION_LINES = 80;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const unwrap = (e: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)
    ? unwrap(e.expression)
    : e;

/** A value a table may hold: no code, only data. */
function isData(e: ts.Expression): boolean {
  const x = unwrap(e);
  if (ts.isObjectLiteralExpression(x))
    return x.properties.every(
      (p) =>
        (ts.isPropertyAssignment(p) && !ts.isComputedPropertyName(p.name) && isData(p.initializer)) ||
        ts.isShorthandPropertyAssignment(p) ||
        (ts.isSpreadAssignment(p) && isData(p.expression)),
    );
  if (ts.isArrayLiteralExpression(x)) return x.elements.every((el) => (ts.isSpreadElement(el) ? isData(el.expression) : isData(el)));
  if (ts.isCallExpression(x))
    return (ts.isIdentifier(x.expression) || ts.isPropertyAccessExpression(x.expression)) && x.arguments.every(isData);
  if (ts.isPrefixUnaryExpression(x)) return x.operator === ts.SyntaxKind.MinusToken && isData(x.operand);
  if (ts.isTemplateExpression(x)) return x.templateSpans.every((s) => isData(s.expression));
  if (ts.isPropertyAccessExpression(x)) return isData(x.expression);
  return (
    ts.isStringLiteral(x) ||
    ts.isNumericLiteral(x) ||
    ts.isNoSubstitutionTemplateLiteral(x) ||
    ts.isRegularExpressionLiteral(x) ||
    ts.isIdentifier(x) ||
    x.kind === ts.SyntaxKind.TrueKeyword ||
    x.kind === ts.SyntaxKind.FalseKeyword ||
    x.kind === ts.SyntaxKind.NullKeyword
  );
}

/** The function's whole body is `return <table>` (or an arrow whose expression is the table). */
export function isDataTable(fn: ts.FunctionLikeDeclaration): boolean {
  const body = fn.body;
  if (!body) return false;
  let value: ts.Expression | undefined;
  if (ts.isBlock(body)) {
    const [only, ...rest] = body.statements;
    if (rest.length || !only || !ts.isReturnStatement(only)) return false;
    value = only.expression;
  } else value = body;
  if (!value) return false;
  const v = unwrap(value);
  return (ts.isObjectLiteralExpression(v) || ts.isArrayLiteralExpression(v)) && isData(v);
}

function nameOf(fn: ts.FunctionLikeDeclaration): string {
  if (fn.name) return fn.name.getText();
  const p = fn.parent;
  if ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText();
  return '<anonymous>';
}

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/** Every function longer than `max` lines in these files, tables of data left out. */
export function longFunctions(root: string, files: readonly string[], max = MAX_FUNCTION_LINES): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node) => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const fn = n as ts.FunctionLikeDeclaration;
        const first = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
        const last = sf.getLineAndCharacterOfPosition(fn.end).line;
        const lines = last - first + 1;
        if (lines > max && !isDataTable(fn)) out.push({ file: path.relative(root, file), line: first + 1, name: nameOf(fn), lines });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

describe('architecture: function length', () => {
  it(`no function in src is over ${MAX_FUNCTION_LINES} lines (tables of data excepted)`, () => {
    const long = longFunctions(SRC, sourceFiles(SRC)).map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
    assert.deepEqual(long, [], `split these functions (CONTRIBUTING: functions under ~${MAX_FUNCTION_LINES} lines)`);
  });

  it('sees a long function, arrow or method, and excepts only a table of data (the check can fail)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fnlen-'));
    try {
      const body = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');
      const rows = (n: number) =>
        Array.from({ length: n }, (_, i) => `    { id: ${i}, name: 'r${i}', tags: ['a', -1], at: row('x', ${i}) },`).join('\n');
      const file = path.join(root, 'x.ts');
      fs.writeFileSync(
        file,
        [
          `export function long() {\n  let x = 0;\n${body(77)}\n  return x;\n}`, // 81 lines
          `export function fits() {\n  let x = 0;\n${body(76)}\n  return x;\n}`, // 80 lines
          `export const arrow = () => {\n  let x = 0;\n${body(77)}\n  return x;\n};`,
          `export class C {\n  method() {\n    let x = 0;\n${body(77)}\n    return x;\n  }\n}`,
          `export function table() {\n  return [\n${rows(90)}\n  ];\n}`,
          `export const tableArrow = () => ({\n  rows: [\n${rows(90)}\n  ],\n});`,
          // A big literal of functions or conditions is code, not a table.
          `export function codeInLiteral() {\n  return {\n${Array.from({ length: 90 }, (_, i) => `    f${i}: () => ${i},`).join('\n')}\n  };\n}`,
          `export function conditional(a: boolean) {\n  return [\n${Array.from({ length: 90 }, (_, i) => `    a ? ${i} : 0,`).join('\n')}\n  ];\n}`,
          `export function statementThenTable() {\n  const k = 1;\n  return [\n${rows(90)}\n  ];\n}`,
          `export const TOP = [\n${rows(200)}\n];`,
        ].join('\n\n'),
      );
      assert.deepEqual(
        longFunctions(root, [file]).map((f) => [f.name, f.lines]),
        [
          ['long', 81],
          ['arrow', 81],
          ['method', 81],
          ['codeInLiteral', 94],
          ['conditional', 94],
          ['statementThenTable', 95],
        ],
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
