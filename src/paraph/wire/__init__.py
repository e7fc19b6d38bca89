"""The wire format of the Dropbox Sign API v3: how requests are decoded (``decode``), turned into typed request
models (``parse``, ``validators``) and how responses are shaped (``responses``)."""
