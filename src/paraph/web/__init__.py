"""The dashboard: server-rendered pages on the same services as the API (sign-in, callbacks, keys, apps,
mail outbox, callback inspector)."""
