import { randomBytes } from "node:crypto";
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  SetUserMFAPreferenceCommand,
  SetUserPoolMfaConfigCommand,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import {
  CreateTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import { DeleteCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { TOTP } from "otpauth";
import { changeKey } from "../../shared/access";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { IDENTITY_QUEUE, ORG_REGISTRY, orgRegistryItem, userItem } from "../../shared/people";
import { BUCKETS, type BucketName, TABLES, type TableName, USER_POOL } from "../resources";

/**
 * Creates the tables, buckets and user pool of `infra/resources.ts` in the local services. Idempotent.
 * Returns the tables it created (those that did not exist yet).
 */
export async function provisionTables(names: Record<TableName, string>): Promise<TableName[]> {
  const created: TableName[] = [];
  const existing = new Set((await aws("dynamo").send(new ListTablesCommand({}))).TableNames ?? []);
  for (const [logical, table] of Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]) {
    const name = names[logical];
    const stream = "stream" in table ? { StreamEnabled: true, StreamViewType: table.stream } : undefined;
    if (existing.has(name)) {
      // A table made before it had a stream (data kept in .local across versions) gets one now.
      const described = await aws("dynamo").send(new DescribeTableCommand({ TableName: name }));
      if (stream && !described.Table?.StreamSpecification?.StreamEnabled)
        await aws("dynamo").send(new UpdateTableCommand({ TableName: name, StreamSpecification: stream }));
      // And one made before tables were protected gets its deletion protection.
      if (!described.Table?.DeletionProtectionEnabled)
        await aws("dynamo").send(
          new UpdateTableCommand({ TableName: name, DeletionProtectionEnabled: true }),
        );
      continue;
    }
    const attributes = new Map<string, "S" | "N">();
    const keys = [table.partitionKey, ...("sortKey" in table ? [table.sortKey] : [])];
    const indexes = "indexes" in table ? table.indexes : [];
    for (const key of [...keys, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])]) {
      attributes.set(key.name, key.type);
    }
    await aws("dynamo").send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        // As a retained stage's tables are (infra/cloud/lifecycle.ts): the local stack keeps its data across runs.
        DeletionProtectionEnabled: true,
        ...(stream && { StreamSpecification: stream }),
        AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
          AttributeName,
          AttributeType,
        })),
        KeySchema: [
          { AttributeName: table.partitionKey.name, KeyType: "HASH" },
          ...("sortKey" in table ? [{ AttributeName: table.sortKey.name, KeyType: "RANGE" as const }] : []),
        ],
        ...(indexes.length > 0 && {
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: "HASH" },
              { AttributeName: index.sortKey.name, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          })),
        }),
      }),
    );
    if ("timeToLive" in table)
      await aws("dynamo").send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: table.timeToLive, Enabled: true },
        }),
      );
    created.push(logical);
  }
  return created;
}

/**
 * Where an item of the records table from before the directory table had its own lives now: the people
 * (users, invitations, bootstrap markers, the org registry, Cognito's sync queue) under the same key,
 * held changes in their org's partition of changes; undefined for everything else (client records).
 */
function directoryKeyOf(item: Record<string, unknown>): { pk: string; sk: string } | undefined {
  const { pk, sk } = item as { pk: string; sk: string };
  if (pk === ORG_REGISTRY || pk === IDENTITY_QUEUE) return { pk, sk };
  const org = /^ORG#([^#]+)$/.exec(pk)?.[1];
  if (!org) return undefined;
  if (sk.startsWith("CHANGE#")) return changeKey(org, sk.slice("CHANGE#".length));
  return /^(USER#|INVITE#|BOOTSTRAP)/.test(sk) ? { pk, sk } : undefined;
}

/**
 * A `.local` made before the directory table kept its people in the records table. When `npm start` has
 * just created the directory table next to an existing records table, they move over (each copied, then
 * deleted from the records table), so a restart keeps everyone who could sign in. Returns how many moved.
 */
export async function moveDirectoryOutOfRecords(names: Record<TableName, string>): Promise<number> {
  let moved = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await aws("dynamo").send(
      new ScanCommand({ TableName: names.records, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const key = directoryKeyOf(item);
      if (!key) continue;
      await aws("dynamo").send(new PutCommand({ TableName: names.directory, Item: { ...item, ...key } }));
      await aws("dynamo").send(
        new DeleteCommand({ TableName: names.records, Key: { pk: item.pk, sk: item.sk } }),
      );
      moved++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return moved;
}

export async function provisionBuckets(names: Record<BucketName, string>): Promise<void> {
  for (const logical of Object.keys(BUCKETS) as BucketName[]) {
    const Bucket = names[logical];
    const exists = await aws("s3")
      .send(new HeadBucketCommand({ Bucket }))
      .then(() => true)
      .catch(() => false);
    if (!exists) await aws("s3").send(new CreateBucketCommand({ Bucket }));
  }
}

export async function provisionUserPool(name: string): Promise<{ userPoolId: string; clientId: string }> {
  const cognito = aws("cognito");
  const pool = await cognito.send(
    new CreateUserPoolCommand({
      PoolName: name,
      UsernameAttributes: ["email"],
      // MFA is switched ON after the demo users have enrolled TOTP (cognito-local has no MFA_SETUP challenge).
      MfaConfiguration: "OFF",
      Policies: {
        PasswordPolicy: {
          MinimumLength: USER_POOL.passwordPolicy.minLength,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      Schema: Object.entries(USER_POOL.customAttributes).map(([attribute, spec]) => ({
        Name: attribute,
        AttributeDataType: "String",
        Mutable: spec.mutable,
        StringAttributeConstraints: { MinLength: String(spec.minLen), MaxLength: String(spec.maxLen) },
      })),
    }),
  );
  const userPoolId = pool.UserPool?.Id;
  if (!userPoolId) throw new Error("CreateUserPool returned no id");
  const client = await cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: `${name}-app`,
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      // Stored, as the cloud's are; cognito-local does not enforce them (UpdateUserAttributes ignores them).
      ReadAttributes: [...USER_POOL.appClient.readAttributes],
      WriteAttributes: [...USER_POOL.appClient.writeAttributes],
      IdTokenValidity: USER_POOL.tokenValidityMinutes.id,
      AccessTokenValidity: USER_POOL.tokenValidityMinutes.access,
      RefreshTokenValidity: USER_POOL.refreshTokenValidityMinutes,
      TokenValidityUnits: { IdToken: "minutes", AccessToken: "minutes", RefreshToken: "minutes" },
    }),
  );
  const clientId = client.UserPoolClient?.ClientId;
  if (!clientId) throw new Error("CreateUserPoolClient returned no id");
  for (const group of USER_POOL.groups) {
    await cognito.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
  }
  return { userPoolId, clientId };
}

export type DemoUser = {
  email: string;
  role: Role;
  orgId: string;
  password: string;
  totpSecret: string;
  userId: string;
  /** The Cognito username (immutable; what every Admin* call takes). */
  username: string;
  lead?: string;
};

/** `lead` puts a coach on that lead's team. */
export const DEMO_USERS: readonly Pick<DemoUser, "email" | "role" | "orgId" | "lead">[] = [
  { email: "admin@demo.example", role: "admin", orgId: "demo" },
  { email: "lead@demo.example", role: "coach_lead", orgId: "demo" },
  { email: "coach1@demo.example", role: "coach", orgId: "demo", lead: "lead@demo.example" },
  { email: "coach2@demo.example", role: "coach", orgId: "demo" },
  { email: "compliance@demo.example", role: "compliance_officer", orgId: "demo" },
  { email: "admin@other.example", role: "admin", orgId: "other" },
  { email: "coach@other.example", role: "coach", orgId: "other" },
  { email: "compliance@other.example", role: "compliance_officer", orgId: "other" },
  // The smoke test's org (`npm run smoke -- --stage local`), kept apart from every other org's data.
  { email: "admin@smoke.example", role: "admin", orgId: "smoke" },
  { email: "coach@smoke.example", role: "coach", orgId: "smoke" },
];

/** A password meeting the pool policy: 20 random characters plus one of each required class. */
export const newPassword = () => `${randomBytes(15).toString("base64url")}aA1!`;

export const totpFor = (secret: string) => new TOTP({ secret, algorithm: "SHA1", digits: 6, period: 30 });

/** Creates each demo user with a password and an enrolled TOTP device, then makes MFA required. */
export async function seedUsers(userPoolId: string, clientId: string): Promise<DemoUser[]> {
  const cognito = aws("cognito");
  const users: DemoUser[] = [];
  for (const spec of DEMO_USERS) {
    const password = newPassword();
    const created = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: spec.email,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: spec.email },
          { Name: "email_verified", Value: "true" },
          { Name: "custom:orgId", Value: spec.orgId },
        ],
      }),
    );
    const username = created.User?.Username;
    const userId = created.User?.Attributes?.find((attribute) => attribute.Name === "sub")?.Value;
    if (!username || !userId) throw new Error("AdminCreateUser returned no username or sub");
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
    await cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: spec.role }),
    );
    const auth = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: spec.email, PASSWORD: password },
      }),
    );
    const accessToken = auth.AuthenticationResult?.AccessToken;
    if (!accessToken) throw new Error("demo user sign-in before MFA enrolment failed");
    const association = await cognito.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
    const totpSecret = association.SecretCode;
    if (!totpSecret) throw new Error("AssociateSoftwareToken returned no secret");
    await cognito.send(
      new VerifySoftwareTokenCommand({
        AccessToken: accessToken,
        UserCode: totpFor(totpSecret).generate(),
        FriendlyDeviceName: "demo authenticator",
      }),
    );
    await cognito.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }),
    );
    users.push({ ...spec, password, totpSecret, userId, username });
  }
  await cognito.send(
    new SetUserPoolMfaConfigCommand({
      UserPoolId: userPoolId,
      MfaConfiguration: USER_POOL.mfa,
      SoftwareTokenMfaConfiguration: { Enabled: true },
    }),
  );
  return users;
}

/** The user directory entries for the demo users (the API reads them on every request). */
export async function seedDirectory(users: readonly DemoUser[], table: string): Promise<void> {
  const now = new Date().toISOString();
  for (const user of users) {
    const leadId = users.find((candidate) => candidate.email === user.lead)?.userId;
    await aws("dynamo").send(
      new PutCommand({
        TableName: table,
        Item: userItem({
          userId: user.userId,
          username: user.username,
          orgId: user.orgId,
          email: user.email,
          role: user.role,
          status: "active",
          ...(leadId && { leadId }),
          version: 1,
          createdAt: now,
          updatedAt: now,
        }),
      }),
    );
    await aws("dynamo").send(new PutCommand({ TableName: table, Item: orgRegistryItem(user.orgId) }));
  }
}
