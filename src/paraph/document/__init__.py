"""POST /document/detect_fields (SDK 2.0.0): text tags found in a document, without creating anything."""
