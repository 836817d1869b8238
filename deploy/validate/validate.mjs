#!/usr/bin/env node
// Offline checks of rendered kustomize overlays (deploy/check.sh renders them):
//   1. schema: every document type-checks against the Kubernetes API types (schema.mjs);
//   2. policy: security, availability and TLS rules on what would be applied (policy.mjs);
//   3. secrets: no Secret values in any YAML file of the repository, and every Secret the
//      manifests reference is documented in deploy/README.md;
//   4. database configuration files parse (`mariadbd --help --verbose` rejects unknown options);
//   5. --self-test: known violations injected into the manifests must each be reported, so a
//      check that silently stopped checking fails too.
// Usage: validate.mjs [--self-test] [--tls-required OVERLAY]... OVERLAY=FILE...
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { checkSchemas } from './schema.mjs';
import { checkPolicy, referencedSecrets } from './policy.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const nodeModules = path.join(root, 'tools', 'node_modules');
const YAML = createRequire(path.join(root, 'tools', 'package.json'))('yaml');

const say = (msg) => console.error(`[validate] ${msg}`);
const clone = (x) => structuredClone(x);

function parseYaml(text, where) {
  const errors = [];
  const docs = [];
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length) errors.push(...d.errors.map((e) => `${where}: ${e.message}`));
    else {
      const js = d.toJS();
      if (js !== null && js !== undefined) docs.push(js);
    }
  }
  return { docs, errors };
}

// ---- 3. Secrets in the repository ------------------------------------------------------------
function scanYamlText(text, where) {
  const errors = [];
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) errors.push(`${where}: contains a private key`);
  const { docs, errors: parseErrors } = parseYaml(text, where);
  if (parseErrors.length) return errors; // not ours to lint; a Secret would still parse
  for (const d of docs) {
    if (typeof d !== 'object') continue;
    if (d.kind === 'Secret' && (d.data || d.stringData)) {
      errors.push(`${where}: Secret ${d.metadata?.name} carries data/stringData values`);
    }
    if (d.kind === 'Kustomization' && d.secretGenerator) errors.push(`${where}: a secretGenerator commits Secret values`);
  }
  return errors;
}

// The repository's YAML files: git's view (tracked, or untracked and not ignored), or a walk of
// the tree when this is not a git checkout.
function yamlFiles() {
  try {
    const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.yaml', '*.yml'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\0').filter((f) => f && fs.existsSync(path.join(root, f)));
  } catch {
    const skip = /^(\.git|\.dev|\.cache|build.*|node_modules)$/;
    const walk = (dir) =>
      fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) return skip.test(e.name) ? [] : walk(rel);
        return /\.ya?ml$/.test(e.name) ? [rel] : [];
      });
    return walk('');
  }
}

function scanRepository() {
  const files = yamlFiles();
  const errors = files.flatMap((f) => scanYamlText(fs.readFileSync(path.join(root, f), 'utf8'), f));
  return { files: files.length, errors };
}

// ---- 4. MariaDB configuration files ------------------------------------------------------------
function mariadbd() {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    const f = path.join(dir, 'mariadbd');
    if (fs.existsSync(f)) return f;
  }
  return null;
}

function checkCnfFiles(overlayDocs) {
  const files = new Map(); // content -> label
  for (const [overlay, docs] of overlayDocs) {
    for (const o of docs) {
      if (o.kind === 'ConfigMap') {
        for (const [k, v] of Object.entries(o.data ?? {})) if (k.endsWith('.cnf')) files.set(v, `${overlay} ConfigMap/${o.metadata.name} ${k}`);
      }
      if (o.kind === 'MariaDB' && o.spec?.myCnf) files.set(o.spec.myCnf, `${overlay} MariaDB/${o.metadata.name} myCnf`);
    }
  }
  const bin = mariadbd();
  if (!bin) {
    say(`mariadbd not installed: ${files.size} MariaDB configuration(s) not parsed`);
    return [];
  }
  const errors = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cpts-cnf-'));
  try {
    let n = 0;
    for (const [content, label] of files) {
      const f = path.join(tmp, `${n++}.cnf`);
      fs.writeFileSync(f, content);
      const r = spawnSync(bin, [`--defaults-file=${f}`, '--help', '--verbose'], { encoding: 'utf8' });
      if (r.status !== 0) {
        const why = (r.stderr ?? '').split('\n').filter((l) => /ERROR/.test(l)).join('; ') || `exit ${r.status}`;
        errors.push(`${label}: mariadbd rejects it: ${why}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return errors;
}

// ---- 5. Self-test ----------------------------------------------------------------------------
const find = (docs, kind, name) => docs.find((o) => o.kind === kind && (!name || o.metadata.name === name));
const serverContainer = (docs) => find(docs, 'Deployment').spec.template.spec.containers[0];

const POLICY_MUTATIONS = [
  ['memory limit removed', (d) => delete serverContainer(d).resources.limits.memory, /no memory limit/],
  ['mTLS flag removed', (d) => {
    const c = serverContainer(d);
    c.args = c.args.filter((a) => !a.startsWith('--tls_require_client_cert'));
  }, /without --tls_require_client_cert/],
  ['server certificate removed', (d) => {
    const c = serverContainer(d);
    c.args = c.args.filter((a) => !a.startsWith('--tls_cert_file'));
  }, /without --tls_cert_file/],
  ['certificate not from a Secret', (d) => {
    const c = serverContainer(d);
    c.args = c.args.map((a) => a.replace(/^--tls_key_file=.*/, '--tls_key_file=/srv/key.pem'));
  }, /tls_key_file=\/srv\/key.pem is not mounted from a Secret/],
  ['reflection on', (d) => serverContainer(d).args.push('--enable_reflection=true'), /reflection/],
  ['kubelet gRPC probe under mTLS', (d) => (serverContainer(d).readinessProbe = { grpc: { port: 50051 } }), /kubelet gRPC probe/],
  ['Secret with values', (d) => d.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'cpts' }, stringData: { password: 'p' } }), /Secret with values/],
  ['password in a ConfigMap', (d) => (find(d, 'ConfigMap').data.DB_PASSWORD = 'hunter2'), /looks like a secret/],
  ['runAsNonRoot off', (d) => (find(d, 'Deployment').spec.template.spec.securityContext.runAsNonRoot = false), /runAsNonRoot/],
  ['writable root filesystem', (d) => (serverContainer(d).securityContext.readOnlyRootFilesystem = false), /readOnlyRootFilesystem/],
  ['capabilities kept', (d) => delete serverContainer(d).securityContext.capabilities, /drop ALL/],
  ['readiness probe removed', (d) => delete serverContainer(d).readinessProbe, /no readinessProbe/],
  ['liveness probe removed', (d) => delete serverContainer(d).livenessProbe, /no livenessProbe/],
  ['PDB removed', (d) => d.splice(d.indexOf(find(d, 'PodDisruptionBudget', 'membership')), 1), /no PodDisruptionBudget/],
  ['service policies removed', (d) => {
    for (let i = d.length - 1; i >= 0; i--) if (d[i].kind === 'NetworkPolicy' && d[i].metadata.name.startsWith('membership')) d.splice(i, 1);
  }, /no NetworkPolicy selects/],
  ['default deny removed', (d) => d.splice(d.indexOf(find(d, 'NetworkPolicy', 'default-deny-all')), 1), /no default-deny/],
  ['grace period shorter than the drain', (d) => (find(d, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 12), /terminationGracePeriodSeconds/],
  ['image not pinned', (d) => (serverContainer(d).image = 'registry.cpts.example/cpts/membership:latest'), /not pinned/],
  ['unresolved $(VAR)', (d) => serverContainer(d).args.push('--db_host=$(DB_HOTS)'), /DB_HOTS/],
  ['fixed replicas beside an HPA', (d) => (find(d, 'Deployment').spec.replicas = 3), /HPA owns/],
  ['no spreading', (d) => {
    const s = find(d, 'Deployment').spec.template.spec;
    delete s.topologySpreadConstraints;
    delete s.affinity;
  }, /not spread/],
  ['non-durable database', (d) => (find(d, 'MariaDB').spec.myCnf = find(d, 'MariaDB').spec.myCnf.replace('sync_binlog=1', 'sync_binlog=0')), /lacks sync_binlog=1/],
  ['even database cluster', (d) => (find(d, 'MariaDB').spec.replicas = 2), /quorum/],
  ['no database failover', (d) => (find(d, 'MariaDB').spec.galera.primary.autoFailover = false), /autoFailover/],
  ['outbound call in plaintext', (d) => {
    const c = find(d, 'Deployment', 'access').spec.template.spec.containers[0];
    c.args = c.args.filter((a) => !a.startsWith('--peer_tls_ca_file'));
  }, /calls other services in plaintext/],
  ['no binlog archiving', (d) => delete find(d, 'MariaDB').spec.pointInTimeRecoveryRef, /PointInTimeRecovery/],
];

function selfTest(overlay, docs) {
  const failures = [];
  for (const [name, mutate, expected] of POLICY_MUTATIONS) {
    const d = clone(docs);
    try {
      mutate(d);
    } catch (e) {
      failures.push(`mutation "${name}" does not apply to ${overlay}: ${e.message}`);
      continue;
    }
    const errors = checkPolicy(d, { overlay, tlsRequired: true });
    if (!errors.some((e) => expected.test(e))) failures.push(`policy missed: ${name} (got: ${errors.join(' | ') || 'no error'})`);
  }
  // Schema: a misspelt field, a wrong type, and a typo in a custom resource.
  const dep = clone(find(docs, 'Deployment'));
  const c = dep.spec.template.spec.containers[0];
  c.readinesProbe = c.readinessProbe;
  delete c.readinessProbe;
  const hpa = clone(find(docs, 'HorizontalPodAutoscaler'));
  hpa.spec.maxReplicas = '12';
  const mdb = clone(find(docs, 'MariaDB'));
  mdb.spec.galera.primary.autoFailovr = true;
  const bad = [
    { label: 'self-test misspelt', obj: dep },
    { label: 'self-test wrong-type', obj: hpa },
    { label: 'self-test crd-typo', obj: mdb },
  ];
  const schemaErrors = checkSchemas(bad, nodeModules);
  for (const [label, expected] of [['self-test misspelt', /readinesProbe/], ['self-test wrong-type', /maxReplicas/], ['self-test crd-typo', /autoFailovr/]]) {
    if (!schemaErrors.some((e) => e.startsWith(label) && expected.test(e))) failures.push(`schema missed: ${label} (got: ${schemaErrors.join(' | ')})`);
  }
  // Repository scan.
  if (!scanYamlText('apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {password: p}\n', 'x').length) {
    failures.push('repository scan missed a Secret with stringData');
  }
  if (!scanYamlText('key: |\n  -----BEGIN PRIVATE KEY-----\n', 'x').length) failures.push('repository scan missed a private key');
  return { count: POLICY_MUTATIONS.length + 3 + 2, failures };
}

// ---- main ------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const tlsRequired = new Set();
let runSelfTest = false;
const overlays = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--self-test') runSelfTest = true;
  else if (args[i] === '--tls-required') tlsRequired.add(args[++i]);
  else if (args[i].includes('=')) overlays.push(args[i].split(/=(.*)/s).slice(0, 2));
  else {
    console.error(`usage: validate.mjs [--self-test] [--tls-required OVERLAY]... OVERLAY=FILE...`);
    process.exit(2);
  }
}

const problems = [];
const overlayDocs = [];
for (const [overlay, file] of overlays) {
  const { docs, errors } = parseYaml(fs.readFileSync(file, 'utf8'), overlay);
  problems.push(...errors);
  overlayDocs.push([overlay, docs]);
}

const t0 = Date.now();
const schemaErrors = checkSchemas(
  overlayDocs.flatMap(([overlay, docs]) => docs.map((obj) => ({ label: `${overlay} ${obj?.kind}/${obj?.metadata?.name}`, obj }))),
  nodeModules,
);
problems.push(...schemaErrors);
const total = overlayDocs.reduce((n, [, d]) => n + d.length, 0);
say(`schema: ${total} documents type-checked (${Date.now() - t0} ms)`);

const readme = fs.readFileSync(path.join(root, 'deploy', 'README.md'), 'utf8');
for (const [overlay, docs] of overlayDocs) {
  problems.push(...checkPolicy(docs, { overlay, tlsRequired: tlsRequired.has(overlay) }));
  const secrets = referencedSecrets(docs);
  for (const s of secrets) if (!readme.includes(`\`${s}\``)) problems.push(`${overlay}: Secret ${s} is referenced but not documented in deploy/README.md`);
  say(`policy: ${overlay}${tlsRequired.has(overlay) ? ' (mTLS required)' : ''}: ${docs.length} documents; Secrets to create: ${secrets.join(', ')}`);
}

const scan = scanRepository();
problems.push(...scan.errors);
say(`secrets: ${scan.files} YAML files of the repository scanned`);

const cnfErrors = checkCnfFiles(overlayDocs);
problems.push(...cnfErrors);

if (runSelfTest) {
  const target = overlayDocs.find(([o]) => tlsRequired.has(o));
  if (!target) problems.push('--self-test needs a --tls-required overlay');
  else {
    const { count, failures } = selfTest(...target);
    problems.push(...failures.map((f) => `self-test: ${f}`));
    say(`self-test: ${count - failures.length}/${count} injected violations caught`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(`  FAIL ${p}`);
  say(`${problems.length} problem(s)`);
  process.exit(1);
}
say('ok');
