#include <string.h>

#include "schema.h"

/* ReplacingMergeTree(seq): rows of one key collapse to the one of the
 * highest change sequence, at merges, or at once with FINAL (or argMax):
 * a batch shipped twice reads as once. */
static const char *const statements[] = {
	"CREATE DATABASE IF NOT EXISTS %s",
	"CREATE TABLE IF NOT EXISTS %s.traces (\n"
	"    externalId String,\n"
	"    seq UInt64,\n"
	"    timestamp DateTime,\n"
	"    timestampMs Int64,\n"
	"    integration String,\n"
	"    name String,\n"
	"    userId String,\n"
	"    sessionId String,\n"
	"    agent String,\n"
	"    status String,\n"
	"    model String,\n"
	"    durationMs Nullable(Float64),\n"
	"    tokensInput Nullable(Float64),\n"
	"    tokensOutput Nullable(Float64),\n"
	"    tokensTotal Nullable(Float64),\n"
	"    cost Nullable(Float64),\n"
	"    violations UInt32,\n"
	"    stale UInt8,\n"
	"    incomplete UInt8,\n"
	"    tags Array(String),\n"
	"    input String,\n"
	"    output String,\n"
	"    metadata String\n"
	") ENGINE = ReplacingMergeTree(seq)\n"
	"PARTITION BY toYYYYMM(timestamp)\n"
	"ORDER BY externalId",
	"CREATE TABLE IF NOT EXISTS %s.violations (\n"
	"    violationId String,\n"
	"    externalId String,\n"
	"    seq UInt64,\n"
	"    traceTimestamp DateTime,\n"
	"    traceTimestampMs Int64,\n"
	"    integration String,\n"
	"    agent String,\n"
	"    policy String,\n"
	"    name String,\n"
	"    category String,\n"
	"    severity String,\n"
	"    status String,\n"
	"    message String,\n"
	"    detectedAt String,\n"
	"    acknowledgedAt String,\n"
	"    resolvedAt String,\n"
	"    resolution String,\n"
	"    notes String,\n"
	"    evidence String\n"
	") ENGINE = ReplacingMergeTree(seq)\n"
	"PARTITION BY toYYYYMM(traceTimestamp)\n"
	"ORDER BY (externalId, violationId)",
};

size_t ship_schema_count(void)
{
	return sizeof statements / sizeof *statements;
}

int ship_schema_statement(lg_buf *out, size_t i, const char *db)
{
	const char *s = statements[i], *at = strstr(s, "%s");
	out->len = 0;
	return lg_buf_add(out, s, (size_t)(at - s)) || lg_buf_adds(out, db) || lg_buf_adds(out, at + 2) ? -1 : 0;
}
