"""Signing: the signing page (embedded in an iFrame or opened from a mail), and the final document."""
