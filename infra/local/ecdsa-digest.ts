import { type KeyObject, randomBytes } from "node:crypto";

/**
 * ECDSA P-256 over a digest the caller already computed: what KMS `Sign` does with `MessageType: DIGEST`
 * (a message over KMS's 4 KB limit for RAW is signed that way). Node's `crypto.sign` always hashes what it
 * is given, so the local KMS signs digests here, with plain BigInt arithmetic (one signature at a time, a
 * local stand-in: not constant-time, never used with a production key). The signature is DER, as KMS's,
 * and `crypto.verify("sha256", message, publicKey, signature)` accepts it for the message hashed.
 */
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
type Point = { x: bigint; y: bigint } | undefined;

const mod = (value: bigint, m: bigint) => ((value % m) + m) % m;
function power(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}
const inverse = (value: bigint, m: bigint) => power(value, m - 2n, m);

function add(p: Point, q: Point): Point {
  if (!p) return q;
  if (!q) return p;
  if (p.x === q.x && mod(p.y + q.y, P) === 0n) return undefined;
  const slope =
    p.x === q.x && p.y === q.y
      ? mod((3n * p.x * p.x + A) * inverse(2n * p.y, P), P)
      : mod((q.y - p.y) * inverse(q.x - p.x, P), P);
  const x = mod(slope * slope - p.x - q.x, P);
  return { x, y: mod(slope * (p.x - x) - p.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBigInt = (bytes: Buffer) => BigInt(`0x${bytes.toString("hex") || "0"}`);

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, "hex");
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** Signs a 32-byte SHA-256 digest with a P-256 private key; the DER-encoded signature. */
export function signDigest(digest: Buffer, privateKey: KeyObject): Buffer {
  if (digest.length !== 32) throw new Error("a SHA-256 digest is 32 bytes");
  const d = toBigInt(Buffer.from(String(privateKey.export({ format: "jwk" }).d), "base64url"));
  const z = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(32)), N);
    if (k === 0n) continue;
    const r = mod((multiply(k, G) as { x: bigint }).x, N);
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}
