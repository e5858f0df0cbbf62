/** Ephemeral key of a user's live connections (members: `<instance>/<connection>`, each with a TTL). */
export const presenceKey = (userId: string) => `presence:${userId}`;
