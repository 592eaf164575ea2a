"""Socket.IO on Tornado's loop: the server, the userSockets registry, presence, control orders."""
