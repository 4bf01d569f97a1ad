-- Load balancing: `targets` is the JSON of an endpoint's targets and strategy (NULL for
-- a single `url`, which otherwise holds the first target). `failed_over` lists the
-- targets an attempt tried before the one whose answer it records.
ALTER TABLE endpoints ADD COLUMN targets TEXT;
ALTER TABLE attempts ADD COLUMN failed_over TEXT;
