"""The social data layer: users, friendships, posts, comments, notifications, messages.

`base.Database` states the interface and its guarantees; `sqlite` and
`mongodb` implement it. Handlers never see rows or documents, only the
models of `models`.
"""
