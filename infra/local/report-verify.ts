import { createPublicKey, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { type VerificationProblem, verifyReportDocuments } from "../../shared/compliance/signature";
import { trustedSigningKeys } from "../../shared/signing";
import { readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run report:verify -- <file.json> [--public-key <pem>]`: checks a compliance report's signature
 * (`<file>.sig` beside it: ECDSA P-256 over the JSON's canonical text, by a trusted signing key) and its
 * HTML (`<file>.html` beside it: the SHA-256 the JSON holds). The trusted keys are the local stack's
 * signing keys (KMS GetPublicKey, `--dir`, default `.local`), or the PEM public key given, so an auditor
 * checks a report with nothing but the key's public half.
 * Exit 0 when valid; 1 when not, saying why; 2 when it cannot run.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: "string", default: ".local" },
    "public-key": { type: "string" },
    org: { type: "string" },
  },
});

const PROBLEMS: Readonly<Record<VerificationProblem | "missing", string>> = {
  missing: "its .sig or .html file is missing",
  "signature-document": "the JSON or the signature document cannot be read",
  "not-canonical": "the JSON is not stored as its canonical text (it was reformatted or changed)",
  "other-report":
    "it is a genuine report, but not this one (its id is not the file's name, or another org's)",
  "untrusted-key": "it names a signing key that is not trusted here",
  digest: "the JSON is not the document the signature covers (it was changed)",
  signature: "the signature does not verify over the canonical JSON",
  html: "the HTML beside it is not the one whose SHA-256 the signed JSON holds (it was changed)",
};

/** The key a signature must verify under: the PEM given (whatever key id the signature names), else the stack's. */
async function trustedKeys(): Promise<(keyId: string) => KeyObject | undefined> {
  const pem = values["public-key"];
  if (pem) {
    const key = createPublicKey(readFileSync(pem));
    return () => key;
  }
  useLocalStack(readEndpoints(values.dir ?? ".local"));
  const keys = await trustedSigningKeys();
  return (keyId) => keys.get(keyId);
}

const file = positionals[0];
if (!file?.endsWith(".json") || !existsSync(file)) {
  console.error("usage: npm run report:verify -- <report.json> [--org <orgId>] [--public-key <pem>]");
  process.exit(2);
}
const base = file.slice(0, -".json".length);
let keys: (keyId: string) => KeyObject | undefined;
try {
  keys = await trustedKeys();
} catch (error) {
  console.error(
    `cannot read the trusted signing keys: ${error instanceof Error ? error.message : "unknown error"}`,
  );
  process.exit(2);
}
const problem: VerificationProblem | "missing" | undefined =
  existsSync(`${base}.sig`) && existsSync(`${base}.html`)
    ? verifyReportDocuments(
        {
          json: readFileSync(file, "utf8"),
          html: readFileSync(`${base}.html`),
          sig: readFileSync(`${base}.sig`, "utf8"),
        },
        keys,
        // The file's name is the report's id; `--org` names the org it must belong to.
        { reportId: basename(base), ...(values.org && { orgId: values.org }) },
      )
    : "missing";
if (problem) {
  console.log(`INVALID: ${file}: ${PROBLEMS[problem]}.`);
  process.exit(1);
}
console.log(`VALID: ${file}: signature verified over the canonical JSON, and the HTML matches its SHA-256.`);
