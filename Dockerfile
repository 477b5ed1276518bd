# The Plexus agent image: `docker build -t ghcr.io/plexus-mesh/plexus:0.1.0 .` from a clean clone.

# Build: install exactly the locked dependencies, compile, then drop the dev dependencies.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` script would compile before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Only the program: tests and benchmarks are not in the image (tsconfig.src.json).
RUN npm run build:src \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 0755 bin/plexus.js

# Runtime: the compiled program and its production dependencies, owned by root, run as non-root.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /opt/plexus
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
# `plexus demo` runs the example shop from here.
COPY --from=build /src/examples ./examples
RUN ln -s /opt/plexus/bin/plexus.js /usr/local/bin/plexus
# 65532: the conventional "nonroot" uid; numeric so Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 9901
ENTRYPOINT ["plexus"]
CMD ["agent"]
