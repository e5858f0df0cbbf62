import { invalid, notFound } from "@chat4all/kernel";
import { Client, CopyDestinationOptions, CopySourceOptions } from "minio";
import type { BlobStore } from "./blob-store.ts";
import { checkKey } from "./object-key.ts";

/** Configuration of the cluster BlobStore (MinIO or any S3). */
export interface MinioBlobStoreConfig {
  /** e.g. "http://127.0.0.1:9000": presigned URLs point here, so clients must reach it directly. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** Default "us-east-1" (set it so presigning never asks the server for the bucket's region). */
  region?: string;
}

const S3_CLIENT_ERRORS: Record<string, [string, string]> = {
  NoSuchUpload: ["not_found", "NO_SUCH_UPLOAD"],
  InvalidPart: ["invalid", "INVALID_PART"],
  InvalidPartOrder: ["invalid", "INVALID_PART_ORDER"],
  EntityTooSmall: ["invalid", "ENTITY_TOO_SMALL"],
  MalformedXML: ["invalid", "INVALID_PART"],
};

/** S3 errors a client caused become domain errors; anything else is wrapped with context. */
function rethrow(what: string, err: unknown): never {
  const code = (err as { code?: string })?.code ?? "";
  const mapped = S3_CLIENT_ERRORS[code];
  if (mapped) {
    const [kind, c] = mapped;
    throw kind === "not_found" ? notFound(c, `${what}: ${code}`) : invalid(c, `${what}: ${code}`);
  }
  throw new Error(`minio: ${what}`, { cause: err });
}

/** Cluster BlobStore on MinIO/S3: every byte goes directly between clients and the storage through presigned URLs. */
export function createMinioBlobStore(config: MinioBlobStoreConfig): BlobStore {
  const url = new URL(config.endpoint);
  const useSSL = url.protocol === "https:";
  const region = config.region ?? "us-east-1";
  const bucket = config.bucket;
  const client = new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region,
    pathStyle: true,
  });

  return {
    async init() {
      try {
        if (await client.bucketExists(bucket)) return;
        await client.makeBucket(bucket, region);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "BucketAlreadyOwnedByYou" || code === "BucketAlreadyExists") return;
        rethrow(`create bucket ${bucket}`, err);
      }
    },

    async presignPost(p) {
      if (!(p.minSize >= 0 && p.maxSize >= p.minSize && p.expiresSec > 0)) throw invalid("INVALID_POLICY", "bad size range or expiry");
      checkKey(p.key);
      const policy = client.newPostPolicy();
      policy.setBucket(bucket);
      policy.setKey(p.key);
      policy.setContentType(p.contentType);
      policy.setContentLengthRange(p.minSize, p.maxSize);
      policy.setExpires(new Date(Date.now() + p.expiresSec * 1000));
      try {
        const { postURL, formData } = await client.presignedPostPolicy(policy);
        return { url: postURL, fields: formData };
      } catch (err) {
        rethrow(`presign POST ${p.key}`, err);
      }
    },

    async presignGet(key, expiresSec, opts) {
      const headers: Record<string, string> = {};
      if (opts?.contentDisposition) headers["response-content-disposition"] = opts.contentDisposition;
      try {
        return await client.presignedGetObject(bucket, key, expiresSec, headers);
      } catch (err) {
        rethrow(`presign GET ${key}`, err);
      }
    },

    async stat(key) {
      try {
        const s = await client.statObject(bucket, key);
        return { size: s.size, contentType: String(s.metaData["content-type"] ?? "application/octet-stream") };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "NotFound" || code === "NoSuchKey") return null;
        rethrow(`stat ${key}`, err);
      }
    },

    async copy(from, to) {
      checkKey(to);
      try {
        await client.copyObject(new CopySourceOptions({ Bucket: bucket, Object: from }), new CopyDestinationOptions({ Bucket: bucket, Object: to }));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "NoSuchKey" || code === "NotFound") throw notFound("NO_SUCH_OBJECT", `no object ${from}`);
        rethrow(`copy ${from} to ${to}`, err);
      }
    },

    async createMultipart(key, contentType) {
      checkKey(key);
      try {
        return await client.initiateNewMultipartUpload(bucket, key, { "Content-Type": contentType });
      } catch (err) {
        rethrow(`create multipart upload ${key}`, err);
      }
    },

    async presignPart(key, uploadId, partNumber, expiresSec) {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw invalid("INVALID_PART_NUMBER", "part number must be 1..10000");
      try {
        return await client.presignedUrl("PUT", bucket, key, expiresSec, { partNumber: String(partNumber), uploadId });
      } catch (err) {
        rethrow(`presign part ${partNumber} of ${key}`, err);
      }
    },

    async completeMultipart(key, uploadId, parts) {
      if (parts.length === 0) throw invalid("INVALID_PART", "no parts");
      try {
        await client.completeMultipartUpload(bucket, key, uploadId, parts.map((p) => ({ part: p.partNumber, etag: p.etag })));
      } catch (err) {
        rethrow(`complete multipart upload ${key}`, err);
      }
    },

    async abortMultipart(key, uploadId) {
      try {
        await client.abortMultipartUpload(bucket, key, uploadId);
      } catch (err) {
        if ((err as { code?: string }).code === "NoSuchUpload") return;
        rethrow(`abort multipart upload ${key}`, err);
      }
    },

    async delete(key) {
      try {
        await client.removeObject(bucket, key);
      } catch (err) {
        rethrow(`delete ${key}`, err);
      }
    },

    async healthy() {
      try {
        return await client.bucketExists(bucket);
      } catch {
        return false;
      }
    },

    async close() {},
  };
}
