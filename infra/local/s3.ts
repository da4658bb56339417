import { mkdirSync } from "node:fs";
import { join } from "node:path";
import S3rver, { type S3rverMiddleware } from "s3rver";

/** s3rver in-process, storing objects under `<dir>/s3`. Bodies must be sent as Buffers (see design.md). */
export async function startS3rver(dir: string, port: number) {
  const directory = join(dir, "s3");
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port, address: "127.0.0.1", directory, silent: true });
  // Before s3rver's router (the last middleware), after its XML encoding of object bodies.
  server.middleware.splice(server.middleware.length - 1, 0, listVersionsUnversioned);
  await server.run();
  return server;
}

/**
 * s3rver keeps no object versions and answers ListObjectVersions (`GET /<bucket>?versions`) with 405. The
 * local stack answers it as S3 does for a bucket that was never versioned: every object once, as its only
 * and latest version, with version id "null". So code that lists versions runs unchanged here, but a
 * replaced object cannot be shown locally; the cloud buckets are versioned (asserted on the template).
 */
const listVersionsUnversioned: S3rverMiddleware = async (ctx, next) => {
  const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
  if (ctx.method !== "GET" || !bucket || !("versions" in ctx.query)) return next();
  const prefix = ctx.query.prefix ?? "";
  const keyMarker = ctx.query["key-marker"] ?? "";
  const maxKeys = Math.min(1000, Number(ctx.query["max-keys"] ?? 1000));
  const { objects, isTruncated } = await ctx.store.listObjects(bucket, {
    prefix,
    startAfter: keyMarker,
    maxKeys,
  });
  ctx.body = {
    ListVersionsResult: {
      "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
      Name: bucket,
      Prefix: prefix,
      KeyMarker: keyMarker,
      VersionIdMarker: "",
      MaxKeys: maxKeys,
      IsTruncated: isTruncated,
      ...(isTruncated && { NextKeyMarker: objects.at(-1)?.key, NextVersionIdMarker: "null" }),
      Version: objects.map((object) => ({
        Key: object.key,
        VersionId: "null",
        IsLatest: true,
        LastModified: object.lastModifiedDate.toISOString(),
        ETag: object.metadata.etag,
        Size: object.size,
        StorageClass: "STANDARD",
      })),
    },
  };
};
