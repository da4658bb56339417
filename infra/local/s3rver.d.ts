declare module "s3rver" {
  /** The slice of s3rver's Koa context and filesystem store the local stack's additions use. */
  export type S3rverObject = {
    key: string;
    size: number;
    lastModifiedDate: Date;
    metadata: { etag?: string };
  };
  export type S3rverContext = {
    method: string;
    path: string;
    query: Record<string, string | undefined>;
    body: unknown;
    store: {
      listObjects(
        bucket: string,
        options: { prefix?: string; startAfter?: string; maxKeys?: number },
      ): Promise<{ objects: S3rverObject[]; isTruncated: boolean }>;
    };
  };
  export type S3rverMiddleware = (context: S3rverContext, next: () => Promise<void>) => Promise<void>;

  export default class S3rver {
    constructor(options: { port: number; address: string; directory: string; silent?: boolean });
    /** Koa's middleware stack, composed when the server starts. */
    middleware: S3rverMiddleware[];
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
