-- Maintenance windows and notification channels can be edited and retired; nothing is deleted. `updated_at`
-- is when one was last changed (NULL: never since it was created). A retired window no longer suppresses
-- alerts and a retired channel is no longer notified; both stay listed with their history (the reason is in
-- the audit entry, as for the registry).
ALTER TABLE maintenance_windows ADD COLUMN updated_at TEXT;
ALTER TABLE notification_channels ADD COLUMN updated_at TEXT;
ALTER TABLE notification_channels ADD COLUMN retired_at TEXT;
