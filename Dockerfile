FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
# The audit checkpoint file's folder (a volume in docker-compose.yml), writable by the broker only.
RUN mkdir -p /var/lib/jit-checkpoints && chown node:node /var/lib/jit-checkpoints && chmod 700 /var/lib/jit-checkpoints
USER node
CMD ["npm", "start"]
