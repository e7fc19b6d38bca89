"""The editor: laying out fields on a document (unclaimed drafts, embedded template drafts, the dashboard)."""
