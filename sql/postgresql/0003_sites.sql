-- 0003 sites: what a website is made of (type, upstream, index files,
-- redirect, error pages), its system user, the revision of its vhost and the
-- last probe of nginx serving it (postgresql).
ALTER TABLE sites ADD COLUMN kind TEXT NOT NULL DEFAULT 'static' CHECK (kind IN ('static', 'php', 'proxy'));
ALTER TABLE sites ADD COLUMN upstream TEXT;
ALTER TABLE sites ADD COLUMN index_files TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN https_redirect BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN error_404 TEXT;
ALTER TABLE sites ADD COLUMN error_50x TEXT;
ALTER TABLE sites ADD COLUMN system_user TEXT;
ALTER TABLE sites ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN probe_at BIGINT;
ALTER TABLE sites ADD COLUMN probe_ok BIGINT;
ALTER TABLE sites ADD COLUMN probe_message TEXT;
