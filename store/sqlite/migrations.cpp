#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

namespace {

// Versioned migrations: each entry moves the schema one version up; never edit a shipped one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, email TEXT, department TEXT,
  state TEXT NOT NULL, is_bot INTEGER NOT NULL, joined_at INTEGER);
CREATE TABLE groups (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE memberships (
  group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id));
CREATE TABLE messages (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, group_id TEXT, thread_id TEXT NOT NULL,
  reply_to_id TEXT, author_id TEXT NOT NULL, created_at INTEGER NOT NULL, edited_at INTEGER,
  deleted INTEGER NOT NULL, text TEXT NOT NULL, mentions TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX messages_thread ON messages(thread_id);
CREATE TABLE reactions (
  message_id TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL, created_at INTEGER,
  PRIMARY KEY (message_id, user_id, kind));
CREATE TABLE cursors (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE outbox (
  key TEXT PRIMARY KEY, network TEXT NOT NULL, group_id TEXT NOT NULL, reply_to TEXT,
  body TEXT NOT NULL, state TEXT NOT NULL, native_id TEXT, attempts INTEGER NOT NULL,
  due_at INTEGER NOT NULL, posted_at INTEGER, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE prompts (
  id TEXT PRIMARY KEY, campaign TEXT NOT NULL, step INTEGER NOT NULL, network TEXT NOT NULL,
  group_id TEXT NOT NULL, message_id TEXT, type TEXT NOT NULL, posted_at INTEGER NOT NULL,
  closes_at INTEGER, correct TEXT);
CREATE TABLE answers (
  prompt_id TEXT NOT NULL, user_id TEXT NOT NULL, message_id TEXT NOT NULL,
  answered_at INTEGER NOT NULL, choice TEXT, correct INTEGER, points INTEGER NOT NULL,
  PRIMARY KEY (prompt_id, message_id));
)sql",
    R"sql(
CREATE TABLE card_actions (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, message_id TEXT NOT NULL, user_id TEXT NOT NULL,
  value TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX card_actions_message ON card_actions(message_id);
)sql",
    R"sql(
ALTER TABLE prompts ADD COLUMN audience TEXT;
CREATE INDEX prompts_campaign ON prompts(campaign);
CREATE INDEX prompts_closes ON prompts(closes_at);
)sql",
    R"sql(
CREATE TABLE forgotten (user_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX reactions_user ON reactions(user_id);
CREATE INDEX messages_author ON messages(author_id);
)sql",
    // Integer keys: every id of a person, group or message gets one when first written, and
    // the two large tables refer to each other by them (smaller rows and indexes, and reports
    // that read integers only). Ids are kept once, in `ids`; what reports do not read of a
    // message (its text) is in `message_bodies`; the views show whole rows with their ids.
    R"sql(
CREATE TABLE ids (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
INSERT OR IGNORE INTO ids(id) SELECT id FROM users ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT id FROM groups ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT id FROM messages ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT thread_id FROM messages;
INSERT OR IGNORE INTO ids(id) SELECT reply_to_id FROM messages WHERE reply_to_id IS NOT NULL;
INSERT OR IGNORE INTO ids(id) SELECT author_id FROM messages;
INSERT OR IGNORE INTO ids(id) SELECT group_id FROM messages WHERE group_id IS NOT NULL;
INSERT OR IGNORE INTO ids(id) SELECT message_id FROM reactions;
INSERT OR IGNORE INTO ids(id) SELECT user_id FROM reactions;
CREATE TABLE keyed_messages (
  key INTEGER PRIMARY KEY, thread_key INTEGER NOT NULL, parent_key INTEGER,
  author_key INTEGER NOT NULL, group_key INTEGER, created_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL, mentions TEXT NOT NULL);
INSERT INTO keyed_messages
  SELECT k.key, t.key, p.key, a.key, g.key, m.created_at, m.deleted, m.mentions
  FROM messages m JOIN ids k ON k.id = m.id JOIN ids t ON t.id = m.thread_id
       JOIN ids a ON a.id = m.author_id LEFT JOIN ids p ON p.id = m.reply_to_id
       LEFT JOIN ids g ON g.id = m.group_id;
CREATE TABLE message_bodies (
  key INTEGER PRIMARY KEY, network TEXT NOT NULL, edited_at INTEGER, kind TEXT NOT NULL,
  text TEXT NOT NULL);
INSERT INTO message_bodies
  SELECT k.key, m.network, m.edited_at, m.kind, m.text FROM messages m JOIN ids k ON k.id = m.id;
DROP TABLE messages;
ALTER TABLE keyed_messages RENAME TO messages;
CREATE INDEX messages_thread ON messages(thread_key);
CREATE TABLE keyed_reactions (
  message_key INTEGER NOT NULL, user_key INTEGER NOT NULL, kind TEXT NOT NULL, created_at INTEGER,
  PRIMARY KEY (message_key, user_key, kind)) WITHOUT ROWID;
INSERT INTO keyed_reactions
  SELECT m.key, u.key, r.kind, r.created_at
  FROM reactions r JOIN ids m ON m.id = r.message_id JOIN ids u ON u.id = r.user_id;
DROP TABLE reactions;
ALTER TABLE keyed_reactions RENAME TO reactions;
CREATE VIEW message_rows AS
  SELECT (SELECT id FROM ids WHERE key = m.key) AS id, b.network,
         (SELECT id FROM ids WHERE key = m.group_key) AS group_id,
         (SELECT id FROM ids WHERE key = m.thread_key) AS thread_id,
         (SELECT id FROM ids WHERE key = m.parent_key) AS reply_to_id,
         (SELECT id FROM ids WHERE key = m.author_key) AS author_id,
         m.created_at, b.edited_at, m.deleted, b.text, m.mentions, b.kind, m.key, m.thread_key
  FROM messages m JOIN message_bodies b ON b.key = m.key;
CREATE VIEW reaction_rows AS
  SELECT (SELECT id FROM ids WHERE key = r.message_key) AS message_id,
         (SELECT id FROM ids WHERE key = r.user_key) AS user_id, r.kind, r.created_at
  FROM reactions r;
)sql",
    // Secrets (the pseudonym key, the networks' refresh tokens and notification client states)
    // in a table of their own, out of the cursors.
    R"sql(
CREATE TABLE secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO secrets SELECT key, value FROM cursors WHERE key = 'privacy:pseudonym_key';
INSERT INTO secrets
  SELECT replace(key, ':cursor:', ':'), value FROM cursors
  WHERE key GLOB '*:cursor:auth.refresh_token' OR key GLOB '*:cursor:push.client_state';
DELETE FROM cursors WHERE key = 'privacy:pseudonym_key' OR
  key GLOB '*:cursor:auth.refresh_token' OR key GLOB '*:cursor:push.client_state';
)sql",
    // The text an outbox item was first sent with, and when: attempts after it send the same
    // text, by which the post is found again (no bookkeeping shows in it).
    R"sql(
ALTER TABLE outbox ADD COLUMN sent_body TEXT;
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
CREATE INDEX outbox_native ON outbox(network, native_id);
)sql",
    // What a prompt is part of (a sequence that ends at its last step, a spaced-repetition
    // round, a private question), and the person an outbox item goes to privately.
    R"sql(
ALTER TABLE prompts ADD COLUMN last_step INTEGER;
ALTER TABLE prompts ADD COLUMN spaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN to_user TEXT;
)sql",
    // A forgotten person's tombstone is a keyed hash of their id, not the id (the rows written
    // before are hashed when the store opens, see HashTombstones).
    R"sql(
CREATE TABLE tombstones (hash TEXT PRIMARY KEY, at INTEGER NOT NULL);
INSERT INTO tombstones SELECT 'id:' || user_id, at FROM forgotten;
DROP TABLE forgotten;
)sql",
    // Pushes acknowledged and not yet read (see Store::QueuePush).
    R"sql(
CREATE TABLE pushes (
  id INTEGER PRIMARY KEY, network TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL);
)sql",
    // What was kept as prefixed keys in `cursors`, in tables of their own with typed columns
    // (times as milliseconds): the networks' cursors and runs, campaigns' state, prompts
    // skipped, answers acknowledged, people's choices and reach, the daemon's last report.
    R"sql(
CREATE TABLE sync_cursors (
  network TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (network, key));
INSERT INTO sync_cursors
  SELECT substr(key, 1, instr(key, ':cursor:') - 1), substr(key, instr(key, ':cursor:') + 8), value
  FROM cursors WHERE instr(key, ':cursor:') > 1 AND key NOT GLOB 'campaign:*';
CREATE TABLE network_runs (network TEXT PRIMARY KEY, running INTEGER NOT NULL, rate_budgets TEXT);
INSERT INTO network_runs
  SELECT substr(key, 1, length(key) - 5), value = 'running',
         CASE WHEN substr(value, 1, 8) = 'stopped' || char(10) THEN substr(value, 9) END
  FROM cursors WHERE key GLOB '*:rate' AND key NOT GLOB 'campaign:*';
CREATE TABLE daemon_state (
  id INTEGER PRIMARY KEY CHECK (id = 1), last_report_week TEXT, probed_at INTEGER);
INSERT INTO daemon_state(id, last_report_week)
  SELECT 1, value FROM cursors WHERE key = 'report:last_week';
CREATE TABLE campaigns (
  name TEXT PRIMARY KEY, first_seen INTEGER, last_due INTEGER,
  steps_posted INTEGER NOT NULL DEFAULT 0, ended_at INTEGER, skip_through INTEGER,
  paused INTEGER, leaderboard_at INTEGER);
INSERT OR IGNORE INTO campaigns(name)
  SELECT substr(c.key, 10, length(c.key) - 10 - length(f.field))
  FROM cursors c JOIN (SELECT 'first_seen' AS field UNION ALL SELECT 'last' UNION ALL
                       SELECT 'steps' UNION ALL SELECT 'ended' UNION ALL
                       SELECT 'skip_through' UNION ALL SELECT 'operator' UNION ALL
                       SELECT 'leaderboard_last') f
    ON c.key GLOB 'campaign:?*:' || f.field;
UPDATE campaigns SET
  first_seen = (SELECT CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER)
                FROM cursors WHERE key = 'campaign:' || name || ':first_seen'),
  last_due = (SELECT CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER)
              FROM cursors WHERE key = 'campaign:' || name || ':last'),
  steps_posted = coalesce((SELECT CAST(value AS INTEGER)
                           FROM cursors WHERE key = 'campaign:' || name || ':steps'), 0),
  ended_at = (SELECT CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER)
              FROM cursors WHERE key = 'campaign:' || name || ':ended'),
  skip_through = (SELECT CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER)
                  FROM cursors WHERE key = 'campaign:' || name || ':skip_through'),
  paused = (SELECT value = 'paused' FROM cursors
            WHERE key = 'campaign:' || name || ':operator' AND value IN ('paused', 'resumed')),
  leaderboard_at = (SELECT CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER)
                    FROM cursors WHERE key = 'campaign:' || name || ':leaderboard_last');
CREATE TABLE skipped_prompts (key TEXT PRIMARY KEY, why TEXT NOT NULL);
INSERT INTO skipped_prompts SELECT substr(key, 9), value FROM cursors WHERE key GLOB 'skipped:*';
CREATE TABLE acknowledgements (message_id TEXT PRIMARY KEY, at INTEGER NOT NULL, refused TEXT);
INSERT INTO acknowledgements
  SELECT substr(key, 5),
         coalesce(CAST(round((julianday(value) - 2440587.5) * 86400000) AS INTEGER), 0),
         CASE WHEN value GLOB 'not possible*' THEN value END
  FROM cursors WHERE key GLOB 'ack:*';
CREATE TABLE people (
  user_id TEXT PRIMARY KEY, opted_out INTEGER, unreachable_since INTEGER, unreachable_why TEXT);
INSERT INTO people(user_id, opted_out)
  SELECT substr(key, 8), value = 'out' FROM cursors WHERE key GLOB 'optout:*' AND value IN ('in', 'out');
INSERT INTO people(user_id, unreachable_since, unreachable_why)
  SELECT substr(key, 13),
         CAST(round((julianday(substr(value, 1, instr(value || ' ', ' ') - 1)) - 2440587.5) *
                    86400000) AS INTEGER),
         substr(value, instr(value || ' ', ' ') + 1)
  FROM cursors WHERE key GLOB 'unreachable:*' AND
    julianday(substr(value, 1, instr(value || ' ', ' ') - 1)) NOT NULL
  ON CONFLICT(user_id) DO UPDATE SET unreachable_since = excluded.unreachable_since,
    unreachable_why = excluded.unreachable_why;
DROP TABLE cursors;
)sql",
    // Reads by time: a report reads the weeks it needs, not the history. Messages are kept in
    // order of time (their key finds them through an index); a reaction keeps the time it
    // counts at (its own, or else its message's), indexed; and the number of messages of each
    // person in each group (0: none) is kept as they are written, deleted and forgotten, for
    // what reports need of the whole history (a person's first message, their home group).
    R"sql(
DROP VIEW message_rows;
CREATE TABLE timed_messages (
  key INTEGER NOT NULL, thread_key INTEGER NOT NULL, parent_key INTEGER,
  author_key INTEGER NOT NULL, group_key INTEGER, created_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL, mentions TEXT NOT NULL, PRIMARY KEY (created_at, key)) WITHOUT ROWID;
INSERT INTO timed_messages
  SELECT key, thread_key, parent_key, author_key, group_key, created_at, deleted, mentions
  FROM messages ORDER BY created_at, key;
DROP TABLE messages;
ALTER TABLE timed_messages RENAME TO messages;
CREATE UNIQUE INDEX messages_key ON messages(key);
CREATE INDEX messages_thread ON messages(thread_key);
CREATE VIEW message_rows AS
  SELECT (SELECT id FROM ids WHERE key = m.key) AS id, b.network,
         (SELECT id FROM ids WHERE key = m.group_key) AS group_id,
         (SELECT id FROM ids WHERE key = m.thread_key) AS thread_id,
         (SELECT id FROM ids WHERE key = m.parent_key) AS reply_to_id,
         (SELECT id FROM ids WHERE key = m.author_key) AS author_id,
         m.created_at, b.edited_at, m.deleted, b.text, m.mentions, b.kind, m.key, m.thread_key
  FROM messages m JOIN message_bodies b ON b.key = m.key;
ALTER TABLE reactions ADD COLUMN at INTEGER;
UPDATE reactions SET at = coalesce(created_at, (SELECT m.created_at FROM messages m
                                                WHERE m.key = reactions.message_key));
CREATE INDEX reactions_at ON reactions(at);
CREATE TABLE author_groups (
  author_key INTEGER NOT NULL, group_key INTEGER NOT NULL, messages INTEGER NOT NULL,
  PRIMARY KEY (author_key, group_key)) WITHOUT ROWID;
INSERT INTO author_groups
  SELECT author_key, coalesce(group_key, 0), count(*) FROM messages WHERE deleted = 0 GROUP BY 1, 2;
CREATE TRIGGER messages_counted AFTER INSERT ON messages WHEN new.deleted = 0 BEGIN
  INSERT INTO author_groups VALUES (new.author_key, coalesce(new.group_key, 0), 1)
    ON CONFLICT DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER messages_uncounted AFTER DELETE ON messages WHEN old.deleted = 0 BEGIN
  UPDATE author_groups SET messages = messages - 1
    WHERE author_key = old.author_key AND group_key = coalesce(old.group_key, 0);
END;
CREATE TRIGGER messages_recounted AFTER UPDATE OF author_key, group_key, deleted ON messages
  WHEN old.deleted = 0 OR new.deleted = 0 BEGIN
  UPDATE author_groups SET messages = messages - 1
    WHERE old.deleted = 0 AND author_key = old.author_key AND
          group_key = coalesce(old.group_key, 0);
  INSERT INTO author_groups SELECT new.author_key, coalesce(new.group_key, 0), 1
    WHERE new.deleted = 0 ON CONFLICT DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER messages_time_reactions AFTER INSERT ON messages BEGIN
  UPDATE reactions SET at = new.created_at WHERE message_key = new.key AND created_at IS NULL;
END;
CREATE TRIGGER messages_retime_reactions AFTER UPDATE OF created_at ON messages
  WHEN old.created_at <> new.created_at BEGIN
  UPDATE reactions SET at = new.created_at WHERE message_key = new.key AND created_at IS NULL;
END;
CREATE TRIGGER messages_untime_reactions AFTER DELETE ON messages BEGIN
  UPDATE reactions SET at = NULL WHERE message_key = old.key AND created_at IS NULL;
END;
)sql",
    // A message written again as it was (a sync that reads it once more) leaves its count
    // alone: the count moves only when its author, group or deletion changes.
    R"sql(
DROP TRIGGER messages_recounted;
CREATE TRIGGER messages_recounted AFTER UPDATE OF author_key, group_key, deleted ON messages
  WHEN (old.deleted = 0 OR new.deleted = 0) AND (old.author_key <> new.author_key OR
        old.group_key IS NOT new.group_key OR old.deleted <> new.deleted) BEGIN
  UPDATE author_groups SET messages = messages - 1
    WHERE old.deleted = 0 AND author_key = old.author_key AND
          group_key = coalesce(old.group_key, 0);
  INSERT INTO author_groups SELECT new.author_key, coalesce(new.group_key, 0), 1
    WHERE new.deleted = 0 ON CONFLICT DO UPDATE SET messages = messages + 1;
END;
)sql",
    // Figures of whole weeks a report computed, kept for the next (the 12 weeks of its trend):
    // a week [from_ms, to_ms) goes as soon as anything it reads changes. Its figures read the
    // messages and reactions of the week and of the 7 days after it (responses), the history
    // before it (a person's first message), and the directory (members, bots): a change at
    // time t removes the weeks that end after t - 7 days, a change in the directory all of
    // them. A report marks the weeks it is about to compute (figures NULL) and keeps their
    // figures only if the mark is still there: nothing changed meanwhile.
    R"sql(
CREATE TABLE week_totals (
  from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, version TEXT NOT NULL,
  mark INTEGER NOT NULL, figures TEXT, PRIMARY KEY (from_ms, to_ms)) WITHOUT ROWID;
CREATE INDEX week_totals_to ON week_totals(to_ms);
CREATE TRIGGER week_totals_message_added AFTER INSERT ON messages BEGIN
  DELETE FROM week_totals WHERE to_ms > new.created_at - 604800000;
END;
CREATE TRIGGER week_totals_message_changed
  AFTER UPDATE OF thread_key, parent_key, author_key, group_key, created_at, deleted ON messages
  WHEN old.thread_key <> new.thread_key OR old.parent_key IS NOT new.parent_key OR
       old.author_key <> new.author_key OR old.group_key IS NOT new.group_key OR
       old.created_at <> new.created_at OR old.deleted <> new.deleted BEGIN
  DELETE FROM week_totals WHERE to_ms > min(old.created_at, new.created_at) - 604800000;
END;
CREATE TRIGGER week_totals_message_removed AFTER DELETE ON messages BEGIN
  DELETE FROM week_totals WHERE to_ms > old.created_at - 604800000;
END;
CREATE TRIGGER week_totals_reaction_added AFTER INSERT ON reactions WHEN new.at IS NOT NULL BEGIN
  DELETE FROM week_totals WHERE to_ms > new.at - 604800000;
END;
CREATE TRIGGER week_totals_reaction_changed AFTER UPDATE OF at ON reactions
  WHEN old.at IS NOT new.at BEGIN
  DELETE FROM week_totals
    WHERE to_ms > min(coalesce(old.at, new.at), coalesce(new.at, old.at)) - 604800000;
END;
CREATE TRIGGER week_totals_reaction_removed AFTER DELETE ON reactions WHEN old.at IS NOT NULL
  BEGIN
  DELETE FROM week_totals WHERE to_ms > old.at - 604800000;
END;
CREATE TRIGGER week_totals_person_added AFTER INSERT ON users BEGIN
  DELETE FROM week_totals;
END;
CREATE TRIGGER week_totals_person_changed AFTER UPDATE OF state, is_bot, joined_at ON users
  WHEN old.state <> new.state OR old.is_bot <> new.is_bot OR
       old.joined_at IS NOT new.joined_at BEGIN
  DELETE FROM week_totals;
END;
CREATE TRIGGER week_totals_person_removed AFTER DELETE ON users BEGIN
  DELETE FROM week_totals;
END;
)sql",
    // Each person's key beside them: a report reads the directory without looking each id up.
    R"sql(
ALTER TABLE users ADD COLUMN key INTEGER;
UPDATE users SET key = (SELECT k.key FROM ids k WHERE k.id = users.id);
)sql",
    // A network's first group names its private conversations with the bot (their messages
    // never count, see analytics' Columns): the weeks kept before are removed.
    R"sql(
CREATE TRIGGER week_totals_network_added AFTER INSERT ON groups
  WHEN NOT EXISTS (SELECT 1 FROM groups WHERE network = new.network AND id <> new.id) BEGIN
  DELETE FROM week_totals;
END;
)sql",
};

}  // namespace

void SqliteStore::Migrate(int up_to) {
  // A store built from an export has pages of 64 KiB: it holds millions of rows from its first
  // day, reports read its tables whole, and the load writes each page once (a third faster than
  // pages of 4 KiB at 10 million rows; reports no slower). A store that grows by syncs keeps
  // SQLite's 4 KiB: its many small transactions each write whole pages to the log.
  if (building_)
    Exec(
        "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
        "PRAGMA foreign_keys=ON;");
  else
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  sqlite3_busy_timeout(db_, 5000);
  int64_t version = 0;
  {
    Stmt s(db_, "PRAGMA user_version");
    if (s.Step()) version = s.Int(0);
  }
  int64_t target = sizeof(kMigrations) / sizeof(kMigrations[0]);
  if (up_to > 0 && up_to < target) target = up_to;
  for (int64_t v = version; v < target; ++v) {
    Write([&] {
      Exec(kMigrations[v]);
      Exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    });
  }
  if (target >= 9) HashTombstones();
}

}  // namespace learnloop::store::sqlite
