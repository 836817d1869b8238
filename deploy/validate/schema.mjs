// Offline schema check of Kubernetes documents: each document becomes a typed constant of a
// generated TypeScript file (kubernetes-types for built-in kinds, crd-types.ts for the custom
// resources we use), type-checked by `tsc --strict`. Object-literal excess-property checks make
// a misspelt or misplaced field an error, as well as a wrong type or a missing required field.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);

// kubernetes-types module path of a built-in apiVersion: "v1" -> core/v1,
// "networking.k8s.io/v1" -> networking/v1, "rbac.authorization.k8s.io/v1" -> rbac/v1.
function builtinModule(apiVersion) {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return `core/${parts[0]}`;
  return `${parts[0].split('.')[0]}/${parts[1]}`;
}

const CRD_GROUPS = new Set(['k8s.mariadb.com/v1alpha1', 'cert-manager.io/v1']);

// Serialises `value` as a TypeScript literal, one property per line, each line with the path
// of the value it belongs to (errors are reported as paths, not generated line numbers).
function literal(value, p) {
  const nest = (sub, out) => {
    sub[sub.length - 1].text += ',';
    for (const l of sub) out.push({ text: `  ${l.text}`, path: l.path });
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ text: '[]', path: p }];
    const out = [{ text: '[', path: p }];
    value.forEach((v, i) => nest(literal(v, `${p}[${i}]`), out));
    out.push({ text: ']', path: p });
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return [{ text: '{}', path: p }];
    const out = [{ text: '{', path: p }];
    for (const k of keys) {
      const kp = p ? `${p}.${k}` : k;
      const sub = literal(value[k], kp);
      sub[0].text = `${JSON.stringify(k)}: ${sub[0].text}`;
      nest(sub, out);
    }
    out.push({ text: '}', path: p });
    return out;
  }
  return [{ text: JSON.stringify(value), path: p }];
}

// Type-checks `docs` ([{label, obj}]); returns a list of error strings (empty when valid).
export function checkSchemas(docs, nodeModules) {
  const errors = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cpts-k8s-schema-'));
  try {
    fs.symlinkSync(nodeModules, path.join(tmp, 'node_modules'));
    fs.copyFileSync(path.join(here, 'crd-types.ts'), path.join(tmp, 'crd-types.ts'));
    const crdExports = new Set(
      [...fs.readFileSync(path.join(here, 'crd-types.ts'), 'utf8').matchAll(/^export interface (\w+)/gm)].map(
        (m) => m[1],
      ),
    );
    const imports = new Map(); // module -> alias
    const lines = [];
    const paths = [];
    const owner = []; // line -> doc index
    docs.forEach(({ label, obj }, i) => {
      const { apiVersion, kind } = obj ?? {};
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
        errors.push(`${label}: no apiVersion/kind`);
        return;
      }
      let type;
      if (CRD_GROUPS.has(apiVersion)) {
        if (!crdExports.has(kind)) {
          errors.push(`${label}: no schema for custom resource ${apiVersion} ${kind} (add it to crd-types.ts)`);
          return;
        }
        imports.set('./crd-types', 'crd');
        type = `crd.${kind}`;
      } else {
        const mod = builtinModule(apiVersion);
        const file = path.join(nodeModules, 'kubernetes-types', `${mod}.d.ts`);
        if (!fs.existsSync(file) || !new RegExp(`^export interface ${kind} \\{`, 'm').test(fs.readFileSync(file, 'utf8'))) {
          errors.push(`${label}: no schema for ${apiVersion} ${kind}`);
          return;
        }
        const alias = mod.replace(/[^a-z0-9]/gi, '_');
        imports.set(`kubernetes-types/${mod}`, alias);
        type = `${alias}.${kind}`;
      }
      const sub = literal(obj, '');
      sub[0].text = `export const d${i}: ${type} = ${sub[0].text}`;
      sub[sub.length - 1].text += ';';
      for (const l of sub) {
        owner[lines.length] = i;
        lines.push(l.text);
        paths.push(l.path);
      }
    });
    const header = [...imports].map(([mod, alias]) => `import type * as ${alias} from '${mod}';`);
    const source = path.join(tmp, 'documents.ts');
    fs.writeFileSync(source, [...header, ...lines].join('\n') + '\n');
    const tsc = path.join(nodeModules, '.bin', 'tsc');
    let output = '';
    try {
      execFileSync(
        tsc,
        ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext',
          '--moduleResolution', 'bundler', '--types', '', source],
        { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e) {
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      if (!output.trim()) output = String(e);
    }
    // "documents.ts(LINE,COL): error TSnnnn: message" followed by indented detail lines.
    let current = null;
    for (const raw of output.split('\n')) {
      const m = raw.match(/documents\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/);
      if (m) {
        const line = Number(m[1]) - 1 - header.length;
        const doc = owner[line];
        const where = doc === undefined ? 'generated file' : `${docs[doc].label} ${paths[line] || '(document)'}`;
        current = `${where}: ${m[4]}`;
        errors.push(current);
      } else if (raw.trim() && current !== null && /^\s/.test(raw)) {
        errors[errors.length - 1] += ` ${raw.trim()}`;
      } else if (raw.trim() && !/^Found \d+ error/.test(raw) && !/^\s*$/.test(raw)) {
        errors.push(`tsc: ${raw.trim()}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return errors;
}
