import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";

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

export async function loadClient(orgId: string, clientId: string): Promise<ClientRecord | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: clientKey(orgId, clientId),
      ConsistentRead: true,
    }),
  );
  return out.Item as ClientRecord | undefined;
}
