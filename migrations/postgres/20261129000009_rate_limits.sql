-- Attempts at the public forms per client address and minute, shared by every server
-- process. Addresses are kept only as keyed hashes, and for two minutes at most.
CREATE TABLE rate_limit_hits (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_hits_window ON rate_limit_hits (window_start);
