#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// The node options above are how every plexus process runs (src/cli/launch.ts;
// docs/performance.md, "How the agent is launched").
import '../dist/src/cli/bin.js';
