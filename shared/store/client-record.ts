import { recordsWithPrefix } from "./query";
import { getRecord } from "./records";

/** How a client (data subject) is stored: metadata in clear, each PHI field sealed under the client's key. */
export type ClientRecord = {
  pk: string;
  sk: string;
  clientId: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  /** The coaches assigned to the client: the relationship every access decision starts from. */
  coaches: string[];
  phi: Record<string, string>;
};

export const clientKey = (orgId: string, clientId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `CLIENT#${clientId}`,
});

export function loadClient(orgId: string, clientId: string): Promise<ClientRecord | undefined> {
  return getRecord<ClientRecord>(clientKey(orgId, clientId));
}

/**
 * A coach's assignment items (one per client, `ASSIGN#<coachId>#<clientId>`) let a coach list their
 * clients; the client item's `coaches` list is what access is decided on, and the two never disagree.
 */
export const assignmentPrefix = (coachId: string) => `ASSIGN#${coachId}#`;

export async function assignedClientIds(orgId: string, coachId: string): Promise<string[]> {
  const assignments = await recordsWithPrefix<{ clientId: string }>(orgId, assignmentPrefix(coachId));
  return assignments.map((assignment) => assignment.clientId);
}
