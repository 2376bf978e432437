# The tradeflow app image: the same code runs as the API (default) or the worker (see docker-compose.yml).
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Node itself comes from the base image, so the `node` devDependency (and the other dev tools) are omitted.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "server/main.ts"]
