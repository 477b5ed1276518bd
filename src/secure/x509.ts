/**
 * X.509 issuance with ECDSA P-256 keys. node-forge can only sign RSA certificates, so forge is
 * used as the DER encoder (its ASN.1 module) and Node's crypto generates keys and signs: a
 * P-256 key pair takes well under a millisecond where RSA-2048 takes tens, and TLS handshakes
 * with P-256 are cheaper too. Parsing and verification use Node's X509Certificate.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export interface CertificateRequest {
  /** Subject organisation and common name (informational: identity lives in the URI SAN). */
  readonly organization: string;
  readonly commonName: string;
  /** URI SANs, e.g. one SPIFFE ID. */
  readonly uris: readonly string[];
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA certificate may sign others; a leaf is for TLS client and server authentication. */
  readonly isCa: boolean;
}

export interface Signer {
  readonly organization: string;
  readonly commonName: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Signs `request` with `signer` (pass the request's own key pair for a self-signed root); returns PEM. */
export function issueCertificate(request: CertificateRequest, signer: Signer): string {
  const signatureAlgorithm = seq([oid(OID.ecdsaWithSha256)]);
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [integer(Buffer.from([2]))]),
    integer(serialNumber()),
    signatureAlgorithm,
    name(signer.organization, signer.commonName),
    seq([time(request.notBefore), time(request.notAfter)]),
    name(request.organization, request.commonName),
    subjectPublicKeyInfo(request.publicKey),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions(request, signer))]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, signer.privateKey);
  const certificate = seq([tbs, signatureAlgorithm, bitString(signature)]);
  return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(certificate).getBytes() });
}

function extensions(request: CertificateRequest, signer: Signer): Asn1[] {
  const list: Asn1[] = [
    extension(OID.basicConstraints, true, seq(request.isCa ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff')] : [])),
    // CA: digitalSignature, keyCertSign, cRLSign; leaf: digitalSignature (ECDHE key exchange).
    extension(OID.keyUsage, true, request.isCa ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(request.publicKey))),
    extension(OID.authorityKeyIdentifier, false, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier(signer.publicKey).toString('binary'))])),
  ];
  if (!request.isCa) list.push(extension(OID.extKeyUsage, false, seq([oid(OID.serverAuth), oid(OID.clientAuth)])));
  if (request.uris.length > 0) {
    const uris = request.uris.map((uri) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, uri));
    list.push(extension(OID.subjectAltName, false, seq(uris)));
  }
  return list;
}

/** SHA-1 of the public key, as RFC 5280 §4.2.1.2 suggests; links a certificate to its issuer. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(derOf(publicKey)).digest();
}

function derOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 §4.1.2.2). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

/** Built from the key's coordinates rather than re-parsed from Node's DER. */
function subjectPublicKeyInfo(publicKey: KeyObject): Asn1 {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) throw new Error('expected a P-256 public key');
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return seq([seq([oid(OID.ecPublicKey), oid(OID.prime256v1)]), bitString(point)]);
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const parts: Asn1[] = [oid(id)];
  if (critical) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
  parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()));
  return seq(parts);
}

function name(organization: string, commonName: string): Asn1 {
  const attribute = (type: string, value: string): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
    seq([oid(type), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(value))]),
  ]);
  return seq([attribute(OID.organization, organization), attribute(OID.commonName, commonName)]);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function seq(value: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
}

function oid(id: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

function integer(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes.toString('binary'));
}

function octetString(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

function bitString(bytes: Buffer, unusedBits = 0): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(unusedBits) + bytes.toString('binary'));
}
