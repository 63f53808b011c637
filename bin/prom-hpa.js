#!/usr/bin/env node
// Runs the built CLI (npm run build); during development use `npx tsx src/cli.ts`.
import "../dist/cli.js";
