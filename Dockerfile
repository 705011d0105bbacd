# One image for the API, the workers and the one-shot migration (docker-compose.yml picks the command).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The root postinstall patches postgres.js (scripts/patch-postgres.mjs) and fails the build if it cannot.
COPY scripts/patch-postgres.mjs scripts/build-cli.mjs ./scripts/
# tsx runs the TypeScript sources directly (the CLI runs compiled, below); dev tools (drizzle-kit, vitest, eslint) stay out of the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY drizzle ./drizzle
COPY worker.ts tsconfig.json ./
# The compiled CLI (dist/cli): `npm ci` above ran before the sources were here.
RUN node scripts/build-cli.mjs
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
