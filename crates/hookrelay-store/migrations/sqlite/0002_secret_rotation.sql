-- The signing secret replaced by a rotation keeps signing until its grace period ends.
ALTER TABLE endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at INTEGER;
