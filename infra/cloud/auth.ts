import { Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  AccountRecovery,
  CfnLogDeliveryConfiguration,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  type StandardAttributesMask,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolEmail,
} from "aws-cdk-lib/aws-cognito";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { CfnLoggingConfiguration, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { resourceName, USER_POOL } from "../resources";
import { deployUnique, type Lifecycle } from "./lifecycle";
import { signInWebAcl } from "./waf";

/** Cognito's names of the standard attributes the app client lists, as CDK's mask keys. */
const STANDARD_ATTRIBUTES: Readonly<Record<string, keyof StandardAttributesMask>> = {
  email: "email",
  email_verified: "emailVerified",
  locale: "locale",
  zoneinfo: "timezone",
};

function clientAttributes(names: readonly string[]): ClientAttributes {
  const custom = names.filter((name) => name.startsWith("custom:"));
  const standard = names
    .filter((name) => !name.startsWith("custom:"))
    .map((name) => {
      const key = STANDARD_ATTRIBUTES[name];
      if (!key) throw new Error(`no CDK name for the standard attribute ${name}`);
      return [key, true] as const;
    });
  return new ClientAttributes()
    .withStandardAttributes(Object.fromEntries(standard))
    .withCustomAttributes(...custom);
}

/**
 * The user pool: invitation only, MFA (TOTP) required for everyone, threat protection enforcing (Cognito's
 * per-user lockout of repeated failed sign-ins, and adaptive blocking of risky ones: `FULL_FUNCTION`). The
 * per-IP limit in front of it is `SignInProtection`, in the stateless stack.
 * Invitations (the temporary password) go out through SES from `sesFromAddress` when the stage sets it (an
 * identity verified in SES in the stage's region); otherwise through Cognito's own email, which sends only
 * about 50 messages a day per account (README, "Deploy").
 */
/** Where the user auth events go: Cognito's vended-logs path (see the log group below). */
export const AUTH_EVENTS_LOG_GROUP_PREFIX = "/aws/vendedlogs/coachvault-";

export class Auth extends Construct {
  readonly userPool: UserPool;
  readonly appClient: UserPoolClient;
  /** Threat protection's user auth events (sign-ins, failed ones included), exported for the signal feed. */
  readonly authEvents: LogGroup;

  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: string;
      lifecycle: Lifecycle;
      sesFromAddress?: string | undefined;
      logs: { removal: RemovalPolicy };
    },
  ) {
    super(scope, id);
    const policy = USER_POOL.passwordPolicy;
    this.userPool = new UserPool(this, "Users", {
      // A display name only (Cognito pool names need not be unique): a retained pool never blocks a redeploy.
      userPoolName: resourceName(props.stage, "users"),
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: policy.minLength,
        requireLowercase: policy.requireLowercase,
        requireUppercase: policy.requireUppercase,
        requireDigits: policy.requireDigits,
        requireSymbols: policy.requireSymbols,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 12,
      },
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      email: props.sesFromAddress
        ? UserPoolEmail.withSES({ fromEmail: props.sesFromAddress, sesRegion: Stack.of(this).region })
        : UserPoolEmail.withCognito(),
      customAttributes: Object.fromEntries(
        Object.entries(USER_POOL.customAttributes).map(([name, spec]) => [
          name,
          new StringAttribute({ minLen: spec.minLen, maxLen: spec.maxLen, mutable: spec.mutable }),
        ]),
      ),
      deletionProtection: props.lifecycle.deletionProtection,
      removalPolicy: props.lifecycle.removalPolicy,
    });
    // Cognito delivers only to a log group NOT encrypted with KMS (CloudFormation's LogGroupArn: "must not be
    // encrypted with AWS Key Management Service"), so this one has CloudWatch Logs' own encryption at rest.
    // It holds user subs, IPs, event types and risk decisions, no PHI, and feeds the brute-force signals,
    // which need minutes of it: kept 30 days, not the year the other groups keep. Under /aws/vendedlogs/ so
    // Cognito's delivery uses the account's vended-logs policy, not one more statement in the account's
    // logs resource policy (5,120 characters at most); named per deployment like the WAF group, so a group
    // retained by a rolled-back first deploy never blocks the next.
    this.authEvents = new LogGroup(this, "UserAuthEvents", {
      logGroupName: `${AUTH_EVENTS_LOG_GROUP_PREFIX}${props.stage}-auth-events-${deployUnique(this)}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.logs.removal,
    });
    // Plus plan with threat protection: Cognito exports each user auth event (failed sign-ins by IP among
    // them); a subscription filter of the stateless stack turns the failures into security signals.
    new CfnLogDeliveryConfiguration(this, "AuthEventDelivery", {
      userPoolId: this.userPool.userPoolId,
      logConfigurations: [
        {
          eventSource: "userAuthEvents",
          logLevel: "INFO",
          cloudWatchLogsConfiguration: { logGroupArn: this.authEvents.logGroupArn },
        },
      ],
    });
    for (const group of USER_POOL.groups) {
      new CfnUserPoolGroup(this, `Group-${group}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group,
      });
    }
    this.appClient = this.userPool.addClient("App", {
      authFlows: { userSrp: true },
      // The app signs in through the API (SRP, then the TOTP challenge), never through a hosted UI: no OAuth
      // flow at all. Left unset, CDK would enable the code and implicit grants with https://example.com as
      // the callback and every scope, so anyone could send the pool's sign-in page to that address.
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // Users may not change their own email (nor anything the API relies on) with their access token.
      readAttributes: clientAttributes(USER_POOL.appClient.readAttributes),
      writeAttributes: clientAttributes(USER_POOL.appClient.writeAttributes),
      idTokenValidity: Duration.minutes(USER_POOL.tokenValidityMinutes.id),
      accessTokenValidity: Duration.minutes(USER_POOL.tokenValidityMinutes.access),
      refreshTokenValidity: Duration.minutes(USER_POOL.refreshTokenValidityMinutes),
    });
  }
}

/**
 * The user pool's own web ACL (waf.ts: a per-IP rate rule and managed groups), logged like the API's with
 * tokens and cookies redacted. In the stateless stack, with the API's: rules are tuned more often than the
 * pool changes, and the pool is reached by its handed-over ARN.
 */
export class SignInProtection extends Construct {
  /** The web ACL's ARN (the compliance report checks that it protects the user pool). */
  readonly webAclArn: string;

  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: string;
      userPoolArn: string;
      logsKey: IKey;
      logRetention: RetentionDays;
      logRemoval: RemovalPolicy;
    },
  ) {
    super(scope, id);
    const acl = signInWebAcl(this, "Waf", props.stage);
    this.webAclArn = acl.attrArn;
    new CfnWebACLAssociation(this, "WafAssociation", {
      resourceArn: props.userPoolArn,
      webAclArn: acl.attrArn,
    });
    // WAF requires its log group's name to start with aws-waf-logs- (the logs key admits this one: keys.ts).
    const logs = new LogGroup(this, "WafLogs", {
      logGroupName: `aws-waf-logs-coachvault-${props.stage}-sign-in-${deployUnique(this)}`,
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.logRemoval,
    });
    new CfnLoggingConfiguration(this, "WafLogging", {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [logs.logGroupArn],
      redactedFields: [{ singleHeader: { Name: "authorization" } }, { singleHeader: { Name: "cookie" } }],
    });
  }
}
