"""Access: merchant API keys, one-time links, and portal sessions."""
