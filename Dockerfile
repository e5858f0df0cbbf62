# One image for every app; the command picks the app (apps/<name>/src/main.ts).
FROM oven/bun:1 AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
RUN bun install --frozen-lockfile --production

FROM oven/bun:1
WORKDIR /app
COPY --from=deps /app /app
ENV C4A_MODE=cluster C4A_HOST=0.0.0.0
USER bun
CMD ["bun", "apps/gateway/src/main.ts"]
