"""One package per chat platform, and one for webhook-only robots. Each: config, verify, parse, send, render."""
