/** Password hashing with argon2id (Bun.password); verification is constant-time in the hash library. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real verify, for logins of unknown users (no username oracle). */
  verifyDummy(password: string): Promise<false>;
}

/** argon2id with the given cost (memory KiB, iterations); defaults follow OWASP's minimum (19 MiB, t=2). */
export function createPasswordHasher(opts: { memoryCost?: number; timeCost?: number } = {}): PasswordHasher {
  const params = { algorithm: "argon2id" as const, memoryCost: opts.memoryCost ?? 19_456, timeCost: opts.timeCost ?? 2 };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => Bun.password.hash(password, params),
    async verify(password, hash) {
      try {
        return await Bun.password.verify(password, hash, "argon2id");
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      dummy ??= Bun.password.hash("not-a-real-password-for-timing", params);
      await Bun.password.verify(password, await dummy, "argon2id").catch(() => false);
      return false;
    },
  };
}
