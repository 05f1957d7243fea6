CREATE DATABASE IF NOT EXISTS lg;

CREATE TABLE IF NOT EXISTS lg.traces (
    externalId String,
    seq UInt64,
    timestamp DateTime,
    timestampMs Int64,
    integration String,
    name String,
    userId String,
    sessionId String,
    agent String,
    status String,
    model String,
    durationMs Nullable(Float64),
    tokensInput Nullable(Float64),
    tokensOutput Nullable(Float64),
    tokensTotal Nullable(Float64),
    cost Nullable(Float64),
    violations UInt32,
    stale UInt8,
    incomplete UInt8,
    tags Array(String),
    input String,
    output String,
    metadata String
) ENGINE = ReplacingMergeTree(seq)
PARTITION BY toYYYYMM(timestamp)
ORDER BY externalId;

CREATE TABLE IF NOT EXISTS lg.violations (
    violationId String,
    externalId String,
    seq UInt64,
    traceTimestamp DateTime,
    traceTimestampMs Int64,
    integration String,
    agent String,
    policy String,
    name String,
    category String,
    severity String,
    status String,
    message String,
    detectedAt String,
    acknowledgedAt String,
    resolvedAt String,
    resolution String,
    notes String,
    evidence String
) ENGINE = ReplacingMergeTree(seq)
PARTITION BY toYYYYMM(traceTimestamp)
ORDER BY (externalId, violationId);
