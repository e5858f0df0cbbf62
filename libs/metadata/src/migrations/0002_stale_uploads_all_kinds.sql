-- The upload sweeper closes every upload still `uploading` long after it started, single POST
-- uploads included (they used to be left behind forever when the file was never sent).
CREATE INDEX files_uploading_idx ON files (created_at, key) WHERE state = 'uploading';
DROP INDEX files_stale_uploads_idx;
