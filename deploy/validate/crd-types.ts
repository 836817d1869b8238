// Types of the custom resources deploy/ uses, for the offline schema check (validate.mjs):
// kubernetes-types covers only the built-in kinds. Each interface models the subset of the
// CRD's fields this repository may set, written from the projects' API references:
//   mariadb-operator: https://github.com/mariadb-operator/mariadb-operator/blob/main/docs/api_reference.md
//   cert-manager:     https://cert-manager.io/docs/reference/api-docs/
// A field missing here fails the check like a misspelt one: check the reference, then add it.
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type {
  Affinity,
  EnvVar,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  SecurityContext,
  Toleration,
  TopologySpreadConstraint,
} from 'kubernetes-types/core/v1';

// ---- k8s.mariadb.com/v1alpha1 (mariadb-operator) -------------------------------------------

interface SecretKeySelector {
  name: string;
  key: string;
}
interface GeneratedSecretKeyRef extends SecretKeySelector {
  generate?: boolean;
}
interface MariaDBRef {
  name: string;
  namespace?: string;
  waitForIt?: boolean;
}
interface AffinityConfig extends Pick<Affinity, 'podAntiAffinity' | 'nodeAffinity'> {
  antiAffinityEnabled?: boolean;
}
type CleanupPolicy = 'Skip' | 'Delete';
type Duration = string; // Go duration, e.g. "720h"

interface S3Storage {
  bucket: string;
  endpoint: string;
  prefix?: string;
  region?: string;
  accessKeyIdSecretKeyRef?: SecretKeySelector;
  secretAccessKeySecretKeyRef?: SecretKeySelector;
  sessionTokenSecretKeyRef?: SecretKeySelector;
  tls?: { enabled?: boolean; caSecretKeyRef?: SecretKeySelector };
  ssec?: { customerKeySecretKeyRef: SecretKeySelector };
}

interface GaleraSpec {
  enabled?: boolean;
  primary?: { podIndex?: number; autoFailover?: boolean };
  sst?: 'rsync' | 'mariabackup' | 'mysqldump';
  availableWhenDonor?: boolean;
  replicaThreads?: number;
  providerOptions?: { [key: string]: string };
  recovery?: {
    enabled?: boolean;
    minClusterSize?: number | string;
    clusterMonitorInterval?: Duration;
    clusterHealthyTimeout?: Duration;
    clusterBootstrapTimeout?: Duration;
    podRecoveryTimeout?: Duration;
    podSyncTimeout?: Duration;
  };
  config?: { reuseStorageVolume?: boolean };
}

interface ReplicationSpec {
  enabled?: boolean;
  primary?: { podIndex?: number; autoFailover?: boolean };
  replica?: { waitPoint?: 'AfterSync' | 'AfterCommit'; gtid?: 'CurrentPos' | 'SlavePos' };
  syncBinlog?: number;
}

export interface MariaDB {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'MariaDB';
  metadata: ObjectMeta;
  spec: {
    image?: string;
    imagePullPolicy?: 'Always' | 'Never' | 'IfNotPresent';
    rootPasswordSecretKeyRef: GeneratedSecretKeyRef;
    replicas: number;
    galera?: GaleraSpec;
    replication?: ReplicationSpec;
    storage: { size: string; storageClassName?: string; resizeInUseVolumes?: boolean };
    myCnf?: string;
    timeZone?: string;
    env?: EnvVar[];
    resources?: ResourceRequirements;
    podSecurityContext?: PodSecurityContext;
    securityContext?: SecurityContext;
    livenessProbe?: Probe;
    readinessProbe?: Probe;
    startupProbe?: Probe;
    affinity?: AffinityConfig;
    nodeSelector?: { [key: string]: string };
    tolerations?: Toleration[];
    topologySpreadConstraints?: TopologySpreadConstraint[];
    priorityClassName?: string;
    podDisruptionBudget?: { maxUnavailable?: number | string; minAvailable?: number | string };
    updateStrategy?: {
      type?: 'ReplicasFirstPrimaryLast' | 'RollingUpdate' | 'OnDelete' | 'Never';
      autoUpdateDataPlane?: boolean;
    };
    tls?: { enabled?: boolean; required?: boolean };
    metrics?: { enabled?: boolean };
    pointInTimeRecoveryRef?: { name: string };
  };
}

export interface Database {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'Database';
  metadata: ObjectMeta;
  spec: {
    name?: string;
    mariaDbRef: MariaDBRef;
    characterSet?: string;
    collate?: string;
    cleanupPolicy?: CleanupPolicy;
    requeueInterval?: Duration;
    retryInterval?: Duration;
  };
}

export interface User {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'User';
  metadata: ObjectMeta;
  spec: {
    name?: string;
    mariaDbRef: MariaDBRef;
    passwordSecretKeyRef: SecretKeySelector;
    host?: string;
    maxUserConnections?: number;
    cleanupPolicy?: CleanupPolicy;
    requeueInterval?: Duration;
    retryInterval?: Duration;
  };
}

export interface Grant {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'Grant';
  metadata: ObjectMeta;
  spec: {
    mariaDbRef: MariaDBRef;
    privileges: [string, ...string[]];
    database?: string;
    table?: string;
    username: string;
    host?: string;
    grantOption?: boolean;
    cleanupPolicy?: CleanupPolicy;
    requeueInterval?: Duration;
    retryInterval?: Duration;
  };
}

export interface PhysicalBackup {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'PhysicalBackup';
  metadata: ObjectMeta;
  spec: {
    mariaDbRef: MariaDBRef;
    schedule?: { cron: string; suspend?: boolean; immediate?: boolean };
    compression?: 'none' | 'bzip2' | 'gzip';
    maxRetention?: Duration;
    storage: { s3?: S3Storage };
    resources?: ResourceRequirements;
  };
}

export interface PointInTimeRecovery {
  apiVersion: 'k8s.mariadb.com/v1alpha1';
  kind: 'PointInTimeRecovery';
  metadata: ObjectMeta;
  spec: {
    physicalBackupRef: { name: string };
    storage: { s3?: S3Storage };
    compression?: 'none' | 'bzip2' | 'gzip';
    archiveTimeout?: Duration;
    strictMode?: boolean;
  };
}

// ---- cert-manager.io/v1 ----------------------------------------------------------------------

type KeyUsage =
  | 'signing'
  | 'digital signature'
  | 'content commitment'
  | 'key encipherment'
  | 'key agreement'
  | 'data encipherment'
  | 'cert sign'
  | 'crl sign'
  | 'encipher only'
  | 'decipher only'
  | 'any'
  | 'server auth'
  | 'client auth'
  | 'code signing'
  | 'email protection';

export interface Certificate {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: ObjectMeta;
  spec: {
    secretName: string;
    issuerRef: { name: string; kind?: 'Issuer' | 'ClusterIssuer'; group?: string };
    commonName?: string;
    dnsNames?: string[];
    ipAddresses?: string[];
    uris?: string[];
    usages?: KeyUsage[];
    duration?: Duration;
    renewBefore?: Duration;
    isCA?: boolean;
    privateKey?: {
      algorithm?: 'RSA' | 'ECDSA' | 'Ed25519';
      size?: number;
      encoding?: 'PKCS1' | 'PKCS8';
      rotationPolicy?: 'Never' | 'Always';
    };
    secretTemplate?: { annotations?: { [key: string]: string }; labels?: { [key: string]: string } };
  };
}
