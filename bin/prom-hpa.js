#!/usr/bin/env node
// The installed entry point: runs the built CLI (npm run build). During development: npx tsx src/cli.ts.
import { runCli } from "../dist/cli.js";

await runCli(process.argv);
