"""Every outbound fetch goes through here: the SSRF guard (callback URLs, file_urls), the save-time check of a
callback URL, and the guarded download of file_urls."""
