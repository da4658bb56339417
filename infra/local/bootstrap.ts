import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { bootstrapOrgAdmin } from "../../functions/users/bootstrap";
import { newPassword } from "./provision";
import { endpointsFile, readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run bootstrap -- --org <orgId> --email <address> [--cloud]`: creates an org's first admin (see
 * `functions/users/bootstrap.ts`). Against the local stack (`.local/endpoints.json`) by default; with
 * `--cloud`, against the resources named in the environment with the caller's AWS credentials, where
 * Cognito emails the temporary password. cognito-local sends no email, so locally the temporary password
 * is printed here, once, on stdout. Either way the first sign-in sets a new password and enrols TOTP.
 * Exit 0 when created; 1 when refused (invalid arguments, the org already has an admin, the address
 * already has an account); 2 when it cannot run.
 */
const USAGE = "usage: npm run bootstrap -- --org <orgId> --email <address> [--cloud]";

let values: { org?: string; email?: string; dir?: string; cloud?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      org: { type: "string" },
      email: { type: "string" },
      dir: { type: "string", default: ".local" },
      cloud: { type: "boolean", default: false },
    },
  }));
} catch {
  console.error(USAGE);
  process.exit(1);
}

try {
  if (!values.org || !values.email) {
    console.error(USAGE);
    process.exit(1);
  }
  const dir = values.dir ?? ".local";
  if (!values.cloud) {
    if (!existsSync(endpointsFile(dir)))
      throw new Error("no local stack found (start it with npm start, or pass --cloud)");
    useLocalStack(readEndpoints(dir));
  }
  const temporaryPassword = values.cloud ? undefined : newPassword();
  const result = await bootstrapOrgAdmin(
    { orgId: values.org, email: values.email },
    temporaryPassword ? { temporaryPassword } : {},
  );
  if (result.outcome === "refused") {
    console.error(`refused: ${result.reason}`);
    process.exit(1);
  }
  console.log(`first admin of ${values.org} created (user ${result.userId})`);
  console.log(
    temporaryPassword
      ? `temporary password (shown once; the local stack sends no email): ${temporaryPassword}`
      : "Cognito has emailed a temporary password to the address",
  );
  console.log("at first sign-in: set a new password, then enrol an authenticator app (TOTP)");
  if (!result.synced)
    console.log("Cognito has not taken the admin group yet: the identitySync job applies it within minutes");
} catch (error) {
  console.error(error instanceof Error ? error.message : "bootstrap failed");
  process.exit(2);
}
