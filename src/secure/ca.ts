/**
 * The mesh root CA: creation, rotation and retirement, as files in a folder (local mode) or the
 * same file set as the keys of a Secret (cluster mode).
 *
 * Rotation never drops traffic: `rotate` makes a new root the signer and keeps the old one in the
 * trust bundle, so certificates signed by either verify; agents pick up the bundle on reload and
 * re-issue at their next renewal. `retire` drops the old root once every certificate it signed
 * has expired (one certificate lifetime after the rotation).
 */
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLOCK_SKEW_MS, DEFAULT_CERT_LIFETIME_MS, ROOT_LIFETIME_MS } from './defaults.js';
import { isValidTrustDomain, uriSans } from './spiffe.js';
import { generateKeyPair, issueCertificate, type Signer } from './x509.js';

/** File names in the CA folder, and keys of the CA Secret. */
export const CA_FILES = {
  cert: 'ca.crt',
  key: 'ca.key',
  previousCert: 'ca-previous.crt',
} as const;

export interface MeshCa {
  readonly trustDomain: string;
  /** The root that signs new certificates. */
  readonly cert: X509Certificate;
  readonly certPem: string;
  readonly privateKey: KeyObject;
  /** The root being retired after a rotation, still trusted; null otherwise. */
  readonly previousCert: X509Certificate | null;
  readonly previousCertPem: string | null;
}

export class CaError extends Error {
  override readonly name = 'CaError';
}

/** PEM roots every peer certificate must chain to: the signing root, then the one being retired. */
export function trustBundle(ca: MeshCa): string[] {
  return ca.previousCertPem === null ? [ca.certPem] : [ca.certPem, ca.previousCertPem];
}

/** A fresh root for `trustDomain`; its URI SAN `spiffe://<trust-domain>` records the domain. */
export function createRootCa(trustDomain: string, now: Date = new Date()): MeshCa {
  if (!isValidTrustDomain(trustDomain)) {
    throw new CaError(`invalid trust domain "${trustDomain}": use lowercase letters, digits, '.', '-', '_'`);
  }
  const keys = generateKeyPair();
  const serial = randomBytes(4).toString('hex');
  const signer: Signer = { organization: 'plexus', commonName: `plexus mesh root ${serial}`, ...keys };
  const certPem = issueCertificate({
    organization: signer.organization,
    commonName: signer.commonName,
    uris: [`spiffe://${trustDomain}`],
    publicKey: keys.publicKey,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
    isCa: true,
  }, signer);
  return { trustDomain, cert: new X509Certificate(certPem), certPem, privateKey: keys.privateKey, previousCert: null, previousCertPem: null };
}

/** The signer a CA issues with (its subject names and keys). */
export function caSigner(ca: MeshCa): Signer {
  return {
    organization: subjectField(ca.cert, 'O'),
    commonName: subjectField(ca.cert, 'CN'),
    privateKey: ca.privateKey,
    publicKey: createPublicKey(ca.privateKey),
  };
}

/** Parses the CA file set (from a folder or a Secret's data); throws CaError naming the bad file. */
export function caFromFiles(files: Readonly<Record<string, string | undefined>>, source: string): MeshCa {
  const certPem = files[CA_FILES.cert];
  const keyPem = files[CA_FILES.key];
  if (certPem === undefined || keyPem === undefined) {
    throw new CaError(`${source}: no CA here (expected ${CA_FILES.cert} and ${CA_FILES.key}; create one with 'plexus ca init')`);
  }
  const cert = parseCert(certPem, `${source}/${CA_FILES.cert}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new CaError(`${source}/${CA_FILES.key}: not a private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(privateKey)) throw new CaError(`${source}: ${CA_FILES.key} does not belong to ${CA_FILES.cert}`);
  if (!cert.ca) throw new CaError(`${source}/${CA_FILES.cert}: not a CA certificate`);
  const trustDomain = uriSans(cert.subjectAltName).map((uri) => /^spiffe:\/\/([^/]+)$/.exec(uri)?.[1]).find((td) => td !== undefined);
  if (trustDomain === undefined) throw new CaError(`${source}/${CA_FILES.cert}: no spiffe://<trust-domain> URI; not a Plexus CA`);
  const previousPem = files[CA_FILES.previousCert] ?? null;
  const previousCert = previousPem === null ? null : parseCert(previousPem, `${source}/${CA_FILES.previousCert}`);
  return { trustDomain, cert, certPem, privateKey, previousCert, previousCertPem: previousPem };
}

/** The CA file set: what `loadCa` reads back (also the data of the CA Secret). */
export function caToFiles(ca: MeshCa): Record<string, string> {
  const files: Record<string, string> = {
    [CA_FILES.cert]: ca.certPem,
    [CA_FILES.key]: ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  if (ca.previousCertPem !== null) files[CA_FILES.previousCert] = ca.previousCertPem;
  return files;
}

/** Rotation: a new signing root; the current one stays trusted until `retireRoot`. */
export function rotateRoot(ca: MeshCa, now: Date = new Date()): MeshCa {
  if (ca.previousCert !== null) {
    throw new CaError('a rotation is already in progress: retire the old root first (plexus ca retire)');
  }
  const next = createRootCa(ca.trustDomain, now);
  return { ...next, previousCert: ca.cert, previousCertPem: ca.certPem };
}

export interface RetireOptions {
  readonly now?: Date;
  /** Retire even though certificates signed by the old root may still be in use. */
  readonly force?: boolean;
  /** How long certificates signed by the old root may live; default 24 h. */
  readonly certLifetimeMs?: number;
}

export function retireRoot(ca: MeshCa, options: RetireOptions = {}): MeshCa {
  if (ca.previousCert === null) throw new CaError('no old root to retire: run plexus ca rotate first');
  const now = options.now ?? new Date();
  // The new root's notBefore is the rotation time minus the skew allowance.
  const rotatedAt = new Date(ca.cert.validFrom).getTime() + CLOCK_SKEW_MS;
  const safeAt = rotatedAt + (options.certLifetimeMs ?? DEFAULT_CERT_LIFETIME_MS);
  if (!options.force && now.getTime() < safeAt) {
    throw new CaError(`certificates signed by the old root may still be in use until ${new Date(safeAt).toISOString()}; `
      + 'retiring it now would refuse them (use --force to retire anyway)');
  }
  return { ...ca, previousCert: null, previousCertPem: null };
}

/** Reads the CA folder. */
export async function loadCa(dir: string): Promise<MeshCa> {
  const files: Record<string, string | undefined> = {};
  for (const name of Object.values(CA_FILES)) files[name] = await readOptional(join(dir, name));
  return caFromFiles(files, dir);
}

export interface InitOptions {
  readonly trustDomain: string;
  /** Replace an existing CA (every certificate it signed stops verifying). */
  readonly force?: boolean;
  readonly now?: Date;
}

/** `plexus ca init`: a new CA in `dir` (created if missing). */
export async function initCaDir(dir: string, options: InitOptions): Promise<MeshCa> {
  if (!options.force && (await readOptional(join(dir, CA_FILES.cert))) !== undefined) {
    throw new CaError(`${dir} already holds a CA; replacing it breaks every certificate it signed `
      + '(use plexus ca rotate, or --force to replace it anyway)');
  }
  const ca = createRootCa(options.trustDomain, options.now);
  await writeCaDir(dir, ca);
  return ca;
}

/** `plexus ca rotate`. */
export async function rotateCaDir(dir: string, now?: Date): Promise<MeshCa> {
  const ca = rotateRoot(await loadCa(dir), now);
  await writeCaDir(dir, ca);
  return ca;
}

/** `plexus ca retire`. */
export async function retireCaDir(dir: string, options: RetireOptions = {}): Promise<MeshCa> {
  const ca = retireRoot(await loadCa(dir), options);
  await writeCaDir(dir, ca);
  return ca;
}

/**
 * Writes each file atomically (temp file, then rename) so an agent reloading mid-write never
 * sees half a key; the key is created 0600 from the start, certificates 0644.
 * The signing root is written last: until then the folder still holds the previous, consistent pair.
 */
async function writeCaDir(dir: string, ca: MeshCa): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const files = caToFiles(ca);
  if (ca.previousCertPem === null) {
    await rm(join(dir, CA_FILES.previousCert), { force: true });
  } else {
    await writeAtomic(dir, CA_FILES.previousCert, ca.previousCertPem, 0o644);
  }
  await writeAtomic(dir, CA_FILES.key, files[CA_FILES.key]!, 0o600);
  await writeAtomic(dir, CA_FILES.cert, files[CA_FILES.cert]!, 0o644);
}

async function writeAtomic(dir: string, name: string, content: string, mode: number): Promise<void> {
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, content, { mode, flag: 'wx' });
  await chmod(temp, mode); // the umask may have narrowed a 0644 certificate
  await rename(temp, join(dir, name));
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CaError(`${path}: ${(err as Error).message}`);
  }
}

function parseCert(pem: string, source: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CaError(`${source}: not a certificate (${(err as Error).message})`);
  }
}

function subjectField(cert: X509Certificate, field: 'O' | 'CN'): string {
  const line = cert.subject.split('\n').find((entry) => entry.startsWith(`${field}=`));
  if (line === undefined) throw new CaError(`CA certificate has no ${field} in its subject`);
  return line.slice(field.length + 1);
}
