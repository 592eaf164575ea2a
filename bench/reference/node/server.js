// The Node reference for bench/compare.py: express-session's MemoryStore shared
// with socket.io the way socket.io's own guide does it (io.engine.use), serving
// the part of chatapp's API the benchmark drives. No password check, no XSRF
// token, no limits: the figure is what the stack costs, not what chatapp adds.
//
//   node server.js PORT
"use strict";

const http = require("http");
const express = require("express");
const session = require("express-session");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const app = express();
const sessions = session({
  secret: "bench-only-" + Math.random(),
  name: "sid",
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: "lax" },
});
app.use(express.json());
app.use(sessions);

const friends = new Map(); // username -> Set of usernames
let nextPostId = 1;

function me(req, res) {
  if (!req.session.user) {
    res.status(401).json({ error: { code: "unauthorized", message: "log in first" } });
    return null;
  }
  return req.session.user;
}

app.post("/api/login", (req, res) => {
  const username = String(req.body.username);
  req.session.regenerate(() => {
    req.session.user = { id: username, username, display_name: username };
    req.session.prefs = {};
    res.json({ user: req.session.user });
  });
});

app.get("/api/session", (req, res) => {
  const user = req.session.user || null;
  res.json({ authenticated: !!user, user, prefs: req.session.prefs || {}, xsrf: "" });
});

app.put("/api/prefs", (req, res) => {
  req.session.prefs = { theme: req.body.theme };
  res.json({ prefs: req.session.prefs });
});

app.post("/api/friends/:username", (req, res) => {
  const user = me(req, res);
  if (!user) return;
  for (const [a, b] of [[user.username, req.params.username], [req.params.username, user.username]]) {
    if (!friends.has(a)) friends.set(a, new Set());
    friends.get(a).add(b);
  }
  res.json({ friendship: "friends" });
});

app.post("/api/posts", (req, res) => {
  const user = me(req, res);
  if (!user) return;
  const post = { id: String(nextPostId++), author: user, text: req.body.text,
                 created_at: new Date().toISOString(), comment_count: 0 };
  const rooms = [...(friends.get(user.username) || [])].map((f) => "user:" + f);
  io.to(rooms).to("user:" + user.username).emit("feed:post", post);
  io.to(rooms).emit("notification", { id: post.id, kind: "post", actor: user, post_id: post.id,
                                      created_at: post.created_at, read: false });
  res.status(201).json({ post });
});

let lag = [];
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  lag.push(Math.max(0, now - last - 10));
  last = now;
}, 10);
app.get("/bench/loop-lag", (req, res) => {
  const samples = lag;
  lag = [];
  res.json({ samples_ms: samples });
});

const server = http.createServer(app);
const io = new Server(server); // permessage-deflate is off by default in socket.io 4
io.engine.use(sessions);
io.on("connection", (socket) => {
  const req = socket.request;
  if (!req.session.user) return socket.disconnect(true);
  socket.join("user:" + req.session.user.username);
  socket.on("session:get", (ack) => {
    req.session.reload(() => {
      ack({ ok: true, user: req.session.user, prefs: req.session.prefs,
            expires_at: req.session.cookie.expires });
    });
  });
  socket.on("prefs:set", (data, ack) => {
    req.session.reload(() => {
      req.session.prefs = { theme: data.theme };
      req.session.save(() => ack({ ok: true, prefs: req.session.prefs }));
    });
  });
});
server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
