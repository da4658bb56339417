/**
 * How DynamoDB numbers are read back: as the SDK reads them by default (a number, or a BigInt for an
 * integer beyond 2^53), except that a number neither holds exactly, which only a hand-made item can
 * carry (a non-integer beyond 2^53, such as 1e30 or 12345678901234567890.5), reads as the nearest number
 * instead of failing the whole read. Readers of the audit trail name such an item; they never choke on it.
 */
export function readNumber(text: string): number | bigint {
  const value = Number(text);
  if (!Number.isFinite(value) || Math.abs(value) <= Number.MAX_SAFE_INTEGER) return value;
  try {
    return BigInt(text);
  } catch {
    return value;
  }
}
