-- The role the worker and the API connect as in production: it owns nothing, so it cannot
-- disable the append-only triggers (only an owner can), and it may not change the record.
-- Run as the owner after `dibao db upgrade`; replace the password. (docs/operations.md)
CREATE ROLE dibao_app LOGIN PASSWORD 'change-me';
GRANT USAGE ON SCHEMA public TO dibao_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO dibao_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dibao_app;
-- The record: appended to, never changed.
REVOKE UPDATE, DELETE, TRUNCATE
    ON audit_log, county_standards, entitlement_changes, payee_accounts, payroll_discards,
    stage_events
    FROM dibao_app;
