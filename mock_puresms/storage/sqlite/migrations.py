"""The SQLite schema, as numbered migrations the mock applies to its own file."""

from __future__ import annotations

import sqlite3

# Each entry moves the schema from version i to i + 1; never edit a released one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, credits INTEGER,
        receipt_url TEXT, reply_url TEXT, secret TEXT);
    CREATE TABLE messages (
        reference TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL,
        to_number TEXT NOT NULL, sender TEXT NOT NULL, content TEXT NOT NULL,
        encoding TEXT NOT NULL, segments INTEGER NOT NULL, is_test INTEGER NOT NULL,
        status INTEGER NOT NULL, created_at INTEGER NOT NULL, client_reference TEXT,
        batch_reference TEXT, receipt_url TEXT, send_at INTEGER, history TEXT NOT NULL,
        pending TEXT, next_due INTEGER, reply_plan TEXT);
    CREATE INDEX messages_in_order ON messages (seq);
    CREATE TABLE replies (
        reference TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL,
        from_number TEXT NOT NULL, to_sender TEXT NOT NULL, content TEXT NOT NULL,
        received_at INTEGER NOT NULL, in_reply_to TEXT, client_reference TEXT,
        batch_reference TEXT);
    CREATE TABLE contacts (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL,
        phone_number TEXT NOT NULL, first_name TEXT, last_name TEXT, email TEXT,
        custom TEXT NOT NULL, group_ids TEXT NOT NULL, opted_out INTEGER NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE groups (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL,
        name TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE tokens (
        digest TEXT PRIMARY KEY, account_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
    CREATE TABLE outbox (
        reference TEXT NOT NULL, position INTEGER NOT NULL, account_id TEXT NOT NULL,
        PRIMARY KEY (reference, position));
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, account_id TEXT NOT NULL,
        url TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL,
        created_at INTEGER NOT NULL, refs TEXT NOT NULL, state TEXT NOT NULL,
        next_attempt_at INTEGER, attempts TEXT NOT NULL);
    """,
    # 2: messages are stored one row per send (a bulk is one row, written in a few
    # milliseconds instead of one row per message), with their columns as JSON arrays;
    # a message whose state changed since has a row in message_state.
    """
    CREATE TABLE sends (seq INTEGER PRIMARY KEY, account_id TEXT NOT NULL, body BLOB NOT NULL);
    CREATE TABLE message_state (
        reference TEXT PRIMARY KEY, account_id TEXT NOT NULL, status INTEGER NOT NULL,
        history TEXT NOT NULL, pending TEXT, next_due INTEGER, reply_plan TEXT);
    INSERT INTO sends (seq, account_id, body)
    SELECT seq, account_id, json_object(
        'reference', json_array(reference), 'to', json_array(to_number),
        'sender', json_array(sender), 'content', json_array(content),
        'encoding', json_array(encoding), 'segments', json_array(segments),
        'is_test', json_array(is_test), 'status', json_array(status),
        'created_at', json_array(created_at),
        'client_reference', json_array(client_reference),
        'batch_reference', json_array(batch_reference),
        'receipt_url', json_array(receipt_url), 'send_at', json_array(send_at),
        'history', json_array(json(CAST(history AS TEXT))),
        'pending', json_array(json(CAST(pending AS TEXT))),
        'next_due', json_array(next_due),
        'reply_plan', json_array(json(CAST(reply_plan AS TEXT))))
    FROM messages ORDER BY seq;
    DROP TABLE messages;
    """,
    # 3: a Deleted message remembers whether its sender cancelled it (the current API
    # shows Cancelled) or the control surface deleted it.
    """
    ALTER TABLE message_state ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: the current API's webhooks: an account's endpoints (JSON), every reply's 64-bit
    # id, and a delivery's endpoint index and replay.
    """
    ALTER TABLE accounts ADD COLUMN endpoints TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE replies ADD COLUMN inbound_id TEXT;
    ALTER TABLE deliveries ADD COLUMN endpoint INTEGER;
    ALTER TABLE deliveries ADD COLUMN replayed_at INTEGER;
    ALTER TABLE deliveries ADD COLUMN replayed_after INTEGER NOT NULL DEFAULT 0;
    """,
]


class SchemaTooNew(Exception):
    """The file was written by a newer mock-puresms than this one."""


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the file's schema up to date; returns the version it is at now."""
    connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    version = row[0] if row is not None else 0
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"the database is at schema version {version}; this mock-puresms knows "
            f"up to {len(MIGRATIONS)}: upgrade mock-puresms or use another --db file"
        )
    for number in range(version, len(MIGRATIONS)):
        # The schema change and its version number commit together, or not at all.
        connection.executescript(
            f"BEGIN; {MIGRATIONS[number]}; DELETE FROM schema_version; "
            f"INSERT INTO schema_version VALUES ({number + 1}); COMMIT;"
        )
    return len(MIGRATIONS)
