// Policy test of rendered manifests (one overlay at a time): what STYLE.md rule 21 and issue 6
// require of every workload, checked on what would actually be applied. Returns error strings.

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
// Custom resources whose pods an operator creates: the labels those pods carry.
const OPERATOR_POD_LABELS = {
  MariaDB: (o) => ({ 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': o.metadata.name }),
};
const DURABLE_SETTINGS = ['innodb_flush_log_at_trx_commit=1', 'sync_binlog=1', 'log_bin_trust_function_creators=1'];

const id = (o) => `${o.kind}/${o.metadata?.name}`;

export function matchesSelector(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const ok = {
      In: () => has && e.values.includes(labels[e.key]),
      NotIn: () => !has || !e.values.includes(labels[e.key]),
      Exists: () => has,
      DoesNotExist: () => !has,
    }[e.operator];
    if (!ok || !ok()) return false;
  }
  return true;
}

const isEmptySelector = (s) =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

function podTemplate(o) {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template;
  return o.spec?.template;
}

// "10s", "1m30s", "500ms" -> seconds.
function durationSeconds(text) {
  const units = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  let matched = '';
  for (const m of String(text).matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0];
  }
  return matched === String(text) ? total : NaN;
}

// Flag value from args: "--name=value", or true for a bare "--name".
function flag(args, name) {
  let value;
  for (const a of args) {
    if (a === `--${name}`) value = 'true';
    else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
  }
  return value;
}

// The container's environment as Kubernetes builds it (env + envFrom ConfigMaps), used to
// expand $(VAR) in args; an unresolvable reference is an error (a typo in a ConfigMap key).
function containerEnv(c, configMaps, errors, where) {
  const env = {};
  for (const src of c.envFrom ?? []) {
    if (src.configMapRef) {
      const cm = configMaps.get(src.configMapRef.name);
      if (!cm) errors.push(`${where}: envFrom ConfigMap ${src.configMapRef.name} is not in the manifests`);
      else Object.assign(env, cm.data ?? {});
    }
  }
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

function expandArgs(c, env, errors, where) {
  return (c.args ?? []).map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name) => {
      if (env[name] === undefined) {
        errors.push(`${where}: args reference $(${name}), which no env or envFrom defines`);
        return ref;
      }
      return env[name];
    }),
  );
}

function imageTag(image) {
  if (image.includes('@sha256:')) return 'digest';
  const last = image.split('/').pop();
  return last.includes(':') ? last.split(':').pop() : '';
}

// Checks one overlay's documents. `tlsRequired`: every gRPC server must be mTLS-only.
export function checkPolicy(docs, { overlay, tlsRequired }) {
  const errors = [];
  const err = (o, msg) => errors.push(`${overlay} ${id(o)}: ${msg}`);
  const byKind = (k) => docs.filter((o) => o.kind === k);
  const configMaps = new Map(byKind('ConfigMap').map((o) => [o.metadata.name, o]));
  const policies = byKind('NetworkPolicy');
  const pdbs = byKind('PodDisruptionBudget');
  const hpas = byKind('HorizontalPodAutoscaler');

  for (const o of docs) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name) {
      errors.push(`${overlay}: a document without apiVersion, kind or metadata.name`);
      continue;
    }
    if (o.kind !== 'Namespace' && !o.metadata.namespace) err(o, 'no namespace');
  }

  // ---- Secrets are referenced, never committed ------------------------------------------
  for (const o of byKind('Secret')) {
    if (o.data || o.stringData) err(o, 'a Secret with values is rendered: create Secrets out of band');
  }
  for (const o of byKind('ConfigMap')) {
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v)) err(o, `key ${k} holds a private key`);
      if (/pass(word)?|secret|token|private/i.test(k)) err(o, `key ${k} looks like a secret: use a Secret`);
      for (const line of String(v).split('\n')) {
        if (/^\s*[A-Z0-9_]*(PASSWORD|SECRET|TOKEN)[A-Z0-9_]*\s*=/.test(line)) {
          err(o, `key ${k} sets ${line.split('=')[0].trim()}: use a Secret`);
        }
      }
    }
  }

  // ---- Database configuration is durable -----------------------------------------------
  for (const o of byKind('ConfigMap')) {
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (!k.endsWith('.cnf')) continue;
      for (const s of DURABLE_SETTINGS) if (!v.replace(/[ \t]/g, '').split('\n').includes(s)) err(o, `${k} lacks ${s}`);
    }
  }
  for (const o of byKind('MariaDB')) {
    const cnf = (o.spec?.myCnf ?? '').replace(/[ \t]/g, '').split('\n');
    for (const s of DURABLE_SETTINGS) if (!cnf.includes(s)) err(o, `myCnf lacks ${s}`);
    const ha = o.spec?.galera?.enabled ? o.spec.galera : o.spec?.replication?.enabled ? o.spec.replication : null;
    if (!ha) err(o, 'neither galera nor replication is enabled: no availability');
    else if (!ha.primary?.autoFailover) err(o, 'primary.autoFailover is off: no automatic failover');
    const replicas = o.spec?.replicas ?? 1;
    if (replicas < 3 || replicas % 2 === 0) err(o, `replicas ${replicas}: a quorum needs an odd number >= 3`);
    if (!o.spec?.podDisruptionBudget) err(o, 'no podDisruptionBudget');
    const limits = o.spec?.resources?.limits ?? {};
    const requests = o.spec?.resources?.requests ?? {};
    if (!limits.memory || !requests.cpu || !requests.memory) err(o, 'resources need requests (cpu, memory) and a memory limit');
    if (o.spec?.podSecurityContext?.runAsNonRoot !== true) err(o, 'podSecurityContext.runAsNonRoot is not true');
    const pitr = o.spec?.pointInTimeRecoveryRef?.name;
    const pitrDoc = docs.find((d) => d.kind === 'PointInTimeRecovery' && d.metadata.name === pitr);
    if (!pitrDoc) err(o, 'no PointInTimeRecovery (binlog archiving) referenced');
    else if (!docs.some((d) => d.kind === 'PhysicalBackup' && d.metadata.name === pitrDoc.spec?.physicalBackupRef?.name)) {
      err(pitrDoc, 'its physicalBackupRef names no PhysicalBackup');
    }
    if (!o.spec?.rootPasswordSecretKeyRef?.name) err(o, 'no rootPasswordSecretKeyRef');
  }

  // ---- Namespace-wide default deny -------------------------------------------------------
  const defaultDeny = policies.find(
    (p) =>
      isEmptySelector(p.spec?.podSelector) &&
      ['Ingress', 'Egress'].every((t) => (p.spec?.policyTypes ?? []).includes(t)) &&
      !(p.spec?.ingress ?? []).length &&
      !(p.spec?.egress ?? []).length,
  );
  if (!defaultDeny) errors.push(`${overlay}: no default-deny NetworkPolicy (empty podSelector, Ingress+Egress, no rules)`);

  // ---- Workloads ------------------------------------------------------------------------
  const podOwners = []; // [{o, labels}] for the network-policy and PDB checks
  for (const o of docs.filter((d) => WORKLOAD_KINDS.has(d.kind))) {
    const tpl = podTemplate(o);
    const spec = tpl?.spec;
    if (!spec) {
      err(o, 'no pod template');
      continue;
    }
    const labels = tpl.metadata?.labels ?? {};
    podOwners.push({ o, labels });
    const longRunning = LONG_RUNNING.has(o.kind);

    if (spec.automountServiceAccountToken !== false) err(o, 'automountServiceAccountToken is not false');
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) err(o, 'uses the host network, PID or IPC namespace');
    for (const v of spec.volumes ?? []) if (v.hostPath) err(o, `volume ${v.name} is a hostPath`);
    const podSc = spec.securityContext ?? {};
    if (podSc.runAsUser === 0) err(o, 'runs as UID 0');
    if (podSc.runAsNonRoot !== true) err(o, 'pod securityContext.runAsNonRoot is not true');
    if (!['RuntimeDefault', 'Localhost'].includes(podSc.seccompProfile?.type)) {
      err(o, 'pod securityContext.seccompProfile is not RuntimeDefault');
    }

    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    for (const c of containers) {
      const where = `${overlay} ${id(o)} container ${c.name}`;
      const cerr = (msg) => errors.push(`${where}: ${msg}`);
      const isInit = (spec.initContainers ?? []).includes(c);
      const sc = c.securityContext ?? {};
      if (sc.runAsNonRoot === false || sc.runAsUser === 0) cerr('runs as root');
      if (sc.privileged) cerr('is privileged');
      if (sc.allowPrivilegeEscalation !== false) cerr('allowPrivilegeEscalation is not false');
      if (sc.readOnlyRootFilesystem !== true) cerr('readOnlyRootFilesystem is not true');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) cerr('does not drop ALL capabilities');
      if ((sc.capabilities?.add ?? []).length) cerr(`adds capabilities ${sc.capabilities.add}`);
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (!c.resources?.[kind]?.[r]) cerr(`no ${r} ${kind.replace(/s$/, '')}`);
        }
      }
      if (!c.image) cerr('no image');
      else {
        const tag = imageTag(c.image);
        if (!tag || tag === 'latest' || tag === 'unset') cerr(`image ${c.image} is not pinned to a tag or digest`);
      }
      if (longRunning && !isInit) {
        if (!c.readinessProbe) cerr('no readinessProbe');
        if (!c.livenessProbe) cerr('no livenessProbe');
      }

      const env = containerEnv(c, configMaps, errors, where);
      const args = expandArgs(c, env, errors, where);
      const grpcPort = (c.ports ?? []).find((p) => p.name === 'grpc');

      // Graceful termination: the kubelet must not kill a pod before it has drained.
      const drain = flag(args, 'drain_timeout');
      if (drain !== undefined) {
        const drainS = durationSeconds(drain);
        const cmd = c.lifecycle?.preStop?.exec?.command ?? [];
        const sleepS = c.lifecycle?.preStop?.sleep?.seconds ??
          (/(^|\/)sleep$/.test(cmd[0] ?? '') ? Number(cmd[1]) : 0);
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        // The server's own lame duck (default 2 s) runs before the drain, after the preStop.
        const lameDuck = flag(args, 'lame_duck') ?? '2s';
        const lameS = durationSeconds(lameDuck);
        if (Number.isNaN(drainS)) cerr(`--drain_timeout=${drain} is not a duration`);
        else if (Number.isNaN(lameS)) cerr(`--lame_duck=${lameDuck} is not a duration`);
        else if (!(grace > drainS + lameS + sleepS)) {
          cerr(`terminationGracePeriodSeconds ${grace} <= preStop sleep ${sleepS}s + --lame_duck ${lameS}s + --drain_timeout ${drainS}s`);
        }
        if (longRunning && !sleepS) cerr('no preStop sleep: endpoints may still route to a draining pod');
      }

      // No plaintext gRPC listener where TLS is required.
      if (tlsRequired && grpcPort && !isInit) {
        for (const f of ['tls_cert_file', 'tls_key_file', 'tls_client_ca_file']) {
          const value = flag(args, f);
          if (!value) {
            cerr(`serves gRPC without --${f}`);
            continue;
          }
          const mount = (c.volumeMounts ?? []).find((m) => value.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
          const volume = mount && (spec.volumes ?? []).find((v) => v.name === mount.name);
          if (!volume?.secret && !volume?.projected) cerr(`--${f}=${value} is not mounted from a Secret`);
        }
        if (!['true', '1'].includes(flag(args, 'tls_require_client_cert'))) {
          cerr('serves gRPC without --tls_require_client_cert (mTLS)');
        }
        if (flag(args, 'enable_reflection') !== 'false') cerr('serves gRPC reflection (--enable_reflection=false)');
        for (const p of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          if (c[p]?.grpc) cerr(`${p} is a kubelet gRPC probe, which cannot present a client certificate`);
        }
      }
      // A service that calls others (it signs tokens with --service_key_file) must call them
      // over TLS: --peer_tls_ca_file, mounted from a Secret (its client certificate is
      // --tls_cert_file, checked above).
      if (tlsRequired && !isInit && flag(args, 'service_key_file')) {
        const value = flag(args, 'peer_tls_ca_file');
        if (!value) cerr('calls other services in plaintext (no --peer_tls_ca_file)');
        else {
          const mount = (c.volumeMounts ?? []).find((m) => value.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
          const volume = mount && (spec.volumes ?? []).find((v) => v.name === mount.name);
          if (!volume?.secret && !volume?.projected) cerr(`--peer_tls_ca_file=${value} is not mounted from a Secret`);
        }
      }
    }

    if (longRunning) {
      const pdb = pdbs.find((p) => matchesSelector(p.spec?.selector, labels));
      if (!pdb) err(o, 'no PodDisruptionBudget selects its pods');
    }
    if (o.kind === 'Deployment') {
      const hpa = hpas.find((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === o.metadata.name);
      if (!hpa) err(o, 'no HorizontalPodAutoscaler');
      else {
        if (o.spec?.replicas !== undefined) err(o, 'sets spec.replicas although an HPA owns the replica count');
        if ((hpa.spec.minReplicas ?? 1) > hpa.spec.maxReplicas) err(hpa, 'minReplicas > maxReplicas');
        if (tlsRequired) {
          // Production: at least three replicas, spread across nodes.
          if ((hpa.spec.minReplicas ?? 1) < 3) err(hpa, `minReplicas ${hpa.spec.minReplicas ?? 1} < 3`);
          const spread = (o.spec.template.spec.topologySpreadConstraints ?? []).some(
            (t) => t.topologyKey === 'kubernetes.io/hostname' && matchesSelector(t.labelSelector, labels),
          );
          const anti = [
            ...(o.spec.template.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
            ...(o.spec.template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
              (w) => w.podAffinityTerm,
            ),
          ].some((t) => t.topologyKey === 'kubernetes.io/hostname' && matchesSelector(t.labelSelector, labels));
          if (!spread && !anti) err(o, 'replicas are not spread across nodes');
        }
      }
    }
  }
  for (const o of docs.filter((d) => OPERATOR_POD_LABELS[d.kind])) {
    podOwners.push({ o, labels: OPERATOR_POD_LABELS[o.kind](o) });
  }

  // ---- Network policies select every pod ---------------------------------------------------
  for (const { o, labels } of podOwners) {
    const own = policies.filter((p) => !isEmptySelector(p.spec?.podSelector) && matchesSelector(p.spec.podSelector, labels));
    if (!own.length) err(o, 'no NetworkPolicy selects its pods (beyond the namespace-wide ones)');
  }
  // A policy that selects nothing is a typo.
  for (const p of policies) {
    if (isEmptySelector(p.spec?.podSelector)) continue;
    if (!podOwners.some(({ labels }) => matchesSelector(p.spec.podSelector, labels))) {
      err(p, 'selects no pod of these manifests');
    }
  }

  // ---- Services name their gRPC port -------------------------------------------------------
  for (const s of byKind('Service')) {
    const target = podOwners.find(({ labels }) => s.spec?.selector && matchesSelector({ matchLabels: s.spec.selector }, labels));
    if (!target) {
      err(s, 'selects no pod of these manifests');
      continue;
    }
    const servesGrpc = (podTemplate(target.o)?.spec?.containers ?? []).some((c) => (c.ports ?? []).some((p) => p.name === 'grpc'));
    if (servesGrpc && !(s.spec.ports ?? []).some((p) => p.name === 'grpc')) err(s, 'no port named grpc');
  }

  return errors;
}

// The Secrets the manifests reference (volumes, env, custom resources): what an operator must
// create before applying.
export function referencedSecrets(docs) {
  const names = new Set();
  const walk = (v, key) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') {
      if (typeof v.secretName === 'string') names.add(v.secretName);
      if (key === 'secretKeyRef' || /SecretKeyRef$/.test(key ?? '')) if (v.name) names.add(v.name);
      if (key === 'secretRef' && v.name) names.add(v.name);
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  for (const o of docs) {
    if (o.kind === 'Certificate') continue; // cert-manager creates its Secret
    walk(o, undefined);
  }
  return [...names].sort();
}
