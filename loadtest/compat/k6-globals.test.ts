/**
 * The scripts touch no global k6 lacks. k6 runs JavaScript in its own engine (sobek),
 * not Node: no process, Buffer, require, fetch, setImmediate, performance,
 * structuredClone… The compat smoke runs in Node, where all of those exist, so it
 * cannot catch a script that uses one; this test can. It type-checks the scripts with
 * their own tsconfig (k6's types, ES2023, no Node, no DOM) and lists every global the
 * scripts refer to: each must be declared by the scripts, by @types/k6 or by our k6
 * runtime declarations, or be an ECMAScript built-in on the list below (which k6 has).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const loadtest = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scenarios = path.join(loadtest, "scenarios");

/** ECMAScript built-ins the scripts may use (all present in k6's sobek engine). */
const ECMASCRIPT = new Set([
  "Array", "ArrayBuffer", "Boolean", "DataView", "Date", "Error", "Infinity", "JSON", "Map", "Math", "NaN", "Number", "Object",
  "Promise", "RegExp", "Set", "String", "Symbol", "TypeError", "Uint8Array", "encodeURIComponent", "isFinite", "parseFloat", "parseInt",
]);

function program(extra: string[] = []) {
  const configFile = path.join(scenarios, "tsconfig.json");
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  return ts.createProgram({ rootNames: [...config.fileNames, ...extra], options: config.options });
}

/** A name used as a value or type on its own (not `x.name`, not a property key). */
function isFreeName(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === node) return false;
  return !ts.isTypeReferenceNode(parent) && !ts.isExpressionWithTypeArguments(parent);
}

/** Free names in `roots` whose declaration is neither theirs nor k6's: ECMAScript (lib) globals. */
function globalsTouched(p: ts.Program, roots: string[]): Map<string, string> {
  const checker = p.getTypeChecker();
  const touched = new Map<string, string>();
  for (const file of p.getSourceFiles()) {
    if (file.isDeclarationFile || !roots.some((root) => file.fileName.startsWith(root))) continue;
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node) && isFreeName(node)) {
        const symbol = checker.getSymbolAtLocation(node);
        for (const declaration of symbol?.declarations ?? []) {
          const where = declaration.getSourceFile().fileName;
          if (!where.startsWith(loadtest) && !roots.some((root) => where.startsWith(root)) && !where.includes("@types/k6")) touched.set(node.text, where);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return touched;
}

const notAllowed = (touched: Map<string, string>) => [...touched.keys()].filter((name) => !ECMASCRIPT.has(name)).sort();

describe("k6 scripts use no global k6 lacks", () => {
  const p = program();

  it("type-check cleanly against k6's types only (no Node, no DOM)", () => {
    const diagnostics = ts.getPreEmitDiagnostics(p).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
    expect(p.getSourceFiles().some((f) => f.fileName.includes("@types/node"))).toBe(false);
    expect(p.getSourceFiles().filter((f) => f.fileName.startsWith(scenarios) && !f.isDeclarationFile).length).toBeGreaterThanOrEqual(10);
  });

  it("every global they refer to is an ECMAScript built-in on the list (k6 has them), or declared by k6's types", () => {
    const touched = globalsTouched(p, [loadtest]);
    expect(notAllowed(touched)).toEqual([]);
    expect(touched.has("Math") && touched.has("JSON")).toBe(true);
  });

  it("catches a script that reaches for an ES global outside the list (the check can fail)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "handshake-k6-globals-"));
    const file = path.join(dir, "bad.ts");
    writeFileSync(file, "export const a = new WeakRef({});\nexport const b = Atomics.load(new Int32Array(new SharedArrayBuffer(4)), 0);\n");
    expect(notAllowed(globalsTouched(program([file]), [dir]))).toEqual(["Atomics", "Int32Array", "SharedArrayBuffer", "WeakRef"]);
  });
});
