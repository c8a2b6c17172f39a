#!/usr/bin/env bash
# Memory per idle, authenticated PostgreSQL client: bench/idle.sh --protocol postgres (kept for
# the commands written in docs/performance-log.md before session 12).
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/idle.sh" --protocol postgres "$@"
