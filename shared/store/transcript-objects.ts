import { GetObjectCommand } from "@aws-sdk/client-s3";
import { aws } from "../aws";
import { getConfig } from "../config";

/**
 * A transcript object's stored bytes, or undefined when the object is gone (replaced since its record was
 * read, or lost). S3 answers a missing key with 404 NoSuchKey, or with 403 AccessDenied to a caller without
 * s3:ListBucket (no function has it): either way, there is no object to return.
 */
export async function readTranscriptObject(key: string): Promise<Buffer | undefined> {
  try {
    const object = await aws("s3").send(
      new GetObjectCommand({ Bucket: getConfig().BUCKET_TRANSCRIPTS, Key: key }),
    );
    return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || (status === 403 && name === "AccessDenied") || status === 404)
      return undefined;
    throw error;
  }
}
