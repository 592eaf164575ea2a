// The 404 page needs only what every page has: the header, the bell, the socket.
import "../app.js";
