/**
 * The audit trail's security events (the CDK alarms on any `securityEvent` a function logs):
 * `AUDIT_TAMPER_DETECTED` for an audit item changed or removed, or a chain that contradicts what the
 * live witness saw; `AUDIT_CHAIN_BROKEN` for an item that does not fit its chain (or is no chain's), and
 * for a chain a writer found unusable.
 */
export const AUDIT_TAMPER_DETECTED = "AUDIT_TAMPER_DETECTED";
export const AUDIT_CHAIN_BROKEN = "AUDIT_CHAIN_BROKEN";
