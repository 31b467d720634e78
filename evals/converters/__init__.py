"""Turn public data sets (kept outside the repository) into the JSONL files the runners read."""
