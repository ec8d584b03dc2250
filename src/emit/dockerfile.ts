// The image `kiln emit argo` runs every task in: the project as committed, its dependencies installed from the lock
// file, and kiln on the PATH.
export const DOCKERFILE = `# The image for kiln emit argo (printed by kiln emit dockerfile). Build it from the project root:
#   docker build -t <registry>/<repository>:<git commit> .
# Keep .git in the build context (runs are stamped with its commit); leave node_modules and .kiln out (.dockerignore).
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
ENV PATH=/app/node_modules/.bin:$PATH NO_COLOR=1
ENTRYPOINT ["kiln"]
`;
