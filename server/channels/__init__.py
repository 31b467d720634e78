"""Channel adapters: input (parse and verify what a channel posts) and output (send replies)."""
