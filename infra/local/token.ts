import { parseArgs } from "node:util";
import { signIn } from "./sign-in";
import { readDemoUsers, readEndpoints, useLocalStack } from "./stack";

/** `npm run token -- <email>`: signs a demo user in (password + TOTP) and prints the ID token alone on stdout. */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: "string", default: ".local" } },
});
const email = positionals[0];
const dir = values.dir ?? ".local";
try {
  if (!email) throw new Error("usage: npm run token -- <email>");
  const endpoints = readEndpoints(dir);
  const user = readDemoUsers(dir).find((candidate) => candidate.email === email);
  if (!user) throw new Error("no such demo user (see .local/demo-users.json)");
  useLocalStack(endpoints);
  process.stdout.write(`${await signIn(endpoints.userPoolClientId, user)}\n`);
} catch (error) {
  console.error(error instanceof Error ? error.message : "sign-in failed");
  process.exit(1);
}
