"""Callbacks: events Paraph POSTs to account and API app callback URLs, as Dropbox Sign does.

The pure parts (no database) are ``signing`` (event_hash, Standard Webhooks headers, the multipart body),
``guard`` (the SSRF guard for every outbound fetch) and ``http`` (one delivery attempt). Event rows, retries
and workers build on them.
"""
