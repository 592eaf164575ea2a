"""The SQLite schema, as the steps that build it from an empty file.

Step N brings a file at `PRAGMA user_version` N-1 to N. Add a step for every
change; never edit one that has shipped. Every query the API makes has an
index here (checked with EXPLAIN QUERY PLAN).
"""

MIGRATIONS = [
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE friendships (
        low INTEGER NOT NULL REFERENCES users(id),
        high INTEGER NOT NULL REFERENCES users(id),
        requester INTEGER NOT NULL REFERENCES users(id),
        state TEXT NOT NULL CHECK (state IN ('pending', 'friends')),
        PRIMARY KEY (low, high)
    );
    CREATE INDEX friendships_by_high ON friendships (high, low);
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        author_id INTEGER NOT NULL REFERENCES users(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        comment_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX posts_by_author ON posts (author_id, id);
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        author_id INTEGER NOT NULL REFERENCES users(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX comments_by_post ON comments (post_id, id);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE notifications (
        id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        actor_id INTEGER NOT NULL REFERENCES users(id),
        post_id INTEGER,
        text TEXT,
        created_at TEXT NOT NULL,
        read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, id)
    );
    CREATE INDEX notifications_unread ON notifications (user_id, read);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pair TEXT NOT NULL,
        sender_id INTEGER NOT NULL REFERENCES users(id),
        recipient_id INTEGER NOT NULL REFERENCES users(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_by_pair ON messages (pair, id);
    """,
    """
    CREATE TABLE post_keys (
        user_id INTEGER NOT NULL REFERENCES users(id),
        key TEXT NOT NULL,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        created_at REAL NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE TABLE conversation_reads (
        user_id INTEGER NOT NULL REFERENCES users(id),
        other_id INTEGER NOT NULL REFERENCES users(id),
        last_read INTEGER NOT NULL,
        PRIMARY KEY (user_id, other_id)
    );
    CREATE INDEX messages_by_sender ON messages (sender_id, id);
    CREATE INDEX messages_by_recipient ON messages (recipient_id, id);
    """,
    """
    CREATE TABLE rooms (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        owner_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_activity INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE room_members (
        room_id INTEGER NOT NULL REFERENCES rooms(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        joined INTEGER NOT NULL,
        last_read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE INDEX room_members_by_user ON room_members (user_id, room_id);
    CREATE TABLE room_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id INTEGER NOT NULL REFERENCES rooms(id),
        sender_id INTEGER NOT NULL REFERENCES users(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX room_messages_by_room ON room_messages (room_id, id);
    """,
    """
    ALTER TABLE comments ADD COLUMN edited_at TEXT;
    ALTER TABLE comments ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN edited_at TEXT;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE room_messages ADD COLUMN edited_at TEXT;
    ALTER TABLE room_messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    """,
    """
    CREATE INDEX users_by_display_name ON users (lower(display_name));
    """,
    # A notification is stored once and each recipient's copy is its id and read mark:
    # a post to 1,000 friends wrote 1,000 wide rows and as many index entries (6 µs a
    # recipient, a quarter of the fan-out's CPU). Unread ones are counted from the
    # recipient's read-through mark: all at or below it are read.
    """
    CREATE TABLE notification_events (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        actor_id INTEGER NOT NULL REFERENCES users(id),
        post_id INTEGER,
        text TEXT,
        room_id INTEGER,
        created_at TEXT NOT NULL
    );
    INSERT INTO notification_events (id, kind, actor_id, post_id, text, created_at)
        SELECT id, kind, actor_id, post_id, text, MIN(created_at) FROM notifications GROUP BY id;
    CREATE TABLE inbox (
        user_id INTEGER NOT NULL REFERENCES users(id),
        id INTEGER NOT NULL REFERENCES notification_events(id),
        read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, id)
    ) WITHOUT ROWID;
    INSERT INTO inbox (user_id, id, read) SELECT user_id, id, read FROM notifications;
    DROP TABLE notifications;
    ALTER TABLE inbox RENAME TO notifications;
    CREATE TABLE notifications_read_through (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        id INTEGER NOT NULL
    );
    DELETE FROM counters WHERE name = 'notifications';
    """,
    # A post's notification is stored once and no longer copied to each friend at once: a
    # post to 1,000 friends wrote a row into each friend's part of the table, 1,000 pages
    # once the table was large (WAL writes whole pages: 4 MB and 8-10 µs a recipient at
    # 300,000 rows). Each friend's copy is written when that friend next reads or marks
    # notifications (chatapp.social.sqlite._pull), or when the friendship ends, from the
    # friendships of that moment: `since` is the newest event when it began.
    """
    ALTER TABLE friendships ADD COLUMN since INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notification_events ADD COLUMN for_friends INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX notification_events_for_friends ON notification_events (actor_id, id)
        WHERE for_friends = 1;
    CREATE TABLE notifications_pulled_through (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        id INTEGER NOT NULL
    );
    """,
]
