"""The session as HTTP handlers and socket events share it: one object, one write path, a cookie."""
