import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
} from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signDigest } from "./ecdsa-digest";
import { ServiceError, startJsonProtocolServer } from "./json-protocol";

/**
 * Local stand-in for the KMS operations CoachVault uses (GenerateDataKey, Encrypt, Decrypt, Sign,
 * GetPublicKey, and CreateKey for tests that need a key of their own, such as a forger's; DescribeKey and
 * the key rotation operations for the compliance checks), speaking
 * KMS's JSON protocol so production code runs unchanged against it. Key material lives in
 * `<dir>/kms/keys.json`. It binds ciphertexts to their encryption context as KMS does.
 */
/**
 * `rotation`: automatic rotation's period in days, or false. The stage's keys are made rotating, as the CDK
 * app's are (`enableKeyRotation`); a key made by CreateKey is not, as in KMS. The stand-in only records the
 * setting: it never rotates material (KMS keeps old material for decryption anyway).
 */
type SymmetricKey = { spec: "SYMMETRIC_DEFAULT"; material: string; rotation?: number | false };
type SigningKey = { spec: "ECC_NIST_P256"; privateKeyPem: string };
type KeyStore = { keys: Record<string, SymmetricKey | SigningKey>; aliases: Record<string, string> };

export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_KEY_ALIASES = {
  data: "alias/coachvault-local-data",
  auditSigning: "alias/coachvault-local-audit-signing",
};

const MAGIC = Buffer.from("CVK1");

/** KMS's default and bounds for a key's rotation period. */
const ROTATION_DAYS = { default: 365, min: 90, max: 2560 };

const newKey = (spec: "SYMMETRIC_DEFAULT" | "ECC_NIST_P256"): SymmetricKey | SigningKey =>
  spec === "SYMMETRIC_DEFAULT"
    ? { spec, material: randomBytes(32).toString("base64") }
    : {
        spec,
        privateKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
      };

const saveStore = (file: string, store: KeyStore) =>
  writeFileSync(file, JSON.stringify(store, null, 2), { mode: 0o600 });

function loadStore(file: string): KeyStore {
  const store: KeyStore = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as KeyStore)
    : (() => {
        const dataKey = randomUUID();
        const signingKey = randomUUID();
        return {
          keys: { [dataKey]: newKey("SYMMETRIC_DEFAULT"), [signingKey]: newKey("ECC_NIST_P256") },
          aliases: { [LOCAL_KEY_ALIASES.data]: dataKey, [LOCAL_KEY_ALIASES.auditSigning]: signingKey },
        };
      })();
  // The stage's symmetric keys rotate, as the CDK app's do; one whose rotation was set (even off) keeps it.
  for (const id of Object.values(store.aliases)) {
    const key = store.keys[id];
    if (key?.spec === "SYMMETRIC_DEFAULT" && key.rotation === undefined) key.rotation = ROTATION_DAYS.default;
  }
  saveStore(file, store);
  return store;
}

const contextAad = (context: unknown) => {
  const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) =>
    a < b ? -1 : 1,
  );
  return Buffer.from(JSON.stringify(entries));
};

export async function startLocalKms(dir: string, port: number, region: string) {
  mkdirSync(join(dir, "kms"), { recursive: true });
  const file = join(dir, "kms", "keys.json");
  const store = loadStore(file);
  const arn = (id: string) => `arn:aws:kms:${region}:${LOCAL_ACCOUNT}:key/${id}`;

  const resolve = (keyRef: unknown) => {
    const ref = String(keyRef ?? "");
    const aliasName = ref.includes(":alias/") ? ref.slice(ref.indexOf("alias/")) : ref;
    const id = store.aliases[aliasName] ?? (ref.includes(":key/") ? ref.split(":key/")[1] : ref);
    const key = id ? store.keys[id] : undefined;
    if (!id || !key) throw new ServiceError("NotFoundException", "key not found");
    return { id, key };
  };
  const symmetric = (keyRef: unknown) => {
    const { id, key } = resolve(keyRef);
    if (key.spec !== "SYMMETRIC_DEFAULT")
      throw new ServiceError("InvalidKeyUsageException", "key cannot encrypt");
    return { id, material: Buffer.from(key.material, "base64") };
  };

  const encrypt = (keyRef: unknown, plaintext: Buffer, context: unknown) => {
    const { id, material } = symmetric(keyRef);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", material, iv);
    cipher.setAAD(contextAad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const idBytes = Buffer.from(id);
    const blob = Buffer.concat([
      MAGIC,
      Buffer.from([idBytes.length]),
      idBytes,
      iv,
      body,
      cipher.getAuthTag(),
    ]);
    return { CiphertextBlob: blob.toString("base64"), KeyId: arn(id) };
  };

  const decrypt = (input: Record<string, unknown>) => {
    const blob = Buffer.from(String(input.CiphertextBlob ?? ""), "base64");
    if (blob.length < 34 || !blob.subarray(0, 4).equals(MAGIC))
      throw new ServiceError("InvalidCiphertextException", "");
    const idLength = blob[4] ?? 0;
    const id = blob.subarray(5, 5 + idLength).toString();
    if (input.KeyId !== undefined && symmetric(input.KeyId).id !== id) {
      throw new ServiceError("IncorrectKeyException", "the ciphertext was not made under this key");
    }
    const { material } = symmetric(id);
    const rest = blob.subarray(5 + idLength);
    try {
      const decipher = createDecipheriv("aes-256-gcm", material, rest.subarray(0, 12));
      decipher.setAAD(contextAad(input.EncryptionContext));
      decipher.setAuthTag(rest.subarray(rest.length - 16));
      const plaintext = Buffer.concat([
        decipher.update(rest.subarray(12, rest.length - 16)),
        decipher.final(),
      ]);
      return {
        Plaintext: plaintext.toString("base64"),
        KeyId: arn(id),
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    } catch {
      throw new ServiceError("InvalidCiphertextException", "");
    }
  };

  const metadata = (id: string, key: SymmetricKey | SigningKey) => ({
    KeyId: id,
    Arn: arn(id),
    AWSAccountId: LOCAL_ACCOUNT,
    KeySpec: key.spec,
    KeyUsage: key.spec === "SYMMETRIC_DEFAULT" ? "ENCRYPT_DECRYPT" : "SIGN_VERIFY",
    Enabled: true,
    KeyState: "Enabled",
    KeyManager: "CUSTOMER",
    Origin: "AWS_KMS",
    ...(key.spec === "ECC_NIST_P256" && { SigningAlgorithms: ["ECDSA_SHA_256"] }),
  });

  /** Rotation applies to symmetric keys only: KMS refuses it on asymmetric ones. */
  const rotatable = (keyRef: unknown) => {
    const { id, key } = resolve(keyRef);
    if (key.spec !== "SYMMETRIC_DEFAULT")
      throw new ServiceError("UnsupportedOperationException", "asymmetric keys do not rotate");
    return { id, key };
  };
  const setRotation = (keyRef: unknown, rotation: number | false) => {
    const { key } = rotatable(keyRef);
    key.rotation = rotation;
    saveStore(file, store);
    return {};
  };

  const signing = (keyRef: unknown) => {
    const { id, key } = resolve(keyRef);
    if (key.spec !== "ECC_NIST_P256") throw new ServiceError("InvalidKeyUsageException", "key cannot sign");
    return { id, privateKey: createPrivateKey(key.privateKeyPem) };
  };

  const server = await startJsonProtocolServer(
    "TrentService",
    {
      GenerateDataKey: (input) => {
        const bytes = input.KeySpec === "AES_128" ? 16 : Number(input.NumberOfBytes ?? 32);
        if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024)
          throw new ServiceError("ValidationException", "");
        const plaintext = randomBytes(bytes);
        return {
          ...encrypt(input.KeyId, plaintext, input.EncryptionContext),
          Plaintext: plaintext.toString("base64"),
        };
      },
      Encrypt: (input) =>
        encrypt(input.KeyId, Buffer.from(String(input.Plaintext ?? ""), "base64"), input.EncryptionContext),
      Decrypt: decrypt,
      Sign: (input) => {
        const { id, privateKey } = signing(input.KeyId);
        if (input.SigningAlgorithm !== "ECDSA_SHA_256") throw new ServiceError("ValidationException", "");
        const message = Buffer.from(String(input.Message ?? ""), "base64");
        const type = input.MessageType ?? "RAW";
        // As KMS: a RAW message is at most 4 KB (KMS hashes it); a larger one is signed as its DIGEST.
        if (type === "RAW" && message.length > 4096)
          throw new ServiceError("ValidationException", "Message longer than 4096 bytes: use DIGEST");
        if (type === "DIGEST" && message.length !== 32)
          throw new ServiceError("ValidationException", "Digest length does not match ECDSA_SHA_256");
        if (type !== "RAW" && type !== "DIGEST") throw new ServiceError("ValidationException", "MessageType");
        const signature =
          type === "DIGEST"
            ? signDigest(message, privateKey)
            : sign("sha256", message, { key: privateKey, dsaEncoding: "der" });
        return { KeyId: arn(id), Signature: signature.toString("base64"), SigningAlgorithm: "ECDSA_SHA_256" };
      },
      CreateKey: (input) => {
        const spec = String(input.KeySpec ?? "SYMMETRIC_DEFAULT");
        const usage = String(input.KeyUsage ?? "ENCRYPT_DECRYPT");
        const supported =
          (spec === "SYMMETRIC_DEFAULT" && usage === "ENCRYPT_DECRYPT") ||
          (spec === "ECC_NIST_P256" && usage === "SIGN_VERIFY");
        if (!supported)
          throw new ServiceError("UnsupportedOperationException", "key spec not served locally");
        const id = randomUUID();
        store.keys[id] = newKey(spec as "SYMMETRIC_DEFAULT" | "ECC_NIST_P256");
        saveStore(file, store);
        return { KeyMetadata: metadata(id, store.keys[id] as SymmetricKey | SigningKey) };
      },
      DescribeKey: (input) => {
        const { id, key } = resolve(input.KeyId);
        return { KeyMetadata: metadata(id, key) };
      },
      GetKeyRotationStatus: (input) => {
        const { id, key } = rotatable(input.KeyId);
        return {
          KeyId: arn(id),
          KeyRotationEnabled: key.rotation !== undefined && key.rotation !== false,
          ...(key.rotation && { RotationPeriodInDays: key.rotation }),
        };
      },
      EnableKeyRotation: (input) => {
        const days = Number(input.RotationPeriodInDays ?? ROTATION_DAYS.default);
        if (!Number.isInteger(days) || days < ROTATION_DAYS.min || days > ROTATION_DAYS.max)
          throw new ServiceError("ValidationException", "RotationPeriodInDays out of range");
        return setRotation(input.KeyId, days);
      },
      DisableKeyRotation: (input) => setRotation(input.KeyId, false),
      GetPublicKey: (input) => {
        const { id, privateKey } = signing(input.KeyId);
        const publicKey = createPublicKey(privateKey).export({ type: "spki", format: "der" });
        return {
          KeyId: arn(id),
          PublicKey: publicKey.toString("base64"),
          KeySpec: "ECC_NIST_P256",
          KeyUsage: "SIGN_VERIFY",
          SigningAlgorithms: ["ECDSA_SHA_256"],
        };
      },
    },
    port,
  );
  return { server, dataKeyId: LOCAL_KEY_ALIASES.data, auditSigningKeyId: LOCAL_KEY_ALIASES.auditSigning };
}
