#!/usr/bin/env bash
# `npm run helm -- ARGS`: builds the pinned helm when missing (scripts/helm/build.sh), then runs it.
set -euo pipefail
helm=$(bash "$(dirname "$0")/build.sh")
exec "$helm" "$@"
