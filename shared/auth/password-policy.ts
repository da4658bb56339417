/**
 * The user pool's password policy: the CDK app and the local pool are made with it (infra/resources.ts
 * `USER_POOL`), and the compliance report checks the live pool against it (§164.308(a)(5)(ii)(D)).
 */
export const PASSWORD_POLICY = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
} as const;
