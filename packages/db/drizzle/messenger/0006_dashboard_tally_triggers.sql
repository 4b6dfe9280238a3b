-- The dashboard's running counts (account_tallies, shard_tallies, tallies), kept per
-- statement from transition tables, so a COPY of a million rows updates each tally row
-- once. Rows are locked in sorted order, so concurrent statements cannot deadlock on them.
CREATE FUNCTION tally_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO account_tallies (slot, country, kind, accounts)
      SELECT (shard & 15)::smallint, country, kind, count(*) FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (slot, country, kind) DO UPDATE SET accounts = account_tallies.accounts + excluded.accounts;
    INSERT INTO shard_tallies (shard, accounts)
      SELECT shard, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
      ON CONFLICT (shard) DO UPDATE SET accounts = shard_tallies.accounts + excluded.accounts;
  ELSE
    UPDATE account_tallies t SET accounts = t.accounts - d.n
      FROM (SELECT (shard & 15)::smallint AS slot, country, kind, count(*) AS n FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) d
      WHERE t.slot = d.slot AND t.country = d.country AND t.kind = d.kind;
    UPDATE shard_tallies t SET accounts = t.accounts - d.n
      FROM (SELECT shard, count(*) AS n FROM old_rows GROUP BY 1 ORDER BY 1) d
      WHERE t.shard = d.shard;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER accounts_tally_insert AFTER INSERT ON accounts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_accounts();
--> statement-breakpoint
CREATE TRIGGER accounts_tally_delete AFTER DELETE ON accounts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_accounts();
--> statement-breakpoint
CREATE FUNCTION tally_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO tallies (name, slot, n)
      SELECT 'devices', (hashtext(account_id::text) & 15)::smallint, count(*) FROM new_rows GROUP BY 2 ORDER BY 2
      ON CONFLICT (name, slot) DO UPDATE SET n = tallies.n + excluded.n;
  ELSE
    UPDATE tallies t SET n = t.n - d.n
      FROM (SELECT (hashtext(account_id::text) & 15)::smallint AS slot, count(*) AS n FROM old_rows GROUP BY 1 ORDER BY 1) d
      WHERE t.name = 'devices' AND t.slot = d.slot;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER devices_tally_insert AFTER INSERT ON devices
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_devices();
--> statement-breakpoint
CREATE TRIGGER devices_tally_delete AFTER DELETE ON devices
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_devices();
--> statement-breakpoint
-- consent_events is append-only (0002). Each figure counts an account once: a row counts
-- only when no earlier row of the account matches the same figure (the (account_id, id)
-- index answers that). The transition table's rows are already visible in the table.
CREATE FUNCTION tally_consent_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tallies (name, slot, n)
    SELECT name, slot, count(*) FROM (
      SELECT 'consent:accepted:' || r.policy_version AS name, (hashtext(r.account_id::text) & 15)::smallint AS slot
      FROM new_rows r
      WHERE r.kind = 'terms-accepted' AND NOT EXISTS (
        SELECT 1 FROM consent_events c WHERE c.account_id = r.account_id AND c.id < r.id
          AND c.kind = 'terms-accepted' AND c.policy_version = r.policy_version)
      UNION ALL
      SELECT 'consent:unticked', (hashtext(r.account_id::text) & 15)::smallint
      FROM new_rows r
      WHERE r.kind = 'terms-accepted' AND r.share_with_facebook = false AND NOT EXISTS (
        SELECT 1 FROM consent_events c WHERE c.account_id = r.account_id AND c.id < r.id
          AND c.kind = 'terms-accepted' AND c.share_with_facebook = false)
      UNION ALL
      SELECT 'consent:opted-out', (hashtext(r.account_id::text) & 15)::smallint
      FROM new_rows r
      WHERE r.kind = 'share-opted-out' AND NOT EXISTS (
        SELECT 1 FROM consent_events c WHERE c.account_id = r.account_id AND c.id < r.id AND c.kind = 'share-opted-out')
    ) firsts
    GROUP BY name, slot ORDER BY name, slot
    ON CONFLICT (name, slot) DO UPDATE SET n = tallies.n + excluded.n;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER consent_events_tally AFTER INSERT ON consent_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_consent_events();
--> statement-breakpoint
-- Databases that already hold accounts start from their exact counts.
INSERT INTO account_tallies (slot, country, kind, accounts)
  SELECT (shard & 15)::smallint, country, kind, count(*) FROM accounts GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO shard_tallies (shard, accounts) SELECT shard, count(*) FROM accounts GROUP BY 1;
--> statement-breakpoint
INSERT INTO tallies (name, slot, n)
  SELECT 'devices', (hashtext(account_id::text) & 15)::smallint, count(*) FROM devices GROUP BY 2;
--> statement-breakpoint
INSERT INTO tallies (name, slot, n)
  SELECT name, slot, count(*) FROM (
    SELECT DISTINCT 'consent:accepted:' || policy_version AS name, account_id, (hashtext(account_id::text) & 15)::smallint AS slot
    FROM consent_events WHERE kind = 'terms-accepted'
    UNION ALL
    SELECT DISTINCT 'consent:unticked', account_id, (hashtext(account_id::text) & 15)::smallint
    FROM consent_events WHERE kind = 'terms-accepted' AND share_with_facebook = false
    UNION ALL
    SELECT DISTINCT 'consent:opted-out', account_id, (hashtext(account_id::text) & 15)::smallint
    FROM consent_events WHERE kind = 'share-opted-out'
  ) firsts
  GROUP BY name, slot;
